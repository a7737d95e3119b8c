// The RFC 2131 client state machine for one lease, sans I/O: step(state, input, nowMs) → { state, actions }.
// Time and randomness are inputs; the driver sends, arms one timer at nextDeadline() and persists. The state is
// plain JSON (it is what the store writes).
import { ArpPacket, arpAnnouncement, arpProbe } from './arp';
import { BROADCAST_IP, ZERO_IP, macToString } from './bytes';
import { decode, encode } from './codec';
import {
  ClientIdentity,
  buildDecline,
  buildDiscover,
  buildRelease,
  buildRequestInitReboot,
  buildRequestRebinding,
  buildRequestRenewing,
  buildRequestSelecting,
  mergeOptions,
} from './messages';
import { messageType, serverId } from './options';
import {
  Announcing,
  ConflictDetection,
  ProbeProgress,
  announced,
  declineRestartMs,
  isConflict,
  probeSent,
  probeTiming,
  startAnnouncing,
  startProbe,
} from './probe';
import { Rng } from './rng';
import { isUnicast } from './sanitise';
import { TimingConfig, leaseTimes, renewRetransmitAtMs, retransmitDelayMs } from './timing';
import { BOOTREPLY, DhcpMessage, MessageType, Opt } from './types';
import { unreachable } from './unreachable';
import { InputHandlers, earliest, heldDeadline, ignore, onInput, releasedState } from './lease-common';

/** Plain-data client configuration (what a lease record can carry); converted to Buffers for each message. */
export interface ClientConfig {
  /** MAC, "aa:bb:cc:dd:ee:ff" or "aabbccddeeff". */
  chaddr: string;
  /** Option 61 value in hex, type byte included; "" for none. */
  clientId: string;
  paramRequestList: number[];
  /** Values in hex. A provided 61 replaces clientId (see mergeOptions). */
  provide: { code: number; value: string }[];
  broadcastFlag: boolean;
  maxMessageSize: number;
  timing: TimingConfig;
  /** RFC 5227 probing of each new address before it is used (daemon/dhcp/probe.ts); absent (records written
   *  before the setting existed): 'off'. */
  conflictDetection?: ConflictDetection;
  /** Gratuitous ARP announcements once a new address is bound (RFC 5227 §2.3); absent: none. */
  announce?: boolean;
}

export interface StepContext {
  cfg: ClientConfig;
  rng: Rng;
  /** Give up an acquisition (SELECTING to PROBING, across NAKs and DECLINEs) this long after it began (daemon
   *  -resendtimeout): the 'abandoned' event. Absent or 0: never. */
  giveUpAfterMs?: number;
}

/** One exchange (DISCOVER…ACK, a renewal, a rebinding): its xid and clocks. */
export interface Transaction {
  xid: number;
  /** Origin of the secs field: when acquisition (or renewal) began. */
  startedAtMs: number;
  /** First transmission of the current REQUEST: the origin of the lease times (RFC 2131 §4.4.1). */
  firstSentAtMs: number;
  /** Transmissions of the current message so far (0: the first is still to be sent at retransmitAtMs). */
  sends: number;
  retransmitAtMs: number;
}

/** The facts of a bound lease. Deadlines are absolute (driver clock); null for an infinite lease. */
export interface Lease {
  address: string;
  serverId: string;
  leaseTimeS: number;
  requestSentAtMs: number;
  t1AtMs: number | null;
  t2AtMs: number | null;
  expiresAtMs: number | null;
}

export interface Offer {
  address: string;
  serverId: string;
}

export type LeaseState =
  /** Not started. Transient: 'start' sends a DISCOVER at once. */
  | { state: 'INIT' }
  /** Not started, with an address to verify (a stored lease). 'start' sends the INIT-REBOOT REQUEST at once. */
  | { state: 'INIT-REBOOT'; requestedIp: string }
  /** previousAddress: the address held before a NAK/expiry/DECLINE (for 'changed'); naks: NAKs since the last
   *  bind; conflicts: DECLINEs since the last bind. */
  | ({
      state: 'SELECTING';
      tx: Transaction;
      requestedIp?: string;
      previousAddress?: string;
      naks?: number;
      conflicts?: number;
    } & GiveUp)
  | ({
      state: 'REQUESTING';
      tx: Transaction;
      offer: Offer;
      previousAddress?: string;
      naks?: number;
      conflicts?: number;
    } & GiveUp)
  | ({ state: 'REBOOTING'; tx: Transaction; requestedIp: string } & GiveUp)
  /** An ACKed address not in use yet, probed with ARP (RFC 5227 §2.1) before it is: `ack` (base64 of its
   *  encoding) becomes the 'bound' or 'changed' event when no one answers. previousAddress as in SELECTING. */
  | ({
      state: 'PROBING';
      lease: Lease;
      ack: string;
      probe: ProbeProgress;
      previousAddress?: string;
      conflicts?: number;
    } & GiveUp)
  /** announce: gratuitous ARP announcements still to send for a newly bound address. */
  | { state: 'BOUND'; lease: Lease; announce?: Announcing }
  | { state: 'RENEWING'; lease: Lease; tx: Transaction }
  | { state: 'REBINDING'; lease: Lease; tx: Transaction }
  | { state: 'RELEASED'; previousAddress?: string };

