// The ADDs waiting for one attachment's lease: each resolves with the lease once it is bound, or rejects when its
// own timeout passes or the lease ends first. Nothing here knows DHCP: a v4 or a v6 runner holds one.
import { DaemonError } from './errors';

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class Waiters<T> {
  /** Made by the first wait: a lease held for days has had no ADD waiting since its first (an empty Set is ~160
   *  bytes a lease). */
  private waiting?: Set<Waiter<T>>;

  /** Waits up to timeoutMs; then rejects with timedOut() (called then, so it can say what was tried by then). */
  wait(timeoutMs: number, timedOut: () => Error): Promise<T> {
    const waiting = (this.waiting ??= new Set());
    return new Promise((resolve, reject) => {
      const waiter: Waiter<T> = {
        resolve,
        reject,
        timer: setTimeout(() => {
          waiting.delete(waiter);
          reject(timedOut());
        }, timeoutMs),
      };
      waiting.add(waiter);
    });
  }

  resolve(value: T): void {
    this.settle((w) => w.resolve(value));
  }

  reject(err: Error): void {
    this.settle((w) => w.reject(err));
  }

  private settle(how: (w: Waiter<T>) => void): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    for (const w of waiting ?? []) {
      clearTimeout(w.timer);
      how(w);
    }
  }
}

/** ADD's wait for a lease: at once when `lease.bound` is set, cancelled when it has stopped, else "try again later"
 *  after timeoutMs, saying what was tried by then (progress). */
export function waitBound<T>(
  waiters: Waiters<T>,
  lease: { bound?: T; stopped: boolean; progress(): string },
  timeoutMs: number,
): Promise<T> {
  if (lease.bound !== undefined) return Promise.resolve(lease.bound);
  if (lease.stopped) return Promise.reject(new DaemonError('cancelled', 'the lease was released while waiting'));
  const why = (): string => `${lease.progress()}; still trying in the background, retry ADD`;
  return waiters.wait(timeoutMs, () => new DaemonError('timeout', `no lease within ${timeoutMs / 1000}s: ${why()}`));
}
