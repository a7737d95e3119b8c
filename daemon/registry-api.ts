// The registry's operations as the CNI layer (daemon/cni/plugin.ts) calls them: what ADD, DEL, CHECK and GC take
// and give back. Daemon-internal: the plugin and the CLI speak common/rpc.ts.
import type { Attachment, IpFamily, Lease6Facts, LeaseFacts, Route } from '../common/rpc';

/** AddParams.warnings holds at most this many (the last one says how many more there were). */
export const MAX_CONFIG_WARNINGS = 64;

export type { IpFamily };

/** Leases held, by family and core state (the metrics' gauge). */
export type LeaseCounts = Partial<Record<IpFamily, Record<string, number>>>;

/** What the registry needs to acquire a lease (from the daemon's CNI layer, daemon/cni/plugin.ts, and kept in the
 *  lease record); names, defaults and CNI_ARGS are already resolved. */
export interface AddParams extends Attachment {
  netns: string;
  /** CNI_ARGS as key/value pairs, kept for the lease view (K8S_POD_NAMESPACE, K8S_POD_NAME). */
  args: Record<string, string>;
  /** Option 55, in order, already merged with the defaults. */
  paramRequestList: number[];
  /** Options to send (code → UTF-8 text value), already resolved from `provide` (literal or fromArg). */
  provide: { code: number; value: string }[];
  /** BOOTP broadcast flag on requests. Absent: the daemon's default (-broadcast). */
  broadcast?: boolean;
  /** ADD deadline in ms. Absent: the daemon's default (-timeout). */
  timeoutMs?: number;
  /** Option 61 choice (IPAM key clientId); `value` is literal text, already resolved from fromArg. Absent: legacy. */
  clientId?: 'legacy' | 'pod' | 'duid' | { value: string };
  /** ipam.conflictDetection: ARP probing of each new address before it is used (RFC 5227). Absent: the daemon's
   *  default (daemon/dhcp/probe.ts DEFAULT_CONFLICT_DETECTION). */
  conflictDetection?: 'off' | 'quick' | 'rfc5227';
  /** ipam.announce: gratuitous ARP announcements of a newly bound address (RFC 5227 §2.3). Absent: on. */
  announce?: boolean;
  /** How the CNI layer turned the lease's routes into its result (ipam.priority, ipam.routes, ipam.defaultRoute). The
   *  kernel drops a pod's routes through ifName when the daemon takes an expired lease's link down; when the same
   *  address is bound again the daemon builds the result's routes the same way (daemon/cni/result.ts podRoutes) and
   *  adds them back. Absent: the defaults (the server's routes, metric 0). */
  routing?: RouteConfig;
  /** What a lease change does to the pod's interface (IPAM onChange). Absent: "readdress". */
  onChange?: OnChange;
  /** IPAM applyMtu: set the lease's MTU (option 26) on the pod's interface, never above the MTU it had at ADD. */
  applyMtu?: boolean;
  /** The network config's top-level `master` (macvlan, ipvlan): the host's link to the pod's LAN, where a DHCPv6
   *  RELEASE from the host goes to ff02::1:2 when the pod side is gone. Absent: the link of the host's default route,
   *  as those plugins pick their master. */
  master?: string;
  /** IPAM ipv4: false for an IPv6-only attachment (no DHCPv4). Absent: true. */
  ipv4?: boolean;
  /** IPAM ipv6: acquire an IPv6 address by DHCPv6 beside (or, with ipv4 false, instead of) the DHCPv4 lease. */
  ipv6?: boolean;
  /** What the config layer ignored (unknown keys, `provide` entries left out), one sentence each; the daemon logs
   *  them once, when it creates the attachment, and does not keep them. */
  warnings?: string[];
}

/** readdress: a new address replaces the old one in place, an expired lease's address is removed with the link up
 *  (daemon/readdress.ts); hold-link-down: the reference plugin's way, the link is held down (daemon/link-hold.ts). */
export const ON_CHANGE = ['readdress', 'hold-link-down'] as const;
export type OnChange = (typeof ON_CHANGE)[number];

export interface RouteConfig {
  priority?: number;
  /** ipam.routes: here an absent gw means the lease's gateway (CNI result semantics), not on-link. */
  routes?: Route[];
  defaultRoute?: boolean;
}

/** A route as installed in the pod: `gw` absent means on-link (link scope); metric 0 is the kernel's default. */
export interface PodRoute {
  dst: string; // CIDR
  gw?: string;
  metric?: number;
}

/** The leases of an attachment: the DHCPv4 one unless ipv4 is false, the DHCPv6 one with ipv6. */
export interface AddResult {
  facts?: LeaseFacts;
  facts6?: Lease6Facts;
}

export interface DelResult {
  /** False when the daemon held no lease for the attachment (DEL is idempotent). */
  released: boolean;
  /** True when the netns was already gone: the lease left the daemon, and a RELEASE went from the daemon's own
   *  netns when the server was reachable (daemon/host-release.ts). */
  dropped?: boolean;
}

export interface CheckParams extends Attachment {
  netns: string;
}
export interface CheckResult {
  /** The DHCPv4 lease; absent on an IPv6-only network. */
  facts?: LeaseFacts;
  state: string;
  /** ISO 8601; absent for an infinite lease. */
  expiresAt?: string;
  /** The IPv4 addresses configured on ifName in the netns now (CHECK compares them with the lease). */
  interfaceAddresses: { address: string; prefixLength: number }[];
  /** The DHCPv6 lease (ipam.ipv6). */
  facts6?: Lease6Facts;
  /** With facts6: the IPv6 addresses configured on ifName now, link-local ones left out. */
  interfaceAddresses6?: { address: string; prefixLength: number }[];
}

/** GC (CNI 1.1): release every lease of `network` whose (containerId, ifName) is not listed. */
export interface GcParams {
  network: string;
  validAttachments: { containerId: string; ifName: string }[];
}
export interface GcResult {
  /** The attachments released. */
  released: Attachment[];
  /** Releases that failed, in words; GC goes on past them (SPEC.md GC). */
  errors: string[];
}