/** The states of an acquisition: giveUpAtMs is when it is abandoned (StepContext.giveUpAfterMs after it began). */
interface GiveUp {
  giveUpAtMs?: number;
}

export type StateName = LeaseState['state'];

const ACQUIRING: ReadonlySet<StateName> = new Set(['SELECTING', 'REQUESTING', 'REBOOTING', 'PROBING']);

export type Input =
  /** requestedIp: INIT-REBOOT for an address held before; offer: straight to REQUESTING for an address a server
   *  offered before (a retried ADD, registry fast retry), without a DISCOVER. */
  | { type: 'start'; requestedIp?: string; offer?: Offer }
  | { type: 'packet'; msg: DhcpMessage }
  | { type: 'timeout' }
  /** An ARP packet heard on the interface while probing. */
  | { type: 'arp'; packet: ArpPacket }
  | { type: 'release' }
  | { type: 'linkGone' };

export type IgnoreReason =
  | 'state' // no transaction in progress
  | 'op' // not a BOOTREPLY
  | 'xid'
  | 'chaddr'
  | 'type' // message type not expected in this state
  | 'server-id' // not from the server the REQUEST named
  | 'no-server-id'
  | 'yiaddr' // OFFER without an address
  | 'invalid-ack'; // ACK without a usable address or lease time ('failed' says why)

export type LeaseEvent =
  | { kind: 'bound'; ack: DhcpMessage }
  | { kind: 'renewed'; ack: DhcpMessage }
  | { kind: 'rebound'; ack: DhcpMessage }
  | { kind: 'changed'; from: string; to: string; ack: DhcpMessage }
  | { kind: 'nak'; in: StateName; message?: string }
  /** A valid OFFER for this client (the first one is taken: REQUESTING follows). */
  | { kind: 'offered'; address: string; serverId: string }
  /** No lease within StepContext.giveUpAfterMs of the acquisition's start: the driver stops. */
  | { kind: 'abandoned'; afterMs: number }
  | { kind: 'expired'; address: string }
  /** sentRelease: whether a DHCPRELEASE went out (not for linkGone, nor without a bound lease). */
  | { kind: 'released'; sentRelease: boolean }
  | { kind: 'ignored'; reason: IgnoreReason }
  | { kind: 'failed'; reason: string }
  /** The ACKed address answered a probe (`by`: that host's MAC): a DHCPDECLINE went out, DISCOVER follows after
   *  restartInMs. conflicts: DECLINEs since the last bind. */
  | { kind: 'declined'; address: string; by: string; conflicts: number; restartInMs: number }
  /** attempt: the ordinal of this transmission of the message (2 = first retransmission). */
  | { kind: 'retransmit'; state: StateName; attempt: number };

/** How a message leaves: AF_PACKET on the pod's interface (IP source srcIp, Ethernet broadcast), UDP from srcIp in
 *  the pod's netns, or UDP from the daemon's own netns (the pod side is gone; srcIp is only the message's ciaddr). */
export type Via = 'packet' | 'udp' | 'host';

/** Actions are to be carried out in order. */
export type Action =
  /** fallback: the ways to try next, in order, when this one cannot send (a RELEASE must reach the server). */
  | { type: 'send'; msg: DhcpMessage; via: Via; srcIp: string; dstIp: string; fallback?: Via[] }
  /** One ARP packet, broadcast on the interface (a probe or an announcement). */
  | { type: 'arp'; packet: ArpPacket }
  | { type: 'emit'; event: LeaseEvent }
  | { type: 'persist' };

/** What moved the lease to another state, in the RFC's words (T1, T2, NAK...): the lease view's history says it. */
export type Trigger =
  /** requestedIp and offer: as the 'start' input gave them. */
  | { by: 'start'; requestedIp?: string; offer?: Offer }
  | {
      by:
        | 'OFFER'
        | 'ACK'
        | 'NAK'
        | 'T1'
        | 'T2'
        | 'expiry'
        | 'unanswered'
        | 'probed'
        | 'conflict'
        | 'release'
        | 'link-gone';
    };

export interface StepResult {
  state: LeaseState;
  actions: Action[];
  /** Set by every step that changes the state's name. */
  trigger?: Trigger;
}

/** The socket the driver must hold so replies can arrive: srcIp is the address it is bound to (and sends from);
 *  hearBroadcast: a second one must hear replies broadcast to 255.255.255.255. */
export type Transport =
  { via: 'packet' | 'udp'; srcIp: string; hearBroadcast?: boolean } | { via: 'arp'; address: string };

/** After the n-th NAK in a row (n ≥ 2) DISCOVER waits 2 s, 4 s, … (capped): a server that NAKs its own OFFERs
 * must not drive a packet storm. The first NAK restarts at once. */
const NAK_RESTART_FIRST_MS = 2000;

type TxState = Extract<LeaseState, { tx: Transaction }>;
/** The states named. */
type In<K extends LeaseState['state']> = Extract<LeaseState, { state: K }>;
/** A transaction past SELECTING: a REQUEST is in flight. */
type RequestTx = Exclude<TxState, { state: 'SELECTING' }>;
type HeldState = Extract<LeaseState, { lease: Lease }>;

