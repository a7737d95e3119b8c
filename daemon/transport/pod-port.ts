// The real pod-side port (daemon/pod-port.ts), composed of the addon's calls (netns.ts), the channels over its
// sockets, a stat for the namespace's identity, inotify for removals and a dgram send from the daemon's netns.
import { promises as fs, statSync } from 'node:fs';
import type { PodRoute } from '../registry-api';
import { netnsGone } from '../pod-netns';
import type { NetnsId, PodNetns, PodPort, PodSide } from '../pod-port';
import type { Received } from '../pod-port';
import { sendFromHost, sendFromHost6 } from './host-send';
import {
  addrAdd,
  addrDel,
  ensureLinkUp,
  ip6Addrs,
  ip6Prepare,
  isNetnsPath,
  linkInfo,
  linkSetMtu,
  linkSetUp,
  netnsError,
  routeAdd,
  routeDel,
} from './netns';
import { NetnsWatch } from './netns-watch';
import { openArpChannel, openPacketChannel } from './packet-channel';
import { openUdpChannel } from './udp-channel';
import { openUdp6Channel } from './udp6-channel';
import { listenRa, readyLinkLocal } from './link6';

let own: Promise<NetnsId> | undefined;

async function inode(p: string): Promise<number | Error> {
  return fs.stat(p).then(
    (st) => st.ino,
    (err: Error) => err,
  );
}

function side(ns: PodNetns, ifName: string): PodSide {
  const p = ns.path;
  // Before each entry: the path may have been reused by another pod, or swapped for another namespace.
  const checked =
    <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      const gone = netnsGone(p, await inode(p), ns.inode);
      if (gone) throw netnsError('enter', p, ifName, 'ENOTNS', gone);
      return fn(...a);
    };
  return {
    info: checked(() => linkInfo(p, ifName)),
    bringUp: checked((timeoutMs: number) => ensureLinkUp(p, ifName, timeoutMs)),
    setUp: checked((up: boolean) => linkSetUp(p, ifName, up)),
    addAddress: checked((address: string, prefixLength: number) => addrAdd(p, ifName, address, prefixLength)),
    delAddress: checked((address: string, prefixLength: number) => addrDel(p, ifName, address, prefixLength)),
    addRoute: checked((route: PodRoute) => routeAdd(p, ifName, route)),
    delRoute: checked((route: PodRoute) => routeDel(p, ifName, route)),
    addresses: checked(async () => (await linkInfo(p, ifName)).addresses),
    mtu: checked(async () => (await linkInfo(p, ifName)).mtu),
    setMtu: checked((mtu: number) => linkSetMtu(p, ifName, mtu)),
    openPacket: checked((srcIp: string, onReceive: (r: Received) => void) =>
      openPacketChannel(p, ifName, srcIp, onReceive),
    ),
    openUdp: checked((localIp: string, onReceive: (r: Received) => void) =>
      openUdpChannel(p, ifName, localIp, onReceive),
    ),
    openArp: checked((address: string, onReceive: (arp: Buffer) => void) =>
      openArpChannel(p, ifName, address, onReceive),
    ),
    prepare6: checked(() => ip6Prepare(p, ifName)),
    readyLinkLocal: checked((timeoutMs: number) => readyLinkLocal(p, ifName, timeoutMs)),
    addresses6: checked(() => ip6Addrs(p, ifName)),
    // addrAdd/addrDel take either family; an IPv6 one is added optimistic (native/src/route.c addr6_change).
    addAddress6: checked((address: string, prefixLength: number) => addrAdd(p, ifName, address, prefixLength)),
    delAddress6: checked((address: string, prefixLength: number) => addrDel(p, ifName, address, prefixLength)),
    openUdp6: checked((onReceive: (payload: Buffer, srcIp: string) => void) => openUdp6Channel(p, ifName, onReceive)),
    listenRa: checked(() => listenRa(p, ifName)),
  };
}

export const nativePort: PodPort = {
  async netnsId(p) {
    const ns = await isNetnsPath(p);
    if (!ns.ok) return new Error(ns.reason);
    const st = await fs.stat(p).catch((err: Error) => err);
    return st instanceof Error ? st : { dev: st.dev, inode: st.ino };
  },
  // Read once: the JS thread never changes namespace.
  ownNetns() {
    own ??= fs.stat('/proc/self/ns/net').then((st) => ({ dev: st.dev, inode: st.ino }));
    return own;
  },
  inode,
  inodeNow(p) {
    try {
      return statSync(p).ino;
    } catch (err) {
      return err as Error;
    }
  },
  side,
  sendFromHost,
  sendFromHost6,
  watch: (onChanged) => new NetnsWatch(onChanged),
};
