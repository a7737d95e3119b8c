// Typed views of the raw options of a DhcpMessage (RFC 2132, 3397, 3442). Accessors return undefined for an option
// that is absent or malformed, so one bad option never spoils the rest of a message. The registry maps each code to
// its names and to the functions that turn its bytes into a value and back.
import { bytesToIp, intToIp, ipToBytes, ipToInt, isIpv4, isIpv4Cidr, prefixToMaskInt } from './bytes';
import { optionName } from './option-names';
import { DhcpMessage, Opt } from './types';

export interface Route {
  /** Destination as CIDR, e.g. "10.0.0.0/8". */
  dst: string;
  gw: string;
}

export interface OptionDef<T> {
  readonly code: number;
  /** dhcp-options(5) name, for messages. */
  readonly name: string;
  /** The value carried by `raw`, or undefined when `raw` is malformed for this option. Never throws. */
  decode(raw: Buffer): T | undefined;
  /** The wire bytes of `value` (without code and length). Throws TypeError/RangeError on a value that cannot be sent.
   */
  encode(value: T): Buffer;
  /** Whether an untyped value (e.g. from JSON config) has the shape `encode` takes. */
  is(value: unknown): value is T;
}

type Kind<T> = Pick<OptionDef<T>, 'decode' | 'encode' | 'is'>;

// ---- encoders for what a client sends ----------------------------------------------------------------------------

export function encodeIp(ip: string): Buffer {
  return ipToBytes(ip);
}

function checkUint(n: number, max: number, what: string): void {
  if (!Number.isInteger(n) || n < 0 || n > max) throw new RangeError(`${what}: ${n} is not an integer in 0..${max}`);
}

