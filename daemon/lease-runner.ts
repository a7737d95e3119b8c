// Drives one attachment's pure lease core: feeds it packets and timeouts in order, carries out its actions
// (send, emit, persist), keeps the one timer of the lease armed at the core's next deadline, and holds a socket
// only while a transaction needs one (an open socket pins the pod netns).
import { AddParams, LeaseFacts, Transition } from '../common/rpc';
import { ArpPacket, decodeArp, encodeArp } from './dhcp/arp';
import { BROADCAST_IP, ZERO_IP } from './dhcp/bytes';
import { encode } from './dhcp/codec';
import { interfaceMtu } from './dhcp/options';
import { ClientConfig, Input, LeaseEvent, LeaseState, initialState, nextDeadline, step, transportFor } from './dhcp/lease';
import { Rng } from './dhcp/rng';
import { DEFAULT_MIN_LEASE_TIME_S, decodeReply } from './dhcp/sanitise';
import { DhcpMessage, MessageType } from './dhcp/types';
import { DaemonError } from './errors';
import { leaseFacts } from './facts';
import { releaseFromHost } from './host-release';
import { LinkHold } from './link-hold';
import type { Logger } from './log';
import { LinkPolicy, isAck, isGone, mtuToSet } from './pod-link';
import type { ArpChannel, Channel, HostSend, PodSide, Received } from './pod-port';
import { PodAddressAction, Readdress } from './readdress';

export interface RunnerDeps {
  /** The attachment's interface in its netns (the pod-side port): sockets, and the link policy's calls that follow
   *  lease changes (params.onChange: daemon/readdress.ts or daemon/link-hold.ts). */
  pod: PodSide;
  now(): number;
  rng: Rng;
  log: Logger;
  /** Writes the lease record (the core's persist action); awaited before ADD is answered. */
  persist?(runner: LeaseRunner): Promise<void>;
  /** Counts events (daemon/metrics.ts) when metrics are on. */
  metrics?: RunnerMetrics;
  /** The pod interface's MTU when ADD came: the most params.applyMtu sets (pod-link.ts mtuToSet). Absent (a lease
   *  taken over after a restart): the MTU the interface has when the first ACK comes. */
  mtuCeiling?: number;
  /** Give up a background acquisition after this long (daemon -resendtimeout); 0 or absent: never. */
  resendTimeoutMs?: number;
  /** Sends a RELEASE from the daemon's netns when no channel in the pod netns could (daemon/host-release.ts). */
  sendFromHost?: HostSend;
  /** Shorter leases count as this long (daemon/dhcp/sanitise.ts); absent: DEFAULT_MIN_LEASE_TIME_S. */
  minLeaseTimeS?: number;
}

/** A lease taken over from its record after a restart (daemon/resume.ts takeover): the runner holds it as stored
 *  until resume() re-verifies it with the server. */
export interface Takeover {
  /** The state as stored: what the lease view shows, and what a DEL releases, until resume(). */
  held: LeaseState;
  /** The stored ACK, sanitised. */
  ack?: DhcpMessage;
  /** Where the re-verification starts (INIT-REBOOT, INIT, or BOUND with T1 moved to now). */
  next: LeaseState;
  /** The stored lease has expired: the link policy takes its address off the pod's interface first. */
  expired: boolean;
}

/** A fast-retry hint: with serverId an offered address, without one an acknowledged address. */
export interface RetryHint {
  address: string;
  serverId?: string;
}

export interface RunnerMetrics {
  /** transactionMs: for bound/renewed/rebound/changed, how long since the exchange began. */
  event(event: LeaseEvent, transactionMs?: number): void;
  /** A lease record could not be written. */
  recordWriteFailed?(): void;
  /** The pod's interface re-addressed in place (daemon/readdress.ts). */
  podAddress?(action: PodAddressAction): void;
}

/** A record that could not be written is tried again after this long, doubling up to the cap. */
const RECORD_RETRY_FIRST_MS = 1000;
const RECORD_RETRY_MAX_MS = 60_000;

/** Transitions kept per lease for the lease view. */
const MAX_TRANSITIONS = 16;

