// The daemon's table of leases, one per attachment (containerID, network name, ifName). Operations on one
// attachment are serialised; an ADD waiting for a lease does not hold the lock, so a DEL can cancel it.
import { AddParams, AddResult, Attachment, CheckParams, CheckResult, DelResult, GcParams, GcResult, LeaseDetail, LeaseView } from '../common/rpc';
import { ClientConfig, LeaseState, identity } from './dhcp/lease';
import { cryptoRng } from './dhcp/rng';
import { DEFAULT_CONFLICT_DETECTION } from './dhcp/probe';
import { DEFAULT_TIMING } from './dhcp/timing';
import { CniCode, CniError } from './cni/errors';
import { DaemonOptions } from './flags';
import { Logger, leaseLogger } from './log';
import { LeaseRunner, RetryHint, RunnerMetrics, Takeover } from './lease-runner';
import { ChannelFactory } from './transport/channel';
import { LinkInfo, ensureLinkUp, isNetnsError, isNetnsPath, linkInfo, netnsError, podLink } from './transport/netns';
import { PodNetns, RefusedNetns, checkPodNetns } from './pod-netns';
import { clientIdFor } from './client-id';
import { LeaseRecord, LeaseStore, LoadedRecord } from './store';
import { broadcastFlag } from './broadcast';
import { attachmentGone, netnsGone, recordOf, takeover } from './resume';
import { HostSend, releaseFromHost } from './host-release';
import { NetnsWatch } from './netns-watch';

export interface RegistryDeps {
  opts: DaemonOptions;
  channels: ChannelFactory;
  log: Logger;
  now(): number;
  metrics?: RunnerMetrics;
  /** Where lease records go; absent: leases live in memory only (tests). */
  store?: LeaseStore;
  /** Sends a RELEASE from the daemon's netns for a lease whose pod side is gone; absent: such leases are only
   *  dropped (the in-process tests, whose servers are not reachable from the host). */
  sendFromHost?: HostSend;
}

/** Resuming stored leases is spread over time so a node with many pods does not flood the server: this much per
 *  lease, at most RESUME_SPREAD_MAX_MS in all. */
const RESUME_SPREAD_PER_LEASE_MS = 20;
const RESUME_SPREAD_MAX_MS = 30_000;

/** A DEL-cancelled acquisition's address is asked for directly by an ADD of the same attachment this soon after:
 *  a runtime retries within seconds, and a server keeps an offer or a lease longer than this. */
const RETRY_HINT_MS = 5 * 60_000;
const MAX_RETRY_HINTS = 4096;

/** How long ADD waits for a fresh macvlan to come up before sending anyway. */
const LINK_UP_TIMEOUT_MS = 2000;
/** Option 61 limit: one type byte + 254 bytes of identifier (DESIGN.md contracts). */
const MAX_CLIENT_ID_TEXT = 254;

export function attachmentKey(a: Attachment): string {
  return `${a.containerId}/${a.network}/${a.ifName}`;
}

/** The reference plugin's client identifier: type 0 + "<containerID>/<network>/<ifName>", so a switch from
 *  `dhcp` keeps every address on the server. */
export function legacyClientId(a: Attachment): Buffer {
  const text = Buffer.from(attachmentKey(a)).subarray(0, MAX_CLIENT_ID_TEXT);
  return Buffer.concat([Buffer.from([0]), text]);
}

export class Registry {
  private readonly leases = new Map<string, LeaseRunner>();
  /** What DEL-cancelled acquisitions reached, by attachment, for a retried ADD (fast retry). */
  private readonly retryHints = new Map<string, { hint: RetryHint; untilMs: number }>();
  private readonly locks = new Map<string, Promise<unknown>>();
  /** The daemon's randomness (resume spread, xids of host-side RELEASEs, every lease's xids and jitter). */
  private readonly rng = cryptoRng();
  /** Each lease's netns as checked at ADD (path, dev, inode): the record keeps the inode, the vanish check and
   *  every later entry compare it, and no two attachments may share one interface of one namespace. */
  private readonly netnsIds = new WeakMap<LeaseRunner, PodNetns>();
  /** (netns, ifName) of ADDs between their check and their runner joining the table. */
  private readonly claiming = new Map<string, string>();
  private vanishTimer?: NodeJS.Timeout;
  /** Set while the vanish check runs: netns directories watched for removals between sweeps. */
  private netnsWatch?: NetnsWatch;
  private sweeping?: Promise<void>;
  private sweepAgain = false;

