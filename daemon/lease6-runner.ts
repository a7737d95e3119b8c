// Drives one attachment's DHCPv6 lease core (daemon/dhcp6/lease.ts) as lease-runner.ts drives the DHCPv4 one: feeds
// it packets and timeouts in order, carries out its actions (send, emit, persist) and keeps its one timer armed at the
// core's next deadline. Around it: the link-local address and the router advertisements of the pod interface (the
// RAs give the result's prefix length and the words of the no-server error), the [::]:546 socket held while an
// exchange is on (lease6-sends.ts), the leased address on the interface and its duplicate address detection, a
// failure of which DECLINEs it (lease6-address.ts).
import type { Lease6Facts } from '../common/rpc';
import type { AddParams } from './registry-api';
import {
  ClientConfig6,
  Input6,
  Lease6Event,
  Lease6State,
  StepContext6,
  listening6,
  nextDeadline6,
  step6,
} from './dhcp6/lease';
import { IaAddressDeps, IaAddressOnLink } from './lease6-address';
import { factsOf, previousOf } from './lease6-facts';
import { Lease6Sends, Sends6Deps } from './lease6-sends';
import { describeRa, emptyRaView, onLinkPrefixLength } from './dhcp6/ra';
import { Dhcp6Message, MsgType } from './dhcp6/types';
import { DeadlineTimer } from './deadline-timer';
import { DaemonError } from './errors';
import { noteEvent6 } from './lease6-events';
import type { Rng } from './dhcp/rng';
import type { Logger } from './log';
import type { LeaseHistory } from './lease-history';
import type { PodSide6, RaListener } from './pod-port';
import { RecordWriter, RecordWriterDeps } from './record-writer';
import type { Runner6Metrics } from './runner-deps';
import { RunnerBase } from './runner-base';

/** How long the pod's link-local address may take: at once with optimistic DAD, about a second without. */
export const LINK_LOCAL_WAIT_MS = 3000;
/** A router answers the solicitation sent as the RA listener opens within 0.5 s (RFC 4861 MAX_RA_DELAY_TIME): the
 *  first grant waits that long after the opening for the on-link prefix, when no RA came yet. */
const RA_GRACE_MS = 600;
const RA_POLL_MS = 20;

const BOUND_STATES = new Set(['BOUND', 'RENEWING', 'REBINDING']);
/** What the history's progress text calls the DHCPv6 server's answers. */
const DHCP6_ANSWERS = { offer: 'ADVERTISE', refusal: 'error status', grant: 'REPLY' };

export interface Runner6Deps {
  pod: PodSide6;
  /** The pod interface's MAC (the record keeps it: an interface re-created since is another attachment). */
  mac: string;
  metrics?: Runner6Metrics;
  now(): number;
  rng: Rng;
  log: Logger;
  /** Writes the lease record (the core's persist action); awaited before ADD is answered. */
  persist?(runner: Lease6Runner): Promise<void>;
}

/** What a runner taken over from its record (daemon/record6.ts) starts with: the stored state, until resume()
 *  re-verifies it with the server, and the REPLY and prefix length behind its facts. */
export interface Takeover6 {
  held: Lease6State;
  reply?: Dhcp6Message;
  prefixLength?: number;
}

export class Lease6Runner extends RunnerBase<Lease6Facts, Input6> {
  state: Lease6State = { state: 'INIT' };
  /** The REPLY behind `facts`. */
  reply?: Dhcp6Message;
  private readonly timer: DeadlineTimer;
  private readonly sends: Lease6Sends;
  private ra?: RaListener;
  private raOpenedAtMs = 0;
  private raView = emptyRaView();
  private readonly record: RecordWriter;
  private readonly leased: IaAddressOnLink;
  private granted = false;
  /** Where start() waits before trying again when the link was not ready. */
  private retryStartAtMs?: number;

