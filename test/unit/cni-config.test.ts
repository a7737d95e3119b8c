import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configParams } from '../../daemon/cni/conf-params';
import { DEFAULT_REQUEST_LIST, paramRequestList, resolveProvide } from '../../daemon/cni/conf-options';
import { parseDelConf, parseNetConf } from '../../daemon/cni/config';
import { CniError } from '../../daemon/cni/errors';
import { DEFAULT_SOCKET_PATH } from '../../common/rpc';
import { MAX_CONFIG_WARNINGS } from '../../daemon/registry-api';
import { CLIENT_OWNED_OPTIONS } from '../../daemon/dhcp/messages';

type Json = Record<string, unknown>;

function conf(ipam: Json = {}, top: Json = {}): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'lan',
    type: 'macvlan',
    master: 'eno1',
    ...top,
    ipam: { type: 'ts-dhcp', ...ipam },
  });
}

function rejects(stdin: string, code: number, msg: string | RegExp): void {
  assert.throws(
    () => parseNetConf(stdin),
    (e: unknown) => {
      assert.ok(e instanceof CniError, String(e));
      assert.equal(e.code, code, e.msg);
      if (typeof msg === 'string') assert.equal(e.msg, msg);
      else assert.match(e.msg, msg);
      return true;
    },
  );
}

test('a minimal config gets the defaults', () => {
  const c = parseNetConf(conf());
  assert.deepEqual(c, {
    cniVersion: '1.0.0',
    name: 'lan',
    type: 'macvlan',
    ipam: {
      type: 'ts-dhcp',
      daemonSocketPath: DEFAULT_SOCKET_PATH,
      paramRequestList: [...DEFAULT_REQUEST_LIST],
      provide: [],
      priority: 0,
      routes: [],
      defaultRoute: true,
      stateDir: '/var/lib/ts-dhcp',
      strict: false,
      ipv4: true,
      ipv6: false,
    },
    master: 'eno1',
    warnings: [],
  });
  assert.deepEqual(DEFAULT_REQUEST_LIST, [1, 121, 3, 33, 6, 15, 119, 26, 51, 58, 59]);
});

test('every key is read', () => {
  const c = parseNetConf(
    Buffer.from(
      conf(
        {
          daemonSocketPath: '/run/ts-dhcp/test.sock',
          request: [{ option: 'interface-mtu' }, { option: '42' }],
          provide: [
            { option: 'host-name', fromArg: 'K8S_POD_NAME' },
            { option: 'user-class', value: 'pods' },
          ],
          priority: 200,
          broadcast: true,
          timeout: '1m30s',
          routes: [{ dst: '10.0.0.0/8', gw: '198.19.0.254' }, { dst: '192.0.2.0/24' }],
          defaultRoute: false,
          stateDir: '/srv/ts-dhcp',
          strict: true,
          conflictDetection: 'rfc5227',
          announce: false,
          ipv4: false,
          ipv6: true,
        },
        { prevResult: { cniVersion: '1.0.0', ips: [] } },
      ),
    ),
  );
  assert.deepEqual(c.ipam, {
    type: 'ts-dhcp',
    daemonSocketPath: '/run/ts-dhcp/test.sock',
    paramRequestList: [26, 42, 1, 121, 3, 33, 6, 15, 119, 51, 58, 59],
    provide: [
      { code: 12, fromArg: 'K8S_POD_NAME', at: 0 },
      { code: 77, value: 'pods', at: 1 },
    ],
    priority: 200,
    broadcast: true,
    timeoutMs: 90_000,
    routes: [{ dst: '10.0.0.0/8', gw: '198.19.0.254' }, { dst: '192.0.2.0/24' }],
    defaultRoute: false,
    stateDir: '/srv/ts-dhcp',
    strict: true,
    conflictDetection: 'rfc5227',
    announce: false,
    ipv4: false,
    ipv6: true,
  });
  assert.deepEqual(c.prevResult, { cniVersion: '1.0.0', ips: [] });
});