interface Waiter {
  resolve(facts: LeaseFacts): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

const SEND_NAMES: Record<number, string> = {
  [MessageType.DISCOVER]: 'DISCOVER',
  [MessageType.REQUEST]: 'REQUEST',
  [MessageType.RELEASE]: 'RELEASE',
  [MessageType.DECLINE]: 'DECLINE',
};

/** setTimeout's longest delay; a longer deadline is re-armed after an early (no-op) wake-up. */
const MAX_TIMER_MS = 0x7fffffff;

const BOUND_STATES = new Set(['BOUND', 'RENEWING', 'REBINDING']);
const ACQUIRING_STATES = new Set(['SELECTING', 'REQUESTING', 'REBOOTING', 'PROBING']);

export class LeaseRunner {
  state: LeaseState = initialState();
  facts?: LeaseFacts;
  /** The ACK behind `facts`: what the lease record keeps. */
  ack?: DhcpMessage;
  lastError?: string;
  /** The most recent state changes, oldest first, at most MAX_TRANSITIONS. */
  readonly transitions: Transition[] = [];
  /** When the current exchange (acquisition, renewal) began: the latency metric's start. */
  private txStartMs?: number;
  /** Messages sent in the current acquisition, by name: what ADD reports when it gives up. */
  private sentCounts = new Map<string, number>();
  private offers = 0;
  private naks = 0;
  /** The OFFER the current acquisition last requested: kept until an ACK or a NAK settles it (retryHint). */
  private lastOffer?: { address: string; serverId: string };
  private chain: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private channel?: { key: string; ch: Channel };
  /** The ARP socket of PROBING, for the probed address. */
  private arp?: { address: string; ch: ArpChannel };
  /** The pod interface's MTU as applyMtu last set it (the ceiling until then), and that ceiling. */
  private mtu?: number;
  private mtuCeiling?: number;
  /** Beside the RENEWING channel: hears the broadcast NAK (see reconcileChannel). */
  private broadcastRx?: Channel;
  private waiters = new Set<Waiter>();
  private stopped = false;
  /** Whether a record of this lease is on disk (a taken-over lease starts with one): until then, a failed write
   *  ends the lease, since a restart would forget an address the pod keeps using. */
  private onDisk = false;
  /** Why the last record write failed, while it is being retried; the lease view and status show it. */
  recordError?: string;
  private recordRetryMs = 0;
  private recordTimer?: NodeJS.Timeout;
  /** Replies the core ignored, by reason (wrong xid, chaddr, server id...). */
  readonly ignored: Record<string, number> = {};
  private acquiringSinceMs?: number;
  /** What lease changes do to the pod's interface. */
  private readonly link: LinkPolicy;

  constructor(
    readonly params: AddParams,
    readonly cfg: ClientConfig,
    private readonly deps: RunnerDeps,
    /** Present for a lease taken over from its record (resume() continues it); absent for a new ADD (start()). */
    private readonly takeover?: Takeover,
  ) {
    if (takeover) {
      this.state = takeover.held;
      this.onDisk = true;
      if (takeover.ack) {
        this.ack = takeover.ack;
        this.facts = leaseFacts(takeover.ack);
      }
    }
    const pod = deps.pod;
    if (params.onChange !== 'hold-link-down') {
      this.link = new Readdress({
        link: pod,
        log: deps.log,
        routing: () => this.params.routing ?? {},
        count: (action) => deps.metrics?.podAddress?.(action),
        ioError: (err) => this.noteIoError(err),
      });
    } else {
      this.link = new LinkHold(
        { setLinkUp: (up) => pod.setUp(up), addRoute: (route) => pod.addRoute(route), log: deps.log },
        {
          closeChannel: () => this.closeChannel(),
          reopenChannel: () => this.reconcileChannel(),
          serialise: (work) => {
            this.chain = this.chain.then(work);
          },
          active: () => !this.stopped,
          facts: () => this.facts,
          routing: () => this.params.routing ?? {},
          ioError: (err) => this.noteIoError(err),
        },
      );
    }
  }

  /** The address of the first ACK: the one the CNI plugin configured on the interface. */
  get configuredAddress(): string | undefined {
    return this.link.configuredAddress;
  }

  /** Set while the server has bound an address other than configuredAddress: CHECK and the lease view show it. */
  get changedTo(): string | undefined {
    return this.link.changedTo;
  }

  /** False once released or stopped (DEL, shutdown, resend timeout): a new ADD needs a new runner. */
  get active(): boolean {
    return !this.stopped;
  }

  get bound(): boolean {
    return this.facts !== undefined && BOUND_STATES.has(this.state.state);
  }

