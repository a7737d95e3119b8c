import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as o from '../../daemon/dhcp/options';
import { DhcpMessage, Opt } from '../../daemon/dhcp/types';
import { reply } from '../helpers/messages';

function msg(options: [number, number[] | Buffer][]): DhcpMessage {
  return reply({ options: new Map(options.map(([c, v]) => [c, Buffer.from(v)])) });
}

const with1 = (code: number, bytes: number[] | Buffer): DhcpMessage => msg([[code, bytes]]);

describe('options: registry', () => {
  it('covers the codes the codec types', () => {
    for (const code of [
      0, 1, 3, 6, 12, 15, 26, 28, 33, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 77, 119, 121, 255,
    ]) {
      assert.equal(o.optionByCode(code)?.code, code, `code ${code}`);
    }
  });

  it('registry entries carry the names users write in the CNI config (daemon/option-names.ts)', () => {
    assert.equal(o.OPTIONS.CLASSLESS_ROUTES.name, 'classless-static-routes');
    assert.equal(o.OPTIONS.ROUTERS.name, 'routers');
    assert.equal(o.OPTIONS.CLIENT_ID.name, 'dhcp-client-identifier');
    assert.equal(o.optionByCode(43), undefined);
  });

  it('encodeOption then decode gives the value back, for every typed option', () => {
    const values: [number, unknown][] = [
      [1, '255.255.255.0'],
      [3, ['10.0.0.1', '10.0.0.2']],
      [6, ['1.1.1.1']],
      [12, 'pod-a'],
      [15, 'example.com'],
      [26, 1400],
      [28, '10.0.0.255'],
      [33, [{ dst: '172.16.0.0/16', gw: '10.0.0.1' }]],
      [50, '10.0.0.9'],
      [51, 0xffffffff],
      [52, 3],
      [53, 5],
      [54, '10.0.0.1'],
      [55, [1, 3, 6, 121]],
      [56, 'bye'],
      [57, 1500],
      [58, 30],
      [59, 52],
      [60, 'ts-dhcp'],
      [61, Buffer.from([0, 1, 2])],
      [77, Buffer.from('x')],
      [119, ['example.com', 'corp.example.com']],
      [
        121,
        [
          { dst: '10.0.0.0/9', gw: '10.0.0.1' },
          { dst: '0.0.0.0/0', gw: '10.0.0.1' },
          { dst: '1.2.3.4/32', gw: '10.0.0.2' },
        ],
      ],
      [200, Buffer.from([9, 9])],
    ];
    for (const [code, value] of values) {
      const raw = o.encodeOption(code, value);
      // An unregistered code carries raw bytes.
      assert.deepEqual(o.optionByCode(code)?.decode(raw) ?? raw, value, `option ${code}`);
    }
  });

  it('encodeOption refuses values of the wrong shape, and PAD/END', () => {
    assert.throws(() => o.encodeOption(3, '10.0.0.1'), TypeError);
    assert.throws(() => o.encodeOption(1, '10.0.0.256'), TypeError);
    assert.throws(() => o.encodeOption(51, -1), RangeError);
    assert.throws(() => o.encodeOption(51, 2 ** 32), RangeError);
    assert.throws(() => o.encodeOption(26, 67), RangeError);
    assert.throws(() => o.encodeOption(12, ''), RangeError);
    assert.throws(() => o.encodeOption(200, 'text'), TypeError);
    assert.throws(() => o.encodeOption(0, null), TypeError);
    assert.throws(() => o.encodeOption(255, null), TypeError);
    assert.throws(() => o.encodeOption(256, Buffer.alloc(1)), RangeError);
  });
});

