// A repeated ADD after a daemon restart whose config asks for other families than the stored leases have (a demanding
// CNI user's case: the runtime re-ADDs with the same container id and ifName, the config is what it sends now).
// dnsmasq 2.90 serves both families with router advertisements; the daemon is killed (-9) between steps, so each ADD
// meets leases taken over from their records. The answer always has the families the config asks for: a missing one
// is acquired, one no longer asked for is withdrawn (dnsmasq frees it, its address leaves the pod's interface).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SUBNET, dualStackDnsmasq, nodeIpv6 } from './lib/dhcp6';
import {
  Topology,
  cniIpam,
  cniMacvlan,
  createTopology,
  macvlanConfig,
  startTsDaemon,
  waitFor,
  type DhcpServer,
  type TsDaemon,
} from './lib';

describe('re-ADD after a restart with other families (dnsmasq 2.90, both families, RAs)', () => {
  let topo: Topology;
  let dnsmasq: DhcpServer;
  let daemon: TsDaemon;

  before(async () => {
    topo = await createTopology({ prefix: 'tsr6-', lanCidr: '198.19.69.1/24' });
    dnsmasq = await dualStackDnsmasq(topo, ['198.19.69.10', '198.19.69.50']);
  });
  after(async () => {
    await daemon?.stop();
    await dnsmasq?.stop();
    await topo?.destroy();
  });

  test('v4 restored + ADD with ipv6: both; dual-stack restored + ADD IPv6-only: v4 withdrawn; then v4 again', async () => {
    const dir = topo.tempDir('r6');
    const where = { socketPath: path.join(dir, 'ts-dhcp.sock'), stateDir: path.join(dir, 'state') };
    daemon = await startTsDaemon(topo, where);
    const n = await topo.addPod();
    await nodeIpv6(topo);
    const restart = async (): Promise<void> => {
      await daemon.stop('SIGKILL');
      daemon = await startTsDaemon(topo, where);
      await waitFor(
        'the stored leases resumed',
        () => daemon.logs().some((l) => l.msg === 'resuming stored lease'),
        5000,
      );
    };
    const held = (address: string) => fs.readFileSync(dnsmasq.leaseFile, 'utf8').includes(` ${address} `);
    const onEth1 = async (family: '-4' | '-6') =>
      (await topo.exec(topo.podNs(n), 'ip', [family, '-o', 'addr', 'show', 'dev', 'eth1', 'scope', 'global'])).trim();
    // The ts-dhcp plugin alone, as the runtime re-ADDs: the interface exists.
    const readd = (ipam: Record<string, unknown>) =>
      cniIpam(topo, { command: 'ADD', containerId: 'rc1', podIndex: n, config: macvlanConfig(topo, daemon, ipam) });
    const addresses = (json: { ips?: { address: string }[] } | undefined) => (json?.ips ?? []).map((i) => i.address);

    const config4 = macvlanConfig(topo, daemon, { ipv6: false });
    const first = await cniMacvlan(topo, { command: 'ADD', containerId: 'rc1', podIndex: n, config: config4 });
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const [v4] = addresses(first.json);
    assert.match(v4 ?? '', /^198\.19\.69\.\d+\/24$/);
    await restart();

    // The runtime's config now asks for IPv6 too.
    const both = await readd({ ipv6: true, timeout: '20s' });
    assert.equal(both.code, 0, both.stdout + both.stderr);
    const [again4, v6] = addresses(both.json);
    assert.equal(again4, v4, 'the restored IPv4 lease joined');
    assert.match(v6 ?? '', new RegExp(`^${SUBNET}[0-9a-f]+/64$`), 'and an IPv6 lease acquired');
    const v6Address = (v6 ?? '').split('/')[0] as string;
    await waitFor('dnsmasq holds the v6 lease', () => held(v6Address), 3000);
    // What the main plugin does with the result.
    await topo.exec(topo.podNs(n), 'ip', ['-6', 'addr', 'add', v6 as string, 'dev', 'eth1', 'nodad']);
    await waitFor('the v6 record', () => fs.readdirSync(path.join(where.stateDir, 'leases')).length === 2, 3000);
    await restart();

    const only6 = await readd({ ipv4: false, ipv6: true });
    assert.equal(only6.code, 0, only6.stdout + only6.stderr);
    assert.deepEqual(addresses(only6.json), [v6]);
    const v4Address = (v4 ?? '').split('/')[0] as string;
    await waitFor('dnsmasq freed the withdrawn v4 lease', () => !held(v4Address), 5000);
    assert.equal(await onEth1('-4'), '', 'the withdrawn IPv4 address is off eth1');
    assert.match(await onEth1('-6'), new RegExp(v6Address));
    await restart();

    // The reverse: an IPv6 lease restored alone, the config asks for IPv4 again.
    const back = await readd({ ipv6: true, timeout: '20s' });
    assert.equal(back.code, 0, back.stdout + back.stderr);
    const [new4, same6] = addresses(back.json);
    assert.match(new4 ?? '', /^198\.19\.69\.\d+\/24$/);
    assert.equal(same6, v6, 'the restored IPv6 lease joined');

    const del = await cniMacvlan(topo, { command: 'DEL', containerId: 'rc1', podIndex: n, config: config4 });
    assert.equal(del.code, 0, del.stdout + del.stderr);
    await waitFor('dnsmasq freed both', () => !held(v6Address) && !held((new4 ?? '').split('/')[0] as string), 5000);
  });
});
