// The RFC 8415 client for one IA_NA, sans I/O: step(state, input, nowMs) → { state, actions }, like the DHCPv4 core
// (daemon/dhcp/lease.ts). Time and randomness are inputs; the driver sends, arms one timer at nextDeadline() and
// persists. The state is plain JSON.
//
// SOLICIT collects ADVERTISEs for the first RT (§18.2.1) unless one has preference 255, or a REPLY with RAPID_COMMIT
// ends the exchange at once (§18.2.1, §21.14); REQUEST; BOUND; RENEW at T1 to the server (unicast when it sent a
// UNICAST option, else ff02::1:2); REBIND at T2 to any server; SOLICIT again when the valid lifetime ends. A stored
// lease is verified with CONFIRM (§18.2.3). DECLINE after a duplicate address detection failure. RELEASE is sent once:
// it goes out on DEL, when the pod's interface is about to disappear, so no REPLY can be waited for.
import type { Rng } from '../dhcp/rng';
import { isLeasableIp6 } from './ip6';
import {
  HeldAddress,
  Identity6,
  buildConfirm,
  buildDecline,
  buildRebind,
  buildRelease,
  buildRenew,
  buildRequest,
  buildSolicit,
} from './messages';
import { clientId, iaNa, preference, rapidCommit, serverId, status, unicastAddress } from './options';
import { LeaseTimes6, Retransmission, Timing6, firstRtMs, leaseTimes6, nextRtMs, usableAddress } from './timing';
import { ALL_SERVERS, Dhcp6Message, MsgType, Status } from './types';
import { unreachable } from '../dhcp/unreachable';
import { InputHandlers, heldDeadline, ignore, onInput, releasedState } from '../dhcp/lease-common';

export interface ClientConfig6 {
  /** DUID in hex. */
  duid: string;
  iaid: number;
  oro: number[];
  /** Put RAPID_COMMIT in SOLICIT (§18.2.1): a server that allows it answers with a REPLY at once. */
  rapidCommit: boolean;
  timing: Timing6;
}

export interface StepContext6 {
  cfg: ClientConfig6;
  rng: Rng;
}

/** One exchange: its xid and retransmission clock. */
export interface Transaction6 {
  xid: number;
  /** First transmission: the origin of ELAPSED_TIME and of MRD. */
  startedAtMs: number;
  /** Current RT. */
  rtMs: number;
  sends: number;
  retransmitAtMs: number;
}

/** The server a lease came from: its DUID (hex) and, with a UNICAST option, where to send RENEW. */
export interface Server6 {
  duid: string;
  unicast?: string;
}

export interface Lease6 extends LeaseTimes6 {
  address: string;
  server: Server6;
}

/** The best ADVERTISE seen while collecting. */
export interface Advert {
  server: Server6;
  address: string;
  preference: number;
}

export type Lease6State =
  | { state: 'INIT' }
  /** previousAddress: held before an expiry, NotOnLink or DECLINE (for 'changed'); collectUntilMs: end of the
   *  first RT, until which ADVERTISEs are compared; best: the best so far. */
  | {
      state: 'SELECTING';
      tx: Transaction6;
      hint?: string;
      previousAddress?: string;
      collectUntilMs: number;
      best?: Advert;
    }
  | { state: 'REQUESTING'; tx: Transaction6; offer: Advert; previousAddress?: string }
  | { state: 'CONFIRMING'; tx: Transaction6; lease: Lease6 }
  | { state: 'BOUND'; lease: Lease6 }
  | { state: 'RENEWING'; tx: Transaction6; lease: Lease6 }
  | { state: 'REBINDING'; tx: Transaction6; lease: Lease6 }
  | { state: 'DECLINING'; tx: Transaction6; lease: Lease6 }
  | { state: 'RELEASED'; previousAddress?: string };

export type State6Name = Lease6State['state'];

export type Input6 =
  /** lease: a stored lease to verify (after a restart) instead of a SOLICIT; hint: an address to ask for. */
  | { type: 'start'; lease?: Lease6; hint?: string }
  | { type: 'packet'; msg: Dhcp6Message }
  | { type: 'timeout' }
  /** Duplicate address detection failed for the bound address. */
  | { type: 'dadFailed' }
  | { type: 'release' }
  | { type: 'linkGone' };

