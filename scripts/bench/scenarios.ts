// The five scenarios, run against one implementation on its own topology, through the real macvlan plugin
// exactly as a container runtime calls it.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCni, sleep, type CniOutcome, type Topology } from '../../test/netns/lib';
import { cpuTimeMs, round, sampleProc, type ProcSample } from './procstat';
import { distribution, pool, type Distribution } from './stats';
import type { Subject } from './subjects';

export interface Plan {
  /** Scenario 1: sequential ADDs, then as many DELs. */
  sequential: number;
  /** Scenario 2: ADDs started at once. */
  burst: number;
  /** Scenario 3: ADDs at `parallelism` in flight; these leases stay held. */
  parallelTotal: number;
  parallelism: number;
  /** Leases held for the second idle sample and the CPU window (0: skip both). */
  held: number;
  fillParallelism: number;
  /** Filling up to `held` stops after this long; the figures are then for fewer leases (printed as a cap). */
  fillBudgetMs: number;
  /** Scenario 4 (0: skip). */
  cpuWindowMs: number;
  /** Scenario 5: plugin runs per measurement. */
  startupRuns: number;
  /** Quiet time before an idle sample. */
  settleMs: number;
}

export interface ProcAt extends ProcSample {
  leases: number;
}

export interface SubjectResult {
  name: string;
  sequentialAdd: Distribution & { failures: number };
  sequentialDel: Distribution & { failures: number };
  burst: { n: number; wallMs: number; failures: number; distinct: number; slowestMs: number };
  parallel: { n: number; concurrency: number; wallMs: number; failures: number; distinct: number };
  fill?: { wanted: number; held: number; wallMs: number; failures: number; capped: boolean };
  proc: ProcAt[];
  cpu?: { leases: number; windowS: number; cpuMs: number; percentOfCore: number };
  startup: { version: Distribution; addHeld: Distribution & { failures: number } };
  /** Size of the IPAM plugin file the runtime execs. */
  pluginBytes: number;
  /** The first few failure messages, for the reader of the JSON. */
  errors: string[];
}

/** What any implementation pays on this machine, measured through the same harness: the macvlan plugin with the
 *  trivial `static` IPAM, and a bare `node` start. */
export interface Floors {
  macvlanStaticAdd: Distribution;
  macvlanStaticDel: Distribution;
  bareNode: Distribution;
}

type Progress = (msg: string) => void;

interface Attempt {
  ok: boolean;
  ms: number;
  address?: string;
}

export async function measureFloors(topo: Topology, runs: number): Promise<Floors> {
  const pods = topo.pods.slice(0, runs);
  const config = {
    cniVersion: '1.0.0',
    name: 'floor',
    type: 'macvlan',
    master: topo.nodeNic,
    mode: 'bridge',
    ipam: { type: 'static', addresses: [{ address: `${topo.lanAddress(2000)}/${topo.lanPrefixLength}` }] },
  };
  // eth2: the pods' eth1 may hold a lease of the scenarios.
  const cni = async (command: 'ADD' | 'DEL', n: number): Promise<number> => {
    const out = await runCni(topo, { command, containerId: `floor-${n}`, podIndex: n, ifName: 'eth2', config });
    if (out.code !== 0) throw new Error(`macvlan with static IPAM: ${command} failed: ${out.stdout}${out.stderr}`);
    return out.durationMs;
  };
  const adds: number[] = [];
  const dels: number[] = [];
  for (const n of pods) adds.push(await cni('ADD', n));
  for (const n of pods) dels.push(await cni('DEL', n));
  const bare = path.join(topo.tempDir('floor'), 'bare-node');
  fs.writeFileSync(bare, '#!/usr/bin/env node\n', { mode: 0o755 });
  const node: number[] = [];
  for (let i = 0; i < runs; i++) node.push((await runCni(topo, { command: 'VERSION', config: {}, pluginPath: bare })).durationMs);
  return { macvlanStaticAdd: distribution(adds), macvlanStaticDel: distribution(dels), bareNode: distribution(node) };
}

