// Percentiles, a bounded-parallelism pool and the side-by-side table.

/** Nearest-rank percentile (p in 0..100) of the values; NaN when there are none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export interface Distribution {
  n: number;
  p50: number;
  p95: number;
  max: number;
}

export function distribution(values: number[]): Distribution {
  return { n: values.length, p50: percentile(values, 50), p95: percentile(values, 95), max: percentile(values, 100) };
}

/** Runs fn over items with at most `concurrency` in flight; results in item order. `stop` ends it early (the
 *  items not started are left out of the result). */
export async function pool<T, R>(
  items: T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
  stop: () => boolean = () => false,
): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !stop()) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results.filter((r) => r !== undefined);
}

export interface Row {
  metric: string;
  ts: number | string | undefined;
  ref: number | string | undefined;
  /** Lower is better (time, memory): the ratio printed is reference / ts-dhcp. */
  lowerIsBetter?: boolean;
  target?: string;
  /** Whether ts-dhcp meets the target; undefined when there is none. */
  met?: boolean;
}

function cell(v: number | string | undefined): string {
  if (v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (Number.isNaN(v)) return '—';
  return Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 1);
}

function ratio(r: Row): string {
  if (!r.lowerIsBetter || typeof r.ts !== 'number' || typeof r.ref !== 'number' || !(r.ts > 0) || Number.isNaN(r.ref))
    return '';
  const x = r.ref / r.ts;
  return `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}×`;
}

/** A Markdown table (readable in a terminal too): metric, ts-dhcp, reference, reference/ts-dhcp, target. */
export function table(rows: Row[]): string {
  const head = ['metric', 'ts-dhcp', 'reference', 'ref / ts', 'target (ts-dhcp)'];
  const body = rows.map((r) => [
    r.metric,
    cell(r.ts),
    cell(r.ref),
    ratio(r),
    r.target === undefined ? '' : `${r.target} ${r.met === undefined ? '' : r.met ? '✓ met' : '✗ missed'}`.trim(),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(head), rule, ...body.map(line)].join('\n');
}
