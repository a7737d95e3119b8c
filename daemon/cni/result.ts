// The CNI result of an IPAM plugin, built once in the newest shape from what the daemon says about the lease.
// IPAM plugins return the abbreviated result: no `interfaces`, no `ips[].interface` (SPEC.md "Delegated plugins").
import type { Lease6Facts, LeaseFacts } from '../../common/rpc';
import type { PodRoute } from '../registry-api';

/** Route scope values CNI 1.1 uses (netlink's RT_SCOPE_*). */
export const SCOPE_LINK = 253;

export interface IpConfig {
  address: string; // CIDR: the leased address with its prefix length, e.g. "198.19.0.5/22"
  gateway?: string;
}

/**
 * `priority` and `scope` are spec 1.1.0 route attributes. libcni's single Route type reads and writes them for every
 * result version, the reference dhcp plugin emits them under any cniVersion, and the plugins' ConfigureIface applies
 * them; a parser that does not know them ignores them. So they are emitted for every version, as the reference does.
 */
export interface RouteEntry {
  dst: string;
  gw?: string;
  priority?: number;
  scope?: number;
}

export interface Dns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
}

/** The canonical result; version.ts converts it to the configured cniVersion. */
export interface Result {
  cniVersion: string;
  ips: IpConfig[];
  routes?: RouteEntry[];
  dns?: Dns;
}

/** A route from the config (ipam.routes), emitted as given: without gw the consumer uses ips[].gateway (SPEC.md). */
export interface StaticRoute {
  dst: string;
  gw?: string;
}

/** The parts of the network config the result depends on. */
export interface ResultConfig {
  /** Route metric for every route (ipam.priority); 0 or absent leaves the kernel's default. */
  priority?: number;
  /** ipam.routes: merged after the server's routes; one with the same dst replaces the server's. */
  routes?: readonly StaticRoute[];
  /** ipam.defaultRoute: false drops every 0.0.0.0/0 route the server sends (121's, or the one via option 3), so a
   *  secondary NIC does not take the pod's egress from eth0. */
  defaultRoute?: boolean;
}

export const CANONICAL_VERSION = '1.1.0';
export const DEFAULT_DST = '0.0.0.0/0';

/** The result of an attachment's leases: the DHCPv4 one (absent on an IPv6-only network) first, then the DHCPv6
 *  one (ipam.ipv6). An IPv6 entry has no gateway: the default route comes from router advertisements. */
export function buildResult(facts: LeaseFacts | undefined, cfg: ResultConfig, facts6?: Lease6Facts): Result {
  const result: Result = { cniVersion: CANONICAL_VERSION, ips: [] };
  if (facts) {
    const ip: IpConfig = { address: `${facts.address}/${facts.prefixLength}` };
    if (facts.gateway) ip.gateway = facts.gateway;
    result.ips.push(ip);
    const routes = mergeRoutes(facts.routes, cfg).map((r) => withPriority(r, cfg.priority));
    if (routes.length > 0) result.routes = routes;
  }
  if (facts6) result.ips.push({ address: `${facts6.address}/${facts6.prefixLength}` });
  const dns = dnsOf(facts?.dns ?? { nameservers: [], search: [] }, facts6?.dns);
  if (dns) result.dns = dns;
  return result;
}

/**
 * The routes of buildResult's result as the main plugin installs them (CNI ConfigureIface): a route without gw goes
 * via ips[].gateway, gw "0.0.0.0" is on-link, priority is the metric. The daemon adds these back after it brought an
 * expired lease's link down and up again.
 */
export function podRoutes(facts: LeaseFacts, cfg: ResultConfig): PodRoute[] {
  const result = buildResult(facts, cfg);
  return (result.routes ?? []).map((r) => {
    const gw = r.gw ?? result.ips[0]?.gateway;
    const route: PodRoute = { dst: r.dst };
    if (gw !== undefined && gw !== '0.0.0.0') route.gw = gw;
    if (r.priority) route.metric = r.priority;
    return route;
  });
}

/**
 * An on-link route (option 121 via 0.0.0.0) keeps gw "0.0.0.0" and gets link scope, as the reference plugin emits
 * it. Omitting gw would not do: the spec lets the consumer substitute `ips[].gateway` for a missing gw, and the
 * kernel rejects a gateway route with link scope.
 */
function serverRoute(r: LeaseFacts['routes'][number]): RouteEntry {
  return r.gw !== undefined && r.gw !== '0.0.0.0'
    ? { dst: r.dst, gw: r.gw }
    : { dst: r.dst, gw: '0.0.0.0', scope: SCOPE_LINK };
}

/** The server's routes (minus defaults when defaultRoute is false), then the config's, one route per dst: two
 *  routes to one dst would make the main plugin's route add fail with EEXIST. */
export function mergeRoutes(
  fromServer: LeaseFacts['routes'],
  cfg: Pick<ResultConfig, 'routes' | 'defaultRoute'>,
): RouteEntry[] {
  const statics = cfg.routes ?? [];
  const overridden = new Set(statics.map((r) => r.dst));
  const merged = fromServer
    .filter((r) => !(cfg.defaultRoute === false && r.dst === DEFAULT_DST) && !overridden.has(r.dst))
    .map(serverRoute);
  for (const r of statics) merged.push(r.gw === undefined ? { dst: r.dst } : { dst: r.dst, gw: r.gw });
  return merged;
}

function withPriority(r: RouteEntry, priority: number | undefined): RouteEntry {
  return priority ? { ...r, priority } : r;
}

/** DHCPv4's DNS, then DHCPv6's (options 23, 24) after it, each name once. */
function dnsOf(d: LeaseFacts['dns'], d6?: Lease6Facts['dns']): Dns | undefined {
  const out: Dns = {};
  const nameservers = [...new Set([...d.nameservers, ...(d6?.nameservers ?? [])])];
  const search = [...new Set([...d.search, ...(d6?.search ?? [])])];
  if (nameservers.length > 0) out.nameservers = nameservers;
  if (d.domain) out.domain = d.domain;
  if (search.length > 0) out.search = search;
  return Object.keys(out).length > 0 ? out : undefined;
}
