// The DHCPv6 lease core (daemon/dhcp6/lease.ts) with a fake clock, seeded randomness and REPLYs captured from Kea 2.2
// and dnsmasq 2.90 (test/fixtures/dhcp6; their xid is set to the exchange's).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { seededRng } from '../../daemon/dhcp/rng';
import { decode, encode } from '../../daemon/dhcp6/codec';
import { duidLl, duidUuid } from '../../daemon/dhcp6/duid';
import {
  Action6,
  ClientConfig6,
  Lease6,
  Lease6Event,
  Lease6State,
  StepContext6,
  listening6,
  nextDeadline6,
  step6,
} from '../../daemon/dhcp6/lease';
import * as o from '../../daemon/dhcp6/options';
import { firstRtMs, nextRtMs, DEFAULT_TIMING6 } from '../../daemon/dhcp6/timing';
import { ALL_SERVERS, Dhcp6Message, MsgType, Opt6, Status } from '../../daemon/dhcp6/types';

const BIN = resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'dhcp6');
const MAC = Buffer.from('0200c612060a', 'hex');
const IAID = 0x0a0b0c0d;
const T0 = 1_700_000_000_000;

function fixture(name: string, xid: number): Dhcp6Message {
  const d = decode(readFileSync(join(BIN, `${name}.bin`)));
  assert.ok(d.ok);
  return { ...d.value, xid };
}

function cfg(over: Partial<ClientConfig6> = {}): ClientConfig6 {
  return {
    duid: duidLl(MAC).toString('hex'),
    iaid: IAID,
    oro: [23, 24],
    rapidCommit: false,
    timing: DEFAULT_TIMING6,
    ...over,
  };
}

/** A client under test: the state, the clock, everything sent and emitted. */
class Client {
  state: Lease6State = { state: 'INIT' };
  now = T0;
  sent: { msg: Dhcp6Message; dst: string }[] = [];
  events: Lease6Event[] = [];
  persists = 0;
  readonly ctx: StepContext6;
  constructor(c: ClientConfig6 = cfg(), seed = 1) {
    this.ctx = { cfg: c, rng: seededRng(seed) };
  }
  apply(input: Parameters<typeof step6>[1]): Action6[] {
    const r = step6(this.state, input, this.now, this.ctx);
    this.state = r.state;
    for (const a of r.actions) {
      if (a.type === 'send') {
        // Every message the core builds must encode.
        assert.ok(decode(encode(a.msg)).ok);
        this.sent.push({ msg: a.msg, dst: a.dst });
      } else if (a.type === 'emit') this.events.push(a.event);
      else this.persists++;
    }
    return r.actions;
  }
  /** Advances the clock to the next deadline and fires it. */
  tick(): void {
    const at = nextDeadline6(this.state);
    assert.ok(at !== undefined, `a deadline in ${this.state.state}`);
    this.now = Math.max(this.now, at);
    this.apply({ type: 'timeout' });
  }
  last(): { msg: Dhcp6Message; dst: string } {
    const m = this.sent.at(-1);
    assert.ok(m);
    return m;
  }
  xid(): number {
    assert.ok('tx' in this.state);
    return this.state.tx.xid;
  }
  reply(name: string): void {
    this.apply({ type: 'packet', msg: fixture(name, this.xid()) });
  }
  /** A captured REPLY to another of the capture's clients, addressed to this one. */
  replyAsOurs(name: string): void {
    const msg = fixture(name, this.xid());
    msg.options = msg.options.map((opt) =>
      opt.code === Opt6.CLIENTID ? { code: opt.code, data: Buffer.from(this.ctx.cfg.duid, 'hex') } : opt,
    );
    this.apply({ type: 'packet', msg });
  }
  kinds(): string[] {
    return this.events.map((e) => e.kind);
  }
}

function bound(c: Client): Lease6 {
  assert.equal(c.state.state, 'BOUND');
  return (c.state as Extract<Lease6State, { state: 'BOUND' }>).lease;
}

/** SOLICIT, Kea's ADVERTISE, the first RT, REQUEST, REPLY. */
function keaBound(c = new Client()): Client {
  c.apply({ type: 'start' });
  c.reply('kea-2.2-advertise');
  c.tick();
  c.reply('kea-2.2-reply-request');
  return c;
}

