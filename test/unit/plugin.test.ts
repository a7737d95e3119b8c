import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { CniError } from '../../common/cni/errors';
import { SUPPORTED_VERSIONS } from '../../common/cni/version';
import { DEFAULT_SOCKET_PATH, LeaseFacts, MethodName } from '../../common/rpc';
import { runPlugin, rpcTimeoutMs } from '../../client/plugin';
import type { call } from '../../client/rpc-client';

const facts: LeaseFacts = {
  address: '198.19.0.57', prefixLength: 22, gateway: '198.19.0.1',
  routes: [{ dst: '0.0.0.0/0', gw: '198.19.0.1' }],
  dns: { nameservers: ['198.19.0.1'], search: [] }, serverId: '198.19.0.1', leaseTimeS: 3600,
};

interface Call { socketPath: string; method: MethodName; params: unknown; timeoutMs: number }

/** A fake `call`: records what the plugin asks and answers from `answer` (a value, or an error to throw). */
function fakeCall(answer: (method: MethodName) => unknown): { call: typeof call; calls: Call[] } {
  const calls: Call[] = [];
  const fn = (async (socketPath: string, method: MethodName, params: unknown, opts: { timeoutMs: number }) => {
    calls.push({ socketPath, method, params, timeoutMs: opts.timeoutMs });
    const a = answer(method);
    if (a instanceof Error) throw a;
    return a;
  }) as typeof call;
  return { call: fn, calls };
}

const answers = (method: MethodName) => (method === 'del' ? { released: true } : method === 'check' ? { facts, state: 'BOUND' } : { facts });

function sink(): Writable & { text: () => string } {
  const chunks: Buffer[] = [];
  const w = new Writable({ write(c, _e, cb) { chunks.push(Buffer.from(c)); cb(); } }) as Writable & { text: () => string };
  w.text = () => Buffer.concat(chunks).toString();
  return w;
}

const baseEnv = { CNI_CONTAINERID: 'c0ffee', CNI_NETNS: '/run/netns/pod1', CNI_IFNAME: 'eth1', CNI_PATH: '/opt/cni/bin', CNI_ARGS: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0' };

function config(cniVersion: string, ipam: Record<string, unknown> = {}, top: Record<string, unknown> = {}): string {
  return JSON.stringify({ cniVersion, name: 'lan', type: 'macvlan', master: 'eno1', ...top, ipam: { type: 'ts-dhcp', ...ipam } });
}

async function run(command: string, stdin: string, opts: { env?: Record<string, string | undefined>; answer?: (m: MethodName) => unknown } = {}) {
  const stdout = sink();
  const stderr = sink();
  const fake = fakeCall(opts.answer ?? answers);
  const code = await runPlugin({ env: { ...baseEnv, CNI_COMMAND: command, ...opts.env }, stdin, stdout, stderr }, { call: fake.call });
  const out = stdout.text();
  return { code, out, json: out ? JSON.parse(out) : undefined, err: stderr.text(), calls: fake.calls };
}

test('VERSION echoes the input cniVersion, needs no other env and calls nobody', async () => {
  for (const v of SUPPORTED_VERSIONS) {
    const r = await run('VERSION', JSON.stringify({ cniVersion: v }), { env: { CNI_CONTAINERID: undefined, CNI_NETNS: undefined, CNI_IFNAME: undefined } });
    assert.equal(r.code, 0);
    assert.deepEqual(r.json, { cniVersion: v, supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] });
    assert.equal(r.calls.length, 0);
  }
  assert.equal((await run('VERSION', '')).json.cniVersion, '1.0.0', 'no input: the latest');
});

