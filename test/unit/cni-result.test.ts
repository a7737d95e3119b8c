import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CniError } from '../../daemon/cni/errors';
import { buildResult, podRoutes, Result, SCOPE_LINK } from '../../daemon/cni/result';
import {
  compareVersions,
  convertResult,
  LATEST_VERSION,
  requireSupportedVersion,
  requireVerbSupported,
  SUPPORTED_VERSIONS,
  versionInfo,
} from '../../daemon/cni/version';
import type { LeaseFacts } from '../../common/rpc';

const facts: LeaseFacts = {
  address: '198.19.0.57',
  prefixLength: 22,
  gateway: '198.19.0.1',
  routes: [{ dst: '198.18.0.0/24' }, { dst: '0.0.0.0/0', gw: '198.19.0.1' }],
  dns: { nameservers: ['198.19.0.1', '198.19.0.2'], domain: 'lan.example', search: ['lan.example', 'example'] },
  serverId: '198.19.0.1',
  leaseTimeS: 3600,
  mtu: 1400,
};

test('canonical result: ips, routes (on-link as gw 0.0.0.0 + link scope), dns; no interfaces', () => {
  assert.deepEqual(buildResult(facts, {}), {
    cniVersion: '1.1.0',
    ips: [{ address: '198.19.0.57/22', gateway: '198.19.0.1' }],
    routes: [
      { dst: '198.18.0.0/24', gw: '0.0.0.0', scope: SCOPE_LINK },
      { dst: '0.0.0.0/0', gw: '198.19.0.1' },
    ],
    dns: { nameservers: ['198.19.0.1', '198.19.0.2'], domain: 'lan.example', search: ['lan.example', 'example'] },
  });
  assert.equal(SCOPE_LINK, 253);
});

test("priority becomes every route's priority; 0 adds nothing (as the reference plugin)", () => {
  assert.deepEqual(buildResult(facts, { priority: 100 }).routes, [
    { dst: '198.18.0.0/24', gw: '0.0.0.0', scope: 253, priority: 100 },
    { dst: '0.0.0.0/0', gw: '198.19.0.1', priority: 100 },
  ]);
  assert.deepEqual(buildResult(facts, { priority: 0 }).routes, buildResult(facts, {}).routes);
});

test('a daemon route via 0.0.0.0 is on-link too', () => {
  assert.deepEqual(buildResult({ ...facts, routes: [{ dst: '10.0.0.0/8', gw: '0.0.0.0' }] }, {}).routes, [
    { dst: '10.0.0.0/8', gw: '0.0.0.0', scope: 253 },
  ]);
});

test('no gateway, no routes, no DNS: only ips', () => {
  const bare = buildResult({ ...facts, gateway: undefined, routes: [], dns: { nameservers: [], search: [] } }, {});
  assert.deepEqual(bare, { cniVersion: '1.1.0', ips: [{ address: '198.19.0.57/22' }] });
  const { gateway: _omit, ...noGateway } = facts;
  assert.deepEqual(buildResult(noGateway, {}).ips, [{ address: '198.19.0.57/22' }]);
});

test('dns keeps only what the lease has', () => {
  assert.deepEqual(buildResult({ ...facts, dns: { nameservers: ['198.19.0.1'], search: [] } }, {}).dns, {
    nameservers: ['198.19.0.1'],
  });
  assert.deepEqual(buildResult({ ...facts, dns: { nameservers: [], domain: 'x.example', search: [] } }, {}).dns, {
    domain: 'x.example',
  });
});

