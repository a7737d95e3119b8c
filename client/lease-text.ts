// What `ts-dhcp leases`, `leases show ID` and `status` print, and which lease an operator's ID means. Pure (time
// and colour are parameters) so the unit tests pin the output.
import { attachmentKey, IpFamily, LeaseDetail, LeaseView, StatusResult } from '../common/rpc';
import { PLAIN, Style, columns, escapeAll, humanDelta, humanDuration } from './terminal';

function stateStyle(state: string, st: Style): (s: string) => string {
  if (state === 'BOUND') return st.green;
  if (state === 'RENEWING' || state === 'REBINDING') return st.yellow;
  return (s) => s;
}

/** The pod as Kubernetes names it (CNI_ARGS), else the container id, shortened as `docker ps` does. */
export function podName(l: LeaseView): string {
  const ns = l.args.K8S_POD_NAMESPACE;
  const name = l.args.K8S_POD_NAME;
  if (ns && name) return `${ns}/${name}`;
  if (name) return name;
  return l.containerId.length > 16 ? l.containerId.slice(0, 12) : l.containerId;
}

function when(iso: string | undefined, nowMs: number): string {
  return iso ? humanDelta(Date.parse(iso) - nowMs) : '-';
}

const LEASE_HEAD = ['POD', 'NETWORK', 'IFACE', 'ADDRESS', 'SERVER', 'STATE', 'RENEWS', 'EXPIRES', 'LAST ERROR'];

const isV6 = (l: LeaseView): boolean => l.family === 'ipv6';

/** A DUID short enough for a column: its type and its last 6 bytes (a DUID-LL's or -LLT's MAC), whole when short. */
export function shortDuid(hex: string): string {
  return hex.length <= 20 ? hex : `${hex.slice(0, 4)}..${hex.slice(-12)}`;
}

/** The lease's address, or for one without an address yet which family's it is (an attachment may have both). */
function addressCell(l: LeaseView): string {
  if (!l.address) return isV6(l) ? '(v6)' : '-';
  return `${l.address}/${l.prefixLength}${l.changedTo ? ` -> ${l.changedTo}` : ''}`;
}

/** IPv4: the server id. IPv6: the server's unicast address when it gave one, else its DUID shortened. */
function serverCell(l: LeaseView): string {
  if (!isV6(l)) return l.serverId ?? '-';
  return l.serverAddress ?? (l.serverId ? shortDuid(l.serverId) : '-');
}

export function leasesTable(raw: LeaseView[], nowMs: number, st: Style = PLAIN): string {
  if (raw.length === 0) return 'no leases\n';
  const sorted = escapeAll(raw).sort(
    (a, b) =>
      podName(a).localeCompare(podName(b)) ||
      a.network.localeCompare(b.network) ||
      a.ifName.localeCompare(b.ifName) ||
      Number(isV6(a)) - Number(isV6(b)),
  );
  const rows = sorted.map((l) => [
    podName(l),
    l.network,
    l.ifName,
    addressCell(l),
    serverCell(l),
    l.state,
    when(l.t1At, nowMs),
    when(l.expiresAt, nowMs),
    l.lastError ?? '',
  ]);
  return columns(
    LEASE_HEAD,
    rows,
    (ri, ci, t) => (ci === 5 ? stateStyle((sorted[ri] as LeaseView).state, st)(t) : ci === 8 ? st.red(t) : t),
    st,
  );
}

export function leaseDetailText(raw: LeaseDetail, nowMs: number, st: Style = PLAIN): string {
  const d = escapeAll(raw);
  const at = (iso: string | undefined) => (iso ? `${humanDelta(Date.parse(iso) - nowMs)} (${iso})` : '-');
  const fields: [string, string][] = [
    ['pod', podName(d)],
    ['container id', d.containerId],
    ['network', d.network],
    ['interface', `${d.ifName} (MAC ${d.mac})`],
    ['netns', d.netns],
    ['family', isV6(d) ? 'IPv6 (DHCPv6)' : 'IPv4 (DHCPv4)'],
    ['state', stateStyle(d.state, st)(d.state)],
    ['address', d.address ? `${d.address}/${d.prefixLength}` : '-'],
    ...(isV6(d) ? v6Fields(d, at) : v4Fields(d, at, st)),
    [
      'CNI_ARGS',
      Object.entries(d.args)
        .map(([k, v]) => `${k}=${v}`)
        .join(';') || '-',
    ],
    ['last error', d.lastError ? st.red(d.lastError) : '-'],
    ['record', d.recordError ? st.red(`cannot be written: ${d.recordError} (retrying)`) : '-'],
    [
      'ignored replies',
      Object.entries(d.ignored ?? {})
        .map(([why, n]) => `${why}: ${n}`)
        .join(', ') || '-',
    ],
  ];
  const w = Math.max(...fields.map(([k]) => k.length));
  const head = `${st.bold('Lease')} ${attachmentKey(d)}${isV6(d) ? ' (IPv6)' : ''}\n${fields.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n')}\n`;
  if (d.transitions.length === 0) return `${head}\n${st.bold('Recent transitions')}: none\n`;
  const rows = [...d.transitions].reverse().map((t) => [humanDelta(Date.parse(t.at) - nowMs), t.from, t.to, t.why]);
  const table = columns(['WHEN', 'FROM', 'TO', 'WHY'], rows, (_, ci, t) => (ci === 0 ? st.dim(t) : t), st);
  return `${head}\n${st.bold('Recent transitions')} (newest first)\n${table
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n')}`;
}

