// The lease core driven with a virtual clock, a seeded rng and a fake server that answers with DhcpMessage objects.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ArpOp, ArpPacket } from '../../daemon/dhcp/arp';
import { ipToBytes, u32 } from '../../daemon/dhcp/bytes';
import {
  Action,
  ClientConfig,
  Input,
  LeaseEvent,
  LeaseState,
  Trigger,
  initialState,
  nextDeadline,
  step,
  transitionWhy,
  transportFor,
} from '../../daemon/dhcp/lease';
import { DEFAULT_REQUEST_LIST } from '../../daemon/cni/conf-options';
import { requestedIp, serverId } from '../../daemon/dhcp/options';
import { seededRng } from '../../daemon/dhcp/rng';
import { DEFAULT_TIMING, TimingConfig } from '../../daemon/dhcp/timing';
import { DhcpMessage, MessageType, Opt } from '../../daemon/dhcp/types';

const MAC = '02:00:00:00:00:01';
const SERVER = '198.18.0.1';
const OTHER_SERVER = '198.18.0.2';
const ADDR = '198.18.0.20';
const ADDR2 = '198.18.0.21';
const T0 = 1_000_000;

function config(timing: Partial<TimingConfig> = {}): ClientConfig {
  return {
    chaddr: MAC,
    clientId: Buffer.from('\0ctr1/net1/eth1').toString('hex'),
    paramRequestList: [...DEFAULT_REQUEST_LIST],
    provide: [{ code: Opt.HOST_NAME, value: Buffer.from('pod-a').toString('hex') }],
    broadcastFlag: false,
    maxMessageSize: 1500,
    timing: { ...DEFAULT_TIMING, ...timing },
  };
}

type Send = Extract<Action, { type: 'send' }>;

/** One client: its state goes through JSON between steps, as it does through the store. */
class Client {
  state: LeaseState;
  now = T0;
  /** The trigger of the last step (undefined when it did not change the state). */
  trigger?: Trigger;
  /** StepContext.giveUpAfterMs. */
  giveUpAfterMs?: number;
  readonly rng;
  constructor(
    readonly cfg: ClientConfig = config(),
    seed = 1,
    state: LeaseState = initialState(),
  ) {
    this.rng = seededRng(seed);
    this.state = state;
  }

  input(input: Input): Action[] {
    const serialised = JSON.parse(JSON.stringify(this.state)) as LeaseState;
    assert.deepEqual(serialised, this.state, 'state survives JSON');
    const r = step(serialised, input, this.now, { cfg: this.cfg, rng: this.rng, giveUpAfterMs: this.giveUpAfterMs });
    this.state = r.state;
    this.trigger = r.trigger;
    return r.actions;
  }

  receive(msg: DhcpMessage): Action[] {
    return this.input({ type: 'packet', msg });
  }

  /** Advances the clock to the next deadline and fires it. */
  fire(): Action[] {
    const d = nextDeadline(this.state);
    assert.ok(d !== undefined, `no deadline in ${this.state.state}`);
    assert.ok(d >= this.now, 'deadlines are not in the past');
    this.now = d;
    return this.input({ type: 'timeout' });
  }

  /** The state's name, read through a getter so assertions do not narrow `state` for the type checker. */
  get name(): LeaseState['state'] {
    return this.state.state;
  }

  get lease() {
    assert.ok('lease' in this.state, `no lease in ${this.state.state}`);
    return this.state.lease;
  }
}

const sends = (actions: Action[]): Send[] => actions.filter((a): a is Send => a.type === 'send');
const events = (actions: Action[]): LeaseEvent[] => actions.flatMap((a) => (a.type === 'emit' ? [a.event] : []));
const kinds = (actions: Action[]): string[] =>
  actions.map((a) => (a.type === 'emit' ? `emit:${a.event.kind}` : a.type));

function onlySend(actions: Action[]): Send {
  const s = sends(actions);
  assert.equal(s.length, 1, `one send expected, got ${kinds(actions).join(',')}`);
  return s[0] as Send;
}

function typeOf(m: DhcpMessage): number | undefined {
  return m.options.get(Opt.MESSAGE_TYPE)?.[0];
}

interface ReplyOpts {
  yiaddr?: string;
  server?: string | null; // null: no option 54
  leaseS?: number | null; // null: no option 51
  t1S?: number;
  t2S?: number;
  message?: string;
  xid?: number;
  chaddr?: Buffer;
  op?: number;
}

/** The fake server: a reply to `req` as a real server would build it. */
function reply(req: DhcpMessage, type: number, o: ReplyOpts = {}): DhcpMessage {
  const options = new Map<number, Buffer>([[Opt.MESSAGE_TYPE, Buffer.from([type])]]);
  const server = o.server === undefined ? SERVER : o.server;
  if (server !== null) options.set(Opt.SERVER_ID, ipToBytes(server));
  if (type !== MessageType.NAK) {
    const lease = o.leaseS === undefined ? 3600 : o.leaseS;
    if (lease !== null) options.set(Opt.LEASE_TIME, u32(lease));
    if (o.t1S !== undefined) options.set(Opt.RENEWAL_TIME, u32(o.t1S));
    if (o.t2S !== undefined) options.set(Opt.REBINDING_TIME, u32(o.t2S));
    options.set(Opt.SUBNET_MASK, ipToBytes('255.255.252.0'));
    options.set(Opt.DNS_SERVERS, ipToBytes(SERVER));
  }
  if (o.message !== undefined) options.set(Opt.MESSAGE, Buffer.from(o.message));
  return {
    op: o.op ?? 2,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: o.xid ?? req.xid,
    secs: 0,
    flags: req.flags,
    ciaddr: req.ciaddr,
    yiaddr: type === MessageType.NAK ? '0.0.0.0' : (o.yiaddr ?? ADDR),
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: Buffer.from(o.chaddr ?? req.chaddr),
    sname: '',
    file: '',
    options,
  };
}

/** Runs DORA; returns the client BOUND and the REQUEST it sent. */
function bound(c: Client, o: ReplyOpts = {}): DhcpMessage {
  const discover = onlySend(c.input({ type: 'start' })).msg;
  c.now += 200;
  const request = onlySend(c.receive(reply(discover, MessageType.OFFER, o))).msg;
  c.now += 100;
  c.receive(reply(request, MessageType.ACK, o));
  assert.equal(c.name, 'BOUND');
  return request;
}

function assertBroadcastFromZero(s: Send): void {
  assert.deepEqual([s.via, s.srcIp, s.dstIp], ['packet', '0.0.0.0', '255.255.255.255']);
}

