// ARP for IPv4 over Ethernet (RFC 826) as RFC 5227 uses it: probes and announcements out, replies and requests
// about the probed address in. Pure; the AF_PACKET socket (native/src/arp.c) adds and strips the Ethernet header.
import { ZERO_IP, bytesToIp, ipToBytes, macFromString, macToString } from './bytes';

/** Hardware type Ethernet, protocol IPv4, 6-byte and 4-byte addresses: the only ARP this client speaks. */
const HTYPE_ETHERNET = 1;
const PTYPE_IPV4 = 0x0800;
export const ARP_LEN = 28;

export const ArpOp = { REQUEST: 1, REPLY: 2 } as const;

export interface ArpPacket {
  op: number;
  /** "aa:bb:cc:dd:ee:ff" */
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

const ZERO_MAC = '00:00:00:00:00:00';

/** RFC 5227 §2.1.1 probe: a request for `address` with sender IP 0.0.0.0, so no neighbour's cache learns from it. */
export function arpProbe(mac: string, address: string): ArpPacket {
  return { op: ArpOp.REQUEST, senderMac: mac, senderIp: ZERO_IP, targetMac: ZERO_MAC, targetIp: address };
}

/** RFC 5227 §2.3 announcement: a request with sender and target IP both `address`, so every neighbour that has the
 *  address cached takes the new MAC. */
export function arpAnnouncement(mac: string, address: string): ArpPacket {
  return { op: ArpOp.REQUEST, senderMac: mac, senderIp: address, targetMac: ZERO_MAC, targetIp: address };
}

export function encodeArp(p: ArpPacket): Buffer {
  const b = Buffer.alloc(ARP_LEN);
  b.writeUInt16BE(HTYPE_ETHERNET, 0);
  b.writeUInt16BE(PTYPE_IPV4, 2);
  b[4] = 6;
  b[5] = 4;
  b.writeUInt16BE(p.op, 6);
  macFromString(p.senderMac).copy(b, 8);
  ipToBytes(p.senderIp).copy(b, 14);
  macFromString(p.targetMac).copy(b, 18);
  ipToBytes(p.targetIp).copy(b, 24);
  return b;
}

/** The packet, or undefined for anything but Ethernet/IPv4 ARP of at least 28 bytes (frames carry padding after
 *  it). Never throws. */
export function decodeArp(b: Buffer): ArpPacket | undefined {
  if (b.length < ARP_LEN) return undefined;
  if (b.readUInt16BE(0) !== HTYPE_ETHERNET || b.readUInt16BE(2) !== PTYPE_IPV4 || b[4] !== 6 || b[5] !== 4)
    return undefined;
  return {
    op: b.readUInt16BE(6),
    senderMac: macToString(b.subarray(8, 14)),
    senderIp: bytesToIp(b, 14),
    targetMac: macToString(b.subarray(18, 24)),
    targetIp: bytesToIp(b, 24),
  };
}
