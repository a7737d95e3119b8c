// The one IPv4 check (daemon/dhcp/bytes.ts), used by the codec, the sanitiser, the CNI config, the RPC params and the
// record check alike: what one accepts, all accept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipToBytes, isIpv4, isIpv4Cidr } from '../../daemon/dhcp/bytes';

test('isIpv4: four decimal octets 0-255, no leading zeros, nothing else', () => {
  for (const ok of ['0.0.0.0', '198.18.2.1', '255.255.255.255', '10.0.0.9']) assert.equal(isIpv4(ok), true, ok);
  for (const bad of [
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.04',
    '1.2.3.-4',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '1.2..4',
    '0x1.2.3.4',
    '1e2.2.3.4',
    '١.2.3.4',
    1234,
    null,
    undefined,
  ]) {
    assert.equal(isIpv4(bad), false, String(bad));
  }
});

test('ipToBytes takes exactly what isIpv4 takes', () => {
  assert.deepEqual([...ipToBytes('198.18.2.1')], [198, 18, 2, 1]);
  for (const bad of ['01.2.3.4', '256.0.0.0', '1.2.3']) assert.throws(() => ipToBytes(bad), /not an IPv4 address/, bad);
});

test('isIpv4Cidr: an IPv4 address and a prefix length 0-32', () => {
  for (const ok of ['0.0.0.0/0', '10.0.0.0/8', '198.18.2.1/32', '10.1.2.3/8']) assert.equal(isIpv4Cidr(ok), true, ok);
  for (const bad of [
    '10.0.0.0',
    '10.0.0.0/',
    '10.0.0.0/33',
    '10.0.0.0/08',
    '10.0.0.0/8/8',
    '10.0.0/8',
    '10.0.0.0/-1',
    '/8',
    8,
  ]) {
    assert.equal(isIpv4Cidr(bad), false, String(bad));
  }
});
