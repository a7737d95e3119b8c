// DHCPv6 message model shared by the codec, the builders and the lease core (RFC 8415 §7, §8, §21).

/** Message types (RFC 8415 §7.3). */
export const MsgType = {
  SOLICIT: 1,
  ADVERTISE: 2,
  REQUEST: 3,
  CONFIRM: 4,
  RENEW: 5,
  REBIND: 6,
  REPLY: 7,
  RELEASE: 8,
  DECLINE: 9,
  RECONFIGURE: 10,
  INFORMATION_REQUEST: 11,
  RELAY_FORW: 12,
  RELAY_REPL: 13,
} as const;

/** Option codes this project names (RFC 8415 §21, RFC 3646). */
export const Opt6 = {
  CLIENTID: 1,
  SERVERID: 2,
  IA_NA: 3,
  IAADDR: 5,
  ORO: 6,
  PREFERENCE: 7,
  ELAPSED_TIME: 8,
  UNICAST: 12,
  STATUS_CODE: 13,
  RAPID_COMMIT: 14,
  DNS_SERVERS: 23,
  DOMAIN_LIST: 24,
} as const;

/** STATUS_CODE values (RFC 8415 §21.13). */
export const Status = {
  Success: 0,
  UnspecFail: 1,
  NoAddrsAvail: 2,
  NoBinding: 3,
  NotOnLink: 4,
  UseMulticast: 5,
} as const;

export const CLIENT_PORT = 546;
export const SERVER_PORT = 547;
/** All_DHCP_Relay_Agents_and_Servers (RFC 8415 §7.1): where a client sends unless told to unicast. */
export const ALL_SERVERS = 'ff02::1:2';

/** One option: its code and raw value. Nested options (IA_NA, IAADDR) are read by the views in options.ts. */
export interface Option6 {
  code: number;
  data: Buffer;
}

/** A client/server message (RFC 8415 §8): options in wire order; a code may repeat (several IA_NA). */
export interface Dhcp6Message {
  type: number;
  /** 24-bit transaction id. */
  xid: number;
  options: Option6[];
}
