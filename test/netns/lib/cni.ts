// Runs a CNI plugin in the node namespace exactly as a container runtime does: env vars, config on stdin, result
// (or error) as JSON on stdout.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hasExited } from './proc';
import type { Topology } from './topology';

export const CNI_BIN_DIR = '/usr/lib/cni';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS' | 'VERSION';

export interface CniRunOptions {
  command: CniCommand;
  containerId?: string;
  /** Pod whose namespace becomes CNI_NETNS; or give netnsPath directly. */
  podIndex?: number;
  netnsPath?: string;
  /** CNI_IFNAME. Default 'eth1'. */
  ifName?: string;
  /** The network config, written to stdin as JSON. */
  config: object;
  /** CNI_ARGS, e.g. 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0'. */
  args?: string;
  /** Default /usr/lib/cni/macvlan. */
  pluginPath?: string;
  /** CNI_PATH: directories searched for the IPAM plugin named by ipam.type. Default [/usr/lib/cni]. */
  cniPath?: string[];
  /** Extra environment (the runtime passes little else; PATH is always set). */
  env?: Record<string, string>;
  /** Kill the plugin (by PID) after this long. Default 60 s. */
  timeoutMs?: number;
}

/** The parts of a CNI result or error object tests look at (spec 1.x shapes; older versions have other keys). */
export interface CniJson {
  cniVersion?: string;
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
  routes?: { dst: string; gw?: string }[];
  dns?: { nameservers?: string[]; domain?: string; search?: string[] };
  code?: number;
  msg?: string;
  details?: string;
  [key: string]: unknown;
}

export interface CniOutcome {
  /** Exit code; null when killed by a signal (timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed, when it is JSON. */
  json: CniJson | undefined;
  durationMs: number;
}

export function runCni(topo: Topology, opts: CniRunOptions): Promise<CniOutcome> {
  const netns = opts.netnsPath ?? (opts.podIndex !== undefined ? topo.netnsPath(opts.podIndex) : undefined);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CNI_COMMAND: opts.command,
    CNI_IFNAME: opts.ifName ?? 'eth1',
    CNI_PATH: (opts.cniPath ?? [CNI_BIN_DIR]).join(':'),
    ...(opts.containerId !== undefined && { CNI_CONTAINERID: opts.containerId }),
    ...(netns !== undefined && { CNI_NETNS: netns }),
    ...(opts.args !== undefined && { CNI_ARGS: opts.args }),
    ...opts.env,
  };
  const started = Date.now();
  const child = topo.spawn(topo.nodeNs, opts.pluginPath ?? path.join(CNI_BIN_DIR, 'macvlan'), [], { env });
  const timer = setTimeout(() => {
    if (!hasExited(child)) void topo.stop(child, 1000, 'SIGKILL');
  }, opts.timeoutMs ?? 60_000);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin?.end(JSON.stringify(opts.config));
  return new Promise((resolve, reject) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      let json: CniJson | undefined;
      try {
        json = stdout.trim() ? (JSON.parse(stdout) as CniJson) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json, durationMs: Date.now() - started });
    });
  });
}

const pluginDirs: string[] = [];
let pluginDirHook = false;

/**
 * A fresh CNI bin dir holding a symlink per entry (name → executable), e.g. pluginDir({ 'ts-dhcp': 'bin/ts-dhcp' }),
 * to put first in cniPath. Removed when the process exits.
 */
export function pluginDir(entries: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cni-bin-'));
  if (!pluginDirHook) {
    pluginDirHook = true;
    process.on('exit', () => {
      for (const d of pluginDirs) fs.rmSync(d, { recursive: true, force: true });
    });
  }
  pluginDirs.push(dir);
  for (const [name, target] of Object.entries(entries)) fs.symlinkSync(path.resolve(target), path.join(dir, name));
  return dir;
}
