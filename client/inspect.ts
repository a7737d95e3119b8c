// `ts-dhcp leases`, `ts-dhcp leases show ID` and `ts-dhcp status`: what the daemon holds, for operators. The
// arguments, the calls and the watch loop; the text is client/lease-text.ts.
import { DEFAULT_SOCKET_PATH, LeaseView } from '../common/rpc';
import { CniError } from '../daemon/cni/errors';
import { parseDuration } from '../common/duration';
import { familiesOf, leaseDetailText, leasesTable, resolveLease, statusText } from './lease-text';
import { call } from './rpc-client';
import { PLAIN, Style, escapeText, humanDuration, styleFor } from './terminal';

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
      const all = await rpc('leases', {});
      const lease = resolveLease(all, parsed.show);
      if (lease instanceof Error) {
        process.stderr.write(`ts-dhcp leases show: ${escapeText(lease.message)}\n`);
        return 1;
      }
      // A dual-stack attachment has a lease of each family: both are shown, IPv4 first (--json: an array of two).
      const { containerId, network, ifName } = lease;
      const details = [];
      for (const family of familiesOf(all, lease))
        details.push(await rpc('lease', { containerId, network, ifName, family }));
      if (json) out(`${JSON.stringify(details.length === 1 ? details[0] : details, null, 2)}\n`);
      else out(details.map((d) => leaseDetailText(d, Date.now(), st)).join('\n'));
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