test('ADD, every cniVersion: asks the daemon and prints the result in the config\'s version', async () => {
  for (const v of SUPPORTED_VERSIONS) {
    const r = await run('ADD', config(v, { provide: [{ option: 'host-name', fromArg: 'K8S_POD_NAME' }], priority: 50 }));
    assert.equal(r.code, 0, r.out);
    assert.equal(r.err, '');
    assert.deepEqual(r.calls, [{
      socketPath: DEFAULT_SOCKET_PATH,
      method: 'add',
      params: {
        containerId: 'c0ffee', ifName: 'eth1', netns: '/run/netns/pod1',
        args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'web-0' },
        network: 'lan', paramRequestList: [1, 121, 3, 33, 6, 15, 119, 51, 58, 59], provide: [{ code: 12, value: 'web-0' }],
      },
      timeoutMs: 35_000,
    }]);
    const ip = { address: '198.19.0.57/22', gateway: '198.19.0.1' };
    assert.deepEqual(r.json, {
      cniVersion: v,
      ips: [v === '1.0.0' ? ip : { version: '4', ...ip }],
      routes: [{ dst: '0.0.0.0/0', gw: '198.19.0.1', priority: 50 }],
      dns: { nameservers: ['198.19.0.1'] },
    });
  }
});

test('ADD passes socket path, broadcast and timeout; the RPC waits the timeout plus 5 s', async () => {
  const r = await run('ADD', config('1.0.0', { daemonSocketPath: '/tmp/t.sock', broadcast: true, timeout: '10s' }));
  assert.equal(r.code, 0);
  assert.equal(r.calls[0]?.socketPath, '/tmp/t.sock');
  assert.equal(r.calls[0]?.timeoutMs, 15_000);
  assert.deepEqual([(r.calls[0]?.params as { broadcast: boolean }).broadcast, (r.calls[0]?.params as { timeoutMs: number }).timeoutMs], [true, 10_000]);
  assert.equal(rpcTimeoutMs(undefined), 35_000);
});

test('ADD makes a relative CNI_NETNS absolute (the daemon has its own working directory)', async () => {
  const r = await run('ADD', config('1.0.0'), { env: { CNI_NETNS: 'netns/pod1' } });
  assert.equal((r.calls[0]?.params as { netns: string }).netns, `${process.cwd()}/netns/pod1`);
});

test('ADD without CNI_ARGS sends empty args', async () => {
  const r = await run('ADD', config('0.4.0'), { env: { CNI_ARGS: undefined } });
  assert.equal(r.code, 0);
  assert.deepEqual((r.calls[0]?.params as { args: unknown }).args, {});
});

async function failsWith(command: string, stdin: string, code: number, msg: string | RegExp, opts: Parameters<typeof run>[2] = {}) {
  const r = await run(command, stdin, opts);
  assert.equal(r.code, 1, 'exit code');
  assert.equal(r.json.code, code, r.out);
  if (typeof msg === 'string') assert.equal(r.json.msg, msg);
  else assert.match(r.json.msg, msg);
  return r;
}

test('errors go to stdout as the spec\'s error JSON in the config\'s version, exit 1', async () => {
  for (const v of SUPPORTED_VERSIONS) {
    const r = await failsWith('ADD', config(v), 11, 'no lease within 30s', { answer: () => new CniError(11, 'no lease within 30s', 'no OFFER') });
    assert.deepEqual(r.json, { cniVersion: v, code: 11, msg: 'no lease within 30s', details: 'no OFFER' });
    assert.equal(r.err, '', 'an expected error is not a crash');
  }
});

test('ADD: missing env is code 4 before anything else', async () => {
  const r = await failsWith('ADD', 'not even json', 4, 'required env variables [CNI_NETNS] missing', { env: { CNI_NETNS: undefined } });
  assert.equal(r.calls.length, 0);
  assert.equal(r.json.cniVersion, '1.0.0', 'no readable config: the latest version');
});

test('ADD: stdin that is not JSON is code 6', async () => {
  await failsWith('ADD', '{', 6, /^error parsing the network config on stdin/);
});

