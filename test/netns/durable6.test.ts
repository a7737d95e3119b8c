// A dual-stack lease survives kill -9 of the daemon (issue 16): a pod added through the real macvlan plugin with
// ipam.ipv6 gets its IPv4 lease from kea-dhcp4 and its IPv6 one from kea-dhcp6 (T1 2 s, valid 8 s); the daemon is
// killed, and the next one takes the stored v6 lease over from its record, CONFIRMs it (Kea answers Success), renews
// it with the same address, shows it in the lease view, and releases it on DEL.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LeaseView } from '../../common/rpc';
import { recordName } from '../../daemon/store';
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
import { Kea6, SUBNET, dualStack, nodeIpv6, startKea6 } from './lib/dhcp6';

describe('DHCPv6 lease across kill -9 of the daemon (Kea 2.2, dual-stack through macvlan)', () => {
  let topo: Topology;
  let kea4: DhcpServer;
  let kea6: Kea6;
  let daemon: TsDaemon;

  before(async () => {
    topo = await createTopology({ prefix: 'ts6d-', lanCidr: '198.19.67.1/24' });
    await dualStack(topo);
    kea4 = await startKea(topo, { range: ['198.19.67.10', '198.19.67.200'], leaseTime: 600 });
    kea6 = startKea6(topo);
    await waitFor('Kea (v6) started', () => kea6.started(), 15_000);
  });
  after(async () => {
    await daemon?.stop();
    await kea6.stop();
    await kea4.stop();
    await topo.destroy();
  });

  /** Kea's latest row for the address: [address, duid, valid_lifetime, expire, ...]. */
  const latest = (address: string) =>
    kea6
      .leases()
      .filter((l) => l[0] === address)
      .at(-1);

  test('kill -9, restart: the stored v6 lease is confirmed and renewed with the same address; DEL releases it', async () => {
    const dir = topo.tempDir('d6');
    const socketPath = path.join(dir, 'ts-dhcp.sock');
    const stateDir = path.join(dir, 'state');
    daemon = await startTsDaemon(topo, { socketPath, stateDir });
    const n = await topo.addPod();
    await nodeIpv6(topo);
    // IPv6 on in the pod, as a pod has it (the topology turns it off for its IPv4-only tests).
    await topo.exec(topo.podNs(n), 'sysctl', [
      '-qw',
      'net.ipv6.conf.all.disable_ipv6=0',
      'net.ipv6.conf.default.disable_ipv6=0',
    ]);
    const config = macvlanConfig(topo, daemon, { ipv6: true });
    const add = await cniMacvlan(topo, { command: 'ADD', containerId: 'ds1', podIndex: n, config });
    assert.equal(add.code, 0, add.stdout + add.stderr + fs.readFileSync(daemon.logFile, 'utf8').slice(-3000));
    const ips = (add.json?.ips ?? []).map((i) => String(i.address));
    const v6 = ips.find((a) => a.includes(':'))?.split('/')[0] as string;
    assert.ok(v6?.startsWith(SUBNET), `an IPv6 address in ${JSON.stringify(ips)}`);
    assert.ok(
      ips.some((a) => a.startsWith('198.19.67.')),
      'and an IPv4 one',
    );
    const key = 'ds1/lan/eth1';
    const record6 = path.join(stateDir, 'leases', recordName(key, 'ipv6'));
    await waitFor('the v6 record', () => fs.existsSync(record6), 3000);
    await waitFor('Kea holds the v6 lease', () => latest(v6)?.[2] !== undefined && latest(v6)?.[2] !== '0', 3000);

    await daemon.stop('SIGKILL');
    const killedAt = Date.now();
    daemon = await startTsDaemon(topo, { socketPath, stateDir });
    await waitFor(
      'the v6 lease confirmed',
      () => daemon.logs().some((l) => l.msg === 'DHCPv6 lease confirmed' && l.address === v6),
      5000,
      100,
    );
    const resumed = daemon.logs().find((l) => l.msg === 'resuming stored lease' && l.family === 'ipv6');
    assert.equal(resumed?.state, 'CONFIRMING');
    assert.equal(resumed?.address, v6);
    // Renewed after the restart (T1 2 s after the grant): Kea writes the lease again with a later expiry.
    const rowsBefore = kea6.leases().filter((l) => l[0] === v6).length;
    await waitFor(
      'the v6 lease renewed',
      () => daemon.logs().some((l) => l.msg === 'renewed' && l.family === 'ipv6'),
      8000,
      100,
    );
    await waitFor(
      'Kea to extend the v6 lease',
      () => kea6.leases().filter((l) => l[0] === v6).length > rowsBefore,
      3000,
    );
    const renewedUntil = Number(latest(v6)?.[3]) * 1000;
    assert.ok(renewedUntil > killedAt + 6000, 'a later expiry');
    const rows = (await daemon.rpc('leases', {})) as LeaseView[];
    const row6 = rows.find((r) => r.family === 'ipv6' && r.containerId === 'ds1');
    assert.equal(row6?.address, v6);
    assert.match(String(row6?.state), /^(BOUND|RENEWING)$/);
    assert.ok(Date.parse(String(row6?.expiresAt)) >= renewedUntil - 2000, 'the view shows the renewed lease');
    assert.ok(
      rows.some((r) => r.family === 'ipv4' && r.containerId === 'ds1'),
      'the IPv4 lease came back too',
    );
    assert.ok(!daemon.logs().some((l) => l.msg === 'corrupt lease record set aside'), 'no record set aside');

    const del = await cniMacvlan(topo, { command: 'DEL', containerId: 'ds1', podIndex: n, config });
    assert.equal(del.code, 0, del.stdout + del.stderr);
    await waitFor('Kea to free the v6 lease', () => latest(v6)?.[2] === '0', 5000, 100).catch((err: Error) => {
      const mine = fs
        .readFileSync(daemon.logFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"family":6'));
      throw new Error(
        `${err.message}\n${kea6.log().slice(-2500)}\n${mine.slice(-12).join('\n')}\n${JSON.stringify(kea6.leases().slice(-4))}`,
      );
    });
    await waitFor('the v6 record removed', () => !fs.existsSync(record6), 3000);
  });
});
