import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeOption } from '../../daemon/dhcp/options';
import { DhcpMessage, Opt } from '../../daemon/dhcp/types';
import { leaseFacts } from '../../daemon/facts';
import { reply } from '../helpers/messages';

function ack(options: [number, unknown][], yiaddr = '198.19.0.57'): DhcpMessage {
  return reply({ yiaddr, options: new Map(options.map(([c, v]) => [c, encodeOption(c, v)])) });
}

test('address, prefix, gateway, default route and DNS from a plain ACK', () => {
  const f = leaseFacts(
    ack([
      [Opt.MESSAGE_TYPE, 5],
      [Opt.SERVER_ID, '198.19.0.1'],
      [Opt.LEASE_TIME, 120],
      [Opt.SUBNET_MASK, '255.255.252.0'],
      [Opt.ROUTER, ['198.19.0.254', '198.19.0.253']],
      [Opt.DNS_SERVERS, ['198.19.0.1', '198.19.0.2']],
      [Opt.DOMAIN_NAME, 'lan.example'],
      [Opt.DOMAIN_SEARCH, ['lan.example', 'example']],
      [Opt.INTERFACE_MTU, 1400],
    ]),
  );
  assert.deepEqual(f, {
    address: '198.19.0.57',
    prefixLength: 22,
    gateway: '198.19.0.254',
    routes: [{ dst: '0.0.0.0/0', gw: '198.19.0.254' }],
    dns: { nameservers: ['198.19.0.1', '198.19.0.2'], domain: 'lan.example', search: ['lan.example', 'example'] },
    serverId: '198.19.0.1',
    leaseTimeS: 120,
    mtu: 1400,
  });
});

test('option 121 takes precedence over 33 and 3 (RFC 3442); a route via 0.0.0.0 is on-link', () => {
  const f = leaseFacts(
    ack([
      [Opt.SUBNET_MASK, '255.255.255.0'],
      [Opt.ROUTER, ['198.19.0.254']],
      [Opt.STATIC_ROUTES, [{ dst: '198.18.5.0/24', gw: '198.19.0.9' }]],
      [
        Opt.CLASSLESS_ROUTES,
        [
          { dst: '198.18.0.0/16', gw: '198.19.0.7' },
          { dst: '198.18.200.0/24', gw: '0.0.0.0' },
          { dst: '0.0.0.0/0', gw: '198.19.0.8' },
        ],
      ],
    ]),
  );
  assert.deepEqual(f.routes, [
    { dst: '198.18.0.0/16', gw: '198.19.0.7' },
    { dst: '198.18.200.0/24' },
    { dst: '0.0.0.0/0', gw: '198.19.0.8' },
  ]);
  assert.equal(f.gateway, '198.19.0.254');
});

test('without 121: static routes of option 33, then the default route via the router', () => {
  const f = leaseFacts(
    ack([
      [Opt.ROUTER, ['198.19.0.254']],
      [Opt.STATIC_ROUTES, [{ dst: '198.18.5.9/32', gw: '198.19.0.9' }]],
    ]),
  );
  assert.deepEqual(f.routes.at(-1), { dst: '0.0.0.0/0', gw: '198.19.0.254' });
  assert.equal(f.routes.length, 2);
  assert.equal(f.routes[0]?.gw, '198.19.0.9');
});

test('no mask: classful prefix; no router: no routes, no gateway; empty DNS lists', () => {
  const f = leaseFacts(ack([[Opt.SERVER_ID, '198.19.0.1']], '198.19.3.4'));
  assert.equal(f.prefixLength, 24); // 198/8 lies in the old class C range
  assert.equal(f.gateway, undefined);
  assert.deepEqual(f.routes, []);
  assert.deepEqual(f.dns, { nameservers: [], search: [] });
  assert.equal(leaseFacts(ack([], '10.1.2.3')).prefixLength, 8);
});

test('a malformed mask (holes) falls back to the classful prefix rather than a wrong one', () => {
  const m = ack([], '172.16.1.2');
  m.options.set(Opt.SUBNET_MASK, Buffer.from([255, 0, 255, 0]));
  assert.equal(leaseFacts(m).prefixLength, 16);
});
