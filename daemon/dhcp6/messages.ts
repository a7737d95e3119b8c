// The client's messages (RFC 8415 §18.2), one builder each. Pure: the lease core decides xid, elapsed time and
// addresses. Every message carries CLIENTID and ELAPSED_TIME (§18.2: MUST); those that may be answered with
// configuration carry ORO.
import { encodeElapsed, encodeIaNa, encodeOro } from './options';
import { Dhcp6Message, MsgType, Opt6, Option6 } from './types';

export interface Identity6 {
  duid: Buffer;
  iaid: number;
  /** Option codes asked for in ORO (e.g. 23, 24). */
  oro: number[];
}

/** An address the client holds or hints at, with the lifetimes it sends (0 in a hint or a CONFIRM, §18.2). */
export interface HeldAddress {
  address: string;
  preferredS: number;
  validS: number;
}

function message(
  type: number,
  id: Identity6,
  xid: number,
  elapsedMs: number,
  body: Option6[],
  oro: boolean,
): Dhcp6Message {
  const options: Option6[] = [{ code: Opt6.CLIENTID, data: id.duid }, encodeElapsed(elapsedMs), ...body];
  if (oro && id.oro.length > 0) options.push(encodeOro(id.oro));
  return { type, xid, options };
}

function serverIdOption(serverDuid: Buffer): Option6 {
  return { code: Opt6.SERVERID, data: serverDuid };
}

/** The IA_NA a client sends: T1/T2 0 (the server decides, §21.4) and the addresses it holds or hints at. */
function ia(id: Identity6, addresses: readonly HeldAddress[]): Option6 {
  return encodeIaNa(id.iaid, 0, 0, addresses);
}

/** SOLICIT (§18.2.1) with an IA_NA, optionally a hint of the address wanted and RAPID_COMMIT (§18.2.1, §21.14). */
export function buildSolicit(
  id: Identity6,
  xid: number,
  elapsedMs: number,
  o: { hint?: string; rapidCommit: boolean },
): Dhcp6Message {
  const body = [ia(id, o.hint === undefined ? [] : [{ address: o.hint, preferredS: 0, validS: 0 }])];
  if (o.rapidCommit) body.push({ code: Opt6.RAPID_COMMIT, data: Buffer.alloc(0) });
  return message(MsgType.SOLICIT, id, xid, elapsedMs, body, true);
}

/** REQUEST (§18.2.2) to the server chosen from the ADVERTISEs, for the addresses it advertised. */
export function buildRequest(
  id: Identity6,
  xid: number,
  elapsedMs: number,
  serverDuid: Buffer,
  addresses: readonly HeldAddress[],
): Dhcp6Message {
  return message(MsgType.REQUEST, id, xid, elapsedMs, [serverIdOption(serverDuid), ia(id, addresses)], true);
}

/** CONFIRM (§18.2.3): are these addresses still on-link? Lifetimes 0, no server named. */
export function buildConfirm(id: Identity6, xid: number, elapsedMs: number, address: string): Dhcp6Message {
  return message(MsgType.CONFIRM, id, xid, elapsedMs, [ia(id, [{ address, preferredS: 0, validS: 0 }])], false);
}

/** RENEW (§18.2.4) to the server that granted the lease. */
export function buildRenew(
  id: Identity6,
  xid: number,
  elapsedMs: number,
  serverDuid: Buffer,
  held: HeldAddress,
): Dhcp6Message {
  return message(MsgType.RENEW, id, xid, elapsedMs, [serverIdOption(serverDuid), ia(id, [held])], true);
}

/** REBIND (§18.2.5) to any server: no SERVERID. */
export function buildRebind(id: Identity6, xid: number, elapsedMs: number, held: HeldAddress): Dhcp6Message {
  return message(MsgType.REBIND, id, xid, elapsedMs, [ia(id, [held])], true);
}

/** RELEASE (§18.2.7) of the held address. */
export function buildRelease(id: Identity6, xid: number, serverDuid: Buffer, address: string): Dhcp6Message {
  return message(
    MsgType.RELEASE,
    id,
    xid,
    0,
    [serverIdOption(serverDuid), ia(id, [{ address, preferredS: 0, validS: 0 }])],
    false,
  );
}

/** DECLINE (§18.2.8) of an address that failed duplicate address detection. */
export function buildDecline(
  id: Identity6,
  xid: number,
  elapsedMs: number,
  serverDuid: Buffer,
  address: string,
): Dhcp6Message {
  return message(
    MsgType.DECLINE,
    id,
    xid,
    elapsedMs,
    [serverIdOption(serverDuid), ia(id, [{ address, preferredS: 0, validS: 0 }])],
    false,
  );
}
