// In-place re-addressing against a fake pod interface: what each lease event does to its addresses and routes, in
// which order, which errors are benign, and what the lease's transition and the metric are told.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LeaseFacts } from '../../common/rpc';
import type { PodRoute, RouteConfig } from '../../daemon/registry-api';
import type { LeaseEvent } from '../../daemon/dhcp/lease';
import { encodeOption } from '../../daemon/dhcp/options';
import { DhcpMessage, MessageType, Opt } from '../../daemon/dhcp/types';
import type { Logger } from '../../daemon/log';
import { mtuToSet, type PodLink } from '../../daemon/pod-link';
import { PodAddressAction, Readdress } from '../../daemon/readdress';
import { reply } from '../helpers/messages';

/** An ACK for `yiaddr`/22 with router .1 and one classless route besides the default. */
function ack(yiaddr: string): DhcpMessage {
  const net = yiaddr.split('.').slice(0, 3).join('.');
  const options = new Map<number, Buffer>([
    [Opt.MESSAGE_TYPE, Buffer.from([MessageType.ACK])],
    [Opt.SUBNET_MASK, encodeOption(Opt.SUBNET_MASK, '255.255.252.0')],
    [Opt.SERVER_ID, encodeOption(Opt.SERVER_ID, `${net}.1`)],
    [Opt.LEASE_TIME, encodeOption(Opt.LEASE_TIME, 600)],
    [Opt.ROUTER, encodeOption(Opt.ROUTER, [`${net}.1`])],
  ]);
  return reply({ yiaddr, options });
}

const bound = (a: string): LeaseEvent => ({ kind: 'bound', ack: ack(a) });
const changed = (from: string, to: string): LeaseEvent => ({ kind: 'changed', from, to, ack: ack(to) });
const renewed = (a: string): LeaseEvent => ({ kind: 'renewed', ack: ack(a) });
const expired = (a: string): LeaseEvent => ({ kind: 'expired', address: a });

