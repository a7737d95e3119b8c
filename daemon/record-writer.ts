// Writing one lease's record. The first write must succeed: without it the lease is given back, since a restart
// would forget an address the pod keeps using. A later failure keeps the lease (its previous record still names the
// address) and is retried with backoff until a write succeeds.
import type { Logger } from './log';

/** A record that could not be written is tried again after this long, doubling up to the cap. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 60_000;

export interface RecordWriterDeps {
  write(): Promise<void>;
  log: Logger;
  /** Counts a failed write (daemon/metrics.ts). */
  failed?(): void;
  /** Runs a retry after the lease's queued work, in order with it. */
  serialise(work: () => Promise<void>): void;
  /** False once the lease has stopped: no retry writes then. */
  active(): boolean;
  /** True once the lease is released: its write (the record's removal) failing ends nothing. */
  released(): boolean;
}

export class RecordWriter {
  /** Why the last write failed, while it is being retried; the lease view and status show it. */
  error?: string;
  private retryMs = 0;
  private timer?: NodeJS.Timeout;

  /** onDisk: a record of this lease is on disk already (a lease taken over from its record). */
  constructor(
    private readonly deps: RecordWriterDeps,
    public onDisk = false,
  ) {}

  /** Writes the record; false when the first one failed (the caller ends the lease). */
  async write(): Promise<boolean> {
    const { log } = this.deps;
    clearTimeout(this.timer);
    try {
      await this.deps.write();
      if (this.error !== undefined) log.info('lease record written again');
      this.onDisk = true;
      this.error = undefined;
      this.retryMs = 0;
      return true;
    } catch (err) {
      this.error = (err as Error).message;
      this.deps.failed?.();
      if (!this.onDisk && !this.deps.released()) {
        log.error({ err: this.error }, 'cannot write the first record of the lease; releasing it');
        return false;
      }
      this.retryMs = Math.min(Math.max(RETRY_FIRST_MS, this.retryMs * 2), RETRY_MAX_MS);
      log.error({ err: this.error, retryInMs: this.retryMs }, 'cannot write the lease record; will retry');
      this.timer = setTimeout(() => {
        this.deps.serialise(async () => {
          if (this.deps.active()) await this.write();
        });
      }, this.retryMs);
      return true;
    }
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