describe('acquisition (INIT → SELECTING → REQUESTING → BOUND)', () => {
  test('full DORA', () => {
    const c = new Client();
    assert.equal(transportFor(c.state)?.via ?? null, null);
    assert.equal(nextDeadline(c.state), undefined);

    const d = onlySend(c.input({ type: 'start' }));
    assert.equal(c.name, 'SELECTING');
    assertBroadcastFromZero(d);
    assert.equal(typeOf(d.msg), MessageType.DISCOVER);
    assert.equal(requestedIp(d.msg), undefined);
    assert.ok(d.msg.options.get(Opt.PARAMETER_REQUEST_LIST)?.includes(Opt.DNS_SERVERS));
    assert.equal(d.msg.options.get(Opt.CLIENT_ID)?.toString(), '\0ctr1/net1/eth1');
    assert.equal(d.msg.options.get(Opt.HOST_NAME)?.toString(), 'pod-a');
    assert.equal(transportFor(c.state)?.via ?? null, 'packet');
    const firstWait = (nextDeadline(c.state) as number) - T0;
    assert.ok(firstWait >= 3000 && firstWait <= 5000, `first wait ${firstWait}`);

    c.now += 200;
    const offerAt = c.now;
    const offer = reply(d.msg, MessageType.OFFER);
    const actions = c.receive(offer);
    const r = onlySend(actions);
    assert.deepEqual(kinds(actions), ['emit:offered', 'send']);
    assert.deepEqual(events(actions), [{ kind: 'offered', address: ADDR, serverId: SERVER }]);
    assert.equal(c.name, 'REQUESTING');
    assertBroadcastFromZero(r);
    assert.equal(typeOf(r.msg), MessageType.REQUEST);
    assert.equal(r.msg.xid, d.msg.xid, 'REQUEST keeps the xid of the OFFER');
    assert.equal(requestedIp(r.msg), ADDR);
    assert.equal(serverId(r.msg), SERVER);
    assert.equal(r.msg.ciaddr, '0.0.0.0');
    assert.equal(transportFor(c.state)?.via ?? null, 'packet');

    c.now += 300;
    const ack = reply(r.msg, MessageType.ACK, { leaseS: 3600 });
    const boundActions = c.receive(ack);
    assert.deepEqual(kinds(boundActions), ['persist', 'emit:bound']);
    assert.equal(c.name, 'BOUND');
    const l = c.lease;
    assert.equal(l.address, ADDR);
    assert.equal(l.serverId, SERVER);
    assert.equal(l.leaseTimeS, 3600);
    assert.equal(l.requestSentAtMs, offerAt, 'lease counted from the REQUEST, not the ACK');
    assert.equal(l.t2AtMs, offerAt + 3_150_000);
    assert.equal(l.expiresAtMs, offerAt + 3_600_000);
    assert.ok(Math.abs((l.t1AtMs as number) - (offerAt + 1_800_000)) <= 90_000);
    assert.equal(transportFor(c.state)?.via ?? null, null);
    assert.equal(nextDeadline(c.state), l.t1AtMs);
    assert.deepEqual(events(boundActions), [{ kind: 'bound', ack }]);
  });

  test('DISCOVER retransmission schedule is exact for a seed: 4, 8, 16, 32, 64, 64 s ± 1 s, same xid, secs grows', () => {
    const seed = 42;
    const c = new Client(config(), seed);
    // The core draws the xid, then one jitter per transmission.
    const replica = seededRng(seed);
    const xid = replica.u32();
    const first = onlySend(c.input({ type: 'start' }));
    assert.equal(first.msg.xid, xid);
    let sentAt = c.now;
    const bases = [4000, 8000, 16000, 32000, 64000, 64000, 64000];
    bases.forEach((base, i) => {
      const expected = Math.round(base + (replica.next() * 2 - 1) * 1000);
      const wait = (nextDeadline(c.state) as number) - sentAt;
      assert.equal(wait, expected, `wait after send ${i + 1}`);
      assert.ok(Math.abs(wait - base) <= 1000);
      const actions = c.fire();
      sentAt = c.now;
      const s = onlySend(actions);
      assert.equal(typeOf(s.msg), MessageType.DISCOVER);
      assert.equal(s.msg.xid, xid);
      assert.equal(s.msg.secs, Math.floor((c.now - T0) / 1000));
      assert.deepEqual(events(actions), [{ kind: 'retransmit', state: 'SELECTING', attempt: i + 2 }]);
    });
  });

  test('an early or repeated timeout is a no-op', () => {
    const c = new Client();
    c.input({ type: 'start' });
    const before = c.state;
    c.now += 1000;
    assert.deepEqual(c.input({ type: 'timeout' }), []);
    assert.deepEqual(c.state, before);
    c.fire();
    assert.deepEqual(c.input({ type: 'timeout' }), []);
  });

  test('replies with the wrong xid, chaddr, op, type or server are ignored', () => {
    const c = new Client();
    const d = onlySend(c.input({ type: 'start' })).msg;
    const selecting = c.state;
    const cases: [DhcpMessage, string][] = [
      [reply(d, MessageType.OFFER, { xid: (d.xid + 1) >>> 0 }), 'xid'],
      [reply(d, MessageType.OFFER, { chaddr: Buffer.from('020000000002', 'hex') }), 'chaddr'],
      [reply(d, MessageType.OFFER, { op: 1 }), 'op'],
      [reply(d, MessageType.OFFER, { server: null }), 'no-server-id'],
      [reply(d, MessageType.OFFER, { yiaddr: '0.0.0.0' }), 'yiaddr'],
      [reply(d, MessageType.ACK), 'type'],
      [reply(d, MessageType.NAK), 'type'],
    ];
    for (const [msg, reason] of cases) {
      assert.deepEqual(events(c.receive(msg)), [{ kind: 'ignored', reason }], reason);
      assert.deepEqual(c.state, selecting);
    }

    const r = onlySend(c.receive(reply(d, MessageType.OFFER))).msg;
    const requesting = c.state;
    const later: [DhcpMessage, string][] = [
      [reply(d, MessageType.OFFER, { server: OTHER_SERVER, yiaddr: ADDR2 }), 'type'],
      [reply(r, MessageType.ACK, { server: OTHER_SERVER }), 'server-id'],
      [reply(r, MessageType.NAK, { server: OTHER_SERVER }), 'server-id'],
      [reply(r, MessageType.ACK, { server: null }), 'no-server-id'],
      [reply(r, MessageType.ACK, { xid: 7 }), 'xid'],
    ];
    for (const [msg, reason] of later) {
      assert.deepEqual(events(c.receive(msg)), [{ kind: 'ignored', reason }], reason);
      assert.deepEqual(c.state, requesting);
    }

    c.receive(reply(r, MessageType.ACK));
    assert.deepEqual(events(c.receive(reply(r, MessageType.ACK))), [{ kind: 'ignored', reason: 'state' }]);
  });

  test('the first valid OFFER wins', () => {
    const c = new Client();
    const d = onlySend(c.input({ type: 'start' })).msg;
    c.receive(reply(d, MessageType.OFFER, { server: OTHER_SERVER, yiaddr: ADDR2 }));
    c.receive(reply(d, MessageType.OFFER));
    assert.ok(c.state.state === 'REQUESTING');
    assert.deepEqual(c.state.offer, { address: ADDR2, serverId: OTHER_SERVER });
  });

  test('NAK in REQUESTING → INIT: DISCOVER at once with option 50, new xid; repeated NAKs back off', () => {
    const c = new Client();
    const d = onlySend(c.input({ type: 'start' })).msg;
    const r = onlySend(c.receive(reply(d, MessageType.OFFER))).msg;
    const actions = c.receive(reply(r, MessageType.NAK, { message: 'address taken\n' }));
    assert.deepEqual(kinds(actions), ['emit:nak', 'send']);
    assert.deepEqual(events(actions)[0], { kind: 'nak', in: 'REQUESTING', message: 'address taken?' });
    const d2 = onlySend(actions);
    assert.equal(c.name, 'SELECTING');
    assertBroadcastFromZero(d2);
    assert.equal(typeOf(d2.msg), MessageType.DISCOVER);
    assert.equal(requestedIp(d2.msg), ADDR);
    assert.notEqual(d2.msg.xid, d.xid);

    // A server that keeps NAKing its own OFFERs: the next DISCOVER waits 2 s, then 4 s.
    let discover = d2.msg;
    for (const waitMs of [2000, 4000]) {
      const req = onlySend(c.receive(reply(discover, MessageType.OFFER))).msg;
      const nakAt = c.now;
      assert.deepEqual(kinds(c.receive(reply(req, MessageType.NAK))), ['emit:nak']);
      assert.equal(nextDeadline(c.state), nakAt + waitMs);
      const resend = c.fire();
      assert.deepEqual(kinds(resend), ['send'], 'the delayed DISCOVER is not a retransmission');
      discover = onlySend(resend).msg;
      assert.equal(requestedIp(discover), ADDR);
      assert.equal(discover.secs, 0);
    }
    // A bind resets the count.
    const req = onlySend(c.receive(reply(discover, MessageType.OFFER))).msg;
    c.receive(reply(req, MessageType.ACK));
    assert.equal(c.name, 'BOUND');
    assert.ok(!('naks' in c.state));
  });

  test('REQUESTING gives up after requestRetries retransmissions and starts over with option 50', () => {
    const c = new Client(config({ requestRetries: 2 }));
    const d = onlySend(c.input({ type: 'start' })).msg;
    const r = onlySend(c.receive(reply(d, MessageType.OFFER))).msg;
    assert.deepEqual(events(c.fire()), [{ kind: 'retransmit', state: 'REQUESTING', attempt: 2 }]);
    const third = c.fire();
    assert.equal(onlySend(third).msg.xid, r.xid);
    assert.equal(c.name, 'REQUESTING');
    const giveUp = c.fire();
    assert.equal(c.name, 'SELECTING');
    const ev = events(giveUp);
    assert.equal(ev[0]?.kind, 'failed');
    assert.match(ev[0]?.kind === 'failed' ? ev[0].reason : '', /no ACK or NAK from 198\.18\.0\.1 after 3 REQUESTs/);
    const d2 = onlySend(giveUp);
    assert.equal(typeOf(d2.msg), MessageType.DISCOVER);
    assert.equal(requestedIp(d2.msg), ADDR);
  });

  test('an ACK without option 51 is refused: failed, and the REQUEST is retransmitted as if no reply came', () => {
    const c = new Client();
    const d = onlySend(c.input({ type: 'start' })).msg;
    const r = onlySend(c.receive(reply(d, MessageType.OFFER))).msg;
    const requesting = c.state;
    const actions = c.receive(reply(r, MessageType.ACK, { leaseS: null }));
    assert.equal(sends(actions).length, 0);
    const ev = events(actions);
    assert.deepEqual(ev[0], { kind: 'ignored', reason: 'invalid-ack' });
    assert.ok(
      ev[1]?.kind === 'failed' && /option 51/.test(ev[1].reason) && ev[1].reason.includes(SERVER),
      JSON.stringify(ev[1]),
    );
    assert.deepEqual(c.state, requesting);
    assert.equal(typeOf(onlySend(c.fire()).msg), MessageType.REQUEST);
    c.receive(reply(r, MessageType.ACK));
    assert.equal(c.name, 'BOUND');
  });

  test('an infinite lease has no deadlines', () => {
    const c = new Client();
    bound(c, { leaseS: 0xffffffff });
    assert.deepEqual([c.lease.t1AtMs, c.lease.t2AtMs, c.lease.expiresAtMs], [null, null, null]);
    assert.equal(nextDeadline(c.state), undefined);
    c.now += 10 * 365 * 86_400_000;
    assert.deepEqual(c.input({ type: 'timeout' }), []);
    assert.equal(c.name, 'BOUND');
  });

  test('start with a remembered offer (fast retry): REQUEST with 50 and 54 at once, no DISCOVER; ACK binds, NAK starts over', () => {
    const c = new Client();
    const r = onlySend(c.input({ type: 'start', offer: { address: ADDR2, serverId: OTHER_SERVER } }));
    assertBroadcastFromZero(r);
    assert.equal(c.name, 'REQUESTING');
    assert.equal(typeOf(r.msg), MessageType.REQUEST);
    assert.deepEqual([requestedIp(r.msg), serverId(r.msg), r.msg.ciaddr], [ADDR2, OTHER_SERVER, '0.0.0.0']);
    c.now += 50;
    assert.deepEqual(
      events(c.receive(reply(r.msg, MessageType.ACK, { yiaddr: ADDR2, server: OTHER_SERVER }))).map((e) => e.kind),
      ['bound'],
    );
    assert.deepEqual([c.name, c.lease.address, c.lease.requestSentAtMs], ['BOUND', ADDR2, T0]);

    const refused = new Client();
    const r2 = onlySend(refused.input({ type: 'start', offer: { address: ADDR2, serverId: SERVER } })).msg;
    const d = onlySend(refused.receive(reply(r2, MessageType.NAK)));
    assert.deepEqual([refused.name, typeOf(d.msg), requestedIp(d.msg)], ['SELECTING', MessageType.DISCOVER, ADDR2]);
    assert.throws(
      () => new Client().input({ type: 'start', offer: { address: '0.0.0.0', serverId: SERVER } }),
      /not a usable IPv4 address/,
    );
  });

  test("'start' outside INIT is a programmer error", () => {
    const c = new Client();
    bound(c);
    assert.throws(() => c.input({ type: 'start' }), /not valid in state BOUND/);
  });
});

