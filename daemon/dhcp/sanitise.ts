// The one step between a decoded server reply and everything that uses it (the lease core, the CNI result, the
// routes added in the pod, the lease view, the records): any host on the LAN can answer a DISCOVER, so what it says
// is checked against what a pod can safely be given. A value that fails is dropped (the option, or the one list
// entry), never repaired into something the server did not say; what was dropped is returned for the log.
import { ZERO_IP, intToIp, ipToInt, isIpv4, maskToPrefix } from './bytes';
import {
  Route,
  classlessRoutes,
  domainName,
  domainSearch,
  encodeClassless,
  encodeDomainSearch,
  encodeU32,
  leaseTimeS,
  staticRoutes,
} from './options';
import { decode } from './codec';
import { DhcpMessage, Opt } from './types';

/** Shorter leases are treated as this long: a server granting 1 s leases would make every pod renew (and the
 *  daemon fsync its record) twice a second. Daemon flag --min-lease-time. */
export const DEFAULT_MIN_LEASE_TIME_S = 60;

export interface SanitiseRules {
  minLeaseTimeS: number;
}

export interface Sanitised {
  msg: DhcpMessage;
  /** What was removed or changed, one entry per value ("option 3: 224.0.0.1 is multicast"). */
  dropped: string[];
}

/** A reply's bytes as the lease core may see them: decoded, then sanitised. */
export function decodeReply(
  payload: Buffer,
  rules: SanitiseRules,
): ({ ok: true } & Sanitised) | { ok: false; reason: string } {
  const d = decode(payload);
  return d.ok ? { ok: true, ...sanitiseReply(d.value, rules) } : d;
}

/** Why `ip` cannot be a pod's address, gateway, route destination or nameserver; undefined when it can. */
export function notUnicast(ip: string): string | undefined {
  if (!isIpv4(ip)) return 'not an IPv4 address';
  const first = ipToInt(ip) >>> 24;
  if (first === 0) return 'in 0.0.0.0/8';
  if (first === 127) return 'loopback';
  if (first >= 224 && first < 240) return 'multicast';
  if (first >= 240) return ip === '255.255.255.255' ? 'broadcast' : 'reserved (240.0.0.0/4)';
  return undefined;
}

export function isUnicast(ip: string): boolean {
  return notUnicast(ip) === undefined;
}

/** A host name as resolv.conf and the CNI result may carry it: labels of letters, digits, '-' and '_' (SRV-style
 *  names exist), 1–63 octets each, 253 in all, an optional trailing dot. */
export function isDnsName(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > 253) return false;
  return bare.split('.').every((l) => /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(l));
}

/** A route the pod may install: the gateway unicast (or 0.0.0.0 = on-link, option 121 only), the destination
 *  neither loopback, multicast nor reserved, and inside 0.0.0.0/8 only as the default route itself. */
function routeProblem(r: Route, onLinkAllowed: boolean): string | undefined {
  const [dst, len] = r.dst.split('/') as [string, string];
  const gw = onLinkAllowed && r.gw === ZERO_IP ? undefined : notUnicast(r.gw);
  if (gw) return `gateway ${r.gw} is ${gw}`;
  if (Number(len) === 0) return undefined;
  const d = notUnicast(dst);
  return d ? `destination ${r.dst} is ${d}` : undefined;
}

