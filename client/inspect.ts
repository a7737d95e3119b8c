// `ts-dhcp leases`, `ts-dhcp leases show ID` and `ts-dhcp status`: what the daemon holds, for operators. The
// formatting functions are pure (time and colour are parameters) so the unit tests pin the output.
import { attachmentKey, DEFAULT_SOCKET_PATH, LeaseDetail, LeaseView, StatusResult } from '../common/rpc';
import { CniError } from '../daemon/cni/errors';
import { parseDuration } from '../common/duration';
import { call } from './rpc-client';

const RPC_TIMEOUT_MS = 5000;
const DEFAULT_WATCH_MS = 2000;

export interface InspectArgs {
  json: boolean;
  socketPath: string;
  watch: boolean;
  intervalMs: number;
  /** `leases show ID`: the lease asked for. */
  show?: string;
}

export function parseInspectArgs(cmd: 'leases' | 'status', args: string[]): InspectArgs | Error {
  const out: InspectArgs = { json: false, socketPath: DEFAULT_SOCKET_PATH, watch: false, intervalMs: DEFAULT_WATCH_MS };
  const rest = [...args];
  if (cmd === 'leases' && rest[0] === 'show') {
    rest.shift();
    const id = rest.shift();
    if (!id || id.startsWith('-'))
      return new Error('"leases show" needs a lease: a pod (NAMESPACE/NAME or NAME), a container id or its prefix');
    out.show = id;
  }
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i] as string;
    const [flag, inline] =
      a.startsWith('--') && a.includes('=')
        ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
        : [a, undefined];
    const value = (): string | Error => {
      const v = inline ?? rest[++i];
      return v ? v : new Error(`${flag} needs a value`);
    };
    if (flag === '--json') out.json = true;
    else if (flag === '--socket-path' || flag === '-socketpath') {
      const v = value();
      if (v instanceof Error) return v;
      out.socketPath = v;
    } else if (cmd === 'leases' && out.show === undefined && (flag === '--watch' || flag === '-w')) out.watch = true;
    else if (cmd === 'leases' && out.show === undefined && flag === '--interval') {
      const v = value();
      if (v instanceof Error) return v;
      const ms = parseDuration(v);
      if (ms instanceof Error || ms < 100)
        return new Error(`--interval: ${ms instanceof Error ? ms.message : 'at least 100ms'}`);
      out.intervalMs = ms;
    } else return new Error(`unknown argument ${JSON.stringify(a)}`);
  }
  if (out.watch && out.json) return new Error('--watch and --json do not go together (poll with --json instead)');
  return out;
}

/** Control characters (C0, DEL, C1) and bidirectional overrides written as escapes: every string the daemon
 *  reports may come from a DHCP server, CNI_ARGS or a container id, and must not drive the operator's terminal. */
export function escapeText(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const n = c.charCodeAt(0);
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

/** A copy of a daemon answer with every string in it (keys too) escaped. */
export function escapeAll<T>(v: T): T {
  if (typeof v === 'string') return escapeText(v) as T;
  if (Array.isArray(v)) return v.map(escapeAll) as T;
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [escapeText(k), escapeAll(x)])) as T;
  }
  return v;
}

/** "3m12s", "2h05m", "1d04h": a duration at the precision an operator reads. */
export function humanDuration(ms: number): string {
  let s = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const two = (n: number) => String(n).padStart(2, '0');
  if (d > 0) return `${d}d${two(h)}h`;
  if (h > 0) return `${h}h${two(m)}m`;
  if (m > 0) return `${m}m${two(s)}s`;
  return `${s}s`;
}

/** "in 3m12s" for the future, "5s ago" for the past. */
export function humanDelta(ms: number): string {
  return ms < 0 && Math.round(-ms / 1000) > 0 ? `${humanDuration(ms)} ago` : `in ${humanDuration(ms)}`;
}

/** ANSI colours, or none (not a terminal, NO_COLOR set, --json). */
export interface Style {
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const sgr = (code: number) => (s: string) => (s === '' ? s : `\x1b[${code}m${s}\x1b[0m`);
export const COLOUR: Style = { green: sgr(32), yellow: sgr(33), red: sgr(31), dim: sgr(2), bold: sgr(1) };
export const PLAIN: Style = { green: (s) => s, yellow: (s) => s, red: (s) => s, dim: (s) => s, bold: (s) => s };

export function styleFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Style {
  return stream.isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb' ? COLOUR : PLAIN;
}

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

/** Lays out rows in columns; colour is applied after padding so escape codes do not skew the widths. */
function columns(
  head: string[],
  rows: string[][],
  colour: (row: number, col: number, text: string) => string,
  st: Style,
): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const pad = (cells: string[], paint: (col: number, text: string) => string) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? paint(i, c) : paint(i, c.padEnd(widths[i] as number))))
      .join('  ')
      .trimEnd();
  return (
    [pad(head, (_, t) => st.bold(t)), ...rows.map((r, ri) => pad(r, (ci, t) => colour(ri, ci, t)))].join('\n') + '\n'
  );
}

const LEASE_HEAD = ['POD', 'NETWORK', 'IFACE', 'ADDRESS', 'SERVER', 'STATE', 'RENEWS', 'EXPIRES', 'LAST ERROR'];

