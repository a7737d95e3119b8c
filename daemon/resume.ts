// Lease records ↔ runners: what a record holds for a runner, and how a stored lease is re-verified after a restart.
import { decode } from './dhcp/codec';
import { LeaseState, initialState } from './dhcp/lease';
import { sanitiseReply } from './dhcp/sanitise';
import { DhcpMessage } from './dhcp/types';
import type { LeaseRunner, Takeover } from './lease-runner';
import { LeaseRecord, RECORD_VERSION } from './store';
import { unreachable } from './dhcp/unreachable';

export function recordOf(r: LeaseRunner, netnsInode: number, nowMs: number): LeaseRecord {
  const { containerId, network, ifName } = r.params;
  const rec: LeaseRecord = {
    version: RECORD_VERSION,
    attachment: { containerId, network, ifName },
    params: r.params,
    netnsInode,
    mac: r.cfg.chaddr,
    cfg: r.cfg,
    state: r.state,
    savedAtMs: nowMs,
  };
  if (r.ackRecord) rec.ack = r.ackRecord;
  if (r.facts) rec.serverId = r.facts.serverId;
  if ('lease' in r.state) {
    rec.serverId = r.state.lease.serverId;
    rec.t1AtMs = r.state.lease.t1AtMs;
    rec.t2AtMs = r.state.lease.t2AtMs;
    rec.expiresAtMs = r.state.lease.expiresAtMs;
  }
  return rec;
}

/** The record's ACK, through the same sanitising step as a reply off the wire (a record written by an older
 *  version, or edited, is no more trusted than the LAN). */
export function storedAck(rec: LeaseRecord, minLeaseTimeS: number): DhcpMessage | undefined {
  if (rec.ack === undefined) return undefined;
  const d = decode(Buffer.from(rec.ack, 'base64'));
  return d.ok ? sanitiseReply(d.value, { minLeaseTimeS }).msg : undefined;
}

/** What a runner built from this record starts with (new LeaseRunner(rec.params, rec.cfg, deps, takeover(...))):
 *  until the re-verification an unexpired lease stays as stored, so the lease view shows it and a DEL in between
 *  still sends its RELEASE. */
export function takeover(rec: LeaseRecord, nowMs: number, minLeaseTimeS: number): Takeover {
  const next = resumeState(rec, nowMs);
  const s = rec.state;
  const unexpired = 'lease' in s && (s.lease.expiresAtMs === null || s.lease.expiresAtMs > nowMs);
  const t: Takeover = { held: unexpired ? s : next, next, expired: !unexpired };
  const ack = storedAck(rec, minLeaseTimeS);
  if (ack) t.ack = ack;
  return t;
}

/** How a stored lease is re-verified with the server before it is trusted (RFC 2131 §3.2): a lease still before
 *  T1 is RENEWed at once (T1 moved to now); any other stored address is asked for in INIT-REBOOT; a record without
 *  an address starts over at INIT. */
export function resumeState(rec: LeaseRecord, nowMs: number): LeaseState {
  const s = rec.state;
  if (s.state === 'BOUND' && s.lease.t1AtMs !== null && nowMs < s.lease.t1AtMs) {
    return { state: 'BOUND', lease: { ...s.lease, t1AtMs: nowMs } };
  }
  const address = storedAddress(s);
  return address === undefined ? initialState() : initialState(address);
}

function storedAddress(s: LeaseState): string | undefined {
  switch (s.state) {
    case 'BOUND':
    case 'RENEWING':
    case 'REBINDING':
      return s.lease.address;
    case 'INIT-REBOOT':
    case 'REBOOTING':
      return s.requestedIp;
    case 'SELECTING':
      return s.requestedIp;
    case 'REQUESTING':
      return s.offer.address;
    case 'PROBING':
      // Never persisted while probing; the probed address was not in use yet.
      return s.previousAddress;
    case 'INIT':
    case 'RELEASED':
      return undefined;
    default:
      return unreachable(s, 'state');
  }
}