test('ADD: an invalid config is code 7 naming the field, and the daemon is not called', async () => {
  const r = await failsWith('ADD', config('0.3.1', { provide: [{ option: 'hostnme', value: 'x' }] }), 7, 'ipam.provide[0].option: unknown DHCP option "hostnme" (did you mean "host-name"?)');
  assert.equal(r.json.cniVersion, '0.3.1');
  assert.equal(r.calls.length, 0);
});

test('ADD: an unsupported cniVersion is code 1, reported in that version', async () => {
  const r = await failsWith('ADD', config('1.1.0'), 1, /^incompatible CNI versions/);
  assert.equal(r.json.cniVersion, '1.1.0');
});

test('ADD: a provide fromArg missing from CNI_ARGS is code 4', async () => {
  await failsWith('ADD', config('1.0.0', { provide: [{ option: 'host-name', fromArg: 'K8S_POD_UID' }] }), 4, 'ipam.provide[0].fromArg: CNI_ARGS has no K8S_POD_UID');
});

test('ADD: malformed CNI_ARGS is code 4', async () => {
  await failsWith('ADD', config('1.0.0'), 4, 'CNI_ARGS: invalid pair "garbage"', { env: { CNI_ARGS: 'A=1;garbage' } });
});

test('ADD: a bad CNI_IFNAME or CNI_CONTAINERID is code 4', async () => {
  await failsWith('ADD', config('1.0.0'), 4, /^CNI_IFNAME "eth\/1"/, { env: { CNI_IFNAME: 'eth/1' } });
  await failsWith('ADD', config('1.0.0'), 4, 'invalid characters in CNI_CONTAINERID', { env: { CNI_CONTAINERID: '_x' } });
});

test('ADD: the daemon not running is code 11, passed through', async () => {
  const down = new CniError(11, 'ts-dhcp daemon is not running: cannot connect to /run/cni/ts-dhcp.sock (start it with "ts-dhcp daemon" or "systemctl enable --now ts-dhcp.socket")');
  await failsWith('ADD', config('1.0.0'), 11, down.msg, { answer: () => down });
});

test('a bug (not a CniError) is code 999 with the stack on stderr', async () => {
  const r = await failsWith('ADD', config('1.0.0'), 999, 'internal error: boom', { answer: () => new TypeError('boom') });
  assert.match(r.err, /TypeError: boom/);
});

