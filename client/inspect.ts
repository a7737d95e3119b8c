// `ts-dhcp leases` and `ts-dhcp status`: what the daemon holds, for operators.
import { DEFAULT_SOCKET_PATH, LeaseView, StatusResult } from '../common/rpc';
import { call } from './rpc-client';

const RPC_TIMEOUT_MS = 5000;

function parseArgs(args: string[]): { json: boolean; socketPath: string } | Error {
  let json = false;
  let socketPath = DEFAULT_SOCKET_PATH;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--json') json = true;
    else if (a === '--socket-path' || a === '-socketpath') {
      const v = args[++i];
      if (!v) return new Error(`${a} needs a value`);
      socketPath = v;
    } else if (a.startsWith('--socket-path=')) socketPath = a.slice('--socket-path='.length);
    else return new Error(`unknown argument ${JSON.stringify(a)}`);
  }
  return { json, socketPath };
}

/** "3m12s", "in 3m12s", "5s ago": human times for the table. */
export function humanDelta(ms: number): string {
  const past = ms < 0;
  let s = Math.round(Math.abs(ms) / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const text = h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
  return past ? `${text} ago` : `in ${text}`;
}

function pod(l: LeaseView): string {
  const ns = l.args.K8S_POD_NAMESPACE;
  const name = l.args.K8S_POD_NAME;
  if (ns && name) return `${ns}/${name}`;
  return l.containerId.length > 16 ? l.containerId.slice(0, 12) : l.containerId;
}

export function leasesTable(leases: LeaseView[], nowMs: number): string {
  const head = ['POD', 'NETWORK', 'IFACE', 'ADDRESS', 'SERVER', 'STATE', 'RENEWS', 'EXPIRES', 'LAST ERROR'];
  const rows = leases.map((l) => [
    pod(l),
    l.network,
    l.ifName,
    l.address ? `${l.address}/${l.prefixLength}` : '-',
    l.serverId ?? '-',
    l.state,
    l.t1At ? humanDelta(Date.parse(l.t1At) - nowMs) : '-',
    l.expiresAt ? humanDelta(Date.parse(l.expiresAt) - nowMs) : '-',
    l.lastError ?? '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}

export async function runInspect(cmd: 'leases' | 'status', args: string[]): Promise<number> {
  const parsed = parseArgs(args);
  if (parsed instanceof Error) {
    process.stderr.write(`ts-dhcp ${cmd}: ${parsed.message}\n`);
    return 2;
  }
  try {
    if (cmd === 'leases') {
      const leases = await call(parsed.socketPath, 'leases', {}, { timeoutMs: RPC_TIMEOUT_MS });
      process.stdout.write(parsed.json ? `${JSON.stringify(leases, null, 2)}\n` : leasesTable(leases, Date.now()));
    } else {
      const s: StatusResult = await call(parsed.socketPath, 'status', {}, { timeoutMs: RPC_TIMEOUT_MS });
      process.stdout.write(
        parsed.json
          ? `${JSON.stringify(s, null, 2)}\n`
          : `version ${s.version}, pid ${s.pid}, up ${humanDelta(s.uptimeS * 1000).slice(3)}, socket ${s.socketPath}\n` +
              `leases: ${Object.entries(s.leases).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}\n`,
      );
    }
    return 0;
  } catch (err) {
    process.stderr.write(`ts-dhcp ${cmd}: ${(err as Error).message}\n`);
    return 1;
  }
}
