// A DHCP "server" any LAN host could run: it answers every DISCOVER and REQUEST with whatever options it is given,
// raw bytes included. Run as a process in the LAN namespace:
//   node rogue-responder.js CONFIG_JSON
// CONFIG_JSON = {"serverIp","broadcastIp","poolStart","options":{"<code>":"<hex>"}}. One JSON line per message heard
// on stdout: {"type","chaddr","ciaddr","xid"}.
import dgram from 'node:dgram';
import { intToIp, ipToBytes, ipToInt } from '../../../daemon/dhcp/bytes';
import { decode, encode } from '../../../daemon/dhcp/codec';
import { MessageType, Opt } from '../../../daemon/dhcp/types';

interface Config {
  serverIp: string;
  broadcastIp: string;
  poolStart: string;
  options: Record<string, string>;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as Config;
const leases = new Map<string, string>();
const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });

sock.on('message', (payload) => {
  const d = decode(payload);
  if (!d.ok) return;
  const req = d.value;
  const type = req.options.get(Opt.MESSAGE_TYPE)?.[0] ?? 0;
  const chaddr = req.chaddr.toString('hex');
  process.stdout.write(`${JSON.stringify({ type, chaddr, ciaddr: req.ciaddr, xid: req.xid })}\n`);
  const answer = type === MessageType.DISCOVER ? MessageType.OFFER : type === MessageType.REQUEST ? MessageType.ACK : 0;
  if (!answer) return;
  let yiaddr = leases.get(chaddr);
  if (!yiaddr) leases.set(chaddr, (yiaddr = intToIp(ipToInt(cfg.poolStart) + leases.size)));
  const options = new Map<number, Buffer>([
    [Opt.MESSAGE_TYPE, Buffer.from([answer])],
    [Opt.SERVER_ID, ipToBytes(cfg.serverIp)],
    ...Object.entries(cfg.options).map(([code, hex]) => [Number(code), Buffer.from(hex, 'hex')] as [number, Buffer]),
  ]);
  const reply = encode({ ...req, op: 2, hops: 0, secs: 0, ciaddr: '0.0.0.0', yiaddr, siaddr: cfg.serverIp, options });
  // Subnet broadcast: the LAN namespace has no route for 255.255.255.255, and the client's packet socket does not
  // look at the destination address.
  sock.send(reply, 68, cfg.broadcastIp);
});
sock.bind(67, '0.0.0.0', () => {
  sock.setBroadcast(true);
  process.stdout.write(`${JSON.stringify({ listening: true })}\n`);
});
