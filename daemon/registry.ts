// The daemon's table of leases, one per attachment (containerID, network name, ifName). Operations on one
// attachment are serialised; an ADD waiting for a lease does not hold the lock, so a DEL can cancel it.
import { randomBytes } from 'node:crypto';
import { AddParams, AddResult, Attachment, CheckParams, CheckResult, DelResult, GcParams, GcResult, LeaseDetail, LeaseView } from '../common/rpc';
import { ClientConfig, identity } from './dhcp/lease';
import { seededRng } from './dhcp/rng';
import { CniCode, CniError } from '../common/cni/errors';
import { DaemonOptions } from './flags';
import { Logger, leaseLogger } from './log';
import { LeaseRunner, RunnerMetrics } from './lease-runner';
import { ChannelFactory } from './transport/channel';
import { LinkInfo, ensureLinkUp, isNetnsError, isNetnsPath, linkInfo } from './transport/netns';

export interface RegistryDeps {
  opts: DaemonOptions;
  channels: ChannelFactory;
  log: Logger;
  now(): number;
  metrics?: RunnerMetrics;
}

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
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: RegistryDeps) {}

  async add(p: AddParams): Promise<AddResult> {
    const key = attachmentKey(p);
    const runner = await this.serial(key, async () => {
      const existing = this.leases.get(key);
      if (existing && existing.params.netns === p.netns) return existing;
      if (existing) {
        // Same attachment in another netns: the old sandbox is gone without a DEL; its lease is stale.
        this.leases.delete(key);
        await existing.release();
      }
      const runner = await this.createRunner(p);
      this.leases.set(key, runner);
      runner.start();
      return runner;
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
      // longer a namespace is never done. The server lets the lease expire.
      const ns = await isNetnsPath(this.deps.opts.hostPrefix + runner.params.netns);
      if (!ns.ok) {
        runner.stop('netns gone before DEL');
        this.deps.log.info({ attachment: key, netns: runner.params.netns }, 'DEL: netns gone, lease dropped without RELEASE');
        return { released: false, dropped: true };
      }
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
      if (!runner) throw new CniError(CniCode.NO_LEASE, `no lease for ${key}`);
      if (runner.params.netns !== p.netns) {
        throw new CniError(CniCode.LEASE_MISMATCH, `lease for ${key} was taken in ${runner.params.netns}, not ${p.netns}`);
      }
      if (!runner.bound || !runner.facts) {
        throw new CniError(CniCode.LEASE_MISMATCH, `lease for ${key} is not bound (state ${runner.state.state})`);
      }
      const s = runner.state;
      const expiresAtMs = 'lease' in s ? s.lease.expiresAtMs : null;
      if (expiresAtMs !== null && expiresAtMs <= this.deps.now()) {
        throw new CniError(CniCode.LEASE_MISMATCH, `lease for ${key} expired at ${new Date(expiresAtMs).toISOString()}`);
      }
      // CHECK only reads: it looks at the interface and never opens a socket or sends.
      const netnsPath = this.deps.opts.hostPrefix + p.netns;
      const ns = await isNetnsPath(netnsPath);
      if (!ns.ok) throw new CniError(CniCode.INVALID_ENVIRONMENT_VARIABLES, `CNI_NETNS ${JSON.stringify(p.netns)}: ${ns.reason}`);
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
    const d: LeaseDetail = { ...view(r), transitions: [...r.transitions] };
    if (r.facts) d.facts = r.facts;
    return d;
  }

  countsByState(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of this.leases.values()) counts[r.state.state] = (counts[r.state.state] ?? 0) + 1;
    return counts;
  }

  /** Daemon shutdown: pods keep their addresses, so nothing is released. */
  stopAll(): void {
    for (const r of this.leases.values()) r.stop('daemon stopping');
  }

  private async createRunner(p: AddParams): Promise<LeaseRunner> {
    const { opts, log } = this.deps;
    const netnsPath = opts.hostPrefix + p.netns;
    const ns = await isNetnsPath(netnsPath);
    if (!ns.ok) throw new CniError(CniCode.INVALID_ENVIRONMENT_VARIABLES, `CNI_NETNS ${JSON.stringify(p.netns)}: ${ns.reason}`);
    const link = await this.linkUp(netnsPath, p);
    const cfg: ClientConfig = {
      chaddr: link.mac,
      clientId: legacyClientId(p).toString('hex'),
      paramRequestList: p.paramRequestList,
      provide: p.provide.map((o) => ({ code: o.code, value: Buffer.from(o.value).toString('hex') })),
      broadcastFlag: p.broadcast ?? opts.broadcast,
      maxMessageSize: Math.max(576, Math.min(link.mtu, 1500)),
      timing: {
        firstRetransmitMs: opts.retransmitMs,
        maxRetransmitMs: opts.resendMaxMs,
        jitterMs: 1000,
        minRenewRetransmitMs: 60_000,
        requestRetries: 4,
      },
    };
    try {
      identity(cfg); // the core would throw on every step; say so now, naming the option
    } catch (err) {
      throw new CniError(CniCode.INVALID_NETWORK_CONFIG, `invalid DHCP client options: ${(err as Error).message}`);
    }
    return new LeaseRunner(p, cfg, {
      channels: this.deps.channels,
      now: this.deps.now,
      rng: seededRng(randomBytes(4).readUInt32LE(0)),
      log: leaseLogger(log, p),
      netnsPath,
      metrics: this.deps.metrics,
    });
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

function view(r: LeaseRunner): LeaseView {
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
  return v;
}
