// Server data is checked once, between the decoded reply and everything that uses it: a hostile server's values
// never reach the lease core, the CNI result or the operator's terminal. A property test over random replies.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { buildResult } from '../../daemon/cni/result';
import { SUPPORTED_VERSIONS, convertResult } from '../../daemon/cni/version';
import { leaseDetailText, leasesTable } from '../../client/lease-text';
import type { LeaseDetail } from '../../common/rpc';
import { ipToBytes, u32 } from '../../daemon/dhcp/bytes';
import { encode } from '../../daemon/dhcp/codec';
import { ClientConfig, LeaseEvent, LeaseState, step, transitionWhy } from '../../daemon/dhcp/lease';
import { encodeClassless } from '../../daemon/dhcp/options';
import { seededRng } from '../../daemon/dhcp/rng';
import { decodeReply, isDnsName, notUnicast, sanitiseReply } from '../../daemon/dhcp/sanitise';
import { MessageType, Opt } from '../../daemon/dhcp/types';
import { leaseFacts } from '../../daemon/facts';
import { reply } from '../helpers/messages';
import { allStrings, rawSearch } from '../helpers/hostile';

const RULES = { minLeaseTimeS: 60 };
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

function ack(options: [number, Buffer][], yiaddr = '198.19.5.10') {
  return reply({
    yiaddr,
    options: new Map<number, Buffer>([
      [Opt.MESSAGE_TYPE, Buffer.from([MessageType.ACK])],
      [Opt.SERVER_ID, ipToBytes('198.19.4.1')],
      [Opt.LEASE_TIME, u32(3600)],
      ...options,
    ]),
  });
}

test('notUnicast: 0/8, loopback, multicast, class E and broadcast are refused; ordinary hosts pass', () => {
  for (const ip of [
    '0.0.0.0',
    '0.1.2.3',
    '127.0.0.1',
    '224.0.0.1',
    '239.255.255.255',
    '240.0.0.1',
    '255.255.255.255',
    '1.2.3',
    'x',
  ]) {
    assert.ok(notUnicast(ip), ip);
  }
  for (const ip of ['198.19.5.10', '10.0.0.1', '1.0.0.0', '223.255.255.254', '169.254.1.1'])
    assert.equal(notUnicast(ip), undefined, ip);
});

test('isDnsName: labels of letters, digits, - and _; no spaces, control characters or empty labels', () => {
  for (const n of ['example.com', 'example.com.', 'a', '_srv._tcp.x', 'a-b.c1']) assert.ok(isDnsName(n), n);
  for (const n of [
    '',
    '.',
    'a..b',
    '-a.b',
    'a-.b',
    'a b',
    'ex\nample',
    'e\x1b[31m',
    'x'.repeat(64),
    `${'a.'.repeat(127)}ab`,
  ])
    assert.ok(!isDnsName(n), n);
});

test('a hostile ACK: every unusable value goes, the rest stays, and the drop list says what went', () => {
  const hostile = ack([
    [Opt.SUBNET_MASK, ipToBytes('0.0.0.0')],
    [Opt.ROUTER, Buffer.concat([ipToBytes('224.0.0.1'), ipToBytes('198.19.4.254')])],
    [Opt.DNS_SERVERS, Buffer.concat([ipToBytes('0.0.0.0'), ipToBytes('127.0.0.53'), ipToBytes('255.255.255.255')])],
    [Opt.DOMAIN_NAME, Buffer.from('lan\nnameserver 6.6.6.6')],
    [Opt.DOMAIN_SEARCH, rawSearch(['good.example', 'ba\x1bd.example'])],
    [
      Opt.CLASSLESS_ROUTES,
      encodeClassless([
        { dst: '10.0.0.0/8', gw: '127.0.0.1' },
        { dst: '10.1.0.0/16', gw: '198.19.4.254' },
        { dst: '198.19.8.0/24', gw: '0.0.0.0' },
        { dst: '224.0.0.0/4', gw: '198.19.4.254' },
      ]),
    ],
    [Opt.LEASE_TIME, u32(1)],
    [Opt.RENEWAL_TIME, u32(0)],
  ]);
  const { msg, dropped } = sanitiseReply(hostile, RULES);
  const facts = leaseFacts(msg);
  assert.equal(facts.prefixLength, 24, 'mask /0 dropped: the classful prefix of 198.19.5.10');
  assert.equal(facts.gateway, '198.19.4.254');
  assert.deepEqual(facts.dns, { nameservers: [], search: ['good.example'] });
  assert.deepEqual(facts.routes, [{ dst: '10.1.0.0/16', gw: '198.19.4.254' }, { dst: '198.19.8.0/24' }]);
  assert.equal(facts.leaseTimeS, 60);
  assert.equal(msg.options.has(Opt.RENEWAL_TIME), false);
  assert.equal(dropped.length, 10, dropped.join('\n'));
  assert.ok(dropped.some((d) => /option 15/.test(d)));
  assert.equal(hostile.options.get(Opt.LEASE_TIME)?.readUInt32BE(0), 1, 'the input is not modified');
});

