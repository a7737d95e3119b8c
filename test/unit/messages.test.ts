import assert from 'node:assert/strict';
import { DEFAULT_REQUEST_LIST } from '../../daemon/cni/conf-options';
import { describe, test } from 'node:test';
import {
  ClientIdentity,
  buildDecline,
  buildDiscover,
  buildRelease,
  buildRequestInitReboot,
  buildRequestRebinding,
  buildRequestRenewing,
  buildRequestSelecting,
  mergeOptions,
} from '../../daemon/dhcp/messages';
import { BOOTREQUEST, DhcpMessage, FLAG_BROADCAST, MessageType, Opt } from '../../daemon/dhcp/types';

const id: ClientIdentity = {
  chaddr: Buffer.from('020000000001', 'hex'),
  clientId: Buffer.concat([Buffer.from([0]), Buffer.from('ctr1/net1/eth1')]),
  paramRequestList: [1, 3, 6, 121],
  provide: [{ code: Opt.HOST_NAME, value: Buffer.from('pod-a') }],
  broadcastFlag: true,
  maxMessageSize: 1500,
};

const codes = (m: DhcpMessage): number[] => [...m.options.keys()];
const opt = (m: DhcpMessage, code: number): string | undefined => m.options.get(code)?.toString('hex');

describe('builders (RFC 2131 table 5)', () => {
  test('DISCOVER: header, broadcast flag, option order 53 61 50 57 provided 55', () => {
    const m = buildDiscover(id, 0x12345678, 3, '198.18.0.20');
    assert.equal(m.op, BOOTREQUEST);
    assert.equal(m.htype, 1);
    assert.equal(m.hlen, 6);
    assert.equal(m.xid, 0x12345678);
    assert.equal(m.secs, 3);
    assert.equal(m.flags, FLAG_BROADCAST);
    assert.deepEqual([m.ciaddr, m.yiaddr, m.siaddr, m.giaddr], ['0.0.0.0', '0.0.0.0', '0.0.0.0', '0.0.0.0']);
    assert.ok(m.chaddr.equals(id.chaddr));
    assert.notEqual(m.chaddr, id.chaddr, 'chaddr is copied, not aliased');
    assert.deepEqual(codes(m), [53, 61, 50, 57, 12, 55]);
    assert.equal(opt(m, 53), '01');
    assert.equal(opt(m, 50), 'c6120014');
    assert.equal(opt(m, 57), '05dc');
    assert.equal(m.options.get(12)?.toString(), 'pod-a');
    assert.deepEqual([...(m.options.get(55) ?? [])], [1, 3, 6, 121]);
    assert.ok(m.options.get(61)?.equals(id.clientId));
  });

  test('DISCOVER without requested address or broadcast flag; empty client id and list are left out', () => {
    const m = buildDiscover({ ...id, broadcastFlag: false, clientId: Buffer.alloc(0), paramRequestList: [] }, 1, 0);
    assert.equal(m.flags, 0);
    assert.deepEqual(codes(m), [53, 57, 12]);
  });

  test('secs is clamped to 16 bits; max message size to 576..65535', () => {
    assert.equal(buildDiscover(id, 1, 100000).secs, 0xffff);
    assert.equal(opt(buildDiscover({ ...id, maxMessageSize: 300 }, 1, 0), 57), '0240');
    assert.equal(opt(buildDiscover({ ...id, maxMessageSize: 70000 }, 1, 0), 57), 'ffff');
  });

  test('REQUEST in SELECTING: 50 = yiaddr, 54 = server, ciaddr 0', () => {
    const m = buildRequestSelecting(id, 7, 1, { yiaddr: '198.18.0.20', serverId: '198.18.0.1' });
    assert.equal(opt(m, 53), '03');
    assert.deepEqual(codes(m), [53, 61, 50, 54, 57, 12, 55]);
    assert.equal(opt(m, 50), 'c6120014');
    assert.equal(opt(m, 54), 'c6120001');
    assert.equal(m.ciaddr, '0.0.0.0');
    assert.equal(m.flags, FLAG_BROADCAST);
  });

  test('REQUEST in INIT-REBOOT: 50, no 54, ciaddr 0', () => {
    const m = buildRequestInitReboot(id, 7, 0, '198.18.0.20');
    assert.deepEqual(codes(m), [53, 61, 50, 57, 12, 55]);
    assert.equal(m.ciaddr, '0.0.0.0');
  });

  for (const [name, build] of [
    ['RENEWING', buildRequestRenewing],
    ['REBINDING', buildRequestRebinding],
  ] as const) {
    test(`REQUEST in ${name}: ciaddr set, no 50 and no 54, no broadcast flag`, () => {
      const m = build(id, 9, 2, '198.18.0.20');
      assert.equal(opt(m, 53), '03');
      assert.equal(m.ciaddr, '198.18.0.20');
      assert.deepEqual(codes(m), [53, 61, 57, 12, 55]);
      assert.equal(m.flags, 0);
      assert.equal(m.secs, 2);
    });
  }

  test('RELEASE: ciaddr, 53=7, 61, 54 only; secs 0', () => {
    const m = buildRelease(id, 5, '198.18.0.20', '198.18.0.1');
    assert.deepEqual(codes(m), [53, 61, 54]);
    assert.equal(opt(m, 53), '07');
    assert.equal(m.ciaddr, '198.18.0.20');
    assert.equal(opt(m, 54), 'c6120001');
    assert.equal(m.secs, 0);
    assert.equal(m.flags, 0);
  });

  test('DECLINE: ciaddr 0, 53=4, 61, 50 = the address, 54 = its server only; secs and flags 0 (RFC 2131 §4.4.1)', () => {
    const m = buildDecline(id, 6, '198.18.0.20', '198.18.0.1');
    assert.deepEqual(codes(m), [53, 61, 50, 54]);
    assert.equal(opt(m, 53), '04');
    assert.equal(opt(m, 50), 'c6120014');
    assert.equal(opt(m, 54), 'c6120001');
    assert.deepEqual([m.ciaddr, m.yiaddr, m.secs, m.flags, m.xid], ['0.0.0.0', '0.0.0.0', 0, 0, 6]);
  });

  test('a provided option the client computes is refused', () => {
    for (const code of [50, 53, 54, 55, 57, 61]) {
      assert.throws(
        () => buildDiscover({ ...id, provide: [{ code, value: Buffer.from([1]) }] }, 1, 0),
        RangeError,
        `code ${code}`,
      );
    }
  });

  test('message types are the RFC values', () => {
    assert.equal(buildDiscover(id, 1, 0).options.get(53)?.[0], MessageType.DISCOVER);
    assert.equal(buildRelease(id, 1, '198.18.0.2', '198.18.0.1').options.get(53)?.[0], MessageType.RELEASE);
  });
});

