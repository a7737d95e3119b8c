// The CNI contract (every verb, every cniVersion, every error code) through the installed native plugin, talking to
// the daemon's CNI layer (daemon/cni/plugin.ts) in front of fake leases: what the runtime sees.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DaemonError } from '../../daemon/errors';
import { SUPPORTED_VERSIONS } from '../../daemon/cni/version';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSpool } from '../../common/spool';
import type { LeaseFacts } from '../../common/rpc';
import type { LeaseService } from '../../daemon/cni/plugin';
import { cniDaemon, execPlugin, type CniDaemon } from '../helpers/native-plugin';

const facts: LeaseFacts = {
  address: '198.19.0.57',
  prefixLength: 22,
  gateway: '198.19.0.1',
  routes: [{ dst: '0.0.0.0/0', gw: '198.19.0.1' }],
  dns: { nameservers: ['198.19.0.1'], search: [] },
  serverId: '198.19.0.1',
  leaseTimeS: 3600,
};

type Method = keyof LeaseService;
interface Call {
  method: Method;
  params: unknown;
}

const onEth1 = [{ address: '198.19.0.57', prefixLength: 22 }];
const answers = (method: Method): unknown =>
  method === 'del'
    ? { released: true }
    : method === 'check'
      ? { facts, state: 'BOUND', interfaceAddresses: onEth1 }
      : method === 'gc'
        ? { released: [], errors: [] }
        : { facts };

/** What the fake leases answer in the running test (a value, or an error to throw), and what they were asked. */
let answer: (m: Method) => unknown = answers;
let calls: Call[] = [];
let daemon: CniDaemon;

before(async () => {
  const fake = (method: Method) => async (params: unknown) => {
    calls.push({ method, params });
    const a = answer(method);
    if (a instanceof Error) throw a;
    return a;
  };
  daemon = await cniDaemon({
    add: fake('add'),
    del: fake('del'),
    check: fake('check'),
    gc: fake('gc'),
  } as LeaseService);
});
after(() => daemon.close());

const ALL_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];

const baseEnv = {
  CNI_CONTAINERID: 'c0ffee',
  CNI_NETNS: '/run/netns/pod1',
  CNI_IFNAME: 'eth1',
  CNI_PATH: '/opt/cni/bin',
  CNI_ARGS: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0',
};

function config(cniVersion: string, ipam: Record<string, unknown> = {}, top: Record<string, unknown> = {}): string {
  return JSON.stringify({
    cniVersion,
    name: 'lan',
    type: 'macvlan',
    master: 'eno1',
    ...top,
    ipam: { type: 'ts-dhcp', daemonSocketPath: daemon.socketPath, ...ipam },
  });
}

async function run(
  command: string,
  stdin: string,
  opts: { env?: Record<string, string | undefined>; answer?: (m: Method) => unknown; cwd?: string } = {},
) {
  calls = [];
  answer = opts.answer ?? answers;
  const r = await execPlugin({ ...baseEnv, CNI_COMMAND: command, ...opts.env }, stdin, { cwd: opts.cwd });
  answer = answers;
  return { code: r.code, out: r.stdout, json: r.stdout ? JSON.parse(r.stdout) : undefined, err: r.stderr, calls };
}

test('VERSION echoes the input cniVersion, needs no other env and calls nobody', async () => {
  for (const v of SUPPORTED_VERSIONS) {
    const r = await run('VERSION', JSON.stringify({ cniVersion: v }), {
      env: { CNI_CONTAINERID: undefined, CNI_NETNS: undefined, CNI_IFNAME: undefined },
    });
    assert.equal(r.code, 0);
    assert.deepEqual(r.json, { cniVersion: v, supportedVersions: ALL_VERSIONS });
    assert.equal(r.calls.length, 0);
  }
  assert.deepEqual(SUPPORTED_VERSIONS, ALL_VERSIONS);
  assert.equal((await run('VERSION', '')).json.cniVersion, '1.1.0', 'no input: the latest');
});

