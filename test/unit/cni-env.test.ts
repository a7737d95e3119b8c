import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readEnv, REQUIRED_ENV } from '../../daemon/cni/env';
import { CniError } from '../../daemon/cni/errors';

const full = { CNI_CONTAINERID: 'c0ffee', CNI_NETNS: '/run/netns/pod1', CNI_IFNAME: 'eth1', CNI_PATH: '/opt/cni/bin' };

function envCode(env: Record<string, string | undefined>): { code: number; msg: string } {
  try {
    readEnv(env);
  } catch (e) {
    assert.ok(e instanceof CniError);
    return { code: e.code, msg: e.msg };
  }
  assert.fail('expected an error');
}

test('each verb reads what it needs', () => {
  assert.deepEqual(readEnv({ ...full, CNI_COMMAND: 'ADD', CNI_ARGS: 'A=1' }), {
    verb: 'ADD',
    containerId: 'c0ffee',
    ifName: 'eth1',
    netns: '/run/netns/pod1',
    args: 'A=1',
  });
  assert.equal(readEnv({ CNI_COMMAND: 'VERSION' }).verb, 'VERSION');
  assert.equal(
    readEnv({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c', CNI_IFNAME: 'eth1' }).netns,
    '',
    'DEL without CNI_NETNS',
  );
  assert.equal(readEnv({ ...full, CNI_PATH: undefined, CNI_COMMAND: 'CHECK' }).verb, 'CHECK', 'CNI_PATH is optional');
  for (const verb of ['STATUS', 'GC']) {
    assert.equal(readEnv({ CNI_COMMAND: verb }).verb, verb, `${verb} needs no attachment`);
    assert.equal(
      readEnv({ CNI_COMMAND: verb, CNI_IFNAME: 'not/validated' }).verb,
      verb,
      `${verb} ignores attachment variables`,
    );
  }
});

test('every required variable of every verb is checked, an empty one counts as missing', () => {
  for (const [verb, names] of Object.entries(REQUIRED_ENV)) {
    for (const name of names) {
      for (const value of [undefined, '']) {
        const r = envCode({ ...full, CNI_COMMAND: verb, [name]: value });
        assert.equal(r.code, 4, `${verb} ${name}`);
        assert.equal(r.msg, `required env variables [${name}] missing`);
      }
    }
  }
});

test('all missing variables are named at once', () => {
  assert.equal(
    envCode({ CNI_COMMAND: 'ADD' }).msg,
    'required env variables [CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME] missing',
  );
});

test('missing or unknown CNI_COMMAND is code 4', () => {
  assert.deepEqual(envCode({}), { code: 4, msg: 'required env variables [CNI_COMMAND] missing' });
  assert.deepEqual(envCode({ ...full, CNI_COMMAND: 'FROB' }), { code: 4, msg: 'unknown CNI_COMMAND: FROB' });
  assert.deepEqual(envCode({ ...full, CNI_COMMAND: 'add' }), { code: 4, msg: 'unknown CNI_COMMAND: add' });
});

test('container id and interface name are validated as libcni does', () => {
  assert.equal(
    envCode({ ...full, CNI_COMMAND: 'ADD', CNI_CONTAINERID: '-bad' }).msg,
    'invalid characters in CNI_CONTAINERID',
  );
  assert.equal(envCode({ ...full, CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'a/b' }).code, 4);
  assert.match(envCode({ ...full, CNI_COMMAND: 'ADD', CNI_IFNAME: 'a-very-long-name0' }).msg, /longer than 15 bytes/);
  assert.match(envCode({ ...full, CNI_COMMAND: 'ADD', CNI_IFNAME: '..' }).msg, /is \. or \.\./);
  assert.match(envCode({ ...full, CNI_COMMAND: 'CHECK', CNI_IFNAME: 'eth 1' }).msg, /whitespace/);
  assert.match(envCode({ ...full, CNI_COMMAND: 'ADD', CNI_IFNAME: 'eth1:0' }).msg, /contains \/ or :/);
});

test('CNI_CONTAINERID is at most 1024 characters (it is kept with the lease)', () => {
  assert.equal(readEnv({ ...full, CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c'.repeat(1024) }).containerId.length, 1024);
  assert.deepEqual(envCode({ ...full, CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c'.repeat(1025) }), {
    code: 4,
    msg: 'CNI_CONTAINERID is longer than 1024 characters',
  });
});
