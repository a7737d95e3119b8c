// Duplicate address detection of a leased IPv6 address (RFC 4862 §5.4): the kernel runs it when the address goes on
// the pod's interface (the main plugin's, from ADD's result, or the daemon's after a change) and marks a duplicate
// "dadfailed". This watches the interface until the address is there and its DAD is over, and says when it failed,
// so the lease core can DECLINE it (RFC 8415 §18.2.8).
import type { PodSide6 } from './pod-port';

/** How often the interface's addresses are read while watching. */
const POLL_MS = 100;
/** How long an address may take to appear (the plugin adds it after ADD's answer) and finish DAD (about a second
 *  with the kernel's defaults: DupAddrDetectTransmits 1, RetransTimer 1 s, plus the join's random delay). */
export const DAD_WATCH_MS = 10_000;

export class DadWatch {
  private timer?: NodeJS.Timeout;
  private watching?: string;

  constructor(
    private readonly pod: Pick<PodSide6, 'addresses6'>,
    /** The address's DAD failed (it is still on the interface, marked dadfailed). */
    private readonly failed: (address: string) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Watches `address` (and stops watching any earlier one). */
  watch(address: string): void {
    this.stop();
    this.watching = address;
    const until = this.now() + DAD_WATCH_MS;
    const poll = async (): Promise<void> => {
      const found = await this.pod.addresses6().then(
        (list) => list.find((a) => a.address === address),
        () => undefined, // the netns or link going is the runner's business; the watch just ends
      );
      if (this.watching !== address) return;
      if (found?.dadFailed) {
        this.watching = undefined;
        this.failed(address);
        return;
      }
      const done = found !== undefined && !found.tentative;
      if (done || this.now() >= until) {
        this.watching = undefined;
        return;
      }
      this.timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.watching = undefined;
  }
}