export type Ignore6Reason =
  | 'state' // no exchange in progress
  | 'xid'
  | 'type' // message type not expected in this state
  | 'client-id' // not our DUID
  | 'no-server-id'
  | 'server-id' // not the server the exchange is with
  | 'no-address' // no usable address in our IA_NA
  | 'bad-times' // T1 > T2 (§21.4)
  | 'status'; // an error status that leaves the exchange going on (UnspecFail, an ADVERTISE's NoAddrsAvail)

export type Lease6Event =
  | { kind: 'bound'; reply: Dhcp6Message }
  | { kind: 'renewed'; reply: Dhcp6Message }
  | { kind: 'rebound'; reply: Dhcp6Message }
  | { kind: 'changed'; from: string; to: string; reply: Dhcp6Message }
  /** CONFIRM answered Success: the stored lease is used until its own T1. */
  | { kind: 'confirmed'; address: string }
  /** CONFIRM unanswered (§18.2.3: the client keeps using its lease). */
  | { kind: 'unconfirmed'; address: string }
  /** A server's error status that changed the course (NotOnLink, NoAddrsAvail, NoBinding, UseMulticast). */
  | { kind: 'status'; in: State6Name; code: number; message: string }
  | { kind: 'expired'; address: string }
  | { kind: 'released'; sentRelease: boolean }
  | { kind: 'declined'; address: string }
  | { kind: 'ignored'; reason: Ignore6Reason }
  | { kind: 'failed'; reason: string }
  | { kind: 'retransmit'; state: State6Name; attempt: number };

export type Action6 =
  /** Send from the link-local address on port 546 to `dst` port 547. */
  { type: 'send'; msg: Dhcp6Message; dst: string } | { type: 'emit'; event: Lease6Event } | { type: 'persist' };

export interface Step6Result {
  state: Lease6State;
  actions: Action6[];
}

type TxState = Extract<Lease6State, { tx: Transaction6 }>;

const NO_ACTIONS: Action6[] = [];

const ON_INPUT6: InputHandlers<Input6, Lease6State, StepContext6, Step6Result> = {
  start: onStart,
  packet: (s, input, now, ctx) => onPacket(s, input.msg, now, ctx),
  timeout: (s, _, now, ctx) => onTimeout(s, now, ctx),
  dadFailed: (s, _, now, ctx) => onDadFailed(s, now, ctx),
  release: (s, _, _now, ctx) => onRelease(s, ctx),
  linkGone: (s) => (s.state === 'RELEASED' ? { state: s, actions: NO_ACTIONS } : released(s, false)),
};

export function step6(state: Lease6State, input: Input6, nowMs: number, ctx: StepContext6): Step6Result {
  return onInput(ON_INPUT6, state, input, nowMs, ctx);
}

/** The earliest instant at which the driver must call step6 with 'timeout'; undefined: none. */
export function nextDeadline6(s: Lease6State): number | undefined {
  switch (s.state) {
    case 'INIT':
    case 'RELEASED':
      return undefined;
    case 'SELECTING':
    case 'REQUESTING':
    case 'CONFIRMING':
    case 'DECLINING':
      return s.tx.retransmitAtMs;
    case 'BOUND':
    case 'RENEWING':
    case 'REBINDING':
      return heldDeadline(s);
    default:
      return unreachable(s, 'state');
  }
}

/** Whether the driver must hold the client socket (port 546) so replies can arrive. */
export function listening6(s: Lease6State): boolean {
  return 'tx' in s;
}

// ---- caller commands ----

function onStart(
  s: Lease6State,
  input: Extract<Input6, { type: 'start' }>,
  now: number,
  ctx: StepContext6,
): Step6Result {
  if (s.state !== 'INIT') throw new Error(`'start' is not valid in state ${s.state}`);
  if (input.lease === undefined) return startSelecting(now, ctx, { hint: input.hint });
  if (input.lease.expiresAtMs !== null && now >= input.lease.expiresAtMs) {
    return startSelecting(now, ctx, { hint: input.lease.address, previousAddress: input.lease.address });
  }
  return send(
    { state: 'CONFIRMING', tx: newTx(ctx, now, ctx.cfg.timing.confirm, false), lease: input.lease },
    now,
    ctx,
  );
}