test('every supported cniVersion parses', () => {
  for (const v of ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'])
    assert.equal(parseNetConf(conf({}, { cniVersion: v })).cniVersion, v);
});

test('ipam.ipv4 / ipam.ipv6: dual-stack and IPv6-only reach the add params; both false or not booleans are errors', () => {
  const params = (ipam: Json, top: Json = {}) => configParams(parseNetConf(conf(ipam, top)), {});
  assert.equal(params({}).ipv4, undefined);
  assert.equal(params({}).ipv6, undefined);
  assert.deepEqual([params({ ipv6: true }).ipv4, params({ ipv6: true }).ipv6], [undefined, true]);
  assert.deepEqual([params({ ipv4: false, ipv6: true }).ipv4, params({ ipv4: false, ipv6: true }).ipv6], [false, true]);
  rejects(conf({ ipv4: false }), 7, 'ipam.ipv6: and ipam.ipv4 are both false: no address to acquire');
  rejects(conf({ ipv4: false, ipv6: false }), 7, /both false/);
  rejects(conf({ ipv6: 'yes' }), 7, 'ipam.ipv6: must be true or false, not "yes"');
  rejects(conf({ ipv4: 0 }), 7, 'ipam.ipv4: must be true or false, not 0');
});

test('ipam.ipv6 with cniVersion 0.1.0/0.2.0 is code 1 naming the version; 0.3.0 and later carry it', () => {
  for (const v of ['0.1.0', '0.2.0'])
    rejects(
      conf({ ipv6: true }, { cniVersion: v }),
      1,
      `ipam.ipv6: cniVersion ${v} cannot carry an IPv6 address (its result has one ip4 entry); use cniVersion 0.3.0 or later`,
    );
  for (const v of ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'])
    assert.equal(parseNetConf(conf({ ipv6: true }, { cniVersion: v })).ipam.ipv6, true);
});

test('request list: user entries first, then defaults not already listed (as the reference plugin)', () => {
  assert.deepEqual(paramRequestList([6, 42], false), [6, 42, 1, 121, 3, 33, 15, 119, 26, 51, 58, 59]);
  assert.deepEqual(paramRequestList([42, 42], false), [42, ...DEFAULT_REQUEST_LIST], 'duplicates dropped');
});

test('request list: skipDefault on any entry drops the defaults, and an entry may carry only the flag', () => {
  assert.deepEqual(
    parseNetConf(conf({ request: [{ option: 'subnet-mask' }, { option: 'routers', skipDefault: true }] })).ipam
      .paramRequestList,
    [1, 3],
  );
  assert.deepEqual(
    parseNetConf(conf({ request: [{ skipDefault: true }, { option: '1' }] })).ipam.paramRequestList,
    [1],
  );
  assert.deepEqual(parseNetConf(conf({ request: [{ skipDefault: true }] })).ipam.paramRequestList, []);
  assert.deepEqual(
    parseNetConf(conf({ request: [{ option: 'routers', skipDefault: false }] })).ipam.paramRequestList,
    [121, 3, 1, 33, 6, 15, 119, 26, 51, 58, 59],
  );
});

test('request list: 121 is moved ahead of 3 and 33 (RFC 3442 §4)', () => {
  assert.deepEqual(paramRequestList([3, 33, 121], true), [121, 3, 33]);
  assert.deepEqual(paramRequestList([1, 33, 6, 121], true), [1, 121, 33, 6]);
  assert.deepEqual(paramRequestList([3], false), [121, 3, 1, 33, 6, 15, 119, 26, 51, 58, 59]);
  assert.deepEqual(paramRequestList([121, 3], true), [121, 3], 'already in order');
});

test('ipam.timeout: a Go duration or a number of milliseconds, within 100ms..1h', () => {
  assert.equal(parseNetConf(conf({ timeout: '1m30s' })).ipam.timeoutMs, 90_000);
  assert.equal(parseNetConf(conf({ timeout: 2500 })).ipam.timeoutMs, 2500, 'a number is milliseconds');
  for (const bad of ['30', '-1s', '1s ', '50ms', '2h'])
    assert.throws(() => parseNetConf(conf({ timeout: bad })), /ipam\.timeout/, bad);
});

// One test per bad field.
test('stdin that is not JSON is code 6', () =>
  rejects('{"cniVersion":', 6, /^error parsing the network config on stdin: /));
test('stdin that is not an object is code 6', () =>
  rejects('[1]', 6, 'the network config on stdin is not a JSON object'));
test('an unsupported cniVersion is code 1', () =>
  rejects(conf({}, { cniVersion: '1.2.0' }), 1, 'incompatible CNI versions: the config has cniVersion "1.2.0"'));
test('no cniVersion means 0.1.0', () =>
  assert.equal(parseNetConf(conf({}, { cniVersion: undefined })).cniVersion, '0.1.0'));
test('ipam.routes: entries must be IPv4 CIDR dst and optional IPv4 gw, nothing else', () => {
  rejects(conf({ routes: {} }), 7, 'ipam.routes: must be an array');
  rejects(
    conf({ routes: [{ dst: '10.0.0.0' }] }),
    7,
    'ipam.routes[0].dst: must be an IPv4 CIDR like "10.0.0.0/8", not "10.0.0.0"',
  );
  rejects(conf({ routes: [{ dst: '10.0.0.0/33' }] }), 7, /^ipam\.routes\[0\]\.dst: must be an IPv4 CIDR/);
  rejects(conf({ routes: [{ dst: 'fd00::/8' }] }), 7, /^ipam\.routes\[0\]\.dst: must be an IPv4 CIDR/);
  rejects(
    conf({ routes: [{ dst: '10.0.0.0/8', gw: '10.0.0.256' }] }),
    7,
    'ipam.routes[0].gw: must be an IPv4 address, not "10.0.0.256"',
  );
  rejects(
    conf({ strict: true, routes: [{ dst: '10.0.0.0/8', via: '10.0.0.1' }] }),
    2,
    /^ipam\.routes\[0\]\.via: unsupported field/,
  );
});
test('ipam.defaultRoute must be a boolean, and a static default route contradicts false', () => {
  rejects(conf({ defaultRoute: 'no' }), 7, 'ipam.defaultRoute: must be true or false, not "no"');
  rejects(
    conf({ defaultRoute: false, routes: [{ dst: '10.0.0.0/8' }, { dst: '0.0.0.0/0', gw: '198.19.0.1' }] }),
    7,
    'ipam.routes[1].dst: 0.0.0.0/0 contradicts "defaultRoute": false',
  );
});
test('ipam.stateDir must be absolute', () =>
  rejects(conf({ stateDir: 'state' }), 7, 'ipam.stateDir: must be an absolute path, not "state"'));
test('a non-string cniVersion is code 7', () =>
  rejects(conf({}, { cniVersion: 1 }), 7, 'cniVersion: must be a string'));
test('missing name', () => rejects(conf({}, { name: undefined }), 7, 'name: missing network name'));
test('bad name', () => rejects(conf({}, { name: 'my net' }), 7, /^name: "my net" has invalid characters/));
test('missing type', () => rejects(conf({}, { type: '' }), 7, 'type: missing plugin type'));
test('missing ipam', () =>
  rejects(JSON.stringify({ cniVersion: '1.0.0', name: 'lan', type: 'macvlan' }), 7, /^ipam: missing/));
test('ipam.type', () => rejects(conf({ type: 3 }), 7, 'ipam.type: must be a non-empty string'));
test('an unknown key is ignored with a warning naming it and its value, at every level of ipam', () => {
  const c = parseNetConf(
    conf({
      daemonSocketpath: '/x',
      'k8s.v1.cni.cncf.io/tool': { nested: 'x'.repeat(100) },
      request: [{ option: 'routers', optional: true }],
      provide: [{ option: 'host-name', value: 'a', vaule: 'b' }],
      routes: [{ dst: '10.0.0.0/8', via: '10.0.0.1' }],
    }),
  );
  assert.deepEqual(c.warnings, [
    'ipam.daemonSocketpath: unsupported field (value "/x"); ignored',
    `ipam.k8s.v1.cni.cncf.io/tool: unsupported field (value ${JSON.stringify({ nested: 'x'.repeat(100) }).slice(0, 61)}...); ignored`,
    'ipam.request[0].optional: unsupported field (value true); ignored',
    'ipam.provide[0].vaule: unsupported field (value "b"); ignored',
    'ipam.routes[0].via: unsupported field (value "10.0.0.1"); ignored',
  ]);
  assert.equal(c.ipam.daemonSocketPath, DEFAULT_SOCKET_PATH);
  assert.deepEqual(c.ipam.routes, [{ dst: '10.0.0.0/8' }]);
  assert.deepEqual(configParams(c, {}).warnings, c.warnings, 'the warnings travel to the daemon, which logs them');
  assert.equal(configParams(parseNetConf(conf()), {}).warnings, undefined);
});
test('strict: an unknown ipam key is code 2 with key and value', () =>
  rejects(conf({ strict: true, daemonSocketpath: '/x' }), 2, 'ipam.daemonSocketpath: unsupported field (value "/x")'));
test('ipam.strict must be a boolean', () =>
  rejects(conf({ strict: 'yes' }), 7, 'ipam.strict: must be true or false, not "yes"'));
test('warnings beyond the RPC limit are summed up in the last one', () => {
  const many = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`k${i}`, i]));
  const w = configParams(parseNetConf(conf(many)), {}).warnings ?? [];
  assert.equal(w.length, MAX_CONFIG_WARNINGS);
  assert.equal(w.at(-1), 'and 7 more');
});
test('ipam.daemonSocketPath not a string', () =>
  rejects(conf({ daemonSocketPath: 5 }), 7, 'ipam.daemonSocketPath: must be a non-empty string'));
