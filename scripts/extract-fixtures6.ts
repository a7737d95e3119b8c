// Cuts single DHCPv6 messages and router advertisements out of the v6 captures into test/fixtures/dhcp6/*.bin (UDP
// payloads; an RA from its ICMPv6 type octet on). Deterministic: the same captures give the same files.
//
// usage: node dist/scripts/extract-fixtures6.js
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decode } from '../daemon/dhcp6/codec';
import { rapidCommit } from '../daemon/dhcp6/options';
import { Dhcp6Message, MsgType } from '../daemon/dhcp6/types';
import { readDhcp6, readIcmp6 } from '../test/helpers/pcap';

const ROOT = resolve(__dirname, '..', '..');
const CAPTURES = join(ROOT, 'test', 'fixtures', 'captures');
const OUT = join(ROOT, 'test', 'fixtures', 'dhcp6');

/** [output name, capture file, message type, which match (0 = first)]; a REPLY is named by what it answers. */
const PICKS: [string, string, number, number, ((m: Dhcp6Message) => boolean)?][] = [
  ['tsc-solicit', 'kea-2.2-v6.pcap', MsgType.SOLICIT, 0],
  ['tsc-request', 'kea-2.2-v6.pcap', MsgType.REQUEST, 0],
  ['tsc-renew', 'kea-2.2-v6.pcap', MsgType.RENEW, 0],
  ['tsc-rebind', 'kea-2.2-v6.pcap', MsgType.REBIND, 0],
  ['tsc-confirm', 'kea-2.2-v6.pcap', MsgType.CONFIRM, 0],
  ['tsc-release', 'kea-2.2-v6.pcap', MsgType.RELEASE, 0],
  ['tsc-decline', 'kea-2.2-v6.pcap', MsgType.DECLINE, 0],
  ['kea-2.2-advertise', 'kea-2.2-v6.pcap', MsgType.ADVERTISE, 0],
  ['kea-2.2-reply-request', 'kea-2.2-v6.pcap', MsgType.REPLY, 0],
  ['kea-2.2-reply-renew', 'kea-2.2-v6.pcap', MsgType.REPLY, 1],
  ['kea-2.2-reply-rebind', 'kea-2.2-v6.pcap', MsgType.REPLY, 2],
  ['kea-2.2-reply-confirm', 'kea-2.2-v6.pcap', MsgType.REPLY, 3],
  ['kea-2.2-reply-release', 'kea-2.2-v6.pcap', MsgType.REPLY, 4],
  ['kea-2.2-reply-rapid', 'kea-2.2-v6.pcap', MsgType.REPLY, 0, rapidCommit],
  ['kea-2.2-reply-decline', 'kea-2.2-v6.pcap', MsgType.REPLY, 8],
  ['kea-2.2-reply-notonlink', 'kea-2.2-v6.pcap', MsgType.REPLY, 9],
  ['dnsmasq-2.90-advertise', 'dnsmasq-2.90-v6.pcap', MsgType.ADVERTISE, 0],
  ['dnsmasq-2.90-reply-request', 'dnsmasq-2.90-v6.pcap', MsgType.REPLY, 0],
  ['dnsmasq-2.90-reply-renew', 'dnsmasq-2.90-v6.pcap', MsgType.REPLY, 1],
  ['dnsmasq-2.90-reply-rebind', 'dnsmasq-2.90-v6.pcap', MsgType.REPLY, 2],
  ['dnsmasq-2.90-reply-confirm', 'dnsmasq-2.90-v6.pcap', MsgType.REPLY, 3],
  ['dnsmasq-2.90-reply-release', 'dnsmasq-2.90-v6.pcap', MsgType.REPLY, 4],
  ['dnsmasq-2.90-reply-rapid', 'dnsmasq-2.90-v6.pcap', MsgType.REPLY, 0, rapidCommit],
  ['dnsmasq-2.90-reply-decline', 'dnsmasq-2.90-v6.pcap', MsgType.REPLY, 8],
  ['dnsmasq-2.90-reply-notonlink', 'dnsmasq-2.90-v6.pcap', MsgType.REPLY, 9],
];

mkdirSync(OUT, { recursive: true });
for (const [name, source, type, nth, extra] of PICKS) {
  const path = join(CAPTURES, source);
  const hits = readDhcp6(readFileSync(path)).filter((d) => {
    const m = decode(d.payload);
    return m.ok && m.value.type === type && (extra === undefined || extra(m.value));
  });
  const hit = hits[nth];
  if (!hit) throw new Error(`${name}: no message #${nth} of type ${type} in ${path}`);
  writeFileSync(join(OUT, `${name}.bin`), hit.payload);
  console.log(`${name}.bin  ${source} record #${hit.index}  ${hit.payload.length} bytes`);
}
const ra = readIcmp6(readFileSync(join(CAPTURES, 'dnsmasq-2.90-v6.pcap'))).find((p) => p.payload[0] === 134);
if (!ra) throw new Error('no router advertisement in dnsmasq-2.90-v6.pcap');
writeFileSync(join(OUT, 'dnsmasq-2.90-ra.bin'), ra.payload);
console.log(`dnsmasq-2.90-ra.bin  dnsmasq-2.90-v6.pcap record #${ra.index}  ${ra.payload.length} bytes`);
