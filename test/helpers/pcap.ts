// Just enough of the classic pcap format (and Ethernet / Linux cooked / IPv4 / UDP) to pull DHCP payloads out of
// captures in tests. Test-only: it throws on a file it does not understand, which fails the test loudly.
import { bytesToIp } from '../../daemon/dhcp/bytes';

export interface UdpDatagram {
  /** Index of the record in the file, from 0. */
  index: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_LINUX_SLL = 113;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_VLAN = 0x8100;
const IPPROTO_UDP = 17;

/** Byte offset of the IPv4 header in a frame, or undefined when the frame is not IPv4. */
function ipv4Offset(frame: Buffer, linkType: number): number | undefined {
  let typeAt: number;
  if (linkType === LINKTYPE_ETHERNET) typeAt = 12;
  else if (linkType === LINKTYPE_LINUX_SLL) typeAt = 14;
  else throw new Error(`pcap link type ${linkType} not supported`);
  if (frame.length < typeAt + 2) return undefined;
  let type = frame.readUInt16BE(typeAt);
  if (type === ETHERTYPE_VLAN && frame.length >= typeAt + 6) {
    typeAt += 4;
    type = frame.readUInt16BE(typeAt);
  }
  return type === ETHERTYPE_IPV4 ? typeAt + 2 : undefined;
}

/** Every unfragmented IPv4/UDP datagram in a classic pcap file, in capture order. */
export function readUdp(file: Buffer): UdpDatagram[] {
  const magic = file.readUInt32LE(0);
  let le: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else throw new Error(`not a classic pcap file (magic 0x${magic.toString(16)})`);
  const u32 = (at: number): number => (le ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const linkType = u32(20) & 0xffff;

  const out: UdpDatagram[] = [];
  let pos = 24;
  for (let index = 0; pos + 16 <= file.length; index++) {
    const capLen = u32(pos + 8);
    const frame = file.subarray(pos + 16, pos + 16 + capLen);
    pos += 16 + capLen;
    const ip = ipv4Offset(frame, linkType);
    if (ip === undefined || frame.length < ip + 20) continue;
    const ihl = ((frame[ip] as number) & 0x0f) * 4;
    const fragment = frame.readUInt16BE(ip + 6) & 0x3fff; // MF flag or a fragment offset
    if (frame[ip + 9] !== IPPROTO_UDP || fragment !== 0) continue;
    const udp = ip + ihl;
    if (frame.length < udp + 8) continue;
    const udpLen = frame.readUInt16BE(udp + 4);
    out.push({
      index,
      src: bytesToIp(frame, ip + 12),
      dst: bytesToIp(frame, ip + 16),
      srcPort: frame.readUInt16BE(udp),
      dstPort: frame.readUInt16BE(udp + 2),
      payload: Buffer.from(frame.subarray(udp + 8, udp + udpLen)),
    });
  }
  return out;
}

/** DHCP payloads (UDP port 67 or 68 on either side). */
export function readDhcp(file: Buffer): UdpDatagram[] {
  return readUdp(file).filter((d) => [67, 68].includes(d.srcPort) && [67, 68].includes(d.dstPort));
}