  /** Starts acquiring; with a hint (registry fast retry) straight from what a cancelled acquisition had reached. */
  start(hint?: RetryHint): void {
    if (!hint) this.enqueue({ type: 'start' });
    else if (hint.serverId !== undefined) this.enqueue({ type: 'start', offer: { address: hint.address, serverId: hint.serverId } });
    else this.enqueue({ type: 'start', requestedIp: hint.address });
  }

  /** What a retried ADD can ask for directly once DEL cancels this acquisition: the address a server offered
   *  (REQUEST with 50 and 54), or the one last acknowledged (INIT-REBOOT); none after a NAK or when bound. */
  retryHint(): RetryHint | undefined {
    const s = this.state;
    if (s.state === 'REQUESTING') return { address: s.offer.address, serverId: s.offer.serverId };
    if (s.state !== 'SELECTING' && s.state !== 'REBOOTING') return undefined;
    if (this.lastOffer) return { ...this.lastOffer };
    if (s.state === 'REBOOTING') return { address: s.requestedIp };
    return this.ack && !this.naks ? { address: this.ack.yiaddr } : undefined;
  }

  /** Whether a record of this lease is on disk. */
  get recordOnDisk(): boolean {
    return this.onDisk;
  }

  /** Continues the lease taken over from its record (constructor `takeover`): INIT or INIT-REBOOT is started, a
   *  held state gets a timeout (takeover moved T1 to now for an immediate RENEW). */
  resume(): void {
    if (!this.takeover) throw new Error('resume() of a runner not taken over from a record');
    const { next, expired } = this.takeover;
    this.state = next;
    const link = this.link;
    const facts = this.facts;
    this.chain = this.chain.then(() => link.resumed(facts, expired));
    this.enqueue(next.state === 'INIT-REBOOT' || next.state === 'INIT' ? { type: 'start' } : { type: 'timeout' });
  }

  /** Resolves when the step in progress (and any queued before this call) has finished. */
  settled(): Promise<void> {
    return this.chain;
  }