describe('mergeOptions', () => {
  const defaults = {
    clientId: 'default-id',
    paramRequestList: [...DEFAULT_REQUEST_LIST],
    provide: [
      { code: 12, value: 'default-host' },
      { code: 60, value: 'ts-dhcp' },
    ],
  };

  test("the default request list (the plugin's list in daemon/cni/config.ts) includes DNS, routes (3, 33, 121), mask and search", () => {
    for (const code of [1, 3, 6, 15, 33, 119, 121]) assert.ok(DEFAULT_REQUEST_LIST.includes(code), `code ${code}`);
  });

  test('a user request list only adds codes: DNS is never dropped', () => {
    const m = mergeOptions(defaults, { paramRequestList: [121, 42, 3, 42] });
    assert.deepEqual(m.paramRequestList, [...DEFAULT_REQUEST_LIST, 42]);
    assert.ok(m.paramRequestList.includes(Opt.DNS_SERVERS));
    assert.deepEqual(
      mergeOptions({ ...defaults, paramRequestList: [6] }, { paramRequestList: [1] }).paramRequestList,
      [6, 1],
    );
  });

  test('a user option replaces the default of the same code in place; new codes follow; last wins', () => {
    const m = mergeOptions(defaults, {
      provide: [
        { code: 77, value: 'class' },
        { code: 12, value: 'first' },
        { code: 12, value: 'pod-b' },
      ],
    });
    assert.deepEqual(m.provide, [
      { code: 12, value: 'pod-b' },
      { code: 60, value: 'ts-dhcp' },
      { code: 77, value: 'class' },
    ]);
    assert.equal(m.clientId, 'default-id');
  });

  test('a provided 61 replaces the client identifier and is not sent twice', () => {
    const m = mergeOptions(defaults, { provide: [{ code: 61, value: 'user-id' }] });
    assert.equal(m.clientId, 'user-id');
    assert.ok(m.provide.every((p) => p.code !== 61));
  });

  test('computed options and invalid codes are refused', () => {
    for (const code of [50, 52, 53, 54, 55, 57]) {
      assert.throws(() => mergeOptions(defaults, { provide: [{ code, value: 'x' }] }), RangeError, `code ${code}`);
    }
    for (const code of [0, 255, 256, -1, 1.5]) {
      assert.throws(() => mergeOptions(defaults, { provide: [{ code, value: 'x' }] }), RangeError, `provide ${code}`);
      assert.throws(() => mergeOptions(defaults, { paramRequestList: [code] }), RangeError, `request ${code}`);
    }
  });

  test('no user choices: the defaults unchanged', () => {
    assert.deepEqual(mergeOptions(defaults, {}), defaults);
  });
});
