import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCniArgs } from '../../daemon/cni/args';
import { CniError } from '../../daemon/cni/errors';

test('K=V pairs separated by ";"', () => {
  assert.deepEqual(parseCniArgs('K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=abc'), {
    K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'web-0', K8S_POD_INFRA_CONTAINER_ID: 'abc',
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
  assert.throws(() => parseCniArgs('IgnoreUnknown=maybe'), (e: CniError) => e.code === 4 && /IgnoreUnknown/.test(e.msg));
});

test('a pair without "=" or without a key is code 4 naming CNI_ARGS and the pair', () => {
  for (const bad of ['FOO', 'A=1;BAR', '=value']) {
    assert.throws(() => parseCniArgs(bad), (e: unknown) => e instanceof CniError && e.code === 4 && e.msg.startsWith('CNI_ARGS: invalid pair'), bad);
  }
});
