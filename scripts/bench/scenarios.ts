// The five scenarios, run against one implementation on its own topology, through the real macvlan plugin
// exactly as a container runtime calls it.
import * as fs from 'node:fs';
import { runCni, sleep, type CniOutcome, type Topology } from '../../test/netns/lib';
import { cpuTimeMs, round, sampleProc, type ProcSample } from './procstat';
import { distribution, pool, type Distribution } from './stats';
import { Floor } from './floor';
import { pluginAlone } from './plugin-alone';
import type { Subject } from './subjects';

export interface Plan {
  /** Scenario 1: sequential ADDs, then as many DELs, each beside the floor's. */
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
  /** The macvlan plugin with the trivial `static` IPAM, interleaved with the sequential ADDs and DELs (the bursts
   *  carry their floor's wall time). */
  floor: { add: Distribution; del: Distribution };
  burst: { n: number; wallMs: number; failures: number; distinct: number; slowestMs: number; floorWallMs: number };
  parallel: { n: number; concurrency: number; wallMs: number; failures: number; distinct: number; floorWallMs: number };
  fill?: { wanted: number; held: number; wallMs: number; failures: number; capped: boolean };
  proc: ProcAt[];
  cpu?: { leases: number; windowS: number; cpuMs: number; percentOfCore: number };
  startup: { version: Distribution; addHeld: Distribution };
  /** Size of the IPAM plugin file the runtime execs. */
  pluginBytes: number;
  /** The first few failure messages, for the reader of the JSON. */
  errors: string[];
}

type Progress = (msg: string) => void;

interface Attempt {
  ok: boolean;
  ms: number;
  address?: string;
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

  private async cni(command: 'ADD' | 'DEL', pod: number, containerId: string): Promise<Attempt> {
    const out = await runCni(this.topo, {
      command,
      containerId,
      podIndex: pod,
      config: this.subject.netConf,
      cniPath: this.subject.cniPath,
    });
    return this.outcome(`${command} ${containerId}`, out);
  }