  /** Resolves with the lease facts once bound; rejects with "try again later" after timeoutMs. */
  waitBound(timeoutMs: number): Promise<LeaseFacts> {
    if (this.bound) return Promise.resolve(this.facts as LeaseFacts);
    if (this.stopped) return Promise.reject(new DaemonError('cancelled', 'the lease was released while waiting'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new DaemonError('timeout', `no lease within ${timeoutMs / 1000}s: ${this.progress()}; still trying in the background, retry ADD`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Releases the lease (RELEASE on the wire when one is held) and stops for good. */
  release(): Promise<void> {
    this.enqueue({ type: 'release' });
    return this.chain.then(() => this.stop('released'));
  }

  /** Stops without telling the server (shutdown, vanished netns). */
  stop(why: string): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.recordTimer);
    this.link.stop();
    this.closeChannel();
    this.rejectWaiters(new DaemonError('cancelled', `acquisition cancelled: ${why}`));
  }

  private rejectWaiters(err: DaemonError): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiters.clear();
  }

  /** "3 DISCOVERs on eth1 in /var/run/netns/x, no OFFER": what was tried so far. */
  progress(): string {
    const where = `on ${this.params.ifName} in ${this.params.netns}`;
    const sent = [...this.sentCounts].map(([name, n]) => `${n} ${name}${n === 1 ? '' : 's'}`).join(', ') || 'nothing sent';
    const heard = this.offers === 0 ? 'no OFFER' : `${this.offers} OFFER${this.offers === 1 ? '' : 's'}, ${this.naks} NAK${this.naks === 1 ? '' : 's'}, no ACK`;
    return `${sent} ${where}, ${heard}${this.lastError ? ` (last error: ${this.lastError})` : ''}`;
  }

  private enqueue(input: Input): void {
    this.chain = this.chain.then(() => this.process(input)).catch((err: Error) => {
      // A bug in a step must not take the daemon down; the lease view shows it.
      this.lastError = err.message;
      this.deps.log.error({ err }, 'lease step failed');
    });
  }

  private async process(input: Input): Promise<void> {
    if (this.stopped) return;
    const before = this.state;
    const { state, actions } = step(before, input, this.deps.now(), { cfg: this.cfg, rng: this.deps.rng });
    this.state = state;
    if (state.state === 'REQUESTING') this.lastOffer = { address: state.offer.address, serverId: state.offer.serverId };
    if (before.state !== state.state) this.deps.log.info({ from: before.state, to: state.state }, 'state');
    if (before.state !== state.state && this.txStartMs === undefined && state.state !== 'BOUND') this.txStartMs = this.deps.now();
    await this.reconcileChannel();
    const events: LeaseEvent[] = [];
    const linkChanges: string[] = [];
    let persist = false;
    for (const action of actions) {
      if (action.type === 'send') await this.send(action.msg, action.via, action.srcIp, action.dstIp);
      else if (action.type === 'arp') await this.sendArp(action.packet);
      else if (action.type === 'persist') persist = true;
      else if (action.type === 'emit') {
        events.push(action.event);
        this.onEvent(action.event);
        const change = await this.link.onEvent(action.event);
        if (change) linkChanges.push(change);
        await this.applyMtu(action.event);
      }
    }
    // The record is on disk before ADD hears of the lease: a crash after the reply never loses a granted lease.
    // Without one (ENOSPC, EIO) ADD fails and the lease is given back, so no address lives on unrecorded.
    if (persist && !(await this.persistNow())) {
      // Released before ADD hears of it: once the error is out, no lease of this ADD is left anywhere.
      const err = new DaemonError('io', `the lease record could not be written (${this.recordError}); the lease was released`);
      await this.process({ type: 'release' });
      this.rejectWaiters(err);
      this.stop('the lease record could not be written');
      return;
    }
    // The pod side vanished under a held lease: its address is free for reuse, so the host releases it if it can.
    if (input.type === 'linkGone' && this.deps.sendFromHost) {
      const hostRelease = await releaseFromHost(this.deps.sendFromHost, this.cfg, before, this.deps.now(), this.deps.rng);
      this.deps.log.info({ hostRelease }, 'link or netns gone: lease dropped');
    }
    if (this.bound && !this.stopped) this.resolveWaiters();
    if (before.state !== state.state) this.recordTransition(before.state, state.state, input, events, linkChanges);
    if (!ACQUIRING_STATES.has(state.state)) this.acquiringSinceMs = undefined;
    else this.acquiringSinceMs ??= this.deps.now();
    this.arm();
  }

  /** ipam.applyMtu: the lease's option 26 on the pod's interface, bounded by its MTU at ADD. */
  private async applyMtu(event: LeaseEvent): Promise<void> {
    const { pod } = this.deps;
    if (!this.params.applyMtu || !isAck(event)) return;
    try {
      this.mtuCeiling ??= this.deps.mtuCeiling ?? (await pod.mtu());
      this.mtu ??= this.mtuCeiling;
      const mtu = mtuToSet(interfaceMtu(event.ack), this.mtuCeiling, this.mtu);
      if (mtu === undefined) return;
      await pod.setMtu(mtu);
      this.deps.log.info({ from: this.mtu, to: mtu, ceiling: this.mtuCeiling }, 'MTU set');
      this.mtu = mtu;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (isGone(e)) this.noteIoError(e);
      else this.deps.log.warn({ err: e.message, code: e.code }, 'cannot set the MTU');
    }
  }

  /** Writes the record; false when the first one failed (the caller ends the lease). A later failure keeps the
   *  lease (its previous record still names the address) and retries with backoff until a write succeeds. */
  private async persistNow(): Promise<boolean> {
    clearTimeout(this.recordTimer);
    try {
      await this.deps.persist?.(this);
      if (this.recordError !== undefined) this.deps.log.info('lease record written again');
      this.onDisk = true;
      this.recordError = undefined;
      this.recordRetryMs = 0;
      return true;
    } catch (err) {
      this.recordError = (err as Error).message;
      this.deps.metrics?.recordWriteFailed?.();
      if (!this.onDisk && this.state.state !== 'RELEASED') {
        this.deps.log.error({ err: this.recordError }, 'cannot write the first record of the lease; releasing it');
        return false;
      }
      this.recordRetryMs = Math.min(Math.max(RECORD_RETRY_FIRST_MS, this.recordRetryMs * 2), RECORD_RETRY_MAX_MS);
      this.deps.log.error({ err: this.recordError, retryInMs: this.recordRetryMs }, 'cannot write the lease record; will retry');
      this.recordTimer = setTimeout(() => {
        this.chain = this.chain.then(async () => {
          if (!this.stopped) await this.persistNow();
        });
      }, this.recordRetryMs);
      return true;
    }
  }

  private resolveWaiters(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(this.facts as LeaseFacts);
    }
    this.waiters.clear();
  }