function onRelease(s: Lease6State, ctx: StepContext6): Step6Result {
  switch (s.state) {
    case 'BOUND':
    case 'RENEWING':
    case 'REBINDING':
    case 'CONFIRMING': {
      const { address, server } = s.lease;
      const msg = buildRelease(identity(ctx.cfg), ctx.rng.u32() & 0xffffff, Buffer.from(server.duid, 'hex'), address);
      return {
        state: { state: 'RELEASED', previousAddress: address },
        actions: [
          { type: 'send', msg, dst: server.unicast ?? ALL_SERVERS },
          { type: 'persist' },
          emit({ kind: 'released', sentRelease: true }),
        ],
      };
    }
    case 'INIT':
    case 'SELECTING':
    case 'REQUESTING':
    case 'DECLINING':
      return released(s, false);
    case 'RELEASED':
      return { state: s, actions: NO_ACTIONS };
    default:
      return unreachable(s, 'state');
  }
}

function released(s: Lease6State, sentRelease: boolean): Step6Result {
  return { state: releasedState(s), actions: [{ type: 'persist' }, emit({ kind: 'released', sentRelease })] };
}

/** §18.2.8: DECLINE the address to the server that gave it, then SOLICIT once the server answered (or gave up). */
function onDadFailed(s: Lease6State, now: number, ctx: StepContext6): Step6Result {
  if (s.state !== 'BOUND' && s.state !== 'RENEWING' && s.state !== 'REBINDING')
    return { state: s, actions: NO_ACTIONS };
  const next = send(
    { state: 'DECLINING', tx: newTx(ctx, now, ctx.cfg.timing.decline, false), lease: s.lease },
    now,
    ctx,
  );
  return {
    state: next.state,
    actions: [{ type: 'persist' }, emit({ kind: 'declined', address: s.lease.address }), ...next.actions],
  };
}

// ---- timers ----

function onTimeout(s: Lease6State, now: number, ctx: StepContext6): Step6Result {
  switch (s.state) {
    case 'INIT':
    case 'RELEASED':
      return { state: s, actions: NO_ACTIONS };
    case 'SELECTING':
      if (now < s.tx.retransmitAtMs) return { state: s, actions: NO_ACTIONS };
      // The first RT is over: the best ADVERTISE collected wins (§18.2.1).
      if (s.best !== undefined) return startRequesting(s.best, s.previousAddress, now, ctx);
      return send(s, now, ctx);
    case 'REQUESTING':
      if (now < s.tx.retransmitAtMs) return { state: s, actions: NO_ACTIONS };
      if (exhausted(s.tx, ctx.cfg.timing.request, now)) {
        const next = startSelecting(now, ctx, { hint: s.offer.address, previousAddress: s.previousAddress });
        const reason = `no REPLY from server ${s.offer.server.duid} after ${s.tx.sends} REQUESTs for ${s.offer.address}`;
        return { state: next.state, actions: [emit({ kind: 'failed', reason }), ...next.actions] };
      }
      return send(s, now, ctx);
    case 'CONFIRMING':
      if (now < s.tx.retransmitAtMs) return { state: s, actions: NO_ACTIONS };
      if (exhausted(s.tx, ctx.cfg.timing.confirm, now)) {
        // §18.2.3: no answer within MRD: the client may go on using its addresses.
        const next = onTimeout({ state: 'BOUND', lease: s.lease }, now, ctx);
        return {
          state: next.state,
          actions: [emit({ kind: 'unconfirmed', address: s.lease.address }), ...next.actions],
        };
      }
      return send(s, now, ctx);
    case 'DECLINING':
      if (now < s.tx.retransmitAtMs) return { state: s, actions: NO_ACTIONS };
      if (exhausted(s.tx, ctx.cfg.timing.decline, now))
        return startSelecting(now, ctx, { previousAddress: s.lease.address });
      return send(s, now, ctx);
    case 'BOUND':
    case 'RENEWING':
    case 'REBINDING': {
      // Latest deadline first: a driver that slept through several lands in the right state.
      const { t1AtMs, t2AtMs, expiresAtMs, address } = s.lease;
      if (expiresAtMs !== null && now >= expiresAtMs) {
        const next = startSelecting(now, ctx, { hint: address, previousAddress: address });
        return {
          state: next.state,
          actions: [{ type: 'persist' }, emit({ kind: 'expired', address }), ...next.actions],
        };
      }
      if (s.state !== 'REBINDING' && t2AtMs !== null && now >= t2AtMs) {
        return send(
          { state: 'REBINDING', tx: newTx(ctx, now, ctx.cfg.timing.rebind, false), lease: s.lease },
          now,
          ctx,
        );
      }
      if (s.state === 'BOUND') {
        if (t1AtMs === null || now < t1AtMs) return { state: s, actions: NO_ACTIONS };
        return send({ state: 'RENEWING', tx: newTx(ctx, now, ctx.cfg.timing.renew, false), lease: s.lease }, now, ctx);
      }
      return now < s.tx.retransmitAtMs ? { state: s, actions: NO_ACTIONS } : send(s, now, ctx);
    }
    default:
      return unreachable(s, 'state');
  }
}

