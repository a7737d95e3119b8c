// The last way to return a lease: a DHCPRELEASE sent from the daemon's own network namespace (the port's
// sendFromHost, daemon/transport/host-send.ts), for an attachment whose pod side can no longer send it (the netns or
// the interface is gone: DEL after macvlan removed eth1, a spooled DEL, a vanished pod, a dead attachment at
// resume). On a node the host netns reaches the LAN (eno1), and a RELEASE names its lease by content alone (ciaddr,
// chaddr, option 61, option 54), not by where it comes from.
import { encode } from './dhcp/codec';
import { ClientConfig, LeaseState, hostRelease } from './dhcp/lease';
import { Rng } from './dhcp/rng';
import type { HostSend } from './pod-port';

/** The core's hostRelease for a stored or dropped lease, sent with `send`. Never throws: says what happened, for
 *  the caller's log line. */
export async function releaseFromHost(
  send: HostSend,
  cfg: ClientConfig,
  state: LeaseState,
  nowMs: number,
  rng: Rng,
): Promise<string> {
  try {
    const release = hostRelease(state, nowMs, { cfg, rng });
    if (!release) return 'nothing to release';
    await send(encode(release.msg), release.dstIp);
    return `RELEASE sent from the host to ${release.dstIp}`;
  } catch (err) {
    return `host RELEASE failed: ${(err as Error).message}`;
  }
}