  private recordTransition(from: string, to: string, input: Input, events: LeaseEvent[], linkChanges: string[]): void {
    const why = [transitionWhy(from, input, events), ...linkChanges].join('; ');
    this.transitions.push({ at: new Date().toISOString(), from, to, why });
    if (this.transitions.length > MAX_TRANSITIONS) this.transitions.shift();
  }

  private onEvent(event: LeaseEvent): void {
    const log = this.deps.log;
    let transactionMs: number | undefined;
    if (event.kind === 'bound' || event.kind === 'renewed' || event.kind === 'rebound' || event.kind === 'changed') {
      transactionMs = this.txStartMs === undefined ? undefined : this.deps.now() - this.txStartMs;
      this.txStartMs = undefined;
    } else if (event.kind === 'expired') this.txStartMs = this.deps.now();
    this.deps.metrics?.event(event, transactionMs);
    switch (event.kind) {
      case 'bound':
      case 'renewed':
      case 'rebound':
      case 'changed': {
        this.facts = leaseFacts(event.ack);
        this.ack = event.ack;
        this.lastError = undefined;
        this.sentCounts.clear();
        this.offers = 0;
        this.naks = 0;
        this.lastOffer = undefined;
        if (event.kind === 'changed') log.warn({ from: event.from, to: event.to }, 'lease changed address');
        else log.info({ address: this.facts.address, leaseTimeS: this.facts.leaseTimeS }, event.kind);
        return;
      }
      case 'nak':
        this.naks++;
        this.lastOffer = undefined;
        log.warn({ in: event.in, message: event.message }, 'NAK');
        return;
      case 'expired':
        this.facts = undefined;
        log.warn({ address: event.address }, 'lease expired');
        return;
      case 'failed':
        this.lastError = event.reason;
        log.warn({ reason: event.reason }, 'failed');
        return;
      case 'declined':
        this.lastError = `${event.address} is in use by ${event.by}: declined`;
        log.warn({ address: event.address, by: event.by, conflicts: event.conflicts, restartInMs: event.restartInMs }, 'address in use on the link: DHCPDECLINE sent');
        return;
      case 'ignored': {
        const n = (this.ignored[event.reason] = (this.ignored[event.reason] ?? 0) + 1);
        // Every pod's AF_PACKET socket hears the broadcast replies to the others: other xids are routine.
        const routine = event.reason === 'xid' || event.reason === 'state' || event.reason === 'type';
        log[routine ? 'debug' : 'info']({ reason: event.reason, count: n }, 'ignored a reply');
        return;
      }
      case 'retransmit':
        log.debug({ in: event.state, attempt: event.attempt }, 'retransmit');
        return;
      case 'released':
        log.info('released');
        return;
      default:
        log.debug({ event }, 'event');
    }
  }

  private onReceive = (r: Received): void => {
    // Whatever answered is any host on the LAN: nothing it says reaches the core, the result or a record unchecked.
    const decoded = decodeReply(r.payload, { minLeaseTimeS: this.deps.minLeaseTimeS ?? DEFAULT_MIN_LEASE_TIME_S });
    if (!decoded.ok) {
      this.deps.log.debug({ reason: decoded.reason, from: r.srcIp }, 'undecodable reply dropped');
      return;
    }
    const { msg, dropped } = decoded;
    // Every pod's AF_PACKET socket hears the replies to the others: only this lease's own are worth a line.
    const mine = 'tx' in this.state && this.state.tx.xid === msg.xid;
    if (dropped.length > 0 && mine) this.deps.log.info({ from: r.srcIp, xid: msg.xid, dropped }, 'unusable values in a reply dropped');
    if (msg.options.get(53)?.[0] === MessageType.OFFER && this.state.state === 'SELECTING') this.offers++;
    this.enqueue({ type: 'packet', msg });
  };

  private onArp = (b: Buffer): void => {
    const packet = decodeArp(b);
    if (packet) this.enqueue({ type: 'arp', packet });
  };

