// The DHCPv6 client's channel: the [::]:546 socket on the pod interface (native/src/ip6.c), sending to ff02::1:2 or a
// server's unicast address, receiving what servers send to port 546.
import { bytesToIp6 } from '../dhcp6/ip6';
import { SERVER_PORT } from '../dhcp6/types';
import type { Channel6 } from '../pod-port';
import { openUdp6 } from './netns';

/** Source address and port the addon puts in front of each datagram. */
const PREFIX = 18;

export async function openUdp6Channel(
  netns: string,
  ifName: string,
  onReceive: (payload: Buffer, srcIp: string) => void,
): Promise<Channel6> {
  const socket = await openUdp6(netns, ifName);
  socket.onMessage((d) => {
    if (d.length < PREFIX || d.readUInt16BE(16) !== SERVER_PORT) return;
    onReceive(d.subarray(PREFIX), bytesToIp6(d, 0));
  });
  return {
    send: (payload, dstIp) => socket.sendTo(payload, dstIp, SERVER_PORT),
    close: () => socket.close(),
  };
}
