// Daemon command line. The reference daemon's Go-style flags are accepted verbatim (single dash, "-flag value" or
// "-flag=value") so ts-dhcp can replace `dhcp daemon` in existing units; GNU long options are the documented form.
import { DEFAULT_SOCKET_PATH, DEFAULT_STATE_DIR } from '../common/rpc';
import { DEFAULT_MIN_LEASE_TIME_S } from './dhcp/sanitise';
import { parseDuration } from '../common/duration';

export interface DaemonOptions {
  socketPath: string;
  pidfile?: string;
  hostPrefix: string;
  broadcast: boolean;
  /** First retransmission interval of an exchange (RFC 2131 §4.1 starts at 4 s). Reference flag -timeout. */
  retransmitMs: number;
  /** Cap of the exponential retransmission backoff. Reference flag -resendmax. */
  resendMaxMs: number;
  /** How long a background acquisition keeps trying before it gives up; 0 = forever. Reference flag -resendtimeout. */
  resendTimeoutMs: number;
  /** How long ADD waits for a lease before answering "try again later" (CNI error 11). */
  addTimeoutMs: number;
  stateDir: string;
  /** Release every lease on SIGTERM/SIGINT (decommissioning a node); by default pods keep their addresses. */
  releaseOnExit: boolean;
  /** How often every attachment's netns and interface are checked for having vanished without a DEL. */
  checkIntervalMs: number;
  logLevel: string;
  /** HOST:PORT to serve Prometheus metrics on; absent = no metrics (prom-client is not even loaded). */
  metricsAddress?: string;
  /** Shorter leases from a server count as this long (daemon/dhcp/sanitise.ts). */
  minLeaseTimeMs: number;
  /** Besides root, members of this group (name or gid) may use the socket (file mode 0660, SO_PEERCRED). */
  socketGroup?: string;
  /** An RPC connection with no request in progress is closed after this long. */
  idleTimeoutMs: number;
}

type Kind = 'string' | 'duration' | 'bool';
interface FlagSpec {
  key: keyof DaemonOptions;
  kind: Kind;
  help: string;
}

/** GNU name → spec; each also answers to the reference daemon's Go name in REFERENCE_NAMES. */
const FLAGS: Record<string, FlagSpec> = {
  'socket-path': { key: 'socketPath', kind: 'string', help: `unix socket to serve (default ${DEFAULT_SOCKET_PATH})` },
  pidfile: { key: 'pidfile', kind: 'string', help: 'write the daemon PID to this file' },
  'host-prefix': { key: 'hostPrefix', kind: 'string', help: 'prefix for netns paths (daemon in a container)' },
  broadcast: { key: 'broadcast', kind: 'bool', help: 'set the BOOTP broadcast flag by default' },
  timeout: { key: 'retransmitMs', kind: 'duration', help: 'first retransmission interval (default 4s)' },
  'resend-max': { key: 'resendMaxMs', kind: 'duration', help: 'longest retransmission interval (default 62s)' },
  'resend-timeout': {
    key: 'resendTimeoutMs',
    kind: 'duration',
    help: 'give up a background acquisition after this long, 0 = never (default 0)',
  },
  'add-timeout': { key: 'addTimeoutMs', kind: 'duration', help: 'ADD deadline before CNI error 11 (default 30s)' },
  'state-dir': { key: 'stateDir', kind: 'string', help: 'lease records (default /var/lib/ts-dhcp)' },
  'release-on-exit': {
    key: 'releaseOnExit',
    kind: 'bool',
    help: 'release every lease when stopping (node decommissioning)',
  },
  'check-interval': {
    key: 'checkIntervalMs',
    kind: 'duration',
    help: 'sweep for vanished pod netns besides inotify on their directories (default 60s)',
  },
  'log-level': { key: 'logLevel', kind: 'string', help: 'fatal|error|warn|info|debug|trace (default info)' },
  'socket-group': {
    key: 'socketGroup',
    kind: 'string',
    help: 'besides root, this group may use the socket (default: root only)',
  },
  'idle-timeout': {
    key: 'idleTimeoutMs',
    kind: 'duration',
    help: 'close an RPC connection idle this long (default 30s)',
  },
  'min-lease-time': {
    key: 'minLeaseTimeMs',
    kind: 'duration',
    help: 'treat shorter leases as this long, at least 1s (default 60s)',
  },
  'metrics-address': {
    key: 'metricsAddress',
    kind: 'string',
    help: 'serve Prometheus metrics on HOST:PORT /metrics (default off)',
  },
};

