// Proves the test-network library end to end with the reference stack: real namespaces, dnsmasq / Kea / ISC dhcpd,
// the Go `dhcp daemon` as IPAM and the real macvlan plugin. Namespaces: tsr-*; LAN 198.19.0.0/22.
import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { decode } from '../../daemon/dhcp/codec';
import {
  classlessRoutes,
  dnsServers,
  domainName,
  domainSearch,
  leaseTimeS,
  messageType,
  renewalTimeS,
  routers,
} from '../../daemon/dhcp/options';
import { DhcpMessage, MessageType } from '../../daemon/dhcp/types';
import {
  createTopology,
  nsTag,
  pluginDir,
  REFERENCE_DHCP,
  runCni,
  startCapture,
  startDhcpd,
  startDnsmasq,
  startKea,
  startReferenceDaemon,
  waitFor,
  withTopology,
  type CniOutcome,
  type DhcpServer,
  type Packet,
  type ReferenceDaemon,
  type ServerOptions,
  type Topology,
} from './lib';

const PREFIX = 'tsr-';
const LAN = '198.19.0.1/22';

const OPTIONS = {
  routers: ['198.19.0.1'],
  dns: ['198.19.0.53', '198.19.0.54'],
  domainName: 'lan.test',
  domainSearch: ['lan.test', 'corp.test'],
  classlessRoutes: [
    { dst: '10.0.0.0/8', gw: '198.19.0.254' },
    { dst: '0.0.0.0/0', gw: '198.19.0.1' },
  ],
};

function netConfig(ref: ReferenceDaemon): object {
  // The reference plugin requests only a few options by default; ask for the ones the servers are given (it takes
  // option codes here, not names).
  const request = [6, 15, 58, 119, 121].map((code) => ({ option: String(code) }));
  return {
    cniVersion: '1.0.0',
    name: 'lan',
    type: 'macvlan',
    master: 'eno1',
    mode: 'bridge',
    ipam: { ...ref.ipam, request },
  };
}

function assertOk(out: CniOutcome, what: string): void {
  assert.equal(out.code, 0, `${what}: exit ${out.code}\nstdout: ${out.stdout}\nstderr: ${out.stderr}`);
}

function addressOf(out: CniOutcome): string {
  const cidr = out.json?.ips?.[0]?.address;
  assert.ok(cidr, `no address in ${out.stdout}`);
  return cidr.split('/')[0] as string;
}

/** The reference plugin's client identifier: type 0, then "<containerID>/<network name>/<ifName>". */
function referenceClientId(containerId: string): string {
  const bytes = Buffer.concat([Buffer.from([0]), Buffer.from(`${containerId}/lan/eth1`)]);
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

function inRange(ip: string, [first, last]: [string, string]): boolean {
  const n = (s: string): number => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);
  return n(ip) >= n(first) && n(ip) <= n(last);
}

function dhcpMessages(packets: Packet[]): DhcpMessage[] {
  return packets.flatMap((p) => {
    if (!p.dhcp) return [];
    const d = decode(p.dhcp);
    return d.ok ? [d.value] : [];
  });
}

/** Checks that the server's ACK carried every option the library configured. */
function assertAckOptions(acks: DhcpMessage[], leaseTime?: number): void {
  const ack = acks[acks.length - 1];
  assert.ok(ack, 'no ACK captured');
  assert.deepEqual(routers(ack), OPTIONS.routers);
  assert.deepEqual(dnsServers(ack), OPTIONS.dns);
  assert.equal(domainName(ack), OPTIONS.domainName);
  assert.deepEqual(domainSearch(ack), OPTIONS.domainSearch);
  assert.deepEqual(classlessRoutes(ack), OPTIONS.classlessRoutes);
  if (leaseTime !== undefined) {
    assert.equal(leaseTimeS(ack), leaseTime);
    assert.equal(renewalTimeS(ack), 10);
  }
}