  /** The socket the current state needs to hear replies: AF_PACKET while broadcasting, UDP on ciaddr when renewing,
   *  ARP about the address while probing it. */
  private wantedChannel(): { via: 'packet' | 'udp'; srcIp: string } | { via: 'arp'; address: string } | null {
    const via = transportFor(this.state);
    if (!via) return null;
    const s = this.state;
    if (via === 'arp') return 'lease' in s ? { via, address: s.lease.address } : null;
    const ciaddr = s.state === 'RENEWING' || s.state === 'REBINDING' ? s.lease.address : '0.0.0.0';
    return { via, srcIp: ciaddr };
  }

  private async reconcileChannel(): Promise<void> {
    const want = this.wantedChannel();
    if (want?.via === 'arp') {
      this.closeDhcpChannel();
      if (this.arp?.address === want.address) return;
      this.closeArp();
      const ch = await this.openArp(want.address, this.onArp);
      if (ch && this.stopped) ch.close();
      else if (ch) this.arp = { address: want.address, ch };
      return;
    }
    this.closeArp();
    const key = want && `${want.via}:${want.srcIp}`;
    if (this.channel?.key === key) return;
    this.closeDhcpChannel();
    if (!want || !key) return;
    const ch = await this.open(want.via, want.srcIp, this.onReceive);
    // stop() came while opening: nothing may keep the netns alive.
    if (ch && this.stopped) ch.close();
    else if (ch) this.channel = { key, ch };
    // RENEWING unicasts from ciaddr, but a server NAKs by broadcast (RFC 2131 §4.1: giaddr 0, NAK to 0xffffffff),
    // which a socket bound to ciaddr never sees; a second one bound to the broadcast address hears it.
    if (ch && !this.stopped && this.state.state === 'RENEWING') {
      this.broadcastRx = await this.open('udp', BROADCAST_IP, this.onReceive);
      if (this.stopped || this.channel?.ch !== ch) this.closeBroadcastRx();
    }
  }

  private async open(via: 'packet' | 'udp', srcIp: string, onReceive: (r: Received) => void): Promise<Channel | undefined> {
    try {
      return via === 'packet' ? await this.deps.pod.openPacket(srcIp, onReceive) : await this.deps.pod.openUdp(srcIp, onReceive);
    } catch (err) {
      this.noteIoError(err as NodeJS.ErrnoException);
      return undefined;
    }
  }

