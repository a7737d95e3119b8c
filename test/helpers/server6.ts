// A DHCPv6 server's answers for in-process tests (the fake port's answer6): Rapid Commit REPLYs to SOLICIT, REPLYs to
// REQUEST, RENEW and REBIND granting one address, and a Success REPLY to RELEASE and DECLINE.
import { encodeIaNa } from '../../daemon/dhcp6/options';
import { ip6ToBytes } from '../../daemon/dhcp6/ip6';
import { Dhcp6Message, MsgType, Opt6 } from '../../daemon/dhcp6/types';
import type { Sent6 } from './fake-port';

export const SERVER_DUID = Buffer.from('000300010200c6123456', 'hex');
export const DNS6 = 'fd00:198:18:16::53';

export interface Grant6 {
  t1S: number;
  t2S: number;
  preferredS: number;
  validS: number;
  /** The server's UNICAST option (RFC 8415 §21.12): where RENEW may go. */
  unicast?: string;
}

export const GRANT6: Grant6 = { t1S: 1800, t2S: 2880, preferredS: 3600, validS: 7200 };

/** The REPLY granting `address` to the client message `req` (with RAPID_COMMIT when it answers a SOLICIT). */
export function reply6(req: Dhcp6Message, address: string, g: Grant6 = GRANT6): Dhcp6Message {
  const cid = req.options.find((o) => o.code === Opt6.CLIENTID);
  const ia = req.options.find((o) => o.code === Opt6.IA_NA);
  const iaid = ia ? ia.data.readUInt32BE(0) : 0;
  const options = [
    ...(cid ? [cid] : []),
    { code: Opt6.SERVERID, data: SERVER_DUID },
    encodeIaNa(iaid, g.t1S, g.t2S, [{ address, preferredS: g.preferredS, validS: g.validS }]),
    { code: Opt6.DNS_SERVERS, data: ip6ToBytes(DNS6) },
  ];
  if (req.type === MsgType.SOLICIT) options.push({ code: Opt6.RAPID_COMMIT, data: Buffer.alloc(0) });
  if (g.unicast !== undefined) options.push({ code: Opt6.UNICAST, data: ip6ToBytes(g.unicast) });
  return { type: MsgType.REPLY, xid: req.xid, options };
}

/** A server granting each client the address `addressOf` picks, answering RELEASE and DECLINE with Success. */
export function answering6(addressOf: (s: Sent6) => string, g: Grant6 = GRANT6): (s: Sent6) => Dhcp6Message {
  return (s) => {
    if (s.msg.type === MsgType.RELEASE || s.msg.type === MsgType.DECLINE) {
      const cid = s.msg.options.find((o) => o.code === Opt6.CLIENTID);
      return {
        type: MsgType.REPLY,
        xid: s.msg.xid,
        options: [...(cid ? [cid] : []), { code: Opt6.SERVERID, data: SERVER_DUID }],
      };
    }
    return reply6(s.msg, addressOf(s), g);
  };
}
