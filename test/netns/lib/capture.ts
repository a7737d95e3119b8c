// Packet capture with the real tcpdump, and a reader for what it writes (classic pcap, Ethernet).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bytesToIp, macToString } from '../../../daemon/dhcp/bytes';
import { decode } from '../../../daemon/dhcp/codec';
import type { DhcpMessage } from '../../../daemon/dhcp/types';
import { hasExited, sleep, waitFor } from './proc';
import type { Topology } from './topology';

export interface Packet {
  /** Capture time, Unix ms (µs or ns precision kept as a fraction). */
  timeMs: number;
  ethSrc: string;
  ethDst: string;
  etherType: number;
  /** The bytes after the Ethernet (and VLAN) header: an ARP packet, an IP packet... */
  etherPayload: Buffer;
  ipSrc?: string;
  ipDst?: string;
  /** IP protocol number (17 = UDP, 1 = ICMP). */
  ipProto?: number;
  srcPort?: number;
  dstPort?: number;
  udpPayload?: Buffer;
  /** The UDP payload when either port is 67 or 68: decode it with the project codec. */
  dhcp?: Buffer;
}

export interface Capture {
  readonly file: string;
  /** Lets in-flight packets land, stops tcpdump and returns every packet captured. */
  stop(): Promise<Packet[]>;
}

export const DHCP_FILTER = 'udp port 67 or udp port 68';

/** The packet's DHCP message, decoded with the project codec; undefined for other packets or undecodable bytes. */
export function dhcpOf(p: Packet): DhcpMessage | undefined {
  if (!p.dhcp) return undefined;
  const d = decode(p.dhcp);
  return d.ok ? d.value : undefined;
}

const LINKTYPE_ETHERNET = 1;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_IPV4 = 0x0800;
const IPPROTO_UDP = 17;
const SETTLE_MS = 150;

/** Starts tcpdump in `ns` on `iface` (use a bridge port such as topo.lanPort, not a bridge); resolves once it is
 * listening. */
export async function startCapture(topo: Topology, ns: string, iface: string, filter = DHCP_FILTER): Promise<Capture> {
  const dir = topo.tempDir('cap');
  const file = path.join(dir, `${iface}.pcap`);
  const logFile = path.join(dir, 'tcpdump.log');
  // -Z root: Debian's tcpdump otherwise drops to its own user, which cannot write into our 0700 temp dir.
  const args = ['-i', iface, '-n', '-U', '--immediate-mode', '-Z', 'root', '-w', file, filter];
  const child = topo.spawn(ns, 'tcpdump', args, { logFile });
  const log = (): string => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  await waitFor(
    `tcpdump listening on ${iface} in ${ns}`,
    () => {
      if (hasExited(child)) throw new Error(`tcpdump exited (${child.exitCode ?? child.signalCode}):\n${log()}`);
      return log().includes('listening on');
    },
    10_000,
  );
  return {
    file,
    async stop() {
      await sleep(SETTLE_MS);
      await topo.stop(child, 3000, 'SIGINT');
      return readPcap(fs.readFileSync(file));
    },
  };
}

/** Parses a classic pcap file with Ethernet frames (what tcpdump -w writes for a veth). */
export function readPcap(file: Buffer): Packet[] {
  if (file.length < 24) return [];
  const magic = file.readUInt32LE(0);
  let le: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) le = true;
  else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) le = false;
  else throw new Error(`not a classic pcap file (magic 0x${magic.toString(16)})`);
  const nanos = le ? magic === 0xa1b23c4d : magic === 0x4d3cb2a1;
  const u32 = (at: number): number => (le ? file.readUInt32LE(at) : file.readUInt32BE(at));
  const linkType = u32(20) & 0xffff;
  if (linkType !== LINKTYPE_ETHERNET) throw new Error(`pcap link type ${linkType} is not Ethernet`);

  const packets: Packet[] = [];
  for (let pos = 24; pos + 16 <= file.length;) {
    const timeMs = u32(pos) * 1000 + u32(pos + 4) / (nanos ? 1e6 : 1e3);
    const capLen = u32(pos + 8);
    const frame = file.subarray(pos + 16, pos + 16 + capLen);
    pos += 16 + capLen;
    if (frame.length < 14) continue;
    packets.push(decodeFrame(frame, timeMs));
  }
  return packets;
}

function decodeFrame(frame: Buffer, timeMs: number): Packet {
  let typeAt = 12;
  let etherType = frame.readUInt16BE(typeAt);
  if (etherType === ETHERTYPE_VLAN && frame.length >= 18) {
    typeAt += 4;
    etherType = frame.readUInt16BE(typeAt);
  }
  const packet: Packet = {
    timeMs,
    ethDst: macToString(frame.subarray(0, 6)),
    ethSrc: macToString(frame.subarray(6, 12)),
    etherType,
    etherPayload: Buffer.from(frame.subarray(typeAt + 2)),
  };
  const ip = typeAt + 2;
  if (etherType !== ETHERTYPE_IPV4 || frame.length < ip + 20) return packet;
  packet.ipSrc = bytesToIp(frame, ip + 12);
  packet.ipDst = bytesToIp(frame, ip + 16);
  packet.ipProto = frame[ip + 9] as number;
  const fragmented = (frame.readUInt16BE(ip + 6) & 0x3fff) !== 0; // MF or an offset: no whole UDP header to read
  const udp = ip + ((frame[ip] as number) & 0x0f) * 4;
  if (packet.ipProto !== IPPROTO_UDP || fragmented || frame.length < udp + 8) return packet;
  packet.srcPort = frame.readUInt16BE(udp);
  packet.dstPort = frame.readUInt16BE(udp + 2);
  packet.udpPayload = Buffer.from(frame.subarray(udp + 8, Math.min(frame.length, udp + frame.readUInt16BE(udp + 4))));
  if ([67, 68].includes(packet.srcPort) || [67, 68].includes(packet.dstPort)) packet.dhcp = packet.udpPayload;
  return packet;
}