/** MRC or MRD reached (§15). */
function exhausted(tx: Transaction6, p: Retransmission, now: number): boolean {
  return (p.mrc > 0 && tx.sends >= p.mrc) || (p.mrdMs > 0 && now - tx.startedAtMs >= p.mrdMs);
}

// ---- network input ----

function onPacket(s: Lease6State, msg: Dhcp6Message, now: number, ctx: StepContext6): Step6Result {
  if (!('tx' in s)) return ignore(s, 'state');
  if (msg.xid !== s.tx.xid) return ignore(s, 'xid');
  const cid = clientId(msg);
  if (cid === undefined || cid.toString('hex') !== ctx.cfg.duid) return ignore(s, 'client-id');
  const sid = serverId(msg);
  if (sid === undefined) return ignore(s, 'no-server-id');
  if (msg.type === MsgType.ADVERTISE)
    return s.state === 'SELECTING' ? onAdvertise(s, msg, sid, now, ctx) : ignore(s, 'type');
  if (msg.type !== MsgType.REPLY) return ignore(s, 'type');
  switch (s.state) {
    case 'SELECTING':
      // A REPLY to SOLICIT only with Rapid Commit (§18.2.1).
      return rapidCommit(msg) ? onLeaseReply(s, msg, sid, now, ctx) : ignore(s, 'type');
    case 'REQUESTING':
      if (sid.toString('hex') !== s.offer.server.duid) return ignore(s, 'server-id');
      return onLeaseReply(s, msg, sid, now, ctx);
    case 'RENEWING':
      if (sid.toString('hex') !== s.lease.server.duid) return ignore(s, 'server-id');
      return onLeaseReply(s, msg, sid, now, ctx);
    case 'REBINDING':
      return onLeaseReply(s, msg, sid, now, ctx);
    case 'CONFIRMING':
      return onConfirmReply(s, msg, now, ctx);
    case 'DECLINING':
      // Any REPLY ends the DECLINE (§18.2.10.1); then a new address is asked for.
      return startSelecting(now, ctx, { previousAddress: s.lease.address });
    default:
      return unreachable(s, 'state');
  }
}

function serverOf(msg: Dhcp6Message, sid: Buffer): Server6 {
  const unicast = unicastAddress(msg);
  return unicast !== undefined && isLeasableIp6(unicast)
    ? { duid: sid.toString('hex'), unicast }
    : { duid: sid.toString('hex') };
}