const REFERENCE_NAMES: Record<string, string> = {
  socketpath: 'socket-path',
  pidfile: 'pidfile',
  hostprefix: 'host-prefix',
  broadcast: 'broadcast',
  timeout: 'timeout',
  resendmax: 'resend-max',
  resendtimeout: 'resend-timeout',
};

export function defaultOptions(): DaemonOptions {
  return {
    socketPath: DEFAULT_SOCKET_PATH,
    hostPrefix: '',
    broadcast: false,
    retransmitMs: 4000,
    resendMaxMs: 62_000,
    resendTimeoutMs: 0,
    addTimeoutMs: 30_000,
    stateDir: DEFAULT_STATE_DIR,
    releaseOnExit: false,
    checkIntervalMs: 60_000,
    logLevel: 'info',
    minLeaseTimeMs: DEFAULT_MIN_LEASE_TIME_S * 1000,
    idleTimeoutMs: 30_000,
  };
}

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Parses argv (after "daemon"). Returns the options or an Error whose message names the bad argument. */
export function parseDaemonArgs(argv: string[]): DaemonOptions | Error {
  const opts = defaultOptions();
  const set = opts as unknown as Record<string, unknown>;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const m = /^(--?)([a-z][a-z-]*)(?:=(.*))?$/.exec(arg);
    if (!m) return new Error(`unexpected argument ${JSON.stringify(arg)}`);
    const [, dashes, name, inline] = m as unknown as [string, string, string, string | undefined];
    const gnu = dashes === '--' ? name : (REFERENCE_NAMES[name] ?? name);
    const spec = FLAGS[gnu];
    if (!spec) return new Error(`unknown flag ${dashes}${name} (see "ts-dhcp daemon --help")`);
    let value = inline;
    if (spec.kind === 'bool') {
      if (value === undefined) value = 'true';
      if (value !== 'true' && value !== 'false')
        return new Error(`${dashes}${name} takes true or false, not ${JSON.stringify(value)}`);
      set[spec.key] = value === 'true';
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) return new Error(`${dashes}${name} needs a value`);
    }
    if (spec.kind === 'duration') {
      const ms = parseDuration(value);
      if (ms instanceof Error) return new Error(`${dashes}${name}: ${ms.message}`);
      set[spec.key] = ms;
    } else {
      if (value === '') return new Error(`${dashes}${name} needs a non-empty value`);
      set[spec.key] = value;
    }
  }
  if (!LOG_LEVELS.has(opts.logLevel)) return new Error(`--log-level: unknown level ${JSON.stringify(opts.logLevel)}`);
  if (opts.retransmitMs < 100) return new Error('--timeout must be at least 100ms');
  if (opts.resendMaxMs < opts.retransmitMs) return new Error('--resend-max must not be shorter than --timeout');
  if (opts.addTimeoutMs < 100) return new Error('--add-timeout must be at least 100ms');
  if (opts.idleTimeoutMs < 100) return new Error('--idle-timeout must be at least 100ms');
  if (opts.minLeaseTimeMs < 1000) return new Error('--min-lease-time must be at least 1s');
  if (opts.checkIntervalMs < 100) return new Error('--check-interval must be at least 100ms');
  if (opts.metricsAddress !== undefined && !/^(\[[^\]]+\]|[^:[\]]*):\d{1,5}$/.test(opts.metricsAddress)) {
    return new Error(`--metrics-address: ${JSON.stringify(opts.metricsAddress)} is not HOST:PORT`);
  }
  return opts;
}

export function daemonUsage(): string {
  const lines = Object.entries(FLAGS).map(([gnu, spec]) => {
    const ref = Object.keys(REFERENCE_NAMES).find((k) => REFERENCE_NAMES[k] === gnu);
    const names = `--${gnu}${spec.kind === 'bool' ? '' : ' VALUE'}${ref ? `, -${ref}` : ''}`;
    return `  ${names.padEnd(36)} ${spec.help}`;
  });
  return `Usage: ts-dhcp daemon [flags]\n\nFlags (reference dhcp daemon names also accepted):\n${lines.join('\n')}\n`;
}
