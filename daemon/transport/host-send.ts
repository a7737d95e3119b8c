// The daemon's sends from its own network namespace: a RELEASE (DHCPv4 or DHCPv6) for a lease whose pod side is gone
// (daemon/host-release.ts builds it).
import * as dgram from 'node:dgram';
import { promises as fs } from 'node:fs';
import { SERVER_PORT } from '../dhcp/types';
import { SERVER_PORT as SERVER_PORT6 } from '../dhcp6/types';
import type { HostSend, HostSend6 } from '../pod-port';

/**
 * The source port is an ephemeral one, not 68 (or 546): on a node those are often held by the host's own DHCP client
 * (dhclient, systemd-networkd, NetworkManager), and sharing them with SO_REUSEADDR would work only if that client set
 * it too. A RELEASE's reply is not needed (RFC 2131 §4.4.4; RFC 8415 §18.2.7 lets the client give up), and dnsmasq,
 * Kea and ISC dhcpd do not look at its source port or source address for the lease it names; the netns tests send
 * these to dnsmasq, ISC dhcpd and Kea and check their lease stores.
 */
function sendOnce(type: 'udp4' | 'udp6', payload: Buffer, port: number, dst: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(type);
    const done = (err?: Error | null): void => {
      socket.close();
      if (err) reject(err);
      else resolve();
    };
    socket.once('error', done);
    socket.send(payload, port, dst, done);
  });
}

export const sendFromHost: HostSend = (payload, dstIp) => sendOnce('udp4', payload, SERVER_PORT, dstIp);

/** A link-scoped multicast destination carries its link as a zone ("ff02::1:2%eno1"): the kernel sends it there. */
export const sendFromHost6: HostSend6 = async (payload, dstIp, hostLink) => {
  const link = /^ff02:/i.test(dstIp) ? (hostLink ?? (await defaultRouteLink())) : undefined;
  const dst = link === undefined ? dstIp : `${dstIp}%${link}`;
  await sendOnce('udp6', payload, SERVER_PORT6, dst);
  return dst;
};

/** The link of the host's IPv4 default route (/proc/net/route), as the macvlan and ipvlan plugins pick their master
 *  when the network config names none. */
async function defaultRouteLink(): Promise<string> {
  const link = defaultRouteOf(await fs.readFile('/proc/net/route', 'utf8'));
  if (link === undefined)
    throw new Error('no host link for ff02::1:2: no "master" in the network config and no default route');
  return link;
}

/** Iface of the first default route (destination and mask 0) in /proc/net/route's text. */
export function defaultRouteOf(text: string): string | undefined {
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 8 && f[1] === '00000000' && f[7] === '00000000') return f[0];
  }
  return undefined;
}