  constructor(private readonly deps: RegistryDeps) {}

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
        throw new CniError(CniCode.INVALID_ENVIRONMENT_VARIABLES, `${p.ifName} in ${p.netns} already has a lease, for attachment ${holder}`);
      }
      this.claiming.set(claim, key);
      try {
        const runner = await this.createRunner(p, ns);
        if (warnings) leaseLogger(this.deps.log, p).warn({ warnings }, 'network config: parts ignored');
        this.leases.set(key, runner);
        const hint = this.takeRetryHint(key);
        if (hint) leaseLogger(this.deps.log, p).info({ hint }, 'fast retry: asking for the address the cancelled acquisition reached');
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
      const ns = await isNetnsPath((this.netnsIds.get(runner) as PodNetns).path);
      if (!ns.ok) {
        runner.stop('netns gone before DEL');
        const hostRelease = await this.releaseFromHost(runner.cfg, runner.state);
        await this.deps.store?.remove(key);
        this.deps.log.info({ attachment: key, netns: runner.params.netns, hostRelease }, 'DEL: netns gone, lease dropped');
        return { released: false, dropped: true };
      }
      // A runtime that answers "try again later" with DEL (containerd) cancels the acquisition; its retried ADD
      // asks for what this one reached instead of starting over.
      const hint = runner.retryHint();
      if (hint) this.rememberRetryHint(key, hint);
      await runner.release();
      return { released: true };
    });
  }

  private rememberRetryHint(key: string, hint: RetryHint): void {
    const now = this.deps.now();
    for (const [k, h] of this.retryHints) if (h.untilMs <= now) this.retryHints.delete(k);
    // Oldest first out: a burst of cancelled acquisitions cannot grow the table without bound.
    if (this.retryHints.size >= MAX_RETRY_HINTS) this.retryHints.delete(this.retryHints.keys().next().value as string);
    this.retryHints.set(key, { hint, untilMs: now + RETRY_HINT_MS });
  }

  private takeRetryHint(key: string): RetryHint | undefined {
    const h = this.retryHints.get(key);
    this.retryHints.delete(key);
    return h && h.untilMs > this.deps.now() ? h.hint : undefined;
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
      if (!runner) throw new CniError(CniCode.NO_LEASE, `no lease for ${key}`);
      if (runner.params.netns !== p.netns) {
        throw new CniError(CniCode.LEASE_MISMATCH, `lease for ${key} was taken in ${runner.params.netns}, not ${p.netns}`);
      }
      if (!runner.bound || !runner.facts) {
        throw new CniError(CniCode.LEASE_MISMATCH, `lease for ${key} is not bound (state ${runner.state.state})`);
      }
      if (runner.changedTo !== undefined) {
        throw new CniError(CniCode.LEASE_MISMATCH, `lease for ${key} changed from ${runner.configuredAddress} to ${runner.changedTo} after it expired; the pod's interface still has ${runner.configuredAddress} (held down): re-create the attachment`);
      }
      const s = runner.state;
      const expiresAtMs = 'lease' in s ? s.lease.expiresAtMs : null;
      if (expiresAtMs !== null && expiresAtMs <= this.deps.now()) {
        throw new CniError(CniCode.LEASE_MISMATCH, `lease for ${key} expired at ${new Date(expiresAtMs).toISOString()}`);
      }
      // CHECK only reads: it looks at the interface and never opens a socket or sends.
      const ns = await this.podNetns(p.netns);
      const recorded = this.netnsIds.get(runner);
      if (recorded && (recorded.dev !== ns.dev || recorded.inode !== ns.inode)) {
        throw new CniError(CniCode.LEASE_MISMATCH, `${p.netns} names another namespace than at ADD (inode ${ns.inode}, was ${recorded.inode})`);
      }
      const netnsPath = ns.path;
      let link: LinkInfo;
      try {
        link = await linkInfo(netnsPath, p.ifName);
      } catch (err) {
        throw new CniError(CniCode.LEASE_MISMATCH, `CNI_IFNAME ${JSON.stringify(p.ifName)} is not usable in ${p.netns}: ${(err as Error).message}`);
      }
      const out: CheckResult = { facts: runner.facts, state: s.state, interfaceAddresses: link.addresses };
      if (expiresAtMs !== null) out.expiresAt = new Date(expiresAtMs).toISOString();
      return out;
    });
  }

  list(): LeaseView[] {
    return [...this.leases.values()].map((r) => view(r));
  }

  /** One lease in full, with its recent transitions (`ts-dhcp leases show`). */
  detail(a: Attachment): LeaseDetail {
    const key = attachmentKey(a);
    const r = this.leases.get(key);
    if (!r) throw new CniError(CniCode.NO_LEASE, `no lease for ${key}`);
    const d: LeaseDetail = { ...view(r), transitions: [...r.transitions], ignored: { ...r.ignored } };
    if (r.facts) d.facts = r.facts;
    return d;
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
    clearTimeout(this.vanishTimer);
    this.vanishTimer = undefined;
    this.netnsWatch?.close();
    this.netnsWatch = undefined;
    const runners = [...this.leases.values()];
    if (release) {
      await Promise.all(runners.map((r) => this.del(r.params).catch((err: Error) => this.deps.log.warn({ err: err.message }, 'release on exit failed'))));
    }
    for (const r of runners) r.stop('daemon stopping');
    await Promise.all(runners.map((r) => r.settled()));
    await this.deps.store?.idle();
  }

  /** Start-up: takes over the stored leases. A live attachment (the netns path names the same namespace, the
   *  interface with the same MAC is in it) is back in the table at once, so ADD, DEL and the lease view see it, and
   *  is re-verified with the server after a random delay (spread: many leases must not flood the server). A dead
   *  one's record is dropped, its lease released from the host when it can be. */
  async restore(loaded: LoadedRecord[]): Promise<void> {
    const { store, log } = this.deps;
    const spreadMs = Math.min(RESUME_SPREAD_MAX_MS, loaded.length * RESUME_SPREAD_PER_LEASE_MS);
    for (const { file, record } of loaded) {
      // Each record on its own: whatever goes wrong with one costs that lease, never the others or the daemon.
      await this.restoreOne(record, spreadMs).catch(async (err: Error) => {
        if (store) await store.setAside(file, `cannot resume: ${err.message}`);
        else log.error({ file, err: err.message }, 'stored lease not resumed');
      });
    }
  }

  private async restoreOne(rec: LeaseRecord, spreadMs: number): Promise<void> {
    const { opts, store, log, now } = this.deps;
    const key = attachmentKey(rec.params);
    // A record's netns gets the checks of an ADD's: a record is a file, and may have been edited.
    const ns = await checkPodNetns(opts.hostPrefix, rec.params.netns);
    if (ns instanceof RefusedNetns) throw ns;
    const gone = ns instanceof Error ? ns.message : await attachmentGone(ns.path, rec.params.ifName, rec.netnsInode, rec.mac);
    if (gone) {
      const hostRelease = await this.releaseFromHost(rec.cfg, rec.state);
      log.info({ attachment: key, reason: gone, hostRelease }, 'stored lease dropped: attachment gone');
      await store?.remove(key);
      return;
    }
    const plan = takeover(rec, now(), this.minLeaseTimeS);
    const runner = this.runnerFor(rec.params, rec.cfg, ns as PodNetns, { takeover: plan });
    this.leases.set(key, runner);
    const delayMs = Math.floor(this.rng.next() * spreadMs);
    log.info({ attachment: key, state: plan.next.state, address: runner.facts?.address, delayMs }, 'resuming stored lease');
    setTimeout(() => {
      void this.serial(key, async () => {
        if (this.leases.get(key) === runner) runner.resume();
      });
    }, delayMs).unref();
  }

  /** Checks the attachments of a netns directory as soon as it changes (inotify), and every attachment every
   *  intervalMs (after the previous check finished) for paths that cannot be watched, until shutdown. */
  startVanishCheck(intervalMs: number): void {
    this.netnsWatch = new NetnsWatch(() => void this.sweepSoon());
    for (const r of this.leases.values()) this.netnsWatch.watch((this.netnsIds.get(r) as PodNetns).path);
    const tick = async (): Promise<void> => {
      await this.sweepSoon();
      if (this.vanishTimer) this.vanishTimer = setTimeout(() => void tick(), intervalMs);
    };
    this.vanishTimer = setTimeout(() => void tick(), intervalMs);
  }

  /** One sweep at a time; a change noticed during a sweep gets another sweep after it. */
  private sweepSoon(): Promise<void> {
    if (this.sweeping) {
      this.sweepAgain = true;
      return this.sweeping;
    }
    this.sweeping = (async () => {
      do {
        this.sweepAgain = false;
        await this.sweepVanished().catch((err: Error) => this.deps.log.error({ err: err.message }, 'vanish check failed'));
      } while (this.sweepAgain);
    })().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  /** Drops every lease whose netns vanished without a DEL (node reboot, runtime crash, `ip netns del`); a removed
   *  interface is noticed at the lease's next transaction instead, so the sweep stays one stat per lease. The address is free for reuse, so a RELEASE goes from the host when it can; nothing is sent from the
   *  pod side or afterwards, the record goes, no socket is left in the netns. */
  async sweepVanished(): Promise<void> {
    for (const [key, runner] of [...this.leases]) {
      const ns = this.netnsIds.get(runner);
      if (ns === undefined) continue;
      const gone = await netnsGone(ns.path, ns.inode);
      if (!gone) continue;
      await this.serial(key, async () => {
        if (this.leases.get(key) !== runner) return;
        this.leases.delete(key);
        runner.stop(gone);
        await runner.settled();
        const hostRelease = await this.releaseFromHost(runner.cfg, runner.state);
        await this.deps.store?.remove(key);
        this.deps.log.warn({ attachment: key, reason: gone, address: runner.facts?.address, hostRelease }, 'attachment vanished without DEL; lease dropped');
      });
    }
    // The watches of directories no lease is in any more go (DEL, vanished pods).
    this.netnsWatch?.retain([...this.leases.values()].flatMap((r) => this.netnsIds.get(r)?.path ?? []));
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
    const ns = await checkPodNetns(this.deps.opts.hostPrefix, netns);
    if (ns instanceof Error) throw new CniError(CniCode.INVALID_ENVIRONMENT_VARIABLES, `CNI_NETNS ${JSON.stringify(netns)}: ${ns.message}`);
    return ns;
  }

  private async createRunner(p: AddParams, ns: PodNetns): Promise<LeaseRunner> {
    const { opts } = this.deps;
    const link = await this.linkUp(ns.path, p);
    const cfg: ClientConfig = {
      chaddr: link.mac,
      clientId: this.clientId(p).toString('hex'),
      paramRequestList: p.paramRequestList,
      provide: p.provide.map((o) => ({ code: o.code, value: Buffer.from(o.value).toString('hex') })),
      broadcastFlag: broadcastFlag(link.kind, p.broadcast, opts.broadcast),
      maxMessageSize: Math.max(576, Math.min(link.mtu, 1500)),
      timing: { ...DEFAULT_TIMING, firstRetransmitMs: opts.retransmitMs, maxRetransmitMs: opts.resendMaxMs },
      conflictDetection: p.conflictDetection ?? DEFAULT_CONFLICT_DETECTION,
      announce: p.announce ?? true,
    };
    try {
      identity(cfg); // the core would throw on every step; say so now, naming the option
    } catch (err) {
      throw new CniError(CniCode.INVALID_NETWORK_CONFIG, `invalid DHCP client options: ${(err as Error).message}`);
    }
    return this.runnerFor(p, cfg, ns, { mtuCeiling: link.mtu });
  }

  private clientId(p: AddParams): Buffer {
    try {
      return clientIdFor(p, legacyClientId(p), this.deps.opts.stateDir, leaseLogger(this.deps.log, p));
    } catch (err) {
      throw new CniError(CniCode.INVALID_NETWORK_CONFIG, `ipam.clientId: ${(err as Error).message}`);
    }
  }

  /** A runner for a new ADD (with the MTU its interface had), or for a lease taken over from its record. */
  private runnerFor(p: AddParams, cfg: ClientConfig, ns: PodNetns, o: { mtuCeiling?: number; takeover?: Takeover }): LeaseRunner {
    const netnsPath = ns.path;
    // Every later entry first checks that the path still names the namespace of the ADD (or of the record): a
    // path reused by another pod, or swapped for another namespace, is not this lease's.
    const same = async (): Promise<void> => {
      const gone = await netnsGone(netnsPath, ns.inode);
      if (gone) throw netnsError('enter', netnsPath, p.ifName, 'ENOTNS', gone);
    };
    const runner = new LeaseRunner(p, cfg, {
      persist: (r) => this.persist(r),
      channels: this.deps.channels,
      now: this.deps.now,
      rng: this.rng,
      log: leaseLogger(this.deps.log, p),
      netnsPath,
      metrics: this.deps.metrics,
      checkNetns: same,
      podLink: podLink(netnsPath, p.ifName, same),
      mtuCeiling: o.mtuCeiling,
      resendTimeoutMs: this.deps.opts.resendTimeoutMs,
      sendFromHost: this.deps.sendFromHost,
      minLeaseTimeS: this.minLeaseTimeS,
    }, o.takeover);
    this.netnsIds.set(runner, ns);
    this.netnsWatch?.watch(netnsPath);
    return runner;
  }

  /** The RELEASE of a lease whose pod side is gone, from the daemon's netns (daemon/host-release.ts); what
   *  happened, for the log line. */
  private async releaseFromHost(cfg: ClientConfig, state: LeaseState): Promise<string> {
    if (!this.deps.sendFromHost) return 'no host sender';
    return releaseFromHost(this.deps.sendFromHost, cfg, state, this.deps.now(), this.rng);
  }

  /** Brings the pod's interface up before the first send (the reference plugin loses 1-3 s to ENETDOWN here).
   *  A link slow to report carrier is used anyway: retransmissions cover the first lost DISCOVER. */
  private async linkUp(netnsPath: string, p: AddParams): Promise<LinkInfo> {
    try {
      return await ensureLinkUp(netnsPath, p.ifName, LINK_UP_TIMEOUT_MS);
    } catch (err) {
      if (isNetnsError(err) && err.code === 'ETIMEDOUT') {
        this.deps.log.warn({ ifName: p.ifName, netns: p.netns }, 'link not running yet; sending anyway');
        return linkInfo(netnsPath, p.ifName);
      }
      throw new CniError(CniCode.INVALID_ENVIRONMENT_VARIABLES, `CNI_IFNAME ${JSON.stringify(p.ifName)}: ${(err as Error).message}`);
    }
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

/** One interface of one namespace, whatever path names it. */
function interfaceId(ns: PodNetns, ifName: string): string {
  return `${ns.dev}:${ns.inode}/${ifName}`;
}

/** The lease view's row of a runner (`ts-dhcp leases`). */
export function view(r: LeaseRunner): LeaseView {
  const s = r.state;
  const v: LeaseView = {
    containerId: r.params.containerId,
    network: r.params.network,
    ifName: r.params.ifName,
    netns: r.params.netns,
    args: r.params.args,
    mac: r.cfg.chaddr,
    state: s.state,
  };
  if (r.facts) {
    v.address = r.facts.address;
    v.prefixLength = r.facts.prefixLength;
    v.serverId = r.facts.serverId;
  }
  if ('lease' in s) {
    const iso = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());
    v.t1At = iso(s.lease.t1AtMs);
    v.t2At = iso(s.lease.t2AtMs);
    v.expiresAt = iso(s.lease.expiresAtMs);
  }
  if (r.lastError) v.lastError = r.lastError;
  if (r.recordError !== undefined) v.recordError = r.recordError;
  if (r.changedTo !== undefined) {
    // `address` stays what the pod's interface has; changedTo is what the server bound instead.
    v.address = r.configuredAddress;
    v.changedTo = r.changedTo;
  }
  return v;
}
