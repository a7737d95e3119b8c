import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { BOOTP_MIN_LEN, decode, encode, encodingLength, MIN_DHCP_LEN } from '../../daemon/dhcp/codec';
import * as o from '../../daemon/dhcp/options';
import { BOOTREQUEST, DhcpMessage, MessageType, Opt } from '../../daemon/dhcp/types';
import { readDhcp } from '../helpers/pcap';

const FIXTURES = resolve(__dirname, '..', '..', '..', 'test', 'fixtures');
const BIN = join(FIXTURES, 'dhcp');
const binNames = readdirSync(BIN).filter((f) => f.endsWith('.bin'));

function fixture(name: string): Buffer {
  return readFileSync(join(BIN, `${name}.bin`));
}

function decodeOk(buf: Buffer, offset?: number): DhcpMessage {
  const d = decode(buf, offset);
  assert.ok(d.ok, d.ok ? '' : d.reason);
  return d.value;
}

function message(options: [number, Buffer][] = []): DhcpMessage {
  return {
    op: BOOTREQUEST,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 0xdeadbeef,
    secs: 3,
    flags: 0x8000,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: Buffer.from([2, 0, 0xc6, 0x12, 2, 10]),
    sname: '',
    file: '',
    options: new Map(options),
  };
}

describe('codec: real server fixtures', () => {
  it('has fixtures from all three servers', () => {
    assert.ok(binNames.length >= 28, `${binNames.length} fixtures`);
    for (const server of ['dnsmasq', 'kea', 'isc-dhcpd']) assert.ok(binNames.some((f) => f.startsWith(server)));
  });

  for (const name of binNames) {
    it(`${name}: decodes, and decode(encode(decode(x))) equals decode(x)`, () => {
      const buf = readFileSync(join(BIN, name));
      const d = decode(buf);
      assert.ok(d.ok, d.ok ? '' : d.reason);
      assert.equal(d.bytes, buf.length);
      assert.ok(o.messageType(d.value) !== undefined);
      const again = encode(d.value);
      assert.equal(again.length, encodingLength(d.value));
      assert.ok(again.length >= BOOTP_MIN_LEN);
      assert.deepEqual(decodeOk(again), d.value);
    });
  }

  it('decodes every DHCP datagram of every capture, shared and ours', () => {
    const files = readdirSync(join(FIXTURES, 'captures'))
      .filter((f) => !f.endsWith('-v6.pcap')) // DHCPv6: test/unit/dhcp6-codec.test.ts
      .map((f) => join(FIXTURES, 'captures', f));
    assert.equal(files.length, 8);
    let count = 0;
    for (const file of files) {
      for (const dg of readDhcp(readFileSync(file))) {
        const m = decodeOk(dg.payload);
        assert.deepEqual(decodeOk(encode(m)), m, `${file} record ${dg.index}`);
        count++;
      }
    }
    assert.ok(count > 250, `${count} datagrams`);
  });

  it('dnsmasq 2.90 (shared capture): the configured lease, router and server id', () => {
    for (const name of ['dnsmasq-2.90-offer', 'dnsmasq-2.90-ack']) {
      const m = decodeOk(fixture(name));
      assert.equal(m.op, 2);
      assert.equal(o.messageType(m), name.endsWith('offer') ? MessageType.OFFER : MessageType.ACK);
      assert.equal(o.serverId(m), '198.19.0.1');
      assert.equal(m.siaddr, '198.19.0.1');
      assert.match(m.yiaddr, /^198\.19\.[0-3]\.\d+$/);
      assert.equal(o.leaseTimeS(m), 120);
      assert.equal(o.renewalTimeS(m), 60);
      assert.equal(o.rebindingTimeS(m), 105);
      assert.equal(o.subnetMask(m), '255.255.252.0');
      assert.equal(o.broadcastAddress(m), '198.19.3.255');
      assert.deepEqual(o.routers(m), ['198.19.0.1']);
      assert.equal(m.chaddr.length, 6);
      assert.equal(m.sname, '');
      assert.equal(m.file, '');
    }
  });

  it('client messages of the reference plugin: DISCOVER, REQUEST, RELEASE', () => {
    const discover = decodeOk(fixture('dnsmasq-2.90-discover'));
    assert.equal(o.messageType(discover), MessageType.DISCOVER);
    assert.deepEqual(o.parameterRequestList(discover), [3, 1]);
    // The reference plugin's client id: type 0, then "<containerID>/<network>/<ifName>".
    assert.match(o.clientId(discover)?.toString('latin1') ?? '', /^\x00[0-9a-f]{64}\/lan\/eth1$/);
    const request = decodeOk(fixture('dnsmasq-2.90-request'));
    assert.equal(o.requestedIp(request), decodeOk(fixture('dnsmasq-2.90-offer')).yiaddr);
    assert.equal(o.serverId(request), '198.19.0.1');
    const release = decodeOk(fixture('isc-dhcpd-4.4-release'));
    assert.equal(o.messageType(release), MessageType.RELEASE);
    assert.equal(release.ciaddr, '198.19.0.10');
  });

  it('Kea 2.2: short lease with T1/T2, RENEW with ciaddr', () => {
    const ack = decodeOk(fixture('kea-2.2-ack'));
    assert.equal(o.leaseTimeS(ack), 20);
    assert.equal(o.renewalTimeS(ack), 10);
    assert.equal(o.rebindingTimeS(ack), 17);
    const renew = decodeOk(fixture('kea-2.2-renew-request'));
    assert.equal(o.messageType(renew), MessageType.REQUEST);
    assert.notEqual(renew.ciaddr, '0.0.0.0');
    assert.equal(decodeOk(fixture('kea-2.2-renew-ack')).yiaddr, renew.ciaddr);
  });

  it('dnsmasq with 6, 15, 26, 28, 33, 119, 121 and a private option', () => {
    for (const name of ['dnsmasq-2.90-full-offer', 'dnsmasq-2.90-full-ack']) {
      const m = decodeOk(fixture(name));
      assert.equal(o.serverId(m), '198.18.2.1');
      assert.equal(o.leaseTimeS(m), 600);
      assert.deepEqual(o.routers(m), ['198.18.2.1']);
      assert.deepEqual(o.dnsServers(m), ['198.18.2.53', '198.18.2.54']);
      assert.equal(o.domainName(m), 'example.com');
      assert.deepEqual(o.domainSearch(m), ['example.com', 'corp.example.com']);
      assert.equal(m.options.get(Opt.DOMAIN_SEARCH)?.length, 20, 'dnsmasq compresses names');
      assert.equal(o.interfaceMtu(m), 1400);
      assert.equal(o.broadcastAddress(m), '198.18.2.255');
      assert.deepEqual(o.staticRoutes(m), [
        { dst: '172.16.0.0/16', gw: '198.18.2.3' },
        { dst: '10.1.2.3/32', gw: '198.18.2.4' },
      ]);
      assert.deepEqual(o.classlessRoutes(m), [
        { dst: '10.0.0.0/8', gw: '198.18.2.1' },
        { dst: '192.168.128.0/17', gw: '198.18.2.2' },
        { dst: '0.0.0.0/0', gw: '198.18.2.1' },
      ]);
      assert.deepEqual(m.options.get(224), Buffer.from('deadbeef', 'hex'));
    }
  });

  it('unknown options survive re-encoding byte for byte', () => {
    const buf = fixture('dnsmasq-2.90-full-ack');
    const m = decodeOk(buf);
    const again = encode(m);
    const at = again.indexOf(Buffer.from([224, 4, 0xde, 0xad, 0xbe, 0xef]));
    assert.ok(at >= MIN_DHCP_LEN);
    assert.deepEqual(decodeOk(again).options.get(224), Buffer.from('deadbeef', 'hex'));
  });

  it('our own DISCOVER/REQUEST/RELEASE (as sent to dnsmasq) re-encode to the same bytes', () => {
    for (const name of ['tsc-discover', 'tsc-request', 'tsc-release']) {
      const buf = fixture(name);
      assert.deepEqual(encode(decodeOk(buf)), buf, name);
    }
  });

  it('NAKs carry option 56 and no address', () => {
    for (const name of ['dnsmasq-2.90-nak', 'isc-dhcpd-4.4-nak', 'kea-2.2-nak']) {
      const m = decodeOk(fixture(name));
      assert.equal(o.messageType(m), MessageType.NAK, name);
      assert.equal(m.yiaddr, '0.0.0.0', name);
      assert.equal(o.serverId(m), '198.18.2.1', name);
    }
    assert.equal(o.message(decodeOk(fixture('dnsmasq-2.90-nak'))), 'wrong network');
    assert.equal(o.message(decodeOk(fixture('isc-dhcpd-4.4-nak'))), 'requested address not available');
  });

  it('dnsmasq overload (option 52 = file): options from the file field are merged, file reads empty', () => {
    const buf = fixture('dnsmasq-2.90-overload-ack');
    assert.equal(buf[MIN_DHCP_LEN + buf.subarray(MIN_DHCP_LEN).indexOf(Buffer.from([52, 1, 1])) + 2], 1);
    const m = decodeOk(buf);
    assert.equal(m.file, '');
    assert.equal(m.options.has(Opt.OVERLOAD), false, 'the codec consumes option 52');
    assert.deepEqual(o.routers(m), ['198.18.2.1']);
    assert.equal(o.domainName(m), 'example.com');
    assert.deepEqual(
      o.domainSearch(m),
      [1, 2, 3, 4, 5, 6].map((i) => `zone${i}-abcdefghijklmnopqrstuvwxyz.example.com`),
    );
    assert.deepEqual(o.dnsServers(m)?.length, 6);
    assert.deepEqual(m.options.get(42)?.length, 16);
  });

  it('ISC dhcpd long search list: option 119 split in three instances, concatenated (RFC 3396)', () => {
    const buf = fixture('isc-dhcpd-4.4-long-ack');
    const m = decodeOk(buf);
    assert.equal(m.options.get(Opt.DOMAIN_SEARCH)?.length, 255 + 255 + 77);
    const names = o.domainSearch(m);
    assert.equal(names?.length, 16);
    assert.equal(names?.[15], 'zone16-abcdefghijklmnopqrstuvwxyz.example.com');
    // Re-encoding splits it again.
    const again = encode(m);
    assert.equal(again.length, encodingLength(m));
    assert.deepEqual(decodeOk(again), m);
  });

  it('ISC and Kea with 119 and 121', () => {
    for (const name of ['isc-dhcpd-4.4-full-ack', 'kea-2.2-full-ack']) {
      const m = decodeOk(fixture(name));
      assert.deepEqual(o.domainSearch(m), ['example.com', 'corp.example.com'], name);
      assert.deepEqual(o.classlessRoutes(m), [
        { dst: '10.0.0.0/8', gw: '198.18.2.1' },
        { dst: '0.0.0.0/0', gw: '198.18.2.1' },
      ]);
      assert.equal(o.interfaceMtu(m), 1400);
      assert.equal(o.domainName(m), 'example.com');
    }
    assert.equal(decodeOk(fixture('kea-2.2-full-ack')).options.get(Opt.DOMAIN_SEARCH)?.length, 31, 'Kea: uncompressed');
  });
});

