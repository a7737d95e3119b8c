// Just enough of the classic pcap format (and Ethernet / Linux cooked / IPv4 / IPv6 / UDP / ICMPv6) to pull DHCP
// payloads out of captures in tests.
// Test-only: it throws on a file it does not understand, which fails the test loudly.
import { bytesToIp } from '../../daemon/dhcp/bytes';
import { bytesToIp6 } from '../../daemon/dhcp6/ip6';

export interface UdpDatagram {
  /** Index of the record in the file, from 0. */
  index: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

/** The numbers each layer names the next by: pcap's link types, IEEE's ethertypes, IANA's protocol numbers. */
const LINKTYPE = { ETHERNET: 1, LINUX_SLL: 113 } as const;
const ETHERTYPE = { IPV4: 0x0800, IPV6: 0x86dd, VLAN: 0x8100 } as const;
const IPPROTO = { UDP: 17, ICMPV6: 58 } as const;
const IPV6_HEADER_LEN = 40;

/** The network layer of a frame: its ethertype and where its header starts, or undefined for a short frame. */
function network(frame: Buffer, linkType: number): { type: number; at: number } | undefined {
  let typeAt: number;
  if (linkType === LINKTYPE.ETHERNET) typeAt = 12;
  else if (linkType === LINKTYPE.LINUX_SLL) typeAt = 14;
  else throw new Error(`pcap link type ${linkType} not supported`);
  if (frame.length < typeAt + 2) return undefined;
  let type = frame.readUInt16BE(typeAt);
  if (type === ETHERTYPE.VLAN && frame.length >= typeAt + 6) {
    typeAt += 4;
    type = frame.readUInt16BE(typeAt);
  }
  return { type, at: typeAt + 2 };
}

/** Every record of a classic pcap file with its network layer, in capture order. */
function* records(file: Buffer): Generator<{ index: number; frame: Buffer; type: number; at: number }> {
  const magic = file.readUInt32LE(0);
  let le: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else throw new Error(`not a classic pcap file (magic 0x${magic.toString(16)})`);
  const u32 = (at: number): number => (le ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const linkType = u32(20) & 0xffff;
  let pos = 24;
  for (let index = 0; pos + 16 <= file.length; index++) {
    const capLen = u32(pos + 8);
    const frame = file.subarray(pos + 16, pos + 16 + capLen);
    pos += 16 + capLen;
    const net = network(frame, linkType);
    if (net) yield { index, frame, ...net };
  }
}

function udpAt(index: number, frame: Buffer, udp: number, src: string, dst: string): UdpDatagram | undefined {
  if (frame.length < udp + 8) return undefined;
  const udpLen = frame.readUInt16BE(udp + 4);
  return {
    index,
    src,
    dst,
    srcPort: frame.readUInt16BE(udp),
    dstPort: frame.readUInt16BE(udp + 2),
    payload: Buffer.from(frame.subarray(udp + 8, udp + udpLen)),
  };
}

/** Every unfragmented UDP datagram over IPv4, or over IPv6 without extension headers, in capture order. */
export function readUdp(file: Buffer): UdpDatagram[] {
  const out: UdpDatagram[] = [];
  for (const { index, frame, type, at: ip } of records(file)) {
    let d: UdpDatagram | undefined;
    if (type === ETHERTYPE.IPV4 && frame.length >= ip + 20) {
      const ihl = ((frame[ip] as number) & 0x0f) * 4;
      const fragment = frame.readUInt16BE(ip + 6) & 0x3fff; // MF flag or a fragment offset
      if (frame[ip + 9] !== IPPROTO.UDP || fragment !== 0) continue;
      d = udpAt(index, frame, ip + ihl, bytesToIp(frame, ip + 12), bytesToIp(frame, ip + 16));
    } else if (type === ETHERTYPE.IPV6 && frame.length >= ip + IPV6_HEADER_LEN && frame[ip + 6] === IPPROTO.UDP) {
      d = udpAt(index, frame, ip + IPV6_HEADER_LEN, bytesToIp6(frame, ip + 8), bytesToIp6(frame, ip + 24));
    }
    if (d) out.push(d);
  }
  return out;
}

/** ICMPv6 messages (without extension headers before them), each from its type octet on. */
export function readIcmp6(file: Buffer): { index: number; src: string; payload: Buffer }[] {
  const out: { index: number; src: string; payload: Buffer }[] = [];
  for (const { index, frame, type, at: ip } of records(file)) {
    if (type !== ETHERTYPE.IPV6 || frame.length < ip + IPV6_HEADER_LEN || frame[ip + 6] !== IPPROTO.ICMPV6) continue;
    const len = frame.readUInt16BE(ip + 4);
    out.push({
      index,
      src: bytesToIp6(frame, ip + 8),
      payload: Buffer.from(frame.subarray(ip + IPV6_HEADER_LEN, ip + IPV6_HEADER_LEN + len)),
    });
  }
  return out;
}

/** DHCPv6 payloads (UDP port 546 or 547 on either side). */
export function readDhcp6(file: Buffer): UdpDatagram[] {
  return readUdp(file).filter((d) => [546, 547].includes(d.srcPort) && [546, 547].includes(d.dstPort));
}

/** DHCP payloads (UDP port 67 or 68 on either side). */
export function readDhcp(file: Buffer): UdpDatagram[] {
  return readUdp(file).filter((d) => [67, 68].includes(d.srcPort) && [67, 68].includes(d.dstPort));
}
