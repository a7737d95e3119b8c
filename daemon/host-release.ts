// The last way to return a lease: a RELEASE sent from the daemon's own network namespace (the port's sendFromHost
// and sendFromHost6, daemon/transport/host-send.ts), for an attachment whose pod side can no longer send it (the netns
// or the interface is gone: DEL after macvlan removed eth1, a spooled DEL, a vanished pod, a dead attachment at
// resume). On a node the host netns reaches the LAN (eno1), and a RELEASE names its lease by content alone: DHCPv4 by
// ciaddr, chaddr, option 61 and option 54; DHCPv6 by client DUID, IAID, address and server DUID (RFC 8415 §18.2.7).
import { encode } from './dhcp/codec';
import { ClientConfig, LeaseState, hostRelease } from './dhcp/lease';
import { Rng } from './dhcp/rng';
import { encode as encode6 } from './dhcp6/codec';
import { ClientConfig6, Lease6State, hostRelease6 } from './dhcp6/lease';
import { ALL_SERVERS } from './dhcp6/types';
import type { HostSend, HostSend6 } from './pod-port';
import type { AnyLeaseRecord } from './store';

/** A lease whose pod side is gone, as its runner or record holds it. */
export type GoneLease =
  | { family: 'ipv4'; cfg: ClientConfig; state: LeaseState }
  /** hostLink: the host's link to the pod's LAN (the network config's `master`), for ff02::1:2. */
  | { family: 'ipv6'; cfg: ClientConfig6; state: Lease6State; hostLink?: string };

/** The gone lease a record holds. */
export function goneOf(rec: AnyLeaseRecord): GoneLease {
  if (!('family' in rec)) return { family: 'ipv4', cfg: rec.cfg, state: rec.state };
  const g: GoneLease = { family: 'ipv6', cfg: rec.cfg, state: rec.state };
  if (rec.params.master !== undefined) g.hostLink = rec.params.master;
  return g;
}

export interface HostSenders {
  sendFromHost?: HostSend;
  sendFromHost6?: HostSend6;
}

/** The core's host RELEASE for a stored or dropped lease, sent from the daemon's netns. Never throws: says what
 *  happened, for the caller's log line. */
export async function releaseFromHost(
  senders: HostSenders,
  lease: GoneLease,
  nowMs: number,
  rng: Rng,
): Promise<string> {
  try {
    if (lease.family === 'ipv6') return await release6(senders.sendFromHost6, lease, nowMs, rng);
    if (!senders.sendFromHost) return 'no host sender';
    const release = hostRelease(lease.state, nowMs, { cfg: lease.cfg, rng });
    if (!release) return 'nothing to release';
    await senders.sendFromHost(encode(release.msg), release.dstIp);
    return `RELEASE sent from the host to ${release.dstIp}`;
  } catch (err) {
    return `host RELEASE failed: ${(err as Error).message}`;
  }
}

/** To the server's UNICAST address when it gave one (RFC 8415 §18.2.7), else, or when the host cannot reach that
 *  address (a node often has no global IPv6 address), to ff02::1:2 on the host link. */
async function release6(
  send: HostSend6 | undefined,
  lease: Extract<GoneLease, { family: 'ipv6' }>,
  nowMs: number,
  rng: Rng,
): Promise<string> {
  if (!send) return 'no IPv6 host sender';
  const release = hostRelease6(lease.state, nowMs, { cfg: lease.cfg, rng });
  if (!release) return 'nothing to release';
  const payload = encode6(release.msg);
  let unicastError = '';
  if (release.dst !== ALL_SERVERS) {
    try {
      return `RELEASE sent from the host to ${await send(payload, release.dst)}`;
    } catch (err) {
      unicastError = ` (unicast to ${release.dst}: ${(err as Error).message})`;
    }
  }
  return `RELEASE sent from the host to ${await send(payload, ALL_SERVERS, lease.hostLink)}${unicastError}`;
}
