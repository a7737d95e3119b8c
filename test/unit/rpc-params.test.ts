import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DaemonError } from '../../daemon/errors';
import { addParams, leaseParams } from '../../daemon/rpc-params';

const good = {
  containerId: 'c1',
  network: 'lan',
  ifName: 'eth1',
  netns: '/var/run/netns/p1',
  args: { K8S_POD_NAME: 'web-0' },
  paramRequestList: [1, 3, 6],
  provide: [{ code: 12, value: 'web-0' }],
};

test('valid add params pass through', () => {
  assert.deepEqual(addParams(good), good);
  assert.deepEqual(addParams({ ...good, broadcast: true, timeoutMs: 5000 }).timeoutMs, 5000);
  assert.deepEqual(addParams({ ...good, conflictDetection: 'rfc5227', announce: false }), {
    ...good,
    conflictDetection: 'rfc5227',
    announce: false,
  });
  assert.deepEqual(addParams({ ...good, warnings: ['ipam.x: unsupported field (value 1); ignored'] }).warnings, [
    'ipam.x: unsupported field (value 1); ignored',
  ]);
  assert.deepEqual(addParams({ ...good, onChange: 'hold-link-down', applyMtu: true }), {
    ...good,
    onChange: 'hold-link-down',
    applyMtu: true,
  });
  assert.equal(addParams({ ...good, master: 'eno1' }).master, 'eno1');
  assert.deepEqual(addParams({ ...good, ipv4: false, ipv6: true }), { ...good, ipv4: false, ipv6: true });
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
    [{ ...good, provide: [{ code: 57, value: 'x' }] }, /provide\[0\].code 57 is set by the DHCP client itself/],
    [{ ...good, warnings: 'x' }, /warnings must be an array of at most 64 strings/],
    [{ ...good, warnings: Array(65).fill('w') }, /warnings must be an array of at most 64 strings/],
    [{ ...good, warnings: [3] }, /warnings\[0\] must be a string/],
    [{ ...good, onChange: 'down' }, /onChange must be one of readdress, hold-link-down/],
    [{ ...good, applyMtu: 1 }, /applyMtu must be a boolean/],
    [{ ...good, master: 'eno1/x' }, /master must be an interface name \(contains \//],
    [{ ...good, master: 7 }, /master must be an interface name \(is not a string\)/],
    [{ ...good, ipv6: 'yes' }, /ipv6 must be a boolean/],
    [{ ...good, ipv4: false }, /ipv4 false needs ipv6 true/],
    [{ ...good, args: { A: 1 } }, /args.A must be a string/],
    [
      { ...good, args: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`K${i}`, 'v'])) },
      /args must have at most 32 keys/,
    ],
    [{ ...good, args: { ['K'.repeat(129)]: 'v' } }, /args keys must be 1..128 characters/],
    [{ ...good, args: { K8S_POD_NAME: 'x'.repeat(1025) } }, /args.K8S_POD_NAME must be at most 1024 characters/],
    [{ ...good, broadcast: 'yes' }, /broadcast must be a boolean/],
    [{ ...good, timeoutMs: -1 }, /timeoutMs/],
    [{ ...good, conflictDetection: 'fast' }, /conflictDetection must be one of off, quick, rfc5227/],
    [{ ...good, announce: 1 }, /announce must be a boolean/],
  ];
  for (const [p, re] of cases) {
    assert.throws(
      () => addParams(p),
      (e: unknown) => e instanceof DaemonError && e.kind === 'invalid-params' && re.test(e.message),
      JSON.stringify(p),
    );
  }
  assert.throws(() => leaseParams({ containerId: 'c', network: 'n' }), /ifName/);
  const a = { containerId: 'c', network: 'n', ifName: 'eth1' };
  assert.deepEqual(leaseParams({ ...a, family: 'ipv6' }), { ...a, family: 'ipv6' });
  assert.deepEqual(leaseParams(a), a);
  assert.throws(() => leaseParams({ ...a, family: 6 }), /family must be "ipv4" or "ipv6"/);
});

test("routing (how the result's routes were built) passes through, each bad field named", () => {
  const routing = {
    priority: 9,
    defaultRoute: false,
    routes: [{ dst: '10.0.0.0/8' }, { dst: '192.0.2.0/24', gw: '198.19.0.9' }],
  };
  assert.deepEqual(addParams({ ...good, routing }).routing, routing);
  assert.deepEqual(addParams({ ...good, routing: {} }).routing, {});
  const bad: [unknown, RegExp][] = [
    ['x', /routing must be an object/],
    [{ priority: -1 }, /routing\.priority must be an integer/],
    [{ defaultRoute: 'no' }, /routing\.defaultRoute must be a boolean/],
    [{ routes: {} }, /routing\.routes must be an array/],
    [{ routes: [{ dst: '10.0.0.0' }] }, /routing\.routes\[0\]\.dst must be an IPv4 CIDR/],
    [{ routes: [{ dst: '10.0.0.0/33' }] }, /routing\.routes\[0\]\.dst must be an IPv4 CIDR/],
    [{ routes: [{ dst: '10.0.0.0/8', gw: 'fe80::1' }] }, /routing\.routes\[0\]\.gw must be an IPv4 address/],
  ];
  for (const [value, msg] of bad) {
    assert.throws(
      () => addParams({ ...good, routing: value }),
      (e: DaemonError) => e.kind === 'invalid-params' && msg.test(e.message),
      JSON.stringify(value),
    );
  }
});