  private outcome(what: string, out: CniOutcome): Attempt {
    const ok = out.code === 0;
    if (!ok && this.errors.length < 10)
      this.errors.push(`${what}: exit ${out.code}: ${(out.stdout + out.stderr).trim().slice(0, 300)}`);
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

export async function runScenarios(
  topo: Topology,
  subject: Subject,
  plan: Plan,
  progress: Progress,
): Promise<SubjectResult> {
  const r = new Runner(topo, subject);
  const pid = subject.pid;
  const proc: ProcAt[] = [];
  const sample = async (leases: number): Promise<void> => {
    await sleep(plan.settleMs);
    const s = { leases, ...sampleProc(pid) };
    proc.push(s);
    progress(
      `idle with ${leases} leases: ${s.rssMiB} MiB RSS (${s.rssAnonMiB} private), ${s.threads} threads, ${s.fds} fds`,
    );
  };
  await r.ensurePods(Math.max(plan.sequential, plan.burst, plan.parallelTotal));
  await sample(0);

  // 1. Sequential ADDs, then DELs, first thing (the master has no other macvlan yet), each next to the same call
  // of the floor in the same pod, which goes first every other time: both see the same conditions.
  const seqPods = range(1, plan.sequential);
  const floor = new Floor(topo);
  const sequential = async (cmd: 'ADD' | 'DEL', call: (n: number) => Promise<Attempt>) => {
    const floorMs: number[] = [];
    const attempts: Attempt[] = [];
    for (const n of seqPods) {
      if (n % 2 === 0) floorMs.push(await floor.cni(cmd, n));
      attempts.push(await call(n));
      if (n % 2 === 1) floorMs.push(await floor.cni(cmd, n));
    }
    return { floorMs, attempts };
  };
  const { floorMs: floorAdds, attempts: adds } = await sequential('ADD', (n) => r.add(n, `seq-${n}`));
  const { floorMs: floorDels, attempts: dels } = await sequential('DEL', (n) => r.del(n, `seq-${n}`));
  const okMs = (a: Attempt[]): number[] => a.filter((x) => x.ok).map((x) => x.ms);
  const sequentialAdd = { ...distribution(okMs(adds)), failures: failures(adds) };
  const sequentialDel = { ...distribution(okMs(dels)), failures: failures(dels) };
  const floorResult = { add: distribution(floorAdds), del: distribution(floorDels) };
  progress(
    `${plan.sequential} sequential ADDs: p50 ${sequentialAdd.p50} ms, p95 ${sequentialAdd.p95} ms; DEL p50 ${sequentialDel.p50} ms; floor (macvlan + static) ADD p50 ${floorResult.add.p50} ms, DEL p50 ${floorResult.del.p50} ms`,
  );

  // 2. A burst of ADDs at once; DELs afterwards (not a target, just the way back to zero leases). The same burst of
  // the floor just before: on 2 cores a burst is bound by the CPU every process start takes.
  const burstPods = range(1, plan.burst);
  const fb = await timed(() => Promise.all(burstPods.map((n) => floor.cni('ADD', n))));
  await pool(burstPods, plan.parallelism, (n) => floor.cni('DEL', n));
  const b = await timed(() => Promise.all(burstPods.map((n) => r.add(n, `burst-${n}`))));
  const burst = {
    n: plan.burst,
    wallMs: b.ms,
    failures: failures(b.value),
    distinct: distinct(b.value),
    slowestMs: Math.max(...b.value.map((a) => a.ms)),
    floorWallMs: fb.ms,
  };
  progress(
    `${plan.burst} ADDs at once: ${burst.wallMs} ms, ${burst.failures} failures, ${burst.distinct} distinct addresses; the floor's burst ${fb.ms} ms`,
  );
  await pool(burstPods, plan.parallelism, (n) => r.del(n, `burst-${n}`));

  // 3. ADDs at a fixed parallelism; these leases stay.
  const parPods = range(1, plan.parallelTotal);
  const fp = await timed(() => pool(parPods, plan.parallelism, (n) => floor.cni('ADD', n)));
  await pool(parPods, plan.parallelism, (n) => floor.cni('DEL', n));
  const p = await timed(() => pool(parPods, plan.parallelism, (n) => r.add(n, `hold-${n}`)));
  const parallel = {
    n: plan.parallelTotal,
    concurrency: plan.parallelism,
    wallMs: p.ms,
    failures: failures(p.value),
    distinct: distinct(p.value),
    floorWallMs: fp.ms,
  };
  progress(
    `${plan.parallelTotal} ADDs, ${plan.parallelism} in parallel: ${parallel.wallMs} ms, ${parallel.failures} failures; the floor's ${fp.ms} ms`,
  );
  let held = parallel.distinct;
  await sample(held);

  let fill: SubjectResult['fill'];
  let cpu: SubjectResult['cpu'];
  if (plan.held > plan.parallelTotal) {
    await r.ensurePods(plan.held);
    progress(
      `filling to ${plan.held} leases (${plan.fillParallelism} in parallel, at most ${plan.fillBudgetMs / 1000} s)`,
    );
    const deadline = performance.now() + plan.fillBudgetMs;
    const fillPods = range(plan.parallelTotal + 1, plan.held);
    const f = await timed(() =>
      pool(
        fillPods,
        plan.fillParallelism,
        (n) => r.add(n, `hold-${n}`),
        () => performance.now() > deadline,
      ),
    );
    held += distinct(f.value);
    fill = {
      wanted: plan.held,
      held,
      wallMs: f.ms,
      failures: failures(f.value),
      capped: f.value.length < fillPods.length,
    };
    progress(
      `holding ${held} leases after ${f.ms} ms${fill.capped ? ' (capped by the time budget)' : ''}, ${fill.failures} failures`,
    );
    await sample(held);

    // 4. CPU with the leases held and nothing due (the leases are long: no renewal falls in the window).
    if (plan.cpuWindowMs > 0) {
      const before = cpuTimeMs(pid);
      await sleep(plan.cpuWindowMs);
      const cpuMs = cpuTimeMs(pid) - before;
      cpu = {
        leases: held,
        windowS: plan.cpuWindowMs / 1000,
        cpuMs,
        percentOfCore: round((cpuMs / plan.cpuWindowMs) * 100, 3),
      };
      progress(`CPU over ${cpu.windowS} s with ${held} leases: ${cpuMs} ms (${cpu.percentOfCore} % of a core)`);
    }
  }

  // 5. Plugin start-up.
  const startup = await pluginAlone(topo, subject, plan.startupRuns, r.errors);
  progress(`plugin alone: VERSION p50 ${startup.version.p50} ms, ADD of a held lease p50 ${startup.addHeld.p50} ms`);

  return {
    name: subject.name,
    sequentialAdd,
    sequentialDel,
    floor: floorResult,
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
