// Fast retry: what DEL-cancelled acquisitions reached, by attachment, for the runtime's retried ADD (containerd
// answers "try again later" with DEL, then ADDs again): the address a server offered (REQUEST with 50 and 54, no
// DISCOVER), or the one last acknowledged (INIT-REBOOT); none after a NAK or when bound.
import type { LeaseEvent, LeaseState } from './dhcp/lease';

/** With serverId an offered address, without one an acknowledged address. */
export interface RetryHint {
  address: string;
  serverId?: string;
}

/** A cancelled acquisition's address is asked for directly by an ADD of the same attachment this soon after: a
 *  runtime retries within seconds, and a server keeps an offer or a lease longer than this. */
const RETRY_HINT_MS = 5 * 60_000;
const MAX_RETRY_HINTS = 4096;

export class RetryHints {
  private readonly hints = new Map<string, { hint: RetryHint; untilMs: number }>();

  constructor(private readonly now: () => number) {}

  remember(key: string, hint: RetryHint): void {
    const now = this.now();
    for (const [k, h] of this.hints) if (h.untilMs <= now) this.hints.delete(k);
    // Oldest first out: a burst of cancelled acquisitions cannot grow the table without bound.
    if (this.hints.size >= MAX_RETRY_HINTS) this.hints.delete(this.hints.keys().next().value as string);
    this.hints.set(key, { hint, untilMs: now + RETRY_HINT_MS });
  }

  /** The hint for `key` if it is still fresh; it is used once. */
  take(key: string): RetryHint | undefined {
    const h = this.hints.get(key);
    this.hints.delete(key);
    return h && h.untilMs > this.now() ? h.hint : undefined;
  }
}

/** What one runner's acquisition has reached, fed its states and events. */
export class AcquisitionHints {
  /** The OFFER the current acquisition last requested: kept until an ACK or a NAK settles it. */
  private lastOffer?: { address: string; serverId: string };
  private naks = 0;

  onState(s: LeaseState): void {
    if (s.state === 'REQUESTING') this.lastOffer = { address: s.offer.address, serverId: s.offer.serverId };
  }

  onEvent(event: LeaseEvent): void {
    if (event.kind === 'nak') this.naks++;
    else if ('ack' in event) this.naks = 0;
    else return;
    this.lastOffer = undefined;
  }

  /** `ackedAddress`: the address of the last ACK, if any. */
  hint(s: LeaseState, ackedAddress: string | undefined): RetryHint | undefined {
    if (s.state === 'REQUESTING') return { address: s.offer.address, serverId: s.offer.serverId };
    if (s.state !== 'SELECTING' && s.state !== 'REBOOTING') return undefined;
    if (this.lastOffer) return { ...this.lastOffer };
    if (s.state === 'REBOOTING') return { address: s.requestedIp };
    return ackedAddress !== undefined && !this.naks ? { address: ackedAddress } : undefined;
  }
}