test('ipam.daemonSocketPath relative', () =>
  rejects(conf({ daemonSocketPath: 'run/x.sock' }), 7, 'ipam.daemonSocketPath: "run/x.sock" must be an absolute path'));
test('ipam.priority', () => {
  for (const p of [-1, 1.5, '10', 2 ** 32])
    rejects(conf({ priority: p }), 7, /^ipam\.priority: must be an integer route metric/);
});
test('ipam.broadcast', () =>
  rejects(conf({ broadcast: 'yes' }), 7, 'ipam.broadcast: must be true or false, not "yes"'));
test('ipam.conflictDetection', () => {
  rejects(
    conf({ conflictDetection: 'fast' }),
    7,
    'ipam.conflictDetection: must be "off", "quick", "rfc5227", not "fast"',
  );
  rejects(
    conf({ conflictDetection: false }),
    7,
    'ipam.conflictDetection: must be "off", "quick", "rfc5227", not false',
  );
});
test('ipam.announce', () => rejects(conf({ announce: 'no' }), 7, 'ipam.announce: must be true or false, not "no"'));
test('ipam.timeout syntax', () => rejects(conf({ timeout: '30' }), 7, /^ipam\.timeout: must be a duration like "30s"/));
test('ipam.timeout range', () => {
  rejects(conf({ timeout: '50ms' }), 7, 'ipam.timeout: "50ms" is outside 100ms..1h');
  rejects(conf({ timeout: '2h' }), 7, 'ipam.timeout: "2h" is outside 100ms..1h');
  rejects(conf({ timeout: 0 }), 7, 'ipam.timeout: 0 is outside 100ms..1h');
});
test('ipam.request not an array', () =>
  rejects(conf({ request: { option: 'routers' } }), 7, 'ipam.request: must be an array'));
