// ARP packets (daemon/dhcp/arp.ts) and the RFC 5227 schedule (daemon/dhcp/probe.ts), pure.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ARP_LEN, ArpOp, ArpPacket, arpAnnouncement, arpProbe, decodeArp, encodeArp } from '../../daemon/dhcp/arp';
import {
  ANNOUNCE_INTERVAL_MS,
  PROBE_TIMING,
  announced,
  declineRestartMs,
  probeSent,
  probeTiming,
  startAnnouncing,
  startProbe,
} from '../../daemon/dhcp/probe';
import { seededRng } from '../../daemon/dhcp/rng';

const MAC = '02:00:00:00:00:01';

describe('ARP packets', () => {
  test('a probe is a request with sender IP 0.0.0.0 and a zero target MAC, byte for byte (RFC 5227 §2.1.1)', () => {
    assert.equal(
      encodeArp(arpProbe(MAC, '198.18.0.20')).toString('hex'),
      '0001' + '0800' + '06' + '04' + '0001' + '020000000001' + '00000000' + '000000000000' + 'c6120014',
    );
  });

  test('an announcement names the address as sender and target (RFC 5227 §2.3)', () => {
    const a = arpAnnouncement(MAC, '198.18.0.20');
    assert.deepEqual(a, {
      op: ArpOp.REQUEST,
      senderMac: MAC,
      senderIp: '198.18.0.20',
      targetMac: '00:00:00:00:00:00',
      targetIp: '198.18.0.20',
    });
  });

  test('decode: round trip, trailing frame padding ignored, anything but Ethernet/IPv4 ARP refused', () => {
    const reply: ArpPacket = {
      op: ArpOp.REPLY,
      senderMac: '0a:0b:0c:0d:0e:0f',
      senderIp: '198.18.0.20',
      targetMac: MAC,
      targetIp: '0.0.0.0',
    };
    const bytes = encodeArp(reply);
    assert.equal(bytes.length, ARP_LEN);
    assert.deepEqual(decodeArp(bytes), reply);
    assert.deepEqual(decodeArp(Buffer.concat([bytes, Buffer.alloc(18)])), reply);
    assert.equal(decodeArp(bytes.subarray(0, 27)), undefined);
    for (const [at, value] of [
      [1, 6],
      [3, 0xdd],
      [4, 8],
      [5, 16],
    ] as const) {
      const bad = Buffer.from(bytes);
      bad[at] = value;
      assert.equal(decodeArp(bad), undefined, `byte ${at} = ${value}`);
    }
  });

  test('decode never throws and what it returns encodes back to the same 28 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (a) => {
        const b = Buffer.from(a);
        const p = decodeArp(b);
        if (p) assert.ok(encodeArp(p).equals(b.subarray(0, ARP_LEN)));
      }),
    );
  });
});

describe('probe schedule', () => {
  test('off (and a record without the setting) probes nothing', () => {
    assert.equal(probeTiming('off'), undefined);
    assert.equal(probeTiming(undefined), undefined);
  });

  test('quick: both probes and the listening fit in 200 ms, whatever the rng', () => {
    const t = PROBE_TIMING.quick;
    for (let seed = 0; seed < 50; seed++) {
      const rng = seededRng(seed);
      let p = startProbe(t, 0, rng);
      assert.equal(p.nextAtMs, 0);
      while (p.sent < t.probeNum) p = probeSent(p, t, p.nextAtMs, rng);
      assert.equal(p.nextAtMs, 200);
    }
  });

  test('rfc5227: 4-7 s from the start to the end of listening', () => {
    const t = PROBE_TIMING.rfc5227;
    let shortest = Infinity;
    let longest = 0;
    for (let seed = 0; seed < 500; seed++) {
      const rng = seededRng(seed);
      let p = startProbe(t, 0, rng);
      while (p.sent < t.probeNum) p = probeSent(p, t, p.nextAtMs, rng);
      shortest = Math.min(shortest, p.nextAtMs);
      longest = Math.max(longest, p.nextAtMs);
    }
    assert.ok(shortest >= 4000 && longest <= 7000 && longest - shortest > 2000, `${shortest}..${longest}`);
  });

  test('announcements: two, 2 s apart', () => {
    const a = startAnnouncing(5);
    assert.deepEqual(a, { left: 2, atMs: 5 });
    assert.deepEqual(announced(a, 5), { left: 1, atMs: 5 + ANNOUNCE_INTERVAL_MS });
    assert.equal(announced({ left: 1, atMs: 2005 }, 2005), undefined);
  });

  test('restart after a DECLINE: 10 s (RFC 2131), 60 s from the 10th conflict on (RFC 5227)', () => {
    assert.deepEqual([1, 9, 10, 30].map(declineRestartMs), [10_000, 10_000, 60_000, 60_000]);
  });
});
