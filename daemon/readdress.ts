// In-place re-addressing (IPAM onChange "readdress", the default): the pod's interface follows its lease without
// going down. A new address from the server replaces the old one, with the routes ADD installed built again for it
// (static `routes`, the `defaultRoute` choice, the server's classless routes); an expired lease takes its address
// and routes off the interface, which stays up, so nothing leaves from an address that is no longer leased while
// DHCP goes on; the next lease puts them back. netavark's DHCP proxy behaves the same way.
import { LeaseFacts } from '../common/rpc';
import { PodRoute, RouteConfig } from './registry-api';
import { podRoutes } from './cni/result';
import { LeaseEvent } from './dhcp/lease';
import { leaseFacts } from './facts';
import type { Logger } from './log';
import { LinkPolicy, PodLink, isAck, isGone } from './pod-link';

/** replaced: another address took the old one's place; removed: the lease expired; restored: a lease came back. */
export type PodAddressAction = 'replaced' | 'removed' | 'restored';

export interface ReaddressDeps {
  link: PodLink;
  log: Logger;
  /** ipam.priority, ipam.routes, ipam.defaultRoute: how ADD's result built the routes. */
  routing(): RouteConfig;
  /** Counts each change (daemon/metrics.ts). */
  count?(action: PodAddressAction): void;
  /** A failed call that means the netns or interface is gone: the runner ends the lease. */
  ioError(err: NodeJS.ErrnoException): void;
}

export class Readdress implements LinkPolicy {
  /** What the interface has from this lease; undefined while the lease is expired. */
  private onLink?: LeaseFacts;
  /** False until the first ACK: ADD's, whose address the CNI main plugin configures from our result. */
  private adopted = false;
  private stopped = false;
  readonly changedTo = undefined;
  readonly heldDown = false;

  constructor(private readonly deps: ReaddressDeps) {}

  get configuredAddress(): string | undefined {
    return this.onLink?.address;
  }

  beforeBroadcast(): Promise<void> {
    return Promise.resolve(); // the link is never down
  }

  stop(): void {
    this.stopped = true;
  }

  async resumed(facts: LeaseFacts | undefined, expired: boolean): Promise<void> {
    this.adopted = true;
    // What the interface has decides: the daemon may have removed an expired lease's address before it stopped.
    let present = false;
    if (facts) {
      try {
        present = (await this.deps.link.addresses()).some(
          (a) => a.address === facts.address && a.prefixLength === facts.prefixLength,
        );
      } catch (err) {
        this.failed(err as NodeJS.ErrnoException, 'read the addresses');
      }
    }
    this.onLink = present ? facts : undefined;
    if (expired && this.onLink) await this.change(undefined, 'the stored lease expired');
  }

  async onEvent(event: LeaseEvent): Promise<string | undefined> {
    if (this.stopped) return undefined;
    if (event.kind === 'expired')
      return this.onLink ? this.change(undefined, `lease on ${event.address} expired`) : undefined;
    if (!isAck(event)) return undefined;
    const facts = leaseFacts(event.ack);
    if (!this.adopted) {
      this.adopted = true;
      this.onLink = facts;
      return undefined;
    }
    if (this.onLink && this.onLink.address === facts.address && this.onLink.prefixLength === facts.prefixLength)
      return undefined;
    return this.change(facts, 'ACK');
  }

  /** Puts `to` (or nothing) on the interface in place of what is there; says what it did. */
  private async change(to: LeaseFacts | undefined, why: string): Promise<string> {
    const from = this.onLink;
    const action: PodAddressAction = !to ? 'removed' : from ? 'replaced' : 'restored';
    const { link } = this.deps;
    const routing = this.deps.routing();
    const oldRoutes = from ? podRoutes(from, routing) : [];
    const newRoutes = to ? podRoutes(to, routing) : [];
    const kept = new Set(newRoutes.map(routeKey));
    // Routes first: the kernel drops those through an address's subnet with it, the others stay unless deleted.
    for (const r of oldRoutes)
      if (!kept.has(routeKey(r))) await this.call(() => link.delRoute(r), 'ESRCH', `delete route ${routeKey(r)}`);
    // The old address goes before the new one comes: with promote_secondaries off (the kernel's default) deleting
    // a primary address takes the secondaries of its subnet with it, which a new address in the same subnet is.
    if (from)
      await this.call(
        () => link.delAddress(from.address, from.prefixLength),
        'EADDRNOTAVAIL',
        `delete ${from.address}/${from.prefixLength}`,
      );
    if (to) {
      await this.call(
        () => link.addAddress(to.address, to.prefixLength),
        'EEXIST',
        `add ${to.address}/${to.prefixLength}`,
      );
      for (const r of newRoutes) await this.call(() => link.addRoute(r), 'EEXIST', `add route ${routeKey(r)}`);
    }
    this.onLink = to;
    this.deps.count?.(action);
    const fromText = from ? `${from.address}/${from.prefixLength}` : undefined;
    const toText = to ? `${to.address}/${to.prefixLength}` : undefined;
    this.deps.log.info({ action, from: fromText, to: toText, why, routes: newRoutes.length }, `pod address ${action}`);
    if (action === 'removed') return `${fromText} removed from the interface (link stays up)`;
    if (action === 'restored') return `${toText} restored on the interface`;
    return `${fromText} replaced by ${toText} on the interface, in place`;
  }

  /** One netlink call; `benign` is the code that means it is already as wanted. */
  private async call(fn: () => Promise<void>, benign: string, what: string): Promise<void> {
    try {
      await fn();
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== benign) this.failed(e, what);
    }
  }

  private failed(e: NodeJS.ErrnoException, what: string): void {
    if (isGone(e)) this.deps.ioError(e);
    else this.deps.log.warn({ err: e.message, code: e.code }, `pod interface: cannot ${what}`);
  }
}

function routeKey(r: PodRoute): string {
  return `${r.dst}${r.gw ? ` via ${r.gw}` : ''}${r.metric ? ` metric ${r.metric}` : ''}`;
}
