import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CniError } from '../../common/cni/errors';
import { addParams, attachmentParams } from '../../daemon/rpc-params';

const good = {
  containerId: 'c1', network: 'lan', ifName: 'eth1', netns: '/var/run/netns/p1',
  args: { K8S_POD_NAME: 'web-0' }, paramRequestList: [1, 3, 6], provide: [{ code: 12, value: 'web-0' }],
};

test('valid add params pass through', () => {
  assert.deepEqual(addParams(good), good);
  assert.deepEqual(addParams({ ...good, broadcast: true, timeoutMs: 5000 }).timeoutMs, 5000);
});

test('every bad field is named, with code 7', () => {
  const cases: [unknown, RegExp][] = [
    [null, /params must be an object/],
    [{ ...good, containerId: '' }, /containerId must be a non-empty string/],
    [{ ...good, ifName: 'a-very-long-interface' }, /ifName must be at most 15/],
    [{ ...good, ifName: '..' }, /not an interface name/],
    [{ ...good, netns: 'relative/path' }, /netns .* must be an absolute path/],
    [{ ...good, paramRequestList: 'x' }, /paramRequestList must be an array/],
    [{ ...good, paramRequestList: [0] }, /paramRequestList\[0\] must be a DHCP option code/],
    [{ ...good, provide: [{ code: 12, value: 'x'.repeat(256) }] }, /provide\[0\].value must be at most 255 bytes/],
    [{ ...good, provide: [{ code: 300, value: 'x' }] }, /provide\[0\].code/],
    [{ ...good, provide: [{ code: 53, value: 'x' }] }, /provide\[0\].code 53 is set by the DHCP client itself/],
    [{ ...good, args: { A: 1 } }, /args.A must be a string/],
    [{ ...good, broadcast: 'yes' }, /broadcast must be a boolean/],
    [{ ...good, timeoutMs: -1 }, /timeoutMs/],
  ];
  for (const [p, re] of cases) {
    assert.throws(() => addParams(p), (e: unknown) => e instanceof CniError && e.code === 7 && re.test(e.message), JSON.stringify(p));
  }
  assert.throws(() => attachmentParams({ containerId: 'c', network: 'n' }), /ifName/);
});
