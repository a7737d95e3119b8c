// Lease loggers: every line names the attachment as a pino child's would, whatever the call's shape, and a child
// of a lease logger keeps those keys.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import { leaseLogger } from '../../daemon/log';

test('a lease logger writes the attachment keys on every line, in the order a pino child does', () => {
  const lines: Record<string, unknown>[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  const root = pino({ level: 'debug', base: null, timestamp: false }, out);
  const a = { containerId: 'c1', network: 'lan', ifName: 'eth1', netns: '/run/netns/p1' };
  const log = leaseLogger(root, a);
  log.info({ from: 'INIT', to: 'SELECTING' }, 'state');
  log.warn('plain');
  log.error(new Error('boom'));
  log.trace('below the level');
  log.child({ family: 'ipv6' }).debug({ n: 1 }, 'child');
  const keys = { containerId: 'c1', network: 'lan', ifName: 'eth1', netns: '/run/netns/p1' };
  assert.deepEqual(lines[0], { level: 30, ...keys, from: 'INIT', to: 'SELECTING', msg: 'state' });
  assert.deepEqual(Object.keys(lines[0] as object), ['level', ...Object.keys(keys), 'from', 'to', 'msg']);
  assert.deepEqual(lines[1], { level: 40, ...keys, msg: 'plain' });
  assert.equal(lines[2]?.msg, 'boom');
  assert.equal((lines[2]?.err as { message?: string }).message, 'boom');
  assert.equal(lines[2]?.containerId, 'c1');
  assert.deepEqual(lines[3], { level: 20, ...keys, family: 'ipv6', n: 1, msg: 'child' });
  assert.equal(lines.length, 4);
});
