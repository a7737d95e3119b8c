// The one timer of a lease, kept armed at its core's next deadline (a time on the injected clock). Protocol-neutral.

/** setTimeout's longest delay; a longer deadline is re-armed after an early (no-op) wake-up. */
const MAX_TIMER_MS = 0x7fffffff;

export class DeadlineTimer {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly now: () => number,
    private readonly fire: () => void,
  ) {}

  /** Fires once at deadlineMs, replacing any earlier deadline; undefined: not at all. */
  arm(deadlineMs: number | undefined): void {
    this.stop();
    if (deadlineMs === undefined) return;
    this.timer = setTimeout(this.fire, Math.min(Math.max(0, deadlineMs - this.now()), MAX_TIMER_MS));
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
