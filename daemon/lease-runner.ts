// Drives one attachment's pure lease core (daemon/dhcp/lease.ts): feeds it packets and timeouts in order, carries
// out its actions (send, emit, persist) and keeps the one timer of the lease armed at the core's next deadline. The
// core decides; the pieces around it carry out: sockets and sends (lease-sockets.ts), the record (record-writer.ts),
// the pod's interface (lease-link.ts), ADD waiters (lease-waiters.ts), history and progress (lease-history.ts), the
// order of steps (step-chain.ts) and the timer (deadline-timer.ts).
import { LeaseFacts, Transition } from '../common/rpc';
import { AddParams } from './registry-api';
import {
  ClientConfig,
  Input,
  LeaseEvent,
  LeaseState,
  StepContext,
  initialState,
  nextDeadline,
  step,
  transitionWhy,
  transportFor,
} from './dhcp/lease';
import { DEFAULT_MIN_LEASE_TIME_S } from './dhcp/sanitise';
import type { DhcpMessage } from './dhcp/types';
import { DeadlineTimer } from './deadline-timer';
import { DaemonError } from './errors';
import { leaseFacts } from './facts';
import { DHCP4_ANSWERS, noteEvent } from './lease-events';
import { LeaseHistory } from './lease-history';
import { MtuFollower, linkPolicy } from './lease-link';
import { LeaseSockets } from './lease-sockets';
import { Waiters, waitBound } from './lease-waiters';
import { LinkPolicy, isGone } from './pod-link';
import { RecordWriter } from './record-writer';
import { AcquisitionHints, RetryHint } from './retry-hints';
import { RunnerDeps, RunnerMetrics, Takeover } from './runner-deps';
import { StepChain } from './step-chain';

export type { RetryHint, RunnerDeps, RunnerMetrics, Takeover };

const BOUND_STATES = new Set(['BOUND', 'RENEWING', 'REBINDING']);

export class LeaseRunner {
  state: LeaseState = initialState();
  facts?: LeaseFacts;
  /** The ACK behind `facts`: what the lease record keeps. */
  ack?: DhcpMessage;
  private readonly history: LeaseHistory;
  private readonly hints = new AcquisitionHints();
  private readonly steps = new StepChain();
  private readonly timer: DeadlineTimer;
  private readonly sockets: LeaseSockets;
  private readonly record: RecordWriter;
  private readonly waiters = new Waiters<LeaseFacts>();
  private stopped = false;
  /** What lease changes do to the pod's interface. */
  private readonly link: LinkPolicy;
  private readonly mtu?: MtuFollower;

