// Leases whose pod netns vanished without a DEL (node reboot, runtime crash, `ip netns del`): noticed through the
// port's watch on the directories of namespace files as they change, and by a slow sweep for paths that cannot be
// watched. A removed interface is noticed at the lease's next transaction instead, so the sweep stays one stat per
// lease.
import type { TableRunner } from './lease-table';
import type { Logger } from './log';
import { netnsGone } from './pod-netns';
import type { NetnsWatcher, PodNetns, PodPort } from './pod-port';

/** Leases the sweep stats between two turns of the event loop (~1 ms). */
const SWEEP_BATCH = 100;

export interface VanishDeps {
  port: PodPort;
  log: Logger;
  /** The leases now, each with the namespace it was checked as; `only`: those of this netns path alone. */
  leases(only?: string): { key: string; runner: TableRunner; ns: PodNetns }[];
  /** The netns paths of every lease. */
  netnsPaths(): Iterable<string>;
  /** Whether any lease is in the netns file of this path. */
  holds(netnsPath: string): boolean;
  /** Drops the lease of `key` if it is still `runner` (the registry's host-side RELEASE path). */
  drop(key: string, runner: TableRunner, reason: string): Promise<void>;
}

export class VanishCheck {
  private timer?: NodeJS.Timeout;
  /** Set while the check runs: netns directories watched for removals between sweeps. */
  private watcher?: NetnsWatcher;
  private sweeping?: Promise<void>;
  private sweepAgain = false;

  constructor(private readonly deps: VanishDeps) {}

  /** Checks the attachments of a netns file as soon as it changes, and every attachment every intervalMs (after the
   *  previous check finished), until close(). */
  start(intervalMs: number): void {
    // A change naming a file checks the leases of that file alone: pods of every network come and go there, and a
    // file no lease is in costs one lookup (nothing asynchronous: each such event is a wake-up of an idle daemon).
    this.watcher = this.deps.port.watch((changed) => {
      if (changed === undefined) void this.sweepSoon();
      else if (this.deps.holds(changed)) void this.check(changed);
    });
    for (const { ns } of this.deps.leases()) this.watcher.watch(ns.path);
    const tick = async (): Promise<void> => {
      await this.sweepSoon();
      if (this.timer) this.timer = setTimeout(() => void tick(), intervalMs);
    };
    this.timer = setTimeout(() => void tick(), intervalMs);
  }

  /** A new lease's netns directory is watched too (once the check runs). */
  watch(netnsPath: string): void {
    this.watcher?.watch(netnsPath);
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
  }

  /** One sweep at a time; a change noticed during a sweep gets another sweep after it. */
  sweepSoon(): Promise<void> {
    if (this.sweeping) {
      this.sweepAgain = true;
      return this.sweeping;
    }
    this.sweeping = (async () => {
      do {
        this.sweepAgain = false;
        await this.check();
      } while (this.sweepAgain);
    })().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private check(only?: string): Promise<void> {
    return this.sweep(only).catch((err: Error) => this.deps.log.error({ err: err.message }, 'vanish check failed'));
  }

  /** `only`: the leases of this netns path alone. */
  private async sweep(only?: string): Promise<void> {
    const { port, leases, drop } = this.deps;
    let checked = 0;
    let dropped = false;
    for (const { key, runner, ns } of leases(only)) {
      // The event loop gets a turn between batches of stats: an ADD meanwhile waits for one batch, not for all.
      if (++checked % SWEEP_BATCH === 0) await new Promise(setImmediate);
      const now = port.inodeNow(ns.path);
      const gone = netnsGone(ns.path, now, ns.inode);
      if (!gone) {
        if (now instanceof Error) this.deps.log.warn({ key, err: now.message }, 'netns file unreadable; lease kept');
        continue;
      }
      dropped = true;
      await drop(key, runner, gone);
    }
    // The watches of directories no lease is in any more go (DEL, vanished pods).
    if (only === undefined || dropped) this.watcher?.retain(this.deps.netnsPaths());
  }
}
