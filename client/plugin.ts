// The CNI plugin: a function of its I/O (env, stdin, stdout, stderr) returning the exit code. The daemon does the
// DHCP work; this side validates, asks the daemon over its socket, and formats the answer for the runtime.
import { resolve as resolvePath } from 'node:path';
import type { Writable } from 'node:stream';
import { parseCniArgs } from '../daemon/cni/args';
import { configParams, parseDelConf, parseGcConf, parseNetConf, parseStatusConf, NetConf } from '../daemon/cni/config';
import { readEnv, CniEnv } from '../daemon/cni/env';
import { CniCode, CniError, toCniErrorJson } from '../daemon/cni/errors';
import { buildResult } from '../daemon/cni/result';
import { convertResult, LATEST_VERSION, requireVerbSupported, versionInfo } from '../daemon/cni/version';
import type { CheckResult, LeaseFacts } from '../common/rpc';
import type { call } from './rpc-client';

export interface PluginIo {
  env: Record<string, string | undefined>;
  stdin: Buffer | string;
  stdout: Writable;
  stderr: Writable;
}

export interface PluginDeps {
  call?: typeof call;
}

/** The daemon's default ADD deadline; the RPC waits a little longer so the daemon's own answer wins the race. */
const DAEMON_ADD_TIMEOUT_MS = 30_000;
const RPC_MARGIN_MS = 5_000;

export function rpcTimeoutMs(configuredTimeoutMs: number | undefined): number {
  return (configuredTimeoutMs ?? DAEMON_ADD_TIMEOUT_MS) + RPC_MARGIN_MS;
}

