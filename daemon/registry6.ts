// The registry's DHCPv6 side (ipam.ipv6): the table of the attachments' DHCPv6 runners, an ADD's runner built and
// entered, and the drop of one whose pod side is gone (its RELEASE from the node).
import { attachmentKey } from '../common/rpc';
import { clientConfig6 } from './client-config';
import type { Rng } from './dhcp/rng';
import type { DaemonOptions } from './flags';
import type { GoneLease } from './host-release';
import type { LeaseExit } from './lease-exit';
import { LeaseTable } from './lease-table';
import { Lease6Runner, Runner6Deps } from './lease6-runner';
import { Logger, leaseLogger } from './log';
import type { LinkInfo, PodNetns, PodSide } from './pod-port';
import type { AddParams } from './registry-api';

export interface Leases6Deps {
  opts: DaemonOptions;
  now(): number;
  rng: Rng;
  /** The daemon's log: every line of a DHCPv6 runner gets family "ipv6" on top of its attachment. */
  log: Logger;
  exit: LeaseExit;
  metrics?: Runner6Deps['metrics'];
  /** Watches the netns path for the vanish check. */
  watch(netnsPath: string): void;
}

export class Leases6 extends LeaseTable<Lease6Runner> {
  private readonly log6: Logger;

  constructor(private readonly deps: Leases6Deps) {
    super();
    this.log6 = deps.log.child({ family: 'ipv6' });
  }

  /** The DHCPv6 runner of an ADD, in the table (not started). Until v6 records are written, its persist only takes
   *  a released lease out of the table. */
  create(p: AddParams, ns: PodNetns, pod: PodSide, link: LinkInfo): Lease6Runner {
    const key = attachmentKey(p);
    const { opts, now, rng } = this.deps;
    const runner: Lease6Runner = new Lease6Runner(p, clientConfig6(p, link, opts), {
      pod,
      now,
      rng,
      log: leaseLogger(this.log6, p),
      metrics: this.deps.metrics,
      persist: async () => {
        if (runner.state.state === 'RELEASED' && this.get(key) === runner) this.delete(key);
      },
    });
    this.setNetns(runner, ns);
    this.set(key, runner);
    this.deps.watch(ns.path);
    return runner;
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