describe('acquisition', () => {
  it('SOLICIT, ADVERTISE collected for the first RT, REQUEST to that server, REPLY: BOUND with its times', () => {
    const c = new Client();
    c.apply({ type: 'start' });
    const solicit = c.last();
    assert.equal(solicit.msg.type, MsgType.SOLICIT);
    assert.equal(solicit.dst, ALL_SERVERS);
    assert.equal(o.rapidCommit(solicit.msg), false);
    assert.deepEqual(o.clientId(solicit.msg), duidLl(MAC));
    assert.ok(listening6(c.state));
    c.reply('kea-2.2-advertise');
    assert.equal(c.state.state, 'SELECTING', 'preference 10: collect until the first RT ends');
    assert.equal(c.sent.length, 1);
    const firstRt = (nextDeadline6(c.state) as number) - T0;
    assert.ok(firstRt > 1000 && firstRt <= 1100, `first RT ${firstRt} in (IRT, 1.1 IRT]`);
    c.tick();
    const request = c.last();
    assert.equal(request.msg.type, MsgType.REQUEST);
    const adv = fixture('kea-2.2-advertise', 0);
    assert.deepEqual(o.serverId(request.msg), o.serverId(adv));
    assert.equal(o.iaNa(request.msg, IAID)?.addresses[0]?.address, 'fd00:198:18:6::100');
    const requestedAt = c.now;
    c.now += 3;
    c.reply('kea-2.2-reply-request');
    const lease = bound(c);
    assert.equal(lease.address, 'fd00:198:18:6::100');
    assert.equal(lease.server.unicast, 'fd00:198:18:6::1');
    assert.equal(lease.expiresAtMs, requestedAt + 3 + 600_000, 'valid lifetime from the REPLY');
    assert.equal(lease.t2AtMs, requestedAt + 3 + 240_000);
    const t1 = (lease.t1AtMs as number) - requestedAt - 3;
    assert.ok(Math.abs(t1 - 150_000) <= 7500, `T1 ${t1} within 5 % of 150 s`);
    assert.deepEqual(c.kinds(), ['bound']);
    assert.equal(c.persists, 1);
    assert.equal(listening6(c.state), false);
    assert.equal(nextDeadline6(c.state), lease.t1AtMs);
  });

  it('an ADVERTISE with preference 255 is taken at once; after the first RT any ADVERTISE is', () => {
    const c = new Client();
    c.apply({ type: 'start' });
    const adv = fixture('kea-2.2-advertise', c.xid());
    adv.options = adv.options.map((opt) =>
      opt.code === Opt6.PREFERENCE ? { code: opt.code, data: Buffer.from([255]) } : opt,
    );
    c.apply({ type: 'packet', msg: adv });
    assert.equal(c.state.state, 'REQUESTING');

    const late = new Client();
    late.apply({ type: 'start' });
    late.tick(); // the first RT passes without an ADVERTISE: SOLICIT again
    assert.equal(late.sent.length, 2);
    assert.deepEqual(late.kinds(), ['retransmit']);
    late.reply('dnsmasq-2.90-advertise');
    assert.equal(late.state.state, 'REQUESTING');
  });

  it('the better preference wins among ADVERTISEs collected', () => {
    const c = new Client();
    c.apply({ type: 'start' });
    c.reply('dnsmasq-2.90-advertise'); // preference 0
    c.reply('kea-2.2-advertise'); // preference 10
    c.reply('dnsmasq-2.90-advertise');
    c.tick();
    assert.equal(o.iaNa(c.last().msg, IAID)?.addresses[0]?.address, 'fd00:198:18:6::100');
  });

  it('Rapid Commit: SOLICIT carries it, the REPLY binds at once', () => {
    const c = new Client(cfg({ duid: duidUuid('rapid').toString('hex'), rapidCommit: true }));
    c.apply({ type: 'start' });
    assert.equal(o.rapidCommit(c.last().msg), true);
    c.reply('kea-2.2-reply-rapid');
    assert.equal(bound(c).address, 'fd00:198:18:6::101');
    assert.equal(c.sent.length, 1, 'no REQUEST');
    const d = new Client(cfg({ duid: duidUuid('rapid').toString('hex'), rapidCommit: true }));
    d.apply({ type: 'start' });
    d.reply('dnsmasq-2.90-reply-rapid');
    assert.equal(d.state.state, 'BOUND');
  });

  it('a REPLY to SOLICIT without Rapid Commit is ignored', () => {
    const c = new Client();
    c.apply({ type: 'start' });
    c.reply('kea-2.2-reply-request');
    assert.equal(c.state.state, 'SELECTING');
    assert.deepEqual(c.events.at(-1), { kind: 'ignored', reason: 'type' });
  });

  it('ignores the wrong xid, another client, no SERVERID, an unexpected type', () => {
    const c = new Client();
    c.apply({ type: 'start' });
    c.apply({ type: 'packet', msg: fixture('kea-2.2-advertise', (c.xid() + 1) & 0xffffff) });
    const other = fixture('kea-2.2-advertise', c.xid());
    other.options = other.options.map((opt) =>
      opt.code === Opt6.CLIENTID ? { code: opt.code, data: duidUuid('x') } : opt,
    );
    c.apply({ type: 'packet', msg: other });
    const anon = fixture('kea-2.2-advertise', c.xid());
    anon.options = anon.options.filter((opt) => opt.code !== Opt6.SERVERID);
    c.apply({ type: 'packet', msg: anon });
    c.apply({ type: 'packet', msg: { ...fixture('kea-2.2-advertise', c.xid()), type: MsgType.RECONFIGURE } });
    assert.deepEqual(
      c.events.map((e) => (e.kind === 'ignored' ? e.reason : e.kind)),
      ['xid', 'client-id', 'no-server-id', 'type'],
    );
    assert.equal(c.state.state, 'SELECTING');
    const b = keaBound();
    b.apply({ type: 'packet', msg: fixture('kea-2.2-reply-renew', 5) });
    assert.deepEqual(b.events.at(-1), { kind: 'ignored', reason: 'state' });
  });

  it('REQUEST gives up after REQ_MAX_RC transmissions: SOLICIT again, asking for the address', () => {
    const c = new Client();
    c.apply({ type: 'start' });
    c.reply('kea-2.2-advertise');
    c.tick();
    for (let i = 0; i < 10; i++) c.tick();
    assert.equal(c.sent.filter((s) => s.msg.type === MsgType.REQUEST).length, 10);
    assert.equal(c.state.state, 'SELECTING');
    assert.equal(c.last().msg.type, MsgType.SOLICIT);
    assert.equal(o.iaNa(c.last().msg, IAID)?.addresses[0]?.address, 'fd00:198:18:6::100', 'hint');
    assert.ok(c.events.some((e) => e.kind === 'failed' && /10 REQUESTs/.test(e.reason)));
  });

  it('NoAddrsAvail to REQUEST: SOLICIT again after RT', () => {
    const c = new Client();
    c.apply({ type: 'start' });
    c.reply('kea-2.2-advertise');
    c.tick();
    const r = fixture('kea-2.2-reply-request', c.xid());
    r.options = r.options.map((opt) =>
      opt.code === Opt6.IA_NA
        ? { code: opt.code, data: Buffer.concat([opt.data.subarray(0, 12), Buffer.from([0, 13, 0, 2, 0, 2])]) }
        : opt,
    );
    c.apply({ type: 'packet', msg: r });
    assert.equal(c.state.state, 'SELECTING');
    assert.deepEqual(c.events.at(-1), { kind: 'status', in: 'REQUESTING', code: Status.NoAddrsAvail, message: '' });
    assert.ok((nextDeadline6(c.state) as number) > c.now, 'not at once');
  });
});

