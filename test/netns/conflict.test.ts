// Address conflict detection (RFC 5227) against the three real servers: a LAN host holds the address the server
// offers the pod → the pod probes it with ARP from 0.0.0.0, hears the host, sends a DHCPDECLINE (logged by the
// server), waits 10 s and gets another address; then announces it. With conflictDetection "off", the old behaviour:
// the pod takes the address in use. How the server comes to offer an address in use: dnsmasq and ISC dhcpd give a
// client its previous address again after its RELEASE (taken by the host meanwhile); Kea's allocator moves on after
// a RELEASE, so there a host reservation for the pod's client id points at the host's address.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeArp, type ArpPacket } from '../../daemon/dhcp/arp';
import { messageType, requestedIp, serverId } from '../../daemon/dhcp/options';
import { DhcpMessage, MessageType } from '../../daemon/dhcp/types';
import {
  Topology,
  cniMacvlan,
  createTopology,
  dhcpOf,
  macvlanConfig,
  startCapture,
  startDhcpd,
  startDnsmasq,
  startKea,
  sleep,
  startTsDaemon,
  waitFor,
  type DhcpServer,
  type Packet,
  type TsDaemon,
} from './lib';

const RANGE: [string, string] = ['198.19.73.10', '198.19.73.200'];
const START = { dnsmasq: startDnsmasq, dhcpd: startDhcpd, kea: startKea };
/** The pod's MAC, fixed (macvlan takes MAC from CNI_ARGS) so that a server hashing chaddr offers the same address. */
const podMac = (n: number): string => `02:15:00:00:00:${n.toString(16).padStart(2, '0')}`;
/** Kea: the reserved address of each test's client. */
const KEA_RESERVED: Record<string, string> = { 'conflict-kea': '198.19.73.50', 'off-kea': '198.19.73.51' };

function keaReservations(): Record<string, unknown> {
  const clientId = (containerId: string): string =>
    Buffer.concat([Buffer.from([0]), Buffer.from(`${containerId}/lan/eth1`)])
      .toString('hex')
      .replace(/(..)(?!$)/g, '$1:');
  return {
    'reservations-global': true,
    'reservations-in-subnet': true,
    reservations: Object.entries(KEA_RESERVED).map(([id, ip]) => ({ 'client-id': clientId(id), 'ip-address': ip })),
  };
}
const ETHERTYPE_ARP = 0x0806;

function arpOf(p: Packet): ArpPacket | undefined {
  return p.etherType === ETHERTYPE_ARP ? decodeArp(p.etherPayload) : undefined;
}

function dhcpOfType(packets: Packet[], type: number): { p: Packet; m: DhcpMessage }[] {
  return packets.flatMap((p) => {
    const m = dhcpOf(p);
    return m && messageType(m) === type ? [{ p, m }] : [];
  });
}

/** What each server writes when it takes a DHCPDECLINE for `ip`. */
const DECLINE_LOG: Record<keyof typeof START, (ip: string) => RegExp> = {
  dnsmasq: (ip) => new RegExp(`DHCPDECLINE\\(br0\\) ${ip.replace(/\./g, '\\.')} `),
  dhcpd: (ip) => new RegExp(`DHCPDECLINE of ${ip.replace(/\./g, '\\.')} from `),
  kea: (ip) => new RegExp(`DHCP4_DECLINE_LEASE .*${ip.replace(/\./g, '\\.')}`),
};

