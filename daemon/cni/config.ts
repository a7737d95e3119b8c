// The network config on stdin (CNI spec section 1) with the IPAM keys of the reference dhcp plugin plus ts-dhcp's.
// Every bad input is a CniError whose message starts with the field's path, e.g. `ipam.provide[0].option: ...`.
// What the reference plugin accepts is accepted (switching is "change `type` only"): an unknown key, a `provide`
// entry the client cannot send or whose `fromArg` is absent from CNI_ARGS is left out with a warning, which the
// daemon logs once when it creates the attachment. `ipam.strict: true` makes each of those an error instead.
import { isAbsolute } from 'node:path';
import { optionCode, optionName } from '../option-names';
import {
  AddParams,
  DEFAULT_SOCKET_PATH,
  DEFAULT_STATE_DIR,
  MAX_CONFIG_WARNINGS,
  ON_CHANGE,
  OnChange,
} from '../../common/rpc';
import { parseDuration } from '../../common/duration';
import { isIpv4, isIpv4Cidr } from '../dhcp/bytes';
import { CLIENT_OWNED_OPTIONS } from '../dhcp/messages';
import { CONFLICT_DETECTION, ConflictDetection } from '../dhcp/probe';
import { MAX_CLIENT_ID_TEXT_BYTES } from '../dhcp/types';
import { CniCode, CniError } from './errors';
import { DEFAULT_DST, StaticRoute } from './result';
import { requireSupportedVersion, SupportedVersion } from './version';

/**
 * Option 55 when the config asks for nothing else. The reference plugin's defaults are routers and subnet-mask only
 * (lease.go requestOptionsDefault); a pod also needs DNS (6, 15, 119), routes (121, 33), the lease times and the
 * link's MTU (26, applied with ipam.applyMtu). 121 precedes 3 and 33, as RFC 3442 §4 requires of a client that
 * requests them all.
 */
export const DEFAULT_REQUEST_LIST: readonly number[] = [1, 121, 3, 33, 6, 15, 119, 26, 51, 58, 59];

const MAX_TIMEOUT_MS = 3_600_000;
const MIN_TIMEOUT_MS = 100;

/** `at`: the entry's index in ipam.provide, for messages. */
export type ProvideOption = { code: number; value: string; at: number } | { code: number; fromArg: string; at: number };

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
  /** Static routes merged after the server's (upstream plugins issue #640). */
  routes: StaticRoute[];
  /** false: no 0.0.0.0/0 route in the result, whatever the server says. */
  defaultRoute: boolean;
  stateDir: string;
  clientId?: ClientIdConf;
  /** ARP probing of each new address before it is used (RFC 5227); absent: the daemon's default. */
  conflictDetection?: ConflictDetection;
  /** Gratuitous ARP announcements of a newly bound address; absent: the daemon's default (on). */
  announce?: boolean;
  /** ipam.strict: what the reference plugin would ignore is an error instead of a warning. */
  strict: boolean;
  onChange?: OnChange;
  applyMtu?: boolean;
}

/** IPAM key clientId: "legacy" | "pod" | "duid", or {"value": text} / {"fromArg": CNI_ARGS key}. */
export type ClientIdConf = 'legacy' | 'pod' | 'duid' | { value: string } | { fromArg: string };

export interface NetConf {
  cniVersion: SupportedVersion;
  name: string;
  type: string;
  ipam: IpamConf;
  prevResult?: unknown;
  /** What was ignored, one sentence each naming the field (never set with ipam.strict). */
  warnings: string[];
}

/** What DEL needs; DEL reads nothing else, so a config that no longer validates can still release its lease. */
export interface DelConf {
  cniVersion: SupportedVersion;
  name: string;
  daemonSocketPath: string;
  timeoutMs?: number;
  /** Where a DEL the daemon could not take is spooled (common/spool.ts). */
  stateDir: string;
}

/** What GC needs (spec 1.1): the network and the attachments the runtime still considers valid. */
export interface GcConf {
  cniVersion: SupportedVersion;
  name: string;
  daemonSocketPath: string;
  validAttachments: { containerId: string; ifName: string }[];
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

/** Collects what a lenient parse ignores; with `strict` each of those is thrown instead. */
class Leniency {
  readonly warnings: string[] = [];
  constructor(readonly strict: boolean) {}