function err(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

function harness(
  routing: RouteConfig = { routes: [{ dst: '10.0.0.0/8', gw: '198.19.0.2' }] },
  fail: Record<string, string> = {},
  onLink: { address: string; prefixLength: number }[] = [],
) {
  const calls: string[] = [];
  const counts: PodAddressAction[] = [];
  const ioErrors: string[] = [];
  const infos: Record<string, unknown>[] = [];
  const warnings: string[] = [];
  const call = async (text: string) => {
    calls.push(text);
    const code = Object.entries(fail).find(([prefix]) => text.startsWith(prefix))?.[1];
    if (code) throw err(code);
  };
  const route = (r: PodRoute) => `${r.dst}${r.gw ? ` via ${r.gw}` : ''}${r.metric ? ` metric ${r.metric}` : ''}`;
  const link: PodLink = {
    setUp: (up) => call(`link ${up ? 'up' : 'down'}`),
    addAddress: (a, p) => call(`addr add ${a}/${p}`),
    delAddress: (a, p) => call(`addr del ${a}/${p}`),
    addRoute: (r) => call(`route add ${route(r)}`),
    delRoute: (r) => call(`route del ${route(r)}`),
    addresses: async () => onLink,
    mtu: async () => 1500,
    setMtu: (m) => call(`mtu ${m}`),
  };
  const log = {
    info: (obj: Record<string, unknown>) => infos.push(obj),
    warn: (_: unknown, msg: string) => warnings.push(msg),
  } as unknown as Logger;
  const policy = new Readdress({
    link,
    log,
    routing: () => routing,
    count: (a) => counts.push(a),
    ioError: (e) => ioErrors.push(e.code ?? ''),
  });
  return { policy, calls, counts, ioErrors, infos, warnings };
}

test("the first ACK is ADD's: the CNI plugin configures it, the policy only takes note", async () => {
  const h = harness();
  assert.equal(await h.policy.onEvent(bound('198.19.0.5')), undefined);
  assert.deepEqual(h.calls, []);
  assert.equal(h.policy.configuredAddress, '198.19.0.5');
  assert.equal(
    await h.policy.onEvent(renewed('198.19.0.5')),
    undefined,
    'a renewal of the same address changes nothing',
  );
  assert.deepEqual(h.calls, []);
});

test('a new address: old routes and address out, new address and the routes ADD installed in, link untouched', async () => {
  const h = harness();
  await h.policy.onEvent(bound('198.19.0.5'));
  const note = await h.policy.onEvent(changed('198.19.0.5', '198.19.4.9'));
  assert.equal(note, '198.19.0.5/22 replaced by 198.19.4.9/22 on the interface, in place');
  assert.deepEqual(h.calls, [
    // The old default route via 198.19.0.1 differs from the new one; the static route is the same and stays.
    'route del 0.0.0.0/0 via 198.19.0.1',
    'addr del 198.19.0.5/22',
    'addr add 198.19.4.9/22',
    'route add 0.0.0.0/0 via 198.19.4.1',
    'route add 10.0.0.0/8 via 198.19.0.2',
  ]);
  assert.deepEqual(h.counts, ['replaced']);
  assert.equal(h.policy.configuredAddress, '198.19.4.9');
  assert.equal(h.policy.changedTo, undefined);
  assert.deepEqual(h.infos.at(-1), {
    action: 'replaced',
    from: '198.19.0.5/22',
    to: '198.19.4.9/22',
    why: 'ACK',
    routes: 2,
  });
});

test("defaultRoute false and priority shape the routes as in ADD's result", async () => {
  const h = harness({ defaultRoute: false, priority: 7, routes: [{ dst: '10.0.0.0/8' }] });
  await h.policy.onEvent(bound('198.19.0.5'));
  await h.policy.onEvent(changed('198.19.0.5', '198.19.4.6'));
  // No default route; a static route without gw goes via the lease's gateway, so it changes with the lease.
  assert.deepEqual(h.calls, [
    'route del 10.0.0.0/8 via 198.19.0.1 metric 7',
    'addr del 198.19.0.5/22',
    'addr add 198.19.4.6/22',
    'route add 10.0.0.0/8 via 198.19.4.1 metric 7',
  ]);
});

test('expiry removes the address and its routes, the link stays up; the next lease restores them', async () => {
  const h = harness();
  await h.policy.onEvent(bound('198.19.0.5'));
  assert.equal(
    await h.policy.onEvent(expired('198.19.0.5')),
    '198.19.0.5/22 removed from the interface (link stays up)',
  );
  assert.deepEqual(h.calls, [
    'route del 0.0.0.0/0 via 198.19.0.1',
    'route del 10.0.0.0/8 via 198.19.0.2',
    'addr del 198.19.0.5/22',
  ]);
  assert.equal(h.policy.configuredAddress, undefined);
  assert.equal(await h.policy.beforeBroadcast(), undefined, 'nothing to open: the link is up');
  h.calls.length = 0;
  assert.equal(await h.policy.onEvent(bound('198.19.0.5')), '198.19.0.5/22 restored on the interface');
  assert.deepEqual(h.calls, [
    'addr add 198.19.0.5/22',
    'route add 0.0.0.0/0 via 198.19.0.1',
    'route add 10.0.0.0/8 via 198.19.0.2',
  ]);
  assert.deepEqual(h.counts, ['removed', 'restored']);
  assert.ok(!h.calls.some((c) => c.startsWith('link')));
});

test('already as wanted (EEXIST, ESRCH, EADDRNOTAVAIL) is fine; a gone link ends the lease; anything else is logged', async () => {
  const ok = harness(undefined, {
    'route del': 'ESRCH',
    'addr del': 'EADDRNOTAVAIL',
    'addr add': 'EEXIST',
    'route add': 'EEXIST',
  });
  await ok.policy.onEvent(bound('198.19.0.5'));
  await ok.policy.onEvent(changed('198.19.0.5', '198.19.0.7'));
  assert.deepEqual([ok.ioErrors, ok.warnings], [[], []]);
  const gone = harness(undefined, { 'addr del': 'ENODEV' });
  await gone.policy.onEvent(bound('198.19.0.5'));
  await gone.policy.onEvent(expired('198.19.0.5'));
  assert.deepEqual(gone.ioErrors, ['ENODEV']);
  const refused = harness(undefined, { 'route add': 'ENETUNREACH' });
  await refused.policy.onEvent(bound('198.19.0.5'));
  await refused.policy.onEvent(changed('198.19.0.5', '198.19.0.7'));
  assert.deepEqual(refused.warnings, [
    'pod interface: cannot add route 0.0.0.0/0 via 198.19.0.1',
    'pod interface: cannot add route 10.0.0.0/8 via 198.19.0.2',
  ]);
  assert.equal(refused.policy.configuredAddress, '198.19.0.7', 'the address moved all the same');
});

test('stopped, the policy touches nothing', async () => {
  const h = harness();
  await h.policy.onEvent(bound('198.19.0.5'));
  h.policy.stop();
  assert.equal(await h.policy.onEvent(expired('198.19.0.5')), undefined);
  assert.deepEqual(h.calls, []);
});

test('after a restart the interface decides what is on it; a stored lease that expired meanwhile is taken off', async () => {
  const facts = {
    address: '198.19.0.5',
    prefixLength: 22,
    gateway: '198.19.0.1',
    routes: [],
    dns: { nameservers: [], search: [] },
    serverId: '198.19.0.1',
    leaseTimeS: 600,
  } as LeaseFacts;
  const present = harness({}, {}, [{ address: '198.19.0.5', prefixLength: 22 }]);
  await present.policy.resumed(facts, false);
  assert.equal(present.policy.configuredAddress, '198.19.0.5');
  assert.equal(
    await present.policy.onEvent(bound('198.19.0.5')),
    undefined,
    'the INIT-REBOOT ACK of the same address: nothing to do',
  );
  const absent = harness({}, {}, []);
  await absent.policy.resumed(facts, false);
  assert.equal(await absent.policy.onEvent(bound('198.19.0.5')), '198.19.0.5/22 restored on the interface');
  const stale = harness({}, {}, [{ address: '198.19.0.5', prefixLength: 22 }]);
  await stale.policy.resumed(facts, true);
  assert.deepEqual(stale.calls, ['addr del 198.19.0.5/22']);
  assert.equal(stale.policy.configuredAddress, undefined);
});

test('mtuToSet: option 26 bounded by the MTU at ADD; nothing when absent, bogus or already set', () => {
  assert.equal(mtuToSet(1400, 1500, 1500), 1400);
  assert.equal(mtuToSet(9000, 1500, 1500), undefined, 'never above the ceiling (already there)');
  assert.equal(mtuToSet(9000, 1500, 1400), 1500, 'back up to the ceiling at most');
  assert.equal(mtuToSet(undefined, 1500, 1500), undefined);
  assert.equal(mtuToSet(40, 1500, 1500), undefined, 'below 68 (RFC 791): a server mistake');
  assert.equal(mtuToSet(1400, 1500, 1400), undefined);
});
