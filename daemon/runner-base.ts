// What every lease runner has, whatever protocol its core speaks (DHCPv4: lease-runner.ts, DHCPv6: lease6-runner.ts):
// its steps in order, its history (transitions, ignored replies, progress), the ADDs waiting for it, and whether it
// has stopped.
import type { Transition } from '../common/rpc';
import type { AddParams } from './registry-api';
import { DaemonError } from './errors';
import { AnswerNames, LeaseHistory } from './lease-history';
import { Waiters, waitBound } from './lease-waiters';
import type { Logger } from './log';
import { isGone } from './pod-link';
import { StepChain } from './step-chain';

/** The inputs the driver itself gives either core: DEL's release, and a pod side that is gone. */
export type DriverInput = { type: 'release' } | { type: 'linkGone' };

/** `Input`: what the runner's core steps on (its 'release' and 'linkGone' are the driver's own). */
export abstract class RunnerBase<Facts, Input extends { type: string }> {
  /** What the bound lease says: what ADD answers, the lease view shows and the record keeps. */
  facts?: Facts;
  protected readonly history: LeaseHistory;
  protected readonly steps = new StepChain();
  protected readonly waiters = new Waiters<Facts>();
  protected stopped = false;

  protected constructor(
    readonly params: AddParams,
    now: () => number,
    names: AnswerNames,
    private readonly stepLog: Logger,
  ) {
    this.history = new LeaseHistory(now, `on ${params.ifName} in ${params.netns}`, names);
  }

  /** Whether `facts` holds a lease the server still grants. */
  abstract get bound(): boolean;

  /** False once released or stopped (DEL, shutdown, resend timeout): a new ADD needs a new runner. */
  get active(): boolean {
    return !this.stopped;
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

  /** Resolves when the step in progress (and any queued before this call) has finished. */
  settled(): Promise<void> {
    return this.steps.settled();
  }

  /** Resolves with the lease facts once bound; rejects with "try again later" after timeoutMs. */
  waitBound(timeoutMs: number): Promise<Facts> {
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
    this.closeAll();
    this.waiters.reject(new DaemonError('cancelled', `acquisition cancelled: ${why}`));
  }

  /** One step of the core on `input`, with what its actions do. */
  protected abstract process(input: Input | DriverInput): Promise<void>;

  /** Stops the timer and closes what the runner holds (sockets, watches, record retries). */
  protected abstract closeAll(): void;

  /** "3 DISCOVERs on eth1 in /var/run/netns/x, no OFFER": what was tried so far. */
  progress(): string {
    return this.history.progress();
  }

  /** Queues the core's step on `input` behind those already queued. */
  protected enqueue(input: Input | DriverInput): void {
    this.guarded(() => this.process(input));
  }

  /** A failed socket or link call: shown in the lease view; the pod netns or its interface gone means nothing to
   *  renew, and nothing may keep the netns alive. */
  protected noteIoError(err: NodeJS.ErrnoException): void {
    this.history.lastError = err.message;
    this.stepLog.warn({ err: err.message, code: err.code }, 'socket or link error');
    if (isGone(err)) this.enqueue({ type: 'linkGone' });
  }

  /** Queues a step; a bug in it must not take the daemon down: the lease view shows it. */
  protected guarded(work: () => Promise<void>): void {
    this.steps.guarded(work, (err) => {
      this.history.lastError = err.message;
      this.stepLog.error({ err }, 'lease step failed');
    });
  }
}
