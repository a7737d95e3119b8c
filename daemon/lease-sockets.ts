// The sockets of one lease in the pod's netns: the one the core's Transport names (AF_PACKET, UDP bound to ciaddr
// with a companion bound to the broadcast address, ARP for a probed address), held only while a transaction needs it
// (an open socket pins the netns), and one-off sockets for a send the held one cannot make; the core's sends, with
// their fallbacks down to the daemon's own netns.
import { ArpPacket, decodeArp, encodeArp } from './dhcp/arp';
import { BROADCAST_IP, ZERO_IP } from './dhcp/bytes';
import { encode } from './dhcp/codec';
import type { Action, Transport } from './dhcp/lease';
import { messageType } from './dhcp/options';
import { decodeReply } from './dhcp/sanitise';
import { DhcpMessage, messageTypeName } from './dhcp/types';
import type { Logger } from './log';
import type { ArpChannel, Channel, HostSend, PodSide, Received } from './pod-port';

export interface SocketDeps {
  /** The pod's interface in its netns (every open first checks the path still names the namespace of the ADD). */
  pod: PodSide;
  /** Replies heard on the held DHCP sockets, decoded and sanitised (daemon/dhcp/sanitise.ts); shorter leases count
   *  as minLeaseTimeS. */
  onReply(msg: DhcpMessage): void;
  minLeaseTimeS: number;
  /** The xid of the lease's transaction, if any: a reply to it is worth a log line when values were dropped. */
  ownXid(): number | undefined;
  /** ARP heard on the held ARP socket. */
  onArp(packet: ArpPacket): void;
  /** An open or a send failed. */
  ioError(err: NodeJS.ErrnoException): void;
  /** False once the lease has stopped: a socket whose open was under way is closed at once. */
  active(): boolean;
  /** Sends from the daemon's own netns (the core's 'host' way); absent: there is none. */
  sendFromHost?: HostSend;
  /** The pod's link as the link policy holds it: AF_PACKET and ARP need it up (a held-down link opens for the reply
   *  window), and an address it does not carry is not announced. */
  link(): { readonly heldDown: boolean; beforeBroadcast(): Promise<void> };
  /** A message is about to go out (its name, for the progress text). */
  sending(name: string): void;
  log: Logger;
}

type Via = 'packet' | 'udp';

export class LeaseSockets {
  private dhcp?: { key: string; ch: Channel };
  /** Beside the RENEWING socket: hears the broadcast NAK. */
  private broadcastRx?: Channel;
  private arp?: { address: string; ch: ArpChannel };

  constructor(private readonly deps: SocketDeps) {}

  /** Holds the sockets `want` names, and no others. */
  async hold(want: Transport | null): Promise<void> {
    const { deps } = this;
    if (want?.via === 'arp') {
      this.closeDhcp();
      if (this.arp?.address === want.address) return;
      this.closeArp();
      const ch = await this.openArp(want.address, (frame) => {
        const packet = decodeArp(frame);
        if (packet) deps.onArp(packet);
      });
      if (ch && !deps.active()) ch.close();
      else if (ch) this.arp = { address: want.address, ch };
      return;
    }
    this.closeArp();
    const key = want && `${want.via}:${want.srcIp}`;
    if (this.dhcp?.key === key) return;
    this.closeDhcp();
    if (!want || !key) return;
    const ch = await this.open(want.via, want.srcIp, this.onReceive);
    if (ch && !deps.active()) ch.close();
    else if (ch) this.dhcp = { key, ch };
    if (ch && deps.active() && want.hearBroadcast) {
      this.broadcastRx = await this.open('udp', BROADCAST_IP, this.onReceive);
      if (!deps.active() || this.dhcp?.ch !== ch) this.closeBroadcastRx();
    }
  }

  /** The core's send: its way, then each fallback in order, until one goes out. */
  async sendMessage(action: Extract<Action, { type: 'send' }>): Promise<void> {
    const { msg, srcIp, dstIp } = action;
    const name = messageTypeName(messageType(msg)) ?? 'message';
    this.deps.sending(name);
    if (action.via === 'packet') await this.deps.link().beforeBroadcast();
    const payload = encode(msg);
    for (const via of [action.via, ...(action.fallback ?? [])]) {
      if (
        via === 'host' ? await this.sendFromHost(payload, srcIp, dstIp) : await this.send(via, payload, srcIp, dstIp)
      ) {
        this.deps.log.debug({ msg: name, via, srcIp, dstIp, xid: msg.xid }, 'sent');
        return;
      }
    }
  }

