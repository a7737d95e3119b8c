// The expiry link policy against fakes: what it does to the pod link, the runner's channel and the pod's routes for
// each lease event and reply window. Timers are node:test's mock timers, so the 4 s window costs no wall time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LeaseFacts } from '../../common/rpc';
import type { PodRoute, RouteConfig } from '../../daemon/registry-api';
import type { LeaseEvent } from '../../daemon/dhcp/lease';
import type { DhcpMessage } from '../../daemon/dhcp/types';
import { LinkHold } from '../../daemon/link-hold';
import type { Logger } from '../../daemon/log';
import { reply } from '../helpers/messages';

const CONFIGURED = '198.19.0.5';
const OTHER = '198.19.0.9';
const REPLY_WINDOW_MS = 4000;

const FACTS: LeaseFacts = {
  address: CONFIGURED,
  prefixLength: 22,
  gateway: '198.19.0.1',
  routes: [
    { dst: '0.0.0.0/0', gw: '198.19.0.1' },
    { dst: '10.0.0.0/8', gw: '198.19.0.2' },
    { dst: '192.0.2.0/24', gw: '0.0.0.0' },
  ],
  dns: { nameservers: [], search: [] },
  serverId: '198.19.0.1',
  leaseTimeS: 60,
};

function ack(yiaddr: string): DhcpMessage {
  return reply({ yiaddr });
}

const bound = (address: string): LeaseEvent => ({ kind: 'bound', ack: ack(address) });
const expired: LeaseEvent = { kind: 'expired', address: CONFIGURED };

interface Options {
  routing?: RouteConfig;
  addRoute?: (route: PodRoute) => Promise<void>;
  setLinkUp?: (up: boolean) => Promise<void>;
}

/** A LinkHold over fakes: `calls` records link, channel and serialise calls in order; serialised work waits in
 *  `queued` until drain() runs it, as the runner's chain would after its queued steps. */
function harness(opts: Options = {}) {
  const calls: string[] = [];
  const routes: PodRoute[] = [];
  const warnings: { obj: Record<string, unknown>; msg: string }[] = [];
  const infos: string[] = [];
  const ioErrors: NodeJS.ErrnoException[] = [];
  const queued: (() => Promise<void>)[] = [];
  const state = { active: true, facts: FACTS as LeaseFacts | undefined };
  const log = {
    info: (_: unknown, msg: string) => infos.push(msg),
    warn: (obj: Record<string, unknown>, msg: string) => warnings.push({ obj, msg }),
  } as unknown as Logger;
  const hold = new LinkHold(
    {
      setLinkUp: async (up) => {
        calls.push(up ? 'link up' : 'link down');
        await opts.setLinkUp?.(up);
      },
      addRoute: async (route) => {
        routes.push(route);
        await opts.addRoute?.(route);
      },
      log,
    },
    {
      closeChannel: () => calls.push('close'),
      reopenChannel: async () => {
        calls.push('reopen');
      },
      serialise: (work) => {
        calls.push('serialise');
        queued.push(work);
      },
      active: () => state.active,
      facts: () => state.facts,
      routing: () => opts.routing ?? {},
      ioError: (err) => ioErrors.push(err),
    },
  );
  const drain = async (): Promise<void> => {
    while (queued.length > 0) await queued.shift()?.();
  };
  return { hold, calls, routes, warnings, infos, ioErrors, queued, state, drain };
}

/** Bound to the configured address, then expired: the link is held down. */
async function heldDown(opts: Options = {}) {
  const h = harness(opts);
  await h.hold.onEvent(bound(CONFIGURED));
  await h.hold.onEvent(expired);
  h.calls.length = 0;
  return h;
}

test('the first ACK sets the configured address and leaves the link alone', async () => {
  const h = harness();
  await h.hold.onEvent(bound(CONFIGURED));
  assert.equal(h.hold.configuredAddress, CONFIGURED);
  assert.equal(h.hold.heldDown, false);
  assert.deepEqual(h.calls, []);
  assert.deepEqual(h.routes, []);
});

test('expiry closes the channel and holds the link down', async () => {
  const h = harness();
  await h.hold.onEvent(bound(CONFIGURED));
  await h.hold.onEvent(expired);
  assert.equal(h.hold.heldDown, true);
  assert.deepEqual(h.calls, ['close', 'link down']);
  assert.equal(h.hold.configuredAddress, CONFIGURED, 'expiry does not forget the configured address');
});