describe('renewal (BOUND → RENEWING → REBINDING → expiry)', () => {
  test('T1 → RENEWING: unicast REQUEST with ciaddr, no 50/54 → ACK → BOUND, times from the send', () => {
    const c = new Client();
    const firstRequest = bound(c);
    const t1 = c.lease.t1AtMs as number;
    const actions = c.fire();
    assert.equal(c.now, t1);
    assert.equal(c.name, 'RENEWING');
    assert.equal(transportFor(c.state)?.via ?? null, 'udp');
    const s = onlySend(actions);
    assert.deepEqual([s.via, s.srcIp, s.dstIp], ['udp', ADDR, SERVER]);
    assert.equal(typeOf(s.msg), MessageType.REQUEST);
    assert.equal(s.msg.ciaddr, ADDR);
    assert.equal(s.msg.options.has(Opt.REQUESTED_IP), false);
    assert.equal(s.msg.options.has(Opt.SERVER_ID), false);
    assert.equal(s.msg.flags, 0);
    assert.equal(s.msg.secs, 0);
    assert.notEqual(s.msg.xid, firstRequest.xid, 'a renewal is a new transaction');

    c.now += 150;
    const renewed = c.receive(reply(s.msg, MessageType.ACK, { leaseS: 3600 }));
    assert.deepEqual(kinds(renewed), ['persist', 'emit:renewed']);
    assert.equal(c.name, 'BOUND');
    assert.equal(c.lease.requestSentAtMs, t1);
    assert.equal(c.lease.t2AtMs, t1 + 3_150_000);
    assert.equal(c.lease.expiresAtMs, t1 + 3_600_000);
  });

  test('short lease: several RENEWING attempts, then REBINDING (broadcast with ciaddr) → ACK from another server', () => {
    const c = new Client(config({ minRenewRetransmitMs: 2000 }));
    bound(c, { leaseS: 20, t1S: 10, t2S: 15 });
    const { t1AtMs, t2AtMs, expiresAtMs } = c.lease;
    const renewXids = new Set<number>();
    let attempts = 0;
    let actions: Action[] = [];
    while (c.state.state !== 'REBINDING') {
      actions = c.fire();
      if (c.state.state === 'RENEWING') {
        const s = onlySend(actions);
        assert.equal(s.via, 'udp');
        renewXids.add(s.msg.xid);
        attempts++;
        if (attempts > 1)
          assert.deepEqual(events(actions), [{ kind: 'retransmit', state: 'RENEWING', attempt: attempts }]);
      }
      assert.ok(attempts < 20);
    }
    assert.ok(attempts >= 3, `${attempts} RENEWING attempts`);
    assert.equal(renewXids.size, 1, 'retransmissions keep the xid');
    assert.equal(c.now, t2AtMs);
    assert.equal(transportFor(c.state)?.via ?? null, 'packet');
    const r = onlySend(actions);
    assert.deepEqual(events(actions), [], 'the first REBINDING REQUEST is not a retransmission');
    assert.deepEqual([r.via, r.srcIp, r.dstIp], ['packet', ADDR, '255.255.255.255']);
    assert.equal(typeOf(r.msg), MessageType.REQUEST);
    assert.equal(r.msg.ciaddr, ADDR);
    assert.equal(r.msg.options.has(Opt.REQUESTED_IP), false);
    assert.equal(r.msg.options.has(Opt.SERVER_ID), false);
    assert.ok(!renewXids.has(r.msg.xid), 'rebinding is a new transaction');
    assert.equal(
      r.msg.secs,
      Math.floor(((t2AtMs as number) - (t1AtMs as number)) / 1000),
      'secs counts from the start of the renewal',
    );
    assert.deepEqual(c.input({ type: 'timeout' }), [], 'no duplicate send at the same instant');

    const retry = c.fire();
    assert.ok(c.now < (expiresAtMs as number));
    assert.deepEqual(events(retry), [{ kind: 'retransmit', state: 'REBINDING', attempt: 2 }]);
    assert.equal(onlySend(retry).msg.xid, r.msg.xid);
    c.now += 50;
    const rebound = c.receive(reply(r.msg, MessageType.ACK, { server: OTHER_SERVER, leaseS: 20 }));
    assert.deepEqual(kinds(rebound), ['persist', 'emit:rebound']);
    assert.equal(c.name, 'BOUND');
    assert.equal(c.lease.serverId, OTHER_SERVER);
    assert.equal(c.lease.requestSentAtMs, t2AtMs, 'counted from the first REBINDING REQUEST');
    assert.equal(c.lease.expiresAtMs, (t2AtMs as number) + 20_000);
  });

  test('a driver that slept past T2 goes straight from BOUND to REBINDING', () => {
    const c = new Client();
    bound(c, { leaseS: 20 });
    c.now = c.lease.t2AtMs as number;
    const r = onlySend(c.input({ type: 'timeout' }));
    assert.equal(c.name, 'REBINDING');
    assert.equal(r.via, 'packet');
  });

  test('no reply at all → expired → INIT with option 50 → bound to another address = changed', () => {
    const c = new Client(config({ minRenewRetransmitMs: 2000 }));
    bound(c, { leaseS: 20 });
    const expiresAt = c.lease.expiresAtMs as number;
    let actions: Action[] = [];
    while (c.state.state !== 'SELECTING') actions = c.fire();
    assert.equal(c.now, expiresAt);
    assert.deepEqual(kinds(actions), ['persist', 'emit:expired', 'send']);
    assert.deepEqual(events(actions)[0], { kind: 'expired', address: ADDR });
    const d = onlySend(actions);
    assertBroadcastFromZero(d);
    assert.equal(typeOf(d.msg), MessageType.DISCOVER);
    assert.equal(requestedIp(d.msg), ADDR);
    assert.equal(d.msg.secs, 0, 'a new acquisition');

    const r = onlySend(c.receive(reply(d.msg, MessageType.OFFER, { yiaddr: ADDR2 }))).msg;
    const ack = reply(r, MessageType.ACK, { yiaddr: ADDR2 });
    const changed = c.receive(ack);
    assert.deepEqual(events(changed), [{ kind: 'changed', from: ADDR, to: ADDR2, ack }]);
    assert.equal(c.lease.address, ADDR2);
  });

  test('expiry back to the same address is a plain bind', () => {
    const c = new Client(config({ minRenewRetransmitMs: 2000 }));
    bound(c, { leaseS: 20 });
    let actions: Action[] = [];
    while (c.state.state !== 'SELECTING') actions = c.fire();
    const r = onlySend(c.receive(reply(onlySend(actions).msg, MessageType.OFFER))).msg;
    assert.equal(events(c.receive(reply(r, MessageType.ACK)))[0]?.kind, 'bound');
  });

  test('ACK with a different yiaddr while RENEWING is a change of address', () => {
    const c = new Client();
    bound(c);
    const s = onlySend(c.fire());
    const ack = reply(s.msg, MessageType.ACK, { yiaddr: ADDR2 });
    assert.deepEqual(events(c.receive(ack)), [{ kind: 'changed', from: ADDR, to: ADDR2, ack }]);
    assert.equal(c.lease.address, ADDR2);
  });

  test('NAK while RENEWING drops the lease: persist, nak, DISCOVER with option 50; next bind elsewhere = changed', () => {
    const c = new Client();
    bound(c);
    const s = onlySend(c.fire());
    const actions = c.receive(reply(s.msg, MessageType.NAK));
    assert.deepEqual(kinds(actions), ['persist', 'emit:nak', 'send']);
    assert.deepEqual(events(actions)[0], { kind: 'nak', in: 'RENEWING' });
    const d = onlySend(actions).msg;
    assert.equal(requestedIp(d), ADDR);
    const r = onlySend(c.receive(reply(d, MessageType.OFFER, { yiaddr: ADDR2 }))).msg;
    assert.equal(events(c.receive(reply(r, MessageType.ACK, { yiaddr: ADDR2 })))[0]?.kind, 'changed');
  });
});