  /** A send from the daemon's own netns (ciaddr: the lease's, for the log); false when there is no way or it failed. */
  private async sendFromHost(payload: Buffer, ciaddr: string, dstIp: string): Promise<boolean> {
    const { sendFromHost, log } = this.deps;
    if (!sendFromHost) return false;
    try {
      await sendFromHost(payload, dstIp);
      log.info({ ciaddr, dstIp }, 'RELEASE sent from the host');
      return true;
    } catch (err) {
      log.warn(
        { err: (err as Error).message, ciaddr, dstIp },
        'RELEASE could not be sent; the server keeps the lease until it expires',
      );
      return false;
    }
  }

  /** One send from srcIp, on the held socket when it is that one; false when it could not be opened or sent. */
  private async send(via: Via, payload: Buffer, srcIp: string, dstIp: string): Promise<boolean> {
    const key = `${via}:${srcIp}`;
    const held = this.dhcp?.key === key ? this.dhcp.ch : undefined;
    return this.sendOn(held ?? (await this.open(via, srcIp, () => {})), held, (ch) => ch.send(payload, dstIp));
  }

  /** The core's ARP: a probe on PROBING's socket; an announcement on a socket of its own, closed at once. */
  async sendArp(packet: ArpPacket): Promise<void> {
    const what = packet.senderIp === ZERO_IP ? 'probe' : 'announcement';
    const link = this.deps.link();
    // An address the pod's link does not carry is not announced; a probe needs the link up to hear answers.
    if (link.heldDown && what === 'announcement') return;
    await link.beforeBroadcast();
    if (await this.sendArpOn(packet)) this.deps.log.debug({ arp: what, address: packet.targetIp }, 'sent');
  }

  /** One ARP packet about its target: on the held ARP socket when it is for that address, else on one of its own. */
  private async sendArpOn(packet: ArpPacket): Promise<boolean> {
    const held = this.arp?.address === packet.targetIp ? this.arp.ch : undefined;
    return this.sendOn(held ?? (await this.openArp(packet.targetIp, () => {})), held, (ch) =>
      ch.send(encodeArp(packet)),
    );
  }

  /** Sends on ch (undefined: it could not be opened); a one-off socket, not the held one, is closed after. */
  private sendOn<C extends { close(): void }>(ch: C | undefined, held: C | undefined, send: (ch: C) => void): boolean {
    if (!ch) return false;
    try {
      send(ch);
      return true;
    } catch (err) {
      this.deps.ioError(err as NodeJS.ErrnoException);
      return false;
    } finally {
      if (ch !== held) ch.close();
    }
  }

  close(): void {
    this.closeDhcp();
    this.closeArp();
  }

  private onReceive = (r: Received): void => {
    const { log } = this.deps;
    // Whatever answered is any host on the LAN: nothing it says reaches the core, the result or a record unchecked.
    const decoded = decodeReply(r.payload, { minLeaseTimeS: this.deps.minLeaseTimeS });
    if (!decoded.ok) {
      log.debug({ reason: decoded.reason, from: r.srcIp }, 'undecodable reply dropped');
      return;
    }
    const { msg, dropped } = decoded;
    // Pods sharing a MAC hear each other's replies (the AF_PACKET filter matches chaddr): only this lease's own are
    // worth a line.
    if (dropped.length > 0 && this.deps.ownXid() === msg.xid)
      log.info({ from: r.srcIp, xid: msg.xid, dropped }, 'unusable values in a reply dropped');
    this.deps.onReply(msg);
  };

  private async open(via: Via, srcIp: string, onReceive: (r: Received) => void): Promise<Channel | undefined> {
    const { pod } = this.deps;
    try {
      return via === 'packet' ? await pod.openPacket(srcIp, onReceive) : await pod.openUdp(srcIp, onReceive);
    } catch (err) {
      this.deps.ioError(err as NodeJS.ErrnoException);
      return undefined;
    }
  }

  private async openArp(address: string, onReceive: (frame: Buffer) => void): Promise<ArpChannel | undefined> {
    try {
      return await this.deps.pod.openArp(address, onReceive);
    } catch (err) {
      this.deps.ioError(err as NodeJS.ErrnoException);
      return undefined;
    }
  }

  private closeBroadcastRx(): void {
    this.broadcastRx?.close();
    this.broadcastRx = undefined;
  }

  private closeDhcp(): void {
    this.closeBroadcastRx();
    this.dhcp?.ch.close();
    this.dhcp = undefined;
  }

  private closeArp(): void {
    this.arp?.ch.close();
    this.arp = undefined;
  }
}