test('the configured address bound again brings the link up and restores the routes (ipam.routes, defaultRoute false)', async () => {
  const h = await heldDown({
    routing: {
      priority: 50,
      defaultRoute: false,
      routes: [{ dst: '203.0.113.0/24' }, { dst: '198.51.100.0/24', gw: '198.19.0.3' }],
    },
  });
  await h.hold.onEvent({ kind: 'rebound', ack: ack(CONFIGURED) });
  assert.equal(h.hold.heldDown, false);
  assert.deepEqual(h.calls, ['link up']);
  // The server's default route is dropped; an on-link route (gw 0.0.0.0) has no gw; a static route without gw goes
  // via the lease's gateway; every route carries the priority as its metric.
  assert.deepEqual(h.routes, [
    { dst: '10.0.0.0/8', gw: '198.19.0.2', metric: 50 },
    { dst: '192.0.2.0/24', metric: 50 },
    { dst: '203.0.113.0/24', gw: '198.19.0.1', metric: 50 },
    { dst: '198.51.100.0/24', gw: '198.19.0.3', metric: 50 },
  ]);
  assert.deepEqual(h.infos, ['same address bound again: link up']);

  // Bound again while up: nothing to do.
  h.calls.length = 0;
  h.routes.length = 0;
  await h.hold.onEvent({ kind: 'renewed', ack: ack(CONFIGURED) });
  assert.deepEqual(h.calls, []);
  assert.deepEqual(h.routes, []);
});

test('without defaultRoute false the server default route is restored too', async () => {
  const h = await heldDown();
  await h.hold.onEvent(bound(CONFIGURED));
  assert.deepEqual(h.routes, [
    { dst: '0.0.0.0/0', gw: '198.19.0.1' },
    { dst: '10.0.0.0/8', gw: '198.19.0.2' },
    { dst: '192.0.2.0/24' },
  ]);
});

test('a route already there (EEXIST) is ignored; another route error is logged; every route is tried', async () => {
  const h = await heldDown({
    addRoute: async (route) => {
      const code = route.dst === '0.0.0.0/0' ? 'EEXIST' : route.dst === '10.0.0.0/8' ? 'ENETUNREACH' : undefined;
      if (code) throw Object.assign(new Error(`${code}: ${route.dst}`), { code });
    },
  });
  await h.hold.onEvent(bound(CONFIGURED));
  assert.deepEqual(
    h.routes.map((r) => r.dst),
    ['0.0.0.0/0', '10.0.0.0/8', '192.0.2.0/24'],
  );
  assert.equal(h.warnings.length, 1);
  assert.equal(h.warnings[0]?.msg, 'cannot restore a route after link up');
  assert.deepEqual(h.warnings[0]?.obj.route, { dst: '10.0.0.0/8', gw: '198.19.0.2' });
  assert.equal(h.hold.heldDown, false);
});

test('no routes are restored without lease facts', async () => {
  const h = await heldDown();
  h.state.facts = undefined;
  await h.hold.onEvent(bound(CONFIGURED));
  assert.deepEqual(h.calls, ['link up']);
  assert.deepEqual(h.routes, []);
});

test('a different address keeps the link down and sets changedTo; the configured address bound later clears it', async () => {
  const h = await heldDown();
  await h.hold.onEvent({ kind: 'changed', from: CONFIGURED, to: OTHER, ack: ack(OTHER) });
  assert.equal(h.hold.changedTo, OTHER);
  assert.equal(h.hold.configuredAddress, CONFIGURED);
  assert.equal(h.hold.heldDown, true);
  assert.deepEqual(h.calls, ['close', 'link down']);
  assert.deepEqual(h.routes, []);
  assert.equal(h.warnings.length, 1);
  assert.deepEqual(h.warnings[0]?.obj, { configured: CONFIGURED, bound: OTHER });

  h.calls.length = 0;
  await h.hold.onEvent({ kind: 'changed', from: OTHER, to: CONFIGURED, ack: ack(CONFIGURED) });
  assert.equal(h.hold.changedTo, undefined);
  assert.equal(h.hold.heldDown, false);
  assert.deepEqual(h.calls, ['link up']);
  assert.equal(h.routes.length, 3);
});

