// quietGc against a fake collector and heap: when the collection comes (quietMs after the last call, once per
// quiet period) and when it does not (no collector, too little growth). node:test's mock timers, fake clock. And
// compacting() on a real V8 heap, in a node of its own with --expose-gc.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import { quietGc, type QuietGc } from '../../daemon/quiet-gc';

const QUIET_MS = 1000;
const MIN_GROWTH = 1 << 20;

interface Fake {
  q: QuietGc;
  gcs: number;
  heap: number;
  /** Advances the fake clock and the mock timers together. */
  wait(ms: number): void;
}

function fake(t: TestContext): Fake {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let now = 0;
  const f: Fake = {
    gcs: 0,
    heap: 0,
    wait: (ms) => {
      now += ms;
      t.mock.timers.tick(ms);
    },
    q: undefined as unknown as QuietGc,
  };
  f.q = quietGc(QUIET_MS, MIN_GROWTH, {
    gc: () => {
      f.gcs++;
      f.heap = 0;
    },
    heapUsed: () => f.heap,
    now: () => now,
  });
  return f;
}

test('one collection quietMs after the last of a run of calls', (t) => {
  const f = fake(t);
  f.heap = 5 * MIN_GROWTH;
  for (let i = 0; i < 10; i++) {
    f.q.touch();
    f.wait(QUIET_MS / 2);
  }
  assert.equal(f.gcs, 0, 'calls half a quiet period apart keep postponing it');
  f.wait(QUIET_MS / 2 - 1);
  assert.equal(f.gcs, 0);
  f.wait(1);
  assert.equal(f.gcs, 1);
  f.wait(10 * QUIET_MS);
  assert.equal(f.gcs, 1, 'nothing more while nothing comes');
});

test('no collection when the heap grew by less than minGrowth since the last', (t) => {
  const f = fake(t);
  f.heap = MIN_GROWTH - 1;
  f.q.touch();
  f.wait(QUIET_MS);
  assert.equal(f.gcs, 0);
  f.heap = MIN_GROWTH;
  f.q.touch();
  f.wait(QUIET_MS);
  assert.equal(f.gcs, 1);
});

test('without a collector (node started without --expose-gc) touch does nothing', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let reads = 0;
  const q = quietGc(QUIET_MS, MIN_GROWTH, { gc: undefined, heapUsed: () => ++reads, now: () => 0 });
  q.touch();
  t.mock.timers.tick(QUIET_MS);
  assert.equal(reads, 0, 'no timer, no look at the heap');
});

test('no collection while a call runs, however long; one quietMs after it ends', async (t) => {
  const f = fake(t);
  f.heap = 2 * MIN_GROWTH;
  let finish!: () => void;
  const call = f.q.during(() => new Promise<string>((resolve) => (finish = () => resolve('answer'))));
  f.wait(5 * QUIET_MS);
  assert.equal(f.gcs, 0, 'an ADD waiting for its server is not paused by a collection');
  finish();
  assert.equal(await call, 'answer');
  f.wait(QUIET_MS - 1);
  assert.equal(f.gcs, 0);
  f.wait(1);
  assert.equal(f.gcs, 1);
});

test('stop cancels the pending collection', (t) => {
  const f = fake(t);
  f.heap = 2 * MIN_GROWTH;
  f.q.touch();
  f.q.stop();
  f.wait(2 * QUIET_MS);
  assert.equal(f.gcs, 0);
});

test('compacting() gives back the pages a plain collection leaves partly free', () => {
  // 60000 small objects, then 4 in 5 dropped all over their pages: the old generation is mostly holes.
  const script = `
    const v8 = require('node:v8');
    const { compacting } = require(${JSON.stringify(require.resolve('../../daemon/quiet-gc'))});
    const keep = [];
    for (let i = 0; i < 60000; i++) keep.push({ a: i, b: 'x' + i, c: [i, i + 1] });
    gc();
    for (let i = 0; i < keep.length; i++) if (i % 5 !== 0) keep[i] = null;
    compacting(gc)();
    setTimeout(() => {
      const old = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
      process.stdout.write(JSON.stringify({ committed: old.space_size, used: old.space_used_size }));
    }, 300);`;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { committed, used } = JSON.parse(r.stdout) as { committed: number; used: number };
  assert.ok(committed < used * 1.5, `old generation ${committed} bytes committed for ${used} used`);
});
