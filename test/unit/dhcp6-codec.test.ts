// DHCPv6 codec, option views, builders, DUIDs and RA parsing against messages captured from Kea 2.2 and dnsmasq 2.90
// (test/fixtures/dhcp6, scripts/capture-fixtures.sh v6).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { decode, encode } from '../../daemon/dhcp6/codec';
import { duidLl, duidUuid, iaidOf } from '../../daemon/dhcp6/duid';
import { bytesToIp6, ip6ToBytes, isIp6, isLeasableIp6 } from '../../daemon/dhcp6/ip6';
import {
  buildConfirm,
  buildDecline,
  buildRebind,
  buildRelease,
  buildRenew,
  buildRequest,
  buildSolicit,
  Identity6,
} from '../../daemon/dhcp6/messages';
import * as o from '../../daemon/dhcp6/options';
import { decodeRa, onLinkPrefixLength } from '../../daemon/dhcp6/ra';
import { Dhcp6Message, MsgType, Opt6, Status } from '../../daemon/dhcp6/types';
import { readDhcp6 } from '../helpers/pcap';

const BIN = resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'dhcp6');
const fixture = (name: string): Buffer => readFileSync(join(BIN, `${name}.bin`));
const IAID = 0x0a0b0c0d;
const MAC = Buffer.from('0200c612060a', 'hex');

function decodeOk(buf: Buffer): Dhcp6Message {
  const d = decode(buf);
  assert.ok(d.ok, d.ok ? '' : d.reason);
  return d.value;
}

