// What a lease leaves behind in the registry's table, on disk and with the server: its record written at each of
// the core's persist actions, and when it goes (released, or its pod side gone) its record removed and, for a pod
// side that is gone, a RELEASE from the daemon's own netns.
import { attachmentKey } from '../common/rpc';
import type { Rng } from './dhcp/rng';
import { GoneLease, HostSenders, releaseFromHost } from './host-release';
import type { LeaseTable, TableRunner } from './lease-table';
import type { IpFamily } from './registry-api';
import type { AnyLeaseRecord, LeaseStore } from './store';

export interface ExitDeps {
  /** Absent: leases live in memory only (tests). */
  store?: LeaseStore;
  /** The port's sends from the daemon's netns. */
  senders: HostSenders;
  now(): number;
  rng: Rng;
}

/** A runner of either protocol, as its table holds it and a drop stops it. */
type ExitRunner = TableRunner & { stop(why: string): void; settled(): Promise<void> };

/** Runners of one protocol: their table, and the record a persist action writes. */
export interface ExitFamily<R extends ExitRunner> {
  family: IpFamily;
  leases: LeaseTable<R>;
  recordOf(r: R, netnsInode: number, nowMs: number): AnyLeaseRecord;
}

export class LeaseExit {
  constructor(private readonly deps: ExitDeps) {}

  /** The core's persist action. A released lease (DEL, or the netns or link gone at a send) leaves the table and
   *  the store; a lease dropped meanwhile writes nothing. */
  async persist<R extends ExitRunner>(f: ExitFamily<R>, r: R): Promise<void> {
    const { store, now } = this.deps;
    const key = attachmentKey(r.params);
    if (r.state.state === 'RELEASED') {
      if (f.leases.get(key) === r) f.leases.delete(key);
      await store?.remove(key, f.family);
      return;
    }
    const ns = f.leases.netnsOf(r);
    if (f.leases.get(key) !== r || ns === undefined) return;
    await store?.save(key, f.recordOf(r, ns.inode, now()));
  }

  /** A lease whose pod side is gone leaves the table: nothing is sent from the pod side or afterwards, no socket is
   *  left in the netns; its address is free for reuse, so a RELEASE goes from the host. Says what happened. */
  async drop<R extends ExitRunner>(
    leases: LeaseTable<R>,
    key: string,
    runner: R,
    reason: string,
    gone: GoneLease,
  ): Promise<string> {
    leases.delete(key);
    runner.stop(reason);
    await runner.settled();
    return this.releaseGone(key, gone);
  }

  /** The RELEASE of a lease whose pod side is gone, from the daemon's netns (daemon/host-release.ts), and its record
   *  removed; what happened, for the log line. */
  async releaseGone(key: string, lease: GoneLease): Promise<string> {
    const { senders, store, now, rng } = this.deps;
    const hostRelease = await releaseFromHost(senders, lease, now(), rng);
    await store?.remove(key, lease.family);
    return hostRelease;
  }
}
