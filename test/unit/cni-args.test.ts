import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCniArgs } from '../../daemon/cni/args';
import { CniError } from '../../daemon/cni/errors';

test('K=V pairs separated by ";"', () => {
  assert.deepEqual(parseCniArgs('K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=abc'), {
    K8S_POD_NAMESPACE: 'default',
    K8S_POD_NAME: 'web-0',
    K8S_POD_INFRA_CONTAINER_ID: 'abc',
  });
});

test('absent or empty CNI_ARGS is no args', () => {
  assert.deepEqual(parseCniArgs(undefined), {});
  assert.deepEqual(parseCniArgs(''), {});
});

test('a value may contain "=" and may be empty; a trailing ";" is ignored; the last duplicate wins', () => {
  assert.deepEqual(parseCniArgs('A=b=c;B=;C=1;C=2;'), { A: 'b=c', B: '', C: '2' });
});

test('IgnoreUnknown is accepted and dropped (every key is kept, none is unknown)', () => {
  assert.deepEqual(parseCniArgs('IgnoreUnknown=1;FOO=bar'), { FOO: 'bar' });
  assert.deepEqual(parseCniArgs('IgnoreUnknown=false'), {});
  assert.throws(
    () => parseCniArgs('IgnoreUnknown=maybe'),
    (e: CniError) => e.code === 4 && /IgnoreUnknown/.test(e.msg),
  );
});

test('a pair without "=" or without a key is code 4 naming CNI_ARGS and the pair', () => {
  for (const bad of ['FOO', 'A=1;BAR', '=value']) {
    assert.throws(
      () => parseCniArgs(bad),
      (e: unknown) => e instanceof CniError && e.code === 4 && e.msg.startsWith('CNI_ARGS: invalid pair'),
      bad,
    );
  }
});

test('CNI_ARGS is bounded (it is kept with the lease): 32 keys, keys of 128 and values of 1024 characters, each excess code 4', () => {
  const keys = (n: number) => Array.from({ length: n }, (_, i) => `K${i}=v`).join(';');
  assert.equal(Object.keys(parseCniArgs(keys(32))).length, 32);
  assert.deepEqual(parseCniArgs(`${'K'.repeat(128)}=${'v'.repeat(1024)}`), { ['K'.repeat(128)]: 'v'.repeat(1024) });
  const cases: [string, string][] = [
    [keys(33), 'CNI_ARGS: more than 32 keys'],
    [`${'K'.repeat(129)}=v`, `CNI_ARGS: a key is longer than 128 characters ("${'K'.repeat(32)}"...)`],
    [`K8S_POD_NAME=${'x'.repeat(1025)}`, 'CNI_ARGS: K8S_POD_NAME is longer than 1024 characters'],
  ];
  for (const [raw, msg] of cases)
    assert.throws(
      () => parseCniArgs(raw),
      (e: unknown) => e instanceof CniError && e.code === 4 && e.msg === msg,
      msg,
    );
});
