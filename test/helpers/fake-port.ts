// An in-memory pod-side port (daemon/pod-port.ts) for in-process tests: namespaces are paths with an inode, links
// hold their state, every DHCP message sent on a pod channel or from the host is decoded and kept, and a test (or an
// `answer` function standing in for the server) hands replies back through the channels that are open.
import { dirname } from 'node:path';
import type { PodRoute } from '../../daemon/registry-api';
import { ipToBytes, u32 } from '../../daemon/dhcp/bytes';
import { decode, encode } from '../../daemon/dhcp/codec';
import { messageType } from '../../daemon/dhcp/options';
import { DhcpMessage, MessageType, Opt } from '../../daemon/dhcp/types';
import { decode as decode6, encode as encode6 } from '../../daemon/dhcp6/codec';
import { RaView, emptyRaView } from '../../daemon/dhcp6/ra';
import type { Dhcp6Message } from '../../daemon/dhcp6/types';
import type {
  ArpChannel,
  Channel,
  Channel6,
  LinkAddress6,
  RaListener,
  LinkAddress,
  LinkInfo,
  NetnsId,
  NetnsWatcher,
  PodNetns,
  PodPort,
  PodSide,
  Received,
} from '../../daemon/pod-port';

/** An errno-coded failure, as the real port's calls reject. */
export function coded(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

export interface FakeLinkState {
  mac: string;
  mtu: number;
  kind: string;
  up: boolean;
  addresses: LinkAddress[];
  routes: PodRoute[];
  /** IPv6 addresses with their DAD state (a test sets dadFailed to stand in for a duplicate on the link). */
  addresses6: LinkAddress6[];
  /** The router advertisements the link hears (listenRa's view). */
  ra: RaView;
}

export const LINK_LOCAL = 'fe80::ff:fe00:1';

export function linkState(o: Partial<FakeLinkState> = {}): FakeLinkState {
  return {
    mac: '02:00:00:00:00:01',
    mtu: 1500,
    kind: 'macvlan',
    up: false,
    addresses: [],
    routes: [],
    addresses6: [],
    ra: emptyRaView(),
    ...o,
  };
}

function address6(address: string, prefixLength: number, linkLocal = false): LinkAddress6 {
  return { address, prefixLength, linkLocal, tentative: false, optimistic: false, dadFailed: false };
}

/** The link calls of a PodSide over an in-memory link; `check` runs first (the namespace still the same one). */
export function fakeLink(
  state: () => FakeLinkState,
  check: () => void = () => {},
): Omit<PodSide, 'openPacket' | 'openUdp' | 'openArp' | 'openUdp6' | 'listenRa'> {
  const call =
    <A extends unknown[], R>(fn: (l: FakeLinkState, ...a: A) => R) =>
    async (...a: A): Promise<R> => {
      check();
      return fn(state(), ...a);
    };
  const info = (l: FakeLinkState): LinkInfo => ({
    index: 2,
    mac: l.mac,
    mtu: l.mtu,
    up: l.up,
    running: l.up,
    addresses: [...l.addresses],
    kind: l.kind,
  });
  const same = (a: LinkAddress, b: LinkAddress) => a.address === b.address && a.prefixLength === b.prefixLength;
  const routeKey = (r: PodRoute) => `${r.dst} ${r.gw ?? ''} ${r.metric ?? 0}`;
  return {
    info: call(info),
    bringUp: call((l) => {
      l.up = true;
      return info(l);
    }),
    setUp: call((l, up: boolean) => {
      l.up = up;
    }),
    addAddress: call((l, address: string, prefixLength: number) => {
      if (l.addresses.some((a) => same(a, { address, prefixLength }))) throw coded('EEXIST', address);
      l.addresses.push({ address, prefixLength });
    }),
    delAddress: call((l, address: string, prefixLength: number) => {
      const i = l.addresses.findIndex((a) => same(a, { address, prefixLength }));
      if (i < 0) throw coded('EADDRNOTAVAIL', address);
      l.addresses.splice(i, 1);
    }),
    addRoute: call((l, route: PodRoute) => {
      if (l.routes.some((r) => routeKey(r) === routeKey(route))) throw coded('EEXIST', route.dst);
      l.routes.push(route);
    }),
    delRoute: call((l, route: PodRoute) => {
      const i = l.routes.findIndex((r) => routeKey(r) === routeKey(route));
      if (i < 0) throw coded('ESRCH', route.dst);
      l.routes.splice(i, 1);
    }),
    addresses: call((l) => [...l.addresses]),
    mtu: call((l) => l.mtu),
    setMtu: call((l, mtu: number) => {
      l.mtu = mtu;
    }),
    prepare6: call(() => {}),
    readyLinkLocal: call((l) => {
      l.up = true;
      if (!l.addresses6.some((a) => a.linkLocal)) l.addresses6.push(address6(LINK_LOCAL, 64, true));
      return LINK_LOCAL;
    }),
    addresses6: call((l) => l.addresses6.map((a) => ({ ...a }))),
    addAddress6: call((l, address: string, prefixLength: number) => {
      if (l.addresses6.some((a) => a.address === address)) throw coded('EEXIST', address);
      l.addresses6.push({ ...address6(address, prefixLength), tentative: true, optimistic: true });
    }),
    delAddress6: call((l, address: string, prefixLength: number) => {
      const i = l.addresses6.findIndex((a) => a.address === address && a.prefixLength === prefixLength);
      if (i < 0) throw coded('EADDRNOTAVAIL', address);
      l.addresses6.splice(i, 1);
    }),
  };
}

/** One DHCPv6 message a client sent on its [::]:546 socket. */
export interface Sent6 {
  netns: string;
  ifName: string;
  dstIp: string;
  msg: Dhcp6Message;
}

interface Receiver6 {
  netns: string;
  ifName: string;
  onReceive(payload: Buffer, srcIp: string): void;
}

/** One DHCP message a client sent, as the server (or the test) sees it. */
export interface Sent {
  netns: string;
  ifName: string;
  /** 'host': the daemon's own netns (sendFromHost). */
  via: 'packet' | 'udp' | 'host';
  srcIp: string;
  dstIp: string;
  msg: DhcpMessage;
}

interface Receiver {
  netns: string;
  ifName: string;
  via: 'packet' | 'udp';
  localIp: string;
  onReceive(r: Received): void;
}

interface Namespace {
  inode: number;
  links: Map<string, FakeLinkState>;
}

export class FakePort implements PodPort {
  readonly own: NetnsId = { dev: 4, inode: 4026531840 };
  readonly sent: Sent[] = [];
  /** Every path inodeNow was asked about (the vanish check's stats), in order. */
  readonly statted: string[] = [];
  /** Paths whose stat fails with this errno code while the namespace stays. */
  readonly statFailures = new Map<string, string>();
  /** Sockets opened and not yet closed (DHCP and ARP): none may be left when a lease ends. */
  openSockets = 0;
  /** The server: its reply to a message a client sent, delivered on the client's open channels; absent: silent. */
  answer?: (sent: Sent) => DhcpMessage | undefined;
  readonly sent6: Sent6[] = [];
  /** The DHCPv6 server: its reply to a message a client sent, delivered on the client's socket; absent: silent. */
  answer6?: (sent: Sent6) => Dhcp6Message | undefined;
  /** Destinations the pods have no route to: a DHCPv6 send there fails with ENETUNREACH. */
  readonly unreachable6 = new Set<string>();
  private readonly receivers6 = new Set<Receiver6>();
  private readonly namespaces = new Map<string, Namespace>();
  private readonly receivers = new Set<Receiver>();
  private readonly watchers = new Set<{ dirs: Set<string>; onChanged(path: string | undefined): void }>();
  private readonly sentWaiters = new Set<() => void>();
  private nextInode = 4026532000;

  /** A pod namespace at `path` with one link `ifName`. */
  addPod(path: string, ifName: string, link: Partial<FakeLinkState> = {}): FakeLinkState {
    const state = linkState(link);
    this.namespaces.set(path, { inode: this.nextInode++, links: new Map([[ifName, state]]) });
    return state;
  }

  link(path: string, ifName: string): FakeLinkState | undefined {
    return this.namespaces.get(path)?.links.get(ifName);
  }

  /** `ip netns del`: the path goes, and watchers of its directory hear of it. */
  removeNetns(path: string): void {
    this.namespaces.delete(path);
    for (const w of this.watchers) if (w.dirs.has(dirname(path))) w.onChanged(path);
  }

  /** Resolves with the first message sent from index `from` on that `pred` accepts; rejects after timeoutMs. */
  nextSent(pred: (s: Sent) => boolean, from = 0, timeoutMs = 5000): Promise<Sent> {
    return this.nextOf(this.sent, pred, from, timeoutMs);
  }

  /** The same for DHCPv6 messages. */
  nextSent6(pred: (s: Sent6) => boolean, from = 0, timeoutMs = 5000): Promise<Sent6> {
    return this.nextOf(this.sent6, pred, from, timeoutMs);
  }

  private async nextOf<T>(list: T[], pred: (s: T) => boolean, from: number, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = list.slice(from).find(pred);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no such message sent within ${timeoutMs} ms (sent: ${list.length - from})`);
      // The timer also keeps the test's event loop alive while the daemon's own timers are unref'd.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.sentWaiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Delivers a server reply on every open DHCP channel of the interface that would hear it: AF_PACKET hears all,
   *  UDP what goes to its address or to broadcast. */
  reply(netns: string, ifName: string, msg: DhcpMessage, dstIp = '255.255.255.255', srcIp = SERVER): void {
    const payload = encode(msg);
    for (const r of [...this.receivers]) {
      if (r.netns !== netns || r.ifName !== ifName) continue;
      if (r.via === 'udp' && dstIp !== r.localIp && dstIp !== '255.255.255.255') continue;
      r.onReceive({ payload, srcIp, dstIp });
    }
  }

  /** Delivers a DHCPv6 server message on the interface's open [::]:546 sockets. */
  reply6(netns: string, ifName: string, msg: Dhcp6Message, srcIp = SERVER6_LL): void {
    const payload = encode6(msg);
    for (const r of [...this.receivers6]) if (r.netns === netns && r.ifName === ifName) r.onReceive(payload, srcIp);
  }

  async netnsId(path: string): Promise<NetnsId | Error> {
    const ns = this.namespaces.get(path);
    if (path === '/proc/self/ns/net') return this.own;
    return ns ? { dev: 4, inode: ns.inode } : coded('ENOENT', `${path}: no such file`);
  }

  async ownNetns(): Promise<NetnsId> {
    return this.own;
  }

  async inode(path: string): Promise<number | Error> {
    return this.inodeNow(path);
  }

  inodeNow(path: string): number | Error {
    this.statted.push(path);
    const failure = this.statFailures.get(path);
    if (failure) return coded(failure, `${path}: stat failed`);
    const ns = this.namespaces.get(path);
    return ns ? ns.inode : coded('ENOENT', `${path}: no such file`);
  }

  side(ns: PodNetns, ifName: string): PodSide {
    const check = (): void => {
      if (this.namespaces.get(ns.path)?.inode !== ns.inode) throw coded('ENOTNS', `${ns.path} names another namespace`);
    };
    const state = (): FakeLinkState => {
      const l = this.link(ns.path, ifName);
      if (!l) throw coded('ENODEV', `${ifName}: no such device`);
      return l;
    };
    const open =
      (via: 'packet' | 'udp') =>
      async (localIp: string, onReceive: (r: Received) => void): Promise<Channel> => {
        check();
        state();
        return this.channel({ netns: ns.path, ifName, via, localIp, onReceive });
      };
    return {
      ...fakeLink(state, check),
      openPacket: open('packet'),
      openUdp: open('udp'),
      openArp: async (): Promise<ArpChannel> => {
        check();
        state();
        return this.socket(() => {});
      },
      openUdp6: async (onReceive: (payload: Buffer, srcIp: string) => void): Promise<Channel6> => {
        check();
        state();
        return this.channel6({ netns: ns.path, ifName, onReceive });
      },
      listenRa: async (): Promise<RaListener> => {
        check();
        const view = state().ra;
        const socket = this.socket(() => {});
        return { view, close: () => socket.close() };
      },
    };
  }

  readonly sendFromHost = async (payload: Buffer, dstIp: string): Promise<void> => {
    this.record({ netns: '', ifName: '', via: 'host', srcIp: '', dstIp }, payload);
  };

  /** DHCPv6 messages sent from the daemon's own netns (a RELEASE of a lease whose pod side is gone). */
  readonly hostSent6: { dstIp: string; hostLink?: string; msg: Dhcp6Message }[] = [];

  readonly sendFromHost6 = async (payload: Buffer, dstIp: string, hostLink?: string): Promise<string> => {
    const d = decode6(payload);
    if (!d.ok) throw new Error(`the daemon sent an undecodable DHCPv6 message: ${d.reason}`);
    this.hostSent6.push({ dstIp, msg: d.value, ...(hostLink !== undefined && { hostLink }) });
    return dstIp;
  };

  watch(onChanged: (path: string | undefined) => void): NetnsWatcher {
    const w = { dirs: new Set<string>(), onChanged };
    this.watchers.add(w);
    return {
      watch: (p) => void w.dirs.add(dirname(p)),
      retain: (paths) => {
        const keep = new Set([...paths].map((p) => dirname(p)));
        for (const d of w.dirs) if (!keep.has(d)) w.dirs.delete(d);
      },
      close: () => void this.watchers.delete(w),
    };
  }

  /** Directories watched now, over every watcher. */
  get watchedDirs(): string[] {
    return [...this.watchers].flatMap((w) => [...w.dirs]);
  }

  private channel(r: Receiver): Channel {
    this.receivers.add(r);
    return this.socket(
      (payload, dstIp) => {
        const sent = this.record({ netns: r.netns, ifName: r.ifName, via: r.via, srcIp: r.localIp, dstIp }, payload);
        const answer = this.answer?.(sent);
        if (answer) setImmediate(() => this.reply(r.netns, r.ifName, answer));
      },
      () => this.receivers.delete(r),
    );
  }

  private channel6(r: Receiver6): Channel6 {
    this.receivers6.add(r);
    return this.socket(
      (payload, dstIp) => {
        if (this.unreachable6.has(dstIp)) throw coded('ENETUNREACH', `${dstIp}: network is unreachable`);
        const d = decode6(payload);
        if (!d.ok) throw new Error(`the client sent an undecodable DHCPv6 message: ${d.reason}`);
        const sent: Sent6 = { netns: r.netns, ifName: r.ifName, dstIp, msg: d.value };
        this.sent6.push(sent);
        for (const wake of [...this.sentWaiters]) wake();
        this.sentWaiters.clear();
        const answer = this.answer6?.(sent);
        if (answer) setImmediate(() => this.reply6(r.netns, r.ifName, answer));
      },
      () => this.receivers6.delete(r),
    );
  }

  private socket(send: (payload: Buffer, dstIp: string) => void, onClose: () => void = () => {}): Channel & ArpChannel {
    this.openSockets++;
    let closed = false;
    return {
      send: (payload: Buffer, dstIp: string = '255.255.255.255') => {
        if (closed) throw coded('EBADF', 'socket is closed');
        send(payload, dstIp);
      },
      close: () => {
        if (closed) return;
        closed = true;
        this.openSockets--;
        onClose();
      },
    };
  }

  private record(where: Omit<Sent, 'msg'>, payload: Buffer): Sent {
    const d = decode(payload);
    if (!d.ok) throw new Error(`the client sent an undecodable message: ${d.reason}`);
    const sent = { ...where, msg: d.value };
    this.sent.push(sent);
    for (const wake of [...this.sentWaiters]) wake();
    this.sentWaiters.clear();
    return sent;
  }
}

export const SERVER = '198.19.60.1';
export const SERVER6_LL = 'fe80::5e:1';

/** The server's reply to `req`: an OFFER or ACK of `address` for a 3600 s lease (T1 1800 s), or a NAK. */
export function serverReply(req: DhcpMessage, type: number, address: string): DhcpMessage {
  const options = new Map<number, Buffer>([
    [Opt.MESSAGE_TYPE, Buffer.from([type])],
    [Opt.SERVER_ID, ipToBytes(SERVER)],
  ]);
  if (type !== MessageType.NAK) {
    options.set(Opt.LEASE_TIME, u32(3600));
    options.set(Opt.SUBNET_MASK, ipToBytes('255.255.252.0'));
  }
  return { ...req, op: 2, yiaddr: type === MessageType.NAK ? '0.0.0.0' : address, ciaddr: '0.0.0.0', options };
}

/** A server that OFFERs and ACKs `address` to everyone (a RELEASE gets no answer). */
export function answering(address: string): (s: Sent) => DhcpMessage | undefined {
  return (s) => {
    const type = messageType(s.msg);
    if (type === MessageType.DISCOVER) return serverReply(s.msg, MessageType.OFFER, address);
    if (type === MessageType.REQUEST) return serverReply(s.msg, MessageType.ACK, address);
    return undefined;
  };
}
