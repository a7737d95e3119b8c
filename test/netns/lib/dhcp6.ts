// DHCPv6 on the test network: IPv6 opened in the LAN and node namespaces, a pod with a fresh macvlan, Kea 2.2's
// kea-dhcp6 with short timers, and a minimal driver of the sans-I/O lease core over the real [::]:546 channel.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cryptoRng } from '../../../daemon/dhcp/rng';
import { decode, encode } from '../../../daemon/dhcp6/codec';
import { iaidOf } from '../../../daemon/dhcp6/duid';
import {
  ClientConfig6,
  Input6,
  Lease6Event,
  Lease6State,
  listening6,
  nextDeadline6,
  step6,
} from '../../../daemon/dhcp6/lease';
import { DEFAULT_TIMING6 } from '../../../daemon/dhcp6/timing';
import type { Channel6 } from '../../../daemon/pod-port';
import { openUdp6Channel } from '../../../daemon/transport/udp6-channel';
import { startDnsmasq, type DhcpServer } from './servers';
import type { Topology } from './topology';

/** The LAN's IPv6 subnet (a /64 of the tests' ULA range) and the servers' address on the LAN bridge. */
export const SUBNET = 'fd00:198:18:16::';
export const SERVER6 = `${SUBNET}1`;
/** The pod interface. */
export const IF = 'eth1';

/** Opens IPv6 in the LAN and node namespaces (the topology turns it off) and gives the LAN bridge its address. */
export async function dualStack(topo: Topology): Promise<void> {
  const on = (ifs: string[]): string[] => [
    '-qw',
    ...['all', 'default', ...ifs].map((i) => `net.ipv6.conf.${i}.disable_ipv6=0`),
  ];
  // The servers bind their link-local address as they start: no DAD on the LAN side, so it is usable at once.
  await topo.exec(topo.lanNs, 'sysctl', [
    '-qw',
    'net.ipv6.conf.all.accept_dad=0',
    'net.ipv6.conf.default.accept_dad=0',
    `net.ipv6.conf.${topo.lanBridge}.accept_dad=0`,
  ]);
  await topo.exec(topo.lanNs, 'sysctl', on([topo.lanBridge, topo.lanPort]));
  await topo.exec(topo.lanNs, 'ip', ['addr', 'add', `${SERVER6}/64`, 'dev', topo.lanBridge, 'nodad']);
  await nodeIpv6(topo);
}

/** IPv6 opened (dualStack) and dnsmasq serving both families: DHCPv4 from `range`, DHCPv6 from SUBNET's ::100-::1ff
 *  with router advertisements (the /64 on-link, M flag). */
export async function dualStackDnsmasq(topo: Topology, range: [string, string]): Promise<DhcpServer> {
  await dualStack(topo);
  return startDnsmasq(topo, { range, extraArgs: ['--enable-ra', `--dhcp-range=${SUBNET}100,${SUBNET}1ff,64,10m`] });
}

/** IPv6 on in the node namespace, its NIC's link-local address usable at once (a real node's is long settled): the
 *  daemon sends from there. Each pod the topology adds turns it off again. */
export async function nodeIpv6(topo: Topology): Promise<void> {
  await topo.exec(topo.nodeNs, 'sysctl', [
    '-qw',
    ...['all', 'default', topo.nodeNic].flatMap((i) => [
      `net.ipv6.conf.${i}.accept_dad=0`,
      `net.ipv6.conf.${i}.disable_ipv6=0`,
    ]),
  ]);
}

/** A pod with eth1, a macvlan of the node's NIC, down, with IPv6 on: what the macvlan plugin hands to IPAM. */
export async function podWithMacvlan(topo: Topology): Promise<{ n: number; netns: string }> {
  const n = await topo.addPod();
  await topo.exec(topo.podNs(n), 'sysctl', [
    '-qw',
    'net.ipv6.conf.all.disable_ipv6=0',
    'net.ipv6.conf.default.disable_ipv6=0',
  ]);
  const tmp = `mv${n}`;
  await topo.exec(topo.nodeNs, 'ip', ['link', 'add', tmp, 'link', topo.nodeNic, 'type', 'macvlan', 'mode', 'bridge']);
  await topo.exec(topo.nodeNs, 'ip', ['link', 'set', tmp, 'netns', topo.podNs(n)]);
  await topo.exec(topo.podNs(n), 'ip', ['link', 'set', tmp, 'name', IF]);
  await nodeIpv6(topo);
  return { n, netns: topo.netnsPath(n) };
}

