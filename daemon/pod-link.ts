// What the daemon may do to a pod's interface after ADD, and the policy the lease runner drives with the lease core's
// events: IPAM `onChange` picks in-place re-addressing (daemon/readdress.ts, the default) or holding the link down
// (daemon/link-hold.ts, the reference plugin's behaviour).
import type { LeaseFacts } from '../common/rpc';
import type { PodRoute } from './registry-api';
import type { LeaseEvent } from './dhcp/lease';

/** The pod interface's I/O, bound to one netns path and ifName (daemon/transport/netns.ts podLink). */
export interface PodLink {
  setUp(up: boolean): Promise<void>;
  /** Rejects with code EEXIST when the address is already there. */
  addAddress(address: string, prefixLength: number): Promise<void>;
  /** Rejects with code EADDRNOTAVAIL when the address is not there. */
  delAddress(address: string, prefixLength: number): Promise<void>;
  /** Rejects with code EEXIST when the route is already there. */
  addRoute(route: PodRoute): Promise<void>;
  /** Rejects with code ESRCH when there is no such route. */
  delRoute(route: PodRoute): Promise<void>;
  /** The interface's IPv4 addresses now. */
  addresses(): Promise<{ address: string; prefixLength: number }[]>;
  mtu(): Promise<number>;
  setMtu(mtu: number): Promise<void>;
}

/** RFC 791: every IPv4 link carries 68-byte datagrams; a smaller option 26 is a server mistake. */
const MIN_MTU = 68;

/**
 * The MTU to set for a lease's option 26 (IPAM applyMtu), or undefined to leave the interface alone. Never above
 * `ceilingMtu`, the interface's MTU when ADD came: the macvlan plugin gives it the parent's (or its config's `mtu`),
 * and the kernel refuses a macvlan MTU above its parent's.
 */
export function mtuToSet(leaseMtu: number | undefined, ceilingMtu: number, currentMtu: number): number | undefined {
  if (leaseMtu === undefined || leaseMtu < MIN_MTU) return undefined;
  const mtu = Math.min(leaseMtu, ceilingMtu);
  return mtu === currentMtu ? undefined : mtu;
}

export interface LinkPolicy {
  /** The address the pod's interface has from this lease (the lease view shows it while it differs). */
  readonly configuredAddress?: string;
  /** Set while the server has bound an address the pod's interface does not have (hold-link-down only). */
  readonly changedTo?: string;
  /** True while the policy holds the link down (hold-link-down only). */
  readonly heldDown: boolean;
  /** Before a broadcast: the link must be able to send and receive it. */
  beforeBroadcast(): Promise<void>;
  /** Carries out what an event means for the pod's interface; says what it changed, for the lease's transition. */
  onEvent(event: LeaseEvent): Promise<string | undefined>;
  /** A stored lease taken over after a restart: `facts` are the stored ACK's, `expired` whether its lease is. */
  resumed(facts: LeaseFacts | undefined, expired: boolean): Promise<void>;
  /** The runner stopped: nothing may touch the link later. */
  stop(): void;
}

/** Whether a failed call means the pod's netns or interface is gone (the lease ends), not a refused request. */
export function isGone(err: NodeJS.ErrnoException): boolean {
  return err.code === 'ENOENT' || err.code === 'ENODEV' || err.code === 'ENOTNS';
}

export function isAck(event: LeaseEvent): event is Extract<LeaseEvent, { ack: unknown }> {
  return event.kind === 'bound' || event.kind === 'renewed' || event.kind === 'rebound' || event.kind === 'changed';
}
