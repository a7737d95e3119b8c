// What `ts-dhcp leases` and `ts-dhcp leases show` print of a lease: its row, and its detail with recent transitions.
import type { LeaseDetail, LeaseView } from '../common/rpc';
import type { LeaseRunner } from './lease-runner';

/** The lease view's row of a runner (`ts-dhcp leases`). */
export function view(r: LeaseRunner): LeaseView {
  const s = r.state;
  const v: LeaseView = {
    containerId: r.params.containerId,
    network: r.params.network,
    ifName: r.params.ifName,
    family: 'ipv4',
    netns: r.params.netns,
    args: r.params.args,
    mac: r.cfg.chaddr,
    state: s.state,
  };
  if (r.facts) {
    v.address = r.facts.address;
    v.prefixLength = r.facts.prefixLength;
    v.serverId = r.facts.serverId;
  }
  if ('lease' in s) {
    const iso = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());
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
