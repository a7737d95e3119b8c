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
import { rows } from './bench/rows';
import { table } from './bench/stats';
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