export function initialState(requestedIp?: string): LeaseState {
  if (requestedIp === undefined) return { state: 'INIT' };
  checkIp(requestedIp);
  return { state: 'INIT-REBOOT', requestedIp };
}

export function step(state: LeaseState, input: Input, nowMs: number, ctx: StepContext): StepResult {
  const giveUpAtMs = 'giveUpAtMs' in state ? state.giveUpAtMs : undefined;
  if (
    ctx.giveUpAfterMs &&
    giveUpAtMs !== undefined &&
    nowMs >= giveUpAtMs &&
    input.type !== 'release' &&
    input.type !== 'linkGone'
  ) {
    return { state, actions: [emit({ kind: 'abandoned', afterMs: ctx.giveUpAfterMs })] };
  }
  const r = onInput(ON_INPUT, state, input, nowMs, ctx);
  // An acquisition keeps the deadline it began with, through NAKs, DECLINEs and unanswered REQUESTs.
  if (!ctx.giveUpAfterMs || !ACQUIRING.has(r.state.state)) return r;
  const at = ACQUIRING.has(state.state) && giveUpAtMs !== undefined ? giveUpAtMs : nowMs + ctx.giveUpAfterMs;
  return 'giveUpAtMs' in r.state && r.state.giveUpAtMs === at
    ? r
    : { ...r, state: Object.assign({}, r.state, { giveUpAtMs: at }) };
}

const ON_INPUT: InputHandlers<Input, LeaseState, StepContext, StepResult> = {
  start: onStart,
  packet: (s, input, now, ctx) => onPacket(s, input.msg, now, ctx),
  timeout: (s, _, now, ctx) => onTimeout(s, now, ctx),
  arp: (s, input, now, ctx) => onArp(s, input.packet, now, ctx),
  release: (s, _, _now, ctx) => onRelease(s, ctx),
  linkGone: (s, _, now, ctx) => onLinkGone(s, now, ctx),
};

/** The earliest instant at which the driver must call step with 'timeout'; undefined: none. */
export function nextDeadline(state: LeaseState): number | undefined {
  switch (state.state) {
    case 'INIT':
    case 'INIT-REBOOT':
    case 'RELEASED':
      return undefined;
    case 'SELECTING':
    case 'REQUESTING':
    case 'REBOOTING':
      return earliest(state.tx.retransmitAtMs, state.giveUpAtMs ?? null);
    case 'PROBING':
      return earliest(state.probe.nextAtMs, state.giveUpAtMs ?? null);
    case 'BOUND':
      return heldDeadline(state, state.announce?.atMs ?? null);
    case 'RENEWING':
    case 'REBINDING':
      return heldDeadline(state);
    default:
      return unreachable(state, 'state');
  }
}

/**
 * The socket the driver must hold so replies can arrive: AF_PACKET while the client has no usable address (source
 * 0.0.0.0) or broadcasts from ciaddr (REBINDING); UDP bound to ciaddr in RENEWING, plus one bound to the broadcast
 * address, since a server NAKs by broadcast (RFC 2131 §4.1: giaddr 0, NAK to 0xffffffff) and a socket bound to
 * ciaddr never sees it; an ARP socket for the probed address while probing; none otherwise.
 */
export function transportFor(state: LeaseState): Transport | null {
  switch (state.state) {
    case 'PROBING':
      return { via: 'arp', address: state.lease.address };
    case 'SELECTING':
    case 'REQUESTING':
    case 'REBOOTING':
      return { via: 'packet', srcIp: ZERO_IP };
    case 'REBINDING':
      return { via: 'packet', srcIp: state.lease.address };
    case 'RENEWING':
      return { via: 'udp', srcIp: state.lease.address, hearBroadcast: true };
    case 'INIT':
    case 'INIT-REBOOT':
    case 'BOUND':
    case 'RELEASED':
      return null;
    default:
      return unreachable(state, 'state');
  }
}

/** The RELEASE of a held, unexpired lease, sent from the daemon's own netns: the pod side that could send it is
 *  gone (RFC 2131 §4.4.6 names a lease by ciaddr, chaddr, 61 and 54, not by where the message comes from). */
export function hostRelease(
  state: LeaseState,
  nowMs: number,
  ctx: StepContext,
): Extract<Action, { type: 'send' }> | undefined {
  if (!('lease' in state)) return undefined;
  const { address, serverId: sid, expiresAtMs } = state.lease;
  if (expiresAtMs !== null && expiresAtMs <= nowMs) return undefined;
  return {
    type: 'send',
    msg: buildRelease(identity(ctx.cfg), ctx.rng.u32(), address, sid),
    via: 'host',
    srcIp: address,
    dstIp: sid,
  };
}

