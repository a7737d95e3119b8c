// The last way to return a lease: a DHCPRELEASE sent from the daemon's own network namespace, for an attachment
// whose pod side can no longer send it (the netns or the interface is gone: DEL after macvlan removed eth1, a
// spooled DEL, a vanished pod, a dead attachment at resume). On a node the host netns reaches the LAN (eno1), and a
// RELEASE names its lease by content alone (ciaddr, chaddr, option 61, option 54), not by where it comes from.
import * as dgram from 'node:dgram';
import { encode } from './dhcp/codec';
import { ClientConfig, LeaseState, identity } from './dhcp/lease';
import { buildRelease } from './dhcp/messages';
import { Rng } from './dhcp/rng';
import { DhcpMessage } from './dhcp/types';

const SERVER_PORT = 67;

/** Sends one DHCP payload to dstIp:67 from the daemon's netns; rejects with the socket error. */
export type HostSend = (payload: Buffer, dstIp: string) => Promise<void>;

/**
 * The source port is an ephemeral one, not 68: on a node 68 is often held by the host's own DHCP client (dhclient,
 * systemd-networkd, NetworkManager), and sharing it with SO_REUSEADDR would work only if that client set it too.
 * A RELEASE gets no reply (RFC 2131 §4.4.4), and dnsmasq, Kea and ISC dhcpd do not look at its source port or
 * source address (dnsmasq answers a unicast client on 68 whatever port it used); the netns tests send these to
 * dnsmasq and ISC dhcpd and check their lease stores.
 */
export const sendFromHost: HostSend = (payload, dstIp) =>
  new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const done = (err?: Error | null): void => {
      socket.close();
      if (err) reject(err);
      else resolve();
    };
    socket.once('error', done);
    socket.send(payload, SERVER_PORT, dstIp, done);
  });

/** The RELEASE for a stored or dropped lease, and the server it goes to, when the lease still holds an address the
 *  server has not expired. */
export function releaseFor(cfg: ClientConfig, state: LeaseState, nowMs: number, rng: Rng):
  { msg: DhcpMessage; serverId: string } | undefined {
  if (!('lease' in state)) return undefined;
  const { address, serverId, expiresAtMs } = state.lease;
  if (expiresAtMs !== null && expiresAtMs <= nowMs) return undefined;
  return { msg: buildRelease(identity(cfg), rng.u32(), address, serverId), serverId };
}

/** releaseFor, sent with `send`. Never throws: says what happened, for the caller's log line. */
export async function releaseFromHost(send: HostSend, cfg: ClientConfig, state: LeaseState, nowMs: number,
  rng: Rng): Promise<string> {
  try {
    const release = releaseFor(cfg, state, nowMs, rng);
    if (!release) return 'nothing to release';
    await send(encode(release.msg), release.serverId);
    return `RELEASE sent from the host to ${release.serverId}`;
  } catch (err) {
    return `host RELEASE failed: ${(err as Error).message}`;
  }
}
