// DHCPv6 retransmission (RFC 8415 §15) and lease times (§14.2, §21.4, §21.6). Pure arithmetic on absolute ms.
import type { Rng } from '../dhcp/rng';
import { T1_JITTER_FRACTION } from '../dhcp/timing';
import { INFINITY, IaAddress, IaNa } from './options';

/** One message's retransmission parameters (§7.6): initial and maximum RT, count and duration limits (0: none). */
export interface Retransmission {
  irtMs: number;
  mrtMs: number;
  mrc: number;
  mrdMs: number;
}

/** Parameters per client message. RENEW's and REBIND's MRD is the time left until T2 / the valid lifetime. */
export interface Timing6 {
  solicit: Retransmission;
  request: Retransmission;
  confirm: Retransmission;
  renew: Retransmission;
  rebind: Retransmission;
  decline: Retransmission;
}

/** RFC 8415 §7.6. */
export const DEFAULT_TIMING6: Timing6 = {
  solicit: { irtMs: 1000, mrtMs: 3600_000, mrc: 0, mrdMs: 0 },
  request: { irtMs: 1000, mrtMs: 30_000, mrc: 10, mrdMs: 0 },
  confirm: { irtMs: 1000, mrtMs: 4000, mrc: 0, mrdMs: 10_000 },
  renew: { irtMs: 10_000, mrtMs: 600_000, mrc: 0, mrdMs: 0 },
  rebind: { irtMs: 10_000, mrtMs: 600_000, mrc: 0, mrdMs: 0 },
  decline: { irtMs: 1000, mrtMs: 0, mrc: 5, mrdMs: 0 },
};

/** RAND of §15: uniform in [-0.1, 0.1]; for the first SOLICIT strictly positive (here at least 0.001, so a whole
 *  millisecond on any IRT of a second), so the first RT exceeds IRT and ADVERTISEs are collected for at least IRT. */
function rand(rng: Rng, positive: boolean): number {
  return positive ? 0.001 + rng.next() * 0.099 : (rng.next() * 2 - 1) * 0.1;
}

/** RT after the first transmission: IRT + RAND*IRT. */
export function firstRtMs(p: Retransmission, rng: Rng, solicit: boolean): number {
  return Math.round(p.irtMs + rand(rng, solicit) * p.irtMs);
}

/** RT after a retransmission: 2*RTprev + RAND*RTprev, or MRT + RAND*MRT once over MRT (when MRT is set). */
export function nextRtMs(prevMs: number, p: Retransmission, rng: Rng): number {
  const rt = 2 * prevMs + rand(rng, false) * prevMs;
  return Math.round(p.mrtMs > 0 && rt > p.mrtMs ? p.mrtMs + rand(rng, false) * p.mrtMs : rt);
}

/** The address of an IA a client may use (§18.2.10.1): valid lifetime > 0, preferred ≤ valid, no error status. */
export function usableAddress(ia: IaNa, isLeasable: (a: string) => boolean): IaAddress | undefined {
  return ia.addresses.find(
    (a) =>
      a.validS > 0 &&
      a.preferredS <= a.validS &&
      (a.status === undefined || a.status.code === 0) &&
      isLeasable(a.address),
  );
}

export interface LeaseTimes6 {
  preferredS: number;
  validS: number;
  t1AtMs: number | null;
  t2AtMs: number | null;
  expiresAtMs: number | null;
}

/**
 * Deadlines of a bound address, counted from `nowMs` (the REPLY's arrival, §18.2.10.1). T1/T2 as the server set them;
 * when it left them to the client (0), 0.5 and 0.8 of the preferred lifetime (§21.4's recommendation); infinity: no
 * deadline. T1 is jittered by ±5 % like DHCPv4's, never to T2. Undefined when T1 > T2 (§21.4: the IA is discarded).
 */
export function leaseTimes6(ia: IaNa, addr: IaAddress, nowMs: number, rng: Rng): LeaseTimes6 | undefined {
  if (ia.t1S !== 0 && ia.t2S !== 0 && ia.t1S > ia.t2S) return undefined;
  const at = (s: number): number | null => (s === INFINITY ? null : nowMs + s * 1000);
  const preferred = addr.preferredS === INFINITY ? undefined : addr.preferredS;
  const t1S = ia.t1S !== 0 ? ia.t1S : preferred === undefined ? INFINITY : Math.floor(preferred * 0.5);
  const t2S = ia.t2S !== 0 ? ia.t2S : preferred === undefined ? INFINITY : Math.floor(preferred * 0.8);
  const expiresAtMs = at(addr.validS);
  // T2 never after the address's end: renewing a dead address is pointless.
  let t2AtMs = at(t2S);
  if (expiresAtMs !== null && (t2AtMs === null || t2AtMs > expiresAtMs)) t2AtMs = expiresAtMs;
  let t1AtMs = at(t1S);
  if (t1AtMs !== null) {
    t1AtMs += Math.round((rng.next() * 2 - 1) * T1_JITTER_FRACTION * (t1AtMs - nowMs));
    if (t2AtMs !== null) t1AtMs = Math.min(t1AtMs, t2AtMs - 1);
  }
  return { preferredS: addr.preferredS, validS: addr.validS, t1AtMs, t2AtMs, expiresAtMs };
}
