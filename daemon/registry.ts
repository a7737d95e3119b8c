// The daemon's table of leases, one per attachment (containerID, network name, ifName). Operations on one
// attachment are serialised; an ADD waiting for a lease does not hold the lock, so a DEL can cancel it. Everything on
// the pod side goes through the port (daemon/pod-port.ts).
import { Attachment, attachmentKey } from '../common/rpc';
import { AddParams, AddResult, CheckParams, CheckResult, DelResult, GcParams, GcResult } from './registry-api';
import type { ClientConfig } from './dhcp/lease';
import { cryptoRng } from './dhcp/rng';
import { DaemonError } from './errors';
import { DaemonOptions } from './flags';
import { Logger, leaseLogger } from './log';
import { LeaseRunner, RunnerMetrics, Takeover } from './lease-runner';
import type { Runner6Metrics } from './runner-deps';
import { takeover6 } from './record6';
import { RetryHints } from './retry-hints';
import { podNetnsFor } from './pod-netns';
import type { PodNetns, PodPort, PodSide } from './pod-port';
import { checkLease } from './lease-check';
import { clientConfig, clientConfig6 } from './client-config';
import { Leases6 } from './registry6';
import { Lease6Runner } from './lease6-runner';
import { checkLease6 } from './lease6-check';
import { linkUp, prepare6 } from './link-up';
import { planAdd } from './add-plan';
import { withdraw } from './withdraw';
import { LeaseStore, LoadedRecord } from './store';
import { restoreRecords } from './restore';
import { ExitFamily, LeaseExit } from './lease-exit';
import { recordOf } from './resume';
import { goneOf } from './host-release';
import { VanishCheck } from './vanish';
import { LeaseQueries } from './lease-queries';
import { collectGarbage } from './gc';
import { LeaseTable, TableRunner, netnsPathsOf } from './lease-table';
import { KeyedSerial } from './keyed-serial';

export interface RegistryDeps {
  opts: DaemonOptions;
  /** The pod side: namespaces, links, sockets, the host-side send, the vanish watch. */
  port: PodPort;
  log: Logger;
  now(): number;
  metrics?: RunnerMetrics & Runner6Metrics;
  /** Where lease records go; absent: leases live in memory only (tests). */
  store?: LeaseStore;
}

export class Registry {
  private readonly leases = new LeaseTable();
  /** The DHCPv6 leases of attachments with ipam.ipv6, by the same keys. */
  private readonly leases6: Leases6;
  /** What DEL-cancelled acquisitions reached, by attachment, for a retried ADD (fast retry). */
  private readonly retryHints: RetryHints;
  /** Operations on one attachment, one at a time. */
  private readonly locks = new KeyedSerial();
  /** The daemon's randomness (resume spread, xids of host-side RELEASEs, every lease's xids and jitter). */
  private readonly rng = cryptoRng();
  private readonly vanish: VanishCheck;
  /** Record writes, and what a lease leaves when it goes. */
  private readonly exit: LeaseExit;
  /** What a DHCPv4 persist action writes (daemon/resume.ts recordOf). */
  private readonly family4: ExitFamily<LeaseRunner> = { family: 'ipv4', leases: this.leases, recordOf };
  /** The view and counts of both tables. */
  readonly queries: LeaseQueries;

  constructor(private readonly deps: RegistryDeps) {
    this.retryHints = new RetryHints(deps.now);
    const { store, port, now } = deps;
    this.exit = new LeaseExit({ store, senders: port, now, rng: this.rng });
    const watch = (path: string): void => this.vanish.watch(path);
    this.leases6 = new Leases6({
      now,
      metrics: deps.metrics,
      rng: this.rng,
      log: deps.log,
      exit: this.exit,
      watch,
    });
    this.queries = new LeaseQueries(this.leases, this.leases6);
    this.vanish = new VanishCheck({
      port: deps.port,
      log: deps.log,
      leases: (only) => [...this.leases.entries(only), ...this.leases6.entries(only)],
      netnsPaths: () => netnsPathsOf(this.leases, this.leases6),
      holds: (path) => this.leases.holds(path) || this.leases6.holds(path),
      drop: (key, runner, reason) => this.dropVanished(key, runner, reason),
    });
  }

  private get minLeaseTimeS(): number {
    return Math.floor(this.deps.opts.minLeaseTimeMs / 1000);
  }

