// Dual-stack ADD beside IPv4-only (issue 16's goal: at most twice the IPv4-only figure), ts-dhcp only (the reference
// has no DHCPv6). One dnsmasq serves both families with router advertisements; it answers a SOLICIT carrying Rapid
// Commit with a REPLY at once. Without Rapid Commit a client must wait a second for more ADVERTISEs (RFC 8415
// §18.2.1), so a server without it puts dual-stack ADD near one second whatever the client does.
import { dualStack, SUBNET } from '../../test/netns/lib/dhcp6';
import {
  cniMacvlan,
  createTopology,
  macvlanConfig,
  startDnsmasq,
  startTsDaemon,
  type Topology,
} from '../../test/netns/lib';
import { distribution, type Distribution } from './stats';

export interface DualStackResult {
  /** The two kinds alternate, each ADD (and its DEL) in a fresh pod. */
  ipv4: Distribution;
  dual: Distribution;
  failures: number;
}

const LAN_CIDR = '198.19.88.1/22';
const RANGE: [string, string] = ['198.19.88.10', '198.19.89.200'];

export async function benchDualStack(runs: number, say: (msg: string) => void): Promise<DualStackResult> {
  let topo: Topology | undefined;
  try {
    topo = await createTopology({ prefix: 'tsb6-', lanCidr: LAN_CIDR });
    await dualStack(topo);
    await startDnsmasq(topo, {
      range: RANGE,
      leaseTime: 86_400,
      extraArgs: ['--enable-ra', `--dhcp-range=${SUBNET}100,${SUBNET}fff,64,1d`],
    });
    const daemon = await startTsDaemon(topo, { args: ['--log-level', 'info'] });
    const kinds = {
      ipv4: macvlanConfig(topo, daemon, { conflictDetection: 'off' }),
      dual: macvlanConfig(topo, daemon, { conflictDetection: 'off', ipv6: true }),
    };
    const ms: Record<keyof typeof kinds, number[]> = { ipv4: [], dual: [] };
    let failures = 0;
    for (let i = 0; i < runs; i++) {
      for (const kind of ['ipv4', 'dual'] as const) {
        const podIndex = await topo.addPod();
        const containerId = `${kind}-${i}`;
        const config = kinds[kind];
        const add = await cniMacvlan(topo, { command: 'ADD', containerId, podIndex, config });
        const families = add.json?.ips?.length ?? 0;
        if (add.code === 0 && families === (kind === 'dual' ? 2 : 1)) ms[kind].push(add.durationMs);
        else {
          failures++;
          say(`${kind} ADD ${containerId}: code ${add.code}, ${families} addresses: ${add.stdout}${add.stderr}`);
        }
        await cniMacvlan(topo, { command: 'DEL', containerId, podIndex, config });
        await topo.removePod(podIndex);
      }
    }
    const result = { ipv4: distribution(ms.ipv4), dual: distribution(ms.dual), failures };
    say(`ADD p50: IPv4-only ${result.ipv4.p50} ms, dual-stack ${result.dual.p50} ms (${runs} each)`);
    return result;
  } finally {
    await topo?.destroy();
  }
}

/** The section printed under the main table. */
export function dualStackText(r: DualStackResult): string {
  const ratio = r.ipv4.p50 > 0 ? (r.dual.p50 / r.ipv4.p50).toFixed(2) : '-';
  return [
    'dual-stack (ipam.ipv6), ADD through macvlan with dnsmasq serving both families (Rapid Commit, RA):',
    `  ADD p50 / p95: IPv4-only ${r.ipv4.p50} / ${r.ipv4.p95} ms, dual-stack ${r.dual.p50} / ${r.dual.p95} ms ` +
      `(${r.dual.n} runs each, alternating); dual-stack / IPv4-only ${ratio} (goal ≤ 2); failures ${r.failures}`,
  ].join('\n');
}
