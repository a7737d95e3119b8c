// The real pod-side port (daemon/pod-port.ts), composed of the addon's calls (netns.ts), the channels over its
// sockets, a stat for the namespace's identity, inotify for removals and a dgram send from the daemon's netns.
import { promises as fs } from 'node:fs';
import type { PodRoute } from '../registry-api';
import { netnsGone } from '../pod-netns';
import type {
  ArpChannel,
  Channel,
  Channel6,
  LinkAddress6,
  LinkInfo,
  NetnsId,
  PodNetns,
  PodPort,
  PodSide,
  RaListener,
  Received,
} from '../pod-port';
import { sendFromHost, sendFromHost6 } from './host-send';
import {
  addrAdd,
  addrDel,
  ensureLinkUp,
  inodeOf,
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

/** One attachment's side of its pod. A class: every lease keeps one, and methods on a prototype cost a lease two
 *  fields, where an object of 20 checked closures cost it ~2 KB of heap. */
class NativeSide implements PodSide {
  constructor(
    private readonly ns: PodNetns,
    private readonly ifName: string,
  ) {}

  /** Before each entry: the path may have been reused by another pod, or swapped for another namespace. */
  private async checked(): Promise<string> {
    const p = this.ns.path;
    const gone = netnsGone(p, await inode(p), this.ns.inode);
    if (gone) throw netnsError('enter', p, this.ifName, 'ENOTNS', gone);
    return p;
  }

  async info(): Promise<LinkInfo> {
    return linkInfo(await this.checked(), this.ifName);
  }
  async bringUp(timeoutMs: number): Promise<LinkInfo> {
    return ensureLinkUp(await this.checked(), this.ifName, timeoutMs);
  }
  async setUp(up: boolean): Promise<void> {
    return linkSetUp(await this.checked(), this.ifName, up);
  }
  async addAddress(address: string, prefixLength: number): Promise<void> {
    return addrAdd(await this.checked(), this.ifName, address, prefixLength);
  }
  async delAddress(address: string, prefixLength: number): Promise<void> {
    return addrDel(await this.checked(), this.ifName, address, prefixLength);
  }
  async addRoute(route: PodRoute): Promise<void> {
    return routeAdd(await this.checked(), this.ifName, route);
  }
  async delRoute(route: PodRoute): Promise<void> {
    return routeDel(await this.checked(), this.ifName, route);
  }
  async addresses(): Promise<LinkInfo['addresses']> {
    return (await linkInfo(await this.checked(), this.ifName)).addresses;
  }
  async mtu(): Promise<number> {
    return (await linkInfo(await this.checked(), this.ifName)).mtu;
  }
  async setMtu(mtu: number): Promise<void> {
    return linkSetMtu(await this.checked(), this.ifName, mtu);
  }
  async openPacket(srcIp: string, onReceive: (r: Received) => void): Promise<Channel> {
    return openPacketChannel(await this.checked(), this.ifName, srcIp, onReceive);
  }
  async openUdp(localIp: string, onReceive: (r: Received) => void): Promise<Channel> {
    return openUdpChannel(await this.checked(), this.ifName, localIp, onReceive);
  }
  async openArp(address: string, onReceive: (arp: Buffer) => void): Promise<ArpChannel> {
    return openArpChannel(await this.checked(), this.ifName, address, onReceive);
  }
  async prepare6(): Promise<void> {
    return ip6Prepare(await this.checked(), this.ifName);
  }
  async readyLinkLocal(timeoutMs: number): Promise<string> {
    return readyLinkLocal(await this.checked(), this.ifName, timeoutMs);
  }
  async addresses6(): Promise<LinkAddress6[]> {
    return ip6Addrs(await this.checked(), this.ifName);
  }
  // addrAdd/addrDel take either family; an IPv6 one is added optimistic (native/src/route.c addr6_change).
  async addAddress6(address: string, prefixLength: number): Promise<void> {
    return addrAdd(await this.checked(), this.ifName, address, prefixLength);
  }
  async delAddress6(address: string, prefixLength: number): Promise<void> {
    return addrDel(await this.checked(), this.ifName, address, prefixLength);
  }
  async openUdp6(onReceive: (payload: Buffer, srcIp: string) => void): Promise<Channel6> {
    return openUdp6Channel(await this.checked(), this.ifName, onReceive);
  }
  async listenRa(): Promise<RaListener> {
    return listenRa(await this.checked(), this.ifName);
  }
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
      return inodeOf(p);
    } catch (err) {
      return err as Error;
    }
  },
  side: (ns, ifName) => new NativeSide(ns, ifName),
  sendFromHost,
  sendFromHost6,
  watch: (onChanged) => new NetnsWatch(onChanged),
};
