// Drives one attachment's pure lease core (daemon/dhcp/lease.ts): feeds it packets and timeouts in order, carries
// out its actions (send, emit, persist) and keeps the one timer of the lease armed at the core's next deadline. The
// core decides; the pieces around it carry out: sockets and sends (lease-sockets.ts), the record (record-writer.ts),
// the pod's interface (lease-link.ts), the timer (deadline-timer.ts); the order of steps, ADD waiters, history and
// progress are every runner's (runner-base.ts).
import { LeaseFacts } from '../common/rpc';
import { AddParams, RouteConfig } from './registry-api';
import type { ArpPacket } from './dhcp/arp';
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
import { encode } from './dhcp/codec';
import type { DhcpMessage } from './dhcp/types';
import { DeadlineTimer } from './deadline-timer';
import { DaemonError } from './errors';
import { leaseFacts } from './facts';
import { DHCP4_ANSWERS, noteEvent } from './lease-events';
import { MtuFollower, linkPolicy } from './lease-link';
import type { LeaseHistory } from './lease-history';
import { LeaseSockets, SocketDeps } from './lease-sockets';
import type { LinkRunner } from './link-hold';
import type { Logger } from './log';
import type { LinkPolicy } from './pod-link';
import type { HostSend, PodSide } from './pod-port';
import { RecordWriter, RecordWriterDeps } from './record-writer';
import { RunnerBase } from './runner-base';
import { AcquisitionHints, RetryHint } from './retry-hints';
import { RunnerDeps, RunnerMetrics, Takeover } from './runner-deps';
import type { StepChain } from './step-chain';

export type { RetryHint, RunnerDeps, RunnerMetrics, Takeover };

const BOUND_STATES = new Set(['BOUND', 'RENEWING', 'REBINDING']);

export class LeaseRunner extends RunnerBase<LeaseFacts, Input> {
  state: LeaseState = initialState();
  /** The ACK behind `facts` as the lease record keeps it (base64 of its encoding): one string, where the decoded
   *  message is ~1 KB of objects (its options Map, a Buffer view per option) held by every lease. */
  ackRecord?: string;
  /** The address that ACK granted (facts go when the lease expires; a retry hint still asks for it). */
  private ackAddress?: string;
  private readonly hints = new AcquisitionHints();
  private readonly timer: DeadlineTimer;
  private readonly sockets: LeaseSockets;
  private readonly record: RecordWriter;
  /** What lease changes do to the pod's interface. */
  private readonly link: LinkPolicy;
  private readonly mtu?: MtuFollower;

  constructor(
    params: AddParams,
    readonly cfg: ClientConfig,
    private readonly deps: RunnerDeps,
    /** Present for a lease taken over from its record (resume() continues it); absent for a new ADD (start()). */
    private readonly takeover?: Takeover,
  ) {
    super(params, deps.now, DHCP4_ANSWERS, deps.log);
    if (takeover) {
      this.state = takeover.held;
      if (takeover.ack) this.granted(takeover.ack);
    }
    const { log, now, pod } = deps;
    this.timer = new DeadlineTimer(now, () => this.enqueue({ type: 'timeout' }));
    const ioError = (err: NodeJS.ErrnoException): void => this.noteIoError(err);
    const calls = new RunnerCalls(this, deps, this.steps, this.history, (input) => this.enqueue(input), ioError);
    this.sockets = calls.sockets = new LeaseSockets(calls);
    this.record = new RecordWriter(calls, takeover !== undefined);
    this.link = calls.policy = linkPolicy(pod, params, log, calls, (action) => deps.metrics?.podAddress?.(action));
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

  get bound(): boolean {
    return this.facts !== undefined && BOUND_STATES.has(this.state.state);
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
    return this.hints.hint(this.state, this.ackAddress);
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

  protected closeAll(): void {
    this.timer.stop();
    this.record.stop();
    this.link.stop();
    this.sockets.close();
  }

  protected async process(input: Input): Promise<void> {
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
    this.ackRecord = encode(ack).toString('base64');
    this.ackAddress = ack.yiaddr;
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
}

/**
 * What the runner's parts (sockets, record writer, link policy) call back: one object per lease, its methods shared
 * by all leases. As closures they were ~20 functions, 3 objects and their contexts in every lease (~1.5 KB).
 */
class RunnerCalls implements SocketDeps, RecordWriterDeps, LinkRunner {
  sockets!: LeaseSockets;
  policy!: LinkPolicy;
  readonly pod: PodSide;
  readonly log: Logger;
  readonly sendFromHost?: HostSend;
  readonly minLeaseTimeS: number;

  constructor(
    private readonly runner: LeaseRunner,
    private readonly deps: RunnerDeps,
    private readonly steps: StepChain,
    private readonly history: LeaseHistory,
    private readonly input: (input: Input) => void,
    readonly ioError: (err: NodeJS.ErrnoException) => void,
  ) {
    // Named one by one, not spread from deps: a spread makes every lease an object of a hidden class of its own.
    this.pod = deps.pod;
    this.log = deps.log;
    this.sendFromHost = deps.sendFromHost;
    this.minLeaseTimeS = deps.minLeaseTimeS ?? DEFAULT_MIN_LEASE_TIME_S;
  }

  onReply(msg: DhcpMessage): void {
    this.input({ type: 'packet', msg });
  }

  onArp(packet: ArpPacket): void {
    this.input({ type: 'arp', packet });
  }

  ownXid(): number | undefined {
    const s = this.runner.state;
    return 'tx' in s ? s.tx.xid : undefined;
  }

  active(): boolean {
    return this.runner.active;
  }

  released(): boolean {
    return this.runner.state.state === 'RELEASED';
  }

  link(): LinkPolicy {
    return this.policy;
  }

  sending(name: string): void {
    this.history.sentOne(name);
  }

  async write(): Promise<void> {
    await this.deps.persist?.();
  }

  failed(): void {
    this.deps.metrics?.recordWriteFailed?.();
  }

  serialise(work: () => Promise<void>): void {
    this.steps.then(work);
  }

  closeChannel(): void {
    this.sockets.close();
  }

  reopenChannel(): Promise<void> {
    return this.sockets.hold(transportFor(this.runner.state));
  }

  facts(): LeaseFacts | undefined {
    return this.runner.facts;
  }

  routing(): RouteConfig {
    return this.runner.params.routing ?? {};
  }
}
