// The CNI layer against the spec's own examples, routing control (ipam.routes, ipam.defaultRoute) and the DEL spool.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildResult, mergeRoutes, Result } from '../../daemon/cni/result';
import { convertResult, SUPPORTED_VERSIONS } from '../../daemon/cni/version';
import type { LeaseFacts } from '../../common/rpc';
import { readSpool, removeSpool, spoolFile } from '../../common/spool';
import { writeSpool } from '../helpers/spool';

// SPEC.md (spec-v1.0.0 and spec-v1.1.0, "Section 5: Examples"): the host-local IPAM result the bridge plugin gets.
const specIpamResult: Result = {
  cniVersion: '1.1.0',
  ips: [{ address: '10.1.0.5/16', gateway: '10.1.0.1' }],
  routes: [{ dst: '0.0.0.0/0' }],
  dns: { nameservers: ['10.1.0.1'] },
};

// The same result in each version's IPAM result format: SPEC.md of spec-v0.1.0/v0.2.0 ("IP Allocation": ip4 with
// ip, gateway, routes; dns), spec-v0.3.x/v0.4.0 (ips[] with "version"), spec-v1.x (ips[] without it).
const specShapes: Record<string, unknown> = {
  '0.1.0': {
    cniVersion: '0.1.0',
    ip4: { ip: '10.1.0.5/16', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0' }] },
    dns: { nameservers: ['10.1.0.1'] },
  },
  '0.2.0': {
    cniVersion: '0.2.0',
    ip4: { ip: '10.1.0.5/16', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0' }] },
    dns: { nameservers: ['10.1.0.1'] },
  },
  '0.3.0': {
    cniVersion: '0.3.0',
    ips: [{ version: '4', address: '10.1.0.5/16', gateway: '10.1.0.1' }],
    routes: [{ dst: '0.0.0.0/0' }],
    dns: { nameservers: ['10.1.0.1'] },
  },
  '0.3.1': {
    cniVersion: '0.3.1',
    ips: [{ version: '4', address: '10.1.0.5/16', gateway: '10.1.0.1' }],
    routes: [{ dst: '0.0.0.0/0' }],
    dns: { nameservers: ['10.1.0.1'] },
  },
  '0.4.0': {
    cniVersion: '0.4.0',
    ips: [{ version: '4', address: '10.1.0.5/16', gateway: '10.1.0.1' }],
    routes: [{ dst: '0.0.0.0/0' }],
    dns: { nameservers: ['10.1.0.1'] },
  },
  '1.0.0': {
    cniVersion: '1.0.0',
    ips: [{ address: '10.1.0.5/16', gateway: '10.1.0.1' }],
    routes: [{ dst: '0.0.0.0/0' }],
    dns: { nameservers: ['10.1.0.1'] },
  },
  '1.1.0': specIpamResult,
};

test("the spec's example IPAM result converts to every version's documented shape", () => {
  assert.deepEqual(Object.keys(specShapes), SUPPORTED_VERSIONS);
  for (const v of SUPPORTED_VERSIONS) assert.deepEqual(convertResult(specIpamResult, v), specShapes[v], v);
});

test('0.1.0/0.2.0 drop 1.1.0 route attributes (libcni types020 routes are dst and gw) and always print dns', () => {
  const r: Result = {
    cniVersion: '1.1.0',
    ips: [{ address: '10.1.0.5/16' }],
    routes: [{ dst: '10.2.0.0/16', gw: '0.0.0.0', scope: 253, priority: 5 }],
  };
  for (const v of ['0.1.0', '0.2.0'] as const) {
    assert.deepEqual(convertResult(r, v), {
      cniVersion: v,
      ip4: { ip: '10.1.0.5/16', routes: [{ dst: '10.2.0.0/16', gw: '0.0.0.0' }] },
      dns: {},
    });
  }
});

// The scenario's DHCP server: routers 198.19.4.254, so the lease carries a default route via it.
const lease: LeaseFacts = {
  address: '198.19.5.10',
  prefixLength: 22,
  gateway: '198.19.4.254',
  routes: [
    { dst: '198.18.64.0/20', gw: '198.19.4.253' },
    { dst: '0.0.0.0/0', gw: '198.19.4.254' },
  ],
  dns: { nameservers: [], search: [] },
  serverId: '198.19.4.1',
  leaseTimeS: 600,
};

test('default: the result carries what the server says', () => {
  assert.deepEqual(buildResult(lease, {}).routes, [
    { dst: '198.18.64.0/20', gw: '198.19.4.253' },
    { dst: '0.0.0.0/0', gw: '198.19.4.254' },
  ]);
});

test("defaultRoute false drops every 0.0.0.0/0 route (option 121's, or the one via option 3) and keeps the rest", () => {
  assert.deepEqual(buildResult(lease, { defaultRoute: false }).routes, [{ dst: '198.18.64.0/20', gw: '198.19.4.253' }]);
  const onlyDefault = { ...lease, routes: [{ dst: '0.0.0.0/0', gw: '198.19.4.254' }] };
  assert.equal(buildResult(onlyDefault, { defaultRoute: false }).routes, undefined, 'no routes key when none is left');
  assert.equal(
    buildResult(onlyDefault, { defaultRoute: false }).ips[0]?.gateway,
    '198.19.4.254',
    'the gateway stays: it adds no route',
  );
});

test("static routes come after the server's; one with the same dst replaces the server's (no EEXIST in the pod)", () => {
  const statics = [
    { dst: '10.0.0.0/8', gw: '198.19.4.250' },
    { dst: '198.18.64.0/20', gw: '198.19.4.252' },
    { dst: '192.0.2.0/24' },
  ];
  assert.deepEqual(mergeRoutes(lease.routes, { routes: statics }), [
    { dst: '0.0.0.0/0', gw: '198.19.4.254' },
    { dst: '10.0.0.0/8', gw: '198.19.4.250' },
    { dst: '198.18.64.0/20', gw: '198.19.4.252' },
    { dst: '192.0.2.0/24' },
  ]);
  assert.deepEqual(buildResult(lease, { routes: statics, defaultRoute: false, priority: 9 }).routes, [
    { dst: '10.0.0.0/8', gw: '198.19.4.250', priority: 9 },
    { dst: '198.18.64.0/20', gw: '198.19.4.252', priority: 9 },
    { dst: '192.0.2.0/24', priority: 9 },
  ]);
});

test('spool: one atomic record per attachment under <stateDir>/spool, 0700/0600, read oldest first, removed', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tsq-spool-'));
  try {
    const a = { containerId: 'c1', network: 'lan', ifName: 'eth1' };
    const b = { containerId: 'c2', network: 'lan', ifName: 'eth1' };
    const fileB = await writeSpool(stateDir, b, new Date('2026-01-01T00:00:02Z'));
    const fileA = await writeSpool(stateDir, a, new Date('2026-01-01T00:00:01Z'));
    assert.match(fileA, /\/spool\/[0-9a-f]{32}\.json$/);
    assert.equal(fileA, spoolFile(stateDir, a));
    assert.deepEqual(JSON.parse(readFileSync(fileA, 'utf8')), {
      version: 1,
      containerId: 'c1',
      network: 'lan',
      ifName: 'eth1',
      at: '2026-01-01T00:00:01.000Z',
    });
    assert.equal(statSync(join(stateDir, 'spool')).mode & 0o777, 0o700);
    assert.equal(statSync(fileA).mode & 0o777, 0o600);
    await writeSpool(stateDir, a, new Date('2026-01-01T00:00:03Z'));
    // Foreign and broken files are skipped, not fatal.
    writeFileSync(join(stateDir, 'spool', `${'0'.repeat(32)}.json`), '{"version":1,"containerId":');
    writeFileSync(join(stateDir, 'spool', 'notes.txt'), 'x');
    assert.deepEqual(
      await readSpool(stateDir),
      [
        { file: fileB, attachment: b },
        { file: fileA, attachment: a },
      ],
      'a repeated DEL replaces its record',
    );
    await removeSpool(fileB);
    await removeSpool(fileB);
    assert.deepEqual(
      (await readSpool(stateDir)).map((e) => e.attachment),
      [a],
    );
    assert.deepEqual(await readSpool(join(stateDir, 'none')), [], 'no spool dir: nothing spooled');
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});
