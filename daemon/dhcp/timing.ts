// Lease times and retransmission delays (RFC 2131 §4.1, §4.4.5). Pure arithmetic on absolute milliseconds.
import { leaseTimeS, rebindingTimeS, renewalTimeS } from './options';
import { Rng } from './rng';
import { DhcpMessage } from './types';

export interface TimingConfig {
  /** Wait after the first transmission of a DISCOVER or REQUEST (RFC 2131 §4.1: 4 s). */
  firstRetransmitMs: number;
  /** Cap of the doubling wait (RFC: 64 s). */
  maxRetransmitMs: number;
  /** Each wait is randomised uniformly by ± this much (RFC: ±1 s). */
  jitterMs: number;
  /** Floor of the RENEWING/REBINDING retransmission wait (RFC: 60 s); never waits past the deadline itself. */
  minRenewRetransmitMs: number;
  /** Retransmissions of a REQUEST in REQUESTING or REBOOTING before going back to INIT. */
  requestRetries: number;
}

export const DEFAULT_TIMING: TimingConfig = {
  firstRetransmitMs: 4000,
  maxRetransmitMs: 64000,
  jitterMs: 1000,
  minRenewRetransmitMs: 60000,
  requestRetries: 4,
};

/** Option 51 value meaning "forever" (RFC 2131 §3.3). */
export const INFINITE_LEASE_S = 0xffffffff;

/** T1 is moved by up to ± this fraction, so leases taken together do not all renew at the same instant. */
export const T1_JITTER_FRACTION = 0.05;

/** Absolute deadlines of a lease; all null for an infinite lease. */
export interface LeaseTimes {
  leaseTimeS: number;
  t1AtMs: number | null;
  t2AtMs: number | null;
  expiresAtMs: number | null;
}

export type TimesResult = { ok: true; value: LeaseTimes } | { ok: false; reason: string };

/** An option 58/59 value usable as a duration shorter than `limitS`, else undefined. */
function shorter(valueS: number | undefined, limitS: number): number | undefined {
  return valueS !== undefined && valueS > 0 && valueS < limitS ? valueS : undefined;
}

/**
 * Deadlines of an ACK, counted from when the (first) REQUEST of the transaction was sent (RFC 2131 §4.4.1), not
 * from when the ACK arrived. T2 = option 59 when 0 < T2 < lease, else 87.5 %; T1 = option 58 when 0 < T1 < T2,
 * else 50 %, or 4/7 of T2 when 50 % is not below T2 (keeps the default ratio). T1 is then jittered, never to T2.
 * A lease without option 51, or of 0 s, is refused.
 */
export function leaseTimes(ack: DhcpMessage, requestSentAtMs: number, rng: Rng): TimesResult {
  const lease = leaseTimeS(ack);
  if (lease === undefined) return { ok: false, reason: 'no lease time (option 51)' };
  if (lease === 0) return { ok: false, reason: 'lease time of 0 s' };
  if (lease === INFINITE_LEASE_S)
    return { ok: true, value: { leaseTimeS: lease, t1AtMs: null, t2AtMs: null, expiresAtMs: null } };
  const leaseMs = lease * 1000;
  const t2Ms = (shorter(rebindingTimeS(ack), lease) ?? lease * 0.875) * 1000;
  const t1GivenS = shorter(renewalTimeS(ack), t2Ms / 1000);
  let t1Ms = t1GivenS !== undefined ? t1GivenS * 1000 : leaseMs * 0.5;
  if (t1Ms >= t2Ms) t1Ms = (t2Ms * 4) / 7;
  const jitter = (rng.next() * 2 - 1) * T1_JITTER_FRACTION * t1Ms;
  const t2AtMs = requestSentAtMs + Math.round(t2Ms);
  return {
    ok: true,
    value: {
      leaseTimeS: lease,
      t1AtMs: Math.min(requestSentAtMs + Math.round(t1Ms + jitter), t2AtMs - 1),
      t2AtMs,
      expiresAtMs: requestSentAtMs + leaseMs,
    },
  };
}

/**
 * Wait after transmission number `sendIndex` (0 = the first) of a DISCOVER or REQUEST: firstRetransmitMs doubled
 * per retransmission up to maxRetransmitMs, ± jitterMs (RFC 2131 §4.1).
 */
export function retransmitDelayMs(sendIndex: number, timing: TimingConfig, rng: Rng): number {
  const base = Math.min(timing.firstRetransmitMs * 2 ** Math.min(sendIndex, 30), timing.maxRetransmitMs);
  const jitter = (rng.next() * 2 - 1) * timing.jitterMs;
  return Math.max(0, Math.round(base + jitter));
}

/**
 * When to retransmit in RENEWING (deadline T2) or REBINDING (deadline expiry): half the remaining time, at least
 * `floorMs`, but never past the deadline (RFC 2131 §4.4.5).
 */
export function renewRetransmitAtMs(nowMs: number, deadlineMs: number, floorMs: number): number {
  const remaining = Math.max(0, deadlineMs - nowMs);
  return nowMs + Math.min(Math.max(Math.round(remaining / 2), floorMs), remaining);
}
