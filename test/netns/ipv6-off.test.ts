// ipam.ipv6 in a pod whose IPv6 is off, through the real macvlan plugin against dnsmasq 2.90 (both families, RAs).
// disable_ipv6 (all, default, the interface) is the pod's starting state, not a refusal: the daemon turns IPv6 on for
// the pod interface alone, as the reference plugins' ConfigureIface does for an IPv6 result. What no sysctl write of
// the daemon changes fails ADD at once with code 7 naming it, before anything is acquired: addr_gen_mode none (no
// link-local address, which DHCPv6 sends from) and a link whose MTU is below 1280 (the kernel keeps no IPv6 on it).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { LeaseView } from '../../common/rpc';
import { SUBNET, dualStackDnsmasq, nodeIpv6 } from './lib/dhcp6';
import {
  Topology,
  cniMacvlan,
  createTopology,
  macvlanConfig,
  startTsDaemon,
  type DhcpServer,
  type TsDaemon,
} from './lib';

describe('ipam.ipv6 with IPv6 off in the pod (dnsmasq 2.90, both families, RAs)', () => {
  let topo: Topology;
  let dnsmasq: DhcpServer;
  let daemon: TsDaemon;

  before(async () => {
    topo = await createTopology({ prefix: 'tso6-', lanCidr: '198.19.70.1/24' });
    dnsmasq = await dualStackDnsmasq(topo, ['198.19.70.10', '198.19.70.50']);
    daemon = await startTsDaemon(topo);
  });
  after(async () => {
    await daemon?.stop();
    await dnsmasq?.stop();
    await topo?.destroy();
  });

  /** A pod as the topology makes it: all.disable_ipv6 and default.disable_ipv6 1, with `sysctls` on top. */
  async function pod(sysctls: string[] = []): Promise<number> {
    const n = await topo.addPod();
    if (sysctls.length > 0) await topo.exec(topo.podNs(n), 'sysctl', ['-qw', ...sysctls]);
    await nodeIpv6(topo);
    return n;
  }
  const sysctl = async (n: number, name: string) => (await topo.exec(topo.podNs(n), 'sysctl', ['-n', name])).trim();

  /** ADD fails with code 7 at once, saying why; the daemon holds no lease of either family for it. */
  async function refused(n: number, containerId: string, config: object, why: RegExp): Promise<void> {
    const leasesBefore = fs.readFileSync(dnsmasq.leaseFile, 'utf8');
    const add = await cniMacvlan(topo, { command: 'ADD', containerId, podIndex: n, config });
    assert.equal(add.json?.code, 7, add.stdout + add.stderr);
    assert.match(add.json?.msg ?? '', new RegExp(`^ipam\\.ipv6: no DHCPv6 on eth1 in ${topo.netnsPath(n)}: `));
    assert.match(add.json?.msg ?? '', why);
    assert.ok(add.durationMs < 3000, `answered in ${add.durationMs} ms, not at the deadline`);
    const rows = (await daemon.rpc('leases', {})) as LeaseView[];
    assert.deepEqual(
      rows.filter((r) => r.containerId === containerId),
      [],
      'no lease kept',
    );
    assert.equal(fs.readFileSync(dnsmasq.leaseFile, 'utf8'), leasesBefore, 'nothing acquired from dnsmasq');
    assert.equal((await cniMacvlan(topo, { command: 'DEL', containerId, podIndex: n, config })).code, 0);
  }

  test('all.disable_ipv6=1: IPv6 turned on for the pod interface alone, ADD answers with both families', async () => {
    const n = await pod();
    assert.equal(await sysctl(n, 'net.ipv6.conf.all.disable_ipv6'), '1');
    assert.equal(await sysctl(n, 'net.ipv6.conf.default.disable_ipv6'), '1', 'eth1 is created with IPv6 off');
    const config = macvlanConfig(topo, daemon, { ipv6: true, timeout: '20s' });
    const add = await cniMacvlan(topo, { command: 'ADD', containerId: 'off1', podIndex: n, config });
    assert.equal(add.code, 0, add.stdout + add.stderr);
    assert.match(add.json?.ips?.[1]?.address ?? '', new RegExp(`^${SUBNET}[0-9a-f]+/64$`));
    assert.equal(await sysctl(n, 'net.ipv6.conf.eth1.disable_ipv6'), '0');
    assert.equal(await sysctl(n, 'net.ipv6.conf.all.disable_ipv6'), '1', 'the rest of the pod left as it was');
    assert.equal((await cniMacvlan(topo, { command: 'DEL', containerId: 'off1', podIndex: n, config })).code, 0);
  });

  test('addr_gen_mode none: code 7 naming it, no IPv4 lease either', async () => {
    const n = await pod(['net.ipv6.conf.default.addr_gen_mode=1']);
    const config = macvlanConfig(topo, daemon, { ipv6: true, timeout: '5s' });
    await refused(n, 'off2', config, /addr_gen_mode 1 \(none\): the kernel makes no link-local address/);
  });

  test('a pod link with MTU 1200: code 7 saying the kernel keeps no IPv6 below 1280, no IPv4 lease either', async () => {
    const n = await pod();
    const config = { ...macvlanConfig(topo, daemon, { ipv6: true, timeout: '5s' }), mtu: 1200 };
    await refused(
      n,
      'off3',
      config,
      /the interface has no IPv6 \(the kernel keeps none on a link whose MTU is below 1280\)/,
    );
  });
});
