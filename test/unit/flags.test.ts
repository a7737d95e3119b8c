import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DaemonOptions, defaultOptions, parseDaemonArgs } from '../../daemon/flags';

function ok(argv: string[]): DaemonOptions {
  const r = parseDaemonArgs(argv);
  assert.ok(!(r instanceof Error), r instanceof Error ? r.message : '');
  return r;
}

test('the reference daemon flags, verbatim', () => {
  const o = ok([
    '-socketpath',
    '/tmp/x.sock',
    '-pidfile=/tmp/p',
    '-hostprefix',
    '/host',
    '-broadcast',
    '-timeout',
    '10s',
    '-resendmax',
    '62s',
    '-resendtimeout=208s',
  ]);
  assert.equal(o.socketPath, '/tmp/x.sock');
  assert.equal(o.pidfile, '/tmp/p');
  assert.equal(o.hostPrefix, '/host');
  assert.equal(o.broadcast, true);
  assert.equal(o.retransmitMs, 10_000);
  assert.equal(o.resendMaxMs, 62_000);
  assert.equal(o.resendTimeoutMs, 208_000);
});

test('GNU long options', () => {
  const o = ok([
    '--socket-path=/tmp/y.sock',
    '--broadcast=false',
    '--add-timeout',
    '5s',
    '--state-dir',
    '/tmp/s',
    '--log-level',
    'debug',
  ]);
  assert.equal(o.socketPath, '/tmp/y.sock');
  assert.equal(o.broadcast, false);
  assert.equal(o.addTimeoutMs, 5000);
  assert.equal(o.stateDir, '/tmp/s');
  assert.equal(o.logLevel, 'debug');
});

test('defaults', () => {
  assert.deepEqual(ok([]), defaultOptions());
  assert.equal(defaultOptions().socketPath, '/run/cni/ts-dhcp.sock');
});

test('bad arguments name what is wrong', () => {
  const cases: [string[], RegExp][] = [
    [['--nope'], /unknown flag --nope/],
    [['-socketpath'], /-socketpath needs a value/],
    [['-timeout', 'soon'], /-timeout: invalid duration "soon"/],
    [['-broadcast=maybe'], /takes true or false/],
    [['stray'], /unexpected argument "stray"/],
    [['--log-level', 'loud'], /unknown level "loud"/],
    [['--timeout', '1s', '--resend-max', '500ms'], /--resend-max must not be shorter/],
  ];
  for (const [argv, re] of cases) {
    const r = parseDaemonArgs(argv);
    assert.ok(r instanceof Error, argv.join(' '));
    assert.match(r.message, re);
  }
});
