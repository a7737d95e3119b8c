// What one lease went through, for people and metrics: its last state changes (the lease view), what the current
// acquisition sent and heard (the text of ADD's "try again later"), and when the current exchange began (the latency
// metric). Protocol-neutral: the driver names the messages.
import type { Transition } from '../common/rpc';

/** Transitions kept per lease for the lease view. */
const MAX_TRANSITIONS = 16;

/** What a progress line calls a server's offer, refusal and grant (DHCPv4: OFFER, NAK, ACK). */
export interface AnswerNames {
  offer: string;
  refusal: string;
  grant: string;
}

const NONE_IGNORED: Readonly<Record<string, number>> = Object.freeze({});

/** A transition as kept: its time as a number, made an ISO string only for the lease view (~80 bytes less each). */
type Kept = Omit<Transition, 'at'> & { atMs: number };

export class LeaseHistory {
  /** The most recent state changes, oldest first, at most MAX_TRANSITIONS. */
  private readonly kept: Kept[] = [];
  /** Replies the core ignored, by reason (wrong xid, chaddr, server id...); made at the first (most leases have
   *  none, and an empty object is ~56 bytes a lease). */
  private ignoredBy?: Record<string, number>;
  lastError?: string;
  /** Messages sent in the current acquisition, by name; none while a lease is held. */
  private sent?: Map<string, number>;
  private offers = 0;
  private refusals = 0;
  private exchangeStartMs?: number;

  /** `where`: "on eth1 in /var/run/netns/x". */
  constructor(
    private readonly now: () => number,
    private readonly where: string,
    private readonly names: AnswerNames,
  ) {}

  transition(from: string, to: string, why: string): void {
    this.kept.push({ atMs: this.now(), from, to, why });
    if (this.kept.length > MAX_TRANSITIONS) this.kept.shift();
  }

  /** The most recent state changes, oldest first. */
  get transitions(): Transition[] {
    return this.kept.map(({ atMs, ...t }) => ({ at: new Date(atMs).toISOString(), ...t }));
  }

  sentOne(name: string): void {
    this.sent ??= new Map();
    this.sent.set(name, (this.sent.get(name) ?? 0) + 1);
  }

  offered(): void {
    this.offers++;
  }

  refused(): void {
    this.refusals++;
  }

  /** Counts one ignored reply; the count so far. */
  ignoredOne(reason: string): number {
    const by = (this.ignoredBy ??= {});
    return (by[reason] = (by[reason] ?? 0) + 1);
  }

  get ignored(): Readonly<Record<string, number>> {
    return this.ignoredBy ?? NONE_IGNORED;
  }

  /** A lease was granted: what the acquisition tried is over. */
  granted(): void {
    this.lastError = undefined;
    this.sent = undefined;
    this.offers = 0;
    this.refusals = 0;
  }

  /** An exchange (acquisition, renewal) begins now, unless one is being timed already; `anew`: in any case. */
  exchangeBegins(anew = false): void {
    if (anew || this.exchangeStartMs === undefined) this.exchangeStartMs = this.now();
  }

  /** The exchange being timed ended with a grant: how long it took (undefined when none was being timed). */
  exchangeEnded(): number | undefined {
    const ms = this.exchangeStartMs === undefined ? undefined : this.now() - this.exchangeStartMs;
    this.exchangeStartMs = undefined;
    return ms;
  }

  /** "3 DISCOVERs on eth1 in /var/run/netns/x, no OFFER": what was tried so far. */
  progress(): string {
    const { offer, refusal, grant } = this.names;
    const sent = [...(this.sent ?? [])].map(([name, n]) => counted(n, name)).join(', ') || 'nothing sent';
    const heard =
      this.offers === 0
        ? `no ${offer}`
        : `${counted(this.offers, offer)}, ${counted(this.refusals, refusal)}, no ${grant}`;
    return `${sent} ${this.where}, ${heard}${this.lastError ? ` (last error: ${this.lastError})` : ''}`;
  }
}

function counted(n: number, name: string): string {
  return `${n} ${name}${n === 1 ? '' : 's'}`;
}