/** The reply with every unusable value removed, and what was removed. Never throws. */
export function sanitiseReply(input: DhcpMessage, rules: SanitiseRules): Sanitised {
  const dropped: string[] = [];
  const options = new Map(input.options);
  const msg: DhcpMessage = { ...input, options };
  if (msg.yiaddr !== ZERO_IP && !isUnicast(msg.yiaddr)) {
    dropped.push(`yiaddr ${msg.yiaddr} is ${notUnicast(msg.yiaddr)}`);
    msg.yiaddr = ZERO_IP;
  }
  const drop = (code: number, why: string) => {
    options.delete(code);
    dropped.push(`option ${code}: ${why}`);
  };
  const mask = options.get(Opt.SUBNET_MASK);
  if (mask !== undefined) {
    const prefix = mask.length === 4 ? maskToPrefix(intToIp(mask.readUInt32BE(0))) : undefined;
    if (prefix === undefined || prefix < 1)
      drop(Opt.SUBNET_MASK, 'not a netmask of /1 to /32 (the classful prefix applies)');
  }
  for (const code of [Opt.SERVER_ID]) {
    const raw = options.get(code);
    if (raw !== undefined && (raw.length !== 4 || !isUnicast(intToIp(raw.readUInt32BE(0)))))
      drop(code, 'not a unicast address');
  }
  for (const code of [Opt.ROUTER, Opt.DNS_SERVERS]) filterAddresses(options, code, dropped);
  const domainRaw = options.get(Opt.DOMAIN_NAME);
  if (domainRaw !== undefined) {
    const d = domainName(msg);
    if (d === undefined || !isDnsName(d))
      drop(Opt.DOMAIN_NAME, `${JSON.stringify(domainRaw.toString('latin1'))} is not a DNS name`);
  }
  if (options.has(Opt.DOMAIN_SEARCH)) {
    const names = domainSearch(msg) ?? [];
    const good = names.filter(isDnsName);
    for (const n of names.filter((n) => !isDnsName(n)))
      dropped.push(`option 119: ${JSON.stringify(n)} is not a DNS name`);
    if (good.length === 0) drop(Opt.DOMAIN_SEARCH, 'no valid name');
    else if (good.length < names.length) options.set(Opt.DOMAIN_SEARCH, encodeDomainSearch(good));
  }
  filterRoutes(options, Opt.STATIC_ROUTES, staticRoutes(msg), false, dropped, (routes) =>
    Buffer.concat(routes.flatMap((r) => [ipToBuffer(r.dst.split('/')[0] as string), ipToBuffer(r.gw)])),
  );
  filterRoutes(options, Opt.CLASSLESS_ROUTES, classlessRoutes(msg), true, dropped, encodeClassless);
  const lease = leaseTimeS(msg);
  if (lease !== undefined && lease > 0 && lease < rules.minLeaseTimeS) {
    // T1 and T2 of the short lease would be shorter still: the defaults (50 %, 87.5 %) of the longer one apply.
    options.set(Opt.LEASE_TIME, encodeU32(rules.minLeaseTimeS));
    options.delete(Opt.RENEWAL_TIME);
    options.delete(Opt.REBINDING_TIME);
    dropped.push(`option 51: lease time ${lease} s raised to the minimum ${rules.minLeaseTimeS} s`);
  }
  return { msg, dropped };
}

function ipToBuffer(ip: string): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(ipToInt(ip));
  return b;
}

/** An address list option keeps its unicast entries; none left, the option goes. */
function filterAddresses(options: Map<number, Buffer>, code: number, dropped: string[]): void {
  const raw = options.get(code);
  if (raw === undefined) return;
  if (raw.length === 0 || raw.length % 4 !== 0) {
    options.delete(code);
    dropped.push(`option ${code}: length ${raw.length} is not a list of addresses`);
    return;
  }
  const keep: Buffer[] = [];
  for (let pos = 0; pos < raw.length; pos += 4) {
    const ip = intToIp(raw.readUInt32BE(pos));
    const why = notUnicast(ip);
    if (why) dropped.push(`option ${code}: ${ip} is ${why}`);
    else keep.push(raw.subarray(pos, pos + 4));
  }
  if (keep.length === 0) options.delete(code);
  else if (keep.length * 4 < raw.length) options.set(code, Buffer.concat(keep));
}

function filterRoutes(
  options: Map<number, Buffer>,
  code: number,
  routes: Route[] | undefined,
  onLinkAllowed: boolean,
  dropped: string[],
  encode: (routes: Route[]) => Buffer,
): void {
  if (!options.has(code)) return;
  if (routes === undefined) {
    options.delete(code);
    dropped.push(`option ${code}: malformed`);
    return;
  }
  const keep = routes.filter((r) => {
    const why = routeProblem(r, onLinkAllowed);
    if (why) dropped.push(`option ${code}: route to ${r.dst}: ${why}`);
    return why === undefined;
  });
  if (keep.length === 0) options.delete(code);
  else if (keep.length < routes.length) options.set(code, encode(keep));
}