  /** `err` when strict; otherwise its message plus what was done instead becomes a warning. */
  ignore(err: CniError, instead: string): void {
    if (this.strict) throw err;
    this.warnings.push(`${err.msg}; ${instead}`);
  }
}

/** Unknown keys: rejected with ipam.strict, ignored otherwise (Go's encoding/json, which the reference uses, ignores
 *  them, and real configs carry keys of other tools). */
function unknownKeys(o: Obj, field: string, known: readonly string[], lenient: Leniency): void {
  for (const key of Object.keys(o)) {
    if (known.includes(key)) continue;
    let value = JSON.stringify(o[key]) ?? 'undefined';
    if (value.length > 64) value = `${value.slice(0, 61)}...`;
    lenient.ignore(
      new CniError(
        CniCode.UNSUPPORTED_FIELD,
        `${field}.${key}: unsupported field (value ${value})`,
        `supported keys: ${known.join(', ')}`,
      ),
      'ignored',
    );
  }
}

/** Keys of ts-dhcp's own objects (clientId): no reference config carries them, so a typo there is always an error. */
function rejectUnknownKeys(o: Obj, field: string, known: readonly string[]): void {
  unknownKeys(o, field, known, new Leniency(true));
}

// Same rule as libcni's ValidateNetworkName, and a length fit for a name kept with every lease.
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
export const MAX_NETWORK_NAME = 1024;

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
    throw new CniError(
      CniCode.DECODING_FAILURE,
      `error parsing the network config on stdin: ${(err as Error).message}`,
    );
  }
  if (!isObject(raw)) throw new CniError(CniCode.DECODING_FAILURE, 'the network config on stdin is not a JSON object');
  if (raw.cniVersion !== undefined && typeof raw.cniVersion !== 'string')
    throw invalid('cniVersion', 'must be a string');
  const cniVersion = requireSupportedVersion(raw.cniVersion);
  if (typeof raw.name !== 'string' || raw.name === '') throw invalid('name', 'missing network name');
  if (!NETWORK_NAME.test(raw.name)) {
    throw invalid(
      'name',
      `${JSON.stringify(raw.name)} has invalid characters (allowed: letters, digits, "_", ".", "-"; first a letter or digit)`,
    );
  }
  if (raw.name.length > MAX_NETWORK_NAME) throw invalid('name', `is longer than ${MAX_NETWORK_NAME} characters`);
  return { raw, cniVersion, name: raw.name };
}

/** For ADD and CHECK: the whole config, validated. */
export function parseNetConf(stdin: Buffer | string): NetConf {
  const { raw, cniVersion, name } = parseBase(stdin);
  if (typeof raw.type !== 'string' || raw.type === '') throw invalid('type', 'missing plugin type');
  if (!isObject(raw.ipam))
    throw invalid('ipam', 'missing: ts-dhcp is an IPAM plugin and reads its settings from "ipam"');
  const lenient = new Leniency(raw.ipam.strict === true);
  const conf: NetConf = {
    cniVersion,
    name,
    type: raw.type,
    ipam: parseIpam(raw.ipam, lenient),
    warnings: lenient.warnings,
  };
  if (raw.prevResult !== undefined) conf.prevResult = raw.prevResult;
  return conf;
}

/** For DEL: only the keys DEL uses, so that DEL (which must succeed whenever it can) is not failed by the rest. */
export function parseDelConf(stdin: Buffer | string): DelConf {
  const { raw, cniVersion, name } = parseBase(stdin);
  const ipam = isObject(raw.ipam) ? raw.ipam : {};
  const conf: DelConf = {
    cniVersion,
    name,
    daemonSocketPath: socketPath(ipam.daemonSocketPath),
    stateDir: stateDir(ipam.stateDir),
  };
  if (ipam.timeout !== undefined) conf.timeoutMs = timeoutMs(ipam.timeout);
  return conf;
}

/** For STATUS: only where the daemon is; the rest of the config does not decide whether ADD can be served. */
export function parseStatusConf(stdin: Buffer | string): Pick<DelConf, 'cniVersion' | 'name' | 'daemonSocketPath'> {
  const { raw, cniVersion, name } = parseBase(stdin);
  const ipam = isObject(raw.ipam) ? raw.ipam : {};
  return { cniVersion, name, daemonSocketPath: socketPath(ipam.daemonSocketPath) };
}

