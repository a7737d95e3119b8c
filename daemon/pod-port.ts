// The pod-side port: everything the daemon does to or with a pod's network namespace and interface, and the one
// send it makes from its own namespace. The registry, the lease runner and resuming use only this; the real
// implementation is daemon/transport/pod-port.ts (the N-API addon, dgram, fs), the tests' is test/helpers/fake-port.ts.
import type { RaView } from './dhcp6/ra';
import type { PodLink } from './pod-link';

/** A DHCP reply as a pod channel heard it. */
export interface Received {
  payload: Buffer;
  srcIp: string;
  dstIp: string;
}

export interface Channel {
  /** Send a DHCP payload from srcIp:68 to dstIp:67 ('255.255.255.255' = broadcast). */
  send(payload: Buffer, dstIp: string): void; // throws an Error with errno `code` on failure
  close(): void; // idempotent
}

/** How the real port opens a Channel on `ifName` in the netns at `netns`: AF_PACKET, sending from `ip`
 *  (transport/packet-channel.ts), or UDP bound to `ip` (transport/udp-channel.ts). */
export type OpenChannel = (
  netns: string,
  ifName: string,
  ip: string,
  onReceive: (r: Received) => void,
) => Promise<Channel>;

/** ARP on the pod interface (RFC 5227 probes and announcements). */
export interface ArpChannel {
  /** Broadcasts one ARP packet (the 28 bytes after the Ethernet header). */
  send(arp: Buffer): void; // throws an Error with errno `code` on failure
  close(): void; // idempotent
}

/** The DHCPv6 client's socket: [::]:546 on the pod interface. */
export interface Channel6 {
  /** Send a DHCPv6 payload to dstIp:547 (ff02::1:2 or a server's unicast address). */
  send(payload: Buffer, dstIp: string): void; // throws an Error with errno `code` on failure
  close(): void; // idempotent
}

/** Router advertisements heard on the pod interface since it opened. */
export interface RaListener {
  readonly view: RaView;
  close(): void; // idempotent
}

/** An IPv6 address of a link with its duplicate address detection state (RFC 4862, RFC 4429). */
export interface LinkAddress6 {
  address: string;
  prefixLength: number;
  linkLocal: boolean;
  /** DAD in progress: not usable as a source (unless optimistic) nor as a destination. */
  tentative: boolean;
  /** Optimistic DAD (RFC 4429): usable while DAD runs. */
  optimistic: boolean;
  /** DAD found a duplicate: the address is unusable. */
  dadFailed: boolean;
}

/** What DHCPv6 does on the pod interface (daemon/lease6-runner.ts; real: daemon/transport/link6.ts and ip6.c). */
export interface PodSide6 {
  /** IPv6 on for the interface with optimistic DAD (RFC 4429), so the link-local address it makes when it comes up
   *  is usable at once: before the link is brought up. Rejects with code ENOENT when the kernel has no IPv6. */
  prepare6(): Promise<void>;
  /** Optimistic DAD on, the link up, and a usable link-local address within timeoutMs (its text); rejects with code
   *  'ETIMEDOUT' saying what the link has. */
  readyLinkLocal(timeoutMs: number): Promise<string>;
  /** The interface's IPv6 addresses with their DAD state. */
  addresses6(): Promise<LinkAddress6[]>;
  /** An optimistic IPv6 address (usable while DAD runs); rejects with code EEXIST when it is there. */
  addAddress6(address: string, prefixLength: number): Promise<void>;
  /** Rejects with code EADDRNOTAVAIL when the address is not there. */
  delAddress6(address: string, prefixLength: number): Promise<void>;
  openUdp6(onReceive: (payload: Buffer, srcIp: string) => void): Promise<Channel6>;
  /** Listens for router advertisements (a router solicitation goes out as it opens). */
  listenRa(): Promise<RaListener>;
}

/** A namespace file as identified by one stat: the same path naming another (dev, inode) later is another namespace. */
export interface NetnsId {
  dev: number;
  inode: number;
}

/** A pod namespace as checked at ADD (or at resume): the path the daemon opens, and what it named then. */
export interface PodNetns extends NetnsId {
  path: string;
}

