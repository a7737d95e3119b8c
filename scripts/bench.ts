// `npm run bench`: ts-dhcp and the reference `dhcp daemon` side by side on the same kind of test network (dnsmasq
// with --no-ping on a LAN in network namespaces, the real macvlan plugin), one implementation after the other, each
// on a topology of its own. Prints a table with both columns and their ratio and writes the figures as JSON.
// Run as root. Flags: --quick (fewer iterations, no 1000-lease/CPU scenario), --only ts-dhcp|reference,
// --out FILE (default bench-results.json).
import * as fs from 'node:fs';
import * as os from 'node:os';
import { createTopology, startDnsmasq, type Topology } from '../test/netns/lib';
import {
  CONFLICT_FULL,
  CONFLICT_QUICK,
  benchConflictDetection,
  conflictText,
  type ConflictResult,
} from './bench/conflict';
import { benchDualStack, dualStackText, type DualStackResult } from './bench/dual-stack';
import { runScenarios, type Plan, type SubjectResult } from './bench/scenarios';
import { table, type Row } from './bench/stats';
import { referenceAvailable, startSubject, type SubjectName } from './bench/subjects';

const FULL: Plan = {
  sequential: 30,
  burst: 50,
  parallelTotal: 200,
  parallelism: 10,
  held: 1000,
  fillParallelism: 25,
  fillBudgetMs: 180_000,
  cpuWindowMs: 60_000,
  startupRuns: 20,
  settleMs: 2000,
};

const QUICK: Plan = {
  ...FULL,
  sequential: 10,
  burst: 20,
  parallelTotal: 50,
  held: 0,
  cpuWindowMs: 0,
  startupRuns: 5,
  settleMs: 1000,
};

/** Both topologies use the same addresses: they never exist at the same time. A /21 holds the 1000 leases. */
const LAN_CIDR = '198.19.16.1/21';
const RANGE: [string, string] = ['198.19.17.0', '198.19.23.250'];
const PREFIX: Record<SubjectName, string> = { 'ts-dhcp': 'tsb-', reference: 'tsbr-' };

interface Args {
  plan: Plan;
  quick: boolean;
  only?: SubjectName;
  out: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { plan: FULL, quick: false, out: 'bench-results.json' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') {
      args.quick = true;
      args.plan = QUICK;
    } else if (a === '--only' && (argv[i + 1] === 'ts-dhcp' || argv[i + 1] === 'reference')) {
      args.only = argv[++i] as SubjectName;
    } else if (a === '--out' && argv[i + 1]) {
      args.out = argv[++i] as string;
    } else {
      throw new Error(
        `usage: npm run bench -- [--quick] [--only ts-dhcp|reference] [--out FILE] (got ${JSON.stringify(a)})`,
      );
    }
  }
  return args;
}