// Expected JSON, key for key, per version: the IPAM ("abbreviated") result of each spec release's SPEC.md.
const expected: Record<string, unknown> = {
  '0.1.0': {
    cniVersion: '0.1.0',
    ip4: {
      ip: '198.19.0.57/22',
      gateway: '198.19.0.1',
      routes: [
        { dst: '198.18.0.0/24', gw: '0.0.0.0' },
        { dst: '0.0.0.0/0', gw: '198.19.0.1' },
      ],
    },
    dns: { nameservers: ['198.19.0.1', '198.19.0.2'], domain: 'lan.example', search: ['lan.example', 'example'] },
  },
  '0.2.0': {
    cniVersion: '0.2.0',
    ip4: {
      ip: '198.19.0.57/22',
      gateway: '198.19.0.1',
      routes: [
        { dst: '198.18.0.0/24', gw: '0.0.0.0' },
        { dst: '0.0.0.0/0', gw: '198.19.0.1' },
      ],
    },
    dns: { nameservers: ['198.19.0.1', '198.19.0.2'], domain: 'lan.example', search: ['lan.example', 'example'] },
  },
  '0.3.0': {
    cniVersion: '0.3.0',
    ips: [{ version: '4', address: '198.19.0.57/22', gateway: '198.19.0.1' }],
    routes: [
      { dst: '198.18.0.0/24', gw: '0.0.0.0', scope: 253, priority: 7 },
      { dst: '0.0.0.0/0', gw: '198.19.0.1', priority: 7 },
    ],
    dns: { nameservers: ['198.19.0.1', '198.19.0.2'], domain: 'lan.example', search: ['lan.example', 'example'] },
  },
  '0.3.1': {
    cniVersion: '0.3.1',
    ips: [{ version: '4', address: '198.19.0.57/22', gateway: '198.19.0.1' }],
    routes: [
      { dst: '198.18.0.0/24', gw: '0.0.0.0', scope: 253, priority: 7 },
      { dst: '0.0.0.0/0', gw: '198.19.0.1', priority: 7 },
    ],
    dns: { nameservers: ['198.19.0.1', '198.19.0.2'], domain: 'lan.example', search: ['lan.example', 'example'] },
  },
  '0.4.0': {
    cniVersion: '0.4.0',
    ips: [{ version: '4', address: '198.19.0.57/22', gateway: '198.19.0.1' }],
    routes: [
      { dst: '198.18.0.0/24', gw: '0.0.0.0', scope: 253, priority: 7 },
      { dst: '0.0.0.0/0', gw: '198.19.0.1', priority: 7 },
    ],
    dns: { nameservers: ['198.19.0.1', '198.19.0.2'], domain: 'lan.example', search: ['lan.example', 'example'] },
  },
  '1.0.0': {
    cniVersion: '1.0.0',
    ips: [{ address: '198.19.0.57/22', gateway: '198.19.0.1' }],
    routes: [
      { dst: '198.18.0.0/24', gw: '0.0.0.0', scope: 253, priority: 7 },
      { dst: '0.0.0.0/0', gw: '198.19.0.1', priority: 7 },
    ],
    dns: { nameservers: ['198.19.0.1', '198.19.0.2'], domain: 'lan.example', search: ['lan.example', 'example'] },
  },
  '1.1.0': {
    cniVersion: '1.1.0',
    ips: [{ address: '198.19.0.57/22', gateway: '198.19.0.1' }],
    routes: [
      { dst: '198.18.0.0/24', gw: '0.0.0.0', scope: 253, priority: 7 },
      { dst: '0.0.0.0/0', gw: '198.19.0.1', priority: 7 },
    ],
    dns: { nameservers: ['198.19.0.1', '198.19.0.2'], domain: 'lan.example', search: ['lan.example', 'example'] },
  },
};

test('every supported version has a fixture, and the converted JSON matches it byte for byte', () => {
  assert.deepEqual(Object.keys(expected), SUPPORTED_VERSIONS);
  const canonical = buildResult(facts, { priority: 7 });
  for (const v of SUPPORTED_VERSIONS) {
    assert.equal(JSON.stringify(convertResult(canonical, v)), JSON.stringify(expected[v]), v);
  }
});