test('ipam.request entry not an object', () =>
  rejects(conf({ request: ['routers'] }), 7, 'ipam.request[0]: must be an object'));
test('ipam.request entry without option', () =>
  rejects(conf({ request: [{}] }), 7, 'ipam.request[0]: needs "option" (or "skipDefault": true)'));
test('ipam.request unknown option', () =>
  rejects(
    conf({ request: [{ option: 'routers' }, { option: 'ntp-server' }] }),
    7,
    'ipam.request[1].option: unknown DHCP option "ntp-server" (did you mean "ntp-servers"?)',
  ));
test('ipam.request option code out of range', () =>
  rejects(conf({ request: [{ option: '255' }] }), 7, 'ipam.request[0].option: DHCP option code 255 is outside 1..254'));
test('ipam.request option not a string', () =>
  rejects(
    conf({ request: [{ option: 3 }] }),
    7,
    'ipam.request[0].option: must be a DHCP option name or code, as a string',
  ));
test('ipam.request skipDefault not a boolean', () =>
  rejects(
    conf({ request: [{ option: 'routers', skipDefault: 'true' }] }),
    7,
    'ipam.request[0].skipDefault: must be true or false',
  ));
test('strict: ipam.request unknown entry key', () =>
  rejects(
    conf({ strict: true, request: [{ option: 'routers', optional: true }] }),
    2,
    'ipam.request[0].optional: unsupported field (value true)',
  ));