/** For GC: libcni sends the still-valid attachments as both `cni.dev/valid-attachments` and `cni.dev/attachments`
 *  (the spec's name); either is accepted, the spec's first. Absent means none is valid (SPEC.md GC). */
export function parseGcConf(stdin: Buffer | string): GcConf {
  const { raw, cniVersion, name } = parseBase(stdin);
  const ipam = isObject(raw.ipam) ? raw.ipam : {};
  const field = raw['cni.dev/attachments'] !== undefined ? 'cni.dev/attachments' : 'cni.dev/valid-attachments';
  const validAttachments = entries(raw[field], field).map((e, i) => {
    const { containerID, ifname } = e;
    if (typeof containerID !== 'string' || containerID === '')
      throw invalid(`${field}[${i}].containerID`, `must be a non-empty string, not ${JSON.stringify(containerID)}`);
    if (typeof ifname !== 'string' || ifname === '')
      throw invalid(`${field}[${i}].ifname`, `must be a non-empty string, not ${JSON.stringify(ifname)}`);
    return { containerId: containerID, ifName: ifname };
  });
  return { cniVersion, name, daemonSocketPath: socketPath(ipam.daemonSocketPath), validAttachments };
}

const IPAM_KEYS = [
  'type',
  'daemonSocketPath',
  'request',
  'provide',
  'priority',
  'broadcast',
  'timeout',
  'routes',
  'defaultRoute',
  'stateDir',
  'clientId',
  'strict',
  'conflictDetection',
  'announce',
  'onChange',
  'applyMtu',
] as const;

function parseIpam(o: Obj, lenient: Leniency): IpamConf {
  if (o.strict !== undefined && typeof o.strict !== 'boolean')
    throw invalid('ipam.strict', `must be true or false, not ${JSON.stringify(o.strict)}`);
  unknownKeys(o, 'ipam', IPAM_KEYS, lenient);
  if (typeof o.type !== 'string' || o.type === '') throw invalid('ipam.type', 'must be a non-empty string');
  const ipam: IpamConf = {
    type: o.type,
    daemonSocketPath: socketPath(o.daemonSocketPath),
    paramRequestList: parseRequest(o.request, lenient),
    provide: parseProvide(o.provide, lenient),
    priority: priority(o.priority),
    routes: parseRoutes(o.routes, lenient),
    defaultRoute: true,
    stateDir: stateDir(o.stateDir),
    strict: lenient.strict,
  };
  if (o.defaultRoute !== undefined) {
    if (typeof o.defaultRoute !== 'boolean')
      throw invalid('ipam.defaultRoute', `must be true or false, not ${JSON.stringify(o.defaultRoute)}`);
    ipam.defaultRoute = o.defaultRoute;
  }
  const staticDefault = ipam.routes.findIndex((r) => r.dst === DEFAULT_DST);
  if (!ipam.defaultRoute && staticDefault >= 0) {
    throw invalid(`ipam.routes[${staticDefault}].dst`, `${DEFAULT_DST} contradicts "defaultRoute": false`);
  }
  if (o.broadcast !== undefined) {
    if (typeof o.broadcast !== 'boolean')
      throw invalid('ipam.broadcast', `must be true or false, not ${JSON.stringify(o.broadcast)}`);
    ipam.broadcast = o.broadcast;
  }
  if (o.timeout !== undefined) ipam.timeoutMs = timeoutMs(o.timeout);
  if (o.clientId !== undefined) ipam.clientId = clientIdConf(o.clientId);
  if (o.conflictDetection !== undefined) {
    const mode = CONFLICT_DETECTION.find((m) => m === o.conflictDetection);
    if (!mode)
      throw invalid(
        'ipam.conflictDetection',
        `must be ${CONFLICT_DETECTION.map((m) => `"${m}"`).join(', ')}, not ${JSON.stringify(o.conflictDetection)}`,
      );
    ipam.conflictDetection = mode;
  }
  if (o.announce !== undefined) {
    if (typeof o.announce !== 'boolean')
      throw invalid('ipam.announce', `must be true or false, not ${JSON.stringify(o.announce)}`);
    ipam.announce = o.announce;
  }
  if (o.onChange !== undefined) {
    if (!ON_CHANGE.includes(o.onChange as OnChange))
      throw invalid(
        'ipam.onChange',
        `must be ${ON_CHANGE.map((v) => JSON.stringify(v)).join(' or ')}, not ${JSON.stringify(o.onChange)}`,
      );
    ipam.onChange = o.onChange as OnChange;
  }
  if (o.applyMtu !== undefined) {
    if (typeof o.applyMtu !== 'boolean')
      throw invalid('ipam.applyMtu', `must be true or false, not ${JSON.stringify(o.applyMtu)}`);
    ipam.applyMtu = o.applyMtu;
  }
  return ipam;
}

