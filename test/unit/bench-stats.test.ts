// The benchmark's arithmetic: nearest-rank percentiles, the bounded pool, and the ratio column of the table.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { distribution, percentile, pool, table } from '../../scripts/bench/stats';

test('percentile is nearest-rank over the sorted values', () => {
  const v = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
  assert.equal(percentile(v, 50), 5);
  assert.equal(percentile(v, 95), 10);
  assert.equal(percentile(v, 100), 10);
  assert.equal(percentile([42], 50), 42);
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.deepEqual(distribution([3, 1, 2]), { n: 3, p50: 2, p95: 3, max: 3 });
});

test('pool keeps at most `concurrency` in flight, returns results in item order, and stops when told', async () => {
  let inFlight = 0;
  let peak = 0;
  const out = await pool([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
    peak = Math.max(peak, ++inFlight);
    await new Promise((r) => setTimeout(r, 8 - n));
    inFlight--;
    return n * 10;
  });
  assert.deepEqual(out, [10, 20, 30, 40, 50, 60, 70]);
  assert.equal(peak, 3);
  let started = 0;
  const partial = await pool(
    [1, 2, 3, 4, 5],
    1,
    async (n) => (started++, n),
    () => started >= 2,
  );
  assert.deepEqual(partial, [1, 2]);
});

test('the table prints reference / ts-dhcp for lower-is-better rows and marks targets', () => {
  const text = table([
    { metric: 'ADD p50 (ms)', ts: 100, ref: 2000, lowerIsBetter: true, target: '≤ 60', met: false },
    { metric: 'failures', ts: 0, ref: 0, target: '0', met: true },
    { metric: 'threads', ts: 11, ref: undefined, lowerIsBetter: true },
  ]);
  const lines = text.split('\n');
  assert.equal(lines.length, 5);
  assert.match(lines[2] as string, /\| +100 \| +2000 \| +20× \| +≤ 60 ✗ missed \|$/);
  assert.match(lines[3] as string, /0 ✓ met \|$/);
  assert.match(lines[4] as string, /\| +11 \| +— \| +\| +\|$/);
});