describe('INIT-REBOOT (resuming a stored lease)', () => {
  for (const how of ['start input', 'initial state'] as const) {
    test(`REQUEST with 50, no 54, ciaddr 0 → ACK → bound (${how})`, () => {
      const c = how === 'initial state' ? new Client(config(), 1, initialState(ADDR)) : new Client();
      if (how === 'initial state') assert.equal(c.name, 'INIT-REBOOT');
      const actions =
        how === 'initial state' ? c.input({ type: 'start' }) : c.input({ type: 'start', requestedIp: ADDR });
      assert.equal(c.name, 'REBOOTING');
      assert.equal(transportFor(c.state)?.via ?? null, 'packet');
      const r = onlySend(actions);
      assertBroadcastFromZero(r);
      assert.equal(typeOf(r.msg), MessageType.REQUEST);
      assert.equal(requestedIp(r.msg), ADDR);
      assert.equal(r.msg.options.has(Opt.SERVER_ID), false);
      assert.equal(r.msg.ciaddr, '0.0.0.0');
      c.now += 10;
      const ack = reply(r.msg, MessageType.ACK, { server: OTHER_SERVER });
      assert.deepEqual(events(c.receive(ack)), [{ kind: 'bound', ack }]);
      assert.equal(c.lease.serverId, OTHER_SERVER);
      assert.equal(c.lease.requestSentAtMs, T0);
    });
  }

  test('NAK → persist, nak, DISCOVER with option 50', () => {
    const c = new Client();
    const r = onlySend(c.input({ type: 'start', requestedIp: ADDR })).msg;
    const actions = c.receive(reply(r, MessageType.NAK, { server: OTHER_SERVER }));
    assert.deepEqual(kinds(actions), ['persist', 'emit:nak', 'send']);
    assert.deepEqual(events(actions)[0], { kind: 'nak', in: 'REBOOTING' });
    const d = onlySend(actions).msg;
    assert.equal(typeOf(d), MessageType.DISCOVER);
    assert.equal(requestedIp(d), ADDR);
    assert.equal(c.name, 'SELECTING');
  });

  test('no answer (a non-authoritative server) → failed, then DISCOVER with option 50', () => {
    const c = new Client(config({ requestRetries: 1 }));
    c.input({ type: 'start', requestedIp: ADDR });
    c.fire();
    const actions = c.fire();
    assert.deepEqual(kinds(actions), ['emit:failed', 'send']);
    assert.equal(requestedIp(onlySend(actions).msg), ADDR);
  });

  test('an unusable address is a programmer error', () => {
    assert.throws(() => initialState('0.0.0.0'), TypeError);
    assert.throws(() => new Client().input({ type: 'start', requestedIp: 'x' }), TypeError);
  });
});

