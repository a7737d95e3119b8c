// The IA address of one DHCPv6 lease (RFC 8415 §21.6) on the pod's interface: the main plugin puts the first one on
// from ADD's result (adding it first would make the plugin's add fail with EEXIST); when a later REPLY binds another,
// this takes the old one off and puts the new one on (optimistic, RFC 4429). Each address bound has its duplicate
// address detection followed (dad-watch.ts); the runner takes one found in use off before the core DECLINEs it
// (RFC 8415 §18.2.8): the kernel keeps it on, marked dadfailed.
import { DadWatch } from './dad-watch';
import type { PodSide6 } from './pod-port';

export interface IaAddressDeps {
  pod: Pick<PodSide6, 'addresses6' | 'addAddress6' | 'delAddress6'>;
  ioError(err: NodeJS.ErrnoException): void;
}

export class IaAddressOnLink {
  /** The address this lease has put (or the main plugin, from ADD's result) on the pod's interface. */
  private onLink?: { address: string; prefixLength: number };
  private readonly dad: DadWatch;

  constructor(
    private readonly deps: IaAddressDeps,
    /** The DAD of `address` failed (it is still on the interface). */
    dadFailed: (address: string) => void,
  ) {
    this.dad = new DadWatch(deps.pod, dadFailed);
  }

  /** The prefix length of the address on the interface, if one is. */
  get prefixLength(): number | undefined {
    return this.onLink?.prefixLength;
  }

  /** `address` is on the interface already: the main plugin put it on from ADD's result. */
  adopt(address: string, prefixLength: number): void {
    this.onLink = { address, prefixLength };
  }

  /** Puts `address` on the interface in place of the one there, unless it is that one. */
  async replace(address: string, prefixLength: number): Promise<void> {
    if (this.onLink?.address === address) return;
    await this.remove();
    await this.deps.pod.addAddress6(address, prefixLength).then(
      () => this.adopt(address, prefixLength),
      (err: NodeJS.ErrnoException) => this.deps.ioError(err),
    );
  }

  /** Takes the address off the interface; one gone already is no error. */
  async remove(): Promise<void> {
    const on = this.onLink;
    if (!on) return;
    this.onLink = undefined;
    await this.deps.pod.delAddress6(on.address, on.prefixLength).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRNOTAVAIL') this.deps.ioError(err);
    });
  }

  /** Follows the DAD of `address` (and no longer that of any earlier one). */
  watchDad(address: string): void {
    this.dad.watch(address);
  }

  stop(): void {
    this.dad.stop();
  }
}
