// The full shape of a DHCPv6 lease record (store.ts LeaseRecord6), checked before anything uses it, like the IPv4
// one (record-check.ts, whose common fields and helpers it shares): the file may come from another version or a
// person's editor, and one wrong record costs its own lease, never the daemon. Lifetimes are held to RFC 8415's
// 32-bit seconds and to what a REPLY received before the save could have granted.
import { decode } from './dhcp6/codec';
import { MAX_DUID_LEN } from './dhcp6/duid';
import { isLeasableIp6 } from './dhcp6/ip6';
import type { ClientConfig6, Lease6, Lease6State } from './dhcp6/lease';
import { INFINITY } from './dhcp6/options';
import type { Retransmission, Timing6 } from './dhcp6/timing';
import { MsgType } from './dhcp6/types';
import {
  BASE64,
  Obj,
  Check,
  StateFields,
  checkCommon,
  checkStateBy,
  deadline,
  fail,
  fields,
  int,
  intIn,
  num,
  obj,
  optional,
  recordOrReason,
} from './record-check';
import type { LeaseRecord6 } from './store';

/** A DHCPv6 message fits one UDP datagram: its base64 is at most this long. */
const MAX_REPLY_BASE64 = Math.ceil(0xffff / 3) * 4;
const U32 = 0xffffffff;
const MAX_MS = Number.MAX_SAFE_INTEGER;
/** How far the wall clock may have stepped back between a REPLY and the save of its lease (NTP) before the
 *  lease's end counts as stretched. */
const CLOCK_SLACK_MS = 24 * 3600 * 1000;

function ip6(v: unknown, field: string): string {
  if (typeof v !== 'string' || !isLeasableIp6(v)) fail(field, 'is not a unicast IPv6 address');
  return v;
}

/** DUID in lower-case hex, 3..130 bytes (RFC 8415 §11.1), as the core's identity() wants it. */
function duid(v: unknown, field: string): string {
  if (typeof v !== 'string' || !/^(?:[0-9a-f]{2})+$/.test(v)) fail(field, 'is not lower-case hex');
  if (v.length < 6 || v.length > 2 * MAX_DUID_LEN) fail(field, `is not a DUID of 3..${MAX_DUID_LEN} bytes`);
  return v;
}

const transaction = fields({
  xid: intIn(0, 0xffffff),
  startedAtMs: num,
  retransmitAtMs: num,
  rtMs: intIn(0, 0x7fffffff),
  sends: intIn(0, MAX_MS),
});

const server = fields({ duid, unicast: optional(ip6) });

/** A bound address: lifetimes in RFC 8415's 32 bits, preferred ≤ valid, T1 ≤ T2 ≤ end, and an end no later than
 *  the valid lifetime counted from the save (the REPLY came before it, give or take a clock step): a record cannot
 *  stretch a lease. */
function lease(v: unknown, field: string, savedAtMs: number): Lease6 {
  const l = obj(v, field);
  ip6(l.address, `${field}.address`);
  server(l.server, `${field}.server`);
  const validS = int(l.validS, `${field}.validS`, 1, U32);
  const preferredS = int(l.preferredS, `${field}.preferredS`, 0, U32);
  if (preferredS > validS) fail(`${field}.preferredS`, `is more than validS (${validS})`);
  const t1 = deadline(l.t1AtMs, `${field}.t1AtMs`);
  const t2 = deadline(l.t2AtMs, `${field}.t2AtMs`);
  const end = deadline(l.expiresAtMs, `${field}.expiresAtMs`);
  if ((validS === INFINITY) !== (end === null))
    fail(`${field}.expiresAtMs`, validS === INFINITY ? 'is set for an infinite lifetime' : 'is null');
  if (end !== null && end > savedAtMs + validS * 1000 + CLOCK_SLACK_MS)
    fail(`${field}.expiresAtMs`, `is more than validS (${validS} s) after savedAtMs`);
  if (t1 !== null && t2 !== null && t1 > t2) fail(`${field}.t1AtMs`, 'is after t2AtMs');
  if (t2 !== null && end !== null && t2 > end) fail(`${field}.t2AtMs`, 'is after expiresAtMs');
  return l as unknown as Lease6;
}