describe('codec: encode', () => {
  it('writes the fixed header, cookie, option 53 first, END, padding to 300', () => {
    const m = message([
      [Opt.PARAMETER_REQUEST_LIST, Buffer.from([1, 3])],
      [Opt.MESSAGE_TYPE, Buffer.from([MessageType.DISCOVER])],
    ]);
    m.sname = 'srv';
    m.file = 'boot.img';
    const b = encode(m);
    assert.equal(b.length, 300);
    assert.equal(b.readUInt32BE(4), 0xdeadbeef);
    assert.equal(b.readUInt16BE(8), 3);
    assert.equal(b.readUInt16BE(10), 0x8000);
    assert.deepEqual(b.subarray(28, 34), m.chaddr);
    assert.equal(b.toString('latin1', 44, 47), 'srv');
    assert.equal(b.readUInt32BE(236), 0x63825363);
    assert.deepEqual([...b.subarray(240, 248)], [53, 1, 1, 55, 2, 1, 3, 255]);
    assert.ok(b.subarray(248).every((x) => x === 0));
    assert.deepEqual(decodeOk(b), m);
  });

  it('splits options over 255 bytes into several instances and decode concatenates them', () => {
    const long = Buffer.alloc(600, 7);
    const m = message([
      [Opt.MESSAGE_TYPE, Buffer.from([1])],
      [250, long],
      [Opt.HOST_NAME, Buffer.from('h')],
    ]);
    const b = encode(m);
    assert.equal(b.length, encodingLength(m));
    assert.equal(b.length, 240 + 3 + (600 + 6) + 3 + 1);
    assert.deepEqual([b[243], b[244]], [250, 255]);
    assert.deepEqual([b[243 + 257], b[244 + 257]], [250, 255]);
    assert.deepEqual([b[243 + 514], b[244 + 514]], [250, 90]);
    assert.deepEqual(decodeOk(b).options.get(250), long);
  });

  it('keeps zero-length options and never emits PAD, END or OVERLOAD from the map', () => {
    const m = message([
      [Opt.PAD, Buffer.from([1])],
      [80, Buffer.alloc(0)],
      [Opt.OVERLOAD, Buffer.from([3])],
      [Opt.END, Buffer.alloc(0)],
    ]);
    const b = encode(m);
    assert.deepEqual([...b.subarray(240, 243)], [80, 0, 255]);
    assert.deepEqual([...decodeOk(b).options.keys()], [80]);
  });

  it('writes into a caller buffer at an offset and returns that slice', () => {
    const m = message([[Opt.MESSAGE_TYPE, Buffer.from([3])]]);
    const buf = Buffer.alloc(28 + 400, 0xaa);
    const out = encode(m, buf, 28);
    assert.equal(out.length, 300);
    assert.equal(out.buffer, buf.buffer);
    assert.equal(buf[27], 0xaa);
    assert.equal(buf[28 + 300], 0xaa);
    assert.deepEqual(out, encode(m));
    assert.deepEqual(decodeOk(buf.subarray(0, 328), 28), m);
    assert.throws(() => encode(m, Buffer.alloc(299)), RangeError);
    assert.throws(() => encode(m, Buffer.alloc(300), 1), RangeError);
  });

  it('rejects messages it cannot encode (local bugs)', () => {
    assert.throws(() => encode({ ...message(), ciaddr: '1.2.3' }), TypeError);
    assert.throws(() => encode({ ...message(), chaddr: Buffer.alloc(17) }), RangeError);
    assert.throws(() => encode({ ...message(), hlen: 17 }), RangeError);
    assert.throws(() => encode({ ...message(), sname: 'x'.repeat(65) }), RangeError);
    assert.throws(() => encode(message([[256, Buffer.from([1])]])), RangeError);
  });
});

