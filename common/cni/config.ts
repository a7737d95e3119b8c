// The network config on stdin (CNI spec section 1) with the IPAM keys of the reference dhcp plugin plus ts-dhcp's.
// Every bad input is a CniError whose message starts with the field's path, e.g. `ipam.provide[0].option: ...`.
import { isAbsolute } from 'node:path';
import { optionCode, optionName } from '../option-names';
import { AddParams, DEFAULT_SOCKET_PATH } from '../rpc';
import { CniCode, CniError } from './errors';
import { requireSupportedVersion, SupportedVersion } from './version';

/**
 * Option 55 when the config asks for nothing else. The reference plugin's defaults are routers and subnet-mask only
 * (lease.go requestOptionsDefault); a pod also needs DNS (6, 15, 119), routes (121, 33) and the lease times. 121
 * precedes 3 and 33, as RFC 3442 §4 requires of a client that requests them all.
 */
export const DEFAULT_REQUEST_LIST: readonly number[] = [1, 121, 3, 33, 6, 15, 119, 51, 58, 59];

/** Options the DHCP client state machine sets itself; a provided value would corrupt its messages. */
const CLIENT_OWNED_OPTIONS: ReadonlySet<number> = new Set([50, 52, 53, 54, 55]);

const MAX_TIMEOUT_MS = 3_600_000;
const MIN_TIMEOUT_MS = 100;

export type ProvideOption = { code: number; value: string } | { code: number; fromArg: string };

export interface IpamConf {
  type: string;
  daemonSocketPath: string;
  /** Option 55, merged with the defaults (see paramRequestList). */
  paramRequestList: number[];
  provide: ProvideOption[];
  /** Route metric; 0: none. */
  priority: number;
  broadcast?: boolean;
  timeoutMs?: number;
}

export interface NetConf {
  cniVersion: SupportedVersion;
  name: string;
  type: string;
  ipam: IpamConf;
  prevResult?: unknown;
}

/** What DEL needs; DEL reads nothing else, so a config that no longer validates can still release its lease. */
export interface DelConf {
  cniVersion: SupportedVersion;
  name: string;
  daemonSocketPath: string;
  timeoutMs?: number;
}

/** What the config contributes to the daemon's `add` params; the plugin adds the CNI_* parts. */
export type ConfigParams = Omit<AddParams, 'containerId' | 'ifName' | 'netns' | 'args'>;

type Obj = Record<string, unknown>;

function invalid(field: string, what: string): CniError {
  return new CniError(CniCode.INVALID_NETWORK_CONFIG, `${field}: ${what}`);
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function rejectUnknownKeys(o: Obj, field: string, known: readonly string[]): void {
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) {
      throw new CniError(CniCode.UNSUPPORTED_FIELD, `${field}.${key}: unsupported field (value ${JSON.stringify(o[key])})`, `supported keys: ${known.join(', ')}`);
    }
  }
}

// Same rule as libcni's ValidateNetworkName.
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

interface Base {
  raw: Obj;
  cniVersion: SupportedVersion;
  name: string;
}

function parseBase(stdin: Buffer | string): Base {
  const text = typeof stdin === 'string' ? stdin : stdin.toString('utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CniError(CniCode.DECODING_FAILURE, `error parsing the network config on stdin: ${(err as Error).message}`);
  }
  if (!isObject(raw)) throw new CniError(CniCode.DECODING_FAILURE, 'the network config on stdin is not a JSON object');
  if (raw.cniVersion !== undefined && typeof raw.cniVersion !== 'string') throw invalid('cniVersion', 'must be a string');
  const cniVersion = requireSupportedVersion(raw.cniVersion);
  if (typeof raw.name !== 'string' || raw.name === '') throw invalid('name', 'missing network name');
  if (!NETWORK_NAME.test(raw.name)) {
    throw invalid('name', `${JSON.stringify(raw.name)} has invalid characters (allowed: letters, digits, "_", ".", "-"; first a letter or digit)`);
  }
  return { raw, cniVersion, name: raw.name };
}

/** For ADD and CHECK: the whole config, validated. */
export function parseNetConf(stdin: Buffer | string): NetConf {
  const { raw, cniVersion, name } = parseBase(stdin);
  if (typeof raw.type !== 'string' || raw.type === '') throw invalid('type', 'missing plugin type');
  if (!isObject(raw.ipam)) throw invalid('ipam', 'missing: ts-dhcp is an IPAM plugin and reads its settings from "ipam"');
  const conf: NetConf = { cniVersion, name, type: raw.type, ipam: parseIpam(raw.ipam) };
  if (raw.prevResult !== undefined) conf.prevResult = raw.prevResult;
  return conf;
}