test('a different address bound while the link is up takes it down', async () => {
  const h = harness();
  await h.hold.onEvent(bound(CONFIGURED));
  await h.hold.onEvent({ kind: 'changed', from: CONFIGURED, to: OTHER, ack: ack(OTHER) });
  assert.equal(h.hold.heldDown, true);
  assert.equal(h.hold.changedTo, OTHER);
  assert.deepEqual(h.calls, ['close', 'link down']);
});

test('events that bind nothing leave the link alone', async () => {
  const h = await heldDown();
  await h.hold.onEvent({ kind: 'nak', in: 'REBOOTING' });
  await h.hold.onEvent({ kind: 'retransmit', state: 'SELECTING', attempt: 2 });
  assert.equal(h.hold.heldDown, true);
  assert.deepEqual(h.calls, []);
});

test('the reply window opens the link and the channel, and closes both after 4 s through serialise', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const h = await heldDown();
  await h.hold.openReplyWindow();
  assert.deepEqual(h.calls, ['link up', 'close', 'reopen']);

  h.calls.length = 0;
  t.mock.timers.tick(REPLY_WINDOW_MS - 1);
  assert.deepEqual(h.calls, []);
  t.mock.timers.tick(1);
  assert.deepEqual(h.calls, ['serialise'], 'the link goes down only on the runner chain');
  await h.drain();
  assert.deepEqual(h.calls, ['serialise', 'close', 'link down']);
  assert.equal(h.hold.heldDown, true);
});

test('a second broadcast restarts the reply window', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const h = await heldDown();
  await h.hold.openReplyWindow();
  t.mock.timers.tick(3000);
  await h.hold.openReplyWindow();
  h.calls.length = 0;
  t.mock.timers.tick(REPLY_WINDOW_MS - 1);
  assert.deepEqual(h.calls, [], 'the first window was cancelled');
  t.mock.timers.tick(1);
  assert.deepEqual(h.calls, ['serialise']);
});

test('the lease bound during the reply window keeps the link up', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const h = await heldDown();
  await h.hold.openReplyWindow();
  await h.hold.onEvent(bound(CONFIGURED));
  h.calls.length = 0;
  t.mock.timers.tick(REPLY_WINDOW_MS);
  await h.drain();
  assert.deepEqual(h.calls, []);
  assert.equal(h.hold.heldDown, false);
});

test('the lease bound after the window closed but before its queued work ran keeps the link up', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const h = await heldDown();
  await h.hold.openReplyWindow();
  t.mock.timers.tick(REPLY_WINDOW_MS);
  assert.equal(h.queued.length, 1);
  await h.hold.onEvent(bound(CONFIGURED));
  h.calls.length = 0;
  await h.drain();
  assert.deepEqual(h.calls, []);
  assert.equal(h.hold.heldDown, false);
});

test('a runner stopped before the queued work runs does not touch the link', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const h = await heldDown();
  await h.hold.openReplyWindow();
  t.mock.timers.tick(REPLY_WINDOW_MS);
  h.state.active = false;
  h.calls.length = 0;
  await h.drain();
  assert.deepEqual(h.calls, []);
});

test('stop() cancels the pending reply window', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const h = await heldDown();
  await h.hold.openReplyWindow();
  h.hold.stop();
  h.calls.length = 0;
  t.mock.timers.tick(REPLY_WINDOW_MS * 2);
  assert.deepEqual(h.calls, []);
  assert.equal(h.queued.length, 0);
});

test('a setLinkUp failure is reported through ioError and the policy carries on', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const gone = Object.assign(new Error('ENOENT: netns gone'), { code: 'ENOENT' });
  const h = harness({
    setLinkUp: async () => {
      throw gone;
    },
  });
  await h.hold.onEvent(bound(CONFIGURED));
  await h.hold.onEvent(expired);
  assert.equal(h.hold.heldDown, true);
  assert.deepEqual(h.ioErrors, [gone]);

  await h.hold.openReplyWindow();
  assert.deepEqual(h.ioErrors, [gone, gone]);
  assert.deepEqual(h.calls.slice(-2), ['close', 'reopen'], 'the channel is reopened even so');
  t.mock.timers.tick(REPLY_WINDOW_MS);
  await h.drain();
  assert.equal(h.ioErrors.length, 3);
});
