// The hold-link-down policy of one lease (IPAM onChange "hold-link-down", the reference plugin's behaviour): holds
// the pod link down while the lease is expired or the server has bound another address, opens it for each
// broadcast's reply window, and brings it (and its routes) back when the configured address is bound again. The
// lease runner owns one and feeds it the core's events.
import { LeaseFacts } from '../common/rpc';
import { PodRoute, RouteConfig } from './registry-api';
import { podRoutes } from './cni/result';
import { LeaseEvent } from './dhcp/lease';
import type { Logger } from './log';
import { LinkPolicy, isAck } from './pod-link';

export interface LinkDeps {
  /** Sets the pod interface administratively up or down. */
  setLinkUp(up: boolean): Promise<void>;
  /** Adds one route through the pod interface; absent: routes are not restored. */
  addRoute?(route: PodRoute): Promise<void>;
  log: Logger;
}

/** What the policy needs back from its runner. */
export interface LinkRunner {
  closeChannel(): void;
  /** Opens the socket the current state needs, if any. */
  reopenChannel(): Promise<void>;
  /** Runs work after the runner's queued steps, in order with them. */
  serialise(work: () => Promise<void>): void;
  active(): boolean;
  /** The lease the routes are built from, and the plugin's routing configuration. */
  facts(): LeaseFacts | undefined;
  routing(): RouteConfig;
  /** A failed link call: noted as the runner notes socket errors (a gone netns stops the lease). */
  ioError(err: NodeJS.ErrnoException): void;
}

/** While the link is held down, a broadcast brings it up for this long to hear the reply (dnsmasq's ping check
 *  delays an OFFER ~3 s). */
const REPLY_WINDOW_MS = 4000;

/**
 * The pod must stop using an address that is no longer leased: here the link goes down, as the reference plugin does
 * (the kernel drops the routes through it and sockets on it fail at once); daemon/readdress.ts removes the address
 * instead. AF_PACKET cannot send on a down link, so each broadcast of the re-acquisition opens the link for
 * REPLY_WINDOW_MS. When the configured address is bound again the link stays up; a different address keeps it down
 * and sets changedTo (the pod's configuration is stale; CHECK reports it).
 */
export class LinkHold implements LinkPolicy {
  /** The address of the first ACK: the one the CNI plugin configured on the interface. */
  configuredAddress?: string;
  /** Set while the server has bound an address other than configuredAddress: CHECK and the lease view show it. */
  changedTo?: string;
  /** True while the link is held down (expired lease, or a changed address). */
  heldDown = false;
  private downTimer?: NodeJS.Timeout;

  constructor(
    private readonly deps: LinkDeps,
    private readonly runner: LinkRunner,
  ) {}

  async onEvent(event: LeaseEvent): Promise<string | undefined> {
    if (event.kind === 'expired') {
      await this.holdDown();
      return 'link held down';
    }
    if (!isAck(event)) return undefined;
    const address = event.ack.yiaddr;
    this.configuredAddress ??= address;
    if (address === this.configuredAddress) {
      this.changedTo = undefined;
      clearTimeout(this.downTimer);
      if (!this.heldDown) return undefined;
      this.heldDown = false;
      await this.setLink(true);
      await this.restoreRoutes();
      this.deps.log.info({ address }, 'same address bound again: link up');
      return 'link up';
    }
    this.changedTo = address;
    this.deps.log.warn(
      { configured: this.configuredAddress, bound: address },
      'server bound a different address; link held down',
    );
    await this.holdDown();
    return `link held down: the interface has ${this.configuredAddress}`;
  }

  /** Held down, a broadcast opens the link for one reply window. */
  async beforeBroadcast(): Promise<void> {
    if (this.heldDown) await this.openReplyWindow();
  }

  /** Nothing to learn: the first ACK after a restart sets configuredAddress, as before. */
  async resumed(): Promise<void> {}

  /** Before a broadcast while the link is held down: up for one reply window. */
  async openReplyWindow(): Promise<void> {
    clearTimeout(this.downTimer);
    await this.setLink(true);
    // A socket opened while the link was down carries ENETDOWN: start afresh.
    this.runner.closeChannel();
    await this.runner.reopenChannel();
    this.downTimer = setTimeout(() => {
      this.runner.serialise(async () => {
        if (!this.runner.active() || !this.heldDown) return;
        this.runner.closeChannel();
        await this.setLink(false);
      });
    }, REPLY_WINDOW_MS);
  }

  /** The runner stopped: no reply window may close the link later. */
  stop(): void {
    clearTimeout(this.downTimer);
  }

  /** Taking the link down made the kernel drop every route through it (the prefix route of its address comes back
   *  with the link: IPv4 addresses stay on a down link). The routes the main plugin installed from our result are
   *  built again the same way and added back; one already there (EEXIST) is fine. */
  private async restoreRoutes(): Promise<void> {
    const facts = this.runner.facts();
    if (!this.deps.addRoute || !facts) return;
    for (const route of podRoutes(facts, this.runner.routing())) {
      try {
        await this.deps.addRoute(route);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code !== 'EEXIST') this.deps.log.warn({ route, err: e.message }, 'cannot restore a route after link up');
      }
    }
  }

  private async holdDown(): Promise<void> {
    clearTimeout(this.downTimer);
    this.heldDown = true;
    this.runner.closeChannel();
    await this.setLink(false);
  }

  private async setLink(up: boolean): Promise<void> {
    try {
      await this.deps.setLinkUp(up);
    } catch (err) {
      this.runner.ioError(err as NodeJS.ErrnoException);
    }
  }
}
