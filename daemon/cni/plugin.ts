// The CNI plugin's logic, run inside the daemon: the thin client (native/plugin) forwards the invocation as it came
// (CNI_* environment, stdin bytes, working directory) and prints what this returns. Every CNI rule — config
// validation, CNI_ARGS, versions, results, CHECK's comparison, error codes — is here, once.
import { resolve as resolvePath } from 'node:path';
import { parseCniArgs } from './args';
import { configParams } from './conf-params';
import { parseDelConf, parseGcConf, parseNetConf, parseStatusConf, NetConf } from './config';
import { readEnv, CniEnv, Verb } from './env';
import { cniErrorOf, CniCode, CniError, toCniErrorJson } from './errors';
import { DaemonError } from '../errors';
import { buildResult } from './result';
import { convertResult, LATEST_VERSION, requireVerbSupported, versionInfo } from './version';
import type { Attachment, CniInvocation, CniOutput } from '../../common/rpc';
import type { AddParams, AddResult, CheckParams, CheckResult, DelResult, GcParams, GcResult } from '../registry-api';

/** What the plugin asks of the daemon: the registry, behind the same validation as its RPC params. */
export interface LeaseService {
  add(p: AddParams): Promise<AddResult>;
  del(a: Attachment): Promise<DelResult>;
  check(p: CheckParams): Promise<CheckResult>;
  gc(p: GcParams): Promise<GcResult>;
}

/** The invocation with its bytes decoded: the env values, the config and the caller's working directory. */
export interface Invocation {
  env: Record<string, string | undefined>;
  stdin: Buffer;
  cwd: string;
}

/** The CNI_* variables the client forwards (CNI_PATH is not used: ts-dhcp delegates to no plugin). */
const FORWARDED_ENV = ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS'] as const;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The `cni` RPC params (every value base64, so bytes arrive as they were sent) decoded, or the CNI error that says
 * which part is not text. The config is not decoded here: runCni reports its own encoding errors in context.
 */
export function decodeInvocation(p: CniInvocation): Invocation | CniError {
  const env: Record<string, string> = {};
  for (const name of FORWARDED_ENV) {
    const b64 = p.env[name];
    if (b64 === undefined) continue;
    const text = utf8(Buffer.from(b64, 'base64'));
    if (text === undefined) return new CniError(CniCode.INVALID_ENVIRONMENT_VARIABLES, `${name} is not valid UTF-8`);
    env[name] = text;
  }
  const cwd = utf8(Buffer.from(p.cwd, 'base64'));
  if (cwd === undefined)
    return new CniError(
      CniCode.INVALID_ENVIRONMENT_VARIABLES,
      'the working directory of the plugin is not valid UTF-8',
    );
  return { env, stdin: Buffer.from(p.stdin, 'base64'), cwd };
}

function utf8(b: Buffer): string | undefined {
  try {
    return UTF8.decode(b);
  } catch {
    return undefined;
  }
}

export interface CniHooks {
  /** A failure that is neither a CNI nor a daemon error: a bug. */
  onBug(err: unknown): void;
  /** Each invocation once answered: its verb ("unknown" when CNI_COMMAND names none) and CNI code (0: success). */
  onAnswer?(verb: Verb | 'unknown', code: number): void;
}

/** Runs one invocation: what the plugin prints on stdout and its exit code. */
export async function runCni(p: CniInvocation, leases: LeaseService, hooks: CniHooks): Promise<CniOutput> {
  let verb: Verb | 'unknown' = 'unknown';
  const answer = (stdout: string, code: number): CniOutput => {
    hooks.onAnswer?.(verb, code);
    return { stdout, exitCode: code === 0 ? 0 : 1 };
  };
  const failed = (err: CniError, cniVersion: string) => answer(line(toCniErrorJson(err, cniVersion)), err.code);
  const inv = decodeInvocation(p);
  if (inv instanceof CniError) return failed(inv, LATEST_VERSION);
  const declared = declaredVersion(inv.stdin);
  try {
    const env = readEnv(inv.env);
    verb = env.verb;
    if (env.verb === 'VERSION') return answer(line(versionInfo(declared)), 0);
    const stdin = configText(inv.stdin);
    // The daemon runs with its own working directory.
    const netns = env.netns === '' ? '' : resolvePath(inv.cwd, env.netns);
    switch (env.verb) {
      case 'ADD':
        return answer(line(await add(env, netns, parseNetConf(stdin), leases)), 0);
      case 'CHECK':
        await check(env, netns, parseNetConf(stdin), leases);
        break;
      case 'DEL': {
        const conf = parseDelConf(stdin);
        await leases.del({ containerId: env.containerId, network: conf.name, ifName: env.ifName });
        break;
      }
      case 'STATUS':
        // The request reached this daemon, so it is ready; the config still has to allow STATUS.
        requireVerbSupported('STATUS', parseStatusConf(stdin).cniVersion);
        break;
      case 'GC':
        await gc(stdin, leases);
        break;
    }
    return answer('', 0);
  } catch (err) {
    const cni = err instanceof DaemonError ? cniErrorOf(err) : err;
    if (cni instanceof CniError) return failed(cni, declared ?? LATEST_VERSION);
    hooks.onBug(err);
    const json = toCniErrorJson(err, declared ?? LATEST_VERSION);
    return answer(line(json), json.code);
  }
}

/** The config as text; bytes that are not UTF-8 are a decoding failure (code 6) saying where. */
function configText(stdin: Buffer): string {
  const text = utf8(stdin);
  if (text !== undefined) return text;
  const at = firstInvalidUtf8(stdin);
  throw new CniError(
    CniCode.DECODING_FAILURE,
    `error parsing the network config on stdin: not valid UTF-8 (byte ${at})`,
  );
}

