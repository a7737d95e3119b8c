// DEL returns the lease to the server even when the pod side cannot send the RELEASE (issues 4 and 5):
// - the address was never configured on eth1 (plugin killed mid-ADD, main plugin failing after IPAM): UDP from
//   ciaddr has no route, so the RELEASE goes out through AF_PACKET with IP source ciaddr;
// - the daemon was down at DEL and macvlan removed eth1 since: at the next start the attachment is dead, and the
//   RELEASE goes from the daemon's own netns (the node's eno1 has a LAN address, as on a real node); the same when
//   the pod netns is gone at DEL.
// Against dnsmasq, ISC dhcpd and Kea, one after the other on the same LAN.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { messageType, serverId } from '../../daemon/dhcp/options';
import { DhcpMessage, MessageType } from '../../daemon/dhcp/types';
import {
  Topology,
  cniIpam,
  cniMacvlan,
  createTopology,
  dhcpOf,
  macvlanConfig,
  startCapture,
  startDhcpd,
  startDnsmasq,
  startKea,
  startTsDaemon,
  waitFor,
  type DhcpServer,
  type Packet,
  type TsDaemon,
} from './lib';

function releases(packets: Packet[]): { p: Packet; m: DhcpMessage }[] {
  return packets.flatMap((p) => {
    const m = dhcpOf(p);
    return m && messageType(m) === MessageType.RELEASE ? [{ p, m }] : [];
  });
}

const RANGE: [string, string] = ['198.19.57.10', '198.19.57.200'];
const START = { dnsmasq: startDnsmasq, dhcpd: startDhcpd, kea: startKea };