  constructor(
    params: AddParams,
    readonly cfg: ClientConfig6,
    private readonly deps: Runner6Deps,
    /** Present for a lease taken over from its record (resume() continues it); absent for a new ADD (start()). */
    takeover?: Takeover6,
  ) {
    super(params, deps.now, DHCP6_ANSWERS, deps.log);
    this.timer = new DeadlineTimer(deps.now, () =>
      this.retryStartAtMs === undefined ? this.enqueue({ type: 'timeout' }) : this.start(),
    );
    const calls = new Runner6Calls(
      this,
      deps,
      this.history,
      (input) => this.enqueue(input),
      (work) => this.guarded(work),
      (err) => this.noteIoError(err),
    );
    this.record = new RecordWriter(calls, takeover !== undefined);
    this.sends = new Lease6Sends(calls);
    this.leased = new IaAddressOnLink(calls, (address) =>
      this.guarded(async () => {
        if (this.facts?.address !== address) return;
        // The kernel keeps a duplicate marked dadfailed: off it comes, before another address is asked for.
        await this.leased.remove();
        await this.process({ type: 'dadFailed' });
      }),
    );
    if (takeover) {
      this.state = takeover.held;
      if ('lease' in takeover.held && takeover.reply) {
        // The address is on the interface since the ADD that acquired it.
        const prefixLength = takeover.prefixLength ?? 128;
        this.granted = true;
        this.reply = takeover.reply;
        this.facts = factsOf(takeover.reply, takeover.held.lease, prefixLength);
        this.leased.adopt(takeover.held.lease.address, prefixLength);
      }
    }
  }

  get bound(): boolean {
    return this.facts !== undefined && BOUND_STATES.has(this.state.state);
  }

  get mac(): string {
    return this.deps.mac;
  }

  /** A lease taken over after a restart, re-verified with the server (RFC 8415 §18.2.3): a stored address that has
   *  not run out is CONFIRMed (the pod may be on another link by now), then renewed at its T1 or rebound at its T2
   *  as the core goes on; an expired one is asked for again in a SOLICIT. */
  resume(): void {
    this.guarded(async () => {
      if (this.stopped) return;
      const s = this.state;
      if ('lease' in s) this.leased.watchDad(s.lease.address);
      this.state = { state: 'INIT' };
      if ('lease' in s) return this.process({ type: 'start', lease: s.lease });
      const hint = s.state === 'RELEASED' ? undefined : previousOf(s);
      return this.process(hint === undefined ? { type: 'start' } : { type: 'start', hint });
    });
  }

  /** Makes the link-local address usable, listens for RAs, and SOLICITs. */
  start(): void {
    this.retryStartAtMs = undefined;
    this.guarded(async () => {
      if (this.stopped) return;
      const { pod } = this.deps;
      try {
        await pod.readyLinkLocal(LINK_LOCAL_WAIT_MS);
        this.ra = await pod.listenRa();
        this.raView = this.ra.view;
        this.raOpenedAtMs = performance.now();
      } catch (err) {
        this.noteIoError(err as NodeJS.ErrnoException);
        this.retryStartAtMs = this.deps.now() + LINK_LOCAL_WAIT_MS;
        if (!this.stopped) this.timer.arm(this.retryStartAtMs);
        return;
      }
      await this.process({ type: 'start' });
    });
  }

  protected closeAll(): void {
    this.timer.stop();
    this.record.stop();
    this.leased.stop();
    this.sends.close();
    this.ra?.close();
  }

  /** "3 SOLICITs on eth1 in /var/run/netns/x, no ADVERTISE; 1 router advertisement(s) seen, M=0 O=0: ...": what
   *  was tried, and whether the link means DHCPv6 to be there. */
  progress(): string {
    return `${this.history.progress()}; ${describeRa(this.raView)}`;
  }

