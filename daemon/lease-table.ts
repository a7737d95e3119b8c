// The registry's table: one lease runner per attachment key, the pod netns each runner was built for (as checked at
// ADD, or as found at restore), and which attachment holds or is being added on each interface of each namespace.
// One table per protocol: the DHCPv4 runners (lease-runner.ts) and the DHCPv6 ones (lease6-runner.ts).
import type { AddParams } from './registry-api';
import type { LeaseRunner } from './lease-runner';
import { interfaceId } from './pod-netns';
import type { PodNetns } from './pod-port';

/** What the table needs of a runner, whatever protocol it drives. */
export interface TableRunner {
  readonly params: AddParams;
  readonly active: boolean;
  readonly state: { state: string };
}

export class LeaseTable<R extends TableRunner = LeaseRunner> {
  private readonly leases = new Map<string, R>();
  /** Each runner's netns (path, dev, inode): the record keeps the inode, the vanish check and every later entry
   *  compare it, and no two attachments may share one interface of one namespace. */
  private readonly netnsIds = new WeakMap<R, PodNetns>();
  /** (netns, ifName) of ADDs between their check and their runner joining the table. */
  private readonly claiming = new Map<string, string>();
  /** How many leases each netns path holds: an inotify event about a file no lease is in (a node's other pods come
   *  and go in the same directory, each an event) costs one lookup, not a scan of every lease. */
  private readonly perPath = new Map<string, number>();

  get(key: string): R | undefined {
    return this.leases.get(key);
  }

  set(key: string, runner: R): void {
    this.delete(key);
    this.leases.set(key, runner);
    const path = this.netnsIds.get(runner)?.path;
    if (path !== undefined) this.perPath.set(path, (this.perPath.get(path) ?? 0) + 1);
  }

  delete(key: string): void {
    const runner = this.leases.get(key);
    if (!runner) return;
    this.leases.delete(key);
    const path = this.netnsIds.get(runner)?.path;
    const n = path === undefined ? 0 : (this.perPath.get(path) ?? 0);
    if (n > 1) this.perPath.set(path as string, n - 1);
    else if (n === 1) this.perPath.delete(path as string);
  }

  runners(): R[] {
    return [...this.leases.values()];
  }

  /** How many leases are in each state of their core. */
  countsByState(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.leases.values()) counts[r.state.state] = (counts[r.state.state] ?? 0) + 1;
    return counts;
  }

  /** Notes the namespace a runner is built for, before it joins the table. */
  setNetns(runner: R, ns: PodNetns): void {
    this.netnsIds.set(runner, ns);
  }

  netnsOf(runner: R): PodNetns | undefined {
    return this.netnsIds.get(runner);
  }

  /** Whether any lease is in the netns file of this path. */
  holds(netnsPath: string): boolean {
    return this.perPath.has(netnsPath);
  }

  /** The leases now, each with its namespace; `only`: those in the netns file of this path (an inotify event names
   *  one file: nothing is built for the other leases). */
  entries(only?: string): { key: string; runner: R; ns: PodNetns }[] {
    const out: { key: string; runner: R; ns: PodNetns }[] = [];
    if (only !== undefined && !this.holds(only)) return out;
    for (const [key, runner] of this.leases) {
      const ns = this.netnsIds.get(runner);
      if (ns && (only === undefined || ns.path === only)) out.push({ key, runner, ns });
    }
    return out;
  }

  /** The netns paths of every lease (what the watch keeps). */
  *netnsPaths(): Iterable<string> {
    for (const runner of this.leases.values()) {
      const ns = this.netnsIds.get(runner);
      if (ns) yield ns.path;
    }
  }

  /** The other attachment holding (or being added on) ifName in ns, if any. */
  holderOf(ns: PodNetns, ifName: string, key: string): string | undefined {
    const claim = interfaceId(ns, ifName);
    const adding = this.claiming.get(claim);
    if (adding !== undefined && adding !== key) return adding;
    for (const [k, r] of this.leases) {
      const held = this.netnsIds.get(r);
      if (k !== key && r.active && held && interfaceId(held, r.params.ifName) === claim) return k;
    }
    return undefined;
  }

  /** Claims ifName in ns for the ADD of key until the returned function is called (its runner has joined). */
  claim(ns: PodNetns, ifName: string, key: string): () => void {
    const claim = interfaceId(ns, ifName);
    this.claiming.set(claim, key);
    return () => this.claiming.delete(claim);
  }
}

/** The netns paths of every lease of these tables, one table after the other, read as they are taken. */
export function* netnsPathsOf(...tables: { netnsPaths(): Iterable<string> }[]): Iterable<string> {
  for (const t of tables) yield* t.netnsPaths();
}