describe('address conflict detection (RFC 5227) and DHCPDECLINE', () => {
  let topo: Topology;

  before(async () => {
    topo = await createTopology({ prefix: 'tsa-', lanCidr: '198.19.72.1/22' });
  });
  after(() => topo.destroy());

  for (const kind of ['dnsmasq', 'dhcpd', 'kea'] as const) {
    describe(kind, () => {
      let server: DhcpServer;
      let daemon: TsDaemon;

      before(async () => {
        server = await (kind === 'kea'
          ? startKea(topo, { range: RANGE, leaseTime: 600, extraConfig: keaReservations() })
          : START[kind](topo, { range: RANGE, leaseTime: 600 }));
        daemon = await startTsDaemon(topo);
      });
      after(async () => {
        await daemon.stop();
        await server.stop();
      });

      /** The address the server will offer this client: reserved (Kea), or its previous one (ADD, then DEL). */
      async function offeredAddress(n: number, containerId: string): Promise<string> {
        const reserved = KEA_RESERVED[containerId];
        if (kind === 'kea' && reserved) return reserved;
        const config = macvlanConfig(topo, daemon, { conflictDetection: 'off' });
        const add = await cniMacvlan(topo, {
          command: 'ADD',
          containerId,
          podIndex: n,
          config,
          args: `MAC=${podMac(n)}`,
        });
        assert.equal(add.code, 0, add.stdout + add.stderr);
        const ip = (add.json?.ips?.[0]?.address as string).split('/')[0] as string;
        const del = await cniMacvlan(topo, {
          command: 'DEL',
          containerId,
          podIndex: n,
          config,
          args: `MAC=${podMac(n)}`,
        });
        assert.equal(del.code, 0, del.stdout + del.stderr);
        await waitFor(`${kind} to free ${ip}`, () => !server.leases().some((l) => l.ip === ip), 5000, 100);
        return ip;
      }

      test('a LAN host holds the offered address: probes from 0.0.0.0 hear it, DECLINE, another address after 10 s, announced', async (t) => {
        const n = await topo.addPod();
        // A failed test must not leave its pod answering for an address the next test's server may offer.
        t.after(() => topo.removePod(n).catch(() => undefined));
        const containerId = `conflict-${kind}`;
        const taken = await offeredAddress(n, containerId);
        const host = await topo.addLanHost(taken);
        t.after(() => topo.removeLanHost(host).catch(() => undefined));
        const hostMac = JSON.parse(await topo.exec(host, 'ip', ['-j', 'link', 'show', 'eth0']))[0].address as string;

        const capture = await startCapture(topo, topo.lanNs, topo.lanPort, 'arp or udp port 67 or udp port 68');
        const config = macvlanConfig(topo, daemon); // the default: conflictDetection quick, announce on
        const add = await cniMacvlan(topo, {
          command: 'ADD',
          containerId,
          podIndex: n,
          config,
          args: `MAC=${podMac(n)}`,
        });
        assert.equal(add.code, 0, add.stdout + add.stderr);
        const got = (add.json?.ips?.[0]?.address as string).split('/')[0] as string;
        assert.notEqual(got, taken, 'ADD succeeds with another address');
        await sleep(2500); // the second announcement follows 2 s after the first
        const packets = await capture.stop();

        // The server offered the address in use, the pod probed it, the host answered.
        const acks = dhcpOfType(packets, MessageType.ACK).map(({ m }) => m.yiaddr);
        assert.deepEqual(acks, [taken, got], 'ACKs: the address in use, then another');
        const arp = packets.flatMap((p) => {
          const a = arpOf(p);
          return a ? [{ p, a }] : [];
        });
        const probes = arp.filter(({ a }) => a.senderIp === '0.0.0.0' && a.senderMac === podMac(n));
        assert.ok(
          probes.some(({ a }) => a.targetIp === taken),
          `a probe for ${taken} from 0.0.0.0`,
        );
        assert.ok(
          probes.some(({ a }) => a.targetIp === got),
          `a probe for ${got} from 0.0.0.0`,
        );
        assert.ok(
          probes.every(({ p }) => p.ethDst === 'ff:ff:ff:ff:ff:ff'),
          'probes are broadcast',
        );
        assert.ok(
          arp.some(({ a }) => a.senderIp === taken && a.senderMac === hostMac && a.targetMac === podMac(n)),
          'the host answers',
        );

        const declines = dhcpOfType(packets, MessageType.DECLINE);
        assert.equal(declines.length, 1, 'one DECLINE');
        const { p: dp, m: decline } = declines[0] as { p: Packet; m: DhcpMessage };
        assert.deepEqual(
          [dp.ipSrc, dp.ipDst, decline.ciaddr, requestedIp(decline), serverId(decline)],
          ['0.0.0.0', '255.255.255.255', '0.0.0.0', taken, server.serverIp],
        );
        const discovers = dhcpOfType(packets, MessageType.DISCOVER);
        const after = discovers.filter(({ p }) => p.timeMs > dp.timeMs);
        assert.ok(
          after.length >= 1 && (after[0] as { p: Packet }).p.timeMs - dp.timeMs >= 9_900,
          'the next DISCOVER waits 10 s',
        );
        assert.equal(
          requestedIp((after[0] as { m: DhcpMessage }).m),
          undefined,
          'and does not ask for the declined address',
        );
        const logged = await waitFor(
          `${kind} to log the DECLINE`,
          () =>
            server
              .log()
              .split('\n')
              .find((l) => DECLINE_LOG[kind](taken).test(l)),
          5000,
          100,
        );
        t.diagnostic(`${kind}: ${logged.trim()}`);
        t.diagnostic(`ADD took ${add.durationMs} ms`);

        const announcements = arp.filter(
          ({ a }) => a.senderIp === got && a.targetIp === got && a.senderMac === podMac(n),
        );
        assert.equal(announcements.length, 2, 'two announcements of the new address');
        const [t1, t2] = announcements.map(({ p }) => p.timeMs) as [number, number];
        // 2 s apart in the core; on the wire each one waits for its socket to open in the pod netns first.
        assert.ok(t2 - t1 >= 1000, `about ANNOUNCE_INTERVAL apart: ${t2 - t1} ms`);
        assert.ok(
          !arp.some(({ a }) => a.senderIp === taken && a.senderMac === podMac(n)),
          'the address in use is never announced',
        );

        const show = await daemon.rpc('lease', { containerId, network: 'lan', ifName: 'eth1' });
        assert.ok(
          show.transitions.some(
            (t) =>
              t.from === 'PROBING' &&
              t.to === 'SELECTING' &&
              t.why === `${taken} in use (ARP from ${hostMac}): DECLINE`,
          ),
          JSON.stringify(show.transitions),
        );
        await cniMacvlan(topo, { command: 'DEL', containerId, podIndex: n, config, args: `MAC=${podMac(n)}` });
      });

      test('conflictDetection "off": the old behaviour, the pod takes the address in use', async (t) => {
        const n = await topo.addPod();
        // A failed test must not leave its pod answering for an address the next test's server may offer.
        t.after(() => topo.removePod(n).catch(() => undefined));
        const containerId = `off-${kind}`;
        const taken = await offeredAddress(n, containerId);
        const host = await topo.addLanHost(taken);
        t.after(() => topo.removeLanHost(host).catch(() => undefined));
        const capture = await startCapture(topo, topo.lanNs, topo.lanPort, 'udp port 67 or udp port 68');
        const config = macvlanConfig(topo, daemon, { conflictDetection: 'off' });
        const add = await cniMacvlan(topo, {
          command: 'ADD',
          containerId,
          podIndex: n,
          config,
          args: `MAC=${podMac(n)}`,
        });
        assert.equal(add.code, 0, add.stdout + add.stderr);
        assert.equal(add.json?.ips?.[0]?.address, `${taken}/22`, 'the address in use');
        assert.deepEqual(dhcpOfType(await capture.stop(), MessageType.DECLINE), []);
        await cniMacvlan(topo, { command: 'DEL', containerId, podIndex: n, config, args: `MAC=${podMac(n)}` });
      });
    });
  }
});
