// The registry's DHCPv6 side (ipam.ipv6): the table of the attachments' DHCPv6 runners, an ADD's runner built and
// entered, and the drop of one whose pod side is gone (its RELEASE from the node).
import { attachmentKey } from '../common/rpc';
import type { Rng } from './dhcp/rng';
import type { ClientConfig6 } from './dhcp6/lease';
import type { GoneLease } from './host-release';
import type { ExitFamily, LeaseExit } from './lease-exit';
import { LeaseTable } from './lease-table';
import { Lease6Runner, Takeover6 } from './lease6-runner';
import { Logger, leaseLogger } from './log';
import type { PodNetns, PodSide } from './pod-port';
import { record6Of } from './record6';
import type { AddParams } from './registry-api';
import type { Runner6Metrics } from './runner-deps';

export interface Leases6Deps {
  now(): number;
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
  /** What a persist action writes: the record of daemon/record6.ts. */
  private readonly family: ExitFamily<Lease6Runner> = {
    family: 'ipv6',
    leases: this,
    recordOf: (r, inode, nowMs) =>
      record6Of(
        {
          params: r.params,
          mac: r.mac,
          cfg: r.cfg,
          state: r.state,
          reply: r.reply,
          prefixLength: r.facts?.prefixLength,
        },
        inode,
        nowMs,
      ),
  };

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
      { pod, mac, now, rng, log, metrics, persist: (r) => this.deps.exit.persist(this.family, r) },
      takeover,
    );
    this.setNetns(runner, ns);
    this.set(attachmentKey(p), runner);
    this.deps.watch(ns.path);
    return runner;
  }

  /** A lease whose pod side is gone leaves the table, stopped, and its RELEASE goes from the node. */
  drop(key: string, runner: Lease6Runner, reason: string): Promise<string> {
    const gone: GoneLease = { family: 'ipv6', cfg: runner.cfg, state: runner.state };
    if (runner.params.master !== undefined) gone.hostLink = runner.params.master;
    return this.deps.exit.drop(this, key, runner, reason, gone);
  }
}