test('yiaddr outside the rules: zeroed, so the core refuses the OFFER or ACK; a good reply is left as it was', () => {
  for (const y of ['224.1.1.1', '127.0.0.1', '240.1.2.3', '0.0.0.9']) {
    const { msg, dropped } = sanitiseReply(ack([], y), RULES);
    assert.equal(msg.yiaddr, '0.0.0.0');
    assert.match(dropped[0] ?? '', /^yiaddr/);
  }
  const good = ack([
    [Opt.SUBNET_MASK, ipToBytes('255.255.252.0')],
    [Opt.ROUTER, ipToBytes('198.19.4.254')],
  ]);
  const out = sanitiseReply(good, RULES);
  assert.deepEqual(out.dropped, []);
  assert.deepEqual(out.msg, good);
});

test('the minimum lease time is configurable; infinite and long leases are untouched', () => {
  assert.equal(sanitiseReply(ack([[Opt.LEASE_TIME, u32(10)]]), { minLeaseTimeS: 5 }).dropped.length, 0);
  assert.equal(sanitiseReply(ack([[Opt.LEASE_TIME, u32(0xffffffff)]]), RULES).dropped.length, 0);
  assert.equal(leaseFacts(sanitiseReply(ack([[Opt.LEASE_TIME, u32(59)]]), RULES).msg).leaseTimeS, 60);
});

// ---- property: random server replies through the daemon's path (bytes → decodeReply → core → facts → result/CLI)

const CFG: ClientConfig = {
  chaddr: '02:00:00:00:00:01',
  clientId: '00',
  paramRequestList: [1, 3, 6, 15, 119, 121, 33, 51],
  provide: [],
  broadcastFlag: false,
  maxMessageSize: 1500,
  timing: {
    firstRetransmitMs: 4000,
    maxRetransmitMs: 64000,
    jitterMs: 1000,
    minRenewRetransmitMs: 60000,
    requestRetries: 4,
  },
};
const XID = 0x1234;
const REQUESTING: LeaseState = {
  state: 'REQUESTING',
  tx: { xid: XID, startedAtMs: 0, firstSentAtMs: 0, sends: 1, retransmitAtMs: 4000 },
  offer: { address: '198.19.5.10', serverId: '198.19.4.1' },
};

const octets = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
const anyIp = fc.oneof(
  octets,
  fc.constantFrom('0.0.0.0', '127.0.0.1', '224.0.0.1', '240.0.0.1', '255.255.255.255', '198.19.4.254'),
);
const ipBytes = fc.array(anyIp, { minLength: 1, maxLength: 4 }).map((ips) => Buffer.concat(ips.map(ipToBytes)));
const hostileText = fc.string({
  unit: fc.constantFrom('a', 'b', '.', '-', '\n', '\x1b', '[', '\x00', '\x9b', ' ', 'é', '\u202e'),
  maxLength: 40,
});
const rawBytes = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
const optionValue: Record<number, fc.Arbitrary<Buffer>> = {
  [Opt.SUBNET_MASK]: fc.oneof(anyIp.map(ipToBytes), rawBytes),
  [Opt.ROUTER]: fc.oneof(ipBytes, rawBytes),
  [Opt.DNS_SERVERS]: fc.oneof(ipBytes, rawBytes),
  [Opt.DOMAIN_NAME]: fc.oneof(
    hostileText.filter((s) => s.length > 0).map((s) => Buffer.from(s)),
    rawBytes,
  ),
  [Opt.DOMAIN_SEARCH]: fc.oneof(
    fc
      .array(
        hostileText.filter((s) => /^[^.]{1,20}(\.[^.]{1,20})*$/.test(s) && !/[^\x00-\xff]/.test(s)),
        { minLength: 1, maxLength: 3 },
      )
      .map(rawSearch),
    rawBytes,
  ),
  [Opt.CLASSLESS_ROUTES]: fc.oneof(
    fc
      .array(fc.tuple(fc.integer({ min: 0, max: 32 }), anyIp, anyIp), { minLength: 1, maxLength: 4 })
      .map((rs) =>
        Buffer.concat(
          rs.map(([len, dst, gw]) =>
            Buffer.concat([Buffer.from([len]), ipToBytes(dst).subarray(0, Math.ceil(len / 8)), ipToBytes(gw)]),
          ),
        ),
      ),
    rawBytes,
  ),
  [Opt.STATIC_ROUTES]: fc.oneof(
    fc
      .array(fc.tuple(anyIp, anyIp), { minLength: 1, maxLength: 3 })
      .map((rs) => Buffer.concat(rs.flatMap(([d, g]) => [ipToBytes(d), ipToBytes(g)]))),
    rawBytes,
  ),
  [Opt.LEASE_TIME]: fc.oneof(fc.nat(120).map(u32), fc.constant(u32(0xffffffff)), rawBytes),
  [Opt.RENEWAL_TIME]: fc.nat(100).map(u32),
  [Opt.INTERFACE_MTU]: fc.oneof(
    fc.nat(0xffff).map((n) => Buffer.from([n >> 8, n & 0xff])),
    rawBytes,
  ),
  [Opt.MESSAGE]: hostileText.filter((s) => s.length > 0).map((s) => Buffer.from(s)),
};
const hostileReply = fc.record({
  yiaddr: fc.oneof(anyIp, fc.constant('198.19.5.10')),
  type: fc.constantFrom(MessageType.ACK, MessageType.ACK, MessageType.NAK),
  options: fc
    .array(fc.constantFrom(...Object.keys(optionValue).map(Number)), { maxLength: 10 })
    .chain((codes) =>
      fc.tuple(
        ...[...new Set(codes)].map((c) =>
          (optionValue[c] as fc.Arbitrary<Buffer>).map((v) => [c, v] as [number, Buffer]),
        ),
      ),
    ),
});

