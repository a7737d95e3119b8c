// CNI spec versions: which ones ts-dhcp speaks, which verbs each has, and one pure converter per version from the
// canonical (1.1.0) result. Shapes follow libcni's pkg/types/{020,040,100}.
import { CniCode, CniError } from './errors';
import { CANONICAL_VERSION, Dns, IpConfig, Result, RouteEntry } from './result';

/** Spec 0.3.x/0.4.0 IP entries carry the IP family; 1.0.0 dropped it. */
export interface IpConfig04 extends IpConfig {
  version: '4' | '6';
}
export interface Result04 {
  cniVersion: string;
  ips: IpConfig04[];
  routes?: RouteEntry[];
  dns?: Dns;
}

/** Spec 0.1.0/0.2.0: one address per family under `ip4`, routes inside it with only `dst` and `gw`. */
export interface Result02 {
  cniVersion: string;
  ip4: { ip: string; gateway?: string; routes?: { dst: string; gw?: string }[] };
  /** Always present, as libcni prints it (a Go struct field is never omitted). */
  dns: Dns;
}

export type VersionedResult = Result | Result04 | Result02;

function to02x(version: string): (r: Result) => Result02 {
  return (r) => {
    // libcni's convertTo02x keeps the first address of each family; an IPAM lease has exactly one. The config
    // refuses ipam.ipv6 with these versions (config.ts), so an IPv6 address here is a bug, not a config.
    const first = r.ips[0];
    if (!first)
      throw new CniError(CniCode.INTERNAL, `cannot express a result without addresses in cniVersion ${version}`);
    if (r.ips.some((ip) => ip.address.includes(':')))
      throw new CniError(CniCode.INTERNAL, `cannot express an IPv6 address in cniVersion ${version}`);
    const ip4: Result02['ip4'] = { ip: first.address };
    if (first.gateway) ip4.gateway = first.gateway;
    if (r.routes && r.routes.length > 0)
      ip4.routes = r.routes.map((rt) => (rt.gw === undefined ? { dst: rt.dst } : { dst: rt.dst, gw: rt.gw }));
    return { cniVersion: version, ip4, dns: r.dns ?? {} };
  };
}

function to04x(version: string): (r: Result) => Result04 {
  return (r) => {
    const out: Result04 = {
      cniVersion: version,
      ips: r.ips.map((ip) => ({ version: ip.address.includes(':') ? '6' : '4', ...ip })),
    };
    if (r.routes) out.routes = r.routes;
    if (r.dns) out.dns = r.dns;
    return out;
  };
}

/** 1.0.0 and 1.1.0 results differ only in optional fields (route mtu/advmss/table/scope/priority, interface
 *  socketPath/pciID) that readers of either version ignore when unknown, so 1.0.0 only relabels. */
function relabel(version: string): (r: Result) => Result {
  return (r) => ({ ...r, cniVersion: version });
}

const CONVERTERS = {
  '0.1.0': to02x('0.1.0'),
  '0.2.0': to02x('0.2.0'),
  '0.3.0': to04x('0.3.0'),
  '0.3.1': to04x('0.3.1'),
  '0.4.0': to04x('0.4.0'),
  '1.0.0': relabel('1.0.0'),
  [CANONICAL_VERSION]: (r: Result): Result => r,
} as const satisfies Record<string, (r: Result) => VersionedResult>;

export type SupportedVersion = keyof typeof CONVERTERS;
/** The first version whose result lists addresses of both families (`ips`); 0.1.0/0.2.0 have only `ip4`. */
export const FIRST_DUAL_STACK_VERSION = '0.3.0';
export const SUPPORTED_VERSIONS = Object.keys(CONVERTERS).sort(compareVersions) as SupportedVersion[];
export const LATEST_VERSION = SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1] as SupportedVersion;

/** Numeric comparison of "major.minor.patch"; NaN parts (not a version) compare as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] || 0) - (pb[i] || 0);
    if (d !== 0) return d;
  }
  return 0;
}

function isSupportedVersion(v: string): v is SupportedVersion {
  return Object.prototype.hasOwnProperty.call(CONVERTERS, v);
}

/** The config's cniVersion if ts-dhcp speaks it; a config without one is 0.1.0, as libcni reads it. */
export function requireSupportedVersion(cniVersion: string | undefined): SupportedVersion {
  const v = cniVersion === undefined || cniVersion === '' ? '0.1.0' : cniVersion;
  if (isSupportedVersion(v)) return v;
  const given = cniVersion ? `cniVersion ${JSON.stringify(cniVersion)}` : 'no cniVersion (which means 0.1.0)';
  throw new CniError(
    CniCode.INCOMPATIBLE_CNI_VERSION,
    `incompatible CNI versions: the config has ${given}`,
    `ts-dhcp supports ${SUPPORTED_VERSIONS.join(', ')}`,
  );
}

/** The first spec version with each verb that not every version has (ADD, DEL and VERSION are in all). */
export const VERB_SINCE = { CHECK: '0.4.0', STATUS: '1.1.0', GC: '1.1.0' } as const;

/** libcni's skel answers a verb the config's version predates with code 1 ("config version does not allow X"). */
export function requireVerbSupported(verb: keyof typeof VERB_SINCE, v: SupportedVersion): void {
  const since = VERB_SINCE[verb];
  if (compareVersions(v, since) < 0) {
    throw new CniError(
      CniCode.INCOMPATIBLE_CNI_VERSION,
      `config version does not allow ${verb}: cniVersion ${v} predates ${verb} (${since})`,
    );
  }
}

export function convertResult(result: Result, to: SupportedVersion): VersionedResult {
  return CONVERTERS[to](result);
}

/** VERSION output: the input's cniVersion echoed (SPEC.md "VERSION Success"), else the latest one. */
export function versionInfo(inputCniVersion?: string): { cniVersion: string; supportedVersions: string[] } {
  return { cniVersion: inputCniVersion || LATEST_VERSION, supportedVersions: [...SUPPORTED_VERSIONS] };
}