describe('retransmission (RFC 8415 §15)', () => {
  it('RT doubles ±10 % and stays near MRT once over it', () => {
    const rng = seededRng(3);
    const p = DEFAULT_TIMING6.request;
    let rt = firstRtMs(p, rng, false);
    assert.ok(rt >= 900 && rt <= 1100);
    for (let i = 0; i < 12; i++) {
      const next = nextRtMs(rt, p, rng);
      if (2 * rt * 0.9 > p.mrtMs) assert.ok(next >= p.mrtMs * 0.9 && next <= p.mrtMs * 1.1, `${next}`);
      else assert.ok(next >= rt * 1.9 - 1 && next <= rt * 2.1 + 1, `${rt} -> ${next}`);
      rt = next;
    }
  });
  it('SOLICIT is retransmitted with elapsed time growing', () => {
    const c = new Client();
    c.apply({ type: 'start' });
    c.tick();
    c.tick();
    const elapsed = o.findOption(c.last().msg.options, Opt6.ELAPSED_TIME) as Buffer;
    assert.equal(elapsed.readUInt16BE(0), Math.floor((c.now - T0) / 10));
    assert.equal(c.sent.length, 3);
    assert.ok(
      c.sent.every((s) => s.msg.xid === c.sent[0]?.msg.xid),
      'one exchange, one xid',
    );
  });
});

