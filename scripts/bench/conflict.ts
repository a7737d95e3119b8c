// Address conflict detection in numbers (ipam.conflictDetection): what each setting costs per ADD, how fast a LAN
// host answers a probe here, and which answer times each setting catches. On a topology of its own (dnsmasq, the
// real macvlan plugin, ts-dhcp only: the reference plugin does not probe).
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { legacyClientId } from '../../daemon/client-id';
import { ArpOp, arpProbe, decodeArp, encodeArp } from '../../daemon/dhcp/arp';
import type { ConflictDetection } from '../../daemon/dhcp/probe';
import { openArp } from '../../daemon/transport/netns';
import {
  cniMacvlan,
  createTopology,
  macvlanConfig,
  startDnsmasq,
  startTsDaemon,
  type Topology,
  type TsDaemon,
} from '../../test/netns/lib';
import { distribution, type Distribution } from './stats';

export interface ConflictPlan {
  /** Sequential ADDs (each followed by its DEL) per setting, without a conflict. */
  addRuns: Record<ConflictDetection, number>;
  arpProbes: number;
  /** Trials: a LAN host holds the address the server offers and answers probes this late ('kernel': at once, by its
   *  own kernel; a number: ms, by scripts/bench/arp-responder.ts). */
  trials: { mode: Exclude<ConflictDetection, 'off'>; answer: 'kernel' | number }[];
}

export const CONFLICT_FULL: ConflictPlan = {
  addRuns: { off: 30, quick: 30, rfc5227: 5 },
  arpProbes: 200,
  trials: [
    ...(['kernel', 50, 150, 250, 1000] as const).map((answer) => ({ mode: 'quick' as const, answer })),
    ...(['kernel', 250, 1000, 3000] as const).map((answer) => ({ mode: 'rfc5227' as const, answer })),
  ],
};
export const CONFLICT_QUICK: ConflictPlan = { addRuns: { off: 10, quick: 10, rfc5227: 0 }, arpProbes: 50, trials: [] };

export interface ConflictResult {
  add: Partial<Record<ConflictDetection, Distribution>>;
  /** Probe sent → answer received, from the node's NIC to a LAN host's kernel (ms). */
  arpAnswerMs: Distribution;
  trials: { mode: string; answer: string; caught: boolean; addMs: number }[];
}

const LAN_CIDR = '198.19.80.1/22';
const RANGE: [string, string] = ['198.19.80.10', '198.19.80.200'];

const clientIdHex = (containerId: string): string =>
  legacyClientId({ containerId, network: 'lan', ifName: 'eth1' })
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1:');

export async function benchConflictDetection(plan: ConflictPlan, say: (msg: string) => void): Promise<ConflictResult> {
  let topo: Topology | undefined;
  try {
    topo = await createTopology({ prefix: 'tsbc-', lanCidr: LAN_CIDR });
    // Each trial's client gets a reserved address, the one its LAN host holds.
    const trials = plan.trials.map((t, i) => ({ ...t, containerId: `trial-${i}`, address: topo!.lanAddress(500 + i) }));
    await startDnsmasq(topo, {
      range: RANGE,
      leaseTime: 86_400,
      extraArgs: trials.map((t) => `--dhcp-host=id:${clientIdHex(t.containerId)},${t.address}`),
    });
    const daemon = await startTsDaemon(topo, { args: ['--log-level', 'info'] });
    const result: ConflictResult = { add: {}, arpAnswerMs: await arpAnswerTimes(topo, plan.arpProbes), trials: [] };
    say(`ARP answer of a LAN host: p50 ${result.arpAnswerMs.p50} ms, max ${result.arpAnswerMs.max} ms`);
    for (const [mode, runs] of Object.entries(plan.addRuns) as [ConflictDetection, number][]) {
      if (runs === 0) continue;
      const ms: number[] = [];
      for (let i = 0; i < runs; i++) ms.push((await addDel(topo, daemon, mode, `add-${mode}-${i}`)).addMs);
      result.add[mode] = distribution(ms);
      say(`conflictDetection ${mode}: ADD p50 ${result.add[mode]?.p50} ms (${runs} runs)`);
    }
    for (const t of trials) {
      const host = await topo.addLanHost(t.answer === 'kernel' ? t.address : undefined);
      if (t.answer !== 'kernel') await startResponder(topo, host, t.address, t.answer);
      const out = await addDel(topo, daemon, t.mode, t.containerId);
      const caught = out.address !== t.address;
      result.trials.push({
        mode: t.mode,
        answer: t.answer === 'kernel' ? 'kernel' : `${t.answer} ms`,
        caught,
        addMs: out.addMs,
      });
      say(
        `${t.mode}, host answering ${t.answer === 'kernel' ? 'at once' : `after ${t.answer} ms`}: ${caught ? 'caught' : 'missed'}, ADD ${out.addMs} ms`,
      );
      await topo.removeLanHost(host);
    }
    return result;
  } finally {
    await topo?.destroy();
  }
}

