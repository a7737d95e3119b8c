// Small conversions between wire bytes and the dotted-quad / integer forms used everywhere else.

export const ZERO_IP = '0.0.0.0';
export const BROADCAST_IP = '255.255.255.255';

export function ipToBytes(ip: string): Buffer {
  if (!isIpv4(ip)) throw new TypeError(`not an IPv4 address: ${JSON.stringify(ip)}`);
  return Buffer.from(ip.split('.').map(Number));
}

/** A flat string (join, not a template: a template of 13 or more characters is a rope of several heap objects,
 *  and a lease keeps several addresses); 0.0.0.0, the usual ciaddr, siaddr and giaddr, is one shared string. */
export function bytesToIp(b: Buffer, offset = 0): string {
  const o = [b[offset], b[offset + 1], b[offset + 2], b[offset + 3]];
  return o[0] || o[1] || o[2] || o[3] ? o.join('.') : ZERO_IP;
}

/** The one IPv4 check: four decimal octets 0-255 without leading zeros (which some parsers read as octal), as
 *  bytesToIp writes them and Go's net.ParseIP takes them. */
export function isIpv4(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

/** "A.B.C.D/N" with an IPv4 address and a prefix length 0-32 (host bits are the caller's concern). */
export function isIpv4Cidr(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  const [addr, len, ...rest] = s.split('/');
  return rest.length === 0 && isIpv4(addr) && /^(0|[1-9][0-9]?)$/.test(len ?? '') && Number(len) <= 32;
}

export function ipToInt(ip: string): number {
  return ipToBytes(ip).readUInt32BE(0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.');
}

/** Prefix length of a contiguous netmask, or undefined when the mask has holes. */
export function maskToPrefix(mask: string): number | undefined {
  const n = ipToInt(mask);
  const prefix = Math.clz32(~n); // leading ones of the mask
  return intToIp(prefixToMaskInt(prefix)) === mask ? prefix : undefined;
}

export function prefixToMaskInt(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function u8(n: number): Buffer {
  return Buffer.from([n & 0xff]);
}

export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export function macToString(mac: Buffer): string {
  return [...mac].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function macFromString(s: string): Buffer {
  const parts = s.split(':');
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) {
    throw new TypeError(`not a MAC address: ${JSON.stringify(s)}`);
  }
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}