describe('renewal', () => {
  it('RENEW at T1 to the UNICAST address Kea gave; the REPLY renews', () => {
    const c = keaBound();
    const lease = bound(c);
    c.tick();
    assert.equal(c.now, lease.t1AtMs);
    assert.equal(c.state.state, 'RENEWING');
    assert.equal(c.last().msg.type, MsgType.RENEW);
    assert.equal(c.last().dst, 'fd00:198:18:6::1');
    c.reply('kea-2.2-reply-renew');
    assert.equal(bound(c).expiresAtMs, c.now + 600_000);
    assert.equal(c.events.at(-1)?.kind, 'renewed');
  });

  it('without UNICAST (dnsmasq) RENEW goes to ff02::1:2', () => {
    const c = new Client();
    c.apply({ type: 'start' });
    c.reply('dnsmasq-2.90-advertise');
    c.tick();
    c.reply('dnsmasq-2.90-reply-request');
    c.tick();
    assert.equal(c.last().msg.type, MsgType.RENEW);
    assert.equal(c.last().dst, ALL_SERVERS);
    c.reply('dnsmasq-2.90-reply-renew');
    assert.equal(c.events.at(-1)?.kind, 'renewed');
  });

  it('UseMulticast: RENEW again at once to ff02::1:2', () => {
    const c = keaBound();
    c.tick();
    const r = fixture('kea-2.2-reply-renew', c.xid());
    r.options = [
      ...r.options.filter((opt) => opt.code !== Opt6.IA_NA),
      { code: Opt6.STATUS_CODE, data: Buffer.from([0, 5]) },
    ];
    c.apply({ type: 'packet', msg: r });
    assert.equal(c.state.state, 'RENEWING');
    assert.equal(c.last().dst, ALL_SERVERS);
    assert.equal(c.sent.filter((s) => s.msg.type === MsgType.RENEW).length, 2);
  });

  it('no answer to RENEW until T2: REBIND to ff02::1:2 without SERVERID; any server rebinds', () => {
    const c = keaBound();
    const lease = bound(c);
    while (c.state.state !== 'REBINDING') c.tick();
    assert.equal(c.now, lease.t2AtMs);
    assert.ok(c.sent.filter((s) => s.msg.type === MsgType.RENEW).length >= 2, 'RENEW retransmitted before T2');
    assert.equal(c.last().msg.type, MsgType.REBIND);
    assert.equal(c.last().dst, ALL_SERVERS);
    assert.equal(o.serverId(c.last().msg), undefined);
    c.reply('kea-2.2-reply-rebind');
    assert.equal(c.events.at(-1)?.kind, 'rebound');
    assert.equal(c.state.state, 'BOUND');
  });

  it('NoBinding to RENEW: REQUEST for the same address', () => {
    const c = keaBound();
    c.tick();
    const r = fixture('kea-2.2-reply-renew', c.xid());
    r.options = r.options.map((opt) =>
      opt.code === Opt6.IA_NA
        ? { code: opt.code, data: Buffer.concat([opt.data.subarray(0, 12), Buffer.from([0, 13, 0, 2, 0, 3])]) }
        : opt,
    );
    c.apply({ type: 'packet', msg: r });
    assert.equal(c.state.state, 'REQUESTING');
    assert.equal(o.iaNa(c.last().msg, IAID)?.addresses[0]?.address, 'fd00:198:18:6::100');
  });

  it('the valid lifetime ends: expired, SOLICIT asking for the address again', () => {
    const c = keaBound();
    const lease = bound(c);
    while (c.state.state !== 'SELECTING') c.tick();
    assert.equal(c.now, lease.expiresAtMs);
    assert.ok(c.events.some((e) => e.kind === 'expired' && e.address === lease.address));
    assert.equal(o.iaNa(c.last().msg, IAID)?.addresses[0]?.address, lease.address);
    c.reply('dnsmasq-2.90-advertise');
    c.tick();
    c.reply('dnsmasq-2.90-reply-request');
    assert.deepEqual(
      c.events.filter((e) => e.kind === 'changed').map((e) => e.kind === 'changed' && [e.from, e.to]),
      [['fd00:198:18:6::100', 'fd00:198:18:6::1df']],
    );
  });

  it('T1 > T2 in the IA: the REPLY is ignored', () => {
    const c = new Client();
    c.apply({ type: 'start' });
    c.reply('kea-2.2-advertise');
    c.tick();
    const r = fixture('kea-2.2-reply-request', c.xid());
    r.options = r.options.map((opt) => {
      if (opt.code !== Opt6.IA_NA) return opt;
      const data = Buffer.from(opt.data);
      data.writeUInt32BE(500, 4);
      return { code: opt.code, data };
    });
    c.apply({ type: 'packet', msg: r });
    assert.deepEqual(c.events.at(-1), { kind: 'ignored', reason: 'bad-times' });
  });
});