describe('IPv6 text', () => {
  it('parses every RFC 4291 form and prints RFC 5952', () => {
    assert.equal(bytesToIp6(ip6ToBytes('FD00:0198:0018:0006:0000:0000:0000:0100')), 'fd00:198:18:6::100');
    assert.equal(bytesToIp6(ip6ToBytes('::')), '::');
    assert.equal(bytesToIp6(ip6ToBytes('::1')), '::1');
    assert.equal(bytesToIp6(ip6ToBytes('fe80::')), 'fe80::');
    assert.equal(bytesToIp6(ip6ToBytes('2001:db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1', 'the first of equal runs');
    assert.equal(bytesToIp6(ip6ToBytes('2001:db8:0:1:1:1:1:1')), '2001:db8:0:1:1:1:1:1', 'one zero group stays');
  });
  it('refuses what is not an address', () => {
    for (const bad of [
      '',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      'g::1',
      '12345::',
      '1.2.3.4',
      '::1%eth0',
    ]) {
      assert.equal(isIp6(bad), false, bad);
    }
    assert.throws(() => ip6ToBytes('1::2::3'), /not an IPv6 address/);
  });
  it('leasable: not unspecified, loopback, multicast or link-local', () => {
    assert.equal(isLeasableIp6('fd00:198:18:6::100'), true);
    for (const a of ['::', '::1', 'ff02::1:2', 'fe80::1', 'febf::1']) assert.equal(isLeasableIp6(a), false, a);
  });
});

describe('Kea 2.2 messages', () => {
  it('ADVERTISE: IA_NA with T1/T2, lifetimes, PREFERENCE, UNICAST, DNS and domain list', () => {
    const m = decodeOk(fixture('kea-2.2-advertise'));
    assert.equal(m.type, MsgType.ADVERTISE);
    assert.deepEqual(o.iaNa(m, IAID), {
      iaid: IAID,
      t1S: 150,
      t2S: 240,
      addresses: [{ address: 'fd00:198:18:6::100', preferredS: 300, validS: 600 }],
    });
    assert.equal(o.preference(m), 10);
    assert.equal(o.unicastAddress(m), 'fd00:198:18:6::1');
    assert.deepEqual(o.dnsServers(m), ['fd00:198:18:6::53', 'fd00:198:18:6::54']);
    assert.deepEqual(o.domainList(m), ['example.com', 'corp.example.com']);
    assert.deepEqual(o.clientId(m), duidLl(MAC), 'the client DUID echoed');
    assert.ok(o.serverId(m));
    assert.equal(o.status(m), undefined);
  });
  it('a rapid-commit REPLY carries RAPID_COMMIT', () => {
    const m = decodeOk(fixture('kea-2.2-reply-rapid'));
    assert.equal(m.type, MsgType.REPLY);
    assert.equal(o.rapidCommit(m), true);
    assert.equal(o.rapidCommit(decodeOk(fixture('kea-2.2-reply-request'))), false);
  });
  it('REPLYs to RENEW and REBIND refresh the same address', () => {
    for (const name of ['kea-2.2-reply-renew', 'kea-2.2-reply-rebind']) {
      assert.equal(o.iaNa(decodeOk(fixture(name)), IAID)?.addresses[0]?.address, 'fd00:198:18:6::100', name);
    }
  });
  it('CONFIRM and RELEASE answers carry their status', () => {
    assert.equal(o.status(decodeOk(fixture('kea-2.2-reply-confirm')))?.code, Status.Success);
    const notOnLink = o.status(decodeOk(fixture('kea-2.2-reply-notonlink')));
    assert.equal(notOnLink?.code, Status.NotOnLink);
    assert.match(notOnLink?.message ?? '', /not on link/);
    const release = o.iaNa(decodeOk(fixture('kea-2.2-reply-release')), IAID);
    assert.deepEqual(release?.addresses, []);
    assert.equal(release?.status?.code, Status.Success);
    assert.match(o.iaNa(decodeOk(fixture('kea-2.2-reply-decline')), IAID)?.status?.message ?? '', /declined/);
  });
});

describe('dnsmasq 2.90 messages', () => {
  it('ADVERTISE: status success at message level, T1/T2, one DNS server', () => {
    const m = decodeOk(fixture('dnsmasq-2.90-advertise'));
    assert.equal(o.status(m)?.code, Status.Success);
    const ia = o.iaNa(m, IAID);
    assert.equal(ia?.t1S, 300);
    assert.equal(ia?.t2S, 525);
    assert.equal(ia?.addresses[0]?.validS, 600);
    assert.deepEqual(o.dnsServers(m), ['fd00:198:18:6::53']);
    assert.deepEqual(o.domainList(m), ['example.com', 'corp.example.com']);
    assert.equal(o.unicastAddress(m), undefined);
  });
  it('rapid commit REPLY; NotOnLink for a foreign CONFIRM', () => {
    assert.equal(o.rapidCommit(decodeOk(fixture('dnsmasq-2.90-reply-rapid'))), true);
    assert.equal(o.status(decodeOk(fixture('dnsmasq-2.90-reply-notonlink')))?.code, Status.NotOnLink);
  });
  it('router advertisement: M and O set, the /64 on-link', () => {
    const ra = decodeRa(fixture('dnsmasq-2.90-ra'));
    assert.ok(ra);
    assert.equal(ra.managed, true);
    assert.equal(ra.other, true);
    assert.deepEqual(ra.onLink, [{ prefix: 'fd00:198:18:6::', length: 64 }]);
    assert.equal(onLinkPrefixLength('fd00:198:18:6::1df', ra.onLink), 64);
    assert.equal(onLinkPrefixLength('fd00:198:18:7::1', ra.onLink), undefined);
  });
  it('an RA cut short or with a zero-length option is refused', () => {
    const ra = fixture('dnsmasq-2.90-ra');
    assert.equal(decodeRa(ra.subarray(0, ra.length - 3)), undefined);
    const zero = Buffer.concat([ra.subarray(0, 16), Buffer.from([3, 0, 0, 0, 0, 0, 0, 0])]);
    assert.equal(decodeRa(zero), undefined);
  });
});

describe('every fixture', () => {
  it('every DHCPv6 datagram of the v6 captures decodes and re-encodes to the same bytes', () => {
    const captures = resolve(BIN, '..', 'captures');
    let count = 0;
    for (const f of readdirSync(captures).filter((n) => n.endsWith('-v6.pcap'))) {
      for (const dg of readDhcp6(readFileSync(join(captures, f)))) {
        assert.ok(encode(decodeOk(dg.payload)).equals(dg.payload), `${f} record ${dg.index}`);
        count++;
      }
    }
    assert.ok(count >= 40, `${count} datagrams`);
  });
  it('decodes and re-encodes to the same bytes', () => {
    const names = readdirSync(BIN).filter((f) => f.endsWith('.bin') && !f.endsWith('-ra.bin'));
    assert.ok(names.length >= 20);
    for (const name of names) {
      const raw = readFileSync(join(BIN, name));
      assert.ok(encode(decodeOk(raw)).equals(raw), name);
    }
  });
});

describe('builders', () => {
  const id: Identity6 = { duid: duidLl(MAC), iaid: IAID, oro: [Opt6.DNS_SERVERS, Opt6.DOMAIN_LIST] };
  const server = Buffer.from('000100012a', 'hex');
  it('build the same bytes the servers accepted in the captures', () => {
    // The captures' client used xids from 0x100000 on, elapsed 0 and the full scenario's order.
    const held = { address: 'fd00:198:18:6::100', preferredS: 0, validS: 0 };
    const kea = (name: string): Dhcp6Message => decodeOk(fixture(name));
    const keaServer = o.serverId(kea('kea-2.2-advertise')) as Buffer;
    assert.ok(encode(buildSolicit(id, 0x100000, 0, { rapidCommit: false })).equals(fixture('tsc-solicit')));
    assert.ok(encode(buildRequest(id, 0x100001, 0, keaServer, [held])).equals(fixture('tsc-request')));
    assert.ok(encode(buildRenew(id, 0x100002, 0, keaServer, held)).equals(fixture('tsc-renew')));
    assert.ok(encode(buildRebind(id, 0x100003, 0, held)).equals(fixture('tsc-rebind')));
    assert.ok(encode(buildConfirm(id, 0x100004, 0, held.address)).equals(fixture('tsc-confirm')));
    assert.ok(encode(buildRelease(id, 0x100005, keaServer, held.address)).equals(fixture('tsc-release')));
  });
  it('SOLICIT: hint and rapid commit; REBIND and CONFIRM name no server; DECLINE does', () => {
    const s = buildSolicit(id, 1, 1234, { hint: 'fd00::5', rapidCommit: true });
    assert.equal(o.rapidCommit(s), true);
    assert.equal(o.iaNa(s, IAID)?.addresses[0]?.address, 'fd00::5');
    assert.deepEqual(o.findOption(s.options, Opt6.ELAPSED_TIME), Buffer.from([0, 123]));
    assert.equal(o.serverId(buildRebind(id, 1, 0, { address: 'fd00::5', preferredS: 1, validS: 2 })), undefined);
    assert.equal(o.serverId(buildConfirm(id, 1, 0, 'fd00::5')), undefined);
    assert.deepEqual(o.serverId(buildDecline(id, 1, 0, server, 'fd00::5')), server);
  });
  it('ELAPSED_TIME saturates at 0xffff hundredths', () => {
    assert.deepEqual(o.encodeElapsed(10_000_000).data, Buffer.from([0xff, 0xff]));
    assert.deepEqual(o.encodeElapsed(-5).data, Buffer.from([0, 0]));
  });
});

describe('codec edges', () => {
  it('refuses short frames, relay messages, type 0 and options running past the end', () => {
    assert.match((decode(Buffer.from([7, 0, 0])) as { reason: string }).reason, /at least 4/);
    assert.match((decode(Buffer.from([12, 0, 0, 0])) as { reason: string }).reason, /relay/);
    assert.match((decode(Buffer.from([0, 0, 0, 0])) as { reason: string }).reason, /reserved/);
    assert.match(
      (decode(Buffer.from([7, 0, 0, 1, 0, 1, 0, 9, 1, 2])) as { reason: string }).reason,
      /option 1 truncated/,
    );
    assert.match((decode(Buffer.from([7, 0, 0, 1, 0, 1, 0])) as { reason: string }).reason, /header .* truncated/);
    assert.equal(decode('x' as unknown as Buffer).ok, false);
    assert.equal(decode(Buffer.alloc(8), 9).ok, false);
  });
  it('encode refuses an xid over 24 bits and an option over 65535 bytes', () => {
    assert.throws(() => encode({ type: 1, xid: 0x1000000, options: [] }), /24 bits/);
    assert.throws(() => encode({ type: 1, xid: 1, options: [{ code: 1, data: Buffer.alloc(0x10000) }] }), /65535/);
  });
  it('a malformed IA_NA, IAADDR or status reads as absent', () => {
    const ia = o.encodeIaNa(IAID, 1, 2, [{ address: 'fd00::1', preferredS: 3, validS: 4 }]).data;
    const msg = (data: Buffer): Dhcp6Message => ({
      type: MsgType.REPLY,
      xid: 1,
      options: [{ code: Opt6.IA_NA, data }],
    });
    assert.equal(o.iaNa(msg(ia), IAID)?.addresses.length, 1);
    assert.equal(o.iaNa(msg(ia.subarray(0, ia.length - 1)), IAID), undefined, 'IAADDR cut short');
    assert.equal(o.iaNa(msg(ia.subarray(0, 11)), IAID), undefined, 'IA_NA header cut short');
    assert.equal(o.iaNa(msg(ia), IAID + 1), undefined, 'another IAID');
    assert.equal(o.decodeStatus(Buffer.from([0])), undefined);
    assert.equal(o.decodeStatus(Buffer.from([0, 4, 0x61, 0x0a, 0x62]))?.message, 'a?b', 'control characters replaced');
    const badDns: Dhcp6Message = {
      type: MsgType.REPLY,
      xid: 1,
      options: [{ code: Opt6.DNS_SERVERS, data: Buffer.alloc(15) }],
    };
    assert.equal(o.dnsServers(badDns), undefined);
  });
});

describe('client identity', () => {
  it('DUID-LL of the MAC (type 3, hardware type 1)', () => {
    assert.deepEqual(duidLl(MAC), Buffer.from('00030001' + '0200c612060a', 'hex'));
    assert.throws(() => duidLl(Buffer.alloc(5)), /6-byte MAC/);
  });
  it('DUID-UUID: type 4, a version-5 UUID, stable per name and distinct between names', () => {
    const a = duidUuid('default/web-0/lan/eth1');
    assert.equal(a.length, 18);
    assert.equal(a.readUInt16BE(0), 4);
    assert.equal((a[8] as number) >> 4, 5, 'version 5');
    assert.equal((a[10] as number) >> 6, 2, 'RFC 4122 variant');
    assert.deepEqual(duidUuid('default/web-0/lan/eth1'), a);
    assert.notDeepEqual(duidUuid('default/web-1/lan/eth1'), a);
  });
  it('IAID: 32 bits, stable per attachment', () => {
    assert.equal(iaidOf('c1/lan/eth1'), iaidOf('c1/lan/eth1'));
    assert.notEqual(iaidOf('c1/lan/eth1'), iaidOf('c1/lan/eth2'));
    assert.ok(iaidOf('x') >= 0 && iaidOf('x') <= 0xffffffff);
  });
});