describe('release and link loss', () => {
  test('release from BOUND: RELEASE by UDP from ciaddr to the server with 53, 61, 54 only', () => {
    const c = new Client();
    bound(c);
    const actions = c.input({ type: 'release' });
    assert.deepEqual(kinds(actions), ['send', 'persist', 'emit:released']);
    const s = onlySend(actions);
    assert.deepEqual([s.via, s.srcIp, s.dstIp], ['udp', ADDR, SERVER]);
    assert.deepEqual(s.fallback, ['packet', 'host'], 'AF_PACKET when ciaddr has no route, then the host');
    assert.equal(typeOf(s.msg), MessageType.RELEASE);
    assert.deepEqual([...s.msg.options.keys()], [Opt.MESSAGE_TYPE, Opt.CLIENT_ID, Opt.SERVER_ID]);
    assert.equal(s.msg.ciaddr, ADDR);
    assert.equal(serverId(s.msg), SERVER);
    assert.deepEqual(events(actions), [{ kind: 'released', sentRelease: true }]);
    assert.deepEqual(c.state, { state: 'RELEASED', previousAddress: ADDR });
    assert.equal(transportFor(c.state)?.via ?? null, null);
    assert.equal(nextDeadline(c.state), undefined);
    assert.deepEqual(c.input({ type: 'release' }), [], 'release is idempotent');
    assert.deepEqual(events(c.receive(reply(s.msg, MessageType.ACK))), [{ kind: 'ignored', reason: 'state' }]);
  });

  test('release from RENEWING uses the current server', () => {
    const c = new Client();
    bound(c);
    c.fire();
    const s = onlySend(c.input({ type: 'release' }));
    assert.deepEqual([s.via, s.srcIp, s.dstIp], ['udp', ADDR, SERVER]);
  });

  test('release while acquiring sends nothing', () => {
    const c = new Client();
    c.input({ type: 'start' });
    const actions = c.input({ type: 'release' });
    assert.deepEqual(kinds(actions), ['persist', 'emit:released']);
    assert.deepEqual(events(actions), [{ kind: 'released', sentRelease: false }]);
    assert.deepEqual(c.state, { state: 'RELEASED' });
  });

  test('linkGone → RELEASED from any state; a held lease is released from the host', () => {
    const c = new Client();
    bound(c);
    c.fire();
    const actions = c.input({ type: 'linkGone' });
    assert.deepEqual(kinds(actions), ['persist', 'emit:released', 'send']);
    assert.deepEqual(events(actions), [{ kind: 'released', sentRelease: false }]);
    const s = onlySend(actions);
    assert.deepEqual([s.via, s.srcIp, s.dstIp, s.fallback], ['host', ADDR, SERVER, undefined]);
    assert.equal(typeOf(s.msg), MessageType.RELEASE);
    assert.equal(s.msg.ciaddr, ADDR);
    assert.equal(c.name, 'RELEASED');
    assert.deepEqual(c.input({ type: 'linkGone' }), []);
    const acquiring = new Client();
    acquiring.input({ type: 'start' });
    assert.deepEqual(
      kinds(acquiring.input({ type: 'linkGone' })),
      ['persist', 'emit:released'],
      'no lease held, nothing to release',
    );
  });

  test('linkGone after the lease expired sends nothing: the server has freed the address already', () => {
    const c = new Client();
    bound(c, { leaseS: 20 });
    c.state = { state: 'BOUND', lease: { ...c.lease, t1AtMs: null, t2AtMs: null } };
    c.now = c.lease.expiresAtMs as number;
    assert.deepEqual(kinds(c.input({ type: 'linkGone' })), ['persist', 'emit:released']);
  });
});

describe('state is plain JSON', () => {
  test('every state of a full life round-trips and steps on identically', () => {
    // Two clients with the same seed: one keeps its objects, the other goes through JSON at every step.
    const seen = new Set<string>();
    const direct = { state: initialState(), rng: seededRng(5) };
    const c = new Client(config({ minRenewRetransmitMs: 2000 }), 5);
    const cfg = c.cfg;
    const drive = (input: Input): Action[] => {
      const a = step(direct.state, input, c.now, { cfg, rng: direct.rng });
      direct.state = a.state;
      const b = c.input(input);
      assert.deepEqual(JSON.parse(JSON.stringify(c.state)), direct.state);
      assert.equal(JSON.stringify(b.map((x) => x.type)), JSON.stringify(a.actions.map((x) => x.type)));
      seen.add(c.state.state);
      return b;
    };
    const d = onlySend(drive({ type: 'start' })).msg;
    const r = onlySend(drive({ type: 'packet', msg: reply(d, MessageType.OFFER, { leaseS: 20 }) })).msg;
    drive({ type: 'packet', msg: reply(r, MessageType.ACK, { leaseS: 20 }) });
    while (c.state.state !== 'SELECTING') {
      c.now = nextDeadline(c.state) as number;
      drive({ type: 'timeout' });
    }
    drive({ type: 'release' });
    assert.deepEqual([...seen].sort(), ['BOUND', 'REBINDING', 'RELEASED', 'RENEWING', 'REQUESTING', 'SELECTING']);
  });
});

describe('renewal retransmission in a short lease', () => {
  test("with the RFC's 60 s floor, a 20 s lease still retransmits: the wait is at most lease/8 (2.5 s)", () => {
    const c = new Client(config()); // DEFAULT_TIMING: minRenewRetransmitMs 60 s
    assert.equal(c.cfg.timing.minRenewRetransmitMs, 60_000);
    bound(c, { leaseS: 20, t1S: 10, t2S: 15 });
    const { t2AtMs, expiresAtMs } = c.lease;
    const at: [string, number, string][] = [];
    while (c.state.state !== 'INIT' && c.state.state !== 'SELECTING') {
      const actions = c.fire();
      if (sends(actions).length > 0) at.push([c.state.state, c.now, onlySend(actions).via]);
      assert.ok(at.length < 10);
    }
    const t1 = (at[0] as [string, number, string])[1];
    assert.deepEqual(at.slice(0, 4), [
      ['RENEWING', t1, 'udp'],
      ['RENEWING', t1 + 2500, 'udp'], // half of the 5 s to T2 (2.5 s) = lease/8: retransmitted, not skipped
      ['REBINDING', t2AtMs as number, 'packet'],
      ['REBINDING', (t2AtMs as number) + 2500, 'packet'],
    ]);
    assert.ok(c.now === expiresAtMs, 'expiry ends REBINDING');
  });

  test('a long lease keeps the 60 s floor: half the remaining time, never less than 60 s', () => {
    const c = new Client(config());
    bound(c, { leaseS: 1000, t1S: 500, t2S: 600 }); // 100 s from T1 to T2; lease/8 = 125 s > 60 s
    c.fire();
    assert.equal(c.name, 'RENEWING');
    const t1 = c.now;
    c.fire();
    assert.equal(c.now - t1, 60_000, 'half of 100 s is 50 s, raised to the 60 s floor');
    c.fire();
    assert.equal(c.name, 'REBINDING', 'the next wait is cut at T2');
  });
});