describe('options: accessors', () => {
  it('return undefined when absent', () => {
    const m = msg([]);
    for (const f of [
      o.messageType,
      o.serverId,
      o.requestedIp,
      o.subnetMask,
      o.leaseTimeS,
      o.renewalTimeS,
      o.rebindingTimeS,
      o.routers,
      o.dnsServers,
      o.domainName,
      o.hostName,
      o.interfaceMtu,
      o.broadcastAddress,
      o.staticRoutes,
      o.classlessRoutes,
      o.domainSearch,
      o.clientId,
      o.parameterRequestList,
      o.maxMessageSize,
      o.message,
    ]) {
      assert.equal(f(m), undefined, f.name);
    }
  });

  it('return undefined for malformed lengths and values', () => {
    assert.equal(o.messageType(with1(53, [1, 2])), undefined);
    assert.equal(o.serverId(with1(54, [1, 2, 3])), undefined);
    assert.equal(o.leaseTimeS(with1(51, [0, 0, 1])), undefined);
    assert.equal(o.routers(with1(3, [10, 0, 0, 1, 9])), undefined);
    assert.equal(o.routers(with1(3, [])), undefined);
    assert.equal(o.interfaceMtu(with1(26, [0, 67])), undefined);
    assert.equal(o.maxMessageSize(with1(57, [2, 63])), undefined);
    assert.equal(o.maxMessageSize(with1(57, [2, 64])), 576);
    assert.equal(o.clientId(with1(61, [1])), undefined);
    assert.equal(o.staticRoutes(with1(33, [10, 0, 0, 0, 1, 1, 1])), undefined);
    assert.equal(o.domainName(with1(15, [0, 0])), undefined);
    assert.equal(o.parameterRequestList(with1(55, [])), undefined);
  });

  it('text options drop trailing NULs some servers send', () => {
    assert.equal(o.hostName(with1(12, [...Buffer.from('pod'), 0])), 'pod');
    assert.equal(o.message(with1(56, [...Buffer.from('wrong network')])), 'wrong network');
  });

  it('option 33: classful destinations, host routes when host bits are set, default route dropped', () => {
    const m = with1(
      33,
      [
        10, 0, 0, 0, 1, 1, 1, 1, 172, 16, 0, 0, 2, 2, 2, 2, 192, 168, 1, 0, 3, 3, 3, 3, 10, 1, 2, 3, 4, 4, 4, 4, 0, 0,
        0, 0, 5, 5, 5, 5,
      ],
    );
    assert.deepEqual(o.staticRoutes(m), [
      { dst: '10.0.0.0/8', gw: '1.1.1.1' },
      { dst: '172.16.0.0/16', gw: '2.2.2.2' },
      { dst: '192.168.1.0/24', gw: '3.3.3.3' },
      { dst: '10.1.2.3/32', gw: '4.4.4.4' },
    ]);
  });
});

describe('options: classless static routes (RFC 3442)', () => {
  it('decodes the RFC examples and the significant-octet widths', () => {
    const m = with1(
      121,
      [
        0, 10, 0, 0, 1, 8, 10, 10, 0, 0, 2, 9, 10, 128, 10, 0, 0, 3, 24, 192, 168, 1, 10, 0, 0, 4, 25, 192, 168, 1, 128,
        10, 0, 0, 5, 32, 1, 2, 3, 4, 10, 0, 0, 6,
      ],
    );
    assert.deepEqual(o.classlessRoutes(m), [
      { dst: '0.0.0.0/0', gw: '10.0.0.1' },
      { dst: '10.0.0.0/8', gw: '10.0.0.2' },
      { dst: '10.128.0.0/9', gw: '10.0.0.3' },
      { dst: '192.168.1.0/24', gw: '10.0.0.4' },
      { dst: '192.168.1.128/25', gw: '10.0.0.5' },
      { dst: '1.2.3.4/32', gw: '10.0.0.6' },
    ]);
  });

  it('rejects prefix 33, truncated descriptors, bits past the prefix, an empty option', () => {
    assert.equal(o.classlessRoutes(with1(121, [33, 1, 2, 3, 4, 10, 0, 0, 1])), undefined);
    assert.equal(o.classlessRoutes(with1(121, [24, 192, 168, 1, 10, 0, 0])), undefined);
    assert.equal(o.classlessRoutes(with1(121, [0, 10, 0, 0, 1, 8])), undefined);
    assert.equal(o.classlessRoutes(with1(121, [8, 10, 10, 0, 0, 1, 255])), undefined);
    assert.equal(o.classlessRoutes(with1(121, [9, 10, 64, 10, 0, 0, 1])), undefined);
    assert.equal(o.classlessRoutes(with1(121, [])), undefined);
  });

  it('encodeClassless writes significant octets only and refuses bad routes', () => {
    assert.deepEqual(
      [
        ...o.encodeClassless([
          { dst: '10.128.0.0/9', gw: '1.2.3.4' },
          { dst: '0.0.0.0/0', gw: '1.2.3.4' },
        ]),
      ],
      [9, 10, 128, 1, 2, 3, 4, 0, 1, 2, 3, 4],
    );
    assert.throws(() => o.encodeClassless([{ dst: '10.0.0.1/8', gw: '1.2.3.4' }]), TypeError);
    assert.throws(() => o.encodeClassless([{ dst: '10.0.0.0/33', gw: '1.2.3.4' }]), TypeError);
    assert.throws(() => o.encodeClassless([{ dst: '10.0.0.0', gw: '1.2.3.4' }]), TypeError);
    assert.throws(() => o.encodeClassless([]), RangeError);
  });
});

