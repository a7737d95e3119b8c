// Parsers for the lease stores of the three real servers, into one shape. Pure: text in, records out.

export interface Lease {
  ip: string;
  /** Lower-case, colon-separated. */
  mac: string;
  /** Client identifier (option 61) as lower-case colon-separated hex, when the server stored one. */
  clientId?: string;
  hostname?: string;
  /** Unix seconds; 0 = infinite. */
  expiresAtS: number;
  /** 'active' for a live lease; otherwise the store's word: dhcpd binding state ('free', 'released', 'expired'...),
   * Kea 'declined' | 'expired-reclaimed' | 'deleted' (a row with valid_lifetime 0, how memfile records removal). */
  state: string;
}

/** Newest record per address, in order of first appearance. */
export function latestPerIp(records: Lease[]): Lease[] {
  const byIp = new Map<string, Lease>();
  for (const r of records) {
    byIp.delete(r.ip); // re-insert: order of the latest record
    byIp.set(r.ip, r);
  }
  return [...byIp.values()];
}

/** dnsmasq --dhcp-leasefile: `expiry mac ip hostname clientid` per line, only live leases. */
export function parseDnsmasqLeases(text: string): Lease[] {
  const out: Lease[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || !/^\d+$/.test(f[0] as string) || !(f[2] as string).includes('.')) continue; // e.g. "duid"
    const [expiry, mac, ip, hostname, clientId] = f as [string, string, string, string, string];
    out.push({
      ip,
      mac: mac.toLowerCase(),
      ...(clientId !== '*' && { clientId: clientId.toLowerCase() }),
      ...(hostname !== '*' && { hostname }),
      expiresAtS: Number(expiry),
      state: 'active',
    });
  }
  return out;
}

const KEA_STATES = ['active', 'declined', 'expired-reclaimed'];

/** Kea memfile CSV: one row per allocation, renewal, reclamation or removal, oldest first. */
export function parseKeaLeases(text: string): Lease[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift()?.split(',') ?? [];
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`Kea lease file without column ${name}: ${header.join(',')}`);
    return i;
  };
  const [address, hwaddr, clientId, valid, expire, hostname, state] = [
    'address',
    'hwaddr',
    'client_id',
    'valid_lifetime',
    'expire',
    'hostname',
    'state',
  ].map(col) as [number, number, number, number, number, number, number];
  return lines.map((line) => {
    const f = line.split(',');
    const validS = Number(f[valid]);
    const name = (f[hostname] ?? '').replace(/&#x2c/g, ',');
    return {
      ip: f[address] as string,
      mac: (f[hwaddr] ?? '').toLowerCase(),
      ...(f[clientId] && { clientId: (f[clientId] as string).toLowerCase() }),
      ...(name && { hostname: name }),
      expiresAtS: validS === 0xffffffff ? 0 : Number(f[expire]),
      state: validS === 0 ? 'deleted' : (KEA_STATES[Number(f[state])] ?? `state ${f[state]}`),
    };
  });
}

/** dhcpd.leases: `lease IP { ... }` blocks appended as the state changes, oldest first. */
export function parseDhcpdLeases(text: string): Lease[] {
  const out: Lease[] = [];
  for (const m of text.matchAll(/^lease (\d+\.\d+\.\d+\.\d+) \{([^}]*)\}/gm)) {
    const body = m[2] as string;
    const stmt = (re: RegExp): string | undefined => re.exec(body)?.[1];
    const uid = stmt(/^\s*uid (.*);$/m);
    const hostname = stmt(/^\s*client-hostname "(.*)";$/m);
    out.push({
      ip: m[1] as string,
      mac: (stmt(/^\s*hardware ethernet ([0-9a-fA-F:]+);$/m) ?? '').toLowerCase(),
      ...(uid !== undefined && { clientId: dhcpdString(uid) }),
      ...(hostname !== undefined && { hostname }),
      expiresAtS: dhcpdTime(stmt(/^\s*ends (.*);/m)),
      state: stmt(/^\s*binding state (\S+);$/m) ?? 'unknown',
    });
  }
  return out;
}

/** dhcpd writes binary strings either quoted with octal escapes or as colon-separated hex. */
function dhcpdString(v: string): string {
  if (!v.startsWith('"')) return v.toLowerCase();
  const bytes: number[] = [];
  const s = v.slice(1, -1);
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c !== '\\') {
      bytes.push(c.charCodeAt(0));
    } else if (/^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push((s[++i] as string).charCodeAt(0));
    }
  }
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** `ends 4 2024/01/31 12:00:00` (UTC), `ends epoch 1706702400; # ...`, or `ends never`. */
function dhcpdTime(v: string | undefined): number {
  if (v === undefined || v === 'never') return 0;
  const epoch = /^epoch (\d+)/.exec(v);
  if (epoch) return Number(epoch[1]);
  const m = /^\d (\d+)\/(\d+)\/(\d+) (\d+):(\d+):(\d+)/.exec(v);
  if (!m) throw new Error(`unparsed dhcpd time: ${v}`);
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s) / 1000;
}