const t0 = performance.now();
function progress(who: string): (msg: string) => void {
  return (msg) =>
    process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${who}: ${msg}\n`);
}

async function benchOne(name: SubjectName, plan: Plan): Promise<SubjectResult> {
  const say = progress(name);
  let topo: Topology | undefined;
  try {
    topo = await createTopology({ prefix: PREFIX[name], lanCidr: LAN_CIDR });
    await startDnsmasq(topo, { range: RANGE, leaseTime: 86_400, extraArgs: ['--dhcp-lease-max=4000'] });
    const subject = await startSubject(name, topo);
    say(`daemon PID ${subject.pid} on ${topo.prefix}node, dnsmasq on ${LAN_CIDR}`);
    return await runScenarios(topo, subject, plan, say);
  } finally {
    say('tearing down');
    await topo?.destroy();
  }
}

function rows(ts: SubjectResult | undefined, ref: SubjectResult | undefined, plan: Plan): Row[] {
  const both = <T>(f: (r: SubjectResult) => T | undefined): { ts: T | undefined; ref: T | undefined } => ({
    ts: ts && f(ts),
    ref: ref && f(ref),
  });
  const le = (limit: number, v: number | undefined): boolean | undefined => (v === undefined ? undefined : v <= limit);
  const out: Row[] = [
    {
      metric: `ADD p50, ${plan.sequential} sequential (ms)`,
      ...both((r) => r.sequentialAdd.p50),
      lowerIsBetter: true,
      target: '≤ 30',
      met: le(30, ts?.sequentialAdd.p50),
    },
    { metric: '  floor: macvlan + static IPAM, ADD p50 (ms)', ...both((r) => r.floor.add.p50) },
    {
      metric: '  ADD p50 above the floor (ms)',
      ...both((r) => r.sequentialAdd.p50 - r.floor.add.p50),
      lowerIsBetter: true,
    },
    { metric: 'ADD p95 (ms)', ...both((r) => r.sequentialAdd.p95), lowerIsBetter: true },
    { metric: 'ADD max (ms)', ...both((r) => r.sequentialAdd.max), lowerIsBetter: true },
    {
      metric: `DEL p50, ${plan.sequential} sequential (ms)`,
      ...both((r) => r.sequentialDel.p50),
      lowerIsBetter: true,
      target: '≤ 30, < reference',
      met:
        ts && ref
          ? ts.sequentialDel.p50 <= 30 && ts.sequentialDel.p50 < ref.sequentialDel.p50
          : le(30, ts?.sequentialDel.p50),
    },
    { metric: '  floor: macvlan + static IPAM, DEL p50 (ms)', ...both((r) => r.floor.del.p50) },
    {
      metric: '  DEL p50 above the floor (ms)',
      ...both((r) => r.sequentialDel.p50 - r.floor.del.p50),
      lowerIsBetter: true,
    },
    { metric: 'DEL p95 (ms)', ...both((r) => r.sequentialDel.p95), lowerIsBetter: true },
    { metric: 'sequential ADD/DEL failures', ...both((r) => r.sequentialAdd.failures + r.sequentialDel.failures) },
    {
      metric: `${plan.burst} ADDs at once: wall (ms)`,
      ...both((r) => r.burst.wallMs),
      lowerIsBetter: true,
      target: '≤ 700',
      met: le(700, ts?.burst.wallMs),
    },
    { metric: `  floor: ${plan.burst} macvlan + static IPAM ADDs at once (ms)`, ...both((r) => r.burst.floorWallMs) },
    {
      metric: `${plan.burst} at once: failures`,
      ...both((r) => r.burst.failures),
      target: '0',
      met: le(0, ts?.burst.failures),
    },
    { metric: `${plan.burst} at once: distinct addresses`, ...both((r) => r.burst.distinct) },
    {
      metric: `${plan.parallelTotal} ADDs, ${plan.parallelism} in parallel: wall (ms)`,
      ...both((r) => r.parallel.wallMs),
      lowerIsBetter: true,
      target: '≤ 2500',
      met: le(2500, ts?.parallel.wallMs),
    },
    {
      metric: `  floor: ${plan.parallelTotal} macvlan + static IPAM ADDs, ${plan.parallelism} in parallel (ms)`,
      ...both((r) => r.parallel.floorWallMs),
    },
    { metric: `${plan.parallelTotal} ADDs: failures`, ...both((r) => r.parallel.failures) },
  ];
  for (const [i, label] of ['fresh', `${plan.parallelTotal} leases`, `${plan.held} leases`].entries()) {
    const at = both((r) => r.proc[i]);
    if (!at.ts && !at.ref) continue;
    const held = (p: { leases: number } | undefined): string => (p ? String(p.leases) : '?');
    const suffix = i === 2 && at.ref && at.ref.leases < plan.held ? ` (reference capped at ${held(at.ref)})` : '';
    const isLast = i === 2 || (i === 1 && plan.held === 0);
    out.push(
      {
        metric: `RSS idle, ${label} (MiB)${suffix}`,
        ts: at.ts?.rssMiB,
        ref: at.ref?.rssMiB,
        lowerIsBetter: true,
        // 60 MB = 57.2 MiB
        ...(i === 2 && { target: '≤ 60 MB', met: le(60 / 1.048576, at.ts?.rssMiB) }),
      },
      {
        metric: `  of which private (RssAnon, MiB)`,
        ts: at.ts?.rssAnonMiB,
        ref: at.ref?.rssAnonMiB,
        lowerIsBetter: true,
      },
      {
        metric: `threads, ${label}`,
        ts: at.ts?.threads,
        ref: at.ref?.threads,
        lowerIsBetter: true,
        ...(isLast &&
          ts && {
            target: 'independent of leases',
            met: ts.proc.every((p) => p.threads <= (ts.proc[0]?.threads ?? 0) + 4),
          }),
      },
      {
        metric: `open fds, ${label}`,
        ts: at.ts?.fds,
        ref: at.ref?.fds,
        lowerIsBetter: true,
        ...(isLast &&
          ts && { target: 'none per lease', met: ts.proc.every((p) => p.fds <= (ts.proc[0]?.fds ?? 0) + 2) }),
      },
    );
  }
  const cpu = both((r) => r.cpu);
  if (cpu.ts || cpu.ref) {
    const leases =
      cpu.ref && cpu.ts && cpu.ref.leases !== cpu.ts.leases ? ` (reference: ${cpu.ref.leases} leases)` : '';
    out.push({
      metric: `idle CPU over ${plan.cpuWindowMs / 1000} s, ${plan.held} leases (% of a core)${leases}`,
      ts: cpu.ts?.percentOfCore,
      ref: cpu.ref?.percentOfCore,
      lowerIsBetter: true,
      target: '< 0.1',
      met: cpu.ts === undefined ? undefined : cpu.ts.percentOfCore < 0.1,
    });
  }
  out.push(
    {
      metric: 'plugin alone: VERSION p50 (ms)',
      ...both((r) => r.startup.version.p50),
      lowerIsBetter: true,
      target: '≤ 2',
      met: le(2, ts?.startup.version.p50),
    },
    {
      metric: 'plugin alone: ADD of a held lease p50 (ms)',
      ...both((r) => r.startup.addHeld.p50),
      lowerIsBetter: true,
    },
    {
      metric: 'plugin file size (MB)',
      ...both((r) => Math.round(r.pluginBytes / 1e4) / 100),
      lowerIsBetter: true,
      target: '≤ 1',
      met: le(1e6, ts?.pluginBytes),
    },
  );
  return out;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: run as root (it builds network namespaces)\n');
    return 1;
  }
  // Every node the benchmark starts (daemon, plugin) inherits this environment; the variable costs ~50 ms a start.
  delete process.env.NODE_EXTRA_CA_CERTS;
  const loadAvgAtStart = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const names: SubjectName[] = args.only ? [args.only] : ['ts-dhcp', 'reference'];
  const results: Partial<Record<SubjectName, SubjectResult>> = {};
  const notes: string[] = [];
  for (const name of names) {
    if (name === 'reference' && !referenceAvailable()) {
      notes.push(
        'reference: /usr/lib/cni/dhcp not installed (Debian containernetworking-plugins); its column is empty',
      );
      continue;
    }
    results[name] = await benchOne(name, args.plan);
  }
  let conflicts: ConflictResult | undefined;
  let dual: DualStackResult | undefined;
  if (names.includes('ts-dhcp')) {
    conflicts = await benchConflictDetection(
      args.quick ? CONFLICT_QUICK : CONFLICT_FULL,
      progress('conflict detection'),
    );
    dual = await benchDualStack(args.plan.sequential, progress('dual-stack'));
  }
  const plan = args.plan;
  const ref = results.reference;
  if (ref?.fill?.capped)
    notes.push(
      `reference: filling to ${plan.held} leases was capped at ${plan.fillBudgetMs / 1000} s: it held ${ref.fill.held}`,
    );
  if (args.quick)
    notes.push('--quick: fewer iterations, no 1000-lease and CPU scenarios; not comparable with the targets');
  for (const r of Object.values(results)) for (const e of r.errors.slice(0, 3)) notes.push(`${r.name} failure: ${e}`);

  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    loadAvgAtStart,
    loadAvgAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
  const tableText = table(rows(results['ts-dhcp'], ref, plan));
  process.stdout.write(`\n${tableText}\n\n`);
  if (conflicts) process.stdout.write(`${conflictText(conflicts)}\n`);
  if (dual) process.stdout.write(`${dualStackText(dual)}\n`);
  for (const n of notes) process.stdout.write(`note: ${n}\n`);
  process.stdout.write(
    `machine: ${machine.cpus} CPUs (${machine.cpuModel}), Linux ${machine.kernel}, Node ${machine.node}, load average ${machine.loadAvgAtStart.join(' ')} at start, ${machine.loadAvgAtEnd.join(' ')} at end; ${Math.round((performance.now() - t0) / 1000)} s\n`,
  );
  fs.writeFileSync(
    args.out,
    `${JSON.stringify({ date: new Date().toISOString(), machine, plan, quick: args.quick, results, conflicts, dual, notes, table: tableText }, null, 2)}\n`,
  );
  process.stdout.write(`wrote ${args.out}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
