// A real container runtime drives ts-dhcp: podman 4.3 (Debian 12) with its CNI network backend and runc runs a
// container on a network config list "macvlan + ts-dhcp"; podman execs macvlan, which execs the ts-dhcp plugin that
// `ts-dhcp install` put into podman's CNI plugin dir. The netns podman hands over is /run/netns/netns-<uuid>.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { messageType } from '../../daemon/dhcp/options';
import { MessageType } from '../../daemon/dhcp/types';
import {
  Topology,
  TS_DHCP_BIN,
  createTopology,
  dhcpOf,
  startCapture,
  startDnsmasq,
  startTsDaemon,
  waitFor,
  type DhcpServer,
  type TsDaemon,
} from './lib';
import { run } from './lib/proc';
import { SLEEPER, importBusybox, macvlanConflist, startPodman, type Podman } from './lib/runtimes';

const IMAGE = 'localhost/ts-dhcp-test/busybox:1';

describe('podman run --network macvlan+ts-dhcp', () => {
  let topo: Topology;
  let dnsmasq: DhcpServer;
  let daemon: TsDaemon;
  let podman: Podman;

  before(async () => {
    topo = await createTopology({ prefix: 'tsp-', lanCidr: '198.19.64.1/22' });
    dnsmasq = await startDnsmasq(topo, {
      range: ['198.19.65.10', '198.19.65.200'],
      leaseTime: 600,
      routers: ['198.19.64.254'],
      dns: ['198.19.64.1'],
    });
    daemon = await startTsDaemon(topo);
    podman = await startPodman(topo);
    // The main plugin's own dns (CNI spec: the plugin config's `dns` key), to see where it goes.
    const conflist = macvlanConflist(topo, 'lan', {
      daemonSocketPath: daemon.socketPath,
      stateDir: daemon.stateDir,
      defaultRoute: false,
    });
    (conflist.plugins as Record<string, unknown>[])[0]!.dns = {
      nameservers: ['198.19.64.53'],
      search: ['static.example'],
    };
    podman.addNetwork(conflist);
    await importBusybox(topo, podman, IMAGE);
  });
  after(async () => {
    await podman?.destroy();
    await topo.destroy();
  });

  test('eth1 gets its address from dnsmasq through ts-dhcp; no default route; ping across the LAN; leases; rm -f releases', async () => {
    const id = (
      await podman.run(['run', '-d', '--name', 'web', '--network', 'lan:interface_name=eth1', IMAGE, ...SLEEPER])
    ).trim();
    const netns = await podman.sandbox('web');
    assert.match(netns, /^\/run\/netns\/netns-[0-9a-f-]+$/, "podman's netns path");

    // The daemon holds the lease for podman's container id, on eth1, in podman's netns.
    const [lease, ...others] = await daemon.rpc('leases', {});
    assert.equal(others.length, 0);
    assert.equal(lease?.containerId, id);
    assert.equal(lease?.ifName, 'eth1');
    assert.equal(lease?.netns, netns);
    assert.equal(lease?.state, 'BOUND');
    const address = lease?.address as string;
    assert.deepEqual(
      dnsmasq.leases().map((l) => l.ip),
      [address],
    );

    // Inside the container: the address on eth1, routes without a default (defaultRoute: false).
    const addr = await podman.run(['exec', 'web', 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth1']);
    assert.match(addr, new RegExp(`inet ${address.replace(/\./g, '\\.')}/22 `));
    const routes = await podman.run(['exec', 'web', 'ip', '-4', 'route']);
    assert.doesNotMatch(routes, /default/, `routes: ${routes}`);
    assert.match(routes, /198\.19\.64\.0\/22 dev eth1/);

    // DNS: podman writes the result's dns into resolv.conf, and that is the macvlan config's own `dns` — macvlan
    // replaces the IPAM result's (dnsmasq's 198.19.64.1, which the daemon's lease does carry).
    const resolv = await podman.run(['exec', 'web', 'cat', '/etc/resolv.conf']);
    assert.match(resolv, /^nameserver 198\.19\.64\.53$/m);
    assert.match(resolv, /^search static\.example$/m);
    assert.doesNotMatch(resolv, /198\.19\.64\.1$/m);
    const detail = await daemon.rpc('lease', { containerId: id, network: 'lan', ifName: 'eth1' });
    assert.deepEqual(detail.facts?.dns.nameservers, ['198.19.64.1']);
    // Across the LAN, both ways.
    await topo.exec(topo.lanNs, 'ping', ['-c', '1', '-W', '2', address]);
    await podman.run(['exec', 'web', 'ping', '-c', '1', '-W', '2', topo.serverIp]);

    // The operator's view names the container as podman does (its CNI_ARGS carry K8S_POD_NAME=<container name>).
    assert.equal(lease?.args.K8S_POD_NAME, 'web');
    const listing = await run(process.execPath, [TS_DHCP_BIN, 'leases', '--socket-path', daemon.socketPath]);
    assert.match(
      listing,
      new RegExp(`^web +lan +eth1 +${address.replace(/\./g, '\\.')}/22 +198\\.19\\.64\\.1 +BOUND`, 'm'),
    );

    // podman rm -f: DEL in the container's netns; dnsmasq hears the RELEASE and drops the lease.
    const capture = await startCapture(topo, topo.lanNs, topo.lanPort);
    await podman.run(['rm', '-f', 'web']);
    const release = (await capture.stop()).map(dhcpOf).find((m) => m && messageType(m) === MessageType.RELEASE);
    assert.ok(release, 'a RELEASE reached the LAN');
    assert.equal(release.ciaddr, address);
    await waitFor('dnsmasq to drop the lease', () => dnsmasq.leases().length === 0, 5000);
    assert.match(dnsmasq.log(), new RegExp(`DHCPRELEASE\\(br0\\) ${address.replace(/\./g, '\\.')}`));
    assert.deepEqual(await daemon.rpc('leases', {}), []);
  });
});
