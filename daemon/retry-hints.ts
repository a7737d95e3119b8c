// Fast retry: what DEL-cancelled acquisitions reached, by attachment, for the runtime's retried ADD (containerd
// answers "try again later" with DEL, then ADDs again).
import type { RetryHint } from './lease-runner';

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