function cidrHost(cidr: string): string {
  return cidr.split('/')[0] as string;
}

test('property: no random server reply puts a control character in a result field or a CLI line, or a bad address in a result', () => {
  fc.assert(
    fc.property(hostileReply, ({ yiaddr, type, options }) => {
      const msg = reply({
        xid: XID,
        yiaddr,
        chaddr: Buffer.from('020000000001', 'hex'),
        options: new Map<number, Buffer>([
          [Opt.MESSAGE_TYPE, Buffer.from([type])],
          [Opt.SERVER_ID, ipToBytes('198.19.4.1')],
          ...options,
        ]),
      });
      const decoded = decodeReply(encode(msg), RULES);
      if (!decoded.ok) return;
      const { state, actions, trigger } = step(REQUESTING, { type: 'packet', msg: decoded.msg }, 10, {
        cfg: CFG,
        rng: seededRng(1),
      });
      const events = actions.flatMap((a) => (a.type === 'emit' ? [a.event] : [])) as LeaseEvent[];
      const bound = events.find((e) => e.kind === 'bound' || e.kind === 'changed');
      const failed = events.find((e): e is Extract<LeaseEvent, { kind: 'failed' }> => e.kind === 'failed');
      const why = state.state !== REQUESTING.state ? transitionWhy(trigger, events) : 'none';
      const detail: LeaseDetail = {
        containerId: 'c1',
        network: 'lan',
        ifName: 'eth1',
        family: 'ipv4',
        netns: '/run/netns/p',
        args: {},
        mac: CFG.chaddr,
        state: state.state,
        transitions: [{ at: new Date(0).toISOString(), from: REQUESTING.state, to: state.state, why }],
      };
      if (failed) detail.lastError = failed.reason;
      if (bound && 'ack' in bound) {
        const facts = leaseFacts(bound.ack);
        Object.assign(detail, {
          facts,
          address: facts.address,
          prefixLength: facts.prefixLength,
          serverId: facts.serverId,
        });
        assert.equal(notUnicast(facts.address), undefined, facts.address);
        assert.ok(facts.prefixLength >= 1 && facts.prefixLength <= 32);
        for (const ns of facts.dns.nameservers) assert.equal(notUnicast(ns), undefined, `nameserver ${ns}`);
        if (facts.gateway) assert.equal(notUnicast(facts.gateway), undefined, `gateway ${facts.gateway}`);
        for (const n of [...facts.dns.search, ...(facts.dns.domain ? [facts.dns.domain] : [])])
          assert.ok(isDnsName(n), JSON.stringify(n));
        for (const r of facts.routes) {
          if (r.gw) assert.equal(notUnicast(r.gw), undefined, `route gw ${r.gw}`);
          if (!r.dst.endsWith('/0')) assert.equal(notUnicast(cidrHost(r.dst)), undefined, `route dst ${r.dst}`);
        }
        assert.ok(facts.leaseTimeS >= RULES.minLeaseTimeS);
        for (const v of SUPPORTED_VERSIONS) {
          for (const s of allStrings(convertResult(buildResult(facts, {}), v)))
            assert.doesNotMatch(s, CONTROL, `${v}: ${JSON.stringify(s)}`);
        }
      }
      const text = leaseDetailText(detail, 0) + leasesTable([detail], 0);
      for (const line of text.split('\n')) assert.doesNotMatch(line, CONTROL, JSON.stringify(line));
    }),
    { numRuns: 400 },
  );
});