describe('topology', { timeout: 30_000 }, () => {
  test('pods get eth0 on the pod network with a default route, and no IPv6', async (t) => {
    const topo = await withTopology(t, { prefix: 'tsr-t-', lanCidr: LAN, pods: 2 });
    assert.deepEqual(topo.pods, [1, 2]);
    const addr = await topo.exec(topo.podNs(2), 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    assert.match(addr, new RegExp(`inet ${topo.podAddress(2).replace(/\./g, '\\.')}/`));
    const route = await topo.exec(topo.podNs(2), 'ip', ['route', 'show', 'default']);
    assert.match(route, new RegExp(`default via ${topo.podGateway} dev eth0`));
    for (const ns of [topo.lanNs, topo.nodeNs, topo.podNs(1)]) {
      assert.equal((await topo.exec(ns, 'sysctl', ['-n', 'net.ipv6.conf.all.disable_ipv6'])).trim(), '1', ns);
    }
    await topo.exec(topo.podNs(1), 'ping', ['-c1', '-W2', topo.podAddress(2)]);
    assert.ok(fs.existsSync(topo.netnsPath(1)));

    const [p3, p4] = await topo.addPods(2);
    assert.deepEqual([p3, p4], [3, 4]);
    await topo.removePod(1);
    assert.deepEqual(topo.pods, [2, 3, 4]);
    assert.ok(!fs.existsSync(topo.netnsPath(1)));
    await assert.rejects(topo.exec(topo.nodeNs, 'ip', ['link', 'show', 'p1']));
  });

  test('destroy kills what the topology started and removes every namespace; idempotent', async () => {
    const topo = await createTopology({ prefix: 'tsr-d-', lanCidr: LAN, pods: 1 });
    const child = topo.spawn(topo.lanNs, 'sleep', ['600']);
    await Promise.all([topo.destroy(), topo.destroy()]);
    assert.notEqual(child.exitCode ?? child.signalCode, null);
    assert.deepEqual(
      fs.readdirSync('/var/run/netns').filter((n) => n.startsWith('tsr-d-')),
      [],
    );
    await topo.destroy();
  });

  test('leftovers of a crashed run with the same prefix are swept at creation', async (t) => {
    // The name as the topology spells it (TS_TEST_NS_TAG first): an untagged one would survive the tagged sweep.
    const name = `${nsTag()}tsr-c-pod7`;
    execFileSync('ip', ['netns', 'add', name]);
    const orphan = spawn('ip', ['netns', 'exec', name, 'sleep', '600'], { stdio: 'ignore' });
    t.after(() => orphan.kill('SIGKILL'));
    const nsInode = `net:[${fs.statSync(`/var/run/netns/${name}`).ino}]`;
    const inNs = (): boolean => {
      try {
        return fs.readlinkSync(`/proc/${orphan.pid}/ns/net`) === nsInode;
      } catch {
        return false;
      }
    };
    await waitFor(`orphan inside ${name}`, inNs, 5000);
    const gone = new Promise((resolve) => orphan.once('exit', resolve));
    const topo = await withTopology(t, { prefix: 'tsr-c-', lanCidr: LAN });
    await gone;
    assert.ok(!fs.existsSync(`/var/run/netns/${name}`));
    assert.deepEqual(topo.pods, []);
  });

  test('the pod network is derived disjoint from the LAN, and overlaps are refused', async () => {
    await assert.rejects(createTopology({ prefix: 'tsr-o-', lanCidr: LAN, podCidr: '198.19.1.1/24' }), /overlaps/);
    await assert.rejects(createTopology({ prefix: 'tsr-o-', lanCidr: '10.1.0.1/24' }), /pass podCidr/);
  });
});

describe('reference plugin through the library', { timeout: 120_000 }, () => {
  let topo: Topology;
  let ref: ReferenceDaemon;
  before(async () => {
    topo = await createTopology({ prefix: PREFIX, lanCidr: LAN, pods: 2 });
    ref = await startReferenceDaemon(topo);
  });
  after(() => topo.destroy());

  async function add(pod: number, containerId: string, cniPath?: string[]): Promise<CniOutcome> {
    const out = await runCni(topo, { command: 'ADD', containerId, podIndex: pod, config: netConfig(ref), cniPath });
    assertOk(out, `ADD pod ${pod}\n${ref.log()}`);
    return out;
  }

  async function del(pod: number, containerId: string): Promise<void> {
    assertOk(await runCni(topo, { command: 'DEL', containerId, podIndex: pod, config: netConfig(ref) }), 'DEL');
  }

  /** One ADD through `server`, with a capture; checks the lease store and the ACK's options; then DEL. */
  async function oneLease(server: DhcpServer, range: [string, string], leaseTime: number): Promise<string> {
    const cap = await startCapture(topo, topo.lanNs, topo.lanPort);
    const containerId = `tsr-${server.kind}`;
    // The IPAM plugin is found through a bin dir made by pluginDir, as a test of ts-dhcp will do.
    const out = await add(1, containerId, [pluginDir({ dhcp: REFERENCE_DHCP })]);
    const ip = addressOf(out);
    assert.ok(inRange(ip, range), `${ip} outside ${range}`);
    const lease = await waitFor(`${server.kind} lease for ${ip}`, () => server.leases().find((l) => l.ip === ip), 5000);
    assert.equal(lease.mac, out.json?.interfaces?.find((i) => i.name === 'eth1')?.mac);
    assert.equal(lease.clientId, referenceClientId(containerId));
    const nowS = Date.now() / 1000;
    assert.ok(lease.expiresAtS > nowS && lease.expiresAtS <= nowS + leaseTime + 2, `expiry ${lease.expiresAtS}`);
    const acks = dhcpMessages(await cap.stop()).filter((m) => messageType(m) === MessageType.ACK);
    assertAckOptions(acks, leaseTime);
    return ip;
  }

  test('dnsmasq: two pods get distinct addresses on eth1, reachable from the LAN; DEL releases', async (t) => {
    const range: [string, string] = [topo.lanAddress(100), topo.lanAddress(199)];
    const server = await startDnsmasq(topo, { range, ...OPTIONS });
    t.after(() => server.stop());
    const cap = await startCapture(topo, topo.lanNs, topo.lanPort);
    const outs = await Promise.all([add(1, 'tsr-c1'), add(2, 'tsr-c2')]);
    const ips = outs.map(addressOf);
    assert.notEqual(ips[0], ips[1]);
    for (const [i, ip] of ips.entries()) {
      assert.ok(inRange(ip, range), `${ip} outside ${range}`);
      const pod = i + 1;
      const eth1 = await topo.exec(topo.podNs(pod), 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth1']);
      assert.match(eth1, new RegExp(`inet ${ip.replace(/\./g, '\\.')}/${topo.lanPrefixLength}`));
      const eth0 = await topo.exec(topo.podNs(pod), 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']);
      assert.match(eth0, new RegExp(`inet ${topo.podAddress(pod).replace(/\./g, '\\.')}/`));
      await topo.exec(topo.lanNs, 'ping', ['-c1', '-W2', ip]);
      const v6off = await topo.exec(topo.podNs(pod), 'sysctl', ['-n', 'net.ipv6.conf.eth1.disable_ipv6']);
      assert.equal(v6off.trim(), '1', 'IPv6 on the macvlan');
    }
    const leased = await waitFor(
      'both dnsmasq leases',
      () => {
        const l = server.leases();
        return ips.every((ip) => l.some((x) => x.ip === ip)) && l;
      },
      5000,
    );
    const macs = outs.map((o) => o.json?.interfaces?.find((i) => i.name === 'eth1')?.mac);
    assert.deepEqual(
      ips.map((ip) => leased.find((l) => l.ip === ip)?.mac),
      macs,
    );
    assert.deepEqual(
      ips.map((ip) => leased.find((l) => l.ip === ip)?.clientId),
      ['tsr-c1', 'tsr-c2'].map(referenceClientId),
    );

    const packets = await cap.stop();
    const fromClients = packets.filter((p) => p.dhcp && p.srcPort === 68 && p.dstPort === 67);
    const fromServer = packets.filter((p) => p.dhcp && p.ipSrc === topo.serverIp && p.srcPort === 67);
    for (const mac of macs)
      assert.ok(
        fromClients.some((p) => p.ethSrc === mac),
        `no DHCP from ${mac}`,
      );
    assert.ok(fromServer.length >= 4, `${fromServer.length} server replies`);
    const msgs = dhcpMessages(packets);
    for (const type of [MessageType.DISCOVER, MessageType.OFFER, MessageType.REQUEST, MessageType.ACK]) {
      assert.ok(
        msgs.some((m) => messageType(m) === type),
        `no message type ${type}`,
      );
    }
    assertAckOptions(msgs.filter((m) => messageType(m) === MessageType.ACK));

    await Promise.all([del(1, 'tsr-c1'), del(2, 'tsr-c2')]);
    for (const pod of [1, 2]) {
      await assert.rejects(topo.exec(topo.podNs(pod), 'ip', ['link', 'show', 'eth1']), /does not exist/);
    }
    await waitFor('dnsmasq leases released', () => server.leases().length === 0, 5000);
    await server.stop();
  });

  const short: Partial<ServerOptions> = { leaseTime: 20, renewTime: 10, rebindTime: 17 };

  test('Kea: short lease, memfile rows parsed, renewal appends a row', async (t) => {
    const range: [string, string] = [topo.lanAddress(200), topo.lanAddress(209)];
    const server = await startKea(topo, { range, ...OPTIONS, ...short });
    t.after(() => server.stop());
    const ip = await oneLease(server, range, 20);
    // The reference daemon renews at T1 (10 s); memfile appends a row per renewal.
    await waitFor('a renewal row', () => server.leaseHistory().filter((l) => l.ip === ip).length >= 2, 15_000, 250);
    await del(1, 'tsr-kea');
    await server.stop();
    assert.match(server.log(), /DHCP4_LEASE_ALLOC/);
  });

  test('ISC dhcpd: short lease, leases file parsed', async (t) => {
    const range: [string, string] = [topo.lanAddress(210), topo.lanAddress(219)];
    const server = await startDhcpd(topo, { range, ...OPTIONS, ...short });
    t.after(() => server.stop());
    const ip = await oneLease(server, range, 20);
    await del(1, 'tsr-dhcpd');
    await waitFor('dhcpd lease released', () => !server.leases().some((l) => l.ip === ip), 5000);
    // dhcpd frees a released address at once: its newest record says 'free' (or 'released', by configuration).
    assert.match(
      server
        .leaseHistory()
        .filter((l) => l.ip === ip)
        .pop()?.state ?? '',
      /^(free|released)$/,
    );
    await server.restart();
    assert.match(server.log(), /DHCPRELEASE of/);
    await server.stop();
  });
});
