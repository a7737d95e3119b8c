// The registry's DHCPv6 side (ipam.ipv6): the table of the attachments' DHCPv6 runners, an ADD's runner built and
// entered, and the drop of one whose pod side is gone (its RELEASE from the node).
import { attachmentKey } from '../common/rpc';
import type { Rng } from './dhcp/rng';
import type { ClientConfig6 } from './dhcp6/lease';
import type { GoneLease } from './host-release';
import type { LeaseExit } from './lease-exit';
import { LeaseTable } from './lease-table';
import { Lease6Runner, Takeover6 } from './lease6-runner';
import { Logger, leaseLogger } from './log';
import type { PodNetns, PodSide } from './pod-port';
import { record6Of } from './record6';
import type { AddParams } from './registry-api';
import type { Runner6Metrics } from './runner-deps';
import type { LeaseStore } from './store';

export interface Leases6Deps {
  now(): number;
  /** Where the v6 records go; absent: in memory only (tests). */
  store?: LeaseStore;
  metrics?: Runner6Metrics;
  rng: Rng;
  /** The daemon's log: every line of a DHCPv6 runner gets family "ipv6" on top of its attachment. */
  log: Logger;
  exit: LeaseExit;
  /** Watches the netns path for the vanish check. */
  watch(netnsPath: string): void;
}

export class Leases6 extends LeaseTable<Lease6Runner> {
  private readonly log6: Logger;

  constructor(private readonly deps: Leases6Deps) {
    super();
    this.log6 = deps.log.child({ family: 'ipv6' });
  }

  /** The DHCPv6 runner of an ADD, or of a lease taken over from its record, in the table (not started). */
  create(
    p: AddParams,
    cfg: ClientConfig6,
    ns: PodNetns,
    pod: PodSide,
    mac: string,
    takeover?: Takeover6,
  ): Lease6Runner {
    const { now, rng, metrics } = this.deps;
    const log = leaseLogger(this.log6, p);
    const runner = new Lease6Runner(
      p,
      cfg,
      { pod, mac, now, rng, log, metrics, persist: (r) => this.persist(r) },
      takeover,
    );
    this.setNetns(runner, ns);
    this.set(attachmentKey(p), runner);
    this.deps.watch(ns.path);
    return runner;
  }

  /** The runner's persist action, as lease-exit.ts persist() for IPv4: its record (daemon/record6.ts) written, or
   *  removed with the lease from the table once released. */
  private async persist(r: Lease6Runner): Promise<void> {
    const { store, now } = this.deps;
    const key = attachmentKey(r.params);
    if (r.state.state === 'RELEASED') {
      if (this.get(key) === r) this.delete(key);
      await store?.remove(key, 'ipv6');
      return;
    }
    const ns = this.netnsOf(r);
    if (this.get(key) !== r || ns === undefined) return;
    const holding = { params: r.params, mac: r.mac, cfg: r.cfg, state: r.state, reply: r.reply };
    await store?.save(key, record6Of({ ...holding, prefixLength: r.facts?.prefixLength }, ns.inode, now()));
  }

  /** A lease whose pod side is gone leaves the table, stopped, and its RELEASE goes from the node (lease-exit.ts
   *  drop, for DHCPv6). Says what happened. */
  async drop(key: string, runner: Lease6Runner, reason: string): Promise<string> {
    this.delete(key);
    runner.stop(reason);
    await runner.settled();
    const gone: GoneLease = { family: 'ipv6', cfg: runner.cfg, state: runner.state };
    if (runner.params.master !== undefined) gone.hostLink = runner.params.master;
    return this.deps.exit.releaseGone(key, gone);
  }
}