/** Why a state changed, for the lease view: the event that says most, else the trigger. */
export function transitionWhy(trigger: Trigger | undefined, events: LeaseEvent[]): string {
  for (const e of events) {
    switch (e.kind) {
      case 'nak':
        return e.message ? `NAK: ${e.message}` : 'NAK';
      case 'expired':
        return `lease on ${e.address} expired`;
      case 'failed':
        return e.reason;
      case 'declined':
        return `${e.address} in use (ARP from ${e.by}): DECLINE`;
      case 'changed':
        return `ACK with a new address (${e.from} -> ${e.to})`;
      case 'bound':
      case 'renewed':
      case 'rebound':
        return trigger?.by === 'probed' ? 'no answer to the ARP probes' : 'ACK';
      case 'released':
        return e.sentRelease ? 'released (RELEASE sent)' : 'released';
      default:
    }
  }
  if (!trigger) return 'timeout';
  switch (trigger.by) {
    case 'start':
      if (trigger.offer)
        return `start (REQUEST for ${trigger.offer.address}, offered by ${trigger.offer.serverId} before)`;
      return trigger.requestedIp ? `start (requesting ${trigger.requestedIp})` : 'start';
    case 'release':
      return 'release requested';
    case 'link-gone':
      return 'link or netns gone';
    case 'probed':
      return 'no answer to the ARP probes';
    default:
      return trigger.by;
  }
}

// ---- caller commands ----

function onStart(
  s: LeaseState,
  { requestedIp, offer }: Extract<Input, { type: 'start' }>,
  now: number,
  ctx: StepContext,
): StepResult {
  const trigger: Trigger = { by: 'start' };
  if (requestedIp !== undefined) trigger.requestedIp = requestedIp;
  if (offer) trigger.offer = offer;
  switch (s.state) {
    case 'INIT':
      if (offer) return moved(startRequesting(offer, now, ctx), trigger);
      return moved(
        requestedIp === undefined ? startSelecting(now, ctx, {}) : startRebooting(requestedIp, now, ctx),
        trigger,
      );
    case 'INIT-REBOOT':
      return moved(startRebooting(requestedIp ?? s.requestedIp, now, ctx), trigger);
    case 'SELECTING':
    case 'REQUESTING':
    case 'REBOOTING':
    case 'PROBING':
    case 'BOUND':
    case 'RENEWING':
    case 'REBINDING':
    case 'RELEASED':
      throw new Error(`'start' is not valid in state ${s.state}`);
    default:
      return unreachable(s, 'state');
  }
}

function onRelease(s: LeaseState, ctx: StepContext): StepResult {
  switch (s.state) {
    // PROBING: the server holds the lease for this client even though the address was never used.
    case 'PROBING':
    case 'BOUND':
    case 'RENEWING':
    case 'REBINDING': {
      const { address, serverId: sid } = s.lease;
      const msg = buildRelease(identity(ctx.cfg), ctx.rng.u32(), address, sid);
      // From ciaddr in the pod's netns; AF_PACKET when ciaddr has no route there (never configured: the plugin was
      // killed mid-ADD, or the main plugin failed after IPAM); from the host when the pod's side is gone too.
      return {
        state: { state: 'RELEASED', previousAddress: address },
        actions: [
          { type: 'send', msg, via: 'udp', srcIp: address, dstIp: sid, fallback: ['packet', 'host'] },
          { type: 'persist' },
          emit({ kind: 'released', sentRelease: true }),
        ],
        trigger: { by: 'release' },
      };
    }
    case 'INIT':
    case 'INIT-REBOOT':
    case 'SELECTING':
    case 'REQUESTING':
    case 'REBOOTING':
      return moved(released(s, false), { by: 'release' });
    case 'RELEASED':
      return { state: s, actions: [] };
    default:
      return unreachable(s, 'state');
  }
}

/** The pod's interface or netns is gone: in every state the lease ends here, and nothing can be sent from there; a
 *  held address is free for reuse, so the RELEASE goes from the host. */
function onLinkGone(s: LeaseState, now: number, ctx: StepContext): StepResult {
  if (s.state === 'RELEASED') return { state: s, actions: [] };
  const r = released(s, false);
  const send = hostRelease(s, now, ctx);
  return { ...r, actions: send ? [...r.actions, send] : r.actions, trigger: { by: 'link-gone' } };
}

function released(s: LeaseState, sentRelease: boolean): StepResult {
  return { state: releasedState(s), actions: [{ type: 'persist' }, emit({ kind: 'released', sentRelease })] };
}

// ---- timers ----

function onTimeout(s: LeaseState, now: number, ctx: StepContext): StepResult {
  switch (s.state) {
    case 'INIT':
    case 'INIT-REBOOT':
    case 'RELEASED':
      return { state: s, actions: [] };
    case 'SELECTING':
      return now < s.tx.retransmitAtMs ? { state: s, actions: [] } : sendDiscover(s, now, ctx);
    case 'PROBING':
      return now < s.probe.nextAtMs ? { state: s, actions: [] } : onProbeTimer(s, now, ctx);
    case 'REQUESTING':
    case 'REBOOTING':
      if (now < s.tx.retransmitAtMs) return { state: s, actions: [] };
      return s.tx.sends > ctx.cfg.timing.requestRetries
        ? moved(onRequestUnanswered(s, now, ctx), { by: 'unanswered' })
        : sendRequest(s, now, ctx);
    case 'BOUND':
    case 'RENEWING':
    case 'REBINDING': {
      // Checked latest first: a driver that slept through several deadlines lands in the right state.
      const { t1AtMs, t2AtMs, expiresAtMs } = s.lease;
      if (expiresAtMs !== null && now >= expiresAtMs) return moved(onExpiry(s, now, ctx), { by: 'expiry' });
      if (s.state !== 'REBINDING' && t2AtMs !== null && now >= t2AtMs) return moved(onT2(s, now, ctx), { by: 'T2' });
      if (s.state === 'BOUND') {
        if (t1AtMs !== null && now >= t1AtMs) return moved(onT1(s, now, ctx), { by: 'T1' });
        return s.announce && now >= s.announce.atMs
          ? sendAnnouncement(s, s.announce, now, ctx)
          : { state: s, actions: [] };
      }
      return now >= s.tx.retransmitAtMs ? sendRequest(s, now, ctx) : { state: s, actions: [] };
    }
    default:
      return unreachable(s, 'state');
  }
}