function onAdvertise(
  s: Extract<Lease6State, { state: 'SELECTING' }>,
  msg: Dhcp6Message,
  sid: Buffer,
  now: number,
  ctx: StepContext6,
): Step6Result {
  if (status(msg)?.code === Status.NoAddrsAvail) return ignore(s, 'status');
  const ia = iaNa(msg, ctx.cfg.iaid);
  const addr = ia && usableAddress(ia, isLeasableIp6);
  if (addr === undefined) return ignore(s, 'no-address');
  const advert: Advert = { server: serverOf(msg, sid), address: addr.address, preference: preference(msg) };
  // §18.2.1: preference 255, or any ADVERTISE once the first RT is over, is taken at once.
  if (advert.preference === 255 || now >= s.collectUntilMs) return startRequesting(advert, s.previousAddress, now, ctx);
  if (s.best !== undefined && s.best.preference >= advert.preference) return { state: s, actions: NO_ACTIONS };
  return { state: { ...s, best: advert }, actions: NO_ACTIONS };
}

/** A REPLY that grants (or refuses) the IA: to a rapid-commit SOLICIT, REQUEST, RENEW or REBIND (§18.2.10.1). */
function onLeaseReply(
  s: Extract<Lease6State, { state: 'SELECTING' | 'REQUESTING' | 'RENEWING' | 'REBINDING' }>,
  msg: Dhcp6Message,
  sid: Buffer,
  now: number,
  ctx: StepContext6,
): Step6Result {
  const top = status(msg);
  if (top !== undefined && top.code !== Status.Success) {
    switch (top.code) {
      case Status.UseMulticast:
        // The server refuses unicast: RENEW again at once, to ff02::1:2 from now on (§18.2.10).
        if (s.state === 'RENEWING' && s.lease.server.unicast !== undefined) {
          const lease: Lease6 = { ...s.lease, server: { duid: s.lease.server.duid } };
          const next = send({ ...s, lease, tx: { ...s.tx, retransmitAtMs: now } }, now, ctx);
          return { state: next.state, actions: [statusEvent(s, top), ...next.actions] };
        }
        return ignore(s, 'status');
      case Status.NotOnLink: {
        const from = previousOf(s);
        const next = startSelecting(now, ctx, { previousAddress: from });
        return { state: next.state, actions: [...persistIfHeld(s), statusEvent(s, top), ...next.actions] };
      }
      default:
        return ignore(s, 'status'); // UnspecFail and others: the retransmission goes on
    }
  }
  const ia = iaNa(msg, ctx.cfg.iaid);
  if (ia === undefined) return ignore(s, 'no-address');
  if (ia.status !== undefined && ia.status.code !== Status.Success) {
    // NoBinding to RENEW/REBIND: the server lost the binding; REQUEST it again (§18.2.10.1).
    if (ia.status.code === Status.NoBinding && (s.state === 'RENEWING' || s.state === 'REBINDING')) {
      const offer: Advert = { server: serverOf(msg, sid), address: s.lease.address, preference: 0 };
      const next = startRequesting(offer, s.lease.address, now, ctx);
      return { state: next.state, actions: [statusEvent(s, ia.status), ...next.actions] };
    }
    if (ia.status.code === Status.NoAddrsAvail || ia.status.code === Status.NotOnLink) {
      if (s.state === 'REQUESTING' || s.state === 'SELECTING') {
        const next = startSelecting(now, ctx, { previousAddress: s.previousAddress, delayMs: s.tx.rtMs });
        return { state: next.state, actions: [statusEvent(s, ia.status), ...next.actions] };
      }
    }
    return ignore(s, 'status');
  }
  const addr = usableAddress(ia, isLeasableIp6);
  if (addr === undefined) return ignore(s, 'no-address');
  const times = leaseTimes6(ia, addr, now, ctx.rng);
  if (times === undefined) return ignore(s, 'bad-times');
  const server =
    s.state === 'RENEWING' && unicastAddress(msg) === undefined
      ? { ...serverOf(msg, sid), ...unicastOf(s.lease) }
      : serverOf(msg, sid);
  const lease: Lease6 = { address: addr.address, server, ...times };
  const before = previousOf(s);
  let event: Lease6Event;
  if (before !== undefined && before !== lease.address)
    event = { kind: 'changed', from: before, to: lease.address, reply: msg };
  else if (s.state === 'RENEWING') event = { kind: 'renewed', reply: msg };
  else if (s.state === 'REBINDING') event = { kind: 'rebound', reply: msg };
  else event = { kind: 'bound', reply: msg };
  return { state: { state: 'BOUND', lease }, actions: [{ type: 'persist' }, emit(event)] };
}

