// The one Go-duration parser (common/duration.ts), for the daemon flags, the CLI's --interval and ipam.timeout.
// Expected values are what Go's time.ParseDuration returns for the same text, in milliseconds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration } from '../../common/duration';

test("Go's unit table: ns, us, both micro signs, ms, s, m, h", () => {
  const cases: [string, number][] = [
    ['1000000ns', 1],
    ['1500us', 1.5],
    ['2000\u00b5s', 2],
    ['3000\u03bcs', 3],
    ['250ms', 250],
    ['10s', 10_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('Go syntax: sequences, fractions, bare 0 and a leading +', () => {
  const cases: [string, number][] = [
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['2m0.5s', 120_500],
    ['.5s', 500],
    ['1.s', 1000],
    ['1h2m3s4ms', 3_723_004],
    ['0', 0],
    ['+0', 0],
    ['+10s', 10_000],
    ['0s', 0],
    ['500000us', 500],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test('what Go refuses is an error naming the text; a negative duration is refused here too', () => {
  for (const bad of ['', '10', 's', '.s', '10x', '1m 30s', ' 1s', '1s ', '10s junk', '1S', '1sec', '+', '1e3s']) {
    const r = parseDuration(bad);
    assert.ok(r instanceof Error, bad);
    assert.match(r.message, /invalid duration/);
    assert.ok(r.message.includes(JSON.stringify(bad)), r.message);
  }
  const neg = parseDuration('-5s');
  assert.ok(neg instanceof Error);
  assert.match(neg.message, /must not be negative/);
});

test("longer than Go's int64 nanoseconds is refused; the longest it holds is taken", () => {
  assert.equal(parseDuration('2562047h'), 2_562_047 * 3_600_000);
  const r = parseDuration('2562048h');
  assert.ok(r instanceof Error);
  assert.match(r.message, /292 years/);
});