describe('conflict detection (RFC 5227) and DHCPDECLINE', () => {
  const OTHER_MAC = '02:00:00:00:00:99';
  type Arp = Extract<Action, { type: 'arp' }>;
  const arps = (actions: Action[]): Arp['packet'][] => actions.flatMap((a) => (a.type === 'arp' ? [a.packet] : []));
  const probing = (mode: 'quick' | 'rfc5227', announce = true): Client =>
    new Client({ ...config(), conflictDetection: mode, announce });
  const answer: ArpPacket = {
    op: ArpOp.REPLY,
    senderMac: OTHER_MAC,
    senderIp: ADDR,
    targetMac: MAC,
    targetIp: '0.0.0.0',
  };

  /** DORA up to the ACK; returns the ACK's actions and the ACK. */
  function acked(c: Client, o: ReplyOpts = {}): { actions: Action[]; ack: DhcpMessage } {
    const discover = onlySend(c.input({ type: 'start' })).msg;
    c.now += 200;
    const request = onlySend(c.receive(reply(discover, MessageType.OFFER, o))).msg;
    c.now += 100;
    const ack = reply(request, MessageType.ACK, o);
    return { actions: c.receive(ack), ack };
  }

  /** Probed, bound and announced: BOUND with only T1 ahead. */
  function boundAndAnnounced(c: Client): void {
    acked(c);
    while (c.state.state !== 'BOUND' || c.state.announce) c.fire();
  }

  test('quick: the ACK starts two probes from 0.0.0.0 100 ms apart; 100 ms later the address is bound, then announced twice 2 s apart', () => {
    const c = probing('quick');
    const { actions, ack } = acked(c);
    assert.equal(c.name, 'PROBING');
    assert.equal(transportFor(c.state)?.via ?? null, 'arp');
    assert.deepEqual(kinds(actions), ['arp'], 'no persist and no bound before the probe');
    const probe = {
      op: ArpOp.REQUEST,
      senderMac: MAC,
      senderIp: '0.0.0.0',
      targetMac: '00:00:00:00:00:00',
      targetIp: ADDR,
    };
    assert.deepEqual(arps(actions), [probe]);
    const ackAt = c.now;
    assert.deepEqual(arps(c.fire()), [probe]);
    assert.equal(c.now, ackAt + 100);
    const bind = c.fire();
    assert.equal(c.now, ackAt + 200);
    assert.deepEqual(kinds(bind), ['persist', 'emit:bound']);
    assert.deepEqual(events(bind), [{ kind: 'bound', ack }], 'the event carries the ACK as received');
    assert.equal(c.name, 'BOUND');
    assert.equal(transportFor(c.state)?.via ?? null, null);
    const announcement = {
      op: ArpOp.REQUEST,
      senderMac: MAC,
      senderIp: ADDR,
      targetMac: '00:00:00:00:00:00',
      targetIp: ADDR,
    };
    assert.equal(nextDeadline(c.state), c.now, 'the first announcement follows at once (after ADD is answered)');
    assert.deepEqual(arps(c.fire()), [announcement]);
    const first = c.now;
    assert.deepEqual(arps(c.fire()), [announcement]);
    assert.equal(c.now, first + 2000);
    assert.equal(nextDeadline(c.state), c.lease.t1AtMs, 'then only T1 is ahead');
    assert.deepEqual(c.state, { state: 'BOUND', lease: c.lease });
  });

  test('rfc5227: 3 probes after a random wait of 0-1 s, 1-2 s apart, then 2 s of listening: 4-7 s, exact for a seed', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const c = new Client({ ...config(), conflictDetection: 'rfc5227' }, seed);
      const { actions } = acked(c);
      assert.deepEqual(kinds(actions), [], 'the first probe waits PROBE_WAIT');
      const ackAt = c.now;
      const sentAt: number[] = [];
      while (c.name === 'PROBING') {
        const a = c.fire();
        if (arps(a).length > 0) sentAt.push(c.now - ackAt);
      }
      assert.equal(sentAt.length, 3);
      const [p1, p2, p3] = sentAt as [number, number, number];
      assert.ok(p1 >= 0 && p1 <= 1000, `first probe at ${p1}`);
      assert.ok(p2 - p1 >= 1000 && p2 - p1 <= 2000 && p3 - p2 >= 1000 && p3 - p2 <= 2000, `probes at ${sentAt}`);
      assert.equal(c.now - ackAt, p3 + 2000);
      assert.equal(c.name, 'BOUND');
      assert.equal(nextDeadline(c.state), c.lease.t1AtMs, 'announce off');
    }
  });

  test('an answer to the probe: DECLINE (ciaddr 0, 50, 54) broadcast from 0.0.0.0, 10 s wait, DISCOVER without 50, another address is probed and bound', () => {
    const c = probing('quick');
    acked(c);
    const actions = c.input({ type: 'arp', packet: answer });
    assert.deepEqual(kinds(actions), ['send', 'emit:declined']);
    const decline = onlySend(actions);
    assertBroadcastFromZero(decline);
    assert.equal(typeOf(decline.msg), MessageType.DECLINE);
    assert.equal(decline.msg.ciaddr, '0.0.0.0');
    assert.equal(requestedIp(decline.msg), ADDR);
    assert.equal(serverId(decline.msg), SERVER);
    assert.deepEqual(events(actions), [
      { kind: 'declined', address: ADDR, by: OTHER_MAC, conflicts: 1, restartInMs: 10_000 },
    ]);
    assert.equal(c.name, 'SELECTING');
    assert.equal(transportFor(c.state)?.via ?? null, 'packet');
    const declinedAt = c.now;
    const d = onlySend(c.fire()).msg;
    assert.equal(c.now, declinedAt + 10_000, 'RFC 2131 §4.4.1: at least ten seconds');
    assert.equal(typeOf(d), MessageType.DISCOVER);
    assert.equal(requestedIp(d), undefined, 'the declined address is not asked for again');
    assert.equal(d.secs, 0);
    const r = onlySend(c.receive(reply(d, MessageType.OFFER, { yiaddr: ADDR2 }))).msg;
    c.receive(reply(r, MessageType.ACK, { yiaddr: ADDR2 }));
    assert.equal(c.name, 'PROBING');
    assert.deepEqual(c.input({ type: 'arp', packet: answer }), [], 'an answer about the old address is no conflict');
    c.fire();
    const bind = c.fire();
    assert.deepEqual(
      events(bind).map((e) => e.kind),
      ['bound'],
      'an ADD gets its address: bound, not changed',
    );
    assert.equal(c.lease.address, ADDR2);
    assert.equal('conflicts' in c.state, false, 'the count ends with the bind');
  });

  test('what is a conflict while probing: any ARP with the address as sender, or another host probing for it; not our own, not a question', () => {
    const cases: [string, Partial<ArpPacket>, boolean][] = [
      ['reply from the holder', {}, true],
      ['request from the holder', { op: ArpOp.REQUEST, targetIp: '198.18.0.1' }, true],
      ['announcement by the holder', { op: ArpOp.REQUEST, targetIp: ADDR, targetMac: '00:00:00:00:00:00' }, true],
      ['another host probing for it', { op: ArpOp.REQUEST, senderIp: '0.0.0.0', targetIp: ADDR }, true],
      ['our own MAC as sender', { senderMac: MAC.toUpperCase() }, false],
      ['a host asking who has it', { op: ArpOp.REQUEST, senderIp: '198.18.0.7', targetIp: ADDR }, false],
      ['a reply about another address', { senderIp: ADDR2 }, false],
      ['another host probing for another address', { op: ArpOp.REQUEST, senderIp: '0.0.0.0', targetIp: ADDR2 }, false],
    ];
    for (const [what, change, conflict] of cases) {
      const c = probing('quick');
      acked(c);
      const actions = c.input({ type: 'arp', packet: { ...answer, ...change } });
      assert.equal(c.name, conflict ? 'SELECTING' : 'PROBING', what);
      if (!conflict) assert.deepEqual(actions, [], `${what}: no actions`);
    }
  });

  test('after MAX_CONFLICTS (10) DECLINEs in a row, one attempt per minute (RFC 5227 §2.1.1)', () => {
    const c = probing('quick');
    let d = onlySend(c.input({ type: 'start' })).msg;
    for (let n = 1; n <= 11; n++) {
      const r = onlySend(c.receive(reply(d, MessageType.OFFER))).msg;
      c.receive(reply(r, MessageType.ACK));
      const declined = events(c.input({ type: 'arp', packet: answer }))[0];
      assert.deepEqual(declined && declined.kind === 'declined' && [declined.conflicts, declined.restartInMs], [
        n,
        n >= 10 ? 60_000 : 10_000,
      ]);
      const at = c.now;
      d = onlySend(c.fire()).msg;
      assert.equal(c.now - at, n >= 10 ? 60_000 : 10_000);
    }
  });

  test('a NAK or a lost REQUEST after a DECLINE keeps the conflict count', () => {
    const c = probing('quick');
    const { actions } = acked(c);
    assert.equal(arps(actions).length, 1);
    c.input({ type: 'arp', packet: answer });
    const d = onlySend(c.fire()).msg;
    const r = onlySend(c.receive(reply(d, MessageType.OFFER, { yiaddr: ADDR2 }))).msg;
    c.receive(reply(r, MessageType.NAK));
    assert.equal(c.name, 'SELECTING');
    assert.equal(c.state.state === 'SELECTING' && c.state.conflicts, 1);
  });

  test('a renewal of the address in use is not probed; an ACK that moves the attachment is, and then announced', () => {
    const c = probing('quick');
    boundAndAnnounced(c);
    const renew = onlySend(c.fire()).msg;
    assert.equal(c.name, 'RENEWING');
    assert.deepEqual(kinds(c.receive(reply(renew, MessageType.ACK))), ['persist', 'emit:renewed']);
    assert.equal(nextDeadline(c.state), c.lease.t1AtMs, 'no announcement for a renewal');
    const again = onlySend(c.fire()).msg;
    const moved = reply(again, MessageType.ACK, { yiaddr: ADDR2 });
    assert.deepEqual(kinds(c.receive(moved)), ['arp']);
    assert.equal(c.name, 'PROBING');
    c.fire();
    assert.deepEqual(events(c.fire()), [{ kind: 'changed', from: ADDR, to: ADDR2, ack: moved }]);
    assert.equal(arps(c.fire())[0]?.senderIp, ADDR2, 'the new address is announced');
  });

  test('a conflict on an address the server moved the attachment to persists (the stored lease is gone) and keeps previousAddress', () => {
    const c = probing('quick');
    boundAndAnnounced(c);
    const renew = onlySend(c.fire()).msg;
    c.receive(reply(renew, MessageType.ACK, { yiaddr: ADDR2 }));
    const actions = c.input({ type: 'arp', packet: { ...answer, senderIp: ADDR2 } });
    assert.deepEqual(kinds(actions), ['send', 'persist', 'emit:declined']);
    assert.equal(c.state.state === 'SELECTING' && c.state.previousAddress, ADDR);
  });

  test('INIT-REBOOT: the verified address is probed too (another host may have taken it meanwhile)', () => {
    const c = new Client({ ...config(), conflictDetection: 'quick' }, 1, initialState(ADDR));
    const r = onlySend(c.input({ type: 'start' })).msg;
    c.receive(reply(r, MessageType.ACK));
    assert.equal(c.name, 'PROBING');
    c.fire();
    assert.deepEqual(
      events(c.fire()).map((e) => e.kind),
      ['bound'],
    );
  });

  test('while probing: DHCP replies are ignored, release sends a RELEASE (the server holds the lease), linkGone ends it', () => {
    const c = probing('quick');
    const { ack } = acked(c);
    assert.deepEqual(events(c.receive(ack)), [{ kind: 'ignored', reason: 'state' }]);
    const released = c.input({ type: 'release' });
    assert.deepEqual(kinds(released), ['send', 'persist', 'emit:released']);
    assert.equal(typeOf(onlySend(released).msg), MessageType.RELEASE);
    const d = probing('quick');
    acked(d);
    assert.throws(() => d.input({ type: 'start' }), /not valid in state PROBING/);
    const gone = d.input({ type: 'linkGone' });
    assert.deepEqual(kinds(gone), ['persist', 'emit:released', 'send']);
    assert.equal(onlySend(gone).via, 'host', 'the server holds the probed lease: released from the host');
  });

  test('detection off: bound at the ACK as before; announcements still follow when on, none when off; ARP is ignored when not probing', () => {
    const on = new Client({ ...config(), conflictDetection: 'off', announce: true });
    assert.deepEqual(kinds(acked(on).actions), ['persist', 'emit:bound']);
    assert.equal(nextDeadline(on.state), on.now);
    assert.equal(arps(on.fire()).length, 1);
    assert.deepEqual(on.input({ type: 'arp', packet: answer }), [], 'no ongoing defence (§2.4)');
    const off = new Client({ ...config(), conflictDetection: 'off', announce: false });
    acked(off);
    assert.deepEqual(off.state, { state: 'BOUND', lease: off.lease });
  });
});