describe('options: domain search (RFC 3397)', () => {
  const label = (s: string): number[] => [s.length, ...Buffer.from(s)];

  it('decodes the RFC 3397 example with a compression pointer', () => {
    const wire = [...label('eng'), ...label('apple'), ...label('com'), 0, ...label('marketing'), 0xc0, 4];
    assert.deepEqual(o.domainSearch(with1(119, wire)), ['eng.apple.com', 'marketing.apple.com']);
  });

  it('encodeDomainSearch round-trips (uncompressed) and refuses bad names', () => {
    const names = ['example.com', 'a.b.c.example.org'];
    assert.deepEqual(o.domainSearch(with1(119, o.encodeDomainSearch(names))), names);
    assert.deepEqual(o.encodeDomainSearch(['example.com.']), o.encodeDomainSearch(['example.com']));
    assert.throws(() => o.encodeDomainSearch(['a..b']), TypeError);
    assert.throws(() => o.encodeDomainSearch(['x'.repeat(64) + '.com']), TypeError);
    assert.throws(() => o.encodeDomainSearch([Array(130).fill('ab').join('.')]), RangeError);
    assert.throws(() => o.encodeDomainSearch([]), RangeError);
  });

  it('pointer loops, self, forward and out-of-range pointers are malformed', () => {
    const bad: [string, number[]][] = [
      ['pointer to itself', [0xc0, 0]],
      ['loop through a label', [...label('a'), 0xc0, 0]],
      ['two names pointing at each other', [...label('a'), 0xc0, 5, ...label('b'), 0xc0, 0]],
      ['forward pointer', [0xc0, 2, ...label('a'), 0]],
      ['out of range', [...label('a'), 0, ...label('b'), 0xc0, 200]],
      ['truncated pointer', [...label('a'), 0xc0]],
      ['label past the end', [5, 0x61, 0x62]],
      ['no root label', [...label('abc')]],
      ['reserved label type', [0x40, 0x61, 0]],
      ['root alone', [0]],
      ['dot inside a label', [...label('a.b'), 0]],
      ['name over 255 octets', [...Array(128).fill(label('a')).flat(), 0]],
    ];
    for (const [what, wire] of bad) assert.equal(o.domainSearch(with1(119, wire)), undefined, what);
  });

  it('bounded work: a long backward pointer chain and many names decode (or fail) quickly', () => {
    // Every name is a pointer to the previous pointer: the longest chains a hostile server can build.
    const wire = [...label('a'), 0];
    for (let at = 3; wire.length < 60000; at += 2) wire.push(0xc0 | ((at - 2) >> 8), (at - 2) & 0xff);
    const started = process.hrtime.bigint();
    o.domainSearch(with1(119, wire));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.ok(ms < 1000, `${ms} ms`);
    // Within the step bound, chains are followed.
    const short = [...label('x'), 0, 0xc0, 0, 0xc0, 3];
    assert.deepEqual(o.domainSearch(with1(119, short)), ['x', 'x', 'x']);
  });
});

describe('options: encoders', () => {
  it('encode numbers and addresses big-endian and refuse out-of-range values', () => {
    assert.deepEqual([...o.encodeU16(1400)], [5, 120]);
    assert.deepEqual([...o.encodeU32(600)], [0, 0, 2, 88]);
    assert.deepEqual([...o.encodeIp('198.18.2.1')], [198, 18, 2, 1]);
    assert.deepEqual(o.encodeText('pod'), Buffer.from('pod'));
    assert.throws(() => o.encodeU16(65536), RangeError);
    assert.throws(() => o.encodeU32(1.5), RangeError);
    assert.throws(() => o.encodeIp('198.18.2'), TypeError);
    assert.equal(o.OPTIONS.PARAMETER_REQUEST_LIST.code, Opt.PARAMETER_REQUEST_LIST);
  });
});
