// What `ts-dhcp leases` and `ts-dhcp leases show` print of a lease: its row, and its detail with recent transitions.
import type { IpFamily, LeaseDetail, LeaseView } from '../common/rpc';
import type { LeaseRunner } from './lease-runner';
import type { Lease6Runner } from './lease6-runner';
import { preferredUntil } from './record6';
import type { AddParams } from './registry-api';

/** The fields every row has: the attachment, its pod, the lease's family and state. */
function row(p: AddParams, family: IpFamily, mac: string, state: string): LeaseView {
  const { containerId, network, ifName, netns, args } = p;
  return { containerId, network, ifName, family, netns, args, mac, state };
}

const iso = (ms: number | null): string | undefined => (ms === null ? undefined : new Date(ms).toISOString());

/** The lease view's row of a runner (`ts-dhcp leases`). */
export function view(r: LeaseRunner): LeaseView {
  const s = r.state;
  const v = row(r.params, 'ipv4', r.cfg.chaddr, s.state);
  if (r.facts) {
    v.address = r.facts.address;
    v.prefixLength = r.facts.prefixLength;
    v.serverId = r.facts.serverId;
  }
  if ('lease' in s) {
    v.t1At = iso(s.lease.t1AtMs);
    v.t2At = iso(s.lease.t2AtMs);
    v.expiresAt = iso(s.lease.expiresAtMs);
  }
  if (r.lastError) v.lastError = r.lastError;
  if (r.recordError !== undefined) v.recordError = r.recordError;
  if (r.changedTo !== undefined) {
    // `address` stays what the pod's interface has; changedTo is what the server bound instead.
    v.address = r.configuredAddress;
    v.changedTo = r.changedTo;
  }
  return v;
}

/** One lease in full, with its recent transitions (`ts-dhcp leases show`). */
export function detail(r: LeaseRunner): LeaseDetail {
  const d: LeaseDetail = { ...view(r), transitions: [...r.transitions], ignored: { ...r.ignored } };
  if (r.facts) d.facts = r.facts;
  return d;
}

/** The row of a DHCPv6 runner: the IA_NA address, the server's DUID and unicast address, the client's DUID and
 *  IAID, the preferred lifetime's end beside T1/T2/valid end. */
export function view6(r: Lease6Runner): LeaseView {
  const s = r.state;
  const v = row(r.params, 'ipv6', r.mac, s.state);
  v.duid = r.cfg.duid;
  v.iaid = r.cfg.iaid;
  if (r.facts) {
    v.address = r.facts.address;
    v.prefixLength = r.facts.prefixLength;
    v.serverId = r.facts.serverId;
  }
  if ('lease' in s) {
    const l = s.lease;
    if (l.server.unicast !== undefined) v.serverAddress = l.server.unicast;
    v.preferredUntil = iso(preferredUntil(l.expiresAtMs, l.validS, l.preferredS));
    v.t1At = iso(l.t1AtMs);
    v.t2At = iso(l.t2AtMs);
    v.expiresAt = iso(l.expiresAtMs);
  }
  if (r.lastError) v.lastError = r.lastError;
  return v;
}

/** One DHCPv6 lease in full: its row, what the REPLY said (DNS), its recent transitions. */
export function detail6(r: Lease6Runner): LeaseDetail {
  const d: LeaseDetail = { ...view6(r), transitions: [...r.transitions], ignored: { ...r.ignored } };
  if (r.facts) d.facts6 = r.facts;
  return d;
}
