import assert from 'node:assert/strict';
import { test } from 'node:test';
import { optionCode, optionName } from '../../daemon/dhcp/option-names';

test("the reference plugin's six names map to the same codes", () => {
  const upstream: [string, number][] = [
    ['dhcp-client-identifier', 61],
    ['subnet-mask', 1],
    ['routers', 3],
    ['host-name', 12],
    ['user-class', 77],
    ['vendor-class-identifier', 60],
  ];
  for (const [name, code] of upstream) assert.deepEqual(optionCode(name), { ok: true, code }, name);
});

test('dhcp-options(5) names for DNS, routes and times', () => {
  const names: [string, number][] = [
    ['domain-name-servers', 6],
    ['domain-name', 15],
    ['domain-search', 119],
    ['classless-static-routes', 121],
    ['rfc3442-classless-static-routes', 121],
    ['static-routes', 33],
    ['interface-mtu', 26],
    ['ntp-servers', 42],
    ['dhcp-lease-time', 51],
    ['dhcp-renewal-time', 58],
    ['dhcp-rebinding-time', 59],
  ];
  for (const [name, code] of names) assert.deepEqual(optionCode(name), { ok: true, code }, name);
});

test('decimal codes 1..254 are accepted, 0 and 255 and beyond are not', () => {
  assert.deepEqual(optionCode('121'), { ok: true, code: 121 });
  assert.deepEqual(optionCode('1'), { ok: true, code: 1 });
  assert.deepEqual(optionCode('254'), { ok: true, code: 254 });
  for (const bad of ['0', '255', '256', '1000']) {
    const r = optionCode(bad);
    assert.equal(r.ok, false, bad);
    assert.match((r as { reason: string }).reason, /outside 1\.\.254/);
  }
  for (const notACode of ['-1', '1.5', '0x79', ' 12', '']) assert.equal(optionCode(notACode).ok, false, notACode);
});

test('a near miss is unknown, with a suggestion', () => {
  assert.deepEqual(optionCode('hostnme'), {
    ok: false,
    reason: 'unknown DHCP option "hostnme" (did you mean "host-name"?)',
  });
  assert.deepEqual(optionCode('Routers'), {
    ok: false,
    reason: 'unknown DHCP option "Routers" (did you mean "routers"?)',
  });
  assert.deepEqual(optionCode('quux-frobnicator'), { ok: false, reason: 'unknown DHCP option "quux-frobnicator"' });
  assert.equal(optionCode('constructor').ok, false, 'no prototype keys');
});

test('optionName gives the first name of a code, or the number', () => {
  assert.equal(optionName(12), 'host-name');
  assert.equal(optionName(121), 'classless-static-routes');
  assert.equal(optionName(250), '250');
});