/** One ADD (and its DEL) in a fresh pod through macvlan; the address it got. */
async function addDel(
  topo: Topology,
  daemon: TsDaemon,
  mode: ConflictDetection,
  containerId: string,
): Promise<{ addMs: number; address: string }> {
  const podIndex = await topo.addPod();
  const config = macvlanConfig(topo, daemon, { conflictDetection: mode });
  const add = await cniMacvlan(topo, { command: 'ADD', containerId, podIndex, config });
  if (add.code !== 0) throw new Error(`ADD ${containerId}: ${add.stdout}${add.stderr}`);
  const address = (add.json?.ips?.[0]?.address ?? '').split('/')[0] as string;
  await cniMacvlan(topo, { command: 'DEL', containerId, podIndex, config });
  await topo.removePod(podIndex);
  return { addMs: add.durationMs, address };
}

/** Probe → answer round trips from the node's NIC to a LAN host whose kernel holds the address. */
async function arpAnswerTimes(topo: Topology, probes: number): Promise<Distribution> {
  const address = topo.lanAddress(400);
  const host = await topo.addLanHost(address);
  const socket = await openArp(path.join('/var/run/netns', topo.nodeNs), topo.nodeNic, address);
  try {
    let answered: (() => void) | undefined;
    socket.onMessage((b) => {
      const a = decodeArp(b);
      if (a?.op === ArpOp.REPLY && a.senderIp === address) answered?.();
    });
    const ms: number[] = [];
    for (let i = 0; i < probes; i++) {
      const got = new Promise<void>((resolve) => (answered = resolve));
      const sent = performance.now();
      socket.send(encodeArp(arpProbe(socket.mac, address)));
      await Promise.race([
        got,
        new Promise((_, reject) => setTimeout(() => reject(new Error('no ARP answer within 1 s')), 1000)),
      ]);
      ms.push(Math.round((performance.now() - sent) * 1000) / 1000);
    }
    return distribution(ms);
  } finally {
    socket.close();
    await topo.removeLanHost(host);
  }
}

async function startResponder(topo: Topology, ns: string, address: string, delayMs: number): Promise<void> {
  const script = path.join(__dirname, 'arp-responder.js');
  const child = topo.spawn(ns, process.execPath, [script, 'eth0', address, String(delayMs)]);
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`arp-responder exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', () => resolve());
  });
}

/** The section printed under the main table. */
export function conflictText(r: ConflictResult): string {
  const add = (Object.entries(r.add) as [ConflictDetection, Distribution][])
    .map(([mode, d]) => `${mode}${mode === 'quick' ? ' (default)' : ''} ${d.p50} / ${d.p95} ms (${d.n} runs)`)
    .join(', ');
  const lines = [
    'conflict detection (ipam.conflictDetection), ADD through macvlan with dnsmasq, no conflict:',
    `  ADD p50 / p95: ${add}`,
    `  a LAN host's ARP answer to a probe (probe sent → answer read): p50 ${r.arpAnswerMs.p50} ms, p95 ${r.arpAnswerMs.p95} ms, max ${r.arpAnswerMs.max} ms (${r.arpAnswerMs.n} probes)`,
  ];
  if (r.trials.length > 0) {
    lines.push('  a LAN host holds the offered address and answers probes:');
    for (const t of r.trials) {
      lines.push(
        `    ${t.mode.padEnd(8)} host answering ${t.answer.padEnd(8)} ${t.caught ? 'caught: DECLINE, another address' : 'missed: the pod got the address in use'} (ADD ${t.addMs} ms)`,
      );
    }
  }
  return lines.join('\n');
}
