// The network config on stdin (CNI spec section 1) with the IPAM keys of the reference dhcp plugin plus ts-dhcp's.
// Every bad input is a CniError whose message starts with the field's path, e.g. `ipam.provide[0].option: ...`.
// What the reference plugin accepts is accepted (switching is "change `type` only"): an unknown key, a `provide`
// entry the client cannot send or whose `fromArg` is absent from CNI_ARGS is left out with a warning, which the
// daemon logs once when it creates the attachment. `ipam.strict: true` makes each of those an error instead.
// The keys' checks are modules of their own: conf-check.ts (paths in messages, leniency), conf-keys.ts (scalar keys
// and routes), conf-options.ts (request, provide), conf-client-id.ts; conf-params.ts adds CNI_ARGS for the daemon.
import { ON_CHANGE, OnChange } from '../registry-api';
import { CONFLICT_DETECTION, ConflictDetection } from '../dhcp/probe';
import { ClientIdConf, clientIdConf } from './conf-client-id';
import { Leniency, Obj, entries, invalid, isObject, unknownKeys } from './conf-check';
import { parseRoutes, priority, socketPath, stateDir, timeoutMs } from './conf-keys';
import { ProvideOption, parseProvide, parseRequest } from './conf-options';
import { ifNameProblem } from './env';
import { CniCode, CniError } from './errors';
import { DEFAULT_DST, StaticRoute } from './result';
import { FIRST_DUAL_STACK_VERSION, compareVersions, requireSupportedVersion, SupportedVersion } from './version';

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
  /** ipam.ipv4: a DHCPv4 lease (default true). */
  ipv4: boolean;
  /** ipam.ipv6: a DHCPv6 IA_NA address (RFC 8415) on the same interface (default false). */
  ipv6: boolean;
}

export interface NetConf {
  cniVersion: SupportedVersion;
  name: string;
  type: string;
  ipam: IpamConf;
  prevResult?: unknown;
  /** The main plugin's `master` (macvlan, ipvlan), when it names an interface: not ts-dhcp's key, only read. */
  master?: string;
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
  if (conf.ipam.ipv6 && compareVersions(cniVersion, FIRST_DUAL_STACK_VERSION) < 0) {
    throw new CniError(
      CniCode.INCOMPATIBLE_CNI_VERSION,
      `ipam.ipv6: cniVersion ${cniVersion} cannot carry an IPv6 address (its result has one ip4 entry); ` +
        `use cniVersion ${FIRST_DUAL_STACK_VERSION} or later`,
    );
  }
  if (raw.prevResult !== undefined) conf.prevResult = raw.prevResult;
  if (typeof raw.master === 'string' && ifNameProblem(raw.master) === undefined) conf.master = raw.master;
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
  'ipv4',
  'ipv6',
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
    ipv4: family(o.ipv4, 'ipam.ipv4', true),
    ipv6: family(o.ipv6, 'ipam.ipv6', false),
  };
  if (!ipam.ipv4 && !ipam.ipv6) throw invalid('ipam.ipv6', 'and ipam.ipv4 are both false: no address to acquire');
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

/** ipam.ipv4 / ipam.ipv6: a boolean, `dflt` when absent. */
function family(v: unknown, field: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw invalid(field, `must be true or false, not ${JSON.stringify(v)}`);
  return v;
}
