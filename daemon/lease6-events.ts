// What the DHCPv6 lease core's own events mean for the lease's history and its log lines; the events both cores have
// are lease-events.ts noteCommon's.
import type { Lease6Event } from './dhcp6/lease';
import { noteCommon } from './lease-events';
import type { LeaseHistory } from './lease-history';
import type { Logger } from './log';

/** Notes one event; for a grant (bound, renewed, rebound, changed), how long its exchange took. */
export function noteEvent6(
  event: Lease6Event,
  history: LeaseHistory,
  log: Logger,
  address: string | undefined,
): number | undefined {
  switch (event.kind) {
    case 'confirmed':
    case 'unconfirmed':
      log.info({ address: event.address }, `DHCPv6 lease ${event.kind}`);
      return undefined;
    case 'status':
      history.refused();
      history.lastError = `status ${event.code} in ${event.in}: ${event.message}`;
      log.warn({ in: event.in, code: event.code, message: event.message }, 'DHCPv6 status');
      return undefined;
    case 'declined':
      history.lastError = `${event.address}: duplicate address detection failed; declined`;
      log.warn({ address: event.address }, 'duplicate address: DECLINE sent');
      return undefined;
    default:
      return noteCommon(event, history, log, { address });
  }
}
