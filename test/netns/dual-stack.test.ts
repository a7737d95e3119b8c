// ipam.ipv6 end to end (issue 16): the daemon through the real macvlan plugin against real servers — Kea 2.2
// (kea-dhcp4 beside kea-dhcp6, T1 2 s, T2 4 s, valid 8 s, UNICAST offered) and dnsmasq 2.90 serving both families with
// router advertisements. Dual-stack ADD, the v6 renewal on schedule, REBIND when the server stops answering unicast,
// CHECK, RELEASE on DEL as the server sees it, an IPv6-only network, and no DHCPv6 server on the link.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { SERVER6, SUBNET, dualStack, dualStackDnsmasq, startKea6, type Kea6 } from './lib/dhcp6';
import {
  Topology,
  cniIpam,
  cniMacvlan,
  createTopology,
  macvlanConfig,
  startDnsmasq,
  startKea,
  startTsDaemon,
  waitFor,
  type DhcpServer,
  type TsDaemon,
} from './lib';

const V6 = new RegExp(`^${SUBNET}[0-9a-f]+/(64|128)$`);

/** The pod interface's global IPv6 addresses (`ip -6 addr`), as CIDRs. */
async function podAddresses6(topo: Topology, n: number): Promise<string[]> {
  const out = await topo.exec(topo.podNs(n), 'ip', ['-6', '-o', 'addr', 'show', 'dev', 'eth1', 'scope', 'global']);
  return [...out.matchAll(/inet6 (\S+)/g)].map((m) => m[1] as string);
}

/** Kea's latest row for the address is live (a released lease's row has valid lifetime 0). */
function keaHolds(kea: Kea6, address: string): boolean {
  const row = kea
    .leases()
    .filter((l) => l[0] === address)
    .at(-1);
  return row !== undefined && row[2] !== '0';
}

/** The v6 runner's log lines (its logger carries family ipv6) with this message. */
function v6Logs(daemon: TsDaemon, containerId: string, msg: string): Record<string, unknown>[] {
  return daemon.logs().filter((l) => l.containerId === containerId && l.family === 'ipv6' && l.msg === msg);
}

describe('dual-stack through macvlan, Kea 2.2 (kea-dhcp4 + kea-dhcp6)', () => {
  let topo: Topology;
  let daemon: TsDaemon;
  let kea4: DhcpServer;
  let kea6: Kea6;

  before(async () => {
    topo = await createTopology({ prefix: 'tsd6-k-', lanCidr: '198.19.66.1/24', pods: 2 });
    await dualStack(topo);
    kea4 = await startKea(topo, { range: ['198.19.66.10', '198.19.66.50'] });
    kea6 = startKea6(topo);
    await waitFor('kea-dhcp6 started', () => kea6.started(), 15_000);
    daemon = await startTsDaemon(topo);
  });
  after(async () => {
    await daemon?.stop();
    await kea4?.stop();
    await kea6?.stop();
    await topo?.destroy();
  });

  test('ADD: one result with both families; v6 renewed at T1, REBIND when unicast is dropped; CHECK; DEL releases both', async () => {
    const config = macvlanConfig(topo, daemon, { ipv6: true, timeout: '20s' });
    const add = await cniMacvlan(topo, { command: 'ADD', containerId: 'ds1', podIndex: 1, config });
    assert.equal(add.code, 0, add.stdout + add.stderr);
    const ips = add.json?.ips ?? [];
    assert.equal(ips.length, 2, add.stdout);
    assert.match(ips[0]?.address ?? '', /^198\.19\.66\.\d+\/24$/);
    // No router on this LAN: no on-link prefix, so /128.
    assert.match(ips[1]?.address ?? '', V6);
    assert.ok(ips[1]?.address.endsWith('/128'), ips[1]?.address);
    assert.deepEqual(
      ips.map((ip) => ip.interface),
      [0, 0],
      'macvlan gives each entry its interface index',
    );
    const [v6, len] = (ips[1]?.address ?? '').split('/') as [string, string];
    // The main plugin configured both; the daemon added nothing before it (no EEXIST).
    assert.deepEqual(await podAddresses6(topo, 1), [`${v6}/${len}`]);
    assert.ok(keaHolds(kea6, v6), 'Kea holds the v6 lease');

    // The IPAM result itself (macvlan drops IPAM dns): a repeated ADD joins the bound leases.
    const ipam = await cniIpam(topo, { command: 'ADD', containerId: 'ds1', podIndex: 1, config });
    assert.equal(ipam.code, 0, ipam.stdout);
    assert.deepEqual(ipam.json?.dns?.nameservers, [`${SUBNET}53`]);

    // No RA here gives the pod a route to the LAN's /64: the daemon sends a RENEW it cannot unicast to ff02::1:2.
    // With the on-link route an RA would give, RENEW goes to Kea's UNICAST address.
    await topo.exec(topo.podNs(1), 'ip', ['-6', 'route', 'add', `${SUBNET}/64`, 'dev', 'eth1']);
    // T1 is 2 s: RENEW to Kea's UNICAST address, answered.
    await waitFor('v6 renewed', () => v6Logs(daemon, 'ds1', 'renewed').length > 0, 8000).catch((err: Error) => {
      const lines = daemon.logs().filter((l) => l.containerId === 'ds1' && l.family === 'ipv6');
      throw new Error(`${err.message}; the v6 runner logged: ${JSON.stringify(lines)}`);
    });
    await waitFor('a RENEW unicast', () => v6Logs(daemon, 'ds1', 'sent').some((l) => l.dst === SERVER6), 6000);

    // Unicast to the server dropped: RENEWs go unanswered until T2, then REBIND to ff02::1:2 is answered.
    await topo.exec(topo.lanNs, 'nft', ['add table inet tsd6']);
    await topo.exec(topo.lanNs, 'nft', ['add chain inet tsd6 in { type filter hook input priority 0; }']);
    await topo.exec(topo.lanNs, 'nft', [`add rule inet tsd6 in ip6 daddr ${SERVER6} udp dport 547 drop`]);
    try {
      await waitFor('v6 rebound', () => v6Logs(daemon, 'ds1', 'rebound').length > 0, 10_000);
    } finally {
      await topo.exec(topo.lanNs, 'nft', ['delete table inet tsd6']);
    }

    const check = await cniMacvlan(topo, {
      command: 'CHECK',
      containerId: 'ds1',
      podIndex: 1,
      config: { ...config, prevResult: add.json },
    });
    assert.equal(check.code, 0, check.stdout + check.stderr);

    const del = await cniMacvlan(topo, { command: 'DEL', containerId: 'ds1', podIndex: 1, config });
    assert.equal(del.code, 0, del.stdout);
    await waitFor('Kea released the v6 lease', () => !keaHolds(kea6, v6), 5000);
    const v4 = ips[0]?.address.split('/')[0];
    await waitFor('Kea released the v4 lease', () => kea4.leases().every((l) => l.ip !== v4), 5000);
  });

  test('IPv6-only (ipv4 false): one IPv6 entry, no DHCPv4 exchange', async () => {
    const config = macvlanConfig(topo, daemon, { ipv4: false, ipv6: true });
    const before4 = kea4.leaseHistory().length;
    const add = await cniMacvlan(topo, { command: 'ADD', containerId: 'ds2', podIndex: 2, config });
    assert.equal(add.code, 0, add.stdout + add.stderr);
    assert.equal(add.json?.ips?.length, 1, add.stdout);
    assert.match(add.json?.ips?.[0]?.address ?? '', V6);
    assert.equal(kea4.leaseHistory().length, before4, 'no DHCPv4 lease');
    assert.equal(v6Logs(daemon, 'ds2', 'bound').length, 1);
    assert.equal((await cniMacvlan(topo, { command: 'DEL', containerId: 'ds2', podIndex: 2, config })).code, 0);
  });
});