test('ipam.provide unknown option', () =>
  rejects(
    conf({ provide: [{ option: 'hostnme', value: 'x' }] }),
    7,
    'ipam.provide[0].option: unknown DHCP option "hostnme" (did you mean "host-name"?)',
  ));
test('ipam.provide: an option the client owns (one list: 50, 52-55, 57) is left out with a warning; strict: code 7', () => {
  for (const code of [50, 52, 53, 54, 55, 57]) {
    const c = parseNetConf(
      conf({
        provide: [
          { option: String(code), value: 'x' },
          { option: 'host-name', value: 'h' },
        ],
      }),
    );
    assert.deepEqual(c.ipam.provide, [{ code: 12, value: 'h', at: 1 }]);
    assert.deepEqual(c.warnings, [
      `ipam.provide[0].option: "${code}" (option ${code}) is set by the DHCP client itself and cannot be provided; entry ignored`,
    ]);
  }
  assert.deepEqual(
    [...CLIENT_OWNED_OPTIONS].sort((a, b) => a - b),
    [50, 52, 53, 54, 55, 57],
  );
  rejects(
    conf({ strict: true, provide: [{ option: 'dhcp-max-message-size', value: 'x' }] }),
    7,
    'ipam.provide[0].option: "dhcp-max-message-size" (option 57) is set by the DHCP client itself and cannot be provided',
  );
  // 61 is not the client's: a provided client identifier replaces the default one, as in the reference.
  assert.deepEqual(parseNetConf(conf({ provide: [{ option: '61', value: 'id' }] })).ipam.provide, [
    { code: 61, value: 'id', at: 0 },
  ]);
});
test("ipam.provide: an option provided twice, the last value wins (in the first one's place); strict: code 7", () => {
  const c = parseNetConf(
    conf({
      provide: [
        { option: 'host-name', value: 'a' },
        { option: '81', value: 'f' },
        { option: '12', value: 'b' },
      ],
    }),
  );
  assert.deepEqual(c.warnings, [
    'ipam.provide[2].option: option 12 is already provided by ipam.provide[0]; the later entry wins',
  ]);
  assert.deepEqual(configParams(c, {}).provide, [
    { code: 12, value: 'b' },
    { code: 81, value: 'f' },
  ]);
  // A later fromArg that CNI_ARGS lacks does not remove the earlier value (the reference appends only what it has).
  const d = parseNetConf(
    conf({
      provide: [
        { option: 'host-name', value: 'a' },
        { option: '12', fromArg: 'K8S_POD_NAME' },
      ],
    }),
  );
  assert.deepEqual(configParams(d, {}).provide, [{ code: 12, value: 'a' }]);
  assert.deepEqual(configParams(d, { K8S_POD_NAME: 'web-0' }).provide, [{ code: 12, value: 'web-0' }]);
  rejects(
    conf({
      strict: true,
      provide: [
        { option: 'host-name', value: 'a' },
        { option: '12', value: 'b' },
      ],
    }),
    7,
    'ipam.provide[1].option: option 12 is already provided by ipam.provide[0]',
  );
});
test('ipam.provide with both value and fromArg', () =>
  rejects(
    conf({ provide: [{ option: 'host-name', value: 'a', fromArg: 'K8S_POD_NAME' }] }),
    7,
    'ipam.provide[0]: needs exactly one of "value" and "fromArg"',
  ));
