// DHCPv4 message model shared by the codec, the builders and the lease core (RFC 2131 §2, RFC 2132).

/** BOOTP op field. */
export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;

/** Option 53 values (RFC 2132 §9.6). */
export const MessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;
export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];

/** "DISCOVER" for 1...; undefined for a value RFC 2132 does not define here. */
export function messageTypeName(type: number | undefined): string | undefined {
  return Object.entries(MessageType).find(([, v]) => v === type)?.[0];
}

/** Option codes this project names (RFC 2132, 3397, 3442, 4361). */
export const Opt = {
  PAD: 0,
  SUBNET_MASK: 1,
  ROUTER: 3,
  DNS_SERVERS: 6,
  HOST_NAME: 12,
  DOMAIN_NAME: 15,
  INTERFACE_MTU: 26,
  BROADCAST_ADDRESS: 28,
  STATIC_ROUTES: 33,
  REQUESTED_IP: 50,
  LEASE_TIME: 51,
  OVERLOAD: 52,
  MESSAGE_TYPE: 53,
  SERVER_ID: 54,
  PARAMETER_REQUEST_LIST: 55,
  MESSAGE: 56,
  MAX_MESSAGE_SIZE: 57,
  RENEWAL_TIME: 58,
  REBINDING_TIME: 59,
  VENDOR_CLASS_ID: 60,
  CLIENT_ID: 61,
  USER_CLASS: 77,
  DOMAIN_SEARCH: 119,
  CLASSLESS_ROUTES: 121,
  END: 255,
} as const;

/** BOOTP flags: ask the server to broadcast its reply (RFC 2131 §4.1). */
export const FLAG_BROADCAST = 0x8000;

export const SERVER_PORT = 67;
export const CLIENT_PORT = 68;

/** Option 61 (RFC 2132 §9.14) in one option instance: a type byte and at most 254 bytes of identifier. */
export const MAX_CLIENT_ID_BYTES = 255;
export const MAX_CLIENT_ID_TEXT_BYTES = MAX_CLIENT_ID_BYTES - 1;

/**
 * A DHCP message. Options are kept as raw bytes keyed by code, in wire order; an option that appeared more than
 * once is concatenated (RFC 3396). Typed views live in options.ts, so unknown options survive a round trip.
 */
export interface DhcpMessage {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** Client hardware address: the first `hlen` bytes of the 16-byte field. */
  chaddr: Buffer;
  sname: string;
  file: string;
  options: Map<number, Buffer>;
}

export type Decoded<T> = { ok: true; value: T; bytes: number } | { ok: false; reason: string };
