// CNI spec versions: which ones ts-dhcp speaks, and one pure converter per version from the canonical result.
// Adding a version is adding a converter: 0.2.0/0.1.0 need an `ip4: {ip, gateway, routes}` one; 1.1.0 becomes the
// canonical shape and 1.0.0's converter only relabels.
import { CniCode, CniError } from './errors';
import { CANONICAL_VERSION, IpConfig, Result, RouteEntry, Dns } from './result';

/** Spec 0.3.x/0.4.0 IP entries carry the IP family; 1.0.0 dropped it. */
export interface IpConfig04 extends IpConfig {
  version: '4';
}
export interface Result04 {
  cniVersion: string;
  ips: IpConfig04[];
  routes?: RouteEntry[];
  dns?: Dns;
}

function to04x(version: string): (r: Result) => Result04 {
  return (r) => {
    const out: Result04 = { cniVersion: version, ips: r.ips.map((ip) => ({ version: '4', ...ip })) };
    if (r.routes) out.routes = r.routes;
    if (r.dns) out.dns = r.dns;
    return out;
  };
}

const CONVERTERS = {
  '0.3.0': to04x('0.3.0'),
  '0.3.1': to04x('0.3.1'),
  '0.4.0': to04x('0.4.0'),
  [CANONICAL_VERSION]: (r: Result): Result => r,
} as const satisfies Record<string, (r: Result) => object>;

export type SupportedVersion = keyof typeof CONVERTERS;
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
  throw new CniError(CniCode.INCOMPATIBLE_CNI_VERSION, `incompatible CNI versions: the config has ${given}`, `ts-dhcp supports ${SUPPORTED_VERSIONS.join(', ')}`);
}

/** CHECK exists since spec 0.4.0; libcni's skel answers older configs with code 1, so does ts-dhcp. */
export function requireCheckSupported(v: SupportedVersion): void {
  if (compareVersions(v, '0.4.0') < 0) {
    throw new CniError(CniCode.INCOMPATIBLE_CNI_VERSION, `config version does not allow CHECK: cniVersion ${v} predates CHECK (0.4.0)`);
  }
}

export function convertResult(result: Result, to: SupportedVersion): Result | Result04 {
  return CONVERTERS[to](result);
}

/** VERSION output: the input's cniVersion echoed (SPEC.md "VERSION Success"), else the latest one. */
export function versionInfo(inputCniVersion?: string): { cniVersion: string; supportedVersions: string[] } {
  return { cniVersion: inputCniVersion || LATEST_VERSION, supportedVersions: [...SUPPORTED_VERSIONS] };
}
