// The DHCPv6 lease record (store.ts LeaseRecord6) of a lease as its runner holds it: the core's state with the
// attachment, the client's identity and the last REPLY, plus copies of the deadlines for people reading the file.
import type { AddParams } from './registry-api';
import { decode, encode } from './dhcp6/codec';
import type { ClientConfig6, Lease6State, State6Name } from './dhcp6/lease';
import { INFINITY } from './dhcp6/options';
import type { Dhcp6Message } from './dhcp6/types';
import type { Takeover6 } from './lease6-runner';
import { LeaseRecord6, RECORD_VERSION } from './store';

export interface Lease6Holding {
  params: AddParams;
  /** The pod interface's MAC. */
  mac: string;
  cfg: ClientConfig6;
  state: Lease6State;
  /** The REPLY that granted the address now held. */
  reply?: Dhcp6Message;
  /** The address's prefix length as ADD's result gave it (the RA's on-link prefix, else 128). */
  prefixLength?: number;
}

export function record6Of(h: Lease6Holding, netnsInode: number, nowMs: number): LeaseRecord6 {
  const { containerId, network, ifName } = h.params;
  const rec: LeaseRecord6 = {
    version: RECORD_VERSION,
    family: 'ipv6',
    attachment: { containerId, network, ifName },
    params: h.params,
    netnsInode,
    mac: h.mac,
    cfg: h.cfg,
    state: h.state,
    savedAtMs: nowMs,
  };
  if (h.reply) rec.reply = encode(h.reply).toString('base64');
  if (h.prefixLength !== undefined) rec.prefixLength = h.prefixLength;
  if ('lease' in h.state) {
    const l = h.state.lease;
    rec.serverDuid = l.server.duid;
    rec.t1AtMs = l.t1AtMs;
    rec.t2AtMs = l.t2AtMs;
    rec.preferredUntilMs = preferredUntil(l.expiresAtMs, l.validS, l.preferredS);
    rec.expiresAtMs = l.expiresAtMs;
  }
  return rec;
}

/** The end of the preferred lifetime, from the valid one's end (both count from the same REPLY); null: forever. */
export function preferredUntil(expiresAtMs: number | null, validS: number, preferredS: number): number | null {
  if (preferredS === INFINITY) return null;
  if (expiresAtMs === null) return null;
  return expiresAtMs - (validS - preferredS) * 1000;
}

/** What a runner built from this record starts with (new Lease6Runner(..., takeover6(rec, now))) and the state its
 *  resume() goes to: a stored address that has not run out is held as stored, with its REPLY's facts, until a
 *  CONFIRM re-verifies it; any other is asked for again (SOLICIT with the address as a hint). */
export function takeover6(rec: LeaseRecord6, nowMs: number): Takeover6 & { next: State6Name } {
  const s = rec.state;
  const unexpired = 'lease' in s && (s.lease.expiresAtMs === null || s.lease.expiresAtMs > nowMs);
  const t: Takeover6 & { next: State6Name } = { held: s, next: unexpired ? 'CONFIRMING' : 'SELECTING' };
  if (rec.prefixLength !== undefined) t.prefixLength = rec.prefixLength;
  // The record was checked to hold a REPLY that decodes (record-check6.ts).
  const d = unexpired && rec.reply !== undefined ? decode(Buffer.from(rec.reply, 'base64')) : undefined;
  if (d?.ok) t.reply = d.value;
  return t;
}