function onT1(s: In<'BOUND'>, now: number, ctx: StepContext): StepResult {
  const tx = newTx(ctx, now, now);
  return sendRequest({ state: 'RENEWING', lease: s.lease, tx }, now, ctx);
}

function onT2(s: Extract<LeaseState, { state: 'BOUND' | 'RENEWING' }>, now: number, ctx: StepContext): StepResult {
  const tx = newTx(ctx, s.state === 'RENEWING' ? s.tx.startedAtMs : now, now);
  return sendRequest({ state: 'REBINDING', lease: s.lease, tx }, now, ctx);
}

function onExpiry(s: HeldState, now: number, ctx: StepContext): StepResult {
  const address = s.lease.address;
  const next = startSelecting(now, ctx, { requestedIp: address, previousAddress: address });
  return { state: next.state, actions: [{ type: 'persist' }, emit({ kind: 'expired', address }), ...next.actions] };
}

/** RFC 2131 §4.4.1: no ACK or NAK after the retransmissions: back to INIT. */
function onRequestUnanswered(
  s: Extract<LeaseState, { state: 'REQUESTING' | 'REBOOTING' }>,
  now: number,
  ctx: StepContext,
): StepResult {
  const n = s.tx.sends;
  const reason =
    s.state === 'REQUESTING'
      ? `no ACK or NAK from ${s.offer.serverId} after ${n} REQUESTs for ${s.offer.address}`
      : `no ACK or NAK after ${n} INIT-REBOOT REQUESTs for ${s.requestedIp}`;
  const next =
    s.state === 'REQUESTING'
      ? startSelecting(now, ctx, {
          requestedIp: s.offer.address,
          previousAddress: s.previousAddress,
          naks: s.naks,
          conflicts: s.conflicts,
        })
      : startSelecting(now, ctx, { requestedIp: s.requestedIp, previousAddress: s.requestedIp });
  return { state: next.state, actions: [emit({ kind: 'failed', reason }), ...next.actions] };
}

// ---- network input ----

function onPacket(s: LeaseState, msg: DhcpMessage, now: number, ctx: StepContext): StepResult {
  switch (s.state) {
    case 'INIT':
    case 'INIT-REBOOT':
    case 'PROBING':
    case 'BOUND':
    case 'RELEASED':
      return ignore(s, 'state');
    case 'SELECTING':
    case 'REQUESTING':
    case 'REBOOTING':
    case 'RENEWING':
    case 'REBINDING':
      break;
    default:
      return unreachable(s, 'state');
  }
  if (msg.op !== BOOTREPLY) return ignore(s, 'op');
  if (msg.xid !== s.tx.xid) return ignore(s, 'xid');
  if (!msg.chaddr.equals(chaddrOf(ctx.cfg))) return ignore(s, 'chaddr');
  switch (messageType(msg)) {
    case MessageType.OFFER:
      return s.state === 'SELECTING' ? onOffer(s, msg, now, ctx) : ignore(s, 'type');
    case MessageType.ACK:
      return s.state === 'SELECTING' ? ignore(s, 'type') : onAck(s, msg, now, ctx);
    case MessageType.NAK:
      return s.state === 'SELECTING' ? ignore(s, 'type') : onNak(s, msg, now, ctx);
    default:
      return ignore(s, 'type');
  }
}

/** The first valid OFFER wins (RFC 2131 §4.4.1 lets the client choose; waiting buys nothing here). */
function onOffer(s: In<'SELECTING'>, msg: DhcpMessage, now: number, ctx: StepContext): StepResult {
  const sid = serverId(msg);
  if (sid === undefined) return ignore(s, 'no-server-id');
  if (!isUnicast(msg.yiaddr)) return ignore(s, 'yiaddr');
  const tx: Transaction = { ...s.tx, firstSentAtMs: now, sends: 0, retransmitAtMs: now };
  const next: LeaseState = { state: 'REQUESTING', tx, offer: { address: msg.yiaddr, serverId: sid } };
  if (s.previousAddress !== undefined) next.previousAddress = s.previousAddress;
  if (s.naks !== undefined) next.naks = s.naks;
  if (s.conflicts !== undefined) next.conflicts = s.conflicts;
  const r = sendRequest(next, now, ctx);
  return {
    ...r,
    actions: [emit({ kind: 'offered', address: msg.yiaddr, serverId: sid }), ...r.actions],
    trigger: { by: 'OFFER' },
  };
}