function clientIdConf(v: unknown): ClientIdConf {
  if (v === 'legacy' || v === 'pod' || v === 'duid') return v;
  const how = 'must be "legacy", "pod", "duid", {"value": "<text>"} or {"fromArg": "<CNI_ARGS key>"}';
  if (!isObject(v)) throw invalid('ipam.clientId', `${how}, not ${JSON.stringify(v)}`);
  rejectUnknownKeys(v, 'ipam.clientId', ['value', 'fromArg']);
  if ((v.value === undefined) === (v.fromArg === undefined))
    throw invalid('ipam.clientId', 'needs exactly one of "value" and "fromArg"');
  if (v.fromArg !== undefined) {
    if (typeof v.fromArg !== 'string' || v.fromArg === '')
      throw invalid('ipam.clientId.fromArg', 'must be the name of a CNI_ARGS key');
    return { fromArg: v.fromArg };
  }
  if (typeof v.value !== 'string') throw invalid('ipam.clientId.value', 'must be a string');
  const why = clientIdProblem(v.value);
  if (why) throw invalid('ipam.clientId.value', why);
  return { value: v.value };
}

function clientIdProblem(text: string): string | undefined {
  const bytes = Buffer.byteLength(text);
  if (bytes === 0) return 'is empty';
  if (bytes > MAX_CLIENT_ID_TEXT_BYTES)
    return `is ${bytes} bytes; option 61 holds a type byte and at most ${MAX_CLIENT_ID_TEXT_BYTES} bytes of identifier`;
  return undefined;
}

/** The clientId for the daemon, with fromArg read from CNI_ARGS. */
export function resolveClientId(
  c: ClientIdConf,
  args: Readonly<Record<string, string>>,
): NonNullable<AddParams['clientId']> {
  if (typeof c === 'string' || 'value' in c) return c;
  const value = args[c.fromArg];
  if (value === undefined)
    throw new CniError(CniCode.INVALID_ENVIRONMENT_VARIABLES, `ipam.clientId.fromArg: CNI_ARGS has no ${c.fromArg}`);
  const why = clientIdProblem(value);
  if (why)
    throw new CniError(CniCode.INVALID_ENVIRONMENT_VARIABLES, `ipam.clientId.fromArg: CNI_ARGS ${c.fromArg} ${why}`);
  return { value };
}

function socketPath(v: unknown): string {
  if (v === undefined) return DEFAULT_SOCKET_PATH;
  if (typeof v !== 'string' || v === '') throw invalid('ipam.daemonSocketPath', 'must be a non-empty string');
  // The runtime's working directory is not ours to rely on.
  if (!isAbsolute(v)) throw invalid('ipam.daemonSocketPath', `${JSON.stringify(v)} must be an absolute path`);
  return v;
}

function stateDir(v: unknown): string {
  if (v === undefined) return DEFAULT_STATE_DIR;
  if (typeof v !== 'string' || !isAbsolute(v))
    throw invalid('ipam.stateDir', `must be an absolute path, not ${JSON.stringify(v)}`);
  return v;
}

/** More static routes than this is not a pod's configuration. */
export const MAX_ROUTES = 256;

