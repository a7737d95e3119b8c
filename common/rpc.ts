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
/** An address family, as the lease view, the lease records and the metrics name it. */
export type IpFamily = 'ipv4' | 'ipv6';

/** Leases are keyed by attachment, as CNI keys attachments (CNI spec: containerID, network name, ifName). */
export interface Attachment {
  containerId: string;
  network: string;
  ifName: string;
}

/** The attachment as one string: the daemon's table key, and the text of the reference plugin's client identifier. */
export function attachmentKey(a: Attachment): string {
  return `${a.containerId}/${a.network}/${a.ifName}`;
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

/** What a bound DHCPv6 lease says (one IA_NA address), for the CNI result and the lease view. */
export interface Lease6Facts {
  address: string;
  /** The longest on-link prefix of the link's router advertisements that holds the address; 128 when none does
   *  (DHCPv6 says nothing about prefixes, RFC 8415 §6.1). */
  prefixLength: number;
  /** Options 23 and 24. */
  dns: { nameservers: string[]; search: string[] };
  /** The server's DUID, hex. */
  serverId: string;
  preferredS: number;
  /** 0xffffffff: infinite. */
  validS: number;
}

/** One row of the lease view. Field names are a stable interface (`ts-dhcp leases --json`). */
export interface LeaseView extends Attachment {
  /** Which lease of the attachment: its DHCPv4 one or its DHCPv6 one (a dual-stack attachment has a row of each). */
  family: IpFamily;
  netns: string;
  args: Record<string, string>;
  mac: string;
  /** RFC 2131's state names for ipv4; the DHCPv6 core's (daemon/dhcp6/lease.ts) for ipv6. */
  state: string;
  address?: string;
  prefixLength?: number;
  /** ipv4: the server identifier (option 54); ipv6: the server's DUID, hex. */
  serverId?: string;
  /** ipv6: the server's own address when it allowed unicast (option 12), where RENEW goes. */
  serverAddress?: string;
  /** ipv6: the client's DUID (hex) and the IAID of its IA_NA. */
  duid?: string;
  iaid?: number;
  /** ipv6: the end of the address's preferred lifetime (ISO 8601); expiresAt is the valid lifetime's. */
  preferredUntil?: string;
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

/** Which lease `leases show` asks for: an attachment's, of `family` (absent: its IPv4 one, or its IPv6 one when it
 *  has no other). */
export interface LeaseParams extends Attachment {
  family?: IpFamily;
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
  /** ipv6: what the REPLY said (address, prefix length, DNS of options 23/24, server DUID, lifetimes). */
  facts6?: Lease6Facts;
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
  lease: { params: LeaseParams; result: LeaseDetail };
  status: { params: Record<string, never>; result: StatusResult };
}
export type MethodName = keyof Methods;
