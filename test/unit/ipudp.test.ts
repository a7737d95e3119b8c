import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

import { buildIpUdp, parseIpUdp } from '../../daemon/transport/ipudp';

// dist/test/unit -> repository root; shared/ lies beside the repository.
const FIXTURES = resolve(__dirname, '../../../test/fixtures/captures');
const LINKTYPE_ETHERNET = 1;
const ETH_HEADER_LEN = 14;
const ETHERTYPE_IPV4 = 0x0800;
const DHCP_MAGIC_COOKIE_OFFSET = 236;

/** IPv4 packets of an Ethernet pcap (classic format, either byte order), link-layer header removed. */
function readPcapIpv4(file: string): Buffer[] {
  const b = readFileSync(join(FIXTURES, file));
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4;
  assert.ok(le || magic === 0xd4c3b2a1, `${file}: not a classic pcap`);
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  assert.equal(u32(20), LINKTYPE_ETHERNET, `${file}: not Ethernet`);
  const out: Buffer[] = [];
  for (let off = 24; off + 16 <= b.length;) {
    const caplen = u32(off + 8);
    const frame = b.subarray(off + 16, off + 16 + caplen);
    off += 16 + caplen;
    if (frame.readUInt16BE(12) === ETHERTYPE_IPV4) out.push(frame.subarray(ETH_HEADER_LEN));
  }
  return out;
}