function firstInvalidUtf8(b: Buffer): number {
  let lo = 0;
  let hi = b.length;
  // The longest valid prefix, found by bisection on the decoder (a cut inside a sequence is invalid too).
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (utf8(b.subarray(0, mid)) !== undefined) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

async function add(env: CniEnv, netns: string, conf: NetConf, leases: LeaseService): Promise<unknown> {
  const args = parseCniArgs(env.args);
  const { facts, facts6 } = await leases.add({
    containerId: env.containerId,
    ifName: env.ifName,
    netns,
    args,
    ...configParams(conf, args),
  });
  const { priority, routes, defaultRoute } = conf.ipam;
  return convertResult(buildResult(facts, { priority, routes, defaultRoute }, facts6), conf.cniVersion);
}

async function check(env: CniEnv, netns: string, conf: NetConf, leases: LeaseService): Promise<void> {
  requireVerbSupported('CHECK', conf.cniVersion);
  if (conf.prevResult === undefined)
    throw new CniError(
      CniCode.INVALID_NETWORK_CONFIG,
      'prevResult: missing; CHECK needs the result of the preceding ADD',
    );
  const expected = prevResultIps(conf.prevResult);
  // The daemon only reads (its leases, the interface): CHECK never acquires or sends anything.
  const found = await leases.check({ containerId: env.containerId, network: conf.name, ifName: env.ifName, netns });
  const where = `${env.ifName} in ${netns}`;
  const v4 = expected.filter((ip) => !ip.address.includes(':'));
  const v6 = expected.filter((ip) => ip.address.includes(':'));
  const difference =
    (found.facts &&
      (compareWithPrevResult(v4, found.facts, 'IPv4') ??
        compareWithInterface(found.facts, found.interfaceAddresses, where, 'IPv4'))) ||
    (found.facts6 &&
      (compareWithPrevResult(v6, found.facts6, 'IPv6') ??
        compareWithInterface(found.facts6, found.interfaceAddresses6 ?? [], where, 'IPv6')));
  if (difference) throw new CniError(CniCode.LEASE_MISMATCH, `CHECK: ${difference}`);
}

/** Spec 1.1 GC: the daemon releases every lease of this network whose attachment is not listed as valid. */
async function gc(stdin: string, leases: LeaseService): Promise<void> {
  const conf = parseGcConf(stdin);
  requireVerbSupported('GC', conf.cniVersion);
  const { errors } = await leases.gc({ network: conf.name, validAttachments: conf.validAttachments });
  if (errors.length > 0)
    throw new CniError(
      CniCode.TRY_AGAIN_LATER,
      `GC of network ${conf.name}: ${errors.length} release(s) failed`,
      errors.join('; '),
    );
}

interface PrevIp {
  address: string; // CIDR
  gateway?: string;
}

/** The entries of prevResult.ips, in any result version (0.3.x/0.4.0 add `version`, chained plugins `interface`). */
function prevResultIps(prevResult: unknown): PrevIp[] {
  const ips = (prevResult as { ips?: unknown } | null)?.ips;
  if (typeof prevResult !== 'object' || prevResult === null || !Array.isArray(ips)) {
    throw new CniError(
      CniCode.INVALID_NETWORK_CONFIG,
      'prevResult.ips: missing; CHECK needs the addresses the preceding ADD returned',
    );
  }
  return ips.flatMap((ip, i) => {
    const { address, gateway } = (ip ?? {}) as { address?: unknown; gateway?: unknown };
    if (typeof address !== 'string')
      throw new CniError(CniCode.INVALID_NETWORK_CONFIG, `prevResult.ips[${i}].address: must be a CIDR string`);
    const entry: PrevIp = { address };
    if (typeof gateway === 'string') entry.gateway = gateway;
    return [entry];
  });
}

interface Leased {
  address: string;
  prefixLength: number;
  gateway?: string;
}

/** What differs between prevResult's entries of one family and the lease, in words; undefined when the lease is
 *  what ADD returned. */
function compareWithPrevResult(expected: readonly PrevIp[], facts: Leased, family: string): string | undefined {
  const leased = `${facts.address}/${facts.prefixLength}`;
  if (expected.length === 0) return `prevResult lists no ${family} address, the lease has ${leased}`;
  const match = expected.find((ip) => ip.address === leased);
  if (!match) return `the lease has ${leased}, prevResult has ${expected.map((ip) => ip.address).join(', ')}`;
  if (match.gateway !== undefined && match.gateway !== facts.gateway) {
    return `gateway of ${leased}: the lease has ${facts.gateway ?? 'none'}, prevResult has ${match.gateway}`;
  }
  return undefined;
}

/** The lease's address must be configured on CNI_IFNAME in the netns, with the lease's prefix. */
function compareWithInterface(
  facts: Leased,
  onInterface: readonly { address: string; prefixLength: number }[],
  where: string,
  family: string,
): string | undefined {
  const leased = `${facts.address}/${facts.prefixLength}`;
  const onLink = onInterface.map((a) => `${a.address}/${a.prefixLength}`);
  if (onLink.includes(leased)) return undefined;
  const has = onLink.length > 0 ? `it has ${onLink.join(', ')}` : `it has no ${family} address`;
  return `address ${leased} is not configured on ${where} (${has})`;
}

/** The config's cniVersion, read leniently: errors are reported in it whenever the input says what it is. */
function declaredVersion(stdin: Buffer): string | undefined {
  try {
    const v = (JSON.parse(stdin.toString('utf8')) as { cniVersion?: unknown }).cniVersion;
    return typeof v === 'string' && v !== '' ? v : undefined;
  } catch {
    return undefined;
  }
}

function line(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}
