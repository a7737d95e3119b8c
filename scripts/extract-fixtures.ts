// Cuts single DHCP messages out of the packet captures into test/fixtures/dhcp/*.bin (raw UDP payloads), so unit
// tests read exact server bytes without a pcap in the loop. Deterministic: the same captures give the same files.
//
// usage: node dist/scripts/extract-fixtures.js
// "shared:" captures are copies of ../shared/fixtures/*.pcap (the team's captures), kept in test/fixtures/captures.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decode } from '../daemon/dhcp/codec';
import { messageType } from '../daemon/dhcp/options';
import { DhcpMessage, MessageType } from '../daemon/dhcp/types';
import { readDhcp } from '../test/helpers/pcap';

const ROOT = resolve(__dirname, '..', '..');
const CAPTURES = join(ROOT, 'test', 'fixtures', 'captures');
const OUT = join(ROOT, 'test', 'fixtures', 'dhcp');

const renewing = (m: DhcpMessage): boolean => m.ciaddr !== '0.0.0.0';
const any = (): boolean => true;

/** [output name, capture file, message type, extra condition]: the first message matching is taken. */
const PICKS: [string, string, number, (m: DhcpMessage) => boolean][] = [
  ['dnsmasq-2.90-discover', 'shared:dnsmasq-2.90.pcap', MessageType.DISCOVER, any],
  ['dnsmasq-2.90-offer', 'shared:dnsmasq-2.90.pcap', MessageType.OFFER, any],
  ['dnsmasq-2.90-request', 'shared:dnsmasq-2.90.pcap', MessageType.REQUEST, any],
  ['dnsmasq-2.90-ack', 'shared:dnsmasq-2.90.pcap', MessageType.ACK, any],
  ['dnsmasq-2.90-release', 'shared:dnsmasq-2.90.pcap', MessageType.RELEASE, any],
  ['kea-2.2-offer', 'shared:kea-2.2.pcap', MessageType.OFFER, any],
  ['kea-2.2-ack', 'shared:kea-2.2.pcap', MessageType.ACK, any],
  ['kea-2.2-renew-request', 'shared:kea-2.2.pcap', MessageType.REQUEST, renewing],
  ['kea-2.2-renew-ack', 'shared:kea-2.2.pcap', MessageType.ACK, renewing],
  ['isc-dhcpd-4.4-offer', 'shared:isc-dhcpd-4.4.pcap', MessageType.OFFER, any],
  ['isc-dhcpd-4.4-ack', 'shared:isc-dhcpd-4.4.pcap', MessageType.ACK, any],
  ['isc-dhcpd-4.4-renew-ack', 'shared:isc-dhcpd-4.4.pcap', MessageType.ACK, renewing],
  ['isc-dhcpd-4.4-release', 'shared:isc-dhcpd-4.4.pcap', MessageType.RELEASE, any],
  ['tsc-discover', 'dnsmasq-2.90-full.pcap', MessageType.DISCOVER, any],
  ['tsc-request', 'dnsmasq-2.90-full.pcap', MessageType.REQUEST, any],
  ['tsc-release', 'dnsmasq-2.90-full.pcap', MessageType.RELEASE, any],
  ['dnsmasq-2.90-full-offer', 'dnsmasq-2.90-full.pcap', MessageType.OFFER, any],
  ['dnsmasq-2.90-full-ack', 'dnsmasq-2.90-full.pcap', MessageType.ACK, any],
  ['dnsmasq-2.90-nak', 'dnsmasq-2.90-full.pcap', MessageType.NAK, any],
  ['dnsmasq-2.90-overload-offer', 'dnsmasq-2.90-overload.pcap', MessageType.OFFER, any],
  ['dnsmasq-2.90-overload-ack', 'dnsmasq-2.90-overload.pcap', MessageType.ACK, any],
  ['isc-dhcpd-4.4-full-offer', 'isc-dhcpd-4.4-full.pcap', MessageType.OFFER, any],
  ['isc-dhcpd-4.4-full-ack', 'isc-dhcpd-4.4-full.pcap', MessageType.ACK, any],
  ['isc-dhcpd-4.4-nak', 'isc-dhcpd-4.4-full.pcap', MessageType.NAK, any],
  ['isc-dhcpd-4.4-long-ack', 'isc-dhcpd-4.4-long.pcap', MessageType.ACK, any],
  ['kea-2.2-full-offer', 'kea-2.2-full.pcap', MessageType.OFFER, any],
  ['kea-2.2-full-ack', 'kea-2.2-full.pcap', MessageType.ACK, any],
  ['kea-2.2-nak', 'kea-2.2-full.pcap', MessageType.NAK, any],
];

mkdirSync(OUT, { recursive: true });
for (const [name, source, type, extra] of PICKS) {
  const path = join(CAPTURES, source.replace(/^shared:/, ''));
  const hit = readDhcp(readFileSync(path)).find((d) => {
    const m = decode(d.payload);
    return m.ok && messageType(m.value) === type && extra(m.value);
  });
  if (!hit) throw new Error(`${name}: no such message in ${path}`);
  writeFileSync(join(OUT, `${name}.bin`), hit.payload);
  console.log(`${name}.bin  ${source} record #${hit.index}  ${hit.payload.length} bytes`);
}