/**
 * VERSION needs no namespace: the plugin is spawned directly (no `ip netns exec`, ~5 ms of its own), timed with the
 * monotonic clock from spawn to exit.
 */
function versionAlone(binary: string): Promise<Attempt> {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(binary, [], { env: { CNI_COMMAND: 'VERSION' }, stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stdin.end('{"cniVersion":"1.0.0"}');
    child.on('error', () => resolve({ ok: false, ms: 0 }));
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      resolve({ ok: code === 0 && out.includes('supportedVersions'), ms: Math.round(ms * 100) / 100 });
    });
  });
}

class Runner {
  readonly errors: string[] = [];

  constructor(
    private readonly topo: Topology,
    private readonly subject: Subject,
  ) {}

  async ensurePods(n: number): Promise<void> {
    const have = this.topo.pods.length;
    if (have < n) await this.topo.addPods(n - have);
  }

  add(pod: number, containerId: string): Promise<Attempt> {
    return this.cni('ADD', pod, containerId);
  }

  del(pod: number, containerId: string): Promise<Attempt> {
    return this.cni('DEL', pod, containerId);
  }

  /** The IPAM plugin alone, without macvlan: what the runtime pays per call beyond the daemon's work. */
  async ipam(command: 'ADD', pod: number, containerId: string): Promise<Attempt> {
    const out = await runCni(this.topo, {
      command,
      containerId,
      podIndex: pod,
      config: this.subject.netConf,
      pluginPath: this.subject.ipamBinary,
      cniPath: this.subject.cniPath,
    });
    return this.outcome(`${command} (IPAM plugin alone)`, out);
  }

  private async cni(command: 'ADD' | 'DEL', pod: number, containerId: string): Promise<Attempt> {
    const out = await runCni(this.topo, { command, containerId, podIndex: pod, config: this.subject.netConf, cniPath: this.subject.cniPath });
    return this.outcome(`${command} ${containerId}`, out);
  }

  private outcome(what: string, out: CniOutcome): Attempt {
    const ok = out.code === 0;
    if (!ok && this.errors.length < 10) this.errors.push(`${what}: exit ${out.code}: ${(out.stdout + out.stderr).trim().slice(0, 300)}`);
    const address = out.json?.ips?.[0]?.address;
    return { ok, ms: out.durationMs, ...(address !== undefined && { address }) };
  }
}

function failures(attempts: Attempt[]): number {
  return attempts.filter((a) => !a.ok).length;
}

function distinct(attempts: Attempt[]): number {
  return new Set(attempts.filter((a) => a.ok && a.address).map((a) => a.address)).size;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: Math.round(performance.now() - start) };
}

