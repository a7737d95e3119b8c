import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { u32 } from '../../daemon/dhcp/bytes';
import { seededRng } from '../../daemon/dhcp/rng';
import {
  DEFAULT_TIMING,
  INFINITE_LEASE_S,
  T1_JITTER_FRACTION,
  leaseTimes,
  renewRetransmitAtMs,
  retransmitDelayMs,
} from '../../daemon/dhcp/timing';
import { DhcpMessage, Opt } from '../../daemon/dhcp/types';
import { reply } from '../helpers/messages';

function ack(times: { lease?: number; t1?: number; t2?: number }): DhcpMessage {
  const options = new Map<number, Buffer>([[Opt.MESSAGE_TYPE, Buffer.from([5])]]);
  if (times.lease !== undefined) options.set(Opt.LEASE_TIME, u32(times.lease));
  if (times.t1 !== undefined) options.set(Opt.RENEWAL_TIME, u32(times.t1));
  if (times.t2 !== undefined) options.set(Opt.REBINDING_TIME, u32(times.t2));
  return reply({ yiaddr: '198.18.0.20', options });
}

const SENT = 1_000_000;

function times(a: { lease?: number; t1?: number; t2?: number }, seed = 1) {
  const r = leaseTimes(ack(a), SENT, seededRng(seed));
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.value;
}

/** T1 without jitter lies within ±5 % of the jittered value's centre. */
function assertT1Near(t1AtMs: number | null, t1S: number): void {
  assert.ok(t1AtMs !== null);
  const centre = SENT + t1S * 1000;
  assert.ok(
    Math.abs(t1AtMs - centre) <= T1_JITTER_FRACTION * t1S * 1000 + 1,
    `T1 ${t1AtMs - SENT} ms, expected ~${t1S} s`,
  );
}

describe('leaseTimes', () => {
  test('defaults: T1 50 %, T2 87.5 %, counted from the REQUEST send time', () => {
    const t = times({ lease: 3600 });
    assert.equal(t.leaseTimeS, 3600);
    assert.equal(t.expiresAtMs, SENT + 3_600_000);
    assert.equal(t.t2AtMs, SENT + 3_150_000);
    assertT1Near(t.t1AtMs, 1800);
  });

  test('options 58 and 59 are used when consistent', () => {
    const t = times({ lease: 20, t1: 10, t2: 15 });
    assert.equal(t.t2AtMs, SENT + 15_000);
    assert.equal(t.expiresAtMs, SENT + 20_000);
    assertT1Near(t.t1AtMs, 10);
  });

  test('T2 ≥ lease falls back to 87.5 %; T1 ≥ T2 falls back to 50 %', () => {
    const t = times({ lease: 100, t1: 95, t2: 100 });
    assert.equal(t.t2AtMs, SENT + 87_500);
    assertT1Near(t.t1AtMs, 50);
  });

  test('a short T2 keeps T1 below it at the default ratio (4/7 of T2)', () => {
    const t = times({ lease: 100, t2: 35 });
    assert.equal(t.t2AtMs, SENT + 35_000);
    assertT1Near(t.t1AtMs, 20);
  });

  test('T1 = 0 and T2 = infinity are inconsistent with a finite lease: defaults', () => {
    const t = times({ lease: 40, t1: 0, t2: INFINITE_LEASE_S });
    assert.equal(t.t2AtMs, SENT + 35_000);
    assertT1Near(t.t1AtMs, 20);
  });

  test('0xffffffff is an infinite lease: no deadlines', () => {
    assert.deepEqual(times({ lease: INFINITE_LEASE_S, t1: 10, t2: 20 }), {
      leaseTimeS: INFINITE_LEASE_S,
      t1AtMs: null,
      t2AtMs: null,
      expiresAtMs: null,
    });
  });

  test('no option 51, or a lease of 0 s, is refused with a reason', () => {
    const none = leaseTimes(ack({ t1: 10 }), SENT, seededRng(1));
    assert.equal(none.ok, false);
    assert.match(none.ok ? '' : none.reason, /option 51/);
    assert.equal(leaseTimes(ack({ lease: 0 }), SENT, seededRng(1)).ok, false);
  });

  test('T1 jitter over many seeds: within ±5 %, spread out, always before T2', () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 2000; seed++) {
      const t = times({ lease: 600 }, seed);
      assertT1Near(t.t1AtMs, 300);
      seen.add(t.t1AtMs as number);
      const tight = times({ lease: 600, t1: 524, t2: 525 }, seed);
      assert.ok((tight.t1AtMs as number) < (tight.t2AtMs as number), `seed ${seed}`);
      assert.ok((tight.t1AtMs as number) > SENT);
    }
    assert.ok(seen.size > 1000, `only ${seen.size} distinct T1 values`);
    const spread = Math.max(...seen) - Math.min(...seen);
    assert.ok(spread > 0.09 * 300_000, `spread ${spread} ms`);
  });
});

describe('retransmission', () => {
  test('4 s doubling to 64 s, each ±1 s', () => {
    for (let seed = 0; seed < 200; seed++) {
      const rng = seededRng(seed);
      const bases = [4000, 8000, 16000, 32000, 64000, 64000, 64000];
      bases.forEach((base, i) => {
        const d = retransmitDelayMs(i, DEFAULT_TIMING, rng);
        assert.ok(d >= base - 1000 && d <= base + 1000, `seed ${seed} send ${i}: ${d}`);
      });
    }
  });

  test('exact for a seed: the jitter is the rng draw', () => {
    const rng = seededRng(7);
    const draw = seededRng(7);
    for (const base of [4000, 8000, 16000]) {
      assert.equal(
        retransmitDelayMs(Math.log2(base / 4000), DEFAULT_TIMING, rng),
        Math.round(base + (draw.next() * 2 - 1) * 1000),
      );
    }
  });

  test('custom timing: no jitter, cap honoured', () => {
    const timing = { ...DEFAULT_TIMING, firstRetransmitMs: 1000, maxRetransmitMs: 3000, jitterMs: 0 };
    assert.deepEqual(
      [0, 1, 2, 3, 40].map((i) => retransmitDelayMs(i, timing, seededRng(1))),
      [1000, 2000, 3000, 3000, 3000],
    );
  });

  test('RENEWING/REBINDING: half the remaining time, floored, never past the deadline', () => {
    assert.equal(renewRetransmitAtMs(0, 1_000_000, 60_000), 500_000);
    assert.equal(renewRetransmitAtMs(0, 100_000, 60_000), 60_000);
    assert.equal(renewRetransmitAtMs(0, 7_500, 60_000), 7_500);
    assert.equal(renewRetransmitAtMs(10_000, 17_500, 2_000), 13_750);
    assert.equal(renewRetransmitAtMs(10_000, 11_000, 2_000), 11_000);
    assert.equal(renewRetransmitAtMs(20_000, 11_000, 2_000), 20_000);
  });
});

describe('seededRng', () => {
  test('same seed, same sequence; values in range', () => {
    const a = seededRng(99);
    const b = seededRng(99);
    for (let i = 0; i < 100; i++) {
      const x = a.next();
      assert.equal(x, b.next());
      assert.ok(x >= 0 && x < 1);
      const n = a.u32();
      assert.equal(n, b.u32());
      assert.ok(Number.isInteger(n) && n >= 0 && n <= 0xffffffff);
    }
    assert.notEqual(seededRng(1).u32(), seededRng(2).u32());
  });
});