/** Deterministic PRNG (mulberry32) so a failing hostile input can be reproduced. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A valid 240-byte header + cookie followed by `options`. */
function frame(options: number[], patch?: (b: Buffer) => void): Buffer {
  const b = Buffer.concat([encode(message()).subarray(0, 240), Buffer.from(options)]);
  patch?.(b);
  return b;
}

function reason(buf: Buffer, offset?: number): string {
  const d = decode(buf, offset);
  assert.equal(d.ok, false);
  return d.ok ? '' : d.reason;
}

describe('codec: hostile input', () => {
  it('every truncation of every fixture returns a value or a reason, never throws', () => {
    for (const name of binNames) {
      const buf = readFileSync(join(BIN, name));
      for (let len = 0; len <= buf.length; len++) {
        const d = decode(buf.subarray(0, len));
        if (len < MIN_DHCP_LEN) assert.equal(d.ok, false);
        if (d.ok) {
          for (const code of d.value.options.keys()) {
            const def = o.optionByCode(code);
            def?.decode(d.value.options.get(code) as Buffer); // accessors must not throw either
          }
        }
      }
    }
  });

  it('random bytes and random options never throw', () => {
    const next = rng(42);
    for (let i = 0; i < 3000; i++) {
      const len = Math.floor(next() * 700);
      const buf = Buffer.alloc(len);
      for (let j = 0; j < len; j++) buf[j] = Math.floor(next() * 256);
      if (i % 2 === 0 && len >= 240) buf.writeUInt32BE(0x63825363, 236); // get past the cookie half the time
      if (i % 4 === 0 && len > 2) buf[2] = 6;
      const d = decode(buf);
      if (!d.ok) continue;
      const m = d.value;
      for (const f of [o.routers, o.classlessRoutes, o.domainSearch, o.staticRoutes, o.interfaceMtu, o.message]) {
        f(m);
      }
      assert.deepEqual(decodeOk(encode(m)), m);
    }
  });

  it('short frames, wrong cookie, bad hlen, bad offsets are reasons', () => {
    assert.match(reason(Buffer.alloc(239)), /239 bytes/);
    assert.match(reason(frame([255], (b) => b.writeUInt32BE(0x63825364, 236))), /magic cookie/);
    assert.match(reason(frame([255], (b) => (b[2] = 17))), /hlen 17/);
    assert.match(reason(frame([]), 1), /239 bytes, a DHCP message has at least 240/);
    assert.match(reason(frame([255]), 1000), /offset/);
    assert.match(reason(frame([255]), -1), /offset/);
    assert.match(reason(frame([255]), 0.5), /offset/);
    assert.match(reason('nope' as unknown as Buffer), /not a Buffer/);
    assert.equal(decode(frame([255], (b) => (b[2] = 16))).ok, true);
  });

  it('an option whose length runs past the end names the option', () => {
    assert.match(reason(frame([53, 1, 1, 3, 8, 1, 2, 3, 4])), /option 3 in options truncated: length 8, 4 bytes left/);
    assert.match(reason(frame([53, 1, 1, 6])), /option 6 in options truncated: no length octet/);
  });

  it('PAD is skipped, bytes after END ignored, a missing END tolerated', () => {
    const m = decodeOk(frame([0, 0, 53, 1, 5, 0, 255, 3, 200]));
    assert.deepEqual([...m.options.keys()], [53]);
    assert.equal(o.messageType(decodeOk(frame([53, 1, 2]))), 2);
  });

  it('repeated options are concatenated in order (RFC 3396)', () => {
    const m = decodeOk(frame([3, 4, 10, 0, 0, 1, 53, 1, 5, 3, 4, 10, 0, 0, 2, 255]));
    assert.deepEqual(o.routers(m), ['10.0.0.1', '10.0.0.2']);
    assert.deepEqual([...m.options.keys()], [3, 53]);
  });

  it('overload: options, then file, then sname; a 52 inside them cannot recurse', () => {
    const b = frame([52, 1, 3, 12, 1, 0x61, 255], (f) => {
      f.set([12, 1, 0x62, 52, 1, 2, 255], 108); // file: more host-name, and a 52 that must be ignored
      f.set([12, 1, 0x63, 255], 44); // sname
    });
    const m = decodeOk(b);
    assert.equal(o.hostName(m), 'abc');
    assert.equal(m.sname, '');
    assert.equal(m.file, '');
    assert.equal(m.options.has(Opt.OVERLOAD), false);
    // Overload of one field leaves the other as text.
    const fileOnly = decodeOk(frame([52, 1, 1, 255], (f) => f.write('server-x\0junk', 44, 'latin1')));
    assert.equal(fileOnly.sname, 'server-x');
    assert.equal(decodeOk(frame([255], (f) => f.write('boot.img', 108, 'latin1'))).file, 'boot.img');
  });

  it('overload: bad values and truncated options inside file/sname are reasons', () => {
    assert.match(reason(frame([52, 1, 4, 255])), /option 52/);
    assert.match(reason(frame([52, 2, 1, 1, 255])), /option 52/);
    assert.match(reason(frame([52, 1, 1, 52, 1, 1, 255])), /option 52/);
    assert.match(reason(frame([52, 1, 1, 255], (f) => f.set([12, 200, 0x61], 108))), /option 12 in file truncated/);
    assert.match(reason(frame([52, 1, 2, 255], (f) => f.set([15], 44 + 63))), /option 15 in sname truncated/);
  });

  // Quadratic work over half a million options would take minutes and hit the tier's time limit; a stopwatch here
  // would only measure the machine's load (speed belongs in npm run bench).
  it('work is linear: a 1 MiB frame of tiny repeated options decodes', () => {
    const opts = Buffer.alloc(1 << 20);
    for (let i = 0; i + 1 < opts.length; i += 2) opts[i] = 250; // option 250, length 0, over and over
    const m = decodeOk(Buffer.concat([frame([]), opts]));
    assert.equal(m.options.get(250)?.length, 0);
  });
});