test('ipam.provide with neither value nor fromArg', () =>
  rejects(
    conf({ provide: [{ option: 'host-name' }] }),
    7,
    'ipam.provide[0]: needs exactly one of "value" and "fromArg"',
  ));
test('ipam.provide value not a string', () =>
  rejects(conf({ provide: [{ option: 'host-name', value: 42 }] }), 7, 'ipam.provide[0].value: must be a string'));
test('ipam.provide value empty', () =>
  rejects(
    conf({ provide: [{ option: 'host-name', value: '' }] }),
    7,
    'ipam.provide[0].value: is empty (option "host-name" needs at least 1 byte)',
  ));
test('ipam.provide value over 255 bytes', () => {
  // 128 two-byte characters: 256 bytes, 128 UTF-16 units. The limit is in bytes.
  rejects(
    conf({ provide: [{ option: 'user-class', value: 'é'.repeat(128) }] }),
    7,
    'ipam.provide[0].value: is 256 bytes, longer than the 255 a DHCP option holds (option "user-class")',
  );
  assert.equal(
    parseNetConf(conf({ provide: [{ option: 'user-class', value: 'x'.repeat(255) }] })).ipam.provide.length,
    1,
  );
});
test('ipam.provide fromArg empty', () =>
  rejects(
    conf({ provide: [{ option: 'host-name', fromArg: '' }] }),
    7,
    /^ipam\.provide\[0\]\.fromArg: must be the name of a CNI_ARGS key/,
  ));
test('strict: ipam.provide unknown entry key', () =>
  rejects(
    conf({ strict: true, provide: [{ option: 'host-name', value: 'a', vaule: 'b' }] }),
    2,
    'ipam.provide[0].vaule: unsupported field (value "b")',
  ));

test('fromArg reads CNI_ARGS; a missing arg leaves the option out with a warning (strict: code 4), a too long one is code 4', () => {
  const provide = parseNetConf(
    conf({
      provide: [
        { option: 'host-name', fromArg: 'K8S_POD_NAME' },
        { option: '81', value: 'v' },
      ],
    }),
  ).ipam.provide;
  assert.deepEqual(resolveProvide(provide, { K8S_POD_NAME: 'web-0' }), {
    provide: [
      { code: 12, value: 'web-0' },
      { code: 81, value: 'v' },
    ],
    warnings: [],
  });
  assert.deepEqual(resolveProvide(provide, {}), {
    provide: [{ code: 81, value: 'v' }],
    warnings: ['ipam.provide[0].fromArg: CNI_ARGS has no K8S_POD_NAME; option "host-name" not sent'],
  });
  assert.throws(
    () => resolveProvide(provide, {}, true),
    (e: CniError) => e.code === 4 && e.msg === 'ipam.provide[0].fromArg: CNI_ARGS has no K8S_POD_NAME',
  );
  const strict = parseNetConf(conf({ strict: true, provide: [{ option: 'host-name', fromArg: 'K8S_POD_NAME' }] }));
  assert.throws(
    () => configParams(strict, {}),
    (e: CniError) => e.code === 4 && e.msg === 'ipam.provide[0].fromArg: CNI_ARGS has no K8S_POD_NAME',
  );
  const lenient = parseNetConf(
    conf({
      provide: [
        { option: 'user-class', value: 'u' },
        { option: 'host-name', fromArg: 'K8S_POD_NAME' },
      ],
    }),
  );
  assert.deepEqual(configParams(lenient, {}).warnings, [
    'ipam.provide[1].fromArg: CNI_ARGS has no K8S_POD_NAME; option "host-name" not sent',
  ]);
  assert.throws(
    () => resolveProvide(provide, { K8S_POD_NAME: 'x'.repeat(300) }),
    (e: CniError) =>
      e.code === 4 &&
      e.msg ===
        'ipam.provide[0].fromArg: CNI_ARGS K8S_POD_NAME is 300 bytes, longer than the 255 a DHCP option holds (option "host-name")',
  );
});