function parseRoutes(v: unknown, lenient: Leniency): StaticRoute[] {
  const list = entries(v, 'ipam.routes');
  if (list.length > MAX_ROUTES) throw invalid('ipam.routes', `${list.length} routes, more than ${MAX_ROUTES}`);
  return list.map((e, i) => {
    const field = `ipam.routes[${i}]`;
    unknownKeys(e, field, ['dst', 'gw'], lenient);
    if (!isIpv4Cidr(e.dst)) {
      throw invalid(`${field}.dst`, `must be an IPv4 CIDR like "10.0.0.0/8", not ${JSON.stringify(e.dst)}`);
    }
    const route: StaticRoute = { dst: e.dst };
    if (e.gw !== undefined) {
      if (!isIpv4(e.gw)) throw invalid(`${field}.gw`, `must be an IPv4 address, not ${JSON.stringify(e.gw)}`);
      route.gw = e.gw;
    }
    return route;
  });
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
  else if (typeof v === 'string') {
    const parsed = parseDuration(v);
    if (!(parsed instanceof Error)) ms = parsed;
  }
  if (ms === undefined || !Number.isFinite(ms)) {
    throw invalid(
      'ipam.timeout',
      `must be a duration like "30s" or "1m30s", or a number of milliseconds, not ${JSON.stringify(v)}`,
    );
  }
  if (ms < MIN_TIMEOUT_MS || ms > MAX_TIMEOUT_MS)
    throw invalid('ipam.timeout', `${JSON.stringify(v)} is outside 100ms..1h`);
  return Math.round(ms);
}

/**
 * The reference plugin's rule (lease.go prepareOptions): requested options in config order, then the defaults not
 * already listed, unless any entry says `skipDefault: true` (an entry may carry only that flag). Duplicates are
 * dropped. One fix-up on top: 121 is moved ahead of 3 and 33 if the user listed those first (RFC 3442 §4).
 */