/** Independent check: the one's-complement sum over a header that carries its checksum is 0xffff. */
function ipHeaderChecksumOk(p: Buffer): boolean {
  const ihl = (p[0]! & 0x0f) * 4;
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += p.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

function mustParse(p: Buffer) {
  const r = parseIpUdp(p);
  if (!r.ok) assert.fail(`expected a valid packet, got: ${r.reason}`);
  return r;
}

test('ISC dhcpd replies are rebuilt byte for byte: UDP checksum, UDP header and payload identical', () => {
  const replies = readPcapIpv4('isc-dhcpd-4.4.pcap').filter((p) => mustParse(p).srcPort === 67);
  assert.ok(replies.length >= 4, `found ${replies.length} replies`);
  for (const orig of replies) {
    assert.ok(ipHeaderChecksumOk(orig), 'fixture header checksum');
    const r = mustParse(orig);
    const built = buildIpUdp(r.payload, {
      srcIp: r.srcIp,
      dstIp: r.dstIp,
      srcPort: r.srcPort,
      dstPort: r.dstPort,
      ttl: orig[8]!,
    });
    assert.equal(built.length, orig.readUInt16BE(2));
    assert.ok(orig.readUInt16BE(26) !== 0, 'the fixture carries a UDP checksum');
    assert.deepEqual(built.subarray(20), orig.subarray(20, built.length), 'UDP header (with checksum) and payload');
    // ISC sets TOS 0x10; everything else in the IPv4 header matches ours, and our checksum verifies.
    assert.equal(orig[1], 0x10);
    const origHeader = Buffer.from(orig.subarray(0, 20));
    origHeader[1] = 0;
    origHeader.writeUInt16BE(0, 10);
    const builtHeader = Buffer.from(built.subarray(0, 20));
    builtHeader.writeUInt16BE(0, 10);
    assert.deepEqual(builtHeader, origHeader);
    assert.ok(ipHeaderChecksumOk(built), 'built header checksum');
  }
});

test('every frame of every fixture parses, including dnsmasq replies whose UDP checksum offload was unfinished', () => {
  for (const file of ['dnsmasq-2.90.pcap', 'kea-2.2.pcap', 'isc-dhcpd-4.4.pcap']) {
    const packets = readPcapIpv4(file);
    assert.ok(packets.length > 0, file);
    for (const p of packets) {
      const r = mustParse(p);
      assert.ok(
        [67, 68].includes(r.srcPort) && [67, 68].includes(r.dstPort),
        `${file}: ports ${r.srcPort}>${r.dstPort}`,
      );
      assert.equal(r.payload.length, p.readUInt16BE(24) - 8);
      assert.equal(r.payload.readUInt32BE(DHCP_MAGIC_COOKIE_OFFSET), 0x63825363, `${file}: DHCP cookie`);
    }
  }
});

test('buildIpUdp defaults: IPv4, IHL 5, TOS 0, id 0, DF and fragment offset clear, TTL 64, protocol 17', () => {
  const p = buildIpUdp(Buffer.from('hello'), { srcIp: '0.0.0.0', dstIp: '255.255.255.255', srcPort: 68, dstPort: 67 });
  assert.equal(p.length, 20 + 8 + 5);
  assert.deepEqual([...p.subarray(0, 10)], [0x45, 0, 0, 33, 0, 0, 0, 0, 64, 17]);
  assert.deepEqual([...p.subarray(12, 20)], [0, 0, 0, 0, 255, 255, 255, 255]);
  assert.deepEqual([...p.subarray(20, 26)], [0, 68, 0, 67, 0, 13]);
  assert.ok(ipHeaderChecksumOk(p));
  assert.deepEqual(mustParse(p), {
    ok: true,
    srcIp: '0.0.0.0',
    dstIp: '255.255.255.255',
    srcPort: 68,
    dstPort: 67,
    payload: Buffer.from('hello'),
  });
});

test('a UDP checksum that computes to 0 is sent as 0xffff (0 means "none")', () => {
  const a = { srcIp: '198.18.1.2', dstIp: '198.18.1.1', srcPort: 68, dstPort: 67 };
  // With a zero word the checksum is c; putting c in that word makes the sum all ones, so the checksum is 0.
  const c = buildIpUdp(Buffer.alloc(2), a).readUInt16BE(26);
  const word = Buffer.alloc(2);
  word.writeUInt16BE(c);
  assert.equal(buildIpUdp(word, a).readUInt16BE(26), 0xffff);
});

test('odd-length payloads round-trip and the checksum covers the padded last byte', () => {
  const a = { srcIp: '198.18.1.10', dstIp: '198.18.1.1', srcPort: 68, dstPort: 67, ttl: 1 };
  const x = buildIpUdp(Buffer.from([1, 2, 3]), a);
  const y = buildIpUdp(Buffer.from([1, 2, 4]), a);
  assert.notEqual(x.readUInt16BE(26), y.readUInt16BE(26));
  assert.equal(x[8], 1);
  assert.deepEqual(mustParse(x).payload, Buffer.from([1, 2, 3]));
});

test('link-layer padding after the IP packet is ignored', () => {
  const p = buildIpUdp(Buffer.from('abc'), { srcIp: '198.18.1.1', dstIp: '198.18.1.9', srcPort: 67, dstPort: 68 });
  const padded = Buffer.concat([p, Buffer.alloc(29)]);
  assert.deepEqual(mustParse(padded).payload, Buffer.from('abc'));
});

test('parseIpUdp rejects each malformed field with a reason', () => {
  const good = buildIpUdp(Buffer.alloc(16, 7), { srcIp: '198.18.1.1', dstIp: '198.18.1.9', srcPort: 67, dstPort: 68 });
  const fixSum = (p: Buffer): Buffer => {
    p.writeUInt16BE(0, 10);
    let s = 0;
    for (let i = 0; i < 20; i += 2) s += p.readUInt16BE(i);
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    p.writeUInt16BE(~s & 0xffff, 10);
    return p;
  };
  const edit = (f: (p: Buffer) => void, keepSum = false): Buffer => {
    const p = Buffer.from(good);
    f(p);
    return keepSum ? p : fixSum(p);
  };
  const cases: [string, Buffer, RegExp][] = [
    ['empty', Buffer.alloc(0), /shorter than an IPv4 header/],
    ['19 bytes', good.subarray(0, 19), /shorter than an IPv4 header/],
    [
      'version 6',
      edit((p) => {
        p[0] = 0x65;
      }),
      /version 6/,
    ],
    [
      'IHL 4',
      edit((p) => {
        p[0] = 0x44;
      }, true),
      /IHL 4/,
    ],
    ['IHL past the end', Buffer.from(good.subarray(0, 24)).fill(0x4f, 0, 1), /IHL 15/],
    ['total length past the end', edit((p) => p.writeUInt16BE(good.length + 1, 2)), /total length/],
    ['total length below IHL', edit((p) => p.writeUInt16BE(19, 2)), /total length/],
    ['truncated frame', good.subarray(0, good.length - 1), /total length/],
    [
      'header checksum',
      edit((p) => {
        p[8] = 63;
      }, true),
      /checksum/,
    ],
    ['more fragments', edit((p) => p.writeUInt16BE(0x2000, 6)), /fragment/],
    ['fragment offset', edit((p) => p.writeUInt16BE(0x0001, 6)), /fragment/],
    [
      'TCP',
      edit((p) => {
        p[9] = 6;
      }),
      /protocol 6/,
    ],
    ['no room for UDP', edit((p) => p.writeUInt16BE(27, 2)), /UDP header/],
    ['UDP length 7', edit((p) => p.writeUInt16BE(7, 24)), /UDP length 7/],
    ['UDP length past IP', edit((p) => p.writeUInt16BE(good.length - 19, 24)), /UDP length/],
  ];
  for (const [name, bytes, reason] of cases) {
    const r = parseIpUdp(bytes);
    assert.equal(r.ok, false, name);
    if (!r.ok) assert.match(r.reason, reason, name);
  }
  // DF alone is not a fragment.
  assert.equal(parseIpUdp(edit((p) => p.writeUInt16BE(0x4000, 6))).ok, true);
});

test('parseIpUdp never throws on arbitrary or mutated bytes', () => {
  let seed = 0x2545f491;
  const rnd = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const good = buildIpUdp(Buffer.alloc(300, 1), { srcIp: '198.18.1.1', dstIp: '198.18.1.9', srcPort: 67, dstPort: 68 });
  let accepted = 0;
  for (let i = 0; i < 20000; i++) {
    let b: Buffer;
    if (i % 2 === 0) {
      b = Buffer.alloc(rnd(80));
      for (let j = 0; j < b.length; j++) b[j] = rnd(256);
      if (b.length > 0 && i % 4 === 0) b[0] = 0x40 | rnd(16);
    } else {
      b = Buffer.from(good.subarray(0, rnd(good.length + 1)));
      for (let k = rnd(4); k > 0 && b.length > 0; k--) b[rnd(Math.min(b.length, 28))] = rnd(256);
    }
    const r = parseIpUdp(b);
    if (r.ok) {
      accepted++;
      assert.ok(r.payload.length <= b.length - 28);
    }
  }
  assert.ok(accepted > 0, 'some mutations leave a valid packet');
});
