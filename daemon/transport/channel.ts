// The transport seam the daemon driver uses: DHCP payloads (and ARP packets) in and out as Buffers. The native implementations
// (nativeChannels in packet-channel.ts) open their sockets inside the pod netns; tests substitute an in-memory
// factory.

export interface Received {
  payload: Buffer;
  srcIp: string;
  dstIp: string;
}

export interface Channel {
  /** Send a DHCP payload from srcIp:68 to dstIp:67 ('255.255.255.255' = broadcast). */
  send(payload: Buffer, dstIp: string): void; // throws an Error with errno `code` on failure
  close(): void; // idempotent
}

/** ARP on the pod interface (RFC 5227 probes and announcements). */
export interface ArpChannel {
  /** Broadcasts one ARP packet (the 28 bytes after the Ethernet header). */
  send(arp: Buffer): void; // throws an Error with errno `code` on failure
  close(): void; // idempotent
}

export interface ChannelFactory {
  /** Raw AF_PACKET channel: IP source `srcIp` (0.0.0.0 while acquiring, ciaddr when rebinding); receives every
   *  UDP/68 datagram on the interface whose chaddr is the interface's MAC, including unicast to a not-yet-configured
   *  address. */
  openPacket(netns: string, ifName: string, srcIp: string, onReceive: (r: Received) => void): Promise<Channel>;
  /** UDP channel bound to localIp:68 on the device, for unicast RENEW/RELEASE from the leased address. */
  openUdp(netns: string, ifName: string, localIp: string, onReceive: (r: Received) => void): Promise<Channel>;
  /** ARP channel that receives the ARP packets whose sender or target IP is `address` (what a probe for it must
   *  hear), and sends to the Ethernet broadcast address. */
  openArp(netns: string, ifName: string, address: string, onReceive: (arp: Buffer) => void): Promise<ArpChannel>;
}
