// IPv4 + UDP framing for the AF_PACKET channel (pure). The kernel adds and strips the Ethernet header.
import { bytesToIp, ipToBytes } from '../dhcp/bytes';

const IP_HEADER_LEN = 20;
const UDP_HEADER_LEN = 8;
const IPPROTO_UDP = 17;
const DEFAULT_TTL = 64;

export interface IpUdpAddressing {
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  ttl?: number;
}

export type ParsedIpUdp =
  | { ok: true; srcIp: string; dstIp: string; srcPort: number; dstPort: number; payload: Buffer }
  | { ok: false; reason: string };

/** One's-complement sum of 16-bit big-endian words, folded to 16 bits (an odd last byte is padded with zero). */
function onesSum(buf: Buffer, start: number, end: number, initial = 0): number {
  let sum = initial;
  for (let i = start; i + 1 < end; i += 2) sum += buf.readUInt16BE(i);
  if ((end - start) % 2 === 1) sum += (buf[end - 1] as number) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** IPv4 header (no options, DF clear, id 0) + UDP header with checksum + payload. */
export function buildIpUdp(payload: Buffer, a: IpUdpAddressing): Buffer {
  const udpLen = UDP_HEADER_LEN + payload.length;
  const totalLen = IP_HEADER_LEN + udpLen;
  if (totalLen > 0xffff) throw new RangeError(`IPv4 packet of ${totalLen} bytes is too long`);
  const src = ipToBytes(a.srcIp);
  const dst = ipToBytes(a.dstIp);
  const p = Buffer.alloc(totalLen);
  p[0] = 0x45; // version 4, IHL 5
  p.writeUInt16BE(totalLen, 2);
  p[8] = a.ttl ?? DEFAULT_TTL;
  p[9] = IPPROTO_UDP;
  src.copy(p, 12);
  dst.copy(p, 16);
  p.writeUInt16BE(~onesSum(p, 0, IP_HEADER_LEN) & 0xffff, 10);

  const u = IP_HEADER_LEN;
  p.writeUInt16BE(a.srcPort, u);
  p.writeUInt16BE(a.dstPort, u + 2);
  p.writeUInt16BE(udpLen, u + 4);
  payload.copy(p, u + UDP_HEADER_LEN);
  const sum = ~onesSum(p, u, totalLen, pseudoHeaderSum(p, udpLen)) & 0xffff;
  p.writeUInt16BE(sum === 0 ? 0xffff : sum, u + 6); // 0 would mean "no checksum"
  return p;
}

/** Sum of the UDP pseudo-header: addresses (from the IP header at p[12..20]), protocol, UDP length. */
function pseudoHeaderSum(p: Buffer, udpLen: number): number {
  return onesSum(p, 12, 20) + IPPROTO_UDP + udpLen;
}

/** Validates and splits an IPv4/UDP packet. Never throws. The UDP checksum is not checked: frames from a local
 *  veth or virtio peer reach AF_PACKET sockets with the checksum still to be filled in by offload. */
export function parseIpUdp(packet: Buffer): ParsedIpUdp {
  if (packet.length < IP_HEADER_LEN) return { ok: false, reason: 'shorter than an IPv4 header' };
  const b0 = packet[0] as number;
  if (b0 >> 4 !== 4) return { ok: false, reason: `IP version ${b0 >> 4}` };
  const ihl = (b0 & 0x0f) * 4;
  if (ihl < IP_HEADER_LEN || ihl > packet.length) return { ok: false, reason: `bad IHL ${ihl / 4}` };
  const totalLen = packet.readUInt16BE(2);
  // Frames may carry link-layer padding after the IP packet, never less than it.
  if (totalLen < ihl || totalLen > packet.length) return { ok: false, reason: `bad total length ${totalLen}` };
  if (onesSum(packet, 0, ihl) !== 0xffff) return { ok: false, reason: 'bad IPv4 header checksum' };
  if ((packet.readUInt16BE(6) & 0x3fff) !== 0) return { ok: false, reason: 'IPv4 fragment' };
  if (packet[9] !== IPPROTO_UDP) return { ok: false, reason: `IP protocol ${packet[9]}` };
  if (totalLen - ihl < UDP_HEADER_LEN) return { ok: false, reason: 'shorter than a UDP header' };
  const udpLen = packet.readUInt16BE(ihl + 4);
  if (udpLen < UDP_HEADER_LEN || udpLen > totalLen - ihl) return { ok: false, reason: `bad UDP length ${udpLen}` };
  return {
    ok: true,
    srcIp: bytesToIp(packet, 12),
    dstIp: bytesToIp(packet, 16),
    srcPort: packet.readUInt16BE(ihl),
    dstPort: packet.readUInt16BE(ihl + 2),
    payload: packet.subarray(ihl + UDP_HEADER_LEN, ihl + udpLen),
  };
}
