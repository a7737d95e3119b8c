// The native addon (native/src) as the daemon sees it: the calls and constants it exports, and its loading. The
// addon is built from the same tree as this file (npm ci / npm run build); one built from other sources lacks calls
// this side makes, and a call that throws "is not a function" in the middle of a sweep would read as a netns gone.
// So the load checks every export named here and fails at once, naming what is missing and how to rebuild.
import * as path from 'node:path';
import type { LinkAddress6, LinkInfo } from '../pod-port';

export interface NativePacket {
  handle: object;
  ifindex: number;
  mac: string;
  mtu: number;
}

/** rtnetlink's route add or delete in a netns (gw null: on-link; metric 0: none). */
type RouteCall = (
  netnsPath: string,
  ifName: string,
  dst: string,
  prefixLength: number,
  gw: string | null,
  metric: number,
) => Promise<void>;

export interface NativeAddon {
  linkInfo(netnsPath: string, ifName: string): Promise<LinkInfo>;
  linkSetUp(netnsPath: string, ifName: string, up: boolean): Promise<void>;
  openPacket(netnsPath: string, ifName: string): Promise<NativePacket>;
  openUdp(netnsPath: string, ifName: string, bindAddress: string): Promise<number>;
  openArp(netnsPath: string, ifName: string, address: string): Promise<NativePacket>;
  packetStart(handle: object, onPacket: (ipPacket: Buffer) => void): void;
  packetSend(handle: object, ipPacket: Buffer): void;
  packetClose(handle: object): void;
  udpSend(fd: number, payload: Buffer, dstIp: string, dstPort: number, netnsPath: string, ifName: string): void;
  routeAdd: RouteCall;
  routeDel: RouteCall;
  addrAdd(netnsPath: string, ifName: string, address: string, prefixLength: number): Promise<void>;
  addrDel(netnsPath: string, ifName: string, address: string, prefixLength: number): Promise<void>;
  linkSetMtu(netnsPath: string, ifName: string, mtu: number): Promise<void>;
  peerCred(fd: number): PeerCred;
  inodeOf(path: string): number;
  ip6Prepare(netnsPath: string, ifName: string): Promise<void>;
  ip6Addrs(netnsPath: string, ifName: string): Promise<LinkAddress6[]>;
  openUdp6(netnsPath: string, ifName: string): Promise<NativePacket>;
  udp6SendTo(handle: object, payload: Buffer, dstIp: string, dstPort: number): void;
  openRa(netnsPath: string, ifName: string): Promise<NativePacket>;
  watchOpen(): NativePacket;
  watchAdd(handle: object, dir: string): number;
  watchRemove(handle: object, wd: number): void;
  inotifyMasks: InotifyMasks;
}

/** The inotify(7) event bits the netns watch acts on, from <sys/inotify.h> (native/src/dirwatch.c). */
export interface InotifyMasks {
  readonly IN_MOVED_FROM: number;
  readonly IN_DELETE: number;
  readonly IN_DELETE_SELF: number;
  readonly IN_MOVE_SELF: number;
  readonly IN_UNMOUNT: number;
  readonly IN_Q_OVERFLOW: number;
  readonly IN_IGNORED: number;
}

/** The process at the other end of a unix stream socket, as of its connect (SO_PEERCRED). */
export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

/** Every export of NativeAddon, by name, with its type: the compiler keeps this in step with the interface, the load
 *  with the build. */
const EXPORTS: Record<keyof NativeAddon, 'function' | 'object'> = {
  linkInfo: 'function',
  linkSetUp: 'function',
  openPacket: 'function',
  openUdp: 'function',
  openArp: 'function',
  packetStart: 'function',
  packetSend: 'function',
  packetClose: 'function',
  udpSend: 'function',
  routeAdd: 'function',
  routeDel: 'function',
  addrAdd: 'function',
  addrDel: 'function',
  linkSetMtu: 'function',
  peerCred: 'function',
  inodeOf: 'function',
  ip6Prepare: 'function',
  ip6Addrs: 'function',
  openUdp6: 'function',
  udp6SendTo: 'function',
  openRa: 'function',
  watchOpen: 'function',
  watchAdd: 'function',
  watchRemove: 'function',
  inotifyMasks: 'object',
};

/** Every bit of InotifyMasks, as EXPORTS. */
const MASKS: Record<keyof InotifyMasks, true> = {
  IN_MOVED_FROM: true,
  IN_DELETE: true,
  IN_DELETE_SELF: true,
  IN_MOVE_SELF: true,
  IN_UNMOUNT: true,
  IN_Q_OVERFLOW: true,
  IN_IGNORED: true,
};

/** The exports of NativeAddon that `loaded` lacks or has of another type, and the bits its inotifyMasks lacks (as
 *  inotifyMasks.NAME: a watch without one would never act on that event). */
export function missingExports(loaded: object): string[] {
  const exported = loaded as Record<string, unknown>;
  const missing = Object.entries(EXPORTS)
    .filter(([name, type]) => typeof exported[name] !== type)
    .map(([name]) => name);
  const masks = exported.inotifyMasks;
  if (typeof masks === 'object' && masks !== null)
    for (const bit of Object.keys(MASKS))
      if (typeof (masks as Record<string, unknown>)[bit] !== 'number') missing.push(`inotifyMasks.${bit}`);
  return missing;
}

// dist/daemon/transport/native-addon.js -> native/build/Release
export const ADDON_PATH = path.join(__dirname, '../../../native/build/Release/ts_dhcp_netns.node');

// Loaded on first use, so modules that only need the types (and unit tests without a build) do not need it.
let addon: NativeAddon | undefined;
export function native(): NativeAddon {
  if (addon) return addon;
  const loaded = require(ADDON_PATH) as object;
  const missing = missingExports(loaded);
  if (missing.length > 0)
    throw new Error(
      `native addon ${ADDON_PATH} lacks ${missing.join(', ')}: it was built from other sources; run npm run build`,
    );
  addon = loaded as NativeAddon;
  return addon;
}