test('DEL, every cniVersion: asks the daemon to release, prints nothing', async () => {
  for (const v of SUPPORTED_VERSIONS) {
    const r = await run('DEL', config(v, { daemonSocketPath: '/tmp/d.sock' }));
    assert.equal(r.code, 0);
    assert.equal(r.out, '');
    assert.deepEqual(r.calls, [{ socketPath: '/tmp/d.sock', method: 'del', params: { containerId: 'c0ffee', network: 'lan', ifName: 'eth1' }, timeoutMs: 35_000 }]);
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

test('DEL: missing CNI_IFNAME is code 4; the daemon down is an error (the runtime retries DEL, the lease is not leaked)', async () => {
  await failsWith('DEL', config('1.0.0'), 4, 'required env variables [CNI_IFNAME] missing', { env: { CNI_IFNAME: undefined } });
  await failsWith('DEL', config('1.0.0'), 11, /not running/, { answer: () => new CniError(11, 'ts-dhcp daemon is not running: ...') });
});

function prevResult(v: string, ips: unknown[]) {
  return { cniVersion: v, interfaces: [{ name: 'eth1', sandbox: '/run/netns/pod1' }], ips };
}

test('CHECK, 0.4.0 and 1.0.0: matching prevResult succeeds silently', async () => {
  const ips: Record<string, unknown[]> = {
    '0.4.0': [{ version: '4', interface: 0, address: '198.19.0.57/22', gateway: '198.19.0.1' }],
    '1.0.0': [{ interface: 0, address: '198.19.0.57/22', gateway: '198.19.0.1' }, { interface: 0, address: 'fd00::5/64' }],
  };
  for (const [v, list] of Object.entries(ips)) {
    const r = await run('CHECK', config(v, {}, { prevResult: prevResult(v, list) }));
    assert.deepEqual([r.code, r.out], [0, ''], v);
    assert.deepEqual(r.calls, [{
      socketPath: DEFAULT_SOCKET_PATH, method: 'check',
      params: { containerId: 'c0ffee', network: 'lan', ifName: 'eth1', netns: '/run/netns/pod1' }, timeoutMs: 35_000,
    }]);
  }
});

test('CHECK: a different address is code 101 saying what differs', async () => {
  const stdin = config('1.0.0', {}, { prevResult: prevResult('1.0.0', [{ address: '198.19.0.99/22', gateway: '198.19.0.1' }]) });
  await failsWith('CHECK', stdin, 101, 'CHECK: the lease has 198.19.0.57/22, prevResult has 198.19.0.99/22');
});

test('CHECK: a different prefix length or gateway is a mismatch too', async () => {
  await failsWith('CHECK', config('1.0.0', {}, { prevResult: prevResult('1.0.0', [{ address: '198.19.0.57/24' }]) }), 101, 'CHECK: the lease has 198.19.0.57/22, prevResult has 198.19.0.57/24');
  await failsWith('CHECK', config('1.0.0', {}, { prevResult: prevResult('1.0.0', [{ address: '198.19.0.57/22', gateway: '198.19.0.254' }]) }), 101,
    'CHECK: gateway of 198.19.0.57/22: the lease has 198.19.0.1, prevResult has 198.19.0.254');
});

test('CHECK: prevResult with no IPv4 address is a mismatch', async () => {
  await failsWith('CHECK', config('1.0.0', {}, { prevResult: prevResult('1.0.0', []) }), 101, 'CHECK: prevResult lists no IPv4 address, the lease has 198.19.0.57/22');
});

test('CHECK: missing or malformed prevResult is code 7', async () => {
  const r = await failsWith('CHECK', config('1.0.0'), 7, /^prevResult: missing/);
  assert.equal(r.calls.length, 0);
  await failsWith('CHECK', config('1.0.0', {}, { prevResult: { cniVersion: '1.0.0' } }), 7, /^prevResult\.ips: missing/);
  await failsWith('CHECK', config('1.0.0', {}, { prevResult: { ips: [{ address: 5 }] } }), 7, 'prevResult.ips[0].address: must be a CIDR string');
});

test('CHECK before 0.4.0 is code 1, without calling the daemon', async () => {
  for (const v of ['0.3.0', '0.3.1']) {
    const r = await failsWith('CHECK', config(v, {}, { prevResult: prevResult(v, []) }), 1, /does not allow CHECK/);
    assert.equal(r.calls.length, 0);
  }
});

test('CHECK: the daemon\'s own verdict (no lease, not bound) passes through', async () => {
  const stdin = config('1.0.0', {}, { prevResult: prevResult('1.0.0', [{ address: '198.19.0.57/22' }]) });
  await failsWith('CHECK', stdin, 100, 'no lease for c0ffee/lan/eth1', { answer: () => new CniError(100, 'no lease for c0ffee/lan/eth1') });
});

test('CHECK: missing CNI_NETNS is code 4', async () => {
  await failsWith('CHECK', config('1.0.0'), 4, 'required env variables [CNI_NETNS] missing', { env: { CNI_NETNS: '' } });
});

test('an unknown or missing CNI_COMMAND is code 4', async () => {
  await failsWith('GC', config('1.0.0'), 4, 'unknown CNI_COMMAND: GC');
  await failsWith('STATUS', config('1.0.0'), 4, 'unknown CNI_COMMAND: STATUS');
  const r = await failsWith('', config('0.4.0'), 4, 'required env variables [CNI_COMMAND] missing');
  assert.equal(r.json.cniVersion, '0.4.0');
});