describe('dual-stack through macvlan, dnsmasq 2.90 with router advertisements', () => {
  let topo: Topology;
  let daemon: TsDaemon;
  let dnsmasq: DhcpServer;

  before(async () => {
    topo = await createTopology({ prefix: 'tsd6-d-', lanCidr: '198.19.67.1/24', pods: 1 });
    dnsmasq = await dualStackDnsmasq(topo, ['198.19.67.10', '198.19.67.50']);
    daemon = await startTsDaemon(topo);
  });
  after(async () => {
    await daemon?.stop();
    await dnsmasq?.stop();
    await topo?.destroy();
  });

  test('ADD: the IPv6 entry has the RA on-link /64; DEL: dnsmasq frees the v6 lease', async () => {
    const config = macvlanConfig(topo, daemon, { ipv6: true, timeout: '20s' });
    const add = await cniMacvlan(topo, { command: 'ADD', containerId: 'dd1', podIndex: 1, config });
    assert.equal(add.code, 0, add.stdout + add.stderr);
    const ips = add.json?.ips ?? [];
    assert.match(ips[0]?.address ?? '', /^198\.19\.67\.\d+\/24$/);
    assert.match(ips[1]?.address ?? '', new RegExp(`^${SUBNET}[0-9a-f]+/64$`));
    const v6 = (ips[1]?.address ?? '').split('/')[0] as string;
    assert.ok((await podAddresses6(topo, 1)).includes(`${v6}/64`));
    await waitFor('dnsmasq holds the v6 lease', () => fs.readFileSync(dnsmasq.leaseFile, 'utf8').includes(v6), 3000);
    assert.equal((await cniMacvlan(topo, { command: 'DEL', containerId: 'dd1', podIndex: 1, config })).code, 0);
    await waitFor('dnsmasq freed the v6 lease', () => !fs.readFileSync(dnsmasq.leaseFile, 'utf8').includes(v6), 5000);
  });
});

describe('no DHCPv6 server on the link (router advertisements for SLAAC only)', () => {
  let topo: Topology;
  let daemon: TsDaemon;
  let dnsmasq: DhcpServer;

  before(async () => {
    topo = await createTopology({ prefix: 'tsd6-n-', lanCidr: '198.19.68.1/24', pods: 1 });
    await dualStack(topo);
    // DHCPv4 and RAs with neither M nor O: addresses by SLAAC, no DHCPv6.
    dnsmasq = await startDnsmasq(topo, {
      range: ['198.19.68.10', '198.19.68.50'],
      extraArgs: ['--enable-ra', `--dhcp-range=${SUBNET},ra-only,64`],
    });
    daemon = await startTsDaemon(topo);
  });
  after(async () => {
    await daemon?.stop();
    await dnsmasq?.stop();
    await topo?.destroy();
  });

  test('ADD fails with code 11 within the deadline, saying what was sent and what the RAs said', async () => {
    const config = macvlanConfig(topo, daemon, { ipv6: true, timeout: '3s' });
    const add = await cniMacvlan(topo, { command: 'ADD', containerId: 'dn1', podIndex: 1, config });
    assert.equal(add.json?.code, 11, add.stdout + add.stderr);
    assert.ok(add.durationMs < 3000 + 4000, `answered in ${add.durationMs} ms`);
    assert.match(add.json?.msg ?? '', /^no lease within 3s: \d+ SOLICITs? on eth1 in \/\S+, no ADVERTISE; /);
    assert.match(
      add.json?.msg ?? '',
      /\d+ router advertisement\(s\) seen, M=0 O=0: no DHCPv6 on this link \(SLAAC only\)/,
    );
  });
});