test("configParams is the daemon's add params without the CNI_* parts", () => {
  const c = parseNetConf(
    conf({
      provide: [{ option: 'host-name', fromArg: 'K8S_POD_NAME' }],
      broadcast: false,
      timeout: '10s',
      request: [{ skipDefault: true, option: 'routers' }],
      conflictDetection: 'off',
      announce: false,
    }),
  );
  assert.deepEqual(configParams(c, { K8S_POD_NAME: 'web-0' }), {
    network: 'lan',
    paramRequestList: [3],
    provide: [{ code: 12, value: 'web-0' }],
    broadcast: false,
    timeoutMs: 10_000,
    conflictDetection: 'off',
    announce: false,
    routing: { priority: 0, routes: [], defaultRoute: true },
    master: 'eno1',
  });
  const routing = { priority: 0, routes: [], defaultRoute: true };
  assert.deepEqual(configParams(parseNetConf(conf()), {}), {
    network: 'lan',
    paramRequestList: [...DEFAULT_REQUEST_LIST],
    provide: [],
    routing,
    master: 'eno1',
  });
  // The main plugin's master is only read: one that names no interface is not passed on, and fails nothing.
  for (const master of ['', 'a/b', 'x'.repeat(16), 42]) {
    const raw = JSON.parse(conf()) as Record<string, unknown>;
    assert.equal(configParams(parseNetConf(JSON.stringify({ ...raw, master })), {}).master, undefined);
  }
  // What the daemon needs to rebuild the result's routes when it restores a link after expiry.
  const routed = parseNetConf(
    conf({
      priority: 7,
      defaultRoute: false,
      routes: [{ dst: '10.0.0.0/8' }, { dst: '192.0.2.0/24', gw: '198.19.0.9' }],
    }),
  );
  assert.deepEqual(configParams(routed, {}).routing, {
    priority: 7,
    defaultRoute: false,
    routes: [{ dst: '10.0.0.0/8' }, { dst: '192.0.2.0/24', gw: '198.19.0.9' }],
  });
});

test('DEL reads only what it uses, so a config with other problems can still be released', () => {
  const stdin = conf(
    { daemonSocketPath: '/run/x.sock', timeout: '5s', provide: [{ option: 'nonsense' }], extra: 1 },
    { type: undefined },
  );
  assert.deepEqual(parseDelConf(stdin), {
    cniVersion: '1.0.0',
    name: 'lan',
    daemonSocketPath: '/run/x.sock',
    stateDir: '/var/lib/ts-dhcp',
    timeoutMs: 5000,
  });
  assert.deepEqual(parseDelConf(JSON.stringify({ cniVersion: '0.3.1', name: 'lan', ipam: { stateDir: '/srv/s' } })), {
    cniVersion: '0.3.1',
    name: 'lan',
    daemonSocketPath: DEFAULT_SOCKET_PATH,
    stateDir: '/srv/s',
  });
  assert.throws(
    () => parseDelConf(conf({ daemonSocketPath: 'rel' })),
    (e: CniError) => e.code === 7,
  );
  assert.throws(
    () => parseDelConf(conf({}, { name: undefined })),
    (e: CniError) => e.code === 7,
  );
  assert.throws(
    () => parseDelConf(conf({}, { cniVersion: '9.9.9' })),
    (e: CniError) => e.code === 1,
  );
});