  async add(params: AddParams): Promise<AddResult> {
    // The config's warnings are logged when the attachment is created, not kept with the lease or its record.
    const { warnings, ...p } = params;
    const key = attachmentKey(p);
    const { runner, runner6 } = await this.locks.run(key, async () => {
      const plan = planAdd({ runner: this.leases.get(key), runner6: this.leases6.get(key) }, p);
      // What is stale or given up is released, a family the config no longer asks for withdrawn (add-plan.ts).
      if (!plan.join4) this.leases.delete(key);
      if (!plan.join6) this.leases6.delete(key);
      const nsOf = (r: LeaseRunner | Lease6Runner) =>
        r instanceof Lease6Runner ? this.leases6.netnsOf(r) : this.leases.netnsOf(r);
      await Promise.all([
        ...plan.release.map((r) => r.release()),
        ...plan.withdraw.map((r) => withdraw(r, nsOf(r), this.deps)),
      ]);
      if (!plan.start4 && !plan.start6) return { runner: plan.join4, runner6: plan.join6 };
      const ns = await this.podNetns(p.netns);
      // Two leases on one interface would fight over it (and DEL of either takes the other's address away).
      const holder = this.leases.holderOf(ns, p.ifName, key) ?? this.leases6.holderOf(ns, p.ifName, key);
      if (holder !== undefined) {
        throw new DaemonError('in-use', `${p.ifName} in ${p.netns} already has a lease, for attachment ${holder}`);
      }
      const unclaim = this.leases.claim(ns, p.ifName, key);
      try {
        const log = leaseLogger(this.deps.log, p);
        const pod = this.deps.port.side(ns, p.ifName);
        if (plan.start6) await prepare6(pod, p, log);
        const link = await linkUp(pod, p, log);
        const v4 = plan.start4 ? clientConfig(p, link, this.deps.opts, log) : undefined;
        const runner = v4 ? this.runnerFor(p, v4, ns, pod, { mtuCeiling: link.mtu }) : plan.join4;
        const cfg6 = plan.start6 ? clientConfig6(p, link, this.deps.opts) : undefined;
        const runner6 = cfg6 ? this.leases6.create(p, cfg6, ns, pod, link.mac) : plan.join6;
        if (warnings) log.warn({ warnings }, 'network config: parts ignored');
        if (v4 && runner) {
          this.leases.set(key, runner);
          const hint = this.retryHints.take(key);
          if (hint) log.info({ hint }, 'fast retry: asking for the address the cancelled acquisition reached');
          runner.start(hint);
        }
        if (cfg6) runner6?.start();
        return { runner, runner6 };
      } finally {
        unclaim();
      }
    });
    const timeoutMs = p.timeoutMs ?? this.deps.opts.addTimeoutMs;
    // Both families or nothing: ADD answers once each of its leases is bound.
    const [facts, facts6] = await Promise.all([runner?.waitBound(timeoutMs), runner6?.waitBound(timeoutMs)]);
    return facts6 === undefined ? { facts } : facts === undefined ? { facts6 } : { facts, facts6 };
  }

  async del(a: Attachment): Promise<DelResult> {
    const key = attachmentKey(a);
    return this.locks.run(key, async () => {
      const runner = this.leases.get(key);
      const runner6 = this.leases6.get(key);
      if (!runner && !runner6) return { released: false };
      this.leases.delete(key);
      this.leases6.delete(key);
      // The runtime may delete the netns before DEL: nothing can be sent from it, and entering a path that is no
      // longer a namespace is never done. The RELEASE goes from the host when it can.
      const path = (runner ? this.leases.netnsOf(runner) : runner6 && this.leases6.netnsOf(runner6))?.path;
      const ns = await this.deps.port.netnsId(path as string);
      if (ns instanceof Error) {
        const hostRelease = runner && (await this.drop4(key, runner, 'netns gone before DEL'));
        const hostRelease6 = runner6 && (await this.leases6.drop(key, runner6, 'netns gone before DEL'));
        this.deps.log.info(
          { attachment: key, netns: path, hostRelease, hostRelease6 },
          'DEL: netns gone, lease dropped',
        );
        return { released: false, dropped: true };
      }
      // A runtime that answers "try again later" with DEL (containerd) cancels the acquisition; its retried ADD
      // asks for what this one reached instead of starting over.
      const hint = runner?.retryHint();
      if (hint) this.retryHints.remember(key, hint);
      await Promise.all([runner?.release(), runner6?.release()]);
      return { released: true };
    });
  }

  /** GC (CNI 1.1): releases every lease of `network` whose attachment is not in validAttachments (gc.ts). */
  gc(p: GcParams): Promise<GcResult> {
    return collectGarbage(p, [...this.leases.runners(), ...this.leases6.runners()], (a) => this.del(a));
  }

  async check(p: CheckParams): Promise<CheckResult> {
    const key = attachmentKey(p);
    return this.locks.run(key, async () => {
      const runner = this.leases.get(key);
      const runner6 = this.leases6.get(key);
      if (!runner && !runner6) throw new DaemonError('no-lease', `no lease for ${key}`);
      const { port, now } = this.deps;
      const checks = { port, now, podNetns: (netns: string) => this.podNetns(netns) };
      const v4 = runner && (await checkLease(runner, this.leases.netnsOf(runner), p, checks));
      const v6 = runner6 && (await checkLease6(runner6, this.leases6.netnsOf(runner6), p, checks));
      // An IPv6-only attachment has no IPv4 part: its state is the DHCPv6 lease's.
      return { ...(v4 ?? { state: runner6?.state.state ?? '', interfaceAddresses: [] }), ...v6 };
    });
  }

