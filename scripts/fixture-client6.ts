// A throw-away DHCPv6 client used only by scripts/capture-fixtures.sh v6 to make real servers answer, so their bytes
// can be captured. It runs inside a test netns whose only link is the veth to the server, sends from its link-local
// address to ff02::1:2 (or to the server's UNICAST address when told) and builds its messages with our builders.
//
// usage: node dist/scripts/fixture-client6.js IFACE MAC SCENARIO...
//   full       SOLICIT, ADVERTISE, REQUEST, REPLY, RENEW, REBIND, CONFIRM, RELEASE (each answered by a REPLY)
//   rapid      SOLICIT with RAPID_COMMIT, REPLY, RELEASE
//   decline    SOLICIT … REPLY, then DECLINE of the address
//   notonlink  CONFIRM of an address off the server's links (a NotOnLink REPLY)
import * as dgram from 'node:dgram';
import { macFromString } from '../daemon/dhcp/bytes';
import { decode, encode } from '../daemon/dhcp6/codec';
import { duidLl, duidUuid } from '../daemon/dhcp6/duid';
import {
  Identity6,
  buildConfirm,
  buildDecline,
  buildRebind,
  buildRelease,
  buildRenew,
  buildRequest,
  buildSolicit,
} from '../daemon/dhcp6/messages';
import { iaNa, serverId } from '../daemon/dhcp6/options';
import { ALL_SERVERS, CLIENT_PORT, Dhcp6Message, MsgType, SERVER_PORT } from '../daemon/dhcp6/types';

const REPLY_TIMEOUT_MS = 3000;

function exchange(sock: dgram.Socket, iface: string, msg: Dhcp6Message, expect: number): Promise<Dhcp6Message> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no reply of type ${expect} to type ${msg.type}`)), REPLY_TIMEOUT_MS);
    const onMessage = (buf: Buffer): void => {
      const d = decode(buf);
      if (d.ok && d.value.xid === msg.xid && d.value.type === expect) done(d.value);
    };
    const done = (m: Dhcp6Message | Error): void => {
      clearTimeout(timer);
      sock.off('message', onMessage);
      if (m instanceof Error) reject(m);
      else resolve(m);
    };
    sock.on('message', onMessage);
    sock.send(encode(msg), SERVER_PORT, `${ALL_SERVERS}%${iface}`);
  });
}

let nextXid = 0x100000;
const xid = (): number => nextXid++;

async function acquire(sock: dgram.Socket, iface: string, id: Identity6): Promise<{ server: Buffer; address: string }> {
  const adv = await exchange(sock, iface, buildSolicit(id, xid(), 0, { rapidCommit: false }), MsgType.ADVERTISE);
  const server = serverId(adv);
  const offered = iaNa(adv, id.iaid)?.addresses[0];
  if (!server || !offered) throw new Error('ADVERTISE without SERVERID or address');
  const held = [{ address: offered.address, preferredS: 0, validS: 0 }];
  await exchange(sock, iface, buildRequest(id, xid(), 0, server, held), MsgType.REPLY);
  return { server, address: offered.address };
}

async function run(sock: dgram.Socket, iface: string, mac: Buffer, scenario: string): Promise<void> {
  // Each scenario is a client of its own, so servers do not mix up their bindings.
  const id: Identity6 = {
    duid: scenario === 'full' ? duidLl(mac) : duidUuid(scenario),
    iaid: 0x0a0b0c0d,
    oro: [23, 24],
  };
  switch (scenario) {
    case 'full': {
      const { server, address } = await acquire(sock, iface, id);
      const held = { address, preferredS: 0, validS: 0 };
      await exchange(sock, iface, buildRenew(id, xid(), 0, server, held), MsgType.REPLY);
      await exchange(sock, iface, buildRebind(id, xid(), 0, held), MsgType.REPLY);
      await exchange(sock, iface, buildConfirm(id, xid(), 0, address), MsgType.REPLY);
      await exchange(sock, iface, buildRelease(id, xid(), server, address), MsgType.REPLY);
      return;
    }
    case 'rapid': {
      const reply = await exchange(sock, iface, buildSolicit(id, xid(), 0, { rapidCommit: true }), MsgType.REPLY);
      const address = iaNa(reply, id.iaid)?.addresses[0]?.address;
      const server = serverId(reply);
      if (!address || !server) throw new Error('rapid-commit REPLY without address or SERVERID');
      await exchange(sock, iface, buildRelease(id, xid(), server, address), MsgType.REPLY);
      return;
    }
    case 'decline': {
      const { server, address } = await acquire(sock, iface, id);
      await exchange(sock, iface, buildDecline(id, xid(), 0, server, address), MsgType.REPLY);
      return;
    }
    case 'notonlink':
      await exchange(sock, iface, buildConfirm(id, xid(), 0, 'fd00:198:18:99::5'), MsgType.REPLY);
      return;
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

async function main(): Promise<void> {
  const [iface, macText, ...scenarios] = process.argv.slice(2);
  if (!iface || !macText || scenarios.length === 0) throw new Error('usage: fixture-client6 IFACE MAC SCENARIO...');
  const sock = dgram.createSocket({ type: 'udp6', reuseAddr: true });
  await new Promise<void>((resolve) => sock.bind(CLIENT_PORT, '::', resolve));
  sock.setMulticastInterface(`::%${iface}`);
  try {
    for (const s of scenarios) await run(sock, iface, macFromString(macText), s);
  } finally {
    sock.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
