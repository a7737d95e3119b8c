// The scenario end to end (issue 2): ts-dhcp daemon + the real macvlan plugin + real DHCP servers, pods in
// namespaces with their own default route on eth0.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { messageType, requestedIp, serverId } from '../../daemon/dhcp/options';
import { DhcpMessage, MessageType } from '../../daemon/dhcp/types';
import {
  Topology,
  cniIpam,
  cniMacvlan,
  createTopology,
  macvlanConfig,
  startCapture,
  startDnsmasq,
  startKea,
  startTsDaemon,
  waitFor,
  type CniJson,
  type DhcpServer,
  type TsDaemon,
  dhcpOf,
} from './lib';

function podArgs(n: number): string {
  return `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-${n}`;
}

describe('pods on the LAN through macvlan, addressed by dnsmasq', () => {
  let topo: Topology;
  let dnsmasq: DhcpServer;
  let daemon: TsDaemon;
  const PODS = [1, 2, 3];

  before(async () => {
    topo = await createTopology({ prefix: 'tss-', lanCidr: '198.19.4.1/22', pods: PODS.length });
    dnsmasq = await startDnsmasq(topo, {
      range: ['198.19.5.10', '198.19.5.200'],
      leaseTime: 600,
      routers: ['198.19.4.254'],
      dns: ['198.19.4.1', '198.19.4.2'],
      domainName: 'home.lan',
      domainSearch: ['home.lan', 'lan'],
    });
    daemon = await startTsDaemon(topo);
  });
  after(() => topo.destroy());

  test('ADD gives each pod its own address on eth1, reachable from the LAN; DHCP leaves eth1 from 0.0.0.0', async () => {
    const capture = await startCapture(topo, topo.lanNs, topo.lanPort);
    const results: (CniJson | undefined)[] = [];
    for (const n of PODS) {
      const out = await cniMacvlan(topo, {
        command: 'ADD',
        containerId: `c${n}`,
        podIndex: n,
        config: macvlanConfig(topo, daemon),
        args: podArgs(n),
      });
      assert.equal(out.code, 0, out.stdout + out.stderr);
      results.push(out.json);
    }
    const packets = await capture.stop();
    const addresses = results.map((r) => r?.ips?.[0]?.address);
    assert.equal(new Set(addresses).size, PODS.length, `distinct addresses: ${addresses.join(', ')}`);

    const eth1Macs = new Map<string, string>();
    for (const [i, n] of PODS.entries()) {
      const r = results[i];
      const cidr = r?.ips?.[0]?.address as string;
      assert.match(cidr, /^198\.19\.5\.\d+\/22$/);
      assert.equal(r?.ips?.[0]?.gateway, '198.19.4.254');
      assert.deepEqual(r?.routes, [{ dst: '0.0.0.0/0', gw: '198.19.4.254' }]);
      const shown = JSON.parse(await topo.exec(topo.podNs(n), 'ip', ['-j', '-4', 'addr', 'show', 'dev', 'eth1'])) as {
        addr_info: { local: string; prefixlen: number }[];
      }[];
      assert.deepEqual(
        shown[0]?.addr_info.map((a) => `${a.local}/${a.prefixlen}`),
        [cidr],
      );
      eth1Macs.set(r?.interfaces?.[0]?.mac as string, cidr);
      await topo.exec(topo.lanNs, 'ping', ['-c', '1', '-W', '2', cidr.split('/')[0] as string]);
    }

    // Every DISCOVER/REQUEST came from a pod's eth1 (its macvlan MAC, not eth0's) with IP source 0.0.0.0.
    const requests = packets.filter((p) => p.dstPort === 67);
    const kinds = requests.map((p) => messageType(dhcpOf(p) as DhcpMessage));
    assert.ok(kinds.includes(MessageType.DISCOVER) && kinds.includes(MessageType.REQUEST), `saw ${kinds}`);
    for (const p of requests) {
      assert.equal(p.ipSrc, '0.0.0.0');
      assert.equal(p.ipDst, '255.255.255.255');
      assert.ok(eth1Macs.has(p.ethSrc), `frame from ${p.ethSrc}, not an eth1 (${[...eth1Macs.keys()].join(' ')})`);
    }
    // dnsmasq holds the three leases.
    assert.deepEqual(
      dnsmasq
        .leases()
        .map((l) => l.ip)
        .sort(),
      addresses.map((a) => (a as string).split('/')[0]).sort(),
    );
  });

  test('the IPAM result carries what dnsmasq hands out: prefix, gateway, routes and DNS', async () => {
    // The macvlan plugin replaces the IPAM result's dns with its own config's; ask the IPAM plugin itself.
    const out = await cniIpam(topo, {
      command: 'ADD',
      containerId: 'c1',
      podIndex: 1,
      config: macvlanConfig(topo, daemon),
      args: podArgs(1),
    });
    assert.equal(out.code, 0, out.stdout);
    assert.deepEqual(out.json?.dns, {
      nameservers: ['198.19.4.1', '198.19.4.2'],
      domain: 'home.lan',
      search: ['home.lan', 'lan'],
    });
    assert.equal(out.json?.ips?.[0]?.gateway, '198.19.4.254');
    assert.match(out.json?.ips?.[0]?.address as string, /\/22$/);
  });

  test('the daemon lists the leases with pod names', async () => {
    const leases = await daemon.rpc('leases', {});
    assert.equal(leases.length, PODS.length);
    for (const l of leases) {
      assert.equal(l.state, 'BOUND');
      assert.equal(l.serverId, '198.19.4.1');
      assert.match(l.args.K8S_POD_NAME as string, /^web-\d$/);
    }
  });

  test('DEL releases: the lease leaves dnsmasq and the daemon; a second DEL succeeds too', async () => {
    const before = dnsmasq.leases().length;
    const capture = await startCapture(topo, topo.lanNs, topo.lanPort);
    const out = await cniMacvlan(topo, {
      command: 'DEL',
      containerId: 'c2',
      podIndex: 2,
      config: macvlanConfig(topo, daemon),
      args: podArgs(2),
    });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const release = (await capture.stop()).map(dhcpOf).find((m) => m && messageType(m) === MessageType.RELEASE);
    assert.ok(release, 'a RELEASE went out');
    assert.notEqual(release.ciaddr, '0.0.0.0');
    assert.equal(serverId(release), '198.19.4.1');
    await waitFor('dnsmasq to drop the lease', () => dnsmasq.leases().length === before - 1, 5000);
    assert.ok(!dnsmasq.leases().some((l) => l.ip === release.ciaddr));
    const leases = await daemon.rpc('leases', {});
    assert.deepEqual(leases.map((l) => l.containerId).sort(), ['c1', 'c3']);
    const again = await cniMacvlan(topo, {
      command: 'DEL',
      containerId: 'c2',
      podIndex: 2,
      config: macvlanConfig(topo, daemon),
      args: podArgs(2),
    });
    assert.equal(again.code, 0, again.stdout + again.stderr);
  });
});