describe('RELEASE when the pod side cannot send it', () => {
  let topo: Topology;
  let nodeIp: string;

  before(async () => {
    topo = await createTopology({ prefix: 'tsx-', lanCidr: '198.19.56.1/22' });
    // A real node's NIC has an address on the LAN: the daemon's netns reaches the server.
    nodeIp = topo.lanAddress(2);
    await topo.exec(topo.nodeNs, 'ip', ['addr', 'add', `${nodeIp}/22`, 'dev', topo.nodeNic]);
  });
  after(() => topo.destroy());

  async function daemonOn(dir: string): Promise<TsDaemon> {
    const d = await startTsDaemon(topo, {
      socketPath: path.join(dir, 'ts-dhcp.sock'),
      stateDir: path.join(dir, 'state'),
    });
    await waitFor('the daemon to serve', () => d.logs().some((l) => l.msg === 'serving'), 10_000);
    return d;
  }

  for (const kind of ['dnsmasq', 'dhcpd', 'kea'] as const) {
    describe(kind, () => {
      let server: DhcpServer;
      let daemon: TsDaemon;
      let dir: string;

      before(async () => {
        server = await START[kind](topo, { range: RANGE, leaseTime: 600 });
        dir = topo.tempDir(kind);
        daemon = await daemonOn(dir);
      });
      after(async () => {
        await daemon.stop();
        await server.stop();
      });

      test('address never configured on eth1: DEL sends the RELEASE through AF_PACKET from ciaddr and the server frees the lease', async () => {
        const n = await topo.addPod();
        // eth1 as the macvlan plugin creates it before calling IPAM; IPAM alone configures no address.
        const tmp = `mv${n}`;
        await topo.exec(topo.nodeNs, 'ip', [
          'link',
          'add',
          'link',
          topo.nodeNic,
          'name',
          tmp,
          'type',
          'macvlan',
          'mode',
          'bridge',
        ]);
        await topo.exec(topo.nodeNs, 'ip', ['link', 'set', tmp, 'netns', topo.podNs(n)]);
        await topo.exec(topo.podNs(n), 'ip', ['link', 'set', tmp, 'name', 'eth1']);
        const config = macvlanConfig(topo, daemon);
        const out = await cniIpam(topo, { command: 'ADD', containerId: `raw${n}`, podIndex: n, config });
        assert.equal(out.code, 0, out.stdout + out.stderr);
        const ip = (out.json?.ips?.[0]?.address as string).split('/')[0] as string;
        assert.equal(
          (await topo.exec(topo.podNs(n), 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth1'])).trim(),
          '',
          'no address on eth1',
        );
        await waitFor(`${kind} to hold the lease`, () => server.leases().some((l) => l.ip === ip), 5000, 100);

        const capture = await startCapture(topo, topo.lanNs, topo.lanPort);
        const del = await cniIpam(topo, { command: 'DEL', containerId: `raw${n}`, podIndex: n, config });
        assert.deepEqual([del.code, del.stdout], [0, ''], del.stderr);
        await waitFor(`${kind} to free the lease`, () => !server.leases().some((l) => l.ip === ip), 5000, 100);
        const sent = releases(await capture.stop());
        assert.deepEqual(
          sent.map(({ p, m }) => [p.ipSrc, p.ipDst, p.srcPort, m.ciaddr]),
          [[ip, server.serverIp, 68, ip]],
          'one RELEASE, from the pod',
        );
      });

      test('DEL through macvlan with the daemon stopped: spooled; at the next start the host sends the RELEASE (ciaddr, chaddr, 61, 54)', async () => {
        const n = await topo.addPod();
        const containerId = `spool${n}`;
        const add = await cniMacvlan(topo, {
          command: 'ADD',
          containerId,
          podIndex: n,
          config: macvlanConfig(topo, daemon),
        });
        assert.equal(add.code, 0, add.stdout + add.stderr);
        const ip = (add.json?.ips?.[0]?.address as string).split('/')[0] as string;
        const mac = (add.json?.interfaces?.find((i) => i.name === 'eth1')?.mac as string).toLowerCase();
        await waitFor(`${kind} to hold the lease`, () => server.leases().some((l) => l.ip === ip), 5000, 100);

        await daemon.stop();
        const stateDir = daemon.stateDir;
        const del = await cniMacvlan(topo, {
          command: 'DEL',
          containerId,
          podIndex: n,
          config: macvlanConfig(topo, daemon, { stateDir }),
        });
        assert.deepEqual([del.code, del.stdout], [0, ''], del.stderr);
        assert.equal(fs.readdirSync(path.join(stateDir, 'spool')).length, 1, 'the DEL is spooled');
        assert.ok(
          !(await topo.exec(topo.podNs(n), 'ip', ['-o', 'link', 'show'])).includes('eth1'),
          'macvlan removed eth1',
        );
        assert.ok(
          server.leases().some((l) => l.ip === ip),
          'the server still holds the lease',
        );

        const capture = await startCapture(topo, topo.lanNs, topo.lanPort);
        daemon = await daemonOn(dir);
        await waitFor(`${kind} to free the lease`, () => !server.leases().some((l) => l.ip === ip), 10_000, 100);
        const sent = releases(await capture.stop());
        assert.equal(sent.length, 1, 'one RELEASE');
        const { p, m } = sent[0] as { p: Packet; m: DhcpMessage };
        assert.deepEqual(
          [p.ipSrc, p.ipDst, p.dstPort],
          [nodeIp, server.serverIp, 67],
          'from the node, unicast to the server',
        );
        assert.equal(m.ciaddr, ip);
        assert.equal(m.chaddr.subarray(0, 6).toString('hex'), mac.replace(/:/g, ''));
        assert.equal(
          m.options.get(61)?.toString('hex'),
          Buffer.concat([Buffer.from([0]), Buffer.from(`${containerId}/lan/eth1`)]).toString('hex'),
        );
        assert.equal(serverId(m), server.serverIp);
        const dropped = daemon.logs().find((l) => l.msg === 'stored lease dropped: attachment gone');
        assert.match(String(dropped?.hostRelease), /^RELEASE sent from the host/);
        await waitFor(
          'the spool to be emptied',
          () => fs.readdirSync(path.join(stateDir, 'spool')).length === 0,
          5000,
          100,
        );
      });

      test('DEL after the pod netns was deleted: lease dropped, exactly one RELEASE, from the host', async () => {
        const n = await topo.addPod();
        const containerId = `gone${n}`;
        const add = await cniMacvlan(topo, {
          command: 'ADD',
          containerId,
          podIndex: n,
          config: macvlanConfig(topo, daemon),
        });
        assert.equal(add.code, 0, add.stdout + add.stderr);
        const ip = (add.json?.ips?.[0]?.address as string).split('/')[0] as string;
        await waitFor(`${kind} to hold the lease`, () => server.leases().some((l) => l.ip === ip), 5000, 100);
        const netnsPath = topo.netnsPath(n);
        // The daemon may notice the deletion itself (inotify on the netns directory) before the DEL comes: either
        // way one RELEASE goes out, from the node.
        const capture = await startCapture(topo, topo.lanNs, topo.lanPort);
        await topo.removePod(n);
        const del = await cniIpam(topo, {
          command: 'DEL',
          containerId,
          netnsPath,
          config: macvlanConfig(topo, daemon),
        });
        assert.deepEqual([del.code, del.stdout], [0, ''], del.stderr);
        await waitFor(`${kind} to free the lease`, () => !server.leases().some((l) => l.ip === ip), 5000, 100);
        const sent = releases(await capture.stop());
        assert.deepEqual(
          sent.map(({ p, m }) => [p.ipSrc, m.ciaddr]),
          [[nodeIp, ip]],
          'one RELEASE, from the node',
        );
        assert.ok(!(await daemon.rpc('leases', {})).some((l) => l.containerId === containerId));
      });
    });
  }
});
