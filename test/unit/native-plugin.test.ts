// The native plugin as a process: how it reads stdin and env, what it decides without a daemon (the VERBS table in
// native/plugin/offline.c), and how it survives a daemon that misbehaves — always a CNI error JSON, never a hang.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test, TestContext } from 'node:test';
import { SUPPORTED_VERSIONS } from '../../daemon/cni/version';
import { MAX_CONFIG_BYTES, MAX_REQUEST_BYTES } from '../../common/rpc';
import { readSpool, spoolFile } from '../../common/spool';
import { cniDaemon, execPlugin, installedPlugin } from '../helpers/native-plugin';

const PLUGIN_DIR = resolve(__dirname, '../../../native/plugin');
const ATTACH = { CNI_CONTAINERID: 'c0ffee', CNI_NETNS: '/run/netns/pod1', CNI_IFNAME: 'eth1' };

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsq-native-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const conf = (socketPath: string, ipam: Record<string, unknown> = {}, cniVersion = '1.1.0') =>
  JSON.stringify({
    cniVersion,
    name: 'lan',
    type: 'macvlan',
    ipam: { type: 'ts-dhcp', daemonSocketPath: socketPath, ...ipam },
  });

function cniError(stdout: string): { cniVersion: string; code: number; msg: string; details?: string } {
  const e = JSON.parse(stdout) as { cniVersion: string; code: number; msg: string; details?: string };
  assert.equal(typeof e.code, 'number', stdout);
  assert.equal(typeof e.msg, 'string', stdout);
  return e;
}

/** A daemon that reads one request line and then does `behave` with the socket. */
async function rawDaemon(t: TestContext, behave: (sock: Socket, request: string) => void): Promise<string> {
  const path = join(tempDir(t), 'raw.sock');
  const server: Server = createServer((sock) => {
    let buf = '';
    sock.on('error', () => {});
    sock.on('data', (c) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) behave(sock, buf.slice(0, nl));
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return path;
}

test("the C table of versions is the daemon's list; VERSION (no daemon asked) echoes the config's cniVersion, else the latest", async () => {
  const r = await execPlugin({ CNI_COMMAND: 'VERSION' }, JSON.stringify({ cniVersion: '0.4.0' }));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { cniVersion: '0.4.0', supportedVersions: SUPPORTED_VERSIONS });
  const long = 'v'.repeat(61); // the longest cniVersion the plugin echoes: it fits its buffer exactly
  assert.equal(
    JSON.parse((await execPlugin({ CNI_COMMAND: 'VERSION' }, JSON.stringify({ cniVersion: long }))).stdout).cniVersion,
    long,
  );
  for (const stdin of [null, '', '{', '{"cniVersion":""}', Buffer.from([0xff, 0xfe])]) {
    const none = await execPlugin({ CNI_COMMAND: 'VERSION' }, stdin);
    assert.equal(none.code, 0, none.stderr);
    assert.deepEqual(JSON.parse(none.stdout), {
      cniVersion: SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1],
      supportedVersions: SUPPORTED_VERSIONS,
    });
  }
});

/** The p_type of every program header of a 64-bit little-endian ELF file. */
function programHeaderTypes(elf: Buffer): number[] {
  assert.equal(elf.subarray(0, 4).toString('latin1'), '\x7fELF');
  assert.equal(elf[4], 2, 'ELFCLASS64');
  assert.equal(elf[5], 1, 'little-endian');
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const size = elf.readUInt16LE(0x36);
  return Array.from({ length: elf.readUInt16LE(0x38) }, (_, i) => elf.readUInt32LE(phoff + i * size));
}

test('the installed plugin is a static ELF file under 1 MB: no interpreter, nothing to link at run time', () => {
  const bin = installedPlugin();
  assert.ok(statSync(bin).size <= 1_000_000, `${statSync(bin).size} bytes`);
  const types = programHeaderTypes(readFileSync(bin));
  assert.ok(types.includes(1), 'has PT_LOAD segments');
  assert.ok(!types.includes(3), 'no PT_INTERP');
  assert.ok(!types.includes(2), 'no PT_DYNAMIC');
});

test('without musl-gcc the plugin build stops and names the package, instead of building another way', (t) => {
  const out = tempDir(t);
  const r = spawnSync('make', ['-s', '-C', PLUGIN_DIR, `OUT=${out}`, 'MUSL_CC=/nonexistent/musl-gcc'], {
    encoding: 'utf8',
  });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /musl-gcc not found.*musl-tools/);
  assert.throws(() => statSync(join(out, 'ts-dhcp')));
});