  private async send(msg: Parameters<typeof encode>[0], via: 'packet' | 'udp', srcIp: string, dstIp: string): Promise<void> {
    const name = SEND_NAMES[msg.options.get(53)?.[0] ?? 0] ?? 'message';
    this.sentCounts.set(name, (this.sentCounts.get(name) ?? 0) + 1);
    if (via === 'packet') await this.link.beforeBroadcast();
    const payload = encode(msg);
    if ((await this.sendOn(via, payload, srcIp, dstIp, name, msg.xid)) || name !== 'RELEASE') return;
    // UDP from ciaddr has no route when the address was never configured on the interface (plugin killed mid-ADD,
    // main plugin failing after IPAM): AF_PACKET needs none (IP source ciaddr, Ethernet broadcast, which servers
    // accept). With the interface gone as well, the daemon's own netns is the last way to the server.
    if (via === 'udp' && (await this.sendOn('packet', payload, srcIp, dstIp, name, msg.xid))) return;
    if (!this.deps.sendFromHost) return;
    try {
      await this.deps.sendFromHost(payload, dstIp);
      this.deps.log.info({ ciaddr: srcIp, dstIp }, 'RELEASE sent from the host');
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, ciaddr: srcIp, dstIp }, 'RELEASE could not be sent; the server keeps the lease until it expires');
    }
  }

  /** One send on a channel of the pod netns; false when it could not be opened or the send failed. */
  private async sendOn(via: 'packet' | 'udp', payload: Buffer, srcIp: string, dstIp: string, name: string, xid: number): Promise<boolean> {
    const key = `${via}:${srcIp}`;
    const ch = this.channel?.key === key ? this.channel.ch : await this.open(via, srcIp, () => {});
    if (!ch) return false;
    try {
      ch.send(payload, dstIp);
      this.deps.log.debug({ msg: name, via, srcIp, dstIp, xid }, 'sent');
      return true;
    } catch (err) {
      this.noteIoError(err as NodeJS.ErrnoException);
      return false;
    } finally {
      if (ch !== this.channel?.ch) ch.close();
    }
  }

  private async openArp(address: string, onReceive: (arp: Buffer) => void): Promise<ArpChannel | undefined> {
    try {
      return await this.deps.pod.openArp(address, onReceive);
    } catch (err) {
      this.noteIoError(err as NodeJS.ErrnoException);
      return undefined;
    }
  }

  /** A probe on PROBING's socket; an announcement on a socket of its own, closed at once. */
  private async sendArp(packet: ArpPacket): Promise<void> {
    const what = packet.senderIp === ZERO_IP ? 'probe' : 'announcement';
    // An address the pod's link does not carry is not announced; a probe needs the link up to hear answers.
    if (this.link.heldDown && what === 'announcement') return;
    await this.link.beforeBroadcast();
    const address = packet.targetIp;
    const ch = this.arp?.address === address ? this.arp.ch : await this.openArp(address, () => {});
    if (!ch) return;
    try {
      ch.send(encodeArp(packet));
      this.deps.log.debug({ arp: what, address }, 'sent');
    } catch (err) {
      this.noteIoError(err as NodeJS.ErrnoException);
    } finally {
      if (ch !== this.arp?.ch) ch.close();
    }
  }

  private noteIoError(err: NodeJS.ErrnoException): void {
    this.lastError = err.message;
    this.deps.log.warn({ err: err.message, code: err.code }, 'socket error');
    // The pod netns or its interface is gone: nothing to renew, and nothing may keep the netns alive.
    if (isGone(err)) this.enqueue({ type: 'linkGone' });
  }

  private closeBroadcastRx(): void {
    this.broadcastRx?.close();
    this.broadcastRx = undefined;
  }

  private closeChannel(): void {
    this.closeDhcpChannel();
    this.closeArp();
  }

  private closeDhcpChannel(): void {
    this.closeBroadcastRx();
    this.channel?.ch.close();
    this.channel = undefined;
  }

  private closeArp(): void {
    this.arp?.ch.close();
    this.arp = undefined;
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped) return;
    const giveUpAtMs = this.deps.resendTimeoutMs && this.acquiringSinceMs !== undefined ? this.acquiringSinceMs + this.deps.resendTimeoutMs : undefined;
    if (giveUpAtMs !== undefined && this.deps.now() >= giveUpAtMs) {
      this.lastError = `gave up after ${this.deps.resendTimeoutMs}ms (resend timeout): ${this.progress()}`;
      this.deps.log.warn({ progress: this.progress() }, 'background acquisition given up (resend timeout)');
      this.stop('resend timeout reached');
      return;
    }
    const next = nextDeadline(this.state);
    const deadline = giveUpAtMs === undefined || next === undefined ? next : Math.min(next, giveUpAtMs);
    if (deadline === undefined) return;
    const delay = Math.min(Math.max(0, deadline - this.deps.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => this.enqueue({ type: 'timeout' }), delay);
  }
}

/** Why a state changed, for the lease view: the event that says most, else the input that caused it. */
export function transitionWhy(from: string, input: Input, events: LeaseEvent[]): string {
  for (const e of events) {
    switch (e.kind) {
      case 'nak':
        return e.message ? `NAK: ${e.message}` : 'NAK';
      case 'expired':
        return `lease on ${e.address} expired`;
      case 'failed':
        return e.reason;
      case 'declined':
        return `${e.address} in use (ARP from ${e.by}): DECLINE`;
      case 'changed':
        return `ACK with a new address (${e.from} -> ${e.to})`;
      case 'bound':
      case 'renewed':
      case 'rebound':
        return from === 'PROBING' ? 'no answer to the ARP probes' : 'ACK';
      case 'released':
        return e.sentRelease ? 'released (RELEASE sent)' : 'released';
      default:
    }
  }
  switch (input.type) {
    case 'packet':
      return MESSAGE_NAMES[input.msg.options.get(53)?.[0] ?? 0] ?? 'reply';
    case 'timeout':
      return from === 'BOUND' ? 'T1' : from === 'RENEWING' ? 'T2' : 'timeout';
    case 'start':
      if (input.offer) return `start (REQUEST for ${input.offer.address}, offered by ${input.offer.serverId} before)`;
      return input.requestedIp ? `start (requesting ${input.requestedIp})` : 'start';
    case 'release':
      return 'release requested';
    case 'linkGone':
      return 'link or netns gone';
    case 'arp':
      return 'ARP';
  }
}

const MESSAGE_NAMES: Record<number, string> = {
  [MessageType.OFFER]: 'OFFER',
  [MessageType.ACK]: 'ACK',
  [MessageType.NAK]: 'NAK',
};
