// The client's messages, one builder per row of RFC 2131 table 5, and the merge of the client's option choices.
// Builders are pure: the lease core decides xid, secs and addresses and passes them in.
import { ZERO_IP, ipToBytes, u16, u8 } from './bytes';
import { BOOTREQUEST, DhcpMessage, FLAG_BROADCAST, MessageType, MessageTypeValue, Opt } from './types';

const HTYPE_ETHERNET = 1;
/** RFC 2132 §9.10: the smallest maximum message size a client may announce. */
const MIN_MAX_MESSAGE_SIZE = 576;

export interface ProvidedOption<V = Buffer> {
  code: number;
  value: V;
}

/** What the client asks for and tells about itself. V is Buffer for the builders, hex text in ClientConfig. */
export interface OptionChoices<V = Buffer> {
  /** Option 61, the full value including the type byte; empty: no option 61 (chaddr identifies the client). */
  clientId: V;
  /** Option 55, in order. */
  paramRequestList: number[];
  /** Extra options sent in DISCOVER and REQUEST (e.g. 12 host-name), in order. */
  provide: ProvidedOption<V>[];
}

export interface UserOptionChoices<V = Buffer> {
  paramRequestList?: number[];
  provide?: ProvidedOption<V>[];
}

export interface ClientIdentity extends OptionChoices<Buffer> {
  chaddr: Buffer;
  /** Ask servers to broadcast replies (flags 0x8000) while the client has no address. */
  broadcastFlag: boolean;
  /** Option 57, e.g. the interface MTU. */
  maxMessageSize: number;
}

/**
 * The one list of options the client owns (the config, the daemon's RPC check and the builders all use it): each
 * builder computes them per message, so a provided value would contradict the protocol state. 57 belongs here: it
 * announces the largest reply this client can take, which the daemon derives from the interface MTU, and a `provide`
 * value is text, which cannot carry its 16-bit number. 61 is not here: a provided 61 replaces the client identifier
 * (mergeOptions), as in the reference plugin.
 */
export const CLIENT_OWNED_OPTIONS: ReadonlySet<number> = new Set([
  Opt.REQUESTED_IP,
  Opt.OVERLOAD,
  Opt.MESSAGE_TYPE,
  Opt.SERVER_ID,
  Opt.PARAMETER_REQUEST_LIST,
  Opt.MAX_MESSAGE_SIZE,
]);

function checkCode(code: number, what: string): void {
  if (!Number.isInteger(code) || code < 1 || code > 254)
    throw new RangeError(`${what}: ${code} is not an option code (1-254)`);
}

/**
 * Merges the user's option choices into the defaults. Precedence, from weakest to strongest:
 * 1. Parameter request list (55): the union, defaults first in their order, then the user's codes not yet listed.
 *    A user list only ever adds: it can never drop a default such as DNS (6).
 * 2. Provided options: a user entry replaces the default entry with the same code, in the default's position; new
 *    codes follow in the user's order; within one list the last entry for a code wins.
 * 3. Client identifier (61): a provided 61 (default or user, the user's last) replaces `clientId`.
 * 4. Options the client computes per message (CLIENT_OWNED_OPTIONS: 50, 52, 53, 54, 55, 57) cannot be provided:
 *    RangeError, as for codes outside 1-254. Host name (12) and all other codes are ordinary provided options.
 */
export function mergeOptions<V>(defaults: OptionChoices<V>, user: UserOptionChoices<V>): OptionChoices<V> {
  const paramRequestList: number[] = [];
  for (const code of [...defaults.paramRequestList, ...(user.paramRequestList ?? [])]) {
    checkCode(code, 'parameter request list');
    if (!paramRequestList.includes(code)) paramRequestList.push(code);
  }
  let clientId = defaults.clientId;
  const provide = new Map<number, V>(); // Map.set on an existing key keeps its position
  for (const { code, value } of [...defaults.provide, ...(user.provide ?? [])]) {
    checkCode(code, 'provided option');
    if (code === Opt.CLIENT_ID) clientId = value;
    else if (CLIENT_OWNED_OPTIONS.has(code))
      throw new RangeError(`provided option ${code} is computed by the client per message`);
    else provide.set(code, value);
  }
  return { clientId, paramRequestList, provide: [...provide].map(([code, value]) => ({ code, value })) };
}

interface Fields {
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  requestedIp?: string;
  serverId?: string;
  /** DISCOVER and REQUEST carry 57, the provided options and 55; RELEASE (and DECLINE) must not (table 5). */
  parameters: boolean;
}