/** For DEL: only the keys DEL uses, so that DEL (which must succeed whenever it can) is not failed by the rest. */
export function parseDelConf(stdin: Buffer | string): DelConf {
  const { raw, cniVersion, name } = parseBase(stdin);
  const ipam = isObject(raw.ipam) ? raw.ipam : {};
  const conf: DelConf = { cniVersion, name, daemonSocketPath: socketPath(ipam.daemonSocketPath) };
  if (ipam.timeout !== undefined) conf.timeoutMs = timeoutMs(ipam.timeout);
  return conf;
}

const IPAM_KEYS = ['type', 'daemonSocketPath', 'request', 'provide', 'priority', 'broadcast', 'timeout'] as const;

function parseIpam(o: Obj): IpamConf {
  rejectUnknownKeys(o, 'ipam', IPAM_KEYS);
  if (typeof o.type !== 'string' || o.type === '') throw invalid('ipam.type', 'must be a non-empty string');
  const ipam: IpamConf = {
    type: o.type,
    daemonSocketPath: socketPath(o.daemonSocketPath),
    paramRequestList: parseRequest(o.request),
    provide: parseProvide(o.provide),
    priority: priority(o.priority),
  };
  if (o.broadcast !== undefined) {
    if (typeof o.broadcast !== 'boolean') throw invalid('ipam.broadcast', `must be true or false, not ${JSON.stringify(o.broadcast)}`);
    ipam.broadcast = o.broadcast;
  }
  if (o.timeout !== undefined) ipam.timeoutMs = timeoutMs(o.timeout);
  return ipam;
}

function socketPath(v: unknown): string {
  if (v === undefined) return DEFAULT_SOCKET_PATH;
  if (typeof v !== 'string' || v === '') throw invalid('ipam.daemonSocketPath', 'must be a non-empty string');
  // The runtime's working directory is not ours to rely on.
  if (!isAbsolute(v)) throw invalid('ipam.daemonSocketPath', `${JSON.stringify(v)} must be an absolute path`);
  return v;
}

function priority(v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw invalid('ipam.priority', `must be an integer route metric 0..4294967295, not ${JSON.stringify(v)}`);
  }
  return v;
}

function timeoutMs(v: unknown): number {
  let ms: number | undefined;
  if (typeof v === 'number') ms = v;
  else if (typeof v === 'string') ms = parseGoDurationMs(v);
  if (ms === undefined || !Number.isFinite(ms)) {
    throw invalid('ipam.timeout', `must be a duration like "30s" or "1m30s", or a number of milliseconds, not ${JSON.stringify(v)}`);
  }
  if (ms < MIN_TIMEOUT_MS || ms > MAX_TIMEOUT_MS) throw invalid('ipam.timeout', `${JSON.stringify(v)} is outside 100ms..1h`);
  return Math.round(ms);
}

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 };