export function encodeU16(n: number): Buffer {
  checkUint(n, 0xffff, 'u16');
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

export function encodeU32(n: number): Buffer {
  checkUint(n, 0xffffffff, 'u32');
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** RFC 2132 text options have a minimum length of 1. */
export function encodeText(s: string): Buffer {
  if (s.length === 0) throw new RangeError('text option must not be empty');
  return Buffer.from(s, 'utf8');
}

function parseCidr(cidr: string): { net: number; prefix: number } {
  if (!isIpv4Cidr(cidr)) throw new TypeError(`not an IPv4 CIDR: ${JSON.stringify(cidr)}`);
  const [addr, len] = cidr.split('/') as [string, string];
  const prefix = Number(len);
  const net = ipToInt(addr);
  if ((net & ~prefixToMaskInt(prefix)) >>> 0 !== 0) throw new TypeError(`host bits set in ${cidr}`);
  return { net, prefix };
}

/** Option 121 (RFC 3442 §2): per route, prefix length, the significant octets of the destination, the router. */
export function encodeClassless(routes: readonly Route[]): Buffer {
  if (routes.length === 0) throw new RangeError('option 121 needs at least one route');
  const parts: Buffer[] = [];
  for (const r of routes) {
    const { net, prefix } = parseCidr(r.dst);
    const significant = Math.ceil(prefix / 8);
    parts.push(Buffer.from([prefix]), ipToBytes(intToIp(net)).subarray(0, significant), ipToBytes(r.gw));
  }
  return Buffer.concat(parts);
}

/** Option 119 (RFC 3397) without compression: each name as RFC 1035 labels ending in the root label. */
export function encodeDomainSearch(names: readonly string[]): Buffer {
  if (names.length === 0) throw new RangeError('option 119 needs at least one name');
  const parts: Buffer[] = [];
  for (const name of names) {
    const labels = name.replace(/\.$/, '').split('.');
    let wire = 1;
    for (const label of labels) {
      const bytes = Buffer.from(label, 'latin1');
      if (bytes.length < 1 || bytes.length > 63 || /[^\x21-\x7e]/.test(label)) {
        throw new TypeError(`bad label ${JSON.stringify(label)} in domain name ${JSON.stringify(name)}`);
      }
      wire += 1 + bytes.length;
      parts.push(Buffer.from([bytes.length]), bytes);
    }
    if (wire > MAX_NAME_WIRE) throw new RangeError(`domain name ${JSON.stringify(name)} longer than 255 octets`);
    parts.push(Buffer.from([0]));
  }
  return Buffer.concat(parts);
}

// ---- decoders ----------------------------------------------------------------------------------------------------

const MAX_NAME_WIRE = 255; // RFC 1035 §2.3.4, counting length octets and the root label
/** Labels plus pointers followed for one name. A real name has at most 127 labels; this bounds hostile input. */
const MAX_NAME_STEPS = 255;

/**
 * One RFC 1035 name starting at `start` (§4.1.4 compression). A pointer must point before every position read so
 * far for this name, which rules out loops; MAX_NAME_STEPS keeps each name's work constant, so a whole option is
 * decoded in time linear in its length. Returns the name and where the next name starts, or undefined.
 */
function readName(data: Buffer, start: number): { name: string; next: number } | undefined {
  const labels: string[] = [];
  let pos = start;
  let floor = start;
  let next = -1;
  let wire = 1;
  for (let steps = 0; steps < MAX_NAME_STEPS; steps++) {
    if (pos >= data.length) return undefined;
    const len = data[pos] as number;
    if (len === 0) {
      if (labels.length === 0) return undefined; // the root alone is no search domain
      return { name: labels.join('.'), next: next < 0 ? pos + 1 : next };
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= data.length) return undefined;
      const target = ((len & 0x3f) << 8) | (data[pos + 1] as number);
      if (next < 0) next = pos + 2;
      if (target >= floor) return undefined; // forward, self or looping pointer
      floor = pos = target;
      continue;
    }
    if (len > 63) return undefined; // 01/10 label types are reserved
    if (pos + 1 + len > data.length) return undefined;
    wire += 1 + len;
    if (wire > MAX_NAME_WIRE) return undefined;
    const label = data.toString('latin1', pos + 1, pos + 1 + len);
    if (label.includes('.')) return undefined; // would change the name's meaning once joined
    labels.push(label);
    pos += 1 + len;
  }
  return undefined;
}

export function decodeDomainSearch(raw: Buffer): string[] | undefined {
  const names: string[] = [];
  let pos = 0;
  while (pos < raw.length) {
    const r = readName(raw, pos);
    if (!r) return undefined;
    names.push(r.name);
    pos = r.next;
  }
  return names.length > 0 ? names : undefined;
}

function decodeClassless(raw: Buffer): Route[] | undefined {
  const routes: Route[] = [];
  let pos = 0;
  while (pos < raw.length) {
    const prefix = raw[pos] as number;
    if (prefix > 32) return undefined;
    const significant = Math.ceil(prefix / 8);
    if (pos + 1 + significant + 4 > raw.length) return undefined;
    const dst = Buffer.alloc(4);
    raw.copy(dst, 0, pos + 1, pos + 1 + significant);
    if ((dst.readUInt32BE(0) & ~prefixToMaskInt(prefix)) >>> 0 !== 0) return undefined; // bits past the prefix
    routes.push({ dst: `${bytesToIp(dst)}/${prefix}`, gw: bytesToIp(raw, pos + 1 + significant) });
    pos += 1 + significant + 4;
  }
  return routes.length > 0 ? routes : undefined;
}

/** Option 33 carries no mask: the destination's class gives it; host bits set make it a host route (/32). */
function classfulCidr(ip: string): string {
  const n = ipToInt(ip);
  const first = n >>> 24;
  const classful = first < 128 ? 8 : first < 192 ? 16 : first < 224 ? 24 : 32;
  const prefix = (n & ~prefixToMaskInt(classful)) >>> 0 === 0 ? classful : 32;
  return `${ip}/${prefix}`;
}

function decodeStaticRoutes(raw: Buffer): Route[] | undefined {
  if (raw.length === 0 || raw.length % 8 !== 0) return undefined;
  const routes: Route[] = [];
  for (let pos = 0; pos < raw.length; pos += 8) {
    const dst = bytesToIp(raw, pos);
    if (dst === '0.0.0.0') continue; // RFC 2132 §5.8: the default route is illegal here
    routes.push({ dst: classfulCidr(dst), gw: bytesToIp(raw, pos + 4) });
  }
  return routes;
}

// ---- value kinds ---------------------------------------------------------------------------------------------------

const isIpList = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every(isIpv4);
const isRouteList = (v: unknown): v is Route[] =>
  Array.isArray(v) && v.every((r) => typeof r === 'object' && r !== null && typeof r.dst === 'string' && isIpv4(r.gw));

const ip: Kind<string> = {
  decode: (raw) => (raw.length === 4 ? bytesToIp(raw) : undefined),
  encode: encodeIp,
  is: isIpv4,
};

const ipList: Kind<string[]> = {
  decode: (raw) => {
    if (raw.length === 0 || raw.length % 4 !== 0) return undefined;
    const ips: string[] = [];
    for (let pos = 0; pos < raw.length; pos += 4) ips.push(bytesToIp(raw, pos));
    return ips;
  },
  encode: (ips) => {
    if (ips.length === 0) throw new RangeError('address list must not be empty');
    return Buffer.concat(ips.map(encodeIp));
  },
  is: isIpList,
};

function u8(min: number, max: number): Kind<number> {
  return {
    decode: (raw) => (raw.length === 1 && (raw[0] as number) >= min && (raw[0] as number) <= max ? raw[0] : undefined),
    encode: (n) => {
      if (!Number.isInteger(n) || n < min || n > max) throw new RangeError(`${n} is not an integer in ${min}..${max}`);
      return Buffer.from([n]);
    },
    is: (v): v is number => typeof v === 'number',
  };
}

/** 16-bit value with the RFC's minimum (MTU ≥ 68, max message size ≥ 576). */
function u16(min: number): Kind<number> {
  return {
    decode: (raw) => (raw.length === 2 && raw.readUInt16BE(0) >= min ? raw.readUInt16BE(0) : undefined),
    encode: (n) => {
      if (n < min) throw new RangeError(`${n} is below the minimum ${min}`);
      return encodeU16(n);
    },
    is: (v): v is number => typeof v === 'number',
  };
}

const u32: Kind<number> = {
  decode: (raw) => (raw.length === 4 ? raw.readUInt32BE(0) : undefined),
  encode: encodeU32,
  is: (v): v is number => typeof v === 'number',
};

/** NVT ASCII in the RFC; read as UTF-8, trailing NULs (sent by some servers) dropped. */
const text: Kind<string> = {
  decode: (raw) => {
    let end = raw.length;
    while (end > 0 && raw[end - 1] === 0) end--;
    return end > 0 ? raw.toString('utf8', 0, end) : undefined;
  },
  encode: encodeText,
  is: (v): v is string => typeof v === 'string',
};

function bytes(minLength: number): Kind<Buffer> {
  return {
    decode: (raw) => (raw.length >= minLength ? Buffer.from(raw) : undefined),
    encode: (b) => {
      if (b.length < minLength) throw new RangeError(`needs at least ${minLength} bytes`);
      return Buffer.from(b);
    },
    is: (v): v is Buffer => Buffer.isBuffer(v),
  };
}

const codeList: Kind<number[]> = {
  decode: (raw) => (raw.length > 0 ? [...raw] : undefined),
  encode: (codes) => {
    if (codes.length === 0) throw new RangeError('parameter request list must not be empty');
    for (const c of codes) checkUint(c, 255, 'option code');
    return Buffer.from(codes);
  },
  is: (v): v is number[] => Array.isArray(v) && v.every((c) => typeof c === 'number'),
};

const staticRouteList: Kind<Route[]> = {
  decode: decodeStaticRoutes,
  // Only the address goes on the wire; the receiver infers the mask from its class.
  encode: (routes) => {
    if (routes.length === 0) throw new RangeError('option 33 needs at least one route');
    return Buffer.concat(routes.flatMap((r) => [ipToBytes(r.dst.split('/')[0] as string), ipToBytes(r.gw)]));
  },
  is: isRouteList,
};

const classless: Kind<Route[]> = { decode: decodeClassless, encode: encodeClassless, is: isRouteList };

const domainList: Kind<string[]> = {
  decode: decodeDomainSearch,
  encode: encodeDomainSearch,
  is: (v): v is string[] => Array.isArray(v) && v.every((n) => typeof n === 'string'),
};

/** PAD and END are framing: they have names but never a value. */
const framing: Kind<never> = {
  decode: () => undefined,
  encode: () => {
    throw new RangeError('PAD and END are framing, not options with a value');
  },
  is: (_v: unknown): _v is never => false,
};

// ---- the registry --------------------------------------------------------------------------------------------------

/** Names come from the one table users' configs are checked against (option-names.ts). */
function def<T>(code: number, kind: Kind<T>): OptionDef<T> {
  return Object.freeze({ code, name: optionName(code), ...kind });
}

/** Every option this client gives a type to (the names of types.ts Opt, some in the plural). */
export const OPTIONS = {
  PAD: def(Opt.PAD, framing),
  SUBNET_MASK: def(Opt.SUBNET_MASK, ip),
  ROUTERS: def(Opt.ROUTER, ipList),
  DNS_SERVERS: def(Opt.DNS_SERVERS, ipList),
  HOST_NAME: def(Opt.HOST_NAME, text),
  DOMAIN_NAME: def(Opt.DOMAIN_NAME, text),
  INTERFACE_MTU: def(Opt.INTERFACE_MTU, u16(68)),
  BROADCAST_ADDRESS: def(Opt.BROADCAST_ADDRESS, ip),
  STATIC_ROUTES: def(Opt.STATIC_ROUTES, staticRouteList),
  REQUESTED_IP: def(Opt.REQUESTED_IP, ip),
  LEASE_TIME: def(Opt.LEASE_TIME, u32),
  OVERLOAD: def(Opt.OVERLOAD, u8(1, 3)),
  MESSAGE_TYPE: def(Opt.MESSAGE_TYPE, u8(0, 255)),
  SERVER_ID: def(Opt.SERVER_ID, ip),
  PARAMETER_REQUEST_LIST: def(Opt.PARAMETER_REQUEST_LIST, codeList),
  MESSAGE: def(Opt.MESSAGE, text),
  MAX_MESSAGE_SIZE: def(Opt.MAX_MESSAGE_SIZE, u16(576)),
  RENEWAL_TIME: def(Opt.RENEWAL_TIME, u32),
  REBINDING_TIME: def(Opt.REBINDING_TIME, u32),
  VENDOR_CLASS_ID: def(Opt.VENDOR_CLASS_ID, text),
  CLIENT_ID: def(Opt.CLIENT_ID, bytes(2)),
  USER_CLASS: def(Opt.USER_CLASS, bytes(1)),
  DOMAIN_SEARCH: def(Opt.DOMAIN_SEARCH, domainList),
  CLASSLESS_ROUTES: def(Opt.CLASSLESS_ROUTES, classless),
  END: def(Opt.END, framing),
};

const REGISTRY: ReadonlyMap<number, OptionDef<unknown>> = new Map(
  Object.values(OPTIONS).map((d): [number, OptionDef<unknown>] => [d.code, d]),
);

/** An option the registry does not type: its value is its bytes (the CNI plugin accepts any code as a number). */
function rawOption(code: number): OptionDef<Buffer> {
  return def(code, bytes(0));
}

export function optionByCode(code: number): OptionDef<unknown> | undefined {
  return REGISTRY.get(code);
}

/** Wire bytes of one option value, checked against the option's kind; unregistered codes take a Buffer. */
export function encodeOption(code: number, value: unknown): Buffer {
  checkUint(code, 255, 'option code');
  const d = REGISTRY.get(code) ?? rawOption(code);
  if (!d.is(value)) throw new TypeError(`option ${d.name} (${code}) cannot carry ${JSON.stringify(value)}`);
  return d.encode(value);
}

// ---- accessors -----------------------------------------------------------------------------------------------------

/** The accessor of one option: its value in a message, or undefined when absent or malformed. */
function reader<T>(d: OptionDef<T>): (msg: DhcpMessage) => T | undefined {
  return (msg) => {
    const raw = msg.options.get(d.code);
    return raw === undefined ? undefined : d.decode(raw);
  };
}

export const messageType = reader(OPTIONS.MESSAGE_TYPE);
export const serverId = reader(OPTIONS.SERVER_ID);
export const requestedIp = reader(OPTIONS.REQUESTED_IP);
export const subnetMask = reader(OPTIONS.SUBNET_MASK);
export const leaseTimeS = reader(OPTIONS.LEASE_TIME);
export const renewalTimeS = reader(OPTIONS.RENEWAL_TIME);
export const rebindingTimeS = reader(OPTIONS.REBINDING_TIME);
export const routers = reader(OPTIONS.ROUTERS);
export const dnsServers = reader(OPTIONS.DNS_SERVERS);
export const domainName = reader(OPTIONS.DOMAIN_NAME);
export const hostName = reader(OPTIONS.HOST_NAME);
export const interfaceMtu = reader(OPTIONS.INTERFACE_MTU);
export const broadcastAddress = reader(OPTIONS.BROADCAST_ADDRESS);
/** Option 33; destinations as CIDR with the classful prefix, or /32 when host bits are set. */
export const staticRoutes = reader(OPTIONS.STATIC_ROUTES);
/** Option 121; undefined when any descriptor is malformed (prefix > 32, short, bits set past the prefix). */
export const classlessRoutes = reader(OPTIONS.CLASSLESS_ROUTES);
export const domainSearch = reader(OPTIONS.DOMAIN_SEARCH);
export const clientId = reader(OPTIONS.CLIENT_ID);
export const parameterRequestList = reader(OPTIONS.PARAMETER_REQUEST_LIST);
export const maxMessageSize = reader(OPTIONS.MAX_MESSAGE_SIZE);
/** Option 56: the server's explanation, typically in a NAK. */
export const message = reader(OPTIONS.MESSAGE);
