// What the daemon's own work (registry, lease runners, RPC params) fails with, by kind. The daemon speaks no CNI
// codes and no JSON-RPC codes: each edge turns a kind into its own, once (daemon/cni/errors.ts for the plugin's
// CNI error, daemon/rpc-server.ts for the JSON-RPC error).

export type DaemonErrorKind =
  /** A request the daemon cannot serve as given: an RPC param, the DHCP options, the client identifier, ipam.ipv6 on
   *  an interface that cannot run DHCPv6. */
  | 'invalid-params'
  /** The path given as the pod's network namespace is not one the daemon may use. */
  | 'bad-netns'
  /** The pod's interface cannot be used (missing, or cannot be brought up). */
  | 'bad-interface'
  /** The pod's interface already carries the lease of another attachment. */
  | 'in-use'
  /** The daemon holds no lease for the attachment. */
  | 'no-lease'
  /** The lease is not what the attachment was given at ADD (another netns, not bound, changed, expired). */
  | 'mismatch'
  /** No lease within the ADD deadline; the acquisition goes on in the background. */
  | 'timeout'
  /** The acquisition stopped (DEL, shutdown, give-up) while an ADD waited for it. */
  | 'cancelled'
  /** The lease record could not be written; the lease was given back. */
  | 'io';

export class DaemonError extends Error {
  constructor(
    readonly kind: DaemonErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'DaemonError';
  }
}