describe('what the core tells its driver', () => {
  const why = (c: Client, actions: Action[]): string => transitionWhy(c.trigger, events(actions));

  test("every state change names its trigger, and the lease view says it in the RFC's words", () => {
    const c = new Client();
    const start = c.input({ type: 'start' });
    assert.deepEqual([c.trigger, why(c, start)], [{ by: 'start' }, 'start']);
    const discover = onlySend(start).msg;
    const offered = c.receive(reply(discover, MessageType.OFFER));
    assert.deepEqual([c.trigger, why(c, offered)], [{ by: 'OFFER' }, 'OFFER']);
    const acked = c.receive(reply(onlySend(offered).msg, MessageType.ACK, { leaseS: 20 }));
    assert.deepEqual([c.trigger, why(c, acked)], [{ by: 'ACK' }, 'ACK']);
    assert.equal(why(c, c.fire()), 'T1');
    assert.equal(c.trigger?.by, 'T1');
    while (c.name === 'RENEWING') c.fire();
    assert.deepEqual([c.name, c.trigger?.by], ['REBINDING', 'T2']);
    let last: Action[] = [];
    while (c.name === 'REBINDING') last = c.fire();
    assert.deepEqual([c.trigger?.by, why(c, last)], ['expiry', `lease on ${ADDR} expired`]);
    const released = c.input({ type: 'release' });
    assert.deepEqual([c.trigger?.by, why(c, released)], ['release', 'released']);
    const retransmit = new Client();
    retransmit.input({ type: 'start' });
    retransmit.fire();
    assert.equal(retransmit.trigger, undefined, 'a retransmission changes no state');
  });

  test('a driver that slept through T1 and T2 is told T2, not T1', () => {
    const c = new Client();
    bound(c, { leaseS: 20 });
    c.now = c.lease.t2AtMs as number;
    const actions = c.input({ type: 'timeout' });
    assert.deepEqual([c.name, c.trigger?.by, why(c, actions)], ['REBINDING', 'T2', 'T2']);
  });

  test('start triggers carry what the start asked for; NAK, unanswered REQUESTs, link loss name themselves', () => {
    const hinted = new Client();
    hinted.input({ type: 'start', offer: { address: ADDR, serverId: SERVER } });
    assert.equal(transitionWhy(hinted.trigger, []), `start (REQUEST for ${ADDR}, offered by ${SERVER} before)`);
    const reboot = new Client();
    const r = onlySend(reboot.input({ type: 'start', requestedIp: ADDR })).msg;
    assert.equal(transitionWhy(reboot.trigger, []), `start (requesting ${ADDR})`);
    const nak = reboot.receive(reply(r, MessageType.NAK, { message: 'wrong network' }));
    assert.deepEqual([reboot.trigger?.by, why(reboot, nak)], ['NAK', 'NAK: wrong network']);
    const silent = new Client();
    silent.input({ type: 'start', requestedIp: ADDR });
    let last: Action[] = [];
    while (silent.name === 'REBOOTING') last = silent.fire();
    assert.equal(silent.trigger?.by, 'unanswered');
    assert.match(why(silent, last), new RegExp(`^no ACK or NAK after \\d+ INIT-REBOOT REQUESTs for ${ADDR}$`));
    const gone = new Client();
    bound(gone);
    gone.input({ type: 'linkGone' });
    assert.equal(gone.trigger?.by, 'link-gone');
    assert.equal(transitionWhy({ by: 'link-gone' }, []), 'link or netns gone');
  });

  test('probing: the bind after silent probes and the DECLINE after an answer name their triggers', () => {
    const toProbing = (): { c: Client; acked: Action[] } => {
      const c = new Client({ ...config(), conflictDetection: 'quick' });
      const d = onlySend(c.input({ type: 'start' })).msg;
      return { c, acked: c.receive(reply(onlySend(c.receive(reply(d, MessageType.OFFER))).msg, MessageType.ACK)) };
    };
    const quiet = toProbing();
    assert.deepEqual([quiet.c.name, quiet.c.trigger?.by, why(quiet.c, quiet.acked)], ['PROBING', 'ACK', 'ACK']);
    let last: Action[] = [];
    while (quiet.c.name === 'PROBING') last = quiet.c.fire();
    assert.deepEqual([quiet.c.trigger?.by, why(quiet.c, last)], ['probed', 'no answer to the ARP probes']);
    const taken = toProbing().c;
    const other = '02:00:00:00:00:99';
    const declined = taken.input({
      type: 'arp',
      packet: { op: ArpOp.REPLY, senderMac: other, senderIp: ADDR, targetMac: MAC, targetIp: '0.0.0.0' },
    });
    assert.deepEqual(
      [taken.trigger?.by, why(taken, declined)],
      ['conflict', `${ADDR} in use (ARP from ${other}): DECLINE`],
    );
  });

  test('the transport names the socket and the address it is bound to; the driver picks neither', () => {
    const c = new Client();
    c.input({ type: 'start' });
    assert.deepEqual(transportFor(c.state), { via: 'packet', srcIp: '0.0.0.0' });
    c.state = { state: 'INIT' };
    bound(c, { leaseS: 20 });
    assert.equal(transportFor(c.state), null);
    c.fire();
    assert.deepEqual(
      transportFor(c.state),
      { via: 'udp', srcIp: ADDR, hearBroadcast: true },
      'RENEWING: ciaddr, and the broadcast NAK',
    );
    while (c.name === 'RENEWING') c.fire();
    assert.deepEqual(transportFor(c.state), { via: 'packet', srcIp: ADDR }, 'REBINDING broadcasts from ciaddr');
    const p = new Client({ ...config(), conflictDetection: 'quick' });
    const d = onlySend(p.input({ type: 'start' })).msg;
    p.receive(reply(onlySend(p.receive(reply(d, MessageType.OFFER))).msg, MessageType.ACK));
    assert.deepEqual(transportFor(p.state), { via: 'arp', address: ADDR });
  });
});