test('every version: a bare result stays bare, and no version invents interfaces', () => {
  const bare: Result = { cniVersion: '1.1.0', ips: [{ address: '198.19.0.57/22' }] };
  for (const v of SUPPORTED_VERSIONS) {
    const out = convertResult(bare, v) as unknown as Record<string, unknown>;
    // 0.1.0/0.2.0 always carry dns, as libcni prints a Go struct that is never omitted.
    assert.deepEqual(
      Object.keys(out),
      v === '0.1.0' || v === '0.2.0' ? ['cniVersion', 'ip4', 'dns'] : ['cniVersion', 'ips'],
      v,
    );
    assert.equal(out.cniVersion, v);
  }
});

test('converters do not modify the canonical result', () => {
  const canonical = buildResult(facts, {});
  const before = JSON.stringify(canonical);
  for (const v of SUPPORTED_VERSIONS) convertResult(canonical, v);
  assert.equal(JSON.stringify(canonical), before);
});

test("supported versions, in order; VERSION echoes the input's cniVersion", () => {
  assert.deepEqual(SUPPORTED_VERSIONS, ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']);
  assert.equal(LATEST_VERSION, '1.1.0');
  assert.deepEqual(versionInfo('0.4.0'), {
    cniVersion: '0.4.0',
    supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
  });
  assert.deepEqual(versionInfo(undefined).cniVersion, '1.1.0');
  assert.deepEqual(versionInfo('1.2.0').cniVersion, '1.2.0', 'a probe with a newer version is answered, not failed');
});

test('compareVersions is numeric', () => {
  assert.ok(compareVersions('0.10.0', '0.4.0') > 0);
  assert.ok(compareVersions('0.3.1', '0.4.0') < 0);
  assert.equal(compareVersions('1.0.0', '1.0.0'), 0);
});

test('unsupported versions are code 1 and list what is supported', () => {
  for (const v of ['0.0.9', '1.2.0', '2.0.0', 'banana']) {
    assert.throws(
      () => requireSupportedVersion(v),
      (e: CniError) => e.code === 1 && e.details === 'ts-dhcp supports 0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0',
      v,
    );
  }
  assert.equal(requireSupportedVersion(undefined), '0.1.0', 'no cniVersion means 0.1.0, as libcni reads it');
  assert.equal(requireSupportedVersion('0.3.1'), '0.3.1');
});

test('CHECK needs 0.4.0 or later, STATUS and GC 1.1.0: code 1 before', () => {
  const since = { CHECK: '0.4.0', STATUS: '1.1.0', GC: '1.1.0' } as const;
  for (const verb of ['CHECK', 'STATUS', 'GC'] as const) {
    for (const v of SUPPORTED_VERSIONS) {
      if (compareVersions(v, since[verb]) < 0) {
        assert.throws(
          () => requireVerbSupported(verb, v),
          (e: CniError) =>
            e.code === 1 &&
            e.msg === `config version does not allow ${verb}: cniVersion ${v} predates ${verb} (${since[verb]})`,
        );
      } else {
        assert.doesNotThrow(() => requireVerbSupported(verb, v), `${verb} ${v}`);
      }
    }
  }
});

test("podRoutes: the result's routes as the main plugin installs them (gateway resolved, on-link, metric)", () => {
  assert.deepEqual(podRoutes(facts, {}), [{ dst: '198.18.0.0/24' }, { dst: '0.0.0.0/0', gw: '198.19.0.1' }]);
  assert.deepEqual(
    podRoutes(facts, {
      priority: 30,
      defaultRoute: false,
      routes: [{ dst: '10.0.0.0/8' }, { dst: '192.0.2.0/24', gw: '198.19.0.9' }],
    }),
    [
      { dst: '198.18.0.0/24', metric: 30 },
      { dst: '10.0.0.0/8', gw: '198.19.0.1', metric: 30 }, // no gw: ips[].gateway, as CNI ConfigureIface does
      { dst: '192.0.2.0/24', gw: '198.19.0.9', metric: 30 },
    ],
  );
  const { gateway: _, ...noGateway } = facts;
  assert.deepEqual(
    podRoutes({ ...noGateway, routes: [] }, { routes: [{ dst: '10.0.0.0/8' }] }),
    [{ dst: '10.0.0.0/8' }],
    'no gateway at all: on-link',
  );
});