function onAck(s: RequestTx, msg: DhcpMessage, now: number, ctx: StepContext): StepResult {
  // RENEWING talks to one server by unicast: an ACK from it needs no 54 to say where the next renewal goes.
  const sid = serverId(msg) ?? (s.state === 'RENEWING' ? s.lease.serverId : undefined);
  if (sid === undefined) return ignore(s, 'no-server-id');
  if (s.state === 'REQUESTING' && sid !== s.offer.serverId) return ignore(s, 'server-id');
  if (!isUnicast(msg.yiaddr)) return invalidAck(s, `ACK from ${sid} without an address (yiaddr ${msg.yiaddr})`);
  const times = leaseTimes(msg, s.tx.firstSentAtMs, ctx.rng);
  if (!times.ok) return invalidAck(s, `ACK from ${sid} for ${msg.yiaddr} refused: ${times.reason}`);
  const lease: Lease = { address: msg.yiaddr, serverId: sid, requestSentAtMs: s.tx.firstSentAtMs, ...times.value };
  const before =
    s.state === 'REQUESTING' ? s.previousAddress : s.state === 'REBOOTING' ? s.requestedIp : s.lease.address;
  // A renewal of the address in use needs no probe; a new address (or one verified after a restart) does.
  const timing = probeTiming(ctx.cfg.conflictDetection);
  if (timing && (before !== lease.address || s.state === 'REQUESTING' || s.state === 'REBOOTING')) {
    const probing: LeaseState = {
      state: 'PROBING',
      lease,
      ack: encode(msg).toString('base64'),
      probe: startProbe(timing, now, ctx.rng),
    };
    if (before !== undefined) probing.previousAddress = before;
    if (s.state === 'REQUESTING' && s.conflicts !== undefined) probing.conflicts = s.conflicts;
    return moved(probing.probe.nextAtMs > now ? { state: probing, actions: [] } : onProbeTimer(probing, now, ctx), {
      by: 'ACK',
    });
  }
  let event: LeaseEvent;
  if (s.state === 'RENEWING' && before === lease.address) event = { kind: 'renewed', ack: msg };
  else if (s.state === 'REBINDING' && before === lease.address) event = { kind: 'rebound', ack: msg };
  else event = boundEvent(before, lease.address, msg);
  return moved(bind(lease, event, now, ctx), { by: 'ACK' });
}

function boundEvent(before: string | undefined, address: string, ack: DhcpMessage): LeaseEvent {
  return before !== undefined && before !== address
    ? { kind: 'changed', from: before, to: address, ack }
    : { kind: 'bound', ack };
}

/** BOUND, with announcements of the address when it is new to this attachment and the config wants them. */
function bind(lease: Lease, event: LeaseEvent, now: number, ctx: StepContext): StepResult {
  const next: LeaseState = { state: 'BOUND', lease };
  if (ctx.cfg.announce && (event.kind === 'bound' || event.kind === 'changed')) next.announce = startAnnouncing(now);
  return { state: next, actions: [{ type: 'persist' }, emit(event)] };
}

// ---- conflict detection (RFC 5227) ----

/** The next probe, or (all sent and nobody answered) the address is ours. */
function onProbeTimer(s: In<'PROBING'>, now: number, ctx: StepContext): StepResult {
  const timing = probeTiming(ctx.cfg.conflictDetection);
  if (timing && s.probe.sent < timing.probeNum) {
    const packet = arpProbe(ownMac(ctx.cfg), s.lease.address);
    return { state: { ...s, probe: probeSent(s.probe, timing, now, ctx.rng) }, actions: [{ type: 'arp', packet }] };
  }
  const ack = decode(Buffer.from(s.ack, 'base64'));
  if (!ack.ok) throw new Error(`PROBING holds an undecodable ACK: ${ack.reason}`);
  return moved(bind(s.lease, boundEvent(s.previousAddress, s.lease.address, ack.value), now, ctx), { by: 'probed' });
}

/** Only PROBING listens: ongoing defence of a bound address (RFC 5227 §2.4) is not done. */
function onArp(s: LeaseState, packet: ArpPacket, now: number, ctx: StepContext): StepResult {
  if (s.state !== 'PROBING' || !isConflict(packet, s.lease.address, ownMac(ctx.cfg))) return { state: s, actions: [] };
  return onConflict(s, packet.senderMac, now, ctx);
}

/** RFC 2131 §4.4.1: DHCPDECLINE, then back to INIT after the wait, asking for no address in particular. */
function onConflict(s: In<'PROBING'>, by: string, now: number, ctx: StepContext): StepResult {
  const { address, serverId: sid } = s.lease;
  const conflicts = (s.conflicts ?? 0) + 1;
  const restartInMs = declineRestartMs(conflicts);
  const decline = buildDecline(identity(ctx.cfg), ctx.rng.u32(), address, sid);
  const next = startSelecting(now, ctx, { previousAddress: s.previousAddress, conflicts, delayMs: restartInMs });
  // A stored lease for previousAddress is gone with the server's move to this address.
  const persist: Action[] = s.previousAddress === undefined ? [] : [{ type: 'persist' }];
  return {
    state: next.state,
    actions: [
      broadcast(decline, ZERO_IP),
      ...persist,
      emit({ kind: 'declined', address, by, conflicts, restartInMs }),
      ...next.actions,
    ],
    trigger: { by: 'conflict' },
  };
}

