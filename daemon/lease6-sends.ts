// The [::]:546 socket of one DHCPv6 lease: opened by the first send, held while an exchange is on, closed by the
// runner when the core stops listening. A send that fails is a lost message: the core retransmits (a RELEASE is sent
// once; the server's lease then runs out).
import { decode, encode } from './dhcp6/codec';
import type { Action6 } from './dhcp6/lease';
import { ALL_SERVERS, Dhcp6Message, MsgType } from './dhcp6/types';
import type { LeaseHistory } from './lease-history';
import type { Logger } from './log';
import type { Channel6, PodSide6 } from './pod-port';

const MSG_NAMES = new Map<number, string>(Object.entries(MsgType).map(([name, type]) => [type, name]));

export interface Sends6Deps {
  pod: PodSide6;
  log: Logger;
  history: LeaseHistory;
  /** A decoded datagram, for the core. */
  onPacket(msg: Dhcp6Message): void;
  ioError(err: NodeJS.ErrnoException): void;
}

export class Lease6Sends {
  private channel?: Channel6;

  constructor(private readonly deps: Sends6Deps) {}

  async send(action: Extract<Action6, { type: 'send' }>): Promise<void> {
    const { pod, log, history } = this.deps;
    const name = MSG_NAMES.get(action.msg.type) ?? 'message';
    history.sentOne(name);
    try {
      this.channel ??= await pod.openUdp6((payload) => this.onDatagram(payload));
      const payload = encode(action.msg);
      try {
        this.channel.send(payload, action.dst);
      } catch (err) {
        // A server's UNICAST address the pod has no route to (a /128 lease, no RA route): the message goes to
        // ff02::1:2 instead, where the same server hears it (RFC 8415 §18.2.4: unicast is allowed, not required).
        const code = (err as NodeJS.ErrnoException).code;
        if (action.dst === ALL_SERVERS || (code !== 'ENETUNREACH' && code !== 'EHOSTUNREACH')) throw err;
        log.debug({ msg: name, dst: action.dst, code }, 'unicast unreachable: sent to ff02::1:2');
        this.channel.send(payload, ALL_SERVERS);
      }
      log.debug({ msg: name, dst: action.dst }, 'sent');
    } catch (err) {
      this.deps.ioError(err as NodeJS.ErrnoException);
    }
  }

  close(): void {
    this.channel?.close();
    this.channel = undefined;
  }

  /** A datagram to port 546; one that does not decode is dropped (a client never answers garbage). */
  private onDatagram(payload: Buffer): void {
    const d = decode(payload);
    if (d.ok) this.deps.onPacket(d.value);
    else this.deps.history.ignoredOne('undecodable');
  }
}
