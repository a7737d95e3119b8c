// IPv6 addresses between their 16 wire bytes and text (RFC 4291 §2.2 in, RFC 5952 canonical form out).

export const IP6_LEN = 16;

/** Parses an IPv6 address in any RFC 4291 §2.2 text form (no zone, no embedded IPv4). Throws TypeError. */
export function ip6ToBytes(text: string): Buffer {
  const bad = (): TypeError => new TypeError(`not an IPv6 address: ${JSON.stringify(text)}`);
  if (typeof text !== 'string' || text.length > 39) throw bad();
  const halves = text.split('::');
  if (halves.length > 2) throw bad();
  const groups = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').map((g) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw bad();
      return parseInt(g, 16);
    });
  };
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) throw bad();
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const out = Buffer.alloc(IP6_LEN);
  all.forEach((g, i) => out.writeUInt16BE(g, 2 * i));
  return out;
}

/** RFC 5952 text of the 16 bytes at `offset`: lower case, no leading zeros, the longest run of two or more zero
 *  groups (the first of equal runs) as "::". */
export function bytesToIp6(b: Buffer, offset = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(b.readUInt16BE(offset + 2 * i));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    g
      .slice(from, to)
      .map((x) => x.toString(16))
      .join(':');
  return best < 0 ? hex(0, 8) : `${hex(0, best)}::${hex(best + bestLen, 8)}`;
}

export function isIp6(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  try {
    ip6ToBytes(s);
    return true;
  } catch {
    return false;
  }
}

/** A unicast address a server may lease: not unspecified, loopback, multicast (ff00::/8) or link-local (fe80::/10). */
export function isLeasableIp6(s: string): boolean {
  if (!isIp6(s)) return false;
  const b = ip6ToBytes(s);
  if (b[0] === 0xff) return false;
  if (b[0] === 0xfe && ((b[1] as number) & 0xc0) === 0x80) return false;
  const zeroUpTo15 = b.subarray(0, 15).every((x) => x === 0);
  return !(zeroUpTo15 && (b[15] === 0 || b[15] === 1));
}
