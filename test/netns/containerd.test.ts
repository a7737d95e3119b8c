// A real container runtime drives ts-dhcp: containerd 1.6 (Debian 12) with `ctr run --cni`, which runs the CNI
// plugins itself (go-cni: the first config list in /etc/cni/net.d, plugins from /opt/cni/bin — here this test's own
// dirs, bound over those paths in ctr's private mount namespace). The netns it hands over is /proc/<task pid>/ns/net;
// when the task has exited, ctr sends DEL with no netns at all: the daemon releases the lease from the host side.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { messageType, serverId } from '../../daemon/dhcp/options';
import { MessageType } from '../../daemon/dhcp/types';
import {
  Topology,
  createTopology,
  dhcpOf,
  startCapture,
  startDnsmasq,
  startTsDaemon,
  waitFor,
  type DhcpServer,
  type TsDaemon,
} from './lib';
import { exited, hasExited } from './lib/proc';
import { SLEEPER, busyboxRootfs, macvlanConflist, startContainerd, type Containerd } from './lib/runtimes';

describe('ctr run --cni with macvlan+ts-dhcp', () => {
  let topo: Topology;
  let dnsmasq: DhcpServer;
  let daemon: TsDaemon;
  let containerd: Containerd;
  let nodeIp: string;

  before(async () => {
    topo = await createTopology({ prefix: 'tsc-', lanCidr: '198.19.68.1/22' });
    // A real node's NIC has an address on the LAN: the host-side RELEASE leaves from there.
    nodeIp = topo.lanAddress(2);
    await topo.exec(topo.nodeNs, 'ip', ['addr', 'add', `${nodeIp}/22`, 'dev', topo.nodeNic]);
    dnsmasq = await startDnsmasq(topo, {
      range: ['198.19.69.10', '198.19.69.200'],
      leaseTime: 600,
      routers: ['198.19.68.254'],
    });
    daemon = await startTsDaemon(topo);
    containerd = await startContainerd(
      topo,
      macvlanConflist(topo, 'lan', {
        daemonSocketPath: daemon.socketPath,
        stateDir: daemon.stateDir,
        defaultRoute: false,
      }),
    );
  });
  after(async () => {
    await containerd?.destroy();
    await topo.destroy();
  });

  test('eth0 gets its lease in /proc/<pid>/ns/net; ping across the LAN; after the task exits, DEL without a netns releases from the host', async () => {
    const rootfs = busyboxRootfs(topo.tempDir('rootfs'));
    const ctrLog = path.join(containerd.dir, 'ctr.log');
    // SLEEPER ends on SIGTERM.
    const ctr = containerd.runCni('web', rootfs, SLEEPER, ctrLog);
    const log = () => fs.readFileSync(ctrLog, 'utf8');

    const lease = await waitFor(
      'the lease',
      async () => {
        if (hasExited(ctr)) throw new Error(`ctr exited (${ctr.exitCode}): ${log()}`);
        const [l] = await daemon.rpc('leases', {});
        return l?.state === 'BOUND' ? l : undefined;
      },
      30_000,
      100,
    );
    // go-cni names the first network's interface eth0 and the attachment <namespace>-<container id>.
    assert.equal(lease.containerId, 'ts-dhcp-test-web');
    assert.equal(lease.ifName, 'eth0');
    const m = /^\/proc\/(\d+)\/ns\/net$/.exec(lease.netns);
    assert.ok(m, `containerd's netns path: ${lease.netns}`);
    const taskPid = Number(m[1]);
    const address = lease.address as string;
    assert.deepEqual(
      dnsmasq.leases().map((l) => l.ip),
      [address],
    );

    // In the task's netns: the address on eth0, no default route (defaultRoute: false); the LAN reaches it.
    const inTask = (...args: string[]) => topo.exec(topo.nodeNs, 'nsenter', [`--net=/proc/${taskPid}/ns/net`, ...args]);
    assert.match(
      await inTask('ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'),
      new RegExp(`inet ${address.replace(/\./g, '\\.')}/22 `),
    );
    assert.doesNotMatch(await inTask('ip', '-4', 'route'), /default/);
    await topo.exec(topo.lanNs, 'ping', ['-c', '1', '-W', '2', address]);
    await inTask('ping', '-c', '1', '-W', '2', topo.serverIp);

    // The task exits; ctr deletes it (its netns goes with it), then sends DEL with CNI_NETNS empty. The netns exists
    // from task create, before ctr starts the task: a SIGTERM to ctr itself before then kills ctr (it forwards
    // signals only once the task runs), and one to the task before SLEEPER's trap is set is ignored by a PID 1. So:
    // wait for SLEEPER's sleep (spawned after the trap), then stop the task through containerd.
    await waitFor(
      'the task to run its sleep',
      async () => taskPids(await containerd.ctr(['task', 'ps', 'web'])) >= 2,
      10_000,
      50,
    );
    const capture = await startCapture(topo, topo.lanNs, topo.lanPort);
    await containerd.ctr(['task', 'kill', '--signal', 'SIGTERM', 'web']);
    await exited(ctr);
    assert.equal(ctr.exitCode, 0, log());
    await waitFor('dnsmasq to drop the lease', () => dnsmasq.leases().length === 0, 5000);
    const release = (await capture.stop()).flatMap((p) => {
      const msg = dhcpOf(p);
      return msg && messageType(msg) === MessageType.RELEASE ? [{ p, msg }] : [];
    });
    assert.equal(release.length, 1, 'one RELEASE');
    const r = release[0] as (typeof release)[number];
    assert.equal(r.msg.ciaddr, address);
    assert.equal(serverId(r.msg), topo.serverIp);
    assert.equal(r.p.ipSrc, nodeIp, "sent from the node (the task's netns was gone)");
    assert.deepEqual(await daemon.rpc('leases', {}), []);
    assert.ok(
      daemon.logs().some((l) => typeof l.hostRelease === 'string' && JSON.stringify(l).includes('ts-dhcp-test-web')),
      'the daemon logged the host-side release',
    );
  });
});

/** How many processes `ctr task ps` lists (a header line, then one line per PID). */
function taskPids(ps: string): number {
  return ps.split('\n').filter((l) => /^\s*\d+\s/.test(l)).length;
}