describe('after a restart: CONFIRM', () => {
  const stored = (): Lease6 => {
    const lease = bound(keaBound());
    return lease;
  };
  it('CONFIRM of the stored address; Success keeps the lease until its T1', () => {
    const lease = stored();
    const c = new Client();
    c.now = T0 + 5000;
    c.apply({ type: 'start', lease });
    assert.equal(c.last().msg.type, MsgType.CONFIRM);
    assert.equal(c.last().dst, ALL_SERVERS);
    c.reply('kea-2.2-reply-confirm');
    assert.deepEqual(bound(c), lease);
    assert.deepEqual(c.kinds(), ['confirmed']);
  });
  it('confirmed past T1: RENEW at once', () => {
    const lease = stored();
    const c = new Client();
    c.now = (lease.t1AtMs as number) + 1000;
    c.apply({ type: 'start', lease });
    c.reply('dnsmasq-2.90-reply-confirm');
    assert.equal(c.state.state, 'RENEWING');
    assert.equal(c.last().msg.type, MsgType.RENEW);
  });
  it('NotOnLink: SOLICIT for a new address', () => {
    const c = new Client();
    c.apply({ type: 'start', lease: stored() });
    c.replyAsOurs('kea-2.2-reply-notonlink');
    assert.equal(c.state.state, 'SELECTING');
    assert.equal(c.last().msg.type, MsgType.SOLICIT);
    assert.equal(c.events.find((e) => e.kind === 'status')?.kind, 'status');
  });
  it('no answer within CNF_MAX_RD (10 s): the stored lease goes on', () => {
    const lease = stored();
    const c = new Client();
    c.apply({ type: 'start', lease });
    while (c.state.state === 'CONFIRMING') c.tick();
    assert.equal(c.now, T0 + 10_000);
    assert.deepEqual(bound(c), lease);
    assert.ok(c.kinds().includes('unconfirmed'));
  });
  it('a stored lease past its valid lifetime: SOLICIT with it as hint', () => {
    const lease = stored();
    const c = new Client();
    c.now = (lease.expiresAtMs as number) + 1;
    c.apply({ type: 'start', lease });
    assert.equal(c.last().msg.type, MsgType.SOLICIT);
    assert.equal(o.iaNa(c.last().msg, IAID)?.addresses[0]?.address, lease.address);
  });
});

describe('DECLINE, RELEASE, link gone', () => {
  it('DAD failure: DECLINE to the server, its REPLY, then SOLICIT', () => {
    const c = keaBound();
    c.apply({ type: 'dadFailed' });
    assert.equal(c.last().msg.type, MsgType.DECLINE);
    assert.deepEqual(o.serverId(c.last().msg), o.serverId(fixture('kea-2.2-advertise', 0)));
    assert.equal(c.events.at(-1)?.kind, 'declined');
    c.replyAsOurs('kea-2.2-reply-decline');
    assert.equal(c.state.state, 'SELECTING');
    assert.equal(c.last().msg.type, MsgType.SOLICIT);
  });
  it('an unanswered DECLINE is sent DEC_MAX_RC times', () => {
    const c = keaBound();
    c.apply({ type: 'dadFailed' });
    while (c.state.state === 'DECLINING') c.tick();
    assert.equal(c.sent.filter((s) => s.msg.type === MsgType.DECLINE).length, 5);
    assert.equal(c.state.state, 'SELECTING');
  });
  it('release while bound: one RELEASE to the server, RELEASED; while soliciting: nothing sent', () => {
    const c = keaBound();
    c.apply({ type: 'release' });
    assert.equal(c.last().msg.type, MsgType.RELEASE);
    assert.equal(c.last().dst, 'fd00:198:18:6::1');
    assert.deepEqual(c.state, { state: 'RELEASED', previousAddress: 'fd00:198:18:6::100' });
    assert.deepEqual(c.events.at(-1), { kind: 'released', sentRelease: true });
    assert.equal(nextDeadline6(c.state), undefined);
    const s = new Client();
    s.apply({ type: 'start' });
    s.apply({ type: 'release' });
    assert.equal(s.sent.length, 1);
    assert.deepEqual(s.events.at(-1), { kind: 'released', sentRelease: false });
  });
  it('link gone: RELEASED without sending', () => {
    const c = keaBound();
    c.apply({ type: 'linkGone' });
    assert.equal(c.sent.at(-1)?.msg.type, MsgType.REQUEST);
    assert.equal(c.state.state, 'RELEASED');
  });
  it("'start' twice is a bug", () => {
    const c = new Client();
    c.apply({ type: 'start' });
    assert.throws(() => c.apply({ type: 'start' }), /not valid in state SELECTING/);
  });
  it('the state is plain JSON', () => {
    const c = keaBound();
    assert.deepEqual(JSON.parse(JSON.stringify(c.state)), c.state);
  });
});
