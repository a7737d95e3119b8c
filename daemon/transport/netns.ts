// Typed wrapper around the native addon (native/src). Every call that needs the pod netns runs on a libuv worker
// thread that enters the namespace, acts, and returns to the daemon's namespace before the Promise settles; the JS
// thread never changes namespace. A descriptor opened in a namespace pins it while open, so callers keep sockets
// for one transaction only.
import { promises as fs } from 'node:fs';
import type { LinkAddress6, LinkInfo } from '../pod-port';
import { type InotifyMasks, type NativePacket, type PeerCred, native } from './native-addon';
import type { PodRoute } from '../registry-api';

/** A failure of a netns or socket operation. `code` is the errno name ('ENOENT', 'ENODEV', 'EINVAL', 'EBADF'...),
 *  or 'ENOTNS' when the path is not a network namespace, or 'ETIMEDOUT' from ensureLinkUp. */
export interface NetnsError extends Error {
  code: string;
  netns: string;
  ifName: string;
  syscall?: string;
}

export function isNetnsError(e: unknown): e is NetnsError {
  if (!(e instanceof Error)) return false;
  const r = e as unknown as Record<string, unknown>;
  return typeof r.code === 'string' && typeof r.netns === 'string' && typeof r.ifName === 'string';
}

/** Builds a NetnsError with the addon's message shape: "op: netns: ifName: reason". */
export function netnsError(
  op: string,
  netns: string,
  ifName: string,
  code: string,
  reason: string,
  syscall?: string,
): NetnsError {
  const err = new Error(`${op}: ${netns}: ${ifName}: ${reason}`) as NetnsError;
  err.code = code;
  err.netns = netns;
  err.ifName = ifName;
  if (syscall !== undefined) err.syscall = syscall;
  return err;
}

/** SO_PEERCRED of a connected unix socket's descriptor (Node has no API for it). Throws a NetnsError. */
export function peerCred(fd: number): PeerCred {
  return native().peerCred(fd);
}

/** The inode `path` names now: one stat, without the Stats object fs.statSync builds. Throws a NetnsError. */
export function inodeOf(path: string): number {
  return native().inodeOf(path);
}

/** The bits of a DirWatch event's mask, as <sys/inotify.h> defines them. */
export function inotifyMasks(): InotifyMasks {
  return native().inotifyMasks;
}

export function linkInfo(netnsPath: string, ifName: string): Promise<LinkInfo> {
  return native().linkInfo(netnsPath, ifName);
}

export function linkSetUp(netnsPath: string, ifName: string, up: boolean): Promise<void> {
  return native().linkSetUp(netnsPath, ifName, up);
}

/** Adds an IPv4 route through ifName in the netns (rtnetlink; protocol boot, scope link without a gateway). `dst`
 *  is a CIDR; metric 0 is the kernel's default. Rejects with code 'EEXIST' when the same route is already there. */
export function routeAdd(netnsPath: string, ifName: string, route: PodRoute): Promise<void> {
  return routeCall('routeAdd', netnsPath, ifName, route);
}

/** Deletes the IPv4 route through ifName that routeAdd would add (any protocol and scope). Rejects with code 'ESRCH'
 *  when there is none. */
export function routeDel(netnsPath: string, ifName: string, route: PodRoute): Promise<void> {
  return routeCall('routeDel', netnsPath, ifName, route);
}

/** The addon's route call for `route` (a CIDR dst; no gw: on-link; metric 0: none). */
function routeCall(op: 'routeAdd' | 'routeDel', netnsPath: string, ifName: string, route: PodRoute): Promise<void> {
  const [dst, prefix] = route.dst.split('/');
  return native()[op](netnsPath, ifName, dst ?? '', Number(prefix ?? 32), route.gw ?? null, route.metric ?? 0);
}

/** Adds an IPv4 address (with its subnet's broadcast address) to ifName; the kernel adds the prefix route. Rejects
 *  with code 'EEXIST' when it is already there. */
