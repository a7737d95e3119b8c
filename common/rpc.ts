// The RPC contract between the plugin/CLI (client) and the daemon: JSON-RPC 2.0, one JSON message per line over a
// unix stream socket. An application error (the daemon refused the request: bad params, no such lease) carries the
// CNI code of its kind (daemon/cni/errors.ts) as the JSON-RPC error code: positive, so never one of JSON-RPC's own.

export const DEFAULT_SOCKET_PATH = '/run/cni/ts-dhcp.sock';
/** The daemon's lease records and the plugin's DEL spool (daemon --state-dir, IPAM stateDir). */
export const DEFAULT_STATE_DIR = '/var/lib/ts-dhcp';
/** Largest network config the plugin forwards (native/plugin refuses a larger one with a CNI error). */
export const MAX_CONFIG_BYTES = 1 << 20;
/** Largest request line the daemon reads: a `cni` request carries the config in base64 (4/3 of it) and the env. */
export const MAX_REQUEST_BYTES = 2 << 20;
/** AddParams.warnings holds at most this many (the last one says how many more there were). */
export const MAX_CONFIG_WARNINGS = 64;

/** Leases are keyed by attachment, as CNI keys attachments (CNI spec: containerID, network name, ifName). */
export interface Attachment {
  containerId: string;
  network: string;
  ifName: string;
}

/** An address family, as the lease view and the lease records name it. */
export type IpFamily = 'ipv4' | 'ipv6';

/** The attachment as one string: the daemon's table key, and the text of the reference plugin's client identifier. */
export function attachmentKey(a: Attachment): string {
  return `${a.containerId}/${a.network}/${a.ifName}`;
}

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

export interface Route {
  dst: string; // CIDR
  gw?: string; // absent: on-link
}

/** What a bound lease says, already interpreted (RFC 3442 precedence applied). The CNI layer builds the CNI result. */
export interface LeaseFacts {
  address: string;
  prefixLength: number;
  gateway?: string;
  routes: Route[];
  dns: { nameservers: string[]; domain?: string; search: string[] };
  serverId: string;
  leaseTimeS: number;
  mtu?: number;
}

export interface AddResult {
  facts: LeaseFacts;
}

export type DelParams = Attachment;
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
  facts: LeaseFacts;
  state: string;
  /** ISO 8601; absent for an infinite lease. */
  expiresAt?: string;
  /** The IPv4 addresses configured on ifName in the netns now (CHECK compares them with the lease). */
  interfaceAddresses: { address: string; prefixLength: number }[];
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

/** One row of the lease view. Field names are a stable interface (`ts-dhcp leases --json`). */
export interface LeaseView extends Attachment {
  netns: string;
  args: Record<string, string>;
  mac: string;
  state: string;
  address?: string;
  prefixLength?: number;
  serverId?: string;
  t1At?: string; // ISO 8601
  t2At?: string;
  expiresAt?: string;
  lastError?: string;
  /** Why the lease's record could not be written, while the daemon retries (a restart now would forget it). */
  recordError?: string;
  /** Set while the server has bound this address instead of `address`, the one the pod's interface was configured
   *  with (after expiry); the link is held down and CHECK fails until the attachment is re-created. */
  changedTo?: string;
}

/** One state change of a lease (RFC 2131 state names); `why` names the trigger ("OFFER", "T1", "NAK: ..."). */
export interface Transition {
  at: string; // ISO 8601
  from: string;
  to: string;
  why: string;
}

/** One lease in full (`ts-dhcp leases show ID`): the row, what the server said, and the recent transitions. */
export interface LeaseDetail extends LeaseView {
  facts?: LeaseFacts;
  transitions: Transition[];
  /** Replies ignored by this lease, counted by reason (daemon/dhcp/lease.ts IgnoreReason). */
  ignored?: Record<string, number>;
}

export interface StatusResult {
  version: string;
  pid: number;
  uptimeS: number;
  socketPath: string;
  leases: Record<string, number>; // count by state
  stateDir?: string;
  /** process.memoryUsage() of the daemon, in bytes. */
  memory?: { rss: number; heapUsed: number; heapTotal: number; external: number };
  /** Leases whose record could not be written (disk full, I/O error) and is being retried. */
  recordErrors?: number;
  /** Open descriptors of the daemon (from /proc/self/fd, counting the status request's own socket and dir handle). */
  openFds?: number;
}

/**
 * One CNI invocation as the plugin received it (method `cni`). Every value is base64 of the exact bytes, so nothing
 * is lost or replaced on the way: the daemon reports bytes that are not UTF-8 instead of guessing.
 */
export interface CniInvocation {
  /** CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS (those set). */
  env: Record<string, string>;
  /** The network config from stdin. */
  stdin: string;
  /** The plugin's working directory: a relative CNI_NETNS is relative to it. */
  cwd: string;
}

/** What the plugin prints on stdout and the exit code it exits with. */
export interface CniOutput {
  stdout: string;
  exitCode: number;
}

/** The daemon's methods: `cni` for the plugin (the whole invocation; the CNI verbs are served inside it), the rest
 *  for the CLI. The server's handler table is typed by this too (daemon/rpc-server.ts Handlers). */
export interface Methods {
  cni: { params: CniInvocation; result: CniOutput };
  leases: { params: Record<string, never>; result: LeaseView[] };
  lease: { params: Attachment; result: LeaseDetail };
  status: { params: Record<string, never>; result: StatusResult };
}
export type MethodName = keyof Methods;