test("ADD, every cniVersion: asks the daemon and prints the result in the config's version", async () => {
  for (const v of SUPPORTED_VERSIONS) {
    const r = await run(
      'ADD',
      config(v, { provide: [{ option: 'host-name', fromArg: 'K8S_POD_NAME' }], priority: 50 }),
    );
    assert.equal(r.code, 0, r.out);
    assert.equal(r.err, '');
    assert.deepEqual(r.calls, [
      {
        method: 'add',
        params: {
          containerId: 'c0ffee',
          ifName: 'eth1',
          netns: '/run/netns/pod1',
          args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'web-0' },
          network: 'lan',
          paramRequestList: [1, 121, 3, 33, 6, 15, 119, 26, 51, 58, 59],
          provide: [{ code: 12, value: 'web-0' }],
          routing: { priority: 50, routes: [], defaultRoute: true },
          master: 'eno1',
        },
      },
    ]);
    const ip = { address: '198.19.0.57/22', gateway: '198.19.0.1' };
    const routes = [{ dst: '0.0.0.0/0', gw: '198.19.0.1', priority: 50 }];
    const dns = { nameservers: ['198.19.0.1'] };
    if (v === '0.1.0' || v === '0.2.0') {
      // The ip4 form keeps only dst and gw of a route (libcni types020).
      assert.deepEqual(
        r.json,
        {
          cniVersion: v,
          ip4: { ip: ip.address, gateway: ip.gateway, routes: [{ dst: '0.0.0.0/0', gw: '198.19.0.1' }] },
          dns,
        },
        v,
      );
    } else {
      assert.deepEqual(
        r.json,
        { cniVersion: v, ips: [v.startsWith('1.') ? ip : { version: '4', ...ip }], routes, dns },
        v,
      );
    }
  }
});

test('ADD goes to the daemonSocketPath of the config and passes broadcast and timeout', async () => {
  const r = await run('ADD', config('1.0.0', { broadcast: true, timeout: '10s' }));
  assert.equal(r.code, 0);
  assert.deepEqual(
    [(r.calls[0]?.params as { broadcast: boolean }).broadcast, (r.calls[0]?.params as { timeoutMs: number }).timeoutMs],
    [true, 10_000],
  );
});