test('a config larger than 1 MiB is code 6 for every verb but VERSION, without contacting anyone', async (t) => {
  let contacted = false;
  const path = await rawDaemon(t, () => (contacted = true));
  const big = JSON.stringify({
    cniVersion: '1.0.0',
    name: 'lan',
    ipam: { type: 'ts-dhcp', daemonSocketPath: path },
    pad: 'x'.repeat(MAX_CONFIG_BYTES),
  });
  for (const verb of ['ADD', 'DEL', 'CHECK', 'GC', 'STATUS']) {
    const r = await execPlugin({ ...ATTACH, CNI_COMMAND: verb }, big);
    assert.equal(r.code, 1);
    assert.equal(cniError(r.stdout).code, 6);
    assert.equal(cniError(r.stdout).msg, `the network config on stdin is larger than ${MAX_CONFIG_BYTES} bytes`);
  }
  assert.equal(contacted, false);
  // Just under the limit arrives whole (many pipe buffers), base64 and all within one request.
  assert.ok(Math.ceil(MAX_CONFIG_BYTES / 3) * 4 + 70_000 * 5 < MAX_REQUEST_BYTES);
  const d = await cniDaemon({} as never);
  t.after(() => d.close());
  const fits = conf(d.socketPath, { strict: true, pad: 'x'.repeat(MAX_CONFIG_BYTES - 200) });
  const r = await execPlugin({ ...ATTACH, CNI_COMMAND: 'ADD' }, fits);
  assert.equal(cniError(r.stdout).code, 2, 'the daemon read the whole config');
  assert.match(cniError(r.stdout).msg, /^ipam\.pad: unsupported field \(value "x+\.\.\.\)$/);
});

test('bytes that are not UTF-8 arrive as they were: the daemon names the byte (config) or the variable (env)', async (t) => {
  const d = await cniDaemon({} as never);
  t.after(() => d.close());
  // In a string the client reads, the client's own scanner catches it; elsewhere too (strict JSON).
  const bad = Buffer.concat([
    Buffer.from(
      `{"cniVersion":"1.0.0","name":"lan","ipam":{"type":"ts-dhcp","daemonSocketPath":"${d.socketPath}"},"x":"`,
    ),
    Buffer.from([0xc3, 0x28]),
    Buffer.from('"}'),
  ]);
  const r = await execPlugin({ ...ATTACH, CNI_COMMAND: 'ADD' }, bad);
  assert.equal(r.code, 1);
  assert.deepEqual(
    [cniError(r.stdout).code, cniError(r.stdout).msg],
    [6, `error parsing the network config on stdin: invalid UTF-8 at byte ${bad.indexOf(0xc3)}`],
  );
  // Node writes env values as UTF-8: the shell puts the raw byte 0xff into CNI_ARGS.
  const sh = await execPlugin({ ...ATTACH, CNI_COMMAND: 'ADD' }, conf(d.socketPath), {
    bin: '/bin/sh',
    args: ['-c', `CNI_ARGS="$(printf 'A=\\377')" exec "$0"`, installedPlugin()],
  });
  assert.equal(sh.code, 1, sh.stdout);
  assert.deepEqual([cniError(sh.stdout).code, cniError(sh.stdout).msg], [4, 'CNI_ARGS is not valid UTF-8']);
});

test('absurd env values are code 4 naming the variable; an unknown CNI_COMMAND is code 4 without a daemon', async () => {
  const r = await execPlugin(
    { ...ATTACH, CNI_ARGS: 'A='.padEnd(100_000, 'x'), CNI_COMMAND: 'ADD' },
    conf('/run/tsq-none.sock'),
  );
  assert.equal(r.code, 1);
  assert.deepEqual([cniError(r.stdout).code, cniError(r.stdout).msg], [4, 'CNI_ARGS is longer than 65536 bytes']);
  const u = await execPlugin({ CNI_COMMAND: 'FROB' }, conf('/run/tsq-none.sock', {}, '0.4.0'));
  assert.deepEqual(cniError(u.stdout), {
    cniVersion: '0.4.0',
    code: 4,
    msg: 'unknown CNI_COMMAND: FROB',
    details: 'ts-dhcp supports ADD, DEL, CHECK, STATUS, GC, VERSION',
  });
});

test('DEL without a daemon spools exactly the record common/spool.ts reads, at the path it computes', async (t) => {
  const stateDir = join(tempDir(t), 'state');
  const r = await execPlugin(
    { ...ATTACH, CNI_COMMAND: 'DEL', CNI_NETNS: undefined },
    conf(join(stateDir, 'none.sock'), { stateDir }, '0.3.1'),
  );
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
  const a = { containerId: 'c0ffee', network: 'lan', ifName: 'eth1' };
  const [entry] = await readSpool(stateDir);
  assert.deepEqual(entry, { file: spoolFile(stateDir, a), attachment: a });
  const record = JSON.parse(readFileSync(spoolFile(stateDir, a), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(record), ['version', 'containerId', 'network', 'ifName', 'at']);
  assert.ok(Math.abs(Date.parse(record.at as string) - Date.now()) < 10_000);
  assert.equal(statSync(stateDir).mode & 0o777, 0o700);
  assert.equal(statSync(spoolFile(stateDir, a)).mode & 0o777, 0o600);
});

test('a daemon that never answers: ADD gives up at ipam.timeout + 5 s with code 11; STATUS after 5 s with code 50', async (t) => {
  const path = await rawDaemon(t, () => {});
  const [add, status] = await Promise.all([
    execPlugin({ ...ATTACH, CNI_COMMAND: 'ADD' }, conf(path, { timeout: '200ms' })),
    execPlugin({ CNI_COMMAND: 'STATUS' }, conf(path)),
  ]);
  assert.equal(add.code, 1);
  assert.deepEqual(cniError(add.stdout), {
    cniVersion: '1.1.0',
    code: 11,
    msg: 'ts-dhcp daemon did not answer ADD within 5200 ms',
    details: `socket ${path}`,
  });
  assert.ok(add.ms >= 5100 && add.ms < 9000, `${add.ms} ms`);
  assert.equal(cniError(status.stdout).code, 50);
  assert.equal(
    cniError(status.stdout).msg,
    `ts-dhcp daemon not available at ${path}: ts-dhcp daemon did not answer STATUS within 5 s`,
  );
});

test('a daemon that closes without answering, mid-answer, or answers garbage: a CNI error every time', async (t) => {
  const cases: [string, (s: Socket) => void, number, RegExp][] = [
    ['closes', (s) => s.end(), 11, /^ts-dhcp daemon closed the connection without answering ADD$/],
    [
      'mid-answer',
      (s) => s.end('{"jsonrpc":"2.0","id":1,"result":{"stdout":"{\\"ips'),
      103,
      /^ts-dhcp daemon sent a malformed reply to ADD: not JSON \(unterminated string at byte \d+\)$/,
    ],
    ['garbage', (s) => s.end('\x00\x01 nonsense\n'), 103, /^ts-dhcp daemon sent a malformed reply to ADD: not JSON/],
    ['no result', (s) => s.end('{"jsonrpc":"2.0","id":1}\n'), 103, /neither "result" nor "error"/],
    [
      'bad exit code',
      (s) => s.end('{"jsonrpc":"2.0","id":1,"result":{"stdout":"","exitCode":300}}\n'),
      103,
      /result without stdout and exitCode/,
    ],
    [
      'rpc error',
      (s) =>
        s.end('{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"request larger than 2097152 bytes"}}\n'),
      102,
      /^ts-dhcp daemon error on ADD: request larger than 2097152 bytes$/,
    ],
  ];
  for (const [name, behave, code, msg] of cases) {
    const path = await rawDaemon(t, (s) => behave(s));
    const r = await execPlugin({ ...ATTACH, CNI_COMMAND: 'ADD' }, conf(path));
    assert.equal(r.code, 1, name);
    assert.equal(r.signal, null, name);
    const e = cniError(r.stdout);
    assert.equal(e.code, code, `${name}: ${r.stdout}`);
    assert.match(e.msg, msg, name);
  }
});

test('the request: method "cni", the CNI_* variables, stdin and cwd in base64, nothing else of the environment', async (t) => {
  let request = '';
  const path = await rawDaemon(t, (s, line) => {
    request = line;
    s.end('{"jsonrpc":"2.0","id":1,"result":{"stdout":"{\\"x\\":\\"\\u00e9\\\\n\\"}\\n","exitCode":7}}\n');
  });
  const stdin = conf(path);
  const cwd = tempDir(t);
  const r = await execPlugin({ ...ATTACH, CNI_COMMAND: 'ADD', CNI_PATH: '/opt/cni/bin', SECRET: 'x' }, stdin, { cwd });
  assert.deepEqual([r.code, r.stdout], [7, '{"x":"é\\n"}\n']);
  const req = JSON.parse(request) as {
    jsonrpc: string;
    id: number;
    method: string;
    params: { env: Record<string, string>; stdin: string; cwd: string };
  };
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  assert.deepEqual(req, {
    jsonrpc: '2.0',
    id: 1,
    method: 'cni',
    params: {
      env: {
        CNI_COMMAND: b64('ADD'),
        CNI_CONTAINERID: b64('c0ffee'),
        CNI_NETNS: b64('/run/netns/pod1'),
        CNI_IFNAME: b64('eth1'),
      },
      stdin: b64(stdin),
      cwd: b64(cwd),
    },
  });
});

test('bin/ts-dhcp with CNI_COMMAND runs the same native plugin (development use)', () => {
  const bin = resolve(__dirname, '../../../bin/ts-dhcp');
  const r = spawnSync(process.execPath, [bin], {
    env: { CNI_COMMAND: 'VERSION' },
    input: '{"cniVersion":"0.3.1"}',
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { cniVersion: '0.3.1', supportedVersions: SUPPORTED_VERSIONS });
  const down = spawnSync(process.execPath, [bin], {
    env: { ...ATTACH, CNI_COMMAND: 'ADD' },
    input: conf('/run/tsq-none.sock'),
    encoding: 'utf8',
  });
  assert.equal(down.status, 1);
  assert.equal(cniError(down.stdout).code, 11);
});