export async function runScenarios(topo: Topology, subject: Subject, plan: Plan, progress: Progress): Promise<SubjectResult> {
  const r = new Runner(topo, subject);
  const pid = subject.pid;
  const proc: ProcAt[] = [];
  const sample = async (leases: number): Promise<void> => {
    await sleep(plan.settleMs);
    const s = { leases, ...sampleProc(pid) };
    proc.push(s);
    progress(`idle with ${leases} leases: ${s.rssMiB} MiB RSS (${s.rssAnonMiB} private), ${s.threads} threads, ${s.fds} fds`);
  };
  await r.ensurePods(Math.max(plan.sequential, plan.burst, plan.parallelTotal));
  await sample(0);

  // 1. Sequential ADDs, then DELs.
  const seqPods = range(1, plan.sequential);
  const adds: Attempt[] = [];
  for (const n of seqPods) adds.push(await r.add(n, `seq-${n}`));
  const dels: Attempt[] = [];
  for (const n of seqPods) dels.push(await r.del(n, `seq-${n}`));
  const okMs = (a: Attempt[]): number[] => a.filter((x) => x.ok).map((x) => x.ms);
  const sequentialAdd = { ...distribution(okMs(adds)), failures: failures(adds) };
  const sequentialDel = { ...distribution(okMs(dels)), failures: failures(dels) };
  progress(`${plan.sequential} sequential ADDs: p50 ${sequentialAdd.p50} ms, p95 ${sequentialAdd.p95} ms; DEL p50 ${sequentialDel.p50} ms`);

  // 2. A burst of ADDs at once; DELs afterwards (not a target, just the way back to zero leases).
  const burstPods = range(1, plan.burst);
  const b = await timed(() => Promise.all(burstPods.map((n) => r.add(n, `burst-${n}`))));
  const burst = {
    n: plan.burst,
    wallMs: b.ms,
    failures: failures(b.value),
    distinct: distinct(b.value),
    slowestMs: Math.max(...b.value.map((a) => a.ms)),
  };
  progress(`${plan.burst} ADDs at once: ${burst.wallMs} ms, ${burst.failures} failures, ${burst.distinct} distinct addresses`);
  await pool(burstPods, plan.parallelism, (n) => r.del(n, `burst-${n}`));

  // 3. ADDs at a fixed parallelism; these leases stay.
  const parPods = range(1, plan.parallelTotal);
  const p = await timed(() => pool(parPods, plan.parallelism, (n) => r.add(n, `hold-${n}`)));
  const parallel = { n: plan.parallelTotal, concurrency: plan.parallelism, wallMs: p.ms, failures: failures(p.value), distinct: distinct(p.value) };
  progress(`${plan.parallelTotal} ADDs, ${plan.parallelism} in parallel: ${parallel.wallMs} ms, ${parallel.failures} failures`);
  let held = parallel.distinct;
  await sample(held);

  let fill: SubjectResult['fill'];
  let cpu: SubjectResult['cpu'];
  if (plan.held > plan.parallelTotal) {
    await r.ensurePods(plan.held);
    progress(`filling to ${plan.held} leases (${plan.fillParallelism} in parallel, at most ${plan.fillBudgetMs / 1000} s)`);
    const deadline = performance.now() + plan.fillBudgetMs;
    const fillPods = range(plan.parallelTotal + 1, plan.held);
    const f = await timed(() => pool(fillPods, plan.fillParallelism, (n) => r.add(n, `hold-${n}`), () => performance.now() > deadline));
    held += distinct(f.value);
    fill = { wanted: plan.held, held, wallMs: f.ms, failures: failures(f.value), capped: f.value.length < fillPods.length };
    progress(`holding ${held} leases after ${f.ms} ms${fill.capped ? ' (capped by the time budget)' : ''}, ${fill.failures} failures`);
    await sample(held);

    // 4. CPU with the leases held and nothing due (the leases are long: no renewal falls in the window).
    if (plan.cpuWindowMs > 0) {
      const before = cpuTimeMs(pid);
      await sleep(plan.cpuWindowMs);
      const cpuMs = cpuTimeMs(pid) - before;
      cpu = { leases: held, windowS: plan.cpuWindowMs / 1000, cpuMs, percentOfCore: round((cpuMs / plan.cpuWindowMs) * 100, 3) };
      progress(`CPU over ${cpu.windowS} s with ${held} leases: ${cpuMs} ms (${cpu.percentOfCore} % of a core)`);
    }
  }

  // 5. Plugin start-up: VERSION, and ADD for a lease the daemon already holds (pod 1 holds hold-1).
  const version: Attempt[] = [];
  for (let i = 0; i < plan.startupRuns; i++) version.push(await versionAlone(subject.ipamBinary));
  const addHeld: Attempt[] = [];
  for (let i = 0; i < plan.startupRuns; i++) addHeld.push(await r.ipam('ADD', 1, 'hold-1'));
  const startup = { version: distribution(okMs(version)), addHeld: { ...distribution(okMs(addHeld)), failures: failures(addHeld) } };
  progress(`plugin alone: VERSION p50 ${startup.version.p50} ms, ADD of a held lease p50 ${startup.addHeld.p50} ms`);

  return {
    name: subject.name,
    sequentialAdd,
    sequentialDel,
    burst,
    parallel,
    ...(fill && { fill }),
    proc,
    ...(cpu && { cpu }),
    startup,
    pluginBytes: fs.statSync(subject.ipamBinary).size,
    errors: r.errors,
  };
}
