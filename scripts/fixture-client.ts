// A throw-away DHCP client used only by scripts/capture-fixtures.sh to make real servers answer with the options we
// want fixtures of. It runs inside a test netns whose only link is the veth to the server, so a plain UDP broadcast
// leaves through it with source 0.0.0.0. Replies are asked to be broadcast (flags) because the link has no address.
//
// usage: node dist/scripts/fixture-client.js IFACE SCENARIO...
//   dora      DISCOVER, OFFER, REQUEST, ACK, then RELEASE
//   nak       INIT-REBOOT REQUEST for an address on a foreign subnet (an authoritative server NAKs it)
//   small     DORA advertising a 576-byte maximum message size (the server may overload sname/file)
//   big       DORA advertising a 1500-byte maximum message size (room for options over 255 bytes)
import * as dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { decode, encode } from '../daemon/dhcp/codec';
import { macFromString } from '../daemon/dhcp/bytes';
import { encodeIp, encodeOption, encodeU16, messageType, serverId } from '../daemon/dhcp/options';
import {
  BOOTREQUEST,
  CLIENT_PORT,
  DhcpMessage,
  FLAG_BROADCAST,
  MessageType,
  Opt,
  SERVER_PORT,
} from '../daemon/dhcp/types';

const REPLY_TIMEOUT_MS = 3000;
const PARAMETERS = [1, 3, 6, 12, 15, 26, 28, 33, 42, 119, 121];

function request(mac: Buffer, xid: number, type: number, options: [number, Buffer][]): DhcpMessage {
  return {
    op: BOOTREQUEST,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid,
    secs: 0,
    flags: FLAG_BROADCAST,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: mac,
    sname: '',
    file: '',
    options: new Map([[Opt.MESSAGE_TYPE, Buffer.from([type])], ...options]),
  };
}

function exchange(sock: dgram.Socket, msg: DhcpMessage, expect: number[]): Promise<DhcpMessage | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(undefined), REPLY_TIMEOUT_MS);
    const onMessage = (buf: Buffer): void => {
      const d = decode(buf);
      if (d.ok && d.value.xid === msg.xid && expect.includes(messageType(d.value) ?? -1)) done(d.value);
    };
    const done = (m: DhcpMessage | undefined): void => {
      clearTimeout(timer);
      sock.off('message', onMessage);
      resolve(m);
    };
    sock.on('message', onMessage);
    sock.send(encode(msg), SERVER_PORT, '255.255.255.255');
    if (expect.length === 0) done(undefined);
  });
}

async function dora(sock: dgram.Socket, mac: Buffer, xid: number, extra: [number, Buffer][]): Promise<void> {
  const common: [number, Buffer][] = [
    [Opt.CLIENT_ID, Buffer.concat([Buffer.from([1]), mac])],
    [Opt.PARAMETER_REQUEST_LIST, encodeOption(Opt.PARAMETER_REQUEST_LIST, PARAMETERS)],
    ...extra,
  ];
  const offer = await exchange(sock, request(mac, xid, MessageType.DISCOVER, common), [MessageType.OFFER]);
  if (!offer) throw new Error('no OFFER');
  const sid = serverId(offer);
  if (!sid) throw new Error('OFFER without server id');
  const req = request(mac, xid, MessageType.REQUEST, [
    [Opt.REQUESTED_IP, encodeIp(offer.yiaddr)],
    [Opt.SERVER_ID, encodeIp(sid)],
    ...common,
  ]);
  const ack = await exchange(sock, req, [MessageType.ACK, MessageType.NAK]);
  if (messageType(ack ?? offer) !== MessageType.ACK) throw new Error('no ACK');
  const release = request(mac, xid + 1, MessageType.RELEASE, [
    [Opt.SERVER_ID, encodeIp(sid)],
    [Opt.CLIENT_ID, Buffer.concat([Buffer.from([1]), mac])],
  ]);
  release.ciaddr = offer.yiaddr;
  release.flags = 0;
  await exchange(sock, release, []);
}

async function main(): Promise<void> {
  const [iface, ...scenarios] = process.argv.slice(2);
  if (!iface || scenarios.length === 0) throw new Error('usage: fixture-client IFACE SCENARIO...');
  const mac = macFromString(readFileSync(`/sys/class/net/${iface}/address`, 'utf8').trim());
  const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => sock.bind(CLIENT_PORT, resolve));
  sock.setBroadcast(true);
  let xid = 0x7e5c0000;
  for (const scenario of scenarios) {
    xid += 0x10;
    if (scenario === 'dora') await dora(sock, mac, xid, []);
    else if (scenario === 'small') await dora(sock, mac, xid, [[Opt.MAX_MESSAGE_SIZE, encodeU16(576)]]);
    else if (scenario === 'big') await dora(sock, mac, xid, [[Opt.MAX_MESSAGE_SIZE, encodeU16(1500)]]);
    else if (scenario === 'nak') {
      const reboot = request(mac, xid, MessageType.REQUEST, [[Opt.REQUESTED_IP, encodeIp('10.99.0.5')]]);
      if (!(await exchange(sock, reboot, [MessageType.NAK]))) throw new Error('no NAK');
    } else throw new Error(`unknown scenario ${scenario}`);
    console.log(`${scenario}: done`);
  }
  sock.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
