// After expiry with `onChange: "hold-link-down"` (issue 3; the reference plugin's behaviour, selectable since the
// default re-addresses in place, test/netns/heal.test.ts): recovery of the same address brings back the pod's link
// *and* the routes the kernel dropped with it; a different address after expiry leaves the link down, shows in the
// lease view and fails CHECK.
// Kea with 20 s leases (T1 5 s, T2 10 s).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Topology,
  cniMacvlan,
  createTopology,
  macvlanConfig,
  startKea,
  startTsDaemon,
  waitFor,
  type DhcpServer,
  type TsDaemon,
} from './lib';

const SHORT = { leaseTime: 20, renewTime: 5, rebindTime: 10 };

describe('lease recovery after expiry (Kea)', () => {
  let topo: Topology;
  let server: DhcpServer;
  let daemon: TsDaemon;

  before(async () => {
    topo = await createTopology({ prefix: 'tsy-', lanCidr: '198.19.60.1/23', podCidr: '198.19.62.1/24', pods: 2 });
    server = await startKea(topo, {
      ...SHORT,
      range: ['198.19.61.10', '198.19.61.50'],
      routers: ['198.19.60.1'],
      classlessRoutes: [{ dst: '198.19.63.0/25', gw: '198.19.60.1' }],
    });
    daemon = await startTsDaemon(topo);
  });
  after(() => topo.destroy());

  const routesOf = async (pod: number): Promise<string[]> =>
    (await topo.exec(topo.podNs(pod), 'ip', ['-4', 'route', 'show', 'dev', 'eth1']))
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .sort();
  const linkUp = async (pod: number): Promise<boolean> => {
    const [link] = JSON.parse(await topo.exec(topo.podNs(pod), 'ip', ['-j', 'link', 'show', 'dev', 'eth1'])) as {
      flags: string[];
    }[];
    return link?.flags.includes('UP') ?? false;
  };
  const leaseOf = async (containerId: string) =>
    (await daemon.rpc('leases', {})).find((l) => l.containerId === containerId);
  const expired = (containerId: string) => () =>
    daemon.logs().some((l) => l.containerId === containerId && l.msg === 'lease expired');
  // A static route as well as the server's option 121: the restored routes are the result's routes. (No
  // ipam.priority: the packaged macvlan plugin, 1.1.1, installs routes without the result's priority.)
  const ipam = { onChange: 'hold-link-down', routes: [{ dst: '198.19.63.200/32', gw: '198.19.60.2' }] };

  test('same address after expiry: link up and the routes the kernel dropped are back', async () => {
    const out = await cniMacvlan(topo, {
      command: 'ADD',
      containerId: 'r1',
      podIndex: 1,
      config: macvlanConfig(topo, daemon, ipam),
    });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const leased = (out.json?.ips?.[0]?.address as string).split('/')[0] as string;
    const before = await routesOf(1);
    assert.ok(before.includes('198.19.63.0/25 via 198.19.60.1'), before.join('\n'));
    assert.ok(before.includes('198.19.63.200 via 198.19.60.2'), before.join('\n'));

    await server.stop();
    await waitFor('expiry', expired('r1'), 30_000, 200);
    // While re-acquiring, each DISCOVER brings eth1 up for its reply window: look at routes only while it is down.
    await waitFor(
      'eth1 held down, the routes through it gone',
      async () => !(await linkUp(1)) && (await routesOf(1)).length === 0,
      10_000,
      100,
    );
    // The address stays on the down link (IPv4).
    assert.match(
      await topo.exec(topo.podNs(1), 'ip', ['-4', 'addr', 'show', 'dev', 'eth1']),
      new RegExp(`inet ${leased.replace(/\./g, '\\.')}/`),
    );

    await server.restart();
    await waitFor(
      'the lease back, eth1 up and its routes restored',
      async () => {
        const lease = await leaseOf('r1');
        return (
          lease?.state === 'BOUND' &&
          lease.address === leased &&
          (await linkUp(1)) &&
          (await routesOf(1)).length === before.length
        );
      },
      30_000,
      200,
    );
    assert.deepEqual(await routesOf(1), before);
    const del = await cniMacvlan(topo, {
      command: 'DEL',
      containerId: 'r1',
      podIndex: 1,
      config: macvlanConfig(topo, daemon, ipam),
    });
    assert.equal(del.code, 0, del.stdout + del.stderr);
  });

  test('another address after expiry: link stays down, the lease view has changedTo, CHECK says what changed', async () => {
    const config = macvlanConfig(topo, daemon, { onChange: 'hold-link-down' });
    const out = await cniMacvlan(topo, { command: 'ADD', containerId: 'r2', podIndex: 2, config });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const leased = (out.json?.ips?.[0]?.address as string).split('/')[0] as string;
    await server.stop();
    await waitFor('expiry', expired('r2'), 30_000, 200);
    // A new server with another pool and an empty lease store: it cannot give the old address back.
    server = await startKea(topo, { ...SHORT, range: ['198.19.61.100', '198.19.61.120'] });
    await waitFor(
      'a lease on another address',
      async () => (await leaseOf('r2'))?.changedTo !== undefined,
      30_000,
      200,
    );
    const lease = await leaseOf('r2');
    assert.equal(lease?.address, leased, 'address: what the pod still has');
    assert.ok(lease?.changedTo?.startsWith('198.19.61.1'), `changedTo ${lease?.changedTo}`);
    assert.equal(await linkUp(2), false, 'the link is held down');

    const check = await cniMacvlan(topo, {
      command: 'CHECK',
      containerId: 'r2',
      podIndex: 2,
      config: { ...config, prevResult: out.json },
    });
    assert.equal(check.code, 1, check.stdout + check.stderr);
    assert.equal(check.json?.code, 101, check.stdout);
    assert.equal(
      check.json?.msg,
      `lease for r2/lan/eth1 changed from ${leased} to ${lease?.changedTo} after it expired; the pod's interface still has ${leased} (held down): re-create the attachment`,
    );
  });
});