/** A server that once allowed unicast keeps allowing it until it says UseMulticast, even if a REPLY omits 12. */
function unicastOf(lease: Lease6): { unicast?: string } {
  return lease.server.unicast === undefined ? {} : { unicast: lease.server.unicast };
}

/** §18.2.10.1 for CONFIRM: Success keeps the stored lease (renewed at its own T1); NotOnLink means a new SOLICIT. */
function onConfirmReply(
  s: Extract<Lease6State, { state: 'CONFIRMING' }>,
  msg: Dhcp6Message,
  now: number,
  ctx: StepContext6,
): Step6Result {
  const st = status(msg);
  if (st !== undefined && st.code === Status.NotOnLink) {
    const next = startSelecting(now, ctx, { previousAddress: s.lease.address });
    return { state: next.state, actions: [{ type: 'persist' }, statusEvent(s, st), ...next.actions] };
  }
  if (st !== undefined && st.code !== Status.Success) return ignore(s, 'status');
  const next = onTimeout({ state: 'BOUND', lease: s.lease }, now, ctx);
  return { state: next.state, actions: [emit({ kind: 'confirmed', address: s.lease.address }), ...next.actions] };
}

function previousOf(
  s: Extract<Lease6State, { state: 'SELECTING' | 'REQUESTING' | 'RENEWING' | 'REBINDING' }>,
): string | undefined {
  return 'lease' in s ? s.lease.address : s.previousAddress;
}

function persistIfHeld(s: Lease6State): Action6[] {
  return 'lease' in s ? [{ type: 'persist' }] : [];
}

function statusEvent(s: Lease6State, st: { code: number; message: string }): Action6 {
  return emit({ kind: 'status', in: s.state, code: st.code, message: st.message });
}

// ---- sending ----

interface SelectingStart {
  hint?: string;
  previousAddress?: string;
  /** Wait this long before the SOLICIT (a server just said it has no address). */
  delayMs?: number;
}

function startSelecting(now: number, ctx: StepContext6, o: SelectingStart): Step6Result {
  const at = now + (o.delayMs ?? 0);
  const tx = newTx(ctx, at, ctx.cfg.timing.solicit, true);
  const s: Lease6State = { state: 'SELECTING', tx, collectUntilMs: at };
  if (o.hint !== undefined) s.hint = o.hint;
  if (o.previousAddress !== undefined) s.previousAddress = o.previousAddress;
  return at > now ? { state: s, actions: NO_ACTIONS } : send(s, now, ctx);
}

function startRequesting(
  offer: Advert,
  previousAddress: string | undefined,
  now: number,
  ctx: StepContext6,
): Step6Result {
  const s: Lease6State = { state: 'REQUESTING', tx: newTx(ctx, now, ctx.cfg.timing.request, false), offer };
  if (previousAddress !== undefined) s.previousAddress = previousAddress;
  return send(s, now, ctx);
}

/** A new exchange, its first message due now (sends counts transmissions). */
function newTx(ctx: StepContext6, atMs: number, p: Retransmission, solicit: boolean): Transaction6 {
  return {
    xid: ctx.rng.u32() & 0xffffff,
    startedAtMs: atMs,
    rtMs: firstRtMs(p, ctx.rng, solicit),
    sends: 0,
    retransmitAtMs: atMs,
  };
}

/** Which message each exchanging state sends, so which retransmission parameters it follows (RFC 8415 §7.6). */
const TIMING_OF: { readonly [S in TxState['state']]: keyof Timing6 } = {
  SELECTING: 'solicit',
  REQUESTING: 'request',
  CONFIRMING: 'confirm',
  RENEWING: 'renew',
  REBINDING: 'rebind',
  DECLINING: 'decline',
};

