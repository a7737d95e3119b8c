// What each event of a lease core means for the lease's history (lease-history.ts) and its log lines: the events
// both cores have, and the DHCPv4 core's own (lease6-events.ts has the DHCPv6 core's).
import type { LeaseFacts } from '../common/rpc';
import type { LeaseEvent } from './dhcp/lease';
import type { AnswerNames, LeaseHistory } from './lease-history';
import type { Logger } from './log';
import { unreachable } from './dhcp/unreachable';

/** What the history's progress text calls the DHCPv4 server's answers. */
export const DHCP4_ANSWERS: AnswerNames = { offer: 'OFFER', refusal: 'NAK', grant: 'ACK' };

/** The events both lease cores (DHCPv4 and DHCPv6) emit, in the shape both give them. */
export type CommonEvent =
  | { kind: 'bound' | 'renewed' | 'rebound' | 'released' }
  | { kind: 'changed'; from: string; to: string }
  | { kind: 'expired'; address: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'ignored'; reason: string }
  | { kind: 'retransmit'; state: string; attempt: number };

/** Notes one event of either core; for a grant (bound, renewed, rebound, changed), how long its exchange took.
 *  `granted`: what the log line of a grant says about the lease. */
export function noteCommon(
  event: CommonEvent,
  history: LeaseHistory,
  log: Logger,
  granted: Record<string, unknown>,
): number | undefined {
  switch (event.kind) {
    case 'bound':
    case 'renewed':
    case 'rebound':
    case 'changed':
      history.granted();
      if (event.kind === 'changed') log.warn({ from: event.from, to: event.to }, 'lease changed address');
      else log.info(granted, event.kind);
      return history.exchangeEnded();
    case 'expired':
      history.exchangeBegins(true);
      log.warn({ address: event.address }, 'lease expired');
      return undefined;
    case 'failed':
      history.lastError = event.reason;
      log.warn({ reason: event.reason }, 'failed');
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

/** Notes one event of the DHCPv4 core; for a grant, how long its exchange took. `facts`: the lease's facts after
 *  the event. */
export function noteEvent(
  event: LeaseEvent,
  history: LeaseHistory,
  log: Logger,
  facts: LeaseFacts | undefined,
): number | undefined {
  switch (event.kind) {
    case 'offered':
      history.offered();
      return undefined;
    case 'nak':
      history.refused();
      log.warn({ in: event.in, message: event.message }, 'NAK');
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
    default:
      return noteCommon(event, history, log, { address: facts?.address, leaseTimeS: facts?.leaseTimeS });
  }
}