const advert = fields({ server, address: ip6, preference: intIn(0, 255) });

/** Every state the v6 core has, with the fields it needs; a state name from a newer version is refused. */
export function checkState6(v: unknown, savedAtMs: number, field = 'state'): Lease6State {
  const held: Check = (l, f) => lease(l, f, savedAtMs);
  const states: StateFields<Lease6State['state']> = {
    INIT: {},
    SELECTING: {
      tx: transaction,
      collectUntilMs: num,
      hint: optional(ip6),
      previousAddress: optional(ip6),
      best: optional(advert),
    },
    REQUESTING: { tx: transaction, offer: advert, previousAddress: optional(ip6) },
    BOUND: { lease: held },
    CONFIRMING: { tx: transaction, lease: held },
    RENEWING: { tx: transaction, lease: held },
    REBINDING: { tx: transaction, lease: held },
    DECLINING: { tx: transaction, lease: held },
    RELEASED: { previousAddress: optional(ip6) },
  };
  return checkStateBy(states, v, field) as unknown as Lease6State;
}

function retransmission(v: unknown, field: string): Retransmission {
  const r = obj(v, field);
  for (const k of ['irtMs', 'mrtMs', 'mrdMs']) int(r[k], `${field}.${k}`, 0, 0x7fffffff);
  int(r.mrc, `${field}.mrc`, 0, 1000);
  if ((r.irtMs as number) === 0) fail(`${field}.irtMs`, 'is 0 (a retransmission every instant)');
  return r as unknown as Retransmission;
}

function clientConfig6(v: unknown, field: string): ClientConfig6 {
  const c = obj(v, field);
  duid(c.duid, `${field}.duid`);
  int(c.iaid, `${field}.iaid`, 0, U32);
  if (!Array.isArray(c.oro) || c.oro.length > 255) fail(`${field}.oro`, 'is not a list of at most 255 option codes');
  c.oro.forEach((code, i) => int(code, `${field}.oro[${i}]`, 1, 0xffff));
  if (typeof c.rapidCommit !== 'boolean') fail(`${field}.rapidCommit`, 'is not a boolean');
  const t = obj(c.timing, `${field}.timing`);
  for (const k of ['solicit', 'request', 'confirm', 'renew', 'rebind', 'decline'] as const)
    retransmission(t[k], `${field}.timing.${k}`);
  return { ...c, timing: t as unknown as Timing6 } as unknown as ClientConfig6;
}

/** The last REPLY: base64 of a DHCPv6 REPLY that decodes. */
function reply(v: unknown, field: string): void {
  if (typeof v !== 'string' || !BASE64.test(v) || v.length % 4 !== 0) fail(field, 'is not base64');
  if (v.length > MAX_REPLY_BASE64) fail(field, `is longer than a DHCPv6 message can be (${MAX_REPLY_BASE64} chars)`);
  const d = decode(Buffer.from(v, 'base64'));
  if (!d.ok) fail(field, `is not a DHCPv6 message: ${d.reason}`);
  if (d.value.type !== MsgType.REPLY) fail(field, `is a message of type ${d.value.type}, not a REPLY`);
}

/** The v6 record, or why it cannot be used (naming the field). `version` and `family` are checked by the caller. */
export function checkRecord6(v: Obj): LeaseRecord6 | string {
  return recordOrReason(() => {
    const params = checkCommon(v);
    const cfg = clientConfig6(v.cfg, 'cfg');
    checkState6(v.state, v.savedAtMs as number);
    if (v.reply !== undefined) reply(v.reply, 'reply');
    if (v.prefixLength !== undefined) int(v.prefixLength, 'prefixLength', 1, 128);
    if (v.serverDuid !== undefined) duid(v.serverDuid, 'serverDuid');
    for (const k of ['t1AtMs', 't2AtMs', 'preferredUntilMs', 'expiresAtMs']) if (v[k] !== undefined) deadline(v[k], k);
    return { ...v, params, cfg } as unknown as LeaseRecord6;
  });
}