/** Go's time.ParseDuration syntax without a sign ("1h2m3.5s", "300ms"); undefined when it is not one. */
export function parseGoDurationMs(s: string): number | undefined {
  if (s === '0') return 0;
  const part = /([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < s.length) {
    part.lastIndex = at;
    const m = part.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    at = part.lastIndex;
  }
  return at > 0 ? total : undefined;
}

/**
 * The reference plugin's rule (lease.go prepareOptions): requested options in config order, then the defaults not
 * already listed, unless any entry says `skipDefault: true` (an entry may carry only that flag). Duplicates are
 * dropped. One fix-up on top: 121 is moved ahead of 3 and 33 if the user listed those first (RFC 3442 §4).
 */
export function paramRequestList(requested: readonly number[], skipDefault: boolean): number[] {
  const list: number[] = [];
  for (const code of skipDefault ? requested : [...requested, ...DEFAULT_REQUEST_LIST]) if (!list.includes(code)) list.push(code);
  const classless = list.indexOf(121);
  const firstRouteOption = list.findIndex((c) => c === 3 || c === 33);
  if (classless > firstRouteOption && firstRouteOption >= 0) {
    list.splice(classless, 1);
    list.splice(firstRouteOption, 0, 121);
  }
  return list;
}

function entries(v: unknown, field: string): Obj[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalid(field, 'must be an array');
  return v.map((e, i) => {
    if (!isObject(e)) throw invalid(`${field}[${i}]`, 'must be an object');
    return e;
  });
}

function code(v: unknown, field: string): number {
  if (typeof v !== 'string' || v === '') throw invalid(field, 'must be a DHCP option name or code, as a string');
  const found = optionCode(v);
  if (!found.ok) throw invalid(field, found.reason);
  return found.code;
}

function parseRequest(v: unknown): number[] {
  const requested: number[] = [];
  let skipDefault = false;
  entries(v, 'ipam.request').forEach((e, i) => {
    const field = `ipam.request[${i}]`;
    rejectUnknownKeys(e, field, ['option', 'skipDefault']);
    if (e.skipDefault !== undefined && typeof e.skipDefault !== 'boolean') throw invalid(`${field}.skipDefault`, 'must be true or false');
    if (e.skipDefault) skipDefault = true;
    if (e.option === undefined && !e.skipDefault) throw invalid(field, 'needs "option" (or "skipDefault": true)');
    if (e.option !== undefined) requested.push(code(e.option, `${field}.option`));
  });
  return paramRequestList(requested, skipDefault);
}

function parseProvide(v: unknown): ProvideOption[] {
  const provided = new Map<number, number>(); // code → index of the entry that provides it
  return entries(v, 'ipam.provide').map((e, i) => {
    const field = `ipam.provide[${i}]`;
    rejectUnknownKeys(e, field, ['option', 'value', 'fromArg']);
    const c = code(e.option, `${field}.option`);
    if (CLIENT_OWNED_OPTIONS.has(c)) {
      throw invalid(`${field}.option`, `${JSON.stringify(e.option)} (option ${c}) is set by the DHCP client itself and cannot be provided`);
    }
    const earlier = provided.get(c);
    if (earlier !== undefined) throw invalid(`${field}.option`, `option ${c} is already provided by ipam.provide[${earlier}]`);
    provided.set(c, i);
    if ((e.value === undefined) === (e.fromArg === undefined)) throw invalid(field, 'needs exactly one of "value" and "fromArg"');
    if (e.fromArg !== undefined) {
      if (typeof e.fromArg !== 'string' || e.fromArg === '') throw invalid(`${field}.fromArg`, 'must be the name of a CNI_ARGS key, e.g. "K8S_POD_NAME"');
      return { code: c, fromArg: e.fromArg };
    }
    if (typeof e.value !== 'string') throw invalid(`${field}.value`, 'must be a string');
    const why = valueProblem(e.value, c);
    if (why) throw invalid(`${field}.value`, why);
    return { code: c, value: e.value };
  });
}

/** DHCP options carry 1..255 bytes (RFC 2132 §2); longer values would need RFC 3396 splitting no server expects. */
function valueProblem(value: string, c: number): string | undefined {
  const bytes = Buffer.byteLength(value);
  if (bytes === 0) return `is empty (option "${optionName(c)}" needs at least 1 byte)`;
  if (bytes > 255) return `is ${bytes} bytes, longer than the 255 a DHCP option holds (option "${optionName(c)}")`;
  return undefined;
}

/** Values for `provide`, with `fromArg` read from CNI_ARGS. */
export function resolveProvide(provide: readonly ProvideOption[], args: Readonly<Record<string, string>>): { code: number; value: string }[] {
  return provide.map((p, i) => {
    if ('value' in p) return { code: p.code, value: p.value };
    const value = args[p.fromArg];
    if (value === undefined) {
      throw new CniError(CniCode.INVALID_ENVIRONMENT_VARIABLES, `ipam.provide[${i}].fromArg: CNI_ARGS has no ${p.fromArg}`, `option "${optionName(p.code)}" takes its value from CNI_ARGS key ${p.fromArg}`);
    }
    const why = valueProblem(value, p.code);
    if (why) throw new CniError(CniCode.INVALID_ENVIRONMENT_VARIABLES, `ipam.provide[${i}].fromArg: CNI_ARGS ${p.fromArg} ${why}`);
    return { code: p.code, value };
  });
}

export function configParams(conf: NetConf, args: Readonly<Record<string, string>>): ConfigParams {
  const params: ConfigParams = {
    network: conf.name,
    paramRequestList: [...conf.ipam.paramRequestList],
    provide: resolveProvide(conf.ipam.provide, args),
  };
  if (conf.ipam.broadcast !== undefined) params.broadcast = conf.ipam.broadcast;
  if (conf.ipam.timeoutMs !== undefined) params.timeoutMs = conf.ipam.timeoutMs;
  return params;
}