  protected async process(input: Input6): Promise<void> {
    if (this.stopped) return;
    const { now, log, rng } = this.deps;
    const before = this.state;
    const ctx: StepContext6 = { cfg: this.cfg, rng };
    const { state, actions } = step6(before, input, now(), ctx);
    this.state = state;
    const moved = before.state !== state.state;
    if (moved) log.info({ from: before.state, to: state.state }, 'DHCPv6 state');
    if (moved && state.state !== 'BOUND') this.history.exchangeBegins();
    const events: Lease6Event[] = [];
    let persist = false;
    for (const action of actions) {
      if (action.type === 'send') await this.sends.send(action);
      else if (action.type === 'persist') persist = true;
      else {
        events.push(action.event);
        await this.onEvent(action.event);
      }
    }
    if (input.type === 'packet' && input.msg.type === MsgType.ADVERTISE && !events.some((e) => e.kind === 'ignored'))
      this.history.offered();
    if (!listening6(state)) this.sends.close();
    // The record is on disk before ADD hears of the lease; without one the lease is given back (lease-runner.ts).
    if (persist && !(await this.record.write())) {
      const err = new DaemonError('io', `the lease record could not be written (${this.record.error}); released`);
      await this.process({ type: 'release' });
      this.waiters.reject(err);
      this.stop('the lease record could not be written');
      return;
    }
    if (this.bound && !this.stopped) this.waiters.resolve(this.facts as Lease6Facts);
    if (moved) this.history.transition(before.state, state.state, events.map((e) => e.kind).join(', ') || input.type);
    if (input.type === 'linkGone') this.stop('link or netns gone');
    if (!this.stopped) this.timer.arm(nextDeadline6(this.state));
  }

  private async onEvent(event: Lease6Event): Promise<void> {
    if ('reply' in event) await this.onGrant(event.reply);
    const took = noteEvent6(event, this.history, this.deps.log, this.facts?.address);
    this.deps.metrics?.event6(event, took);
    if (event.kind === 'expired') {
      this.facts = undefined;
      await this.leased.remove();
    }
  }

  /** A REPLY that binds: the facts ADD answers with, and the address on the interface when it is a new one. */
  private async onGrant(reply: Dhcp6Message): Promise<void> {
    if (this.state.state !== 'BOUND') return;
    const { address } = this.state.lease;
    if (!this.granted) await this.raHeard();
    const prefixLength = onLinkPrefixLength(address, this.raView.onLink) ?? this.leased.prefixLength ?? 128;
    this.reply = reply;
    this.facts = factsOf(reply, this.state.lease, prefixLength);
    if (!this.granted) {
      // The first address goes on with ADD's result (the main plugin adds it, and would fail on one already there).
      this.granted = true;
      this.leased.adopt(address, prefixLength);
      this.ra?.close();
    } else await this.leased.replace(address, prefixLength);
    this.leased.watchDad(address);
  }

  /** Waits (RA_GRACE_MS after the listener opened, at most) for the first RA, whose on-link prefix the result uses.
   *  Real time, not the lease clock: it waits for a router on the wire. */
  private async raHeard(): Promise<void> {
    while (this.raView.count === 0 && this.ra && performance.now() - this.raOpenedAtMs < RA_GRACE_MS)
      await new Promise((resolve) => setTimeout(resolve, RA_POLL_MS));
  }
}

/** What the runner's record writer, socket and address on the link call back: one object per lease, its methods
 *  shared by all leases, instead of closures and deps objects in every lease (as lease-runner.ts RunnerCalls). */
class Runner6Calls implements RecordWriterDeps, Sends6Deps, IaAddressDeps {
  readonly pod: PodSide6;
  readonly log: Logger;

  constructor(
    private readonly runner: Lease6Runner,
    private readonly deps: Runner6Deps,
    readonly history: LeaseHistory,
    private readonly input: (input: Input6) => void,
    readonly serialise: (work: () => Promise<void>) => void,
    readonly ioError: (err: NodeJS.ErrnoException) => void,
  ) {
    this.pod = deps.pod;
    this.log = deps.log;
  }

  onPacket(msg: Dhcp6Message): void {
    this.input({ type: 'packet', msg });
  }

  async write(): Promise<void> {
    await this.deps.persist?.(this.runner);
  }

  active(): boolean {
    return this.runner.active;
  }

  released(): boolean {
    return this.runner.state.state === 'RELEASED';
  }
}
