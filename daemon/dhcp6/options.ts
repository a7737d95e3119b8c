// Typed views of DHCPv6 options (RFC 8415 §21, RFC 3646) and their encoders. Views never throw: a malformed value
// reads as undefined (or, for an IA, as a reason), which callers treat as "option absent" or "IA unusable".
import { decodeDomainSearch } from '../dhcp/options';
import { decodeOptions, encodeOptions } from './codec';
import { IP6_LEN, bytesToIp6, ip6ToBytes } from './ip6';
import { Dhcp6Message, Opt6, Option6 } from './types';

/** Lifetime and T1/T2 value meaning "forever" (RFC 8415 §7.7). */
export const INFINITY = 0xffffffff;

export interface StatusCode {
  code: number;
  message: string;
}

export interface IaAddress {
  address: string;
  preferredS: number;
  validS: number;
  status?: StatusCode;
}

/** An IA_NA (RFC 8415 §21.4) with its addresses (§21.6) and status. */
export interface IaNa {
  iaid: number;
  t1S: number;
  t2S: number;
  addresses: IaAddress[];
  status?: StatusCode;
}

export function findOption(options: readonly Option6[], code: number): Buffer | undefined {
  return options.find((o) => o.code === code)?.data;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

// ---- decoders ----

/** STATUS_CODE: a 16-bit code and UTF-8 text; the text is kept printable and bounded for logs and errors. */
export function decodeStatus(data: Buffer): StatusCode | undefined {
  if (data.length < 2) return undefined;
  const message = data
    .toString('utf8', 2)
    .replace(/[\x00-\x1f\x7f]/g, '?')
    .slice(0, 255);
  return { code: data.readUInt16BE(0), message };
}

function decodeIaAddress(data: Buffer): IaAddress | undefined {
  if (data.length < IP6_LEN + 8) return undefined;
  const nested = decodeOptions(data, IP6_LEN + 8, data.length);
  if (!nested.ok) return undefined;
  const ia: IaAddress = {
    address: bytesToIp6(data),
    preferredS: data.readUInt32BE(IP6_LEN),
    validS: data.readUInt32BE(IP6_LEN + 4),
  };
  const status = findOption(nested.value, Opt6.STATUS_CODE);
  if (status !== undefined) {
    const s = decodeStatus(status);
    if (s === undefined) return undefined;
    ia.status = s;
  }
  return ia;
}

/** An IA_NA value; undefined when any part of it is malformed (the whole IA is then discarded). */
export function decodeIaNa(data: Buffer): IaNa | undefined {
  if (data.length < 12) return undefined;
  const nested = decodeOptions(data, 12, data.length);
  if (!nested.ok) return undefined;
  const ia: IaNa = { iaid: data.readUInt32BE(0), t1S: data.readUInt32BE(4), t2S: data.readUInt32BE(8), addresses: [] };
  for (const o of nested.value) {
    if (o.code === Opt6.IAADDR) {
      const a = decodeIaAddress(o.data);
      if (a === undefined) return undefined;
      ia.addresses.push(a);
    } else if (o.code === Opt6.STATUS_CODE && ia.status === undefined) {
      const s = decodeStatus(o.data);
      if (s === undefined) return undefined;
      ia.status = s;
    }
  }
  return ia;
}

function decodeAddressList(data: Buffer): string[] | undefined {
  if (data.length === 0 || data.length % IP6_LEN !== 0) return undefined;
  const out: string[] = [];
  for (let pos = 0; pos < data.length; pos += IP6_LEN) out.push(bytesToIp6(data, pos));
  return out;
}

// ---- message views ----

export function clientId(msg: Dhcp6Message): Buffer | undefined {
  return findOption(msg.options, Opt6.CLIENTID);
}

export function serverId(msg: Dhcp6Message): Buffer | undefined {
  const d = findOption(msg.options, Opt6.SERVERID);
  return d !== undefined && d.length > 0 ? d : undefined;
}

/** The message-level STATUS_CODE; absent means Success (RFC 8415 §21.13). */
export function status(msg: Dhcp6Message): StatusCode | undefined {
  const d = findOption(msg.options, Opt6.STATUS_CODE);
  return d === undefined ? undefined : decodeStatus(d);
}

/** PREFERENCE (§21.8); an absent option is 0. */
export function preference(msg: Dhcp6Message): number {
  const d = findOption(msg.options, Opt6.PREFERENCE);
  return d !== undefined && d.length === 1 ? (d[0] as number) : 0;
}

/** The server address a client may unicast to (§21.12). */
export function unicastAddress(msg: Dhcp6Message): string | undefined {
  const d = findOption(msg.options, Opt6.UNICAST);
  return d !== undefined && d.length === IP6_LEN ? bytesToIp6(d) : undefined;
}

export function rapidCommit(msg: Dhcp6Message): boolean {
  return msg.options.some((o) => o.code === Opt6.RAPID_COMMIT);
}

/** The IA_NA with this IAID (§21.4); undefined when absent or malformed. */
export function iaNa(msg: Dhcp6Message, iaid: number): IaNa | undefined {
  for (const o of msg.options) {
    if (o.code !== Opt6.IA_NA || o.data.length < 4 || o.data.readUInt32BE(0) !== iaid) continue;
    return decodeIaNa(o.data);
  }
  return undefined;
}

export function dnsServers(msg: Dhcp6Message): string[] | undefined {
  const d = findOption(msg.options, Opt6.DNS_SERVERS);
  return d === undefined ? undefined : decodeAddressList(d);
}

/** DOMAIN_LIST (RFC 3646 §4): RFC 1035 names, uncompressed (RFC 8415 §10) — the reader of option 119 reads them. */
export function domainList(msg: Dhcp6Message): string[] | undefined {
  const d = findOption(msg.options, Opt6.DOMAIN_LIST);
  return d === undefined ? undefined : decodeDomainSearch(d);
}

// ---- encoders ----

export function encodeIaAddress(a: { address: string; preferredS: number; validS: number }): Option6 {
  const data = Buffer.alloc(IP6_LEN + 8);
  ip6ToBytes(a.address).copy(data);
  data.writeUInt32BE(a.preferredS >>> 0, IP6_LEN);
  data.writeUInt32BE(a.validS >>> 0, IP6_LEN + 4);
  return { code: Opt6.IAADDR, data };
}

/** IA_NA with its IAADDRs (T1/T2 as the client suggests them: 0 = no preference, §18.2). */
export function encodeIaNa(
  iaid: number,
  t1S: number,
  t2S: number,
  addresses: readonly { address: string; preferredS: number; validS: number }[],
): Option6 {
  const head = Buffer.alloc(12);
  head.writeUInt32BE(iaid >>> 0, 0);
  head.writeUInt32BE(t1S >>> 0, 4);
  head.writeUInt32BE(t2S >>> 0, 8);
  return { code: Opt6.IA_NA, data: Buffer.concat([head, encodeOptions(addresses.map(encodeIaAddress))]) };
}

export function encodeOro(codes: readonly number[]): Option6 {
  return { code: Opt6.ORO, data: Buffer.concat(codes.map(u16)) };
}

/** ELAPSED_TIME in hundredths of a second, saturating at 0xffff (§21.9). */
export function encodeElapsed(ms: number): Option6 {
  return { code: Opt6.ELAPSED_TIME, data: u16(Math.min(0xffff, Math.max(0, Math.floor(ms / 10)))) };
}
