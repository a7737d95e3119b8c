// One full garbage collection once the CNI calls have stopped for a while. V8 collects its old generation only when
// it next needs room, so after a burst of ADDs the dead objects of the burst and half-empty pages stay committed
// for as long as the daemon idles: with 1000 leases 14-19 MiB of old generation around 12 MiB live, depending on
// where the last burst stopped. A full GC then costs a few ms once per burst, when nothing waits for the daemon.

import { setFlagsFromString } from 'node:v8';

/**
 * V8's full collection, compacting: a plain one leaves live objects where they are, so pages the burst left partly
 * free stay committed (4-6 MiB of 14-16 with 1000 leases in some runs). Compacting every full GC instead (node's
 * --compact-on-every-full-gc) costs ADD latency in bursts (sequential ADD p50 20 -> 27 ms, p95 23 -> 45): only this
 * one compacts. V8 reads the flag at each GC.
 */
export function compacting(gc: () => void): () => void {
  return () => {
    setFlagsFromString('--compact-on-every-full-gc');
    try {
      gc();
    } finally {
      setFlagsFromString('--no-compact-on-every-full-gc');
    }
  };
}

/** What a quiet GC needs from the process (injected by the tests). */
export interface QuietGcDeps {
  /** V8's full collection: `gc` of node's --expose-gc (DAEMON_NODE_FLAGS); without it, quietGc does nothing. */
  gc: (() => void) | undefined;
  /** Bytes of JS heap in use (process.memoryUsage().heapUsed). */
  heapUsed: () => number;
  now: () => number;
}

export interface QuietGc {
  /** Something made garbage: the GC waits until `quietMs` after the latest touch. */
  touch(): void;
  /** Runs a call, with no collection while it runs (an ADD waiting for its server may take seconds) and the wait
   *  counted from its end. */
  during<T>(call: () => Promise<T>): Promise<T>;
  stop(): void;
}

/**
 * A collection `quietMs` after the last touch(), when the heap has grown by at least `minGrowth` bytes since the
 * previous one (a single ADD's garbage is not worth a full GC).
 */
export function quietGc(quietMs: number, minGrowth: number, deps: QuietGcDeps): QuietGc {
  const { gc } = deps;
  if (!gc) return { touch: () => undefined, during: (call) => call(), stop: () => undefined };
  let last = 0;
  let usedAfterGc = 0;
  /** Calls running now: none is collected under, and the last one's end arms the wait. */
  let running = 0;
  let timer: NodeJS.Timeout | undefined;
  // One timer per quiet period, re-armed for the rest of the wait when a touch came meanwhile: no clearTimeout on
  // every call.
  const arm = (ms: number) => (timer = setTimeout(check, ms).unref());
  const check = (): void => {
    const left = last + quietMs - deps.now();
    if (left > 0) return void arm(left);
    timer = undefined;
    if (running > 0 || deps.heapUsed() - usedAfterGc < minGrowth) return;
    gc();
    usedAfterGc = deps.heapUsed();
  };
  const touch = (): void => {
    last = deps.now();
    if (!timer) arm(quietMs);
  };
  return {
    touch,
    during: async (call) => {
      running++;
      try {
        return await call();
      } finally {
        running--;
        touch();
      }
    },
    stop: () => {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
