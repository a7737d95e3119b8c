// What the registry's two tables show to people and scrapers: the lease view (`ts-dhcp leases`), one lease in full,
// and counts (`ts-dhcp status`, the metrics' gauge). Reads only; the registry owns the tables.
import { LeaseDetail, LeaseParams, LeaseView, attachmentKey } from '../common/rpc';
import { DaemonError } from './errors';
import { LeaseTable } from './lease-table';
import { detail, detail6, view, view6 } from './lease-view';
import type { LeaseCounts } from './registry-api';
import type { Leases6 } from './registry6';

export class LeaseQueries {
  constructor(
    private readonly leases: LeaseTable,
    private readonly leases6: Leases6,
  ) {}

  list(): LeaseView[] {
    return [...this.leases.runners().map((r) => view(r)), ...this.leases6.runners().map((r) => view6(r))];
  }

  /** One lease in full, with its recent transitions (`ts-dhcp leases show`): of `family`, or the attachment's
   *  IPv4 lease, else its IPv6 one. */
  detail(a: LeaseParams): LeaseDetail {
    const key = attachmentKey(a);
    const r = a.family === 'ipv6' ? undefined : this.leases.get(key);
    if (r) return detail(r);
    const r6 = a.family === 'ipv4' ? undefined : this.leases6.get(key);
    if (r6) return detail6(r6);
    throw new DaemonError('no-lease', `no ${a.family === undefined ? '' : `${a.family} `}lease for ${key}`);
  }

  /** Leases whose record could not be written and is being retried (`ts-dhcp status`). */
  recordErrors(): number {
    return this.leases.runners().filter((r) => r.recordError !== undefined).length;
  }

  /** Leases by state, both families together (`ts-dhcp status`). */
  countsByState(): Record<string, number> {
    const counts = this.leases.countsByState();
    for (const [state, n] of Object.entries(this.leases6.countsByState())) counts[state] = (counts[state] ?? 0) + n;
    return counts;
  }

  /** Leases by family and state (the metrics' gauge). */
  countsByFamily(): LeaseCounts {
    return { ipv4: this.leases.countsByState(), ipv6: this.leases6.countsByState() };
  }
}
