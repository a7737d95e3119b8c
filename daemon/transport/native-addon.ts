// The native addon (native/src) as the daemon sees it: the calls it exports, and its loading. The addon is built
// from the same tree as this file (npm ci / npm run build); one built from other sources lacks calls this side
// makes, and a call that throws "is not a function" in the middle of a sweep would read as a netns gone. So the
// load checks every export named here and fails at once, naming what is missing and how to rebuild.
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
}

/** The process at the other end of a unix stream socket, as of its connect (SO_PEERCRED). */
export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

/** Every call of NativeAddon, by name: the compiler keeps this in step with the interface, the load with the build. */
const EXPORTS: Record<keyof NativeAddon, true> = {
  linkInfo: true,
  linkSetUp: true,
  openPacket: true,
  openUdp: true,
  openArp: true,
  packetStart: true,
  packetSend: true,
  packetClose: true,
  udpSend: true,
  routeAdd: true,
  routeDel: true,
  addrAdd: true,
  addrDel: true,
  linkSetMtu: true,
  peerCred: true,
  inodeOf: true,
  ip6Prepare: true,
  ip6Addrs: true,
  openUdp6: true,
  udp6SendTo: true,
  openRa: true,
  watchOpen: true,
  watchAdd: true,
  watchRemove: true,
};

/** The calls of NativeAddon that `loaded` does not export as functions. */
export function missingExports(loaded: object): string[] {
  const fns = loaded as Record<string, unknown>;
  return Object.keys(EXPORTS).filter((name) => typeof fns[name] !== 'function');
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
