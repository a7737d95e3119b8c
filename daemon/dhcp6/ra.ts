// Router advertisements (RFC 4861 §4.2, §4.6.2), read for two facts DHCPv6 needs: the M/O flags (whether the link
// means DHCPv6 to be used, for the error when no server answers) and the on-link prefixes (the prefix length of a
// leased address). Pure; never throws.
import { bytesToIp6, ip6ToBytes } from './ip6';

export const ICMP6_ROUTER_ADVERTISEMENT = 134;
/** The RA's fixed part, from its type octet to the options, and its M and O flags (§4.2). */
const RA = { headerLen: 16, flagManaged: 0x80, flagOther: 0x40 } as const;
/** The prefix information option: its type, its length (4 units of 8 octets) and its L flag (§4.6.2). */
const PREFIX_INFORMATION = { type: 3, len: 32, flagOnLink: 0x80 } as const;

export interface OnLinkPrefix {
  prefix: string;
  length: number;
}

export interface RouterAdvertisement {
  /** M: addresses are available by DHCPv6. */
  managed: boolean;
  /** O: other configuration is available by DHCPv6. */
  other: boolean;
  routerLifetimeS: number;
  /** Prefix information options with the L flag (RFC 4861 §4.6.2). */
  onLink: OnLinkPrefix[];
}

/** Parses an ICMPv6 message from its type octet on; undefined unless it is a well-formed RA. */
export function decodeRa(b: Buffer): RouterAdvertisement | undefined {
  if (b.length < RA.headerLen || b[0] !== ICMP6_ROUTER_ADVERTISEMENT || b[1] !== 0) return undefined;
  const flags = b[5] as number;
  const ra: RouterAdvertisement = {
    managed: (flags & RA.flagManaged) !== 0,
    other: (flags & RA.flagOther) !== 0,
    routerLifetimeS: b.readUInt16BE(6),
    onLink: [],
  };
  let pos = RA.headerLen;
  while (pos < b.length) {
    if (b.length - pos < 2) return undefined;
    const len = (b[pos + 1] as number) * 8; // in units of 8 octets; 0 is invalid (§4.6)
    if (len === 0 || pos + len > b.length) return undefined;
    if (b[pos] === PREFIX_INFORMATION.type && len === PREFIX_INFORMATION.len) {
      const length = b[pos + 2] as number;
      if (length <= 128 && ((b[pos + 3] as number) & PREFIX_INFORMATION.flagOnLink) !== 0) {
        ra.onLink.push({ prefix: bytesToIp6(b, pos + 16), length });
      }
    }
    pos += len;
  }
  return ra;
}

/** The length of the longest on-link prefix holding `address`, or undefined when no prefix does. */
export function onLinkPrefixLength(address: string, prefixes: readonly OnLinkPrefix[]): number | undefined {
  const a = ip6ToBytes(address);
  let best: number | undefined;
  for (const p of prefixes) {
    if (inPrefix(a, ip6ToBytes(p.prefix), p.length) && (best === undefined || p.length > best)) best = p.length;
  }
  return best;
}

/** What the router advertisements heard so far say. */
export interface RaView {
  /** RAs heard. */
  count: number;
  /** The latest RA's M and O flags; undefined before the first. */
  managed?: boolean;
  other?: boolean;
  /** Every on-link prefix advertised so far. */
  onLink: OnLinkPrefix[];
}

export function emptyRaView(): RaView {
  return { count: 0, onLink: [] };
}

/** Adds one RA to the view: its flags replace the earlier ones, its on-link prefixes join theirs. */
export function noteRa(view: RaView, ra: RouterAdvertisement): void {
  view.count++;
  view.managed = ra.managed;
  view.other = ra.other;
  for (const p of ra.onLink) {
    if (!view.onLink.some((q) => q.prefix === p.prefix && q.length === p.length)) view.onLink.push(p);
  }
}

/** The RA part of the error when no DHCPv6 server answered: whether RAs were seen and what their flags ask for. */
export function describeRa(view: RaView): string {
  if (view.count === 0) return 'no router advertisement seen on the link';
  const flags = `M=${view.managed ? 1 : 0} O=${view.other ? 1 : 0}`;
  const meaning = view.managed
    ? 'addresses are to come from DHCPv6'
    : view.other
      ? 'only other configuration from DHCPv6 (no addresses: SLAAC)'
      : 'no DHCPv6 on this link (SLAAC only)';
  return `${view.count} router advertisement(s) seen, ${flags}: ${meaning}`;
}

function inPrefix(a: Buffer, prefix: Buffer, length: number): boolean {
  const whole = length >> 3;
  if (!a.subarray(0, whole).equals(prefix.subarray(0, whole))) return false;
  const rest = length & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((a[whole] as number) & mask) === ((prefix[whole] as number) & mask);
}