test("ADD makes a relative CNI_NETNS absolute against the plugin's working directory (the daemon has its own)", async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'tsq-cwd-'));
  try {
    const r = await run('ADD', config('1.0.0'), { env: { CNI_NETNS: 'netns/pod1' }, cwd });
    assert.equal((r.calls[0]?.params as { netns: string }).netns, `${cwd}/netns/pod1`);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('ADD without CNI_ARGS sends empty args', async () => {
  const r = await run('ADD', config('0.4.0'), { env: { CNI_ARGS: undefined } });
  assert.equal(r.code, 0);
  assert.deepEqual((r.calls[0]?.params as { args: unknown }).args, {});
});

async function failsWith(
  command: string,
  stdin: string,
  code: number,
  msg: string | RegExp,
  opts: Parameters<typeof run>[2] = {},
) {
  const r = await run(command, stdin, opts);
  assert.equal(r.code, 1, 'exit code');
  assert.equal(r.json.code, code, r.out);
  if (typeof msg === 'string') assert.equal(r.json.msg, msg);
  else assert.match(r.json.msg, msg);
  return r;
}

test("errors go to stdout as the spec's error JSON in the config's version, exit 1", async () => {
  for (const v of SUPPORTED_VERSIONS) {
    const r = await failsWith('ADD', config(v), 11, 'no lease within 30s', {
      answer: () => new DaemonError('timeout', 'no lease within 30s'),
    });
    assert.deepEqual(r.json, { cniVersion: v, code: 11, msg: 'no lease within 30s' });
    assert.equal(r.err, '', 'an expected error is not a crash');
    const detailed = await failsWith('ADD', config(v), 4, 'CNI_ARGS: invalid pair "x"', { env: { CNI_ARGS: 'x' } });
    assert.deepEqual(detailed.json, {
      cniVersion: v,
      code: 4,
      msg: 'CNI_ARGS: invalid pair "x"',
      details: 'expected KEY=VALUE pairs separated by ";"',
    });
  }
});

test('ADD: missing env is code 4 before anything else', async () => {
  const r = await failsWith(
    'ADD',
    config('0.4.0', { provide: 'bad' }),
    4,
    'required env variables [CNI_NETNS] missing',
    { env: { CNI_NETNS: undefined } },
  );
  assert.equal(r.calls.length, 0);
  assert.equal(r.json.cniVersion, '0.4.0');
});

test('a config that is not JSON is code 6 in the latest version, whatever else is wrong (it says where the daemon is)', async () => {
  const r = await failsWith(
    'ADD',
    'not even json',
    6,
    'error parsing the network config on stdin: unexpected character at byte 0',
    { env: { CNI_NETNS: undefined } },
  );
  assert.equal(r.json.cniVersion, '1.1.0', 'no readable config: the latest version');
});

test('ADD: stdin that is not JSON is code 6', async () => {
  await failsWith('ADD', '{', 6, /^error parsing the network config on stdin/);
});

test('ADD: an invalid config is code 7 naming the field, and the daemon is not called', async () => {
  const r = await failsWith(
    'ADD',
    config('0.3.1', { provide: [{ option: 'hostnme', value: 'x' }] }),
    7,
    'ipam.provide[0].option: unknown DHCP option "hostnme" (did you mean "host-name"?)',
  );
  assert.equal(r.json.cniVersion, '0.3.1');
  assert.equal(r.calls.length, 0);
});

test('ADD: an unsupported cniVersion is code 1, reported in that version', async () => {
  const r = await failsWith('ADD', config('1.2.0'), 1, /^incompatible CNI versions/);
  assert.equal(r.json.cniVersion, '1.2.0');
});

test('ADD: a provide fromArg missing from CNI_ARGS leaves the option out and tells the daemon; with strict it is code 4', async () => {
  const r = await run('ADD', config('1.0.0', { provide: [{ option: 'host-name', fromArg: 'K8S_POD_UID' }], extra: 1 }));
  assert.equal(r.code, 0, r.out);
  const params = r.calls[0]?.params as { provide: unknown; warnings: unknown };
  assert.deepEqual(params.provide, []);
  assert.deepEqual(params.warnings, [
    'ipam.extra: unsupported field (value 1); ignored',
    'ipam.provide[0].fromArg: CNI_ARGS has no K8S_POD_UID; option "host-name" not sent',
  ]);
  await failsWith(
    'ADD',
    config('1.0.0', { strict: true, provide: [{ option: 'host-name', fromArg: 'K8S_POD_UID' }] }),
    4,
    'ipam.provide[0].fromArg: CNI_ARGS has no K8S_POD_UID',
  );
});

test('ADD: malformed CNI_ARGS is code 4', async () => {
  await failsWith('ADD', config('1.0.0'), 4, 'CNI_ARGS: invalid pair "garbage"', { env: { CNI_ARGS: 'A=1;garbage' } });
});

test('ADD: a bad CNI_IFNAME or CNI_CONTAINERID is code 4', async () => {
  await failsWith('ADD', config('1.0.0'), 4, /^CNI_IFNAME "eth\/1"/, { env: { CNI_IFNAME: 'eth/1' } });
  await failsWith('ADD', config('1.0.0'), 4, 'invalid characters in CNI_CONTAINERID', {
    env: { CNI_CONTAINERID: '_x' },
  });
});

test('ADD, CHECK and GC: the daemon not running is code 11 naming the socket and the systemd unit', async () => {
  for (const verb of ['ADD', 'CHECK', 'GC']) {
    const r = await failsWith(
      verb,
      config('1.1.0', { daemonSocketPath: '/run/tsq-none/ts-dhcp.sock' }),
      11,
      'ts-dhcp daemon is not running: cannot connect to /run/tsq-none/ts-dhcp.sock (start it with "ts-dhcp daemon" or "systemctl enable --now ts-dhcp.socket")',
    );
    assert.equal(r.json.details, 'ENOENT: No such file or directory');
  }
});

test("each kind of daemon failure at ADD is its CNI code, with the daemon's message as written", async () => {
  const kinds: [DaemonError['kind'], number][] = [
    ['timeout', 11],
    ['cancelled', 11],
    ['bad-netns', 4],
    ['bad-interface', 4],
    ['in-use', 4],
    ['invalid-params', 7],
    ['io', 5],
  ];
  for (const [kind, code] of kinds) {
    await failsWith('ADD', config('1.0.0'), code, `${kind} happened`, {
      answer: () => new DaemonError(kind, `${kind} happened`),
    });
  }
});

test('a bug (neither a CNI nor a daemon error) is code 999, and the daemon hears of it', async () => {
  const before = daemon.bugs.length;
  await failsWith('ADD', config('1.0.0'), 999, 'internal error: boom', { answer: () => new TypeError('boom') });
  assert.match(String(daemon.bugs[before]), /TypeError: boom/);
});

test('DEL, every cniVersion: asks the daemon to release, prints nothing', async () => {
  for (const v of SUPPORTED_VERSIONS) {
    const r = await run('DEL', config(v));
    assert.equal(r.code, 0);
    assert.equal(r.out, '');
    assert.deepEqual(r.calls, [{ method: 'del', params: { containerId: 'c0ffee', network: 'lan', ifName: 'eth1' } }]);
  }
});

test('DEL of an unknown attachment succeeds', async () => {
  const r = await run('DEL', config('1.0.0'), { answer: () => ({ released: false }) });
  assert.deepEqual([r.code, r.out], [0, '']);
});

test('DEL needs no CNI_NETNS, and ignores config problems that do not concern it', async () => {
  const stdin = config('1.0.0', { provide: [{ option: 'host-name', fromArg: 'K8S_POD_UID' }], surplus: true });
  const r = await run('DEL', stdin, { env: { CNI_NETNS: undefined, CNI_ARGS: undefined } });
  assert.equal(r.code, 0, r.out);
  assert.equal(r.calls.length, 1);
});

test('DEL: missing CNI_IFNAME is code 4', async () => {
  await failsWith('DEL', config('1.0.0'), 4, 'required env variables [CNI_IFNAME] missing', {
    env: { CNI_IFNAME: undefined },
  });
});

test('DEL, every cniVersion, daemon down: success, and the release is spooled in stateDir (as the daemon reads it)', async () => {
  for (const v of SUPPORTED_VERSIONS) {
    const stateDir = mkdtempSync(join(tmpdir(), 'tsq-spool-'));
    try {
      const r = await run('DEL', config(v, { stateDir, daemonSocketPath: join(stateDir, 'none.sock') }));
      assert.deepEqual([r.code, r.out], [0, ''], v);
      const spooled = await readSpool(stateDir);
      assert.deepEqual(
        spooled.map((e) => e.attachment),
        [{ containerId: 'c0ffee', network: 'lan', ifName: 'eth1' }],
        v,
      );
      assert.equal(statSync(join(stateDir, 'spool')).mode & 0o777, 0o700);
      assert.equal(statSync(spooled[0]?.file as string).mode & 0o777, 0o600);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  }
});

test('DEL: the daemon down and the spool unwritable is code 5 saying both', async () => {
  await failsWith(
    'DEL',
    config('1.0.0', { stateDir: '/dev/null/tsq', daemonSocketPath: '/run/tsq-none/ts-dhcp.sock' }),
    5,
    /^ts-dhcp daemon is not running: cannot connect to \/run\/tsq-none\/ts-dhcp\.sock .*; and the release could not be remembered in \/dev\/null\/tsq: mkdir \/dev\/null\/tsq: Not a directory$/,
  );
});

test('DEL with the daemon down still needs the attachment: missing CNI_CONTAINERID is code 4, nothing spooled', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tsq-spool-'));
  try {
    await failsWith(
      'DEL',
      config('1.0.0', { stateDir, daemonSocketPath: join(stateDir, 'none.sock') }),
      4,
      'required env variables [CNI_CONTAINERID] missing',
      { env: { CNI_CONTAINERID: undefined } },
    );
    assert.deepEqual(await readSpool(stateDir), []);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('DEL: a daemon error that is not "unreachable" is reported, nothing spooled', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'tsq-spool-'));
  try {
    await failsWith('DEL', config('1.0.0', { stateDir }), 7, 'invalid params: ifName must be at most 15 characters', {
      answer: () => new DaemonError('invalid-params', 'invalid params: ifName must be at most 15 characters'),
    });
    assert.deepEqual(await readSpool(stateDir), []);
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
});

function prevResult(v: string, ips: unknown[]) {
  return { cniVersion: v, interfaces: [{ name: 'eth1', sandbox: '/run/netns/pod1' }], ips };
}

test('CHECK, 0.4.0, 1.0.0 and 1.1.0: matching prevResult and interface succeed silently', async () => {
  const ips: Record<string, unknown[]> = {
    '0.4.0': [{ version: '4', interface: 0, address: '198.19.0.57/22', gateway: '198.19.0.1' }],
    '1.0.0': [
      { interface: 0, address: '198.19.0.57/22', gateway: '198.19.0.1' },
      { interface: 0, address: 'fd00::5/64' },
    ],
    '1.1.0': [{ interface: 0, address: '198.19.0.57/22', gateway: '198.19.0.1' }],
  };
  for (const [v, list] of Object.entries(ips)) {
    const r = await run('CHECK', config(v, {}, { prevResult: prevResult(v, list) }));
    assert.deepEqual([r.code, r.out], [0, ''], v);
    assert.deepEqual(r.calls, [
      { method: 'check', params: { containerId: 'c0ffee', network: 'lan', ifName: 'eth1', netns: '/run/netns/pod1' } },
    ]);
  }
});

test('CHECK: a different address is code 101 saying what differs', async () => {
  const stdin = config(
    '1.0.0',
    {},
    { prevResult: prevResult('1.0.0', [{ address: '198.19.0.99/22', gateway: '198.19.0.1' }]) },
  );
  await failsWith('CHECK', stdin, 101, 'CHECK: the lease has 198.19.0.57/22, prevResult has 198.19.0.99/22');
});

test('CHECK: a different prefix length or gateway is a mismatch too', async () => {
  await failsWith(
    'CHECK',
    config('1.0.0', {}, { prevResult: prevResult('1.0.0', [{ address: '198.19.0.57/24' }]) }),
    101,
    'CHECK: the lease has 198.19.0.57/22, prevResult has 198.19.0.57/24',
  );
  await failsWith(
    'CHECK',
    config('1.0.0', {}, { prevResult: prevResult('1.0.0', [{ address: '198.19.0.57/22', gateway: '198.19.0.254' }]) }),
    101,
    'CHECK: gateway of 198.19.0.57/22: the lease has 198.19.0.1, prevResult has 198.19.0.254',
  );
});

test('CHECK: prevResult with no IPv4 address is a mismatch', async () => {
  await failsWith(
    'CHECK',
    config('1.0.0', {}, { prevResult: prevResult('1.0.0', []) }),
    101,
    'CHECK: prevResult lists no IPv4 address, the lease has 198.19.0.57/22',
  );
});

test('CHECK: missing or malformed prevResult is code 7', async () => {
  const r = await failsWith('CHECK', config('1.0.0'), 7, /^prevResult: missing/);
  assert.equal(r.calls.length, 0);
  await failsWith(
    'CHECK',
    config('1.0.0', {}, { prevResult: { cniVersion: '1.0.0' } }),
    7,
    /^prevResult\.ips: missing/,
  );
  await failsWith(
    'CHECK',
    config('1.0.0', {}, { prevResult: { ips: [{ address: 5 }] } }),
    7,
    'prevResult.ips[0].address: must be a CIDR string',
  );
});

test('CHECK: the address missing from the interface is code 101 naming interface, netns and what it has', async () => {
  const stdin = config(
    '1.1.0',
    {},
    { prevResult: prevResult('1.1.0', [{ address: '198.19.0.57/22', gateway: '198.19.0.1' }]) },
  );
  await failsWith(
    'CHECK',
    stdin,
    101,
    'CHECK: address 198.19.0.57/22 is not configured on eth1 in /run/netns/pod1 (it has no IPv4 address)',
    { answer: (m) => (m === 'check' ? { facts, state: 'BOUND', interfaceAddresses: [] } : undefined) },
  );
  await failsWith(
    'CHECK',
    stdin,
    101,
    'CHECK: address 198.19.0.57/22 is not configured on eth1 in /run/netns/pod1 (it has 198.19.0.57/24, 10.0.0.1/8)',
    {
      answer: (m) =>
        m === 'check'
          ? {
              facts,
              state: 'BOUND',
              interfaceAddresses: [
                { address: '198.19.0.57', prefixLength: 24 },
                { address: '10.0.0.1', prefixLength: 8 },
              ],
            }
          : undefined,
    },
  );
});

test("CHECK: the daemon's verdicts on expiry, state and interface pass through as their own messages", async () => {
  const stdin = config('1.1.0', {}, { prevResult: prevResult('1.1.0', [{ address: '198.19.0.57/22' }]) });
  for (const msg of [
    'lease for c0ffee/lan/eth1 expired at 2026-01-01T00:00:00.000Z',
    'lease for c0ffee/lan/eth1 is not bound (state SELECTING)',
    'CNI_IFNAME "eth1" is not usable in /run/netns/pod1: linkInfo: /run/netns/pod1: eth1: No such device',
  ]) {
    await failsWith('CHECK', stdin, 101, msg, { answer: () => new DaemonError('mismatch', msg) });
  }
});

test('CHECK before 0.4.0 is code 1, without calling the daemon', async () => {
  for (const v of ['0.1.0', '0.2.0', '0.3.0', '0.3.1']) {
    const r = await failsWith('CHECK', config(v, {}, { prevResult: prevResult(v, []) }), 1, /does not allow CHECK/);
    assert.equal(r.calls.length, 0);
  }
});

test("CHECK: the daemon's own verdict (no lease, not bound) passes through", async () => {
  const stdin = config('1.0.0', {}, { prevResult: prevResult('1.0.0', [{ address: '198.19.0.57/22' }]) });
  await failsWith('CHECK', stdin, 100, 'no lease for c0ffee/lan/eth1', {
    answer: () => new DaemonError('no-lease', 'no lease for c0ffee/lan/eth1'),
  });
});

test('CHECK: missing CNI_NETNS is code 4', async () => {
  await failsWith('CHECK', config('1.0.0'), 4, 'required env variables [CNI_NETNS] missing', {
    env: { CNI_NETNS: '' },
  });
});

test('STATUS 1.1.0: success and no output when the daemon answers; needs no attachment env', async () => {
  const r = await run('STATUS', config('1.1.0'), {
    env: { CNI_CONTAINERID: undefined, CNI_NETNS: undefined, CNI_IFNAME: undefined },
  });
  assert.deepEqual([r.code, r.out, r.calls], [0, '', []]);
});

test('STATUS: daemon unreachable is code 50 with the socket path in the message', async () => {
  const r = await failsWith(
    'STATUS',
    config('1.1.0', { daemonSocketPath: '/run/tsq-none/s.sock' }),
    50,
    'ts-dhcp daemon not available at /run/tsq-none/s.sock: ts-dhcp daemon is not running: cannot connect to /run/tsq-none/s.sock (start it with "ts-dhcp daemon" or "systemctl enable --now ts-dhcp.socket")',
  );
  assert.equal(r.json.details, 'ENOENT: No such file or directory');
});

test('GC 1.1.0: sends the valid attachments (cni.dev/attachments or cni.dev/valid-attachments) for the network', async () => {
  const valid = [
    { containerID: 'a1', ifname: 'eth1' },
    { containerID: 'b2', ifname: 'net1' },
  ];
  for (const key of ['cni.dev/attachments', 'cni.dev/valid-attachments']) {
    const r = await run('GC', config('1.1.0', {}, { [key]: valid }), {
      env: { CNI_CONTAINERID: undefined, CNI_NETNS: undefined, CNI_IFNAME: undefined },
    });
    assert.deepEqual([r.code, r.out], [0, ''], key);
    assert.deepEqual(
      r.calls.map((c) => [c.method, c.params]),
      [
        [
          'gc',
          {
            network: 'lan',
            validAttachments: [
              { containerId: 'a1', ifName: 'eth1' },
              { containerId: 'b2', ifName: 'net1' },
            ],
          },
        ],
      ],
    );
  }
  const none = await run('GC', config('1.1.0'));
  assert.deepEqual(none.calls[0]?.params, { network: 'lan', validAttachments: [] }, 'no list: nothing is valid');
});

test('GC: a malformed attachment list is code 7 naming the entry; failed releases are reported after the others', async () => {
  await failsWith(
    'GC',
    config('1.1.0', {}, { 'cni.dev/attachments': [{ containerID: 'a1' }] }),
    7,
    'cni.dev/attachments[0].ifname: must be a non-empty string, not undefined',
  );
  await failsWith(
    'GC',
    config('1.1.0', {}, { 'cni.dev/valid-attachments': 'a1' }),
    7,
    'cni.dev/valid-attachments: must be an array',
  );
  const r = await failsWith('GC', config('1.1.0'), 11, 'GC of network lan: 1 release(s) failed', {
    answer: () => ({ released: [], errors: ['x/lan/eth1: boom'] }),
  });
  assert.equal(r.json.details, 'x/lan/eth1: boom');
});

test('STATUS and GC before 1.1.0 are code 1, without calling the daemon', async () => {
  for (const v of SUPPORTED_VERSIONS.filter((x) => x !== '1.1.0')) {
    for (const verb of ['STATUS', 'GC']) {
      const r = await failsWith(
        verb,
        config(v),
        1,
        `config version does not allow ${verb}: cniVersion ${v} predates ${verb} (1.1.0)`,
      );
      assert.equal(r.calls.length, 0);
      assert.equal(r.json.cniVersion, v);
    }
  }
});

test('garbage or truncated stdin is code 6 for every verb that reads it', async () => {
  const whole = config('1.1.0');
  for (const verb of ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC']) {
    await failsWith(verb, whole.slice(0, whole.length / 2), 6, /^error parsing the network config on stdin/);
    await failsWith(verb, '\u0000\u0001garbage', 6, /^error parsing the network config on stdin/);
    await failsWith(verb, '[1,2]', 6, 'the network config on stdin is not a JSON object');
  }
});

test('an unknown or missing CNI_COMMAND is code 4', async () => {
  await failsWith('FROB', config('1.0.0'), 4, 'unknown CNI_COMMAND: FROB');
  const r = await failsWith('', config('0.4.0'), 4, 'required env variables [CNI_COMMAND] missing');
  assert.equal(r.json.cniVersion, '0.4.0');
});

test('each answered invocation is reported with its verb and CNI code (the metrics count these)', async () => {
  daemon.answers.length = 0;
  const stdin = config('1.1.0', {}, { prevResult: prevResult('1.1.0', [{ address: '198.19.0.99/22' }]) });
  await run('ADD', config('1.1.0'));
  await run('ADD', config('1.1.0'), { answer: () => new DaemonError('timeout', 'no lease within 30s') });
  await run('CHECK', stdin);
  await run('DEL', config('1.1.0'));
  await run('STATUS', config('1.1.0'));
  await run('GC', config('1.0.0'));
  // VERSION and an unknown CNI_COMMAND are answered by the plugin itself, without the daemon.
  await run('VERSION', config('1.1.0'));
  await run('FROB', config('1.1.0'));
  assert.deepEqual(daemon.answers, [
    ['ADD', 0],
    ['ADD', 11],
    ['CHECK', 101],
    ['DEL', 0],
    ['STATUS', 0],
    ['GC', 1],
  ]);
});