export function addrAdd(netnsPath: string, ifName: string, address: string, prefixLength: number): Promise<void> {
  return native().addrAdd(netnsPath, ifName, address, prefixLength);
}

/** Removes an IPv4 address from ifName; the kernel drops the routes that depended on it. Rejects with code
 *  'EADDRNOTAVAIL' when it is not there. */
export function addrDel(netnsPath: string, ifName: string, address: string, prefixLength: number): Promise<void> {
  return native().addrDel(netnsPath, ifName, address, prefixLength);
}

export function linkSetMtu(netnsPath: string, ifName: string, mtu: number): Promise<void> {
  return native().linkSetMtu(netnsPath, ifName, mtu);
}

/** AF_PACKET socket on the interface that receives what its filter accepts and sends to the Ethernet broadcast
 *  address: IPv4 (openPacket) or ARP (openArp). Used from the JS thread; the namespace is only entered to open it. */
export class PacketSocket {
  readonly ifindex: number;
  readonly mac: string;
  readonly mtu: number;
  readonly #handle: object;

  constructor(opened: NativePacket) {
    this.ifindex = opened.ifindex;
    this.mac = opened.mac;
    this.mtu = opened.mtu;
    this.#handle = opened.handle;
  }

  /** Sends one IPv4 packet (IP header included), or one ARP packet on an ARP socket. Throws a NetnsError on
   *  failure. */
  send(packet: Buffer): void {
    native().packetSend(this.#handle, packet);
  }

  /** One datagram to dstIp:dstPort, on a socket from openUdp6. Throws a NetnsError on failure. */
  sendTo(payload: Buffer, dstIp: string, dstPort: number): void {
    native().udp6SendTo(this.#handle, payload, dstIp, dstPort);
  }

  /** Starts delivery of every received packet to `cb` (a later call replaces the callback). The socket keeps the
   *  event loop alive from here until close(). */
  onMessage(cb: (packet: Buffer) => void): void {
    native().packetStart(this.#handle, cb);
  }

  /** Stops delivery and closes the descriptor. Idempotent. */
  close(): void {
    native().packetClose(this.#handle);
  }
}

/** One inotify descriptor watching directories for what makes a file in them vanish (deleted, renamed away; the
 *  directory itself deleted or moved): each read's events go to onEvents as the kernel wrote them (struct
 *  inotify_event; inotify.ts reads them). Keeps the event loop alive until close(). Throws a NetnsError. */
export class DirWatch {
  readonly #handle: object;

  constructor(onEvents: (events: Buffer) => void) {
    const handle = native().watchOpen().handle;
    try {
      native().packetStart(handle, onEvents);
    } catch (e) {
      // Closed now, not by the handle's finalizer: until a collection the descriptor counts against
      // fs.inotify.max_user_instances.
      native().packetClose(handle);
      throw e;
    }
    this.#handle = handle;
  }

  /** The watch descriptor of `dir`. Throws a NetnsError ('ENOENT', 'ENOTDIR', 'ENOSPC': no watches left). */
  add(dir: string): number {
    return native().watchAdd(this.#handle, dir);
  }

  /** Stops watching; a watch already gone is no error. */
  remove(wd: number): void {
    native().watchRemove(this.#handle, wd);
  }

  close(): void {
    native().packetClose(this.#handle);
  }
}

export async function openPacket(netnsPath: string, ifName: string): Promise<PacketSocket> {
  return new PacketSocket(await native().openPacket(netnsPath, ifName));
}

/** AF_PACKET socket for ARP that receives the Ethernet/IPv4 ARP packets whose sender or target IP is `address`
 *  (an RFC 5227 probe for it hears every answer) and sends ARP packets (28 bytes) to the Ethernet broadcast
 *  address. */
export async function openArp(netnsPath: string, ifName: string, address: string): Promise<PacketSocket> {
  return new PacketSocket(await native().openArp(netnsPath, ifName, address));
}

/** Turns IPv6 on for ifName (net.ipv6.conf.IF.disable_ipv6 0) with optimistic DAD (optimistic_dad, use_optimistic),
 *  so the link-local address made when the link next comes up can be used at once. Rejects with 'ENOENT' when the
 *  kernel has no IPv6. */
export function ip6Prepare(netnsPath: string, ifName: string): Promise<void> {
  return native().ip6Prepare(netnsPath, ifName);
}

/** The IPv6 addresses of ifName with their DAD state (rtnetlink). */
export function ip6Addrs(netnsPath: string, ifName: string): Promise<LinkAddress6[]> {
  return native().ip6Addrs(netnsPath, ifName);
}

/** The DHCPv6 client's UDP socket, created in the namespace and bound to [::]:546 on ifName, multicast out of it
 *  (hop limit 1, no loop). Read by the addon, not by dgram: libuv names a link-local source's zone by interface
 *  index, which means nothing in the daemon's netns, and fails the read. onMessage delivers each datagram as its
 *  source address (16 bytes), source port (2) and payload; sendTo sends. */
export async function openUdp6(netnsPath: string, ifName: string): Promise<PacketSocket> {
  return new PacketSocket(await native().openUdp6(netnsPath, ifName));
}

/** Raw ICMPv6 socket on ifName that receives router advertisements only (each from its ICMPv6 type octet on); a
 *  router solicitation is sent as it opens. Receive only: send() throws. */
export async function openRa(netnsPath: string, ifName: string): Promise<PacketSocket> {
  return new PacketSocket(await native().openRa(netnsPath, ifName));
}

/** UDP socket created in the namespace, bound to `ifName` (SO_BINDTODEVICE) and to bindAddress:68 (IP_FREEBIND:
 *  the address need not be configured yet), with SO_REUSEADDR and SO_BROADCAST. Returns the descriptor, for
 *  `dgram.createSocket('udp4').bind({ fd })`; whoever holds it must close it. */
export function openUdp(netnsPath: string, ifName: string, bindAddress: string): Promise<number> {
  return native().openUdp(netnsPath, ifName, bindAddress);
}

/** One synchronous sendto on a descriptor from openUdp (netnsPath and ifName only name it in errors). Throws a
 *  NetnsError on failure. */
export function udpSend(
  fd: number,
  payload: Buffer,
  dstIp: string,
  dstPort: number,
  netnsPath: string,
  ifName: string,
): void {
  native().udpSend(fd, payload, dstIp, dstPort, netnsPath, ifName);
}

const LINK_POLL_MS = 5;

/** Sets the link up if it is down, then waits until it is running (IFF_RUNNING), polling every few
 *  milliseconds. A macvlan fresh from the CNI plugin is down; sending before it runs fails with ENETDOWN or is
 *  dropped. Rejects with code 'ETIMEDOUT' when the link does not run within timeoutMs. */
export async function ensureLinkUp(netnsPath: string, ifName: string, timeoutMs: number): Promise<LinkInfo> {
  const deadline = performance.now() + timeoutMs;
  let info = await linkInfo(netnsPath, ifName);
  if (!info.up) {
    await linkSetUp(netnsPath, ifName, true);
    info = await linkInfo(netnsPath, ifName);
  }
  while (!info.running) {
    if (performance.now() >= deadline) {
      throw netnsError('ensureLinkUp', netnsPath, ifName, 'ETIMEDOUT', `link not running after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, LINK_POLL_MS));
    info = await linkInfo(netnsPath, ifName);
  }
  return info;
}

const NSFS_MAGIC = 0x6e736673;

/** Checks, without entering it, that `path` is a namespace file (nsfs) and returns its inode, which identifies
 *  the namespace. nsfs also holds non-network namespaces: the addon's calls refuse those with 'ENOTNS'. */
export async function isNetnsPath(p: string): Promise<{ ok: true; inode: number } | { ok: false; reason: string }> {
  try {
    const sfs = await fs.statfs(p);
    if (sfs.type !== NSFS_MAGIC) {
      return { ok: false, reason: `${p}: not a namespace file (filesystem type 0x${sfs.type.toString(16)})` };
    }
    return { ok: true, inode: (await fs.stat(p)).ino };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}
