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

type Pick = [string, string, number, number, ((m: Dhcp6Message) => boolean)?];

/** What each server answered, named by what the REPLY answers: [name, message type, which match (0 = first)]. */
const ANSWERS: [string, number, number, ((m: Dhcp6Message) => boolean)?][] = [
  ['advertise', MsgType.ADVERTISE, 0],
  ['reply-request', MsgType.REPLY, 0],
  ['reply-renew', MsgType.REPLY, 1],
  ['reply-rebind', MsgType.REPLY, 2],
  ['reply-confirm', MsgType.REPLY, 3],
  ['reply-release', MsgType.REPLY, 4],
  ['reply-rapid', MsgType.REPLY, 0, rapidCommit],
  ['reply-decline', MsgType.REPLY, 8],
  ['reply-notonlink', MsgType.REPLY, 9],
];

/** [output name, capture file, message type, which match, filter]: our client's messages, then each server's. */
const PICKS: Pick[] = [
  ...(['solicit', 'request', 'renew', 'rebind', 'confirm', 'release', 'decline'] as const).map((m): Pick => [
    `tsc-${m}`,
    'kea-2.2-v6.pcap',
    MsgType[m.toUpperCase() as Uppercase<typeof m>],
    0,
  ]),
  ...['kea-2.2', 'dnsmasq-2.90'].flatMap((server) =>
    ANSWERS.map(([what, type, nth, extra]): Pick => [`${server}-${what}`, `${server}-v6.pcap`, type, nth, extra]),
  ),
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