describe('renewal against Kea with a 20 s lease', () => {
  let topo: Topology;
  let kea: DhcpServer;
  let daemon: TsDaemon;

  before(async () => {
    topo = await createTopology({ prefix: 'tsk-', lanCidr: '198.19.8.1/22', pods: 1 });
    kea = await startKea(topo, {
      range: ['198.19.9.10', '198.19.9.50'],
      leaseTime: 20,
      renewTime: 5,
      rebindTime: 15,
      routers: ['198.19.8.1'],
    });
    daemon = await startTsDaemon(topo);
  });
  after(() => topo.destroy());

  test('RENEW at T1 is a UDP unicast from the leased address to the server, without option 50, and is ACKed', async () => {
    const capture = await startCapture(topo, topo.lanNs, topo.lanPort);
    const out = await cniMacvlan(topo, {
      command: 'ADD',
      containerId: 'k1',
      podIndex: 1,
      config: macvlanConfig(topo, daemon),
    });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const leased = (out.json?.ips?.[0]?.address as string).split('/')[0] as string;
    const renewals = () => daemon.logs().filter((l) => l.msg === 'renewed').length;
    await waitFor('a renewal', () => renewals() >= 1, 12_000, 200);
    const packets = await capture.stop();
    const renew = packets.find((p) => p.dstPort === 67 && p.ipSrc === leased);
    assert.ok(renew, 'a REQUEST from the leased address');
    assert.equal(renew.ipDst, '198.19.8.1', 'unicast to the server');
    const msg = dhcpOf(renew) as DhcpMessage;
    assert.equal(messageType(msg), MessageType.REQUEST);
    assert.equal(msg.ciaddr, leased);
    assert.equal(requestedIp(msg), undefined, 'no option 50 in RENEWING');
    assert.equal(serverId(msg), undefined, 'no option 54 in RENEWING');
    const ack = packets.map(dhcpOf).find((m) => m && messageType(m) === MessageType.ACK && m.xid === msg.xid);
    assert.ok(ack, 'the RENEW was ACKed');
    const [lease] = await daemon.rpc('leases', {});
    assert.equal(lease?.state, 'BOUND');
    assert.equal(lease?.address, leased);
    // Kea appended a record for the renewal.
    assert.ok(kea.leaseHistory().filter((l) => l.ip === leased).length >= 2);
  });
});
