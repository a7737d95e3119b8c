// DHCP option names users write in the CNI config's `request` and `provide` entries. The names are those of
// dhcp-options(5), which the reference plugin's config documents; its own table (options.go) holds only six of them,
// all included here with the same meaning. A decimal code ("121") is accepted too. Codes 0 (pad) and 255 (end)
// are framing, not options.

const NAME_TO_CODE: Readonly<Record<string, number>> = {
  'subnet-mask': 1,
  'time-offset': 2,
  routers: 3,
  'time-servers': 4,
  'ien116-name-servers': 5,
  'domain-name-servers': 6,
  'log-servers': 7,
  'cookie-servers': 8,
  'lpr-servers': 9,
  'impress-servers': 10,
  'resource-location-servers': 11,
  'host-name': 12,
  'boot-size': 13,
  'merit-dump': 14,
  'domain-name': 15,
  'swap-server': 16,
  'root-path': 17,
  'extensions-path': 18,
  'ip-forwarding': 19,
  'non-local-source-routing': 20,
  'policy-filter': 21,
  'max-dgram-reassembly': 22,
  'default-ip-ttl': 23,
  'path-mtu-aging-timeout': 24,
  'path-mtu-plateau-table': 25,
  'interface-mtu': 26,
  'all-subnets-local': 27,
  'broadcast-address': 28,
  'perform-mask-discovery': 29,
  'mask-supplier': 30,
  'router-discovery': 31,
  'router-solicitation-address': 32,
  'static-routes': 33,
  'trailer-encapsulation': 34,
  'arp-cache-timeout': 35,
  'ieee802-3-encapsulation': 36,
  'default-tcp-ttl': 37,
  'tcp-keepalive-interval': 38,
  'tcp-keepalive-garbage': 39,
  'nis-domain': 40,
  'nis-servers': 41,
  'ntp-servers': 42,
  'vendor-encapsulated-options': 43,
  'netbios-name-servers': 44,
  'netbios-dd-server': 45,
  'netbios-node-type': 46,
  'netbios-scope': 47,
  'font-servers': 48,
  'x-display-manager': 49,
  'dhcp-requested-address': 50,
  'dhcp-lease-time': 51,
  'dhcp-option-overload': 52,
  'dhcp-message-type': 53,
  'dhcp-server-identifier': 54,
  'dhcp-parameter-request-list': 55,
  'dhcp-message': 56,
  'dhcp-max-message-size': 57,
  'dhcp-renewal-time': 58,
  'dhcp-rebinding-time': 59,
  'vendor-class-identifier': 60,
  'dhcp-client-identifier': 61,
  'nisplus-domain': 64,
  'nisplus-servers': 65,
  'tftp-server-name': 66,
  'bootfile-name': 67,
  'mobile-ip-home-agent': 68,
  'smtp-server': 69,
  'pop-server': 70,
  'nntp-server': 71,
  'www-server': 72,
  'finger-server': 73,
  'irc-server': 74,
  'streettalk-server': 75,
  'streettalk-directory-assistance-server': 76,
  'user-class': 77,
  'slp-directory-agent': 78,
  'slp-service-scope': 79,
  'relay-agent-information': 82,
  'nds-servers': 85,
  'nds-tree-name': 86,
  'nds-context': 87,
  'uap-servers': 98,
  pcode: 100,
  tcode: 101,
  'v6-only-preferred': 108,
  'netinfo-server-address': 112,
  'netinfo-server-tag': 113,
  'default-url': 114,
  'subnet-selection': 118,
  'domain-search': 119,
  'classless-static-routes': 121,
  // dhclient.conf's customary name for 121, common in existing configs.
  'rfc3442-classless-static-routes': 121,
  vivco: 124,
  vivso: 125,
};

export type OptionLookup = { ok: true; code: number } | { ok: false; reason: string };

/** "routers" → 3, "121" → 121; anything else gets a reason fit for an error message (with a suggestion if close). */
export function optionCode(name: string): OptionLookup {
  if (Object.prototype.hasOwnProperty.call(NAME_TO_CODE, name)) return { ok: true, code: NAME_TO_CODE[name] as number };
  if (/^[0-9]+$/.test(name)) {
    const code = Number(name);
    return code >= 1 && code <= 254
      ? { ok: true, code }
      : { ok: false, reason: `DHCP option code ${name} is outside 1..254` };
  }
  const near = closestName(name);
  return {
    ok: false,
    reason: `unknown DHCP option ${JSON.stringify(name)}${near ? ` (did you mean "${near}"?)` : ''}`,
  };
}

/** The first dhcp-options(5) name of a code, for messages; the decimal code when it has none. */
export function optionName(code: number): string {
  for (const [name, c] of Object.entries(NAME_TO_CODE)) if (c === code) return name;
  return String(code);
}

/** A typo within two edits of a known name (e.g. "hostnme" → "host-name"). */
function closestName(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of Object.keys(NAME_TO_CODE)) {
    const d = editDistance(name.toLowerCase(), candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, substitution));
    }
    prev = cur;
  }
  return prev[b.length] as number;
}