export async function runPlugin(io: PluginIo, deps: PluginDeps = {}): Promise<number> {
  // Loaded on first use: VERSION needs no socket, and only a DEL the daemon could not take writes the spool.
  const rpc: typeof call = (...a) => (deps.call ?? (require('./rpc-client') as typeof import('./rpc-client')).call)(...a);
  const declared = declaredVersion(io.stdin);
  try {
    const env = readEnv(io.env);
    switch (env.verb) {
      case 'VERSION':
        write(io.stdout, versionInfo(declared));
        return 0;
      case 'ADD':
        await add(env, parseNetConf(io.stdin), io.stdout, rpc);
        return 0;
      case 'CHECK':
        await check(env, parseNetConf(io.stdin), rpc);
        return 0;
      case 'DEL':
        await del(env, io.stdin, rpc);
        return 0;
      case 'STATUS':
        await status(io.stdin, rpc);
        return 0;
      case 'GC':
        await gc(io.stdin, rpc);
        return 0;
    }
  } catch (err) {
    write(io.stdout, toCniErrorJson(err, declared ?? LATEST_VERSION));
    if (!(err instanceof CniError)) io.stderr.write(`ts-dhcp: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

async function add(env: CniEnv, conf: NetConf, stdout: Writable, rpc: typeof call): Promise<void> {
  const args = parseCniArgs(env.args);
  const params = {
    containerId: env.containerId,
    ifName: env.ifName,
    // The daemon runs with its own working directory.
    netns: resolvePath(env.netns),
    args,
    ...configParams(conf, args),
  };
  const { facts } = await rpc(conf.ipam.daemonSocketPath, 'add', params, { timeoutMs: rpcTimeoutMs(conf.ipam.timeoutMs) });
  const { priority, routes, defaultRoute } = conf.ipam;
  write(stdout, convertResult(buildResult(facts, { priority, routes, defaultRoute }), conf.cniVersion));
}

async function check(env: CniEnv, conf: NetConf, rpc: typeof call): Promise<void> {
  requireVerbSupported('CHECK', conf.cniVersion);
  if (conf.prevResult === undefined) throw new CniError(CniCode.INVALID_NETWORK_CONFIG, 'prevResult: missing; CHECK needs the result of the preceding ADD');
  const expected = prevResultIps(conf.prevResult);
  const params = { containerId: env.containerId, network: conf.name, ifName: env.ifName, netns: resolvePath(env.netns) };
  // The daemon only reads (its lease, the interface): CHECK never acquires or sends anything.
  const found = await rpc(conf.ipam.daemonSocketPath, 'check', params, { timeoutMs: rpcTimeoutMs(conf.ipam.timeoutMs) });
  const difference = compareWithPrevResult(expected, found.facts) ?? compareWithInterface(found, env);
  if (difference) throw new CniError(CniCode.LEASE_MISMATCH, `CHECK: ${difference}`);
}

/**
 * Best effort and idempotent (SPEC.md DEL): an attachment the daemon does not know succeeds (released: false); so
 * does a daemon that cannot be reached, once the release is spooled for the daemon's next start.
 */
async function del(env: CniEnv, stdin: Buffer | string, rpc: typeof call): Promise<void> {
  const conf = parseDelConf(stdin);
  const attachment = { containerId: env.containerId, network: conf.name, ifName: env.ifName };
  try {
    await rpc(conf.daemonSocketPath, 'del', attachment, { timeoutMs: rpcTimeoutMs(conf.timeoutMs) });
  } catch (err) {
    if (!(err instanceof CniError) || !UNREACHABLE.has(err.code)) throw err;
    try {
      await (require('../common/spool') as typeof import('../common/spool')).writeSpool(conf.stateDir, attachment);
    } catch (spoolErr) {
      throw new CniError(CniCode.IO_FAILURE, `${err.msg}; and the release could not be remembered in ${conf.stateDir}: ${(spoolErr as Error).message}`, err.details);
    }
  }
}

/** What the RPC client reports when the request never reached a daemon able to serve it. */
const UNREACHABLE: ReadonlySet<number> = new Set([CniCode.TRY_AGAIN_LATER, CniCode.IO_FAILURE]);
/** STATUS is a readiness probe: a daemon slower than this is not ready. */
const STATUS_TIMEOUT_MS = 5_000;

/** Spec 1.1 STATUS: ready when the daemon answers; 50 (cannot serve ADD) naming the socket otherwise. */
async function status(stdin: Buffer | string, rpc: typeof call): Promise<void> {
  const conf = parseStatusConf(stdin);
  requireVerbSupported('STATUS', conf.cniVersion);
  try {
    await rpc(conf.daemonSocketPath, 'status', {}, { timeoutMs: STATUS_TIMEOUT_MS });
  } catch (err) {
    const why = err instanceof CniError ? err.msg : String(err);
    throw new CniError(CniCode.PLUGIN_NOT_AVAILABLE, `ts-dhcp daemon not available at ${conf.daemonSocketPath}: ${why}`, err instanceof CniError ? err.details : undefined);
  }
}

/** Spec 1.1 GC: the daemon releases every lease of this network whose attachment is not listed as valid. */
async function gc(stdin: Buffer | string, rpc: typeof call): Promise<void> {
  const conf = parseGcConf(stdin);
  requireVerbSupported('GC', conf.cniVersion);
  const { errors } = await rpc(conf.daemonSocketPath, 'gc', { network: conf.name, validAttachments: conf.validAttachments }, { timeoutMs: rpcTimeoutMs(undefined) });
  if (errors.length > 0) throw new CniError(CniCode.TRY_AGAIN_LATER, `GC of network ${conf.name}: ${errors.length} release(s) failed`, errors.join('; '));
}

interface PrevIp {
  address: string; // CIDR
  gateway?: string;
}

/** The IPv4 entries of prevResult.ips, in any result version (0.3.x/0.4.0 add `version`, chained plugins `interface`). */
function prevResultIps(prevResult: unknown): PrevIp[] {
  const ips = (prevResult as { ips?: unknown } | null)?.ips;
  if (typeof prevResult !== 'object' || prevResult === null || !Array.isArray(ips)) {
    throw new CniError(CniCode.INVALID_NETWORK_CONFIG, 'prevResult.ips: missing; CHECK needs the addresses the preceding ADD returned');
  }
  return ips.flatMap((ip, i) => {
    const { address, gateway } = (ip ?? {}) as { address?: unknown; gateway?: unknown };
    if (typeof address !== 'string') throw new CniError(CniCode.INVALID_NETWORK_CONFIG, `prevResult.ips[${i}].address: must be a CIDR string`);
    if (address.includes(':')) return []; // IPv6 entries belong to another IPAM
    const entry: PrevIp = { address };
    if (typeof gateway === 'string') entry.gateway = gateway;
    return [entry];
  });
}

/** What differs between prevResult and the lease, in words; undefined when the lease is what ADD returned. */
function compareWithPrevResult(expected: readonly PrevIp[], facts: LeaseFacts): string | undefined {
  const leased = `${facts.address}/${facts.prefixLength}`;
  if (expected.length === 0) return `prevResult lists no IPv4 address, the lease has ${leased}`;
  const match = expected.find((ip) => ip.address === leased);
  if (!match) return `the lease has ${leased}, prevResult has ${expected.map((ip) => ip.address).join(', ')}`;
  if (match.gateway !== undefined && match.gateway !== facts.gateway) {
    return `gateway of ${leased}: the lease has ${facts.gateway ?? 'none'}, prevResult has ${match.gateway}`;
  }
  return undefined;
}

/** The lease's address must be configured on CNI_IFNAME in the netns, with the lease's prefix. */
function compareWithInterface(found: CheckResult, env: CniEnv): string | undefined {
  const leased = `${found.facts.address}/${found.facts.prefixLength}`;
  const onLink = found.interfaceAddresses.map((a) => `${a.address}/${a.prefixLength}`);
  if (onLink.includes(leased)) return undefined;
  const has = onLink.length > 0 ? `it has ${onLink.join(', ')}` : 'it has no IPv4 address';
  return `address ${leased} is not configured on ${env.ifName} in ${env.netns} (${has})`;
}

/** The config's cniVersion, read leniently: errors are reported in it whenever the input says what it is. */
function declaredVersion(stdin: Buffer | string): string | undefined {
  try {
    const v = (JSON.parse(typeof stdin === 'string' ? stdin : stdin.toString('utf8')) as { cniVersion?: unknown }).cniVersion;
    return typeof v === 'string' && v !== '' ? v : undefined;
  } catch {
    return undefined;
  }
}

function write(out: Writable, value: unknown): void {
  out.write(`${JSON.stringify(value)}\n`);
}