type At = (iso: string | undefined) => string;

/** What a DHCPv4 lease says: gateway, server, lease time, T1/T2/expiry, routes, DNS, MTU. */
function v4Fields(d: LeaseDetail, at: At, st: Style): [string, string][] {
  const f = d.facts;
  return [
    [
      'changed to',
      d.changedTo
        ? st.red(`${d.changedTo} (the server bound another address; the pod still has ${d.address}, link held down)`)
        : '-',
    ],
    ['gateway', f?.gateway ?? '-'],
    ['server', d.serverId ?? '-'],
    ['lease time', f ? (f.leaseTimeS === 0xffffffff ? 'infinite' : humanDuration(f.leaseTimeS * 1000)) : '-'],
    ['renews (T1)', at(d.t1At)],
    ['rebinds (T2)', at(d.t2At)],
    ['expires', at(d.expiresAt)],
    [
      'routes',
      f && f.routes.length > 0
        ? f.routes.map((r) => (r.gw ? `${r.dst} via ${r.gw}` : `${r.dst} on-link`)).join(', ')
        : '-',
    ],
    ['dns', f && f.dns.nameservers.length > 0 ? f.dns.nameservers.join(', ') : '-'],
    ['domain', f?.dns.domain ?? '-'],
    ['search', f && f.dns.search.length > 0 ? f.dns.search.join(' ') : '-'],
    ['mtu', f?.mtu !== undefined ? String(f.mtu) : '-'],
  ];
}

/** What a DHCPv6 lease says: the client's DUID and IAID, the server's DUID and unicast address, the preferred and
 *  valid lifetimes' ends (expires is the valid one's), T1/T2, DNS (options 23 and 24). */
function v6Fields(d: LeaseDetail, at: At): [string, string][] {
  return [
    ['client DUID', d.duid ? `${d.duid} (IAID ${d.iaid})` : '-'],
    ['server', d.serverId ? `DUID ${d.serverId}` : '-'],
    ['server unicast', d.serverAddress ?? '- (RENEW to ff02::1:2)'],
    ['preferred until', at(d.preferredUntil)],
    ['renews (T1)', at(d.t1At)],
    ['rebinds (T2)', at(d.t2At)],
    ['expires', at(d.expiresAt)],
    ['dns', d.facts6 && d.facts6.dns.nameservers.length > 0 ? d.facts6.dns.nameservers.join(', ') : '-'],
    ['search', d.facts6 && d.facts6.dns.search.length > 0 ? d.facts6.dns.search.join(' ') : '-'],
  ];
}

export function statusText(raw: StatusResult, st: Style = PLAIN): string {
  const s = escapeAll(raw);
  const counts = Object.entries(s.leases).sort(([a], [b]) => a.localeCompare(b));
  const total = counts.reduce((n, [, v]) => n + v, 0);
  const lines: [string, string][] = [
    ['daemon', `${st.green('running')}, version ${s.version}, pid ${s.pid}, up ${humanDuration(s.uptimeS * 1000)}`],
    ['socket', s.socketPath],
    ['state dir', s.stateDir ?? '-'],
    [
      'leases',
      total === 0 ? 'none' : `${total} (${counts.map(([k, v]) => `${v} ${stateStyle(k, st)(k)}`).join(', ')})`,
    ],
  ];
  if (s.recordErrors)
    lines.push([
      'records',
      st.red(
        `${s.recordErrors} lease record${s.recordErrors === 1 ? '' : 's'} cannot be written (disk full?); retrying`,
      ),
    ]);
  if (s.memory) lines.push(['memory', `${(s.memory.rss / 1048576).toFixed(1)} MiB RSS`]);
  if (s.openFds !== undefined) lines.push(['open fds', String(s.openFds)]);
  return lines.map(([k, v]) => `${k.padEnd(9)}  ${v}`).join('\n') + '\n';
}

/** Finds the lease an operator means: full key, container id (or a prefix of it), pod NAMESPACE/NAME or NAME. A
 *  dual-stack attachment's two rows are one match: its first row (IPv4) is returned, familiesOf gives both. */
export function resolveLease(leases: LeaseView[], id: string): LeaseView | Error {
  const ipv4First = (rows: LeaseView[]) => rows.sort((a, b) => Number(isV6(a)) - Number(isV6(b)))[0] as LeaseView;
  const exact = leases.filter((l) => attachmentKey(l) === id);
  if (exact.length > 0) return ipv4First(exact);
  const hits = leases.filter(
    (l) =>
      l.containerId === id ||
      (id.length >= 4 && l.containerId.startsWith(id)) ||
      podName(l) === id ||
      l.args.K8S_POD_NAME === id ||
      `${podName(l)}/${l.ifName}` === id,
  );
  const keys = [...new Set(hits.map(attachmentKey))];
  if (keys.length === 1) return ipv4First(hits);
  if (keys.length === 0) return new Error(`no lease matches ${JSON.stringify(id)} (see "ts-dhcp leases")`);
  return new Error(`${JSON.stringify(id)} matches ${keys.length} leases: ${keys.join(', ')}; give one of these`);
}

/** The families of the attachment of `lease` that have a row, IPv4 first. */
export function familiesOf(leases: LeaseView[], lease: LeaseView): IpFamily[] {
  const key = attachmentKey(lease);
  const have = new Set(leases.filter((l) => attachmentKey(l) === key).map((l) => l.family ?? 'ipv4'));
  return (['ipv4', 'ipv6'] as const).filter((f) => have.has(f));
}