export function leasesTable(raw: LeaseView[], nowMs: number, st: Style = PLAIN): string {
  if (raw.length === 0) return 'no leases\n';
  const sorted = escapeAll(raw).sort(
    (a, b) =>
      podName(a).localeCompare(podName(b)) || a.network.localeCompare(b.network) || a.ifName.localeCompare(b.ifName),
  );
  const rows = sorted.map((l) => [
    podName(l),
    l.network,
    l.ifName,
    l.address ? `${l.address}/${l.prefixLength}${l.changedTo ? ` -> ${l.changedTo}` : ''}` : '-',
    l.serverId ?? '-',
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
  const f = d.facts;
  const at = (iso: string | undefined) => (iso ? `${humanDelta(Date.parse(iso) - nowMs)} (${iso})` : '-');
  const fields: [string, string][] = [
    ['pod', podName(d)],
    ['container id', d.containerId],
    ['network', d.network],
    ['interface', `${d.ifName} (MAC ${d.mac})`],
    ['netns', d.netns],
    ['state', stateStyle(d.state, st)(d.state)],
    ['address', d.address ? `${d.address}/${d.prefixLength}` : '-'],
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
  const head = `${st.bold('Lease')} ${attachmentKey(d)}\n${fields.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n')}\n`;
  if (d.transitions.length === 0) return `${head}\n${st.bold('Recent transitions')}: none\n`;
  const rows = [...d.transitions].reverse().map((t) => [humanDelta(Date.parse(t.at) - nowMs), t.from, t.to, t.why]);
  const table = columns(['WHEN', 'FROM', 'TO', 'WHY'], rows, (_, ci, t) => (ci === 0 ? st.dim(t) : t), st);
  return `${head}\n${st.bold('Recent transitions')} (newest first)\n${table
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n')}`;
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

/** Finds the lease an operator means: full key, container id (or a prefix of it), pod NAMESPACE/NAME or NAME. */
export function resolveLease(leases: LeaseView[], id: string): LeaseView | Error {
  const exact = leases.filter((l) => attachmentKey(l) === id);
  if (exact.length === 1) return exact[0] as LeaseView;
  const hits = leases.filter(
    (l) =>
      l.containerId === id ||
      (id.length >= 4 && l.containerId.startsWith(id)) ||
      podName(l) === id ||
      l.args.K8S_POD_NAME === id ||
      `${podName(l)}/${l.ifName}` === id,
  );
  if (hits.length === 1) return hits[0] as LeaseView;
  if (hits.length === 0) return new Error(`no lease matches ${JSON.stringify(id)} (see "ts-dhcp leases")`);
  return new Error(
    `${JSON.stringify(id)} matches ${hits.length} leases: ${hits.map(attachmentKey).join(', ')}; give one of these`,
  );
}

function describe(err: unknown): string {
  if (err instanceof CniError)
    return escapeText(err.details && !/^E[A-Z]+:/.test(err.details) ? `${err.msg} (${err.details})` : err.msg);
  return escapeText((err as Error).message);
}

export async function runInspect(cmd: 'leases' | 'status', args: string[]): Promise<number> {
  const parsed = parseInspectArgs(cmd, args);
  if (parsed instanceof Error) {
    process.stderr.write(`ts-dhcp ${cmd}: ${parsed.message}\n`);
    return 2;
  }
  const { socketPath, json } = parsed;
  const st = json ? PLAIN : styleFor(process.stdout, process.env);
  const rpc = <M extends 'leases' | 'status' | 'lease'>(method: M, params: Parameters<typeof call<M>>[2]) =>
    call(socketPath, method, params, { timeoutMs: RPC_TIMEOUT_MS });
  const out = (text: string) => process.stdout.write(text);
  try {
    if (cmd === 'status') {
      const s = await rpc('status', {});
      out(json ? `${JSON.stringify(s, null, 2)}\n` : statusText(s, st));
    } else if (parsed.show !== undefined) {
      const lease = resolveLease(await rpc('leases', {}), parsed.show);
      if (lease instanceof Error) {
        process.stderr.write(`ts-dhcp leases show: ${escapeText(lease.message)}\n`);
        return 1;
      }
      const d = await rpc('lease', { containerId: lease.containerId, network: lease.network, ifName: lease.ifName });
      out(json ? `${JSON.stringify(d, null, 2)}\n` : leaseDetailText(d, Date.now(), st));
    } else if (parsed.watch) {
      return await watch(parsed, st, () => rpc('leases', {}));
    } else {
      const leases = await rpc('leases', {});
      out(json ? `${JSON.stringify(leases, null, 2)}\n` : leasesTable(leases, Date.now(), st));
    }
    return 0;
  } catch (err) {
    process.stderr.write(`ts-dhcp ${cmd}: ${describe(err)}\n`);
    return 1;
  }
}

/** Redraws the table every interval until interrupted; on a terminal in place, otherwise one frame after another. */
async function watch(a: InspectArgs, st: Style, fetch: () => Promise<LeaseView[]>): Promise<number> {
  const tty = process.stdout.isTTY === true;
  let stopped = false;
  let wake: () => void = () => {};
  const stop = () => {
    stopped = true;
    wake();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  while (!stopped) {
    let body: string;
    try {
      body = leasesTable(await fetch(), Date.now(), st);
    } catch (err) {
      body = `${st.red(describe(err))}\n`;
    }
    const header = st.dim(
      `every ${humanDuration(a.intervalMs)} · ${new Date().toLocaleTimeString()} · ${a.socketPath} · Ctrl-C to stop`,
    );
    // Home + clear to end of screen: no flicker, and the terminal's scrollback is left alone.
    process.stdout.write(tty ? `\x1b[H\x1b[J${header}\n\n${body}` : `${header}\n${body}\n`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, a.intervalMs);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
  return 0;
}
