// The reference IPAM daemon (Go `dhcp daemon` from containernetworking-plugins), run in the node namespace as it
// would run on a node: the side-by-side baseline for tests and the benchmark.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { hasExited, waitFor } from './proc';
import type { Topology } from './topology';

export const REFERENCE_DHCP = '/usr/lib/cni/dhcp';

export interface ReferenceDaemonOptions {
  /** Namespace to run in. Default topo.nodeNs. */
  ns?: string;
  /** Extra daemon flags, e.g. ['-timeout', '5s', '-broadcast']. */
  args?: string[];
  binary?: string;
}

export interface ReferenceDaemon {
  readonly pid: number;
  readonly socketPath: string;
  /** The `ipam` section of a CNI config that points the reference plugin at this daemon. */
  readonly ipam: { type: 'dhcp'; daemonSocketPath: string };
  log(): string;
  stop(): Promise<void>;
}

function connectable(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(socketPath);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export async function startReferenceDaemon(
  topo: Topology,
  opts: ReferenceDaemonOptions = {},
): Promise<ReferenceDaemon> {
  const dir = topo.tempDir('refdhcp'); // the Go daemon does not create its socket's directory
  const socketPath = path.join(dir, 'dhcp.sock');
  const logFile = path.join(dir, 'dhcp.log');
  const args = ['daemon', '-socketpath', socketPath, ...(opts.args ?? [])];
  const child = topo.spawn(opts.ns ?? topo.nodeNs, opts.binary ?? REFERENCE_DHCP, args, { logFile });
  const log = (): string => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  await waitFor(
    `reference dhcp daemon socket ${socketPath}`,
    () => {
      if (hasExited(child))
        throw new Error(`reference dhcp daemon exited (${child.exitCode ?? child.signalCode}):\n${log()}`);
      return fs.existsSync(socketPath) && connectable(socketPath);
    },
    10_000,
  );
  return {
    pid: child.pid as number,
    socketPath,
    ipam: { type: 'dhcp', daemonSocketPath: socketPath },
    log,
    stop: () => topo.stop(child),
  };
}