/** A minimal driver of the lease core over the real channel: one timer at the core's deadline. */
export class Driver {
  state: Lease6State = { state: 'INIT' };
  readonly events: Lease6Event[] = [];
  readonly sent: { type: number; dst: string }[] = [];
  private channel: Channel6 | undefined;
  private timer: NodeJS.Timeout | undefined;
  readonly cfg: ClientConfig6;

  constructor(
    private readonly netns: string,
    duid: Buffer,
    rapidCommit: boolean,
  ) {
    this.cfg = {
      duid: duid.toString('hex'),
      iaid: iaidOf(`${netns}/${IF}`),
      oro: [23, 24],
      rapidCommit,
      timing: DEFAULT_TIMING6,
    };
  }

  async start(): Promise<void> {
    this.channel = await openUdp6Channel(this.netns, IF, (payload) => {
      const d = decode(payload);
      if (d.ok) this.input({ type: 'packet', msg: d.value });
    });
    this.input({ type: 'start' });
  }

  input(i: Input6): void {
    const r = step6(this.state, i, Date.now(), { cfg: this.cfg, rng: cryptoRng() });
    this.state = r.state;
    for (const a of r.actions) {
      if (a.type === 'send') {
        this.sent.push({ type: a.msg.type, dst: a.dst });
        try {
          this.channel?.send(encode(a.msg), a.dst);
        } catch {
          // a send that fails is a lost message: the core retransmits
        }
      } else if (a.type === 'emit') this.events.push(a.event);
    }
    clearTimeout(this.timer);
    const at = nextDeadline6(this.state);
    if (at !== undefined) this.timer = setTimeout(() => this.input({ type: 'timeout' }), Math.max(0, at - Date.now()));
    if (!listening6(this.state) && this.state.state === 'RELEASED') this.stop();
  }

  kinds(): string[] {
    return this.events.map((e) => e.kind);
  }

  address(): string {
    assert.equal(this.state.state, 'BOUND');
    return (this.state as Extract<Lease6State, { state: 'BOUND' }>).lease.address;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.channel?.close();
  }
}

/** Kea 2.2 on the LAN bridge with short timers (T1 2 s, T2 4 s, valid 8 s), UNICAST offered and served. */
export interface Kea6 {
  /** Kea's lease6 CSV rows (address, duid, valid_lifetime, expire, ...), one per change, oldest first. */
  leases(): string[][];
  started(): boolean;
  /** Its log so far. */
  log(): string;
  stop(): Promise<void>;
}

export function startKea6(topo: Topology): Kea6 {
  const dir = topo.tempDir('kea6');
  const leaseFile = path.join(dir, 'kea-leases6.csv');
  const config = {
    Dhcp6: {
      'interfaces-config': { interfaces: [`${topo.lanBridge}/${SERVER6}`] },
      'data-directory': dir,
      'lease-database': { type: 'memfile', persist: true, name: leaseFile, 'lfc-interval': 0 },
      'preferred-lifetime': 6,
      'valid-lifetime': 8,
      'renew-timer': 2,
      'rebind-timer': 4,
      subnet6: [
        {
          id: 1,
          subnet: `${SUBNET}/64`,
          interface: topo.lanBridge,
          pools: [{ pool: `${SUBNET}100 - ${SUBNET}1ff` }],
          'option-data': [
            { name: 'dns-servers', data: `${SUBNET}53` },
            { name: 'unicast', data: SERVER6, 'always-send': true },
          ],
        },
      ],
      loggers: [{ name: 'kea-dhcp6', output_options: [{ output: 'stdout', flush: true }], severity: 'INFO' }],
    },
  };
  const conf = path.join(dir, 'kea-dhcp6.conf');
  fs.writeFileSync(conf, JSON.stringify(config));
  const log = path.join(dir, 'kea.log');
  const child = topo.spawn(topo.lanNs, 'kea-dhcp6', ['-c', conf], {
    env: { ...process.env, KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir },
    logFile: log,
  });
  return {
    leases: () =>
      fs.existsSync(leaseFile)
        ? fs
            .readFileSync(leaseFile, 'utf8')
            .trim()
            .split('\n')
            .slice(1)
            .map((l) => l.split(','))
        : [],
    started: () => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('DHCP6_STARTED'),
    log: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : ''),
    stop: () => topo.stop(child),
  };
}
