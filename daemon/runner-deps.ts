// What a lease runner needs from the daemon, and what it is built from: the contract between the registry (which
// builds runners for ADDs and from records) and the runners, whatever protocol they drive.
import type { LeaseEvent, LeaseState } from './dhcp/lease';
import type { Rng } from './dhcp/rng';
import type { Lease6Event } from './dhcp6/lease';
import type { DhcpMessage } from './dhcp/types';
import type { Logger } from './log';
import type { HostSend, PodSide } from './pod-port';
import type { PodAddressAction } from './readdress';

export interface RunnerDeps {
  /** The attachment's interface in its netns (the pod-side port): sockets, and the link policy's calls that follow
   *  lease changes (params.onChange: daemon/readdress.ts or daemon/link-hold.ts). */
  pod: PodSide;
  now(): number;
  rng: Rng;
  log: Logger;
  /** Writes this lease's record (the core's persist action); awaited before ADD is answered. */
  persist?(): Promise<void>;
  /** Counts events (daemon/metrics.ts) when metrics are on. */
  metrics?: RunnerMetrics;
  /** The pod interface's MTU when ADD came: the most params.applyMtu sets (pod-link.ts mtuToSet). Absent (a lease
   *  taken over after a restart): the MTU the interface has when the first ACK comes. */
  mtuCeiling?: number;
  /** Give up a background acquisition after this long (daemon -resendtimeout; the core's giveUpAfterMs); 0 or
   *  absent: never. */
  resendTimeoutMs?: number;
  /** Sends a RELEASE from the daemon's netns: the core's 'host' sends (daemon/host-release.ts). */
  sendFromHost?: HostSend;
  /** Shorter leases count as this long (daemon/dhcp/sanitise.ts); absent: DEFAULT_MIN_LEASE_TIME_S. */
  minLeaseTimeS?: number;
}

/** A lease taken over from its record after a restart (daemon/resume.ts takeover): the runner holds it as stored
 *  until resume() re-verifies it with the server. */
export interface Takeover {
  /** The state as stored: what the lease view shows, and what a DEL releases, until resume(). */
  held: LeaseState;
  /** The stored ACK, sanitised. */
  ack?: DhcpMessage;
  /** Where the re-verification starts (INIT-REBOOT, INIT, or BOUND with T1 moved to now). */
  next: LeaseState;
  /** The stored lease has expired: the link policy takes its address off the pod's interface first. */
  expired: boolean;
}

/** What a DHCPv6 lease runner reports (daemon/lease6-runner.ts). */
export interface Runner6Metrics {
  /** transactionMs: for bound/renewed/rebound/changed, how long since the exchange began. */
  event6(event: Lease6Event, transactionMs?: number): void;
}

export interface RunnerMetrics {
  /** transactionMs: for bound/renewed/rebound/changed, how long since the exchange began. */
  event(event: LeaseEvent, transactionMs?: number): void;
  /** A lease record could not be written. */
  recordWriteFailed?(): void;
  /** The pod's interface re-addressed in place (daemon/readdress.ts). */
  podAddress?(action: PodAddressAction): void;
}