function build(cfg: ClientIdentity, type: MessageTypeValue, f: Fields): DhcpMessage {
  // Insertion order is wire order: 53 first, then 61, 50, 54, 57, provided options, 55.
  const options = new Map<number, Buffer>([[Opt.MESSAGE_TYPE, u8(type)]]);
  if (cfg.clientId.length > 0) options.set(Opt.CLIENT_ID, Buffer.from(cfg.clientId));
  if (f.requestedIp !== undefined) options.set(Opt.REQUESTED_IP, ipToBytes(f.requestedIp));
  if (f.serverId !== undefined) options.set(Opt.SERVER_ID, ipToBytes(f.serverId));
  if (f.parameters) {
    const size = Math.min(0xffff, Math.max(MIN_MAX_MESSAGE_SIZE, cfg.maxMessageSize));
    options.set(Opt.MAX_MESSAGE_SIZE, u16(size));
    for (const { code, value } of cfg.provide) {
      checkCode(code, 'provided option');
      if (CLIENT_OWNED_OPTIONS.has(code) || code === Opt.CLIENT_ID)
        throw new RangeError(`provided option ${code} is computed by the client per message`);
      options.set(code, Buffer.from(value));
    }
    if (cfg.paramRequestList.length > 0) options.set(Opt.PARAMETER_REQUEST_LIST, Buffer.from(cfg.paramRequestList));
  }
  return {
    op: BOOTREQUEST,
    htype: HTYPE_ETHERNET,
    hlen: cfg.chaddr.length,
    hops: 0,
    xid: f.xid >>> 0,
    secs: Math.min(0xffff, Math.max(0, Math.floor(f.secs))),
    flags: f.flags,
    ciaddr: f.ciaddr,
    yiaddr: ZERO_IP,
    siaddr: ZERO_IP,
    giaddr: ZERO_IP,
    chaddr: Buffer.from(cfg.chaddr),
    sname: '',
    file: '',
    options,
  };
}

/** A message of a client without an address (DISCOVER; REQUEST in SELECTING and INIT-REBOOT): ciaddr 0, and the
 *  broadcast flag when configured, since only such a client may need a broadcast reply (with ciaddr set servers
 *  unicast to it, §4.1). */
function unconfigured(
  cfg: ClientIdentity,
  type: MessageTypeValue,
  xid: number,
  secs: number,
  o: { requestedIp?: string; serverId?: string },
): DhcpMessage {
  const flags = cfg.broadcastFlag ? FLAG_BROADCAST : 0;
  return build(cfg, type, { xid, secs, flags, ciaddr: ZERO_IP, ...o, parameters: true });
}

/** DHCPDISCOVER; `requestedIp` (50) suggests the previous address. `secs`: seconds since acquisition began. */
export function buildDiscover(cfg: ClientIdentity, xid: number, secs: number, requestedIp?: string): DhcpMessage {
  return unconfigured(cfg, MessageType.DISCOVER, xid, secs, { requestedIp });
}

/** DHCPREQUEST in SELECTING: 50 = the offered yiaddr, 54 = the chosen server, ciaddr 0, same xid as the OFFER. */
export function buildRequestSelecting(
  cfg: ClientIdentity,
  xid: number,
  secs: number,
  offer: { yiaddr: string; serverId: string },
): DhcpMessage {
  return unconfigured(cfg, MessageType.REQUEST, xid, secs, { requestedIp: offer.yiaddr, serverId: offer.serverId });
}

/** DHCPREQUEST in INIT-REBOOT: 50 = the remembered address, no 54, ciaddr 0. */
export function buildRequestInitReboot(
  cfg: ClientIdentity,
  xid: number,
  secs: number,
  requestedIp: string,
): DhcpMessage {
  return unconfigured(cfg, MessageType.REQUEST, xid, secs, { requestedIp });
}

/** DHCPREQUEST in RENEWING (unicast to the server): ciaddr set, no 50, no 54. */
export function buildRequestRenewing(cfg: ClientIdentity, xid: number, secs: number, ciaddr: string): DhcpMessage {
  return build(cfg, MessageType.REQUEST, { xid, secs, flags: 0, ciaddr, parameters: true });
}

/** DHCPREQUEST in REBINDING (broadcast): ciaddr set, no 50, no 54. */
export function buildRequestRebinding(cfg: ClientIdentity, xid: number, secs: number, ciaddr: string): DhcpMessage {
  return build(cfg, MessageType.REQUEST, { xid, secs, flags: 0, ciaddr, parameters: true });
}

/** DHCPDECLINE (the address is in use on the link, RFC 2131 §4.4.1): ciaddr 0, 50 = the address, 54 = the server
 *  that offered it, 61; secs 0 and nothing else (table 5). Broadcast: the client has no address. */
export function buildDecline(cfg: ClientIdentity, xid: number, address: string, serverId: string): DhcpMessage {
  return build(cfg, MessageType.DECLINE, {
    xid,
    secs: 0,
    flags: 0,
    ciaddr: ZERO_IP,
    requestedIp: address,
    serverId,
    parameters: false,
  });
}

/** DHCPRELEASE: ciaddr = the leased address, 54 = its server, 61; secs 0 and nothing else (table 5). */
export function buildRelease(cfg: ClientIdentity, xid: number, ciaddr: string, serverId: string): DhcpMessage {
  return build(cfg, MessageType.RELEASE, { xid, secs: 0, flags: 0, ciaddr, serverId, parameters: false });
}
