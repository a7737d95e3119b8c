// The daemon's table of leases, one per attachment (containerID, network name, ifName). Operations on one
// attachment are serialised; an ADD waiting for a lease does not hold the lock, so a DEL can cancel it. Everything on
// the pod side goes through the port (daemon/pod-port.ts).
import {
  AddParams,
  AddResult,
  Attachment,
  CheckParams,
  CheckResult,
  DelResult,
  GcParams,
  GcResult,
  LeaseDetail,
  LeaseView,
  attachmentKey,
} from '../common/rpc';
import { ClientConfig, LeaseState } from './dhcp/lease';
import { cryptoRng } from './dhcp/rng';
import { DaemonError } from './errors';
import { DaemonOptions } from './flags';
import { Logger, leaseLogger } from './log';
import { LeaseRunner, RunnerMetrics, Takeover } from './lease-runner';
import { RetryHints } from './retry-hints';
import { checkPodNetns, interfaceId } from './pod-netns';
import type { PodNetns, PodPort, PodSide } from './pod-port';
import { checkLease } from './lease-check';
import { clientConfig } from './client-config';
import { linkUp } from './link-up';
import { LeaseStore, LoadedRecord } from './store';
import { recordOf } from './resume';
import { restoreRecords } from './restore';
import { releaseFromHost } from './host-release';
import { VanishCheck } from './vanish';
import { detail, view } from './lease-view';

export interface RegistryDeps {
  opts: DaemonOptions;
  /** The pod side: namespaces, links, sockets, the host-side send, the vanish watch. */
  port: PodPort;
  log: Logger;
  now(): number;
  metrics?: RunnerMetrics;
  /** Where lease records go; absent: leases live in memory only (tests). */
  store?: LeaseStore;
}

export class Registry {
  private readonly leases = new Map<string, LeaseRunner>();
  /** What DEL-cancelled acquisitions reached, by attachment, for a retried ADD (fast retry). */
  private readonly retryHints: RetryHints;
  private readonly locks = new Map<string, Promise<unknown>>();
  /** The daemon's randomness (resume spread, xids of host-side RELEASEs, every lease's xids and jitter). */
  private readonly rng = cryptoRng();
  /** Each lease's netns as checked at ADD (path, dev, inode): the record keeps the inode, the vanish check and
   *  every later entry compare it, and no two attachments may share one interface of one namespace. */
  private readonly netnsIds = new WeakMap<LeaseRunner, PodNetns>();
  /** (netns, ifName) of ADDs between their check and their runner joining the table. */
  private readonly claiming = new Map<string, string>();
  private readonly vanish: VanishCheck;