/** (Re)transmits the message of a state with an exchange, and schedules the next transmission (§15). */
function send(s: TxState, now: number, ctx: StepContext6): Step6Result {
  const p = ctx.cfg.timing[TIMING_OF[s.state]];
  const rtMs = s.tx.sends === 0 ? s.tx.rtMs : nextRtMs(s.tx.rtMs, p, ctx.rng);
  let retransmitAtMs = now + rtMs;
  if (p.mrdMs > 0) retransmitAtMs = Math.min(retransmitAtMs, s.tx.startedAtMs + p.mrdMs);
  const tx: Transaction6 = { ...s.tx, rtMs, sends: s.tx.sends + 1, retransmitAtMs };
  const next = { ...s, tx } as TxState;
  if (next.state === 'SELECTING' && tx.sends === 1) next.collectUntilMs = retransmitAtMs;
  const actions: Action6[] = [{ type: 'send', msg: messageOf(next, now, ctx), dst: destinationOf(next) }];
  if (tx.sends > 1) actions.push(emit({ kind: 'retransmit', state: next.state, attempt: tx.sends }));
  return { state: next, actions };
}

function messageOf(s: TxState, now: number, ctx: StepContext6): Dhcp6Message {
  const id = identity(ctx.cfg);
  const { xid } = s.tx;
  const elapsed = now - s.tx.startedAtMs;
  switch (s.state) {
    case 'SELECTING':
      return buildSolicit(
        id,
        xid,
        elapsed,
        s.hint === undefined
          ? { rapidCommit: ctx.cfg.rapidCommit }
          : { hint: s.hint, rapidCommit: ctx.cfg.rapidCommit },
      );
    case 'REQUESTING':
      return buildRequest(id, xid, elapsed, Buffer.from(s.offer.server.duid, 'hex'), [
        { address: s.offer.address, preferredS: 0, validS: 0 },
      ]);
    case 'CONFIRMING':
      return buildConfirm(id, xid, elapsed, s.lease.address);
    case 'RENEWING':
      return buildRenew(id, xid, elapsed, Buffer.from(s.lease.server.duid, 'hex'), held(s.lease));
    case 'REBINDING':
      return buildRebind(id, xid, elapsed, held(s.lease));
    case 'DECLINING':
      return buildDecline(id, xid, elapsed, Buffer.from(s.lease.server.duid, 'hex'), s.lease.address);
    default:
      return unreachable(s, 'state');
  }
}

/** RENEW goes to the server's UNICAST address when it gave one (§18.2.4); everything else to ff02::1:2. */
function destinationOf(s: TxState): string {
  return s.state === 'RENEWING' && s.lease.server.unicast !== undefined ? s.lease.server.unicast : ALL_SERVERS;
}

/** §18.2.4: the IAADDR of RENEW/REBIND carries the lifetimes the client would like: 0 leaves it to the server. */
function held(lease: Lease6): HeldAddress {
  return { address: lease.address, preferredS: 0, validS: 0 };
}

// ---- helpers ----

function emit(event: Lease6Event): Action6 {
  return { type: 'emit', event };
}

export function identity(cfg: ClientConfig6): Identity6 {
  if (!/^(?:[0-9a-f]{2}){3,130}$/.test(cfg.duid))
    throw new TypeError(`DUID is not hex of 3..130 bytes: ${JSON.stringify(cfg.duid)}`);
  return { duid: Buffer.from(cfg.duid, 'hex'), iaid: cfg.iaid, oro: cfg.oro };
}

/** The RELEASE of a lease whose pod side is gone, for the daemon to send from its own netns
 *  (daemon/host-release.ts): the one step6 sends on 'release'; none for an expired lease or a state holding none. */
export function hostRelease6(
  s: Lease6State,
  nowMs: number,
  ctx: StepContext6,
): Extract<Action6, { type: 'send' }> | undefined {
  if (!('lease' in s) || (s.lease.expiresAtMs !== null && s.lease.expiresAtMs <= nowMs)) return undefined;
  return step6(s, { type: 'release' }, nowMs, ctx).actions.find((a) => a.type === 'send');
}
