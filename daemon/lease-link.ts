// What lease changes do to one pod's interface: the IPAM onChange policy (daemon/readdress.ts in place, the
// default, or daemon/link-hold.ts) and IPAM applyMtu (the lease's option 26, never above the MTU at ADD).
import type { AddParams } from './registry-api';
import type { LeaseEvent } from './dhcp/lease';
import { interfaceMtu } from './dhcp/options';
import { LinkHold, LinkRunner } from './link-hold';
import type { Logger } from './log';
import { LinkPolicy, PodLink, isAck, isGone, mtuToSet } from './pod-link';
import { PodAddressAction, Readdress } from './readdress';

export function linkPolicy(
  podLink: PodLink,
  params: AddParams,
  log: Logger,
  runner: LinkRunner,
  count?: (action: PodAddressAction) => void,
): LinkPolicy {
  if (params.onChange !== 'hold-link-down') {
    return new Readdress({
      link: podLink,
      log,
      routing: () => runner.routing(),
      count,
      ioError: (err) => runner.ioError(err),
    });
  }
  return new LinkHold(
    { setLinkUp: (up) => podLink.setUp(up), addRoute: (route) => podLink.addRoute(route), log },
    runner,
  );
}

/** ipam.applyMtu: each ACK's option 26 on the pod's interface, bounded by its MTU at ADD (pod-link.ts mtuToSet). */
export class MtuFollower {
  /** As last set (the ceiling until then). */
  private mtu?: number;

  /** ceiling: the interface's MTU when ADD came; absent (a lease taken over after a restart): its MTU at the first
   *  ACK. ioError: a call that failed because the netns or interface is gone. */
  constructor(
    private readonly podLink: PodLink,
    private ceiling: number | undefined,
    private readonly log: Logger,
    private readonly ioError: (err: NodeJS.ErrnoException) => void,
  ) {}

  async onEvent(event: LeaseEvent): Promise<void> {
    if (!isAck(event)) return;
    try {
      this.ceiling ??= await this.podLink.mtu();
      this.mtu ??= this.ceiling;
      const mtu = mtuToSet(interfaceMtu(event.ack), this.ceiling, this.mtu);
      if (mtu === undefined) return;
      await this.podLink.setMtu(mtu);
      this.log.info({ from: this.mtu, to: mtu, ceiling: this.ceiling }, 'MTU set');
      this.mtu = mtu;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (isGone(e)) this.ioError(e);
      else this.log.warn({ err: e.message, code: e.code }, 'cannot set the MTU');
    }
  }
}