  /** Daemon stop. By default pods keep their addresses: nothing is released and the records stay as the last
   *  state change wrote them. With `release` (node decommissioning) every lease is released first. A step in
   *  progress finishes, queued ones and waiting ADDs are cancelled, pending record writes complete. */
  async shutdown(release: boolean): Promise<void> {
    this.vanish.close();
    const runners = [...this.leases.runners(), ...this.leases6.runners()];
    if (release) {
      await Promise.all(
        runners.map((r) =>
          this.del(r.params).catch((err: Error) => this.deps.log.warn({ err: err.message }, 'release on exit failed')),
        ),
      );
    }
    for (const r of runners) r.stop('daemon stopping');
    await Promise.all(runners.map((r) => r.settled()));
    await this.deps.store?.idle();
  }

  /** Start-up: takes over the stored leases (daemon/restore.ts). */
  restore(loaded: LoadedRecord[]): Promise<void> {
    const { opts, port, log, store, now } = this.deps;
    return restoreRecords(loaded, {
      port,
      log,
      store,
      now,
      rng: this.rng,
      hostPrefix: opts.hostPrefix,
      minLeaseTimeS: this.minLeaseTimeS,
      dropRecord: (rec) => this.exit.releaseGone(attachmentKey(rec.params), goneOf(rec)),
      adopt: (rec, ns, takeover) => {
        const runner = this.runnerFor(rec.params, rec.cfg, ns, port.side(ns, rec.params.ifName), { takeover });
        this.leases.set(attachmentKey(rec.params), runner);
        return runner;
      },
      adopt6: (rec, ns) => {
        const plan = takeover6(rec, now());
        const side = port.side(ns, rec.params.ifName);
        const runner = this.leases6.create(rec.params, rec.cfg, ns, side, rec.mac, plan);
        return { runner, next: plan.next, address: runner.facts?.address };
      },
      whenCurrent: (key, runner, fn) =>
        void this.locks.run(key, async () => {
          if (this.leases.get(key) === runner || this.leases6.get(key) === runner) fn();
        }),
    });
  }

  /** Drops every lease whose netns vanishes without a DEL, checking every intervalMs and on inotify (vanish.ts). */
  startVanishCheck(intervalMs: number): void {
    this.vanish.start(intervalMs);
  }

  private dropVanished(key: string, runner: TableRunner, reason: string): Promise<void> {
    return this.locks.run(key, async () => {
      let hostRelease: string;
      if (runner instanceof Lease6Runner && this.leases6.get(key) === runner)
        hostRelease = await this.leases6.drop(key, runner, reason);
      else if (runner instanceof LeaseRunner && this.leases.get(key) === runner)
        hostRelease = await this.drop4(key, runner, reason);
      else return;
      this.deps.log.warn(
        { attachment: key, reason, address: runner.facts?.address, hostRelease },
        'attachment vanished without DEL; lease dropped',
      );
    });
  }

  /** A DHCPv4 lease whose pod side is gone: out of the table, stopped, its RELEASE from the node. */
  private drop4(key: string, runner: LeaseRunner, reason: string): Promise<string> {
    return this.exit.drop(this.leases, key, runner, reason, { family: 'ipv4', cfg: runner.cfg, state: runner.state });
  }

  /** CNI_NETNS checked before anything is entered or changed (daemon/pod-netns.ts), or CNI error 4 saying why. */
  private podNetns(netns: string): Promise<PodNetns> {
    return podNetnsFor(this.deps.port, this.deps.opts.hostPrefix, netns);
  }

  /** A runner for a new ADD (with the MTU its interface had), or for a lease taken over from its record. */
  private runnerFor(
    p: AddParams,
    cfg: ClientConfig,
    ns: PodNetns,
    pod: PodSide,
    o: { mtuCeiling?: number; takeover?: Takeover },
  ): LeaseRunner {
    const { opts, port } = this.deps;
    const runner: LeaseRunner = new LeaseRunner(
      p,
      cfg,
      {
        pod,
        persist: () => this.exit.persist(this.family4, runner),
        now: this.deps.now,
        rng: this.rng,
        log: leaseLogger(this.deps.log, p),
        metrics: this.deps.metrics,
        mtuCeiling: o.mtuCeiling,
        resendTimeoutMs: opts.resendTimeoutMs,
        sendFromHost: port.sendFromHost,
        minLeaseTimeS: this.minLeaseTimeS,
      },
      o.takeover,
    );
    this.leases.setNetns(runner, ns);
    this.vanish.watch(ns.path);
    return runner;
  }
}
