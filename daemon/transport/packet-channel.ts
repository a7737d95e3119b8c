// Channel (daemon/pod-port.ts) over an AF_PACKET socket: sends hand-built IPv4/UDP packets (so the source may be
// 0.0.0.0) to the Ethernet broadcast address, and receives replies even when they are unicast to an address not
// configured yet.
import type { ArpChannel, OpenChannel } from '../pod-port';
import { CLIENT_PORT, SERVER_PORT } from '../dhcp/types';
import { buildIpUdp, parseIpUdp } from './ipudp';
import { openArp, openPacket } from './netns';

export const openPacketChannel: OpenChannel = async (netns, ifName, srcIp, onReceive) => {
  const socket = await openPacket(netns, ifName);
  socket.onMessage((packet) => {
    const p = parseIpUdp(packet);
    // Malformed frames and other UDP/68 traffic are dropped here; the driver counts at the DHCP level.
    if (!p.ok || p.srcPort !== SERVER_PORT || p.dstPort !== CLIENT_PORT) return;
    onReceive({ payload: p.payload, srcIp: p.srcIp, dstIp: p.dstIp });
  });
  return {
    send(payload, dstIp) {
      socket.send(buildIpUdp(payload, { srcIp, dstIp, srcPort: CLIENT_PORT, dstPort: SERVER_PORT }));
    },
    close() {
      socket.close();
    },
  };
};

/** ARP about `address` on the same kind of socket (native/src/arp.c filters it in the kernel). */
export async function openArpChannel(
  netns: string,
  ifName: string,
  address: string,
  onReceive: (arp: Buffer) => void,
): Promise<ArpChannel> {
  const socket = await openArp(netns, ifName, address);
  socket.onMessage(onReceive);
  return {
    send: (arp) => socket.send(arp),
    close: () => socket.close(),
  };
}