function sendAnnouncement(s: In<'BOUND'>, a: Announcing, now: number, ctx: StepContext): StepResult {
  const next: LeaseState = { state: 'BOUND', lease: s.lease };
  const more = announced(a, now);
  if (more) next.announce = more;
  return { state: next, actions: [{ type: 'arp', packet: arpAnnouncement(ownMac(ctx.cfg), s.lease.address) }] };
}

/** A NAK in any requesting state sends the client back to INIT, asking again for the address it had in mind. */
function onNak(s: RequestTx, msg: DhcpMessage, now: number, ctx: StepContext): StepResult {
  // Only the server chosen in SELECTING may refuse; in the other states the REQUEST named no server.
  if (s.state === 'REQUESTING') {
    const sid = serverId(msg);
    if (sid === undefined) return ignore(s, 'no-server-id');
    if (sid !== s.offer.serverId) return ignore(s, 'server-id');
  }
  const text = msg.options.get(Opt.MESSAGE);
  const event: LeaseEvent = { kind: 'nak', in: s.state };
  if (text !== undefined) event.message = printable(text);
  let next: StepResult;
  if (s.state === 'REQUESTING') {
    next = startSelecting(now, ctx, {
      requestedIp: s.offer.address,
      previousAddress: s.previousAddress,
      naks: (s.naks ?? 0) + 1,
      conflicts: s.conflicts,
    });
  } else {
    const address = s.state === 'REBOOTING' ? s.requestedIp : s.lease.address;
    next = startSelecting(now, ctx, { requestedIp: address, previousAddress: address, naks: 1 });
  }
  // A NAK withdraws a lease the store holds (a bound one, or the stored one REBOOTING was verifying).
  const persist: Action[] = s.state === 'REQUESTING' ? [] : [{ type: 'persist' }];
  return { state: next.state, actions: [...persist, emit(event), ...next.actions], trigger: { by: 'NAK' } };
}

function invalidAck(s: LeaseState, reason: string): StepResult {
  // As if no reply came: the retransmission schedule goes on.
  return { state: s, actions: [emit({ kind: 'ignored', reason: 'invalid-ack' }), emit({ kind: 'failed', reason })] };
}

// ---- sending ----

interface SelectingStart {
  requestedIp?: string;
  previousAddress?: string;
  naks?: number;
  conflicts?: number;
  /** Wait at least this long before the DISCOVER (after a DECLINE). */
  delayMs?: number;
}

/** INIT: a new transaction, DISCOVER at once (or after the NAK or DECLINE restart delay). */
function startSelecting(now: number, ctx: StepContext, o: SelectingStart): StepResult {
  const naks = o.naks ?? 0;
  const nakDelay = naks < 2 ? 0 : Math.min(NAK_RESTART_FIRST_MS * 2 ** (naks - 2), ctx.cfg.timing.maxRetransmitMs);
  const delay = Math.max(nakDelay, o.delayMs ?? 0);
  const s: LeaseState = { state: 'SELECTING', tx: newTx(ctx, now + delay, now + delay) };
  if (o.requestedIp !== undefined) s.requestedIp = o.requestedIp;
  if (o.previousAddress !== undefined) s.previousAddress = o.previousAddress;
  if (naks > 0) s.naks = naks;
  if (o.conflicts !== undefined) s.conflicts = o.conflicts;
  return delay > 0 ? { state: s, actions: [] } : sendDiscover(s, now, ctx);
}

/** REQUEST as if the OFFER had just come: 50 = its address, 54 = its server; a NAK or silence falls back to INIT. */
function startRequesting(offer: Offer, now: number, ctx: StepContext): StepResult {
  checkIp(offer.address);
  checkIp(offer.serverId);
  return sendRequest({ state: 'REQUESTING', tx: newTx(ctx, now, now), offer: { ...offer } }, now, ctx);
}

function startRebooting(requestedIp: string, now: number, ctx: StepContext): StepResult {
  checkIp(requestedIp);
  return sendRequest({ state: 'REBOOTING', tx: newTx(ctx, now, now), requestedIp }, now, ctx);
}

function sendDiscover(s: In<'SELECTING'>, now: number, ctx: StepContext): StepResult {
  const tx = transmitted(s.tx, now, ctx.rng, ctx.cfg.timing);
  const msg = buildDiscover(identity(ctx.cfg), tx.xid, secs(tx, now), s.requestedIp);
  const actions: Action[] = [broadcast(msg, ZERO_IP)];
  if (tx.sends > 1) actions.push(emit({ kind: 'retransmit', state: s.state, attempt: tx.sends }));
  return { state: { ...s, tx }, actions };
}