export function paramRequestList(requested: readonly number[], skipDefault: boolean): number[] {
  const list: number[] = [];
  for (const code of skipDefault ? requested : [...requested, ...DEFAULT_REQUEST_LIST])
    if (!list.includes(code)) list.push(code);
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

function parseRequest(v: unknown, lenient: Leniency): number[] {
  const requested: number[] = [];
  let skipDefault = false;
  entries(v, 'ipam.request').forEach((e, i) => {
    const field = `ipam.request[${i}]`;
    unknownKeys(e, field, ['option', 'skipDefault'], lenient);
    if (e.skipDefault !== undefined && typeof e.skipDefault !== 'boolean')
      throw invalid(`${field}.skipDefault`, 'must be true or false');
    if (e.skipDefault) skipDefault = true;
    if (e.option === undefined && !e.skipDefault) throw invalid(field, 'needs "option" (or "skipDefault": true)');
    if (e.option !== undefined) requested.push(code(e.option, `${field}.option`));
  });
  return paramRequestList(requested, skipDefault);
}

/** Entries keep their index (`at`) so that later messages name the entry; duplicates stay, the last one resolved
 *  wins (resolveProvide), as the reference's option update does. */
function parseProvide(v: unknown, lenient: Leniency): ProvideOption[] {
  const provided = new Map<number, number>(); // code → index of the entry that provides it
  const out: ProvideOption[] = [];
  entries(v, 'ipam.provide').forEach((e, i) => {
    const field = `ipam.provide[${i}]`;
    unknownKeys(e, field, ['option', 'value', 'fromArg'], lenient);
    const c = code(e.option, `${field}.option`);
    if (CLIENT_OWNED_OPTIONS.has(c)) {
      const err = invalid(
        `${field}.option`,
        `${JSON.stringify(e.option)} (option ${c}) is set by the DHCP client itself and cannot be provided`,
      );
      lenient.ignore(err, 'entry ignored');
      return;
    }
    const earlier = provided.get(c);
    if (earlier !== undefined)
      lenient.ignore(
        invalid(`${field}.option`, `option ${c} is already provided by ipam.provide[${earlier}]`),
        'the later entry wins',
      );
    provided.set(c, i);
    if ((e.value === undefined) === (e.fromArg === undefined))
      throw invalid(field, 'needs exactly one of "value" and "fromArg"');
    if (e.fromArg !== undefined) {
      if (typeof e.fromArg !== 'string' || e.fromArg === '')
        throw invalid(`${field}.fromArg`, 'must be the name of a CNI_ARGS key, e.g. "K8S_POD_NAME"');
      out.push({ code: c, fromArg: e.fromArg, at: i });
      return;
    }
    if (typeof e.value !== 'string') throw invalid(`${field}.value`, 'must be a string');
    const why = valueProblem(e.value, c);
    if (why) throw invalid(`${field}.value`, why);
    out.push({ code: c, value: e.value, at: i });
  });
  return out;
}

/** DHCP options carry 1..255 bytes (RFC 2132 §2); longer values would need RFC 3396 splitting no server expects. */
function valueProblem(value: string, c: number): string | undefined {
  const bytes = Buffer.byteLength(value);
  if (bytes === 0) return `is empty (option "${optionName(c)}" needs at least 1 byte)`;
  if (bytes > 255) return `is ${bytes} bytes, longer than the 255 a DHCP option holds (option "${optionName(c)}")`;
  return undefined;
}

export interface ResolvedProvide {
  provide: { code: number; value: string }[];
  warnings: string[];
}

/**
 * Values for `provide`, with `fromArg` read from CNI_ARGS. A key absent from CNI_ARGS leaves its option out with a
 * warning, as the reference does (runtimes other than kubelet pass no K8S_* args); with `strict` it is code 4.
 * For a code provided twice the last value wins, in the position of the first.
 */
export function resolveProvide(
  provide: readonly ProvideOption[],
  args: Readonly<Record<string, string>>,
  strict = false,
): ResolvedProvide {
  const lenient = new Leniency(strict);
  const values = new Map<number, string>(); // Map.set on an existing key keeps its position
  for (const p of provide) {
    if ('value' in p) {
      values.set(p.code, p.value);
      continue;
    }
    const field = `ipam.provide[${p.at}].fromArg`;
    const value = args[p.fromArg];
    if (value === undefined) {
      const err = new CniError(
        CniCode.INVALID_ENVIRONMENT_VARIABLES,
        `${field}: CNI_ARGS has no ${p.fromArg}`,
        `option "${optionName(p.code)}" takes its value from CNI_ARGS key ${p.fromArg}`,
      );
      lenient.ignore(err, `option "${optionName(p.code)}" not sent`);
      continue;
    }
    const why = valueProblem(value, p.code);
    if (why) throw new CniError(CniCode.INVALID_ENVIRONMENT_VARIABLES, `${field}: CNI_ARGS ${p.fromArg} ${why}`);
    values.set(p.code, value);
  }
  return { provide: [...values].map(([code, value]) => ({ code, value })), warnings: lenient.warnings };
}

export function configParams(conf: NetConf, args: Readonly<Record<string, string>>): ConfigParams {
  const resolved = resolveProvide(conf.ipam.provide, args, conf.ipam.strict);
  const params: ConfigParams = {
    network: conf.name,
    paramRequestList: [...conf.ipam.paramRequestList],
    provide: resolved.provide,
  };
  const warnings = [...conf.warnings, ...resolved.warnings];
  if (warnings.length > MAX_CONFIG_WARNINGS)
    warnings.splice(MAX_CONFIG_WARNINGS - 1, Infinity, `and ${warnings.length - MAX_CONFIG_WARNINGS + 1} more`);
  if (warnings.length > 0) params.warnings = warnings;
  if (conf.ipam.broadcast !== undefined) params.broadcast = conf.ipam.broadcast;
  if (conf.ipam.timeoutMs !== undefined) params.timeoutMs = conf.ipam.timeoutMs;
  if (conf.ipam.clientId !== undefined) params.clientId = resolveClientId(conf.ipam.clientId, args);
  if (conf.ipam.conflictDetection !== undefined) params.conflictDetection = conf.ipam.conflictDetection;
  if (conf.ipam.announce !== undefined) params.announce = conf.ipam.announce;
  if (conf.ipam.onChange !== undefined) params.onChange = conf.ipam.onChange;
  if (conf.ipam.applyMtu !== undefined) params.applyMtu = conf.ipam.applyMtu;
  // The daemon rebuilds the result's routes from these when it restores a link (common/rpc.ts AddParams.routing).
  params.routing = {
    priority: conf.ipam.priority,
    routes: conf.ipam.routes.map((r) => ({ ...r })),
    defaultRoute: conf.ipam.defaultRoute,
  };
  return params;
}
