// The main table's rows: each figure of both implementations, the ratio's direction and the target.
import type { Plan, SubjectResult } from './scenarios';
import type { Row } from './stats';

export function rows(ts: SubjectResult | undefined, ref: SubjectResult | undefined, plan: Plan): Row[] {
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
