// The daemon's one send from its own network namespace: a DHCPRELEASE for a lease whose pod side is gone
// (daemon/host-release.ts builds it).
import * as dgram from 'node:dgram';
import { SERVER_PORT } from '../dhcp/types';
import type { HostSend } from '../pod-port';

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
