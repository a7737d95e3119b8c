// What each event of the DHCPv4 lease core means for the lease's history (lease-history.ts) and its log lines.
import type { LeaseFacts } from '../common/rpc';
import type { LeaseEvent } from './dhcp/lease';
import type { AnswerNames, LeaseHistory } from './lease-history';
import type { Logger } from './log';
import { unreachable } from './dhcp/unreachable';

/** What the history's progress text calls the DHCPv4 server's answers. */
export const DHCP4_ANSWERS: AnswerNames = { offer: 'OFFER', refusal: 'NAK', grant: 'ACK' };

/** Notes one event; for a grant (bound, renewed, rebound, changed), how long its exchange took. `facts`: the
 *  lease's facts after the event. */
export function noteEvent(
  event: LeaseEvent,
  history: LeaseHistory,
  log: Logger,
  facts: LeaseFacts | undefined,
): number | undefined {
  switch (event.kind) {
    case 'bound':
    case 'renewed':
    case 'rebound':
    case 'changed':
      history.granted();
      if (event.kind === 'changed') log.warn({ from: event.from, to: event.to }, 'lease changed address');
      else log.info({ address: facts?.address, leaseTimeS: facts?.leaseTimeS }, event.kind);
      return history.exchangeEnded();
    case 'offered':
      history.offered();
      return undefined;
    case 'nak':
      history.refused();
      log.warn({ in: event.in, message: event.message }, 'NAK');
      return undefined;
    case 'expired':
      history.exchangeBegins(true);
      log.warn({ address: event.address }, 'lease expired');
      return undefined;
    case 'failed':
      history.lastError = event.reason;
      log.warn({ reason: event.reason }, 'failed');
      return undefined;
    case 'declined':
      history.lastError = `${event.address} is in use by ${event.by}: declined`;
      log.warn(
        { address: event.address, by: event.by, conflicts: event.conflicts, restartInMs: event.restartInMs },
        'address in use on the link: DHCPDECLINE sent',
      );
      return undefined;
    case 'abandoned':
      history.lastError = `gave up after ${event.afterMs}ms (resend timeout): ${history.progress()}`;
      log.warn({ progress: history.progress() }, 'background acquisition given up (resend timeout)');
      return undefined;
    case 'ignored': {
      const n = history.ignoredOne(event.reason);
      // Pods sharing a MAC hear each other's replies (the AF_PACKET filter matches chaddr): other xids are routine.
      const routine = event.reason === 'xid' || event.reason === 'state' || event.reason === 'type';
      log[routine ? 'debug' : 'info']({ reason: event.reason, count: n }, 'ignored a reply');
      return undefined;
    }
    case 'retransmit':
      log.debug({ in: event.state, attempt: event.attempt }, 'retransmit');
      return undefined;
    case 'released':
      log.info('released');
      return undefined;
    default:
      return unreachable(event, 'event');
  }
}