test('ipam.clientId: the three modes, a literal value, fromArg resolved from CNI_ARGS; at most 254 bytes of text', () => {
  for (const mode of ['legacy', 'pod', 'duid'] as const) {
    assert.equal(configParams(parseNetConf(conf({ clientId: mode })), {}).clientId, mode);
  }
  assert.equal(configParams(parseNetConf(conf()), {}).clientId, undefined, 'absent: the daemon uses legacy');
  assert.deepEqual(configParams(parseNetConf(conf({ clientId: { value: 'rack7-db' } })), {}).clientId, {
    value: 'rack7-db',
  });
  const fromArg = parseNetConf(conf({ clientId: { fromArg: 'K8S_POD_NAME' } }));
  assert.deepEqual(configParams(fromArg, { K8S_POD_NAME: 'web-0' }).clientId, { value: 'web-0' });
  assert.throws(
    () => configParams(fromArg, {}),
    (e: CniError) => e.code === 4 && e.msg === 'ipam.clientId.fromArg: CNI_ARGS has no K8S_POD_NAME',
  );
  assert.throws(
    () => configParams(fromArg, { K8S_POD_NAME: 'x'.repeat(255) }),
    (e: CniError) => e.code === 4 && /K8S_POD_NAME is 255 bytes/.test(e.msg),
  );
  assert.deepEqual(
    configParams(parseNetConf(conf({ clientId: { value: 'é'.repeat(127) } })), {}).clientId,
    { value: 'é'.repeat(127) },
    '254 bytes fit',
  );
  rejects(conf({ clientId: { value: 'x'.repeat(255) } }), 7, /^ipam\.clientId\.value.*is 255 bytes/);
  rejects(conf({ clientId: { value: '' } }), 7, /^ipam\.clientId\.value.*is empty/);
  rejects(conf({ clientId: { value: 5 } }), 7, /^ipam\.clientId\.value.*must be a string/);
  rejects(conf({ clientId: 'mac' }), 7, /^ipam\.clientId.*must be "legacy", "pod", "duid"/);
  rejects(conf({ clientId: { value: 'a', fromArg: 'B' } }), 7, /^ipam\.clientId.*exactly one of "value" and "fromArg"/);
  rejects(conf({ clientId: {} }), 7, /^ipam\.clientId.*exactly one of "value" and "fromArg"/);
  rejects(conf({ clientId: { fromArg: '' } }), 7, /^ipam\.clientId\.fromArg.*CNI_ARGS key/);
  // ts-dhcp's own key: no reference config carries it, so a typo inside is an error even without strict.
  rejects(conf({ clientId: { value: 'a', type: 0 } }), 2, /^ipam\.clientId\.type: unsupported field/);
});

test('ipam.onChange ("readdress" | "hold-link-down") and ipam.applyMtu reach the daemon; other values are code 7', () => {
  const c = parseNetConf(conf({ onChange: 'hold-link-down', applyMtu: true }));
  const p = configParams(c, {});
  assert.deepEqual([p.onChange, p.applyMtu], ['hold-link-down', true]);
  const d = configParams(parseNetConf(conf()), {});
  assert.deepEqual(
    [d.onChange, d.applyMtu],
    [undefined, undefined],
    'absent: the daemon re-addresses in place, leaves the MTU',
  );
  rejects(conf({ onChange: 'down' }), 7, 'ipam.onChange: must be "readdress" or "hold-link-down", not "down"');
  rejects(conf({ applyMtu: 'yes' }), 7, 'ipam.applyMtu: must be true or false, not "yes"');
});

test('the network name is at most 1024 characters and ipam.routes at most 256 routes (both are kept with every lease)', () => {
  assert.equal(parseNetConf(conf({}, { name: 'n'.repeat(1024) })).name.length, 1024);
  rejects(conf({}, { name: 'n'.repeat(1025) }), 7, 'name: is longer than 1024 characters');
  const routes = (n: number) => Array.from({ length: n }, (_, i) => ({ dst: `10.${i >> 8}.${i & 255}.0/24` }));
  assert.equal(parseNetConf(conf({ routes: routes(256) })).ipam.routes.length, 256);
  rejects(conf({ routes: routes(257) }), 7, 'ipam.routes: 257 routes, more than 256');
});