  constructor(
    readonly params: AddParams,
    readonly cfg: ClientConfig,
    private readonly deps: RunnerDeps,
    /** Present for a lease taken over from its record (resume() continues it); absent for a new ADD (start()). */
    private readonly takeover?: Takeover,
  ) {
    if (takeover) {
      this.state = takeover.held;
      if (takeover.ack) this.granted(takeover.ack);
    }
    const { log, now, pod } = deps;
    this.history = new LeaseHistory(now, `on ${params.ifName} in ${params.netns}`, DHCP4_ANSWERS);
    this.timer = new DeadlineTimer(now, () => this.enqueue({ type: 'timeout' }));
    const ioError = (err: NodeJS.ErrnoException): void => this.noteIoError(err);
    this.sockets = new LeaseSockets({
      ...deps,
      minLeaseTimeS: deps.minLeaseTimeS ?? DEFAULT_MIN_LEASE_TIME_S,
      ownXid: () => ('tx' in this.state ? this.state.tx.xid : undefined),
      onReply: (msg) => this.enqueue({ type: 'packet', msg }),
      onArp: (packet) => this.enqueue({ type: 'arp', packet }),
      ioError,
      stopped: () => this.stopped,
      link: () => this.link,
      sending: (name) => this.history.sentOne(name),
    });
    this.record = new RecordWriter(
      {
        write: async () => deps.persist?.(),
        log,
        failed: () => deps.metrics?.recordWriteFailed?.(),
        serialise: (work) => this.steps.then(work),
        active: () => !this.stopped,
        released: () => this.state.state === 'RELEASED',
      },
      takeover !== undefined,
    );
    this.link = linkPolicy(
      pod,
      params,
      log,
      {
        closeChannel: () => this.sockets.close(),
        reopenChannel: () => this.sockets.hold(transportFor(this.state)),
        serialise: (work) => this.steps.then(work),
        active: () => !this.stopped,
        facts: () => this.facts,
        routing: () => this.params.routing ?? {},
        ioError,
      },
      (action) => deps.metrics?.podAddress?.(action),
    );
    if (params.applyMtu) this.mtu = new MtuFollower(pod, deps.mtuCeiling, log, ioError);
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

  get lastError(): string | undefined {
    return this.history.lastError;
  }

  /** The most recent state changes, oldest first. */
  get transitions(): readonly Transition[] {
    return this.history.transitions;
  }

  /** Replies the core ignored, by reason. */
  get ignored(): Readonly<Record<string, number>> {
    return this.history.ignored;
  }

  /** Whether a record of this lease is on disk (a taken-over lease starts with one). */
  get recordOnDisk(): boolean {
    return this.record.onDisk;
  }

  /** Why the last record write failed, while it is being retried. */
  get recordError(): string | undefined {
    return this.record.error;
  }

  /** Starts acquiring; with a hint (registry fast retry) straight from what a cancelled acquisition had reached. */
  start(hint?: RetryHint): void {
    if (!hint) this.enqueue({ type: 'start' });
    else if (hint.serverId !== undefined)
      this.enqueue({ type: 'start', offer: { address: hint.address, serverId: hint.serverId } });
    else this.enqueue({ type: 'start', requestedIp: hint.address });
  }

  /** What a retried ADD can ask for directly once DEL cancels this acquisition (retry-hints.ts). */
  retryHint(): RetryHint | undefined {
    return this.hints.hint(this.state, this.ack?.yiaddr);
  }

  /** Continues the lease taken over from its record (constructor `takeover`): INIT or INIT-REBOOT is started, a
   *  held state gets a timeout (takeover moved T1 to now for an immediate RENEW). */
  resume(): void {
    if (!this.takeover) throw new Error('resume() of a runner not taken over from a record');
    const { next, expired } = this.takeover;
    this.state = next;
    const link = this.link;
    const facts = this.facts;
    this.steps.then(() => link.resumed(facts, expired));
    this.enqueue(next.state === 'INIT-REBOOT' || next.state === 'INIT' ? { type: 'start' } : { type: 'timeout' });
  }

  /** Resolves when the step in progress (and any queued before this call) has finished. */
  settled(): Promise<void> {
    return this.steps.settled();
  }

  /** Resolves with the lease facts once bound; rejects with "try again later" after timeoutMs. */
  waitBound(timeoutMs: number): Promise<LeaseFacts> {
    const lease = {
      bound: this.bound ? this.facts : undefined,
      stopped: this.stopped,
      progress: () => this.progress(),
    };
    return waitBound(this.waiters, lease, timeoutMs);
  }

  /** Releases the lease (RELEASE on the wire when one is held) and stops for good. */
  release(): Promise<void> {
    this.enqueue({ type: 'release' });
    return this.steps.settled().then(() => this.stop('released'));
  }

  /** Stops without telling the server (shutdown, vanished netns). */
  stop(why: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.timer.stop();
    this.record.stop();
    this.link.stop();
    this.sockets.close();
    this.waiters.reject(new DaemonError('cancelled', `acquisition cancelled: ${why}`));
  }

  /** "3 DISCOVERs on eth1 in /var/run/netns/x, no OFFER": what was tried so far. */
  progress(): string {
    return this.history.progress();
  }

  private enqueue(input: Input): void {
    this.steps.guarded(
      () => this.process(input),
      (err) => {
        // The lease view shows a bug in a step.
        this.history.lastError = err.message;
        this.deps.log.error({ err }, 'lease step failed');
      },
    );
  }

  private async process(input: Input): Promise<void> {
    if (this.stopped) return;
    const { now, log, resendTimeoutMs } = this.deps;
    const before = this.state;
    const ctx: StepContext = { cfg: this.cfg, rng: this.deps.rng, giveUpAfterMs: resendTimeoutMs };
    const { state, actions, trigger } = step(before, input, now(), ctx);
    this.state = state;
    const moved = before.state !== state.state;
    this.hints.onState(state);
    if (moved) log.info({ from: before.state, to: state.state }, 'state');
    if (moved && state.state !== 'BOUND') this.history.exchangeBegins();
    if (trigger?.by === 'link-gone') log.info('link or netns gone: lease dropped');
    await this.sockets.hold(transportFor(state));
    const events: LeaseEvent[] = [];
    const linkChanges: string[] = [];
    let persist = false;
    for (const action of actions) {
      if (action.type === 'send') await this.sockets.sendMessage(action);
      else if (action.type === 'arp') await this.sockets.sendArp(action.packet);
      else if (action.type === 'persist') persist = true;
      else if (action.type === 'emit') {
        events.push(action.event);
        this.onEvent(action.event);
        const change = await this.link.onEvent(action.event);
        if (change) linkChanges.push(change);
        await this.mtu?.onEvent(action.event);
      }
    }
    // The record is on disk before ADD hears of the lease: a crash after the reply never loses a granted lease.
    // Without one (ENOSPC, EIO) ADD fails and the lease is given back, so no address lives on unrecorded.
    if (persist && !(await this.record.write())) {
      // Released before ADD hears of it: once the error is out, no lease of this ADD is left anywhere.
      const err = new DaemonError(
        'io',
        `the lease record could not be written (${this.record.error}); the lease was released`,
      );
      await this.process({ type: 'release' });
      this.waiters.reject(err);
      this.stop('the lease record could not be written');
      return;
    }
    if (this.bound && !this.stopped) this.waiters.resolve(this.facts as LeaseFacts);
    if (moved)
      this.history.transition(before.state, state.state, [transitionWhy(trigger, events), ...linkChanges].join('; '));
    this.timer.arm(this.stopped ? undefined : nextDeadline(this.state));
  }

  /** The facts of a granted lease: what ADD answers, the lease view shows and the record keeps. */
  private granted(ack: DhcpMessage): void {
    this.ack = ack;
    this.facts = leaseFacts(ack);
  }

  private onEvent(event: LeaseEvent): void {
    if ('ack' in event) this.granted(event.ack);
    else if (event.kind === 'expired') this.facts = undefined;
    this.hints.onEvent(event);
    const transactionMs = noteEvent(event, this.history, this.deps.log, this.facts);
    this.deps.metrics?.event(event, transactionMs);
    if (event.kind === 'abandoned') this.stop('resend timeout reached');
  }

  private noteIoError(err: NodeJS.ErrnoException): void {
    this.history.lastError = err.message;
    this.deps.log.warn({ err: err.message, code: err.code }, 'socket error');
    // The pod netns or its interface is gone: nothing to renew, and nothing may keep the netns alive.
    if (isGone(err)) this.enqueue({ type: 'linkGone' });
  }
}
