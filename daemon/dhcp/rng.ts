// Randomness for the lease core (xid, backoff jitter, T1 jitter) is injected, so a seed fixes every schedule in
// tests; the daemon seeds it from crypto.

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform 32-bit unsigned integer. */
  u32(): number;
}

/** mulberry32: tiny, fast, and good enough for xids and jitter (not for secrets). */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  const u32 = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return { u32, next: () => u32() / 0x100000000 };
}