export interface LinkAddress {
  address: string;
  prefixLength: number;
}

export interface LinkInfo {
  index: number;
  mac: string;
  mtu: number;
  /** IFF_UP: administratively up. */
  up: boolean;
  /** IFF_RUNNING: operationally up (carrier, qdisc attached); sends can succeed. */
  running: boolean;
  /** IPv4 addresses only. */
  addresses: LinkAddress[];
  /** The link's driver as ETHTOOL_GDRVINFO names it, for virtual links their rtnetlink kind ('macvlan', 'ipvlan',
   *  'veth'); '' when the driver names none. */
  kind: string;
}

/**
 * One attachment's interface in its namespace. Every call first checks that the path still names the namespace it
 * was checked as (a path can be reused by another pod) and rejects with code 'ENOTNS' otherwise; failures carry an
 * errno `code` ('ENOENT', 'ENODEV' when the interface is gone).
 */
export interface PodSide extends PodLink, PodSide6 {
  info(): Promise<LinkInfo>;
  /** Sets the link up if it is down and waits until it runs; rejects with code 'ETIMEDOUT' after timeoutMs. */
  bringUp(timeoutMs: number): Promise<LinkInfo>;
  /** AF_PACKET: IP source `srcIp` (0.0.0.0 while acquiring, ciaddr when rebinding), Ethernet broadcast; hears every
   *  UDP/68 datagram for the interface's MAC, also unicast to an address not configured yet. */
  openPacket(srcIp: string, onReceive: (r: Received) => void): Promise<Channel>;
  /** UDP bound to localIp:68 on the device, for unicast RENEW and RELEASE from the leased address. */
  openUdp(localIp: string, onReceive: (r: Received) => void): Promise<Channel>;
  /** ARP about `address` (what a probe for it must hear); sends to the Ethernet broadcast address. */
  openArp(address: string, onReceive: (arp: Buffer) => void): Promise<ArpChannel>;
}

/** Sends one DHCP payload to dstIp:67 from the daemon's own netns; rejects with the socket error. */
export type HostSend = (payload: Buffer, dstIp: string) => Promise<void>;

/** Sends one DHCPv6 payload to [dstIp]:547 from the daemon's own netns; a link-scoped multicast `dstIp` (ff02::1:2)
 *  goes out on `hostLink`, or on the link of the host's default route when none is given (as the macvlan plugin picks
 *  its master). Resolves to where it went ("ff02::1:2%eno1"), rejects with the socket error. */
export type HostSend6 = (payload: Buffer, dstIp: string, hostLink?: string) => Promise<string>;

/** Directories of namespace files watched for removals; `onChanged` (given to PodPort.watch) says one changed. */
export interface NetnsWatcher {
  /** Watches the directory of `netnsPath` unless it is already; one that cannot be watched is left to the sweep. */
  watch(netnsPath: string): void;
  /** Stops watching every directory that holds none of `netnsPaths`. */
  retain(netnsPaths: Iterable<string>): void;
  close(): void;
}

export interface PodPort {
  /** What `path` names, without entering it: an Error saying why when it is not a namespace file (any more). */
  netnsId(path: string): Promise<NetnsId | Error>;
  /** The daemon's own network namespace. */
  ownNetns(): Promise<NetnsId>;
  /** The inode `path` names now (one stat), or why not. */
  inode(path: string): Promise<number | Error>;
  /** The same, synchronous, for the sweep over every lease: a namespace file is on tmpfs or nsfs, so the stat never
   *  waits for a disk, and it costs microseconds instead of a thread-pool round trip (~0.2 ms of CPU with its
   *  wake-ups: 1000 leases made an idle daemon use 0.5 % of a core). */
  inodeNow(path: string): number | Error;
  side(ns: PodNetns, ifName: string): PodSide;
  /** Absent: a lease whose pod side is gone is only dropped. */
  sendFromHost?: HostSend;
  sendFromHost6?: HostSend6;
  /** `onChanged(path)`: the file `path` of a watched directory was created, deleted or renamed; `onChanged(undefined)`:
   *  a change that names no file (the directory itself). */
  watch(onChanged: (path: string | undefined) => void): NetnsWatcher;
}