describe('giving up an acquisition (giveUpAfterMs, daemon -resendtimeout)', () => {
  const abandoned = (actions: Action[]): LeaseEvent[] => events(actions).filter((e) => e.kind === 'abandoned');

  test('no server: the deadline is a timer of its own, and reaching it is the abandoned event, with nothing sent', () => {
    const c = new Client();
    c.giveUpAfterMs = 10_000;
    const discover = onlySend(c.input({ type: 'start' })).msg;
    assert.equal('giveUpAtMs' in c.state && c.state.giveUpAtMs, T0 + 10_000);
    let last: Action[] = [];
    while (abandoned(last).length === 0) last = c.fire();
    assert.equal(c.now, T0 + 10_000, 'woken at the deadline, between two retransmissions');
    assert.deepEqual(last, [{ type: 'emit', event: { kind: 'abandoned', afterMs: 10_000 } }]);
    assert.equal(c.name, 'SELECTING');
    c.now += 5000;
    assert.deepEqual(
      abandoned(c.receive(reply(discover, MessageType.OFFER))),
      [{ kind: 'abandoned', afterMs: 10_000 }],
      'a reply after the deadline changes nothing',
    );
    assert.deepEqual(kinds(c.input({ type: 'release' })), ['persist', 'emit:released'], 'release still ends it');
  });

  test('the deadline holds across a NAK, and a bound lease has none; the next acquisition (expiry) gets a new one', () => {
    const c = new Client();
    c.giveUpAfterMs = 60_000;
    const d = onlySend(c.input({ type: 'start' })).msg;
    c.now += 1000;
    const req = onlySend(c.receive(reply(d, MessageType.OFFER))).msg;
    c.now += 1000;
    const d2 = onlySend(c.receive(reply(req, MessageType.NAK))).msg;
    assert.deepEqual([c.name, 'giveUpAtMs' in c.state && c.state.giveUpAtMs], ['SELECTING', T0 + 60_000]);
    c.now += 100;
    const req2 = onlySend(c.receive(reply(d2, MessageType.OFFER))).msg;
    c.receive(reply(req2, MessageType.ACK, { leaseS: 20 }));
    assert.deepEqual([c.name, c.trigger?.by], ['BOUND', 'ACK']);
    assert.equal(JSON.stringify(c.state).includes('giveUpAtMs'), false);
    while (c.name !== 'SELECTING') c.fire();
    assert.equal('giveUpAtMs' in c.state && c.state.giveUpAtMs, c.now + 60_000);
  });

  test('without giveUpAfterMs no deadline is set and nothing is abandoned', () => {
    const c = new Client();
    c.input({ type: 'start' });
    for (let i = 0; i < 20; i++) assert.deepEqual(abandoned(c.fire()), []);
    assert.equal('giveUpAtMs' in c.state, false);
  });
});
