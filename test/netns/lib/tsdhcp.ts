// ts-dhcp itself in a test network: the daemon as a child process of the test (in the node namespace, as on a
// node), the native plugin as `ts-dhcp install` installs it, exec'd by the real macvlan plugin, and a direct RPC
// client for assertions.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { call } from '../../../client/rpc-client';
import type { Attachment, LeaseDetail, MethodName, Methods } from '../../../common/rpc';
import { DAEMON_NODE_FLAGS } from '../../../client/install';
import { cniAnswer, cniInvocation, type CniAnswer } from '../../helpers/cni-invocation';
import { installedPlugin } from '../../helpers/native-plugin';
import { runCni, type CniOutcome, type CniRunOptions } from './cni';
import { exited, waitFor } from './proc';
import type { Topology } from './topology';

export const REPO = path.resolve(__dirname, '../../../..');
export const TS_DHCP_BIN = path.join(REPO, 'bin/ts-dhcp');

export interface TsDaemon {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly socketPath: string;
  readonly stateDir: string;
  readonly logFile: string;
  /** JSON log lines so far. */
  logs(): Record<string, unknown>[];
  rpc<M extends MethodName>(method: M, params: Methods[M]['params']): Promise<Methods[M]['result']>;
  /** One CNI invocation straight on the socket (method `cni`), as the plugin forwards it. */
  cni(env: Record<string, string>, config: object, cwd?: string): Promise<CniAnswer>;
  /** The lease once a transition whose "why" ends with `why` is noted. A transition is noted last in its step (after
   *  the link changes and the record's fsync): what a test reads after this, the daemon has done. */
  noted(lease: Attachment, why: string, timeoutMs?: number): Promise<LeaseDetail>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface TsDaemonOptions {
  /** Extra daemon flags. */
  args?: string[];
  socketPath?: string;
  stateDir?: string;
  /** Node flags after the shipped ones (DAEMON_NODE_FLAGS). */
  nodeFlags?: string[];
}

export async function startTsDaemon(topo: Topology, opts: TsDaemonOptions = {}): Promise<TsDaemon> {
  const dir = topo.tempDir('tsd');
  const socketPath = opts.socketPath ?? path.join(dir, 'ts-dhcp.sock');
  const stateDir = opts.stateDir ?? path.join(dir, 'state');
  const logFile = path.join(dir, 'daemon.log');
  // Renewal tests use leases of a few seconds from Kea and dhcpd: below the daemon's default minimum (60 s).
  const args = [
    ...DAEMON_NODE_FLAGS,
    ...(opts.nodeFlags ?? []),
    TS_DHCP_BIN,
    'daemon',
    '--socket-path',
    socketPath,
    '--state-dir',
    stateDir,
    '--log-level',
    'debug',
    '--min-lease-time',
    '1s',
    ...(opts.args ?? []),
  ];
  const child = topo.spawn(topo.nodeNs, process.execPath, args, { logFile });
  await waitFor(
    `ts-dhcp daemon socket ${socketPath}`,
    () => {
      if (child.exitCode !== null)
        throw new Error(`ts-dhcp daemon exited with ${child.exitCode}: ${fs.readFileSync(logFile, 'utf8')}`);
      return fs.existsSync(socketPath);
    },
    10_000,
  );
  const rpc: TsDaemon['rpc'] = (method, params) => call(socketPath, method, params, { timeoutMs: 40_000 });
  return {
    child,
    pid: child.pid as number,
    socketPath,
    stateDir,
    logFile,
    logs: () =>
      fs
        .readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    rpc,
    cni: async (env, config, cwd) =>
      cniAnswer(await call(socketPath, 'cni', cniInvocation(env, config, cwd), { timeoutMs: 40_000 })),
    noted: (lease, why, timeoutMs = 5000) =>
      waitFor(
        `a transition of ${lease.containerId} "… ${why}"`,
        async () => {
          const l = await rpc('lease', lease);
          return l.transitions.some((x) => x.why.endsWith(why)) && l;
        },
        timeoutMs,
        50,
      ),
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, signal);
      await exited(child);
    },
  };
}

/** A CNI bin dir holding the installed ts-dhcp plugin (as the runtime would find it) first in CNI_PATH. */
export function tsDhcpCniPath(): string[] {
  return [path.dirname(installedPlugin()), '/usr/lib/cni'];
}

export function macvlanConfig(
  topo: Topology,
  daemon: TsDaemon,
  ipam: Record<string, unknown> = {},
  cniVersion = '1.0.0',
): object {
  return {
    cniVersion,
    name: 'lan',
    type: 'macvlan',
    master: topo.nodeNic,
    mode: 'bridge',
    ipam: { type: 'ts-dhcp', daemonSocketPath: daemon.socketPath, ...ipam },
  };
}

/** CNI through the real macvlan plugin with ipam.type = ts-dhcp. */
export function cniMacvlan(topo: Topology, opts: Omit<CniRunOptions, 'cniPath'>): Promise<CniOutcome> {
  return runCni(topo, { ...opts, cniPath: tsDhcpCniPath() });
}

/** The ts-dhcp plugin alone, as the IPAM plugin the macvlan plugin execs. */
export function cniIpam(topo: Topology, opts: Omit<CniRunOptions, 'cniPath' | 'pluginPath'>): Promise<CniOutcome> {
  return runCni(topo, { ...opts, pluginPath: installedPlugin(), cniPath: tsDhcpCniPath() });
}
