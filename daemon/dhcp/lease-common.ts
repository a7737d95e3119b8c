// What the DHCPv4 and DHCPv6 lease cores (daemon/dhcp/lease.ts, daemon/dhcp6/lease.ts) share, written once: pure.

/** The RELEASED state that follows s, remembering the address s held, if any (a later lease's 'changed' names it). */
export function releasedState(s: object): { state: 'RELEASED'; previousAddress?: string } {
  const previousAddress = 'lease' in s ? (s.lease as { address: string }).address : undefined;
  return previousAddress === undefined ? { state: 'RELEASED' } : { state: 'RELEASED', previousAddress };
}

/** A reply the core does not act on: the state stays, and the driver hears why (an 'ignored' event). */
export function ignore<S, R extends string>(state: S, reason: R) {
  return { state, actions: [{ type: 'emit' as const, event: { kind: 'ignored' as const, reason } }] };
}

/** The earliest of some instants; null: never. */
export function earliest(...times: (number | null)[]): number | undefined {
  const set = times.filter((t): t is number => t !== null);
  return set.length === 0 ? undefined : Math.min(...set);
}

/** The instants of a held lease; null: never (an infinite lease). */
export interface HeldTimes {
  t1AtMs: number | null;
  t2AtMs: number | null;
  expiresAtMs: number | null;
}

/** The next deadline of a held lease: T1 while BOUND, T2 until REBINDING, expiry always, and the retransmission of
 *  a RENEW or REBIND in flight (RFC 2131 §4.4.5, RFC 8415 §18.2.4-5). `also`: a core's own deadline beside them. */
export function heldDeadline(
  s:
    | { state: 'BOUND'; lease: HeldTimes }
    | { state: 'RENEWING' | 'REBINDING'; lease: HeldTimes; tx: { retransmitAtMs: number } },
  also: number | null = null,
): number | undefined {
  const { t1AtMs, t2AtMs, expiresAtMs } = s.lease;
  if (s.state === 'BOUND') return earliest(t1AtMs, t2AtMs, expiresAtMs, also);
  return earliest(s.tx.retransmitAtMs, s.state === 'RENEWING' ? t2AtMs : null, expiresAtMs, also);
}

/** A core's step for each kind of input; the compiler checks that no kind is missing. */
export type InputHandlers<I extends { type: string }, S, C, R> = {
  [K in I['type']]: (s: S, input: Extract<I, { type: K }>, nowMs: number, ctx: C) => R;
};

/** The step of one input: its kind's handler. */
export function onInput<I extends { type: string }, S, C, R>(
  handlers: InputHandlers<I, S, C, R>,
  s: S,
  input: I,
  nowMs: number,
  ctx: C,
): R {
  const handler = handlers[input.type as I['type']] as (s: S, input: I, nowMs: number, ctx: C) => R;
  return handler(s, input, nowMs, ctx);
}