/** (Re)transmits the REQUEST of a requesting state; the caller has set up its transaction. */
function sendRequest(s: RequestTx, now: number, ctx: StepContext): StepResult {
  const id = identity(ctx.cfg);
  const { timing } = ctx.cfg;
  let next: RequestTx;
  let send: Action;
  switch (s.state) {
    case 'REQUESTING': {
      next = { ...s, tx: transmitted(s.tx, now, ctx.rng, timing) };
      const msg = buildRequestSelecting(id, next.tx.xid, secs(next.tx, now), {
        yiaddr: s.offer.address,
        serverId: s.offer.serverId,
      });
      send = broadcast(msg, ZERO_IP);
      break;
    }
    case 'REBOOTING': {
      next = { ...s, tx: transmitted(s.tx, now, ctx.rng, timing) };
      send = broadcast(buildRequestInitReboot(id, next.tx.xid, secs(next.tx, now), s.requestedIp), ZERO_IP);
      break;
    }
    case 'RENEWING': {
      const retransmitAtMs = renewRetransmitAtMs(now, finite(s.lease.t2AtMs), renewFloorMs(s.lease, timing));
      next = { ...s, tx: { ...s.tx, sends: s.tx.sends + 1, retransmitAtMs } };
      const { address, serverId: sid } = s.lease;
      send = {
        type: 'send',
        msg: buildRequestRenewing(id, next.tx.xid, secs(next.tx, now), address),
        via: 'udp',
        srcIp: address,
        dstIp: sid,
      };
      break;
    }
    case 'REBINDING': {
      const retransmitAtMs = renewRetransmitAtMs(now, finite(s.lease.expiresAtMs), renewFloorMs(s.lease, timing));
      next = { ...s, tx: { ...s.tx, sends: s.tx.sends + 1, retransmitAtMs } };
      send = broadcast(buildRequestRebinding(id, next.tx.xid, secs(next.tx, now), s.lease.address), s.lease.address);
      break;
    }
    default:
      return unreachable(s, 'state');
  }
  const actions: Action[] = [send];
  if (next.tx.sends > 1) actions.push(emit({ kind: 'retransmit', state: next.state, attempt: next.tx.sends }));
  return { state: next, actions };
}

/** The RFC's 60 s floor would allow no retransmission at all inside a short (test) lease: at most 1/8 of the lease. */
function renewFloorMs(lease: Lease, timing: TimingConfig): number {
  return Math.min(timing.minRenewRetransmitMs, (lease.leaseTimeS * 1000) / 8);
}

/** A new transaction whose first message is sent by the caller right away (sends is counted on sending). */
function newTx(ctx: StepContext, startedAtMs: number, firstSentAtMs: number): Transaction {
  return { xid: ctx.rng.u32(), startedAtMs, firstSentAtMs, sends: 0, retransmitAtMs: firstSentAtMs };
}

/** The transaction after one more transmission of a DISCOVER or acquisition REQUEST, with its backoff. */
function transmitted(tx: Transaction, now: number, rng: Rng, timing: TimingConfig): Transaction {
  return { ...tx, sends: tx.sends + 1, retransmitAtMs: now + retransmitDelayMs(tx.sends, timing, rng) };
}

function broadcast(msg: DhcpMessage, srcIp: string): Action {
  return { type: 'send', msg, via: 'packet', srcIp, dstIp: BROADCAST_IP };
}

function emit(event: LeaseEvent): Action {
  return { type: 'emit', event };
}

function moved(r: StepResult, trigger: Trigger): StepResult {
  return { ...r, trigger };
}

// ---- helpers ----

function secs(tx: Transaction, now: number): number {
  return Math.max(0, Math.floor((now - tx.startedAtMs) / 1000));
}

/** RENEWING/REBINDING exist only for finite leases: a null deadline there is a bug. */
function finite(t: number | null): number {
  if (t === null) throw new Error('renewal of an infinite lease');
  return t;
}

function checkIp(ip: string): void {
  if (!isUnicast(ip)) throw new TypeError(`not a usable IPv4 address: ${JSON.stringify(ip)}`);
}

/** Option 56 text for events and logs: printable ASCII only, bounded. */
function printable(b: Buffer): string {
  return b
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 255);
}

function ownMac(cfg: ClientConfig): string {
  return macToString(chaddrOf(cfg));
}

function chaddrOf(cfg: ClientConfig): Buffer {
  const hex = cfg.chaddr.replace(/:/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) throw new TypeError(`chaddr is not a MAC address: ${JSON.stringify(cfg.chaddr)}`);
  return Buffer.from(hex, 'hex');
}

function hexBytes(hex: string, what: string): Buffer {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new TypeError(`${what} is not hex: ${JSON.stringify(hex)}`);
  return Buffer.from(hex, 'hex');
}

/** The builders' view of a ClientConfig; provided options go through mergeOptions (61 folds into clientId). */
export function identity(cfg: ClientConfig): ClientIdentity {
  const choices = mergeOptions(
    { clientId: hexBytes(cfg.clientId, 'clientId'), paramRequestList: cfg.paramRequestList, provide: [] },
    { provide: cfg.provide.map(({ code, value }) => ({ code, value: hexBytes(value, `option ${code}`) })) },
  );
  return { ...choices, chaddr: chaddrOf(cfg), broadcastFlag: cfg.broadcastFlag, maxMessageSize: cfg.maxMessageSize };
}
