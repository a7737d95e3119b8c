// Randomness for the lease core (xid, backoff jitter, T1 jitter) is injected, so a seed fixes every schedule in
// tests; the daemon uses cryptoRng.

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

/** The daemon's generator: the kernel's CSPRNG, read in blocks. An xid is the only thing keeping an off-path host
 *  from answering for the server, so one xid must not predict the next (RFC 2131 §4.1: "chosen randomly"). */
export function cryptoRng(): Rng {
  const pool = new Uint32Array(256);
  let pos = pool.length;
  const u32 = (): number => {
    if (pos === pool.length) {
      crypto.getRandomValues(pool);
      pos = 0;
    }
    return pool[pos++] as number;
  };
  return { u32, next: () => u32() / 0x100000000 };
}