  constructor(private readonly deps: RegistryDeps) {
    this.retryHints = new RetryHints(deps.now);
    this.vanish = new VanishCheck({
      port: deps.port,
      log: deps.log,
      leases: () =>
        [...this.leases].flatMap(([key, runner]) => {
          const ns = this.netnsIds.get(runner);
          return ns ? [{ key, runner, ns }] : [];
        }),
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
    const runner = await this.serial(key, async () => {
      const existing = this.leases.get(key);
      // A runner that gave up (resend timeout) is replaced by a fresh acquisition.
      if (existing && existing.params.netns === p.netns && existing.active) return existing;
      if (existing) {
        // Same attachment in another netns: the old sandbox is gone without a DEL; its lease is stale.
        this.leases.delete(key);
        await existing.release();
      }
      const ns = await this.podNetns(p.netns);
      // Two leases on one interface would fight over it (and DEL of either takes the other's address away).
      const claim = interfaceId(ns, p.ifName);
      const holder = this.holderOf(claim, key);
      if (holder !== undefined) {
        throw new DaemonError('in-use', `${p.ifName} in ${p.netns} already has a lease, for attachment ${holder}`);
      }
      this.claiming.set(claim, key);
      try {
        const log = leaseLogger(this.deps.log, p);
        const pod = this.deps.port.side(ns, p.ifName);
        const link = await linkUp(pod, p, log);
        const runner = this.runnerFor(p, clientConfig(p, link, this.deps.opts, log), ns, pod, { mtuCeiling: link.mtu });
        if (warnings) log.warn({ warnings }, 'network config: parts ignored');
        this.leases.set(key, runner);
        const hint = this.retryHints.take(key);
        if (hint) log.info({ hint }, 'fast retry: asking for the address the cancelled acquisition reached');
        runner.start(hint);
        return runner;
      } finally {
        this.claiming.delete(claim);
      }
    });
    const facts = await runner.waitBound(p.timeoutMs ?? this.deps.opts.addTimeoutMs);
    return { facts };
  }

  async del(a: Attachment): Promise<DelResult> {
    const key = attachmentKey(a);
    return this.serial(key, async () => {
      const runner = this.leases.get(key);
      if (!runner) return { released: false };
      this.leases.delete(key);
      // The runtime may delete the netns before DEL: nothing can be sent from it, and entering a path that is no
      // longer a namespace is never done. The RELEASE goes from the host when it can.
      const ns = await this.deps.port.netnsId((this.netnsIds.get(runner) as PodNetns).path);
      if (ns instanceof Error) {
        const hostRelease = await this.drop(key, runner, 'netns gone before DEL');
        this.deps.log.info(
          { attachment: key, netns: runner.params.netns, hostRelease },
          'DEL: netns gone, lease dropped',
        );
        return { released: false, dropped: true };
      }
      // A runtime that answers "try again later" with DEL (containerd) cancels the acquisition; its retried ADD
      // asks for what this one reached instead of starting over.
      const hint = runner.retryHint();
      if (hint) this.retryHints.remember(key, hint);
      await runner.release();
      return { released: true };
    });
  }

  /** GC (CNI 1.1): releases every lease of `network` whose (containerId, ifName) is not in validAttachments. Each
   *  release is serialised with the other operations on its attachment; one failing does not stop the others. */
  async gc(p: GcParams): Promise<GcResult> {
    const valid = new Set(p.validAttachments.map((a) => `${a.containerId}/${a.ifName}`));
    const stale = [...this.leases.values()]
      .map((r) => ({ containerId: r.params.containerId, network: r.params.network, ifName: r.params.ifName }))
      .filter((a) => a.network === p.network && !valid.has(`${a.containerId}/${a.ifName}`));
    const result: GcResult = { released: [], errors: [] };
    await Promise.all(
      stale.map(async (a) => {
        try {
          await this.del(a);
          result.released.push(a);
        } catch (err) {
          result.errors.push(`${attachmentKey(a)}: ${(err as Error).message}`);
        }
      }),
    );
    return result;
  }

  async check(p: CheckParams): Promise<CheckResult> {
    const key = attachmentKey(p);
    return this.serial(key, async () => {
      const runner = this.leases.get(key);
      if (!runner) throw new DaemonError('no-lease', `no lease for ${key}`);
      const { port, now } = this.deps;
      return checkLease(runner, this.netnsIds.get(runner), p, { port, now, podNetns: (netns) => this.podNetns(netns) });
    });
  }

  list(): LeaseView[] {
    return [...this.leases.values()].map((r) => view(r));
  }

  /** One lease in full, with its recent transitions (`ts-dhcp leases show`). */
  detail(a: Attachment): LeaseDetail {
    const key = attachmentKey(a);
    const r = this.leases.get(key);
    if (!r) throw new DaemonError('no-lease', `no lease for ${key}`);
    return detail(r);
  }

  /** Leases whose record could not be written and is being retried (`ts-dhcp status`). */
  recordErrors(): number {
    let n = 0;
    for (const r of this.leases.values()) if (r.recordError !== undefined) n++;
    return n;
  }

  countsByState(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.leases.values()) counts[r.state.state] = (counts[r.state.state] ?? 0) + 1;
    return counts;
  }

  /** Daemon stop. By default pods keep their addresses: nothing is released and the records stay as the last
   *  state change wrote them. With `release` (node decommissioning) every lease is released first. A step in
   *  progress finishes, queued ones and waiting ADDs are cancelled, pending record writes complete. */
  async shutdown(release: boolean): Promise<void> {
    this.vanish.close();
    const runners = [...this.leases.values()];
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
      dropRecord: (rec) => this.releaseGone(attachmentKey(rec.params), rec.cfg, rec.state),
      adopt: (rec, ns, takeover) => {
        const runner = this.runnerFor(rec.params, rec.cfg, ns, port.side(ns, rec.params.ifName), { takeover });
        this.leases.set(attachmentKey(rec.params), runner);
        return runner;
      },
      whenCurrent: (key, runner, fn) =>
        void this.serial(key, async () => {
          if (this.leases.get(key) === runner) fn();
        }),
    });
  }

  /** Drops every lease whose netns vanishes without a DEL, checking every intervalMs and on inotify (vanish.ts). */
  startVanishCheck(intervalMs: number): void {
    this.vanish.start(intervalMs);
  }

  private dropVanished(key: string, runner: LeaseRunner, reason: string): Promise<void> {
    return this.serial(key, async () => {
      if (this.leases.get(key) !== runner) return;
      const hostRelease = await this.drop(key, runner, reason);
      this.deps.log.warn(
        { attachment: key, reason, address: runner.facts?.address, hostRelease },
        'attachment vanished without DEL; lease dropped',
      );
    });
  }

  /** A lease whose pod side is gone leaves the table: nothing is sent from the pod side or afterwards, no socket is
   *  left in the netns; its address is free for reuse, so a RELEASE goes from the host. Says what happened. */
  private async drop(key: string, runner: LeaseRunner, reason: string): Promise<string> {
    this.leases.delete(key);
    runner.stop(reason);
    await runner.settled();
    return this.releaseGone(key, runner.cfg, runner.state);
  }

  /** The RELEASE of a lease whose pod side is gone, from the daemon's netns (daemon/host-release.ts), and its record
   *  removed; what happened, for the log line. */
  private async releaseGone(key: string, cfg: ClientConfig, state: LeaseState): Promise<string> {
    const send = this.deps.port.sendFromHost;
    const hostRelease = send ? await releaseFromHost(send, cfg, state, this.deps.now(), this.rng) : 'no host sender';
    await this.deps.store?.remove(key);
    return hostRelease;
  }

  /** The core's persist action. A released lease (DEL, or the netns or link gone at a send) leaves the table and
   *  the store; a lease dropped meanwhile writes nothing. */
  private async persist(r: LeaseRunner): Promise<void> {
    const key = attachmentKey(r.params);
    if (r.state.state === 'RELEASED') {
      if (this.leases.get(key) === r) this.leases.delete(key);
      await this.deps.store?.remove(key);
      return;
    }
    const ns = this.netnsIds.get(r);
    if (this.leases.get(key) !== r || ns === undefined) return;
    await this.deps.store?.save(key, recordOf(r, ns.inode, this.deps.now()));
  }

  /** The other attachment holding (or being added on) this interface of this namespace, if any. */
  private holderOf(claim: string, key: string): string | undefined {
    const adding = this.claiming.get(claim);
    if (adding !== undefined && adding !== key) return adding;
    for (const [k, r] of this.leases) {
      const ns = this.netnsIds.get(r);
      if (k !== key && r.active && ns && interfaceId(ns, r.params.ifName) === claim) return k;
    }
    return undefined;
  }

  /** CNI_NETNS checked before anything is entered or changed (daemon/pod-netns.ts), or CNI error 4 saying why. */
  private async podNetns(netns: string): Promise<PodNetns> {
    const ns = await checkPodNetns(this.deps.port, this.deps.opts.hostPrefix, netns);
    if (ns instanceof Error) throw new DaemonError('bad-netns', `CNI_NETNS ${JSON.stringify(netns)}: ${ns.message}`);
    return ns;
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
    const runner = new LeaseRunner(
      p,
      cfg,
      {
        pod,
        persist: (r) => this.persist(r),
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
    this.netnsIds.set(runner, ns);
    this.vanish.watch(ns.path);
    return runner;
  }

  /** Runs fn after every earlier operation on the same attachment has finished. */
  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(key, tail);
    void tail.then(() => {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    });
    return run;
  }
}
