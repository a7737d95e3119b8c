// The daemon as a process: flags in both spellings, the socket file's mode, the pidfile, stale and live sockets,
// clean stop. No namespaces needed.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { call } from '../../client/rpc-client';
import { writeSpool } from '../helpers/spool';

const BIN = path.resolve(__dirname, '../../../bin/ts-dhcp');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-dhcp-proc-'));
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  output(): string;
  exit: Promise<number | null>;
}

function daemon(args: string[]): Run {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const child = spawn(process.execPath, [BIN, 'daemon', '--state-dir', path.join(tmp, 'state'), ...args], { env });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exit };
}

async function until(what: string, probe: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function stop(r: Run): Promise<number | null> {
  r.child.kill('SIGTERM');
  return r.exit;
}

for (const [label, flag] of [
  ['reference spelling', '-socketpath'],
  ['GNU spelling', '--socket-path'],
] as const) {
  test(`daemon ${flag} P serves on P (${label}); socket 0600 in a 0700 dir; SIGTERM removes socket and pidfile`, async () => {
    const dir = path.join(tmp, label.replace(/ /g, '-'));
    const sock = path.join(dir, 'x.sock');
    const pidfile = path.join(tmp, `${label}.pid`);
    const r = daemon([flag, sock, '-pidfile', pidfile]);
    await until('socket', () => fs.existsSync(sock));
    assert.equal(fs.statSync(sock).mode & 0o777, 0o600);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    await until('pidfile', () => fs.existsSync(pidfile));
    assert.equal(fs.readFileSync(pidfile, 'utf8').trim(), String(r.child.pid));
    const status = await call(sock, 'status', {}, { timeoutMs: 5000 });
    assert.equal(status.pid, r.child.pid);
    assert.equal(status.socketPath, sock);
    assert.equal(await stop(r), 0);
    assert.ok(!fs.existsSync(sock), 'socket removed');
    assert.ok(!fs.existsSync(pidfile), 'pidfile removed');
  });
}

test('a stale socket file from a crashed daemon is replaced', async () => {
  const sock = path.join(tmp, 'stale.sock');
  const r1 = daemon(['--socket-path', sock]);
  await until('socket', () => fs.existsSync(sock));
  r1.child.kill('SIGKILL');
  await r1.exit;
  assert.ok(fs.existsSync(sock), 'kill -9 leaves the socket file behind');
  const r2 = daemon(['--socket-path', sock]);
  await until('stale socket replaced', () => r2.output().includes('removed a stale socket file'));
  await until('serving', () => r2.output().includes('"serving"'));
  assert.equal((await call(sock, 'status', {}, { timeoutMs: 5000 })).pid, r2.child.pid);
  assert.equal(await stop(r2), 0);
});

test("a live daemon's socket is never taken over", async () => {
  const sock = path.join(tmp, 'live.sock');
  const r1 = daemon(['--socket-path', sock]);
  await until('socket', () => fs.existsSync(sock));
  const r2 = daemon(['--socket-path', sock]);
  assert.equal(await r2.exit, 1);
  assert.match(r2.output(), /another daemon is already serving on/);
  assert.equal((await call(sock, 'status', {}, { timeoutMs: 5000 })).pid, r1.child.pid);
  assert.equal(await stop(r1), 0);
});

test('a path that is not a socket is refused, not deleted', async () => {
  const file = path.join(tmp, 'regular');
  fs.writeFileSync(file, 'keep me');
  const r = daemon(['--socket-path', file]);
  assert.equal(await r.exit, 1);
  assert.match(r.output(), /exists and is not a socket/);
  assert.equal(fs.readFileSync(file, 'utf8'), 'keep me');
});

test('bad flags exit 2 with a message naming the flag', async () => {
  const r = daemon(['-timeout', 'soon']);
  assert.equal(await r.exit, 2);
  assert.match(r.output(), /-timeout: invalid duration "soon"/);
});

test('garbage on the socket gets JSON-RPC errors and the daemon keeps serving', async () => {
  const sock = path.join(tmp, 'garbage.sock');
  const r = daemon(['--socket-path', sock]);
  await until('socket', () => fs.existsSync(sock));
  const replies = await new Promise<string>((resolve) => {
    const c = net.createConnection(sock);
    let got = '';
    c.on('data', (d) => {
      got += d;
      if (got.split('\n').length > 5) {
        c.destroy();
        resolve(got);
      }
    });
    c.write(
      'not json\n{"jsonrpc":"2.0","id":1,"method":"nope"}\n{"jsonrpc":"2.0","id":2,"method":"cni","params":{"env":5}}\n{"jsonrpc":"2.0","id":3,"method":"add","params":{}}\n[1,2]\n',
    );
  });
  const lines = replies
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: unknown; error?: { code: number; message: string } });
  assert.equal(lines.length, 5);
  assert.ok(
    lines.every((l) => l.error),
    replies,
  );
  const byId = new Map(lines.map((l) => [l.id, l.error]));
  assert.equal(lines[0]?.error?.code, -32700, 'parse error');
  assert.equal(byId.get(1)?.code, -32601);
  assert.equal(byId.get(2)?.code, 7);
  assert.equal(byId.get(2)?.message, 'invalid params: env must be an object');
  assert.equal(byId.get(3)?.code, -32601, 'the plugin sends the whole invocation (cni): there is no add method');
  assert.equal((await call(sock, 'status', {}, { timeoutMs: 5000 })).pid, r.child.pid);
  assert.equal(await stop(r), 0);
});

test('a DEL spooled while the daemon runs is carried out at the next --check-interval, not only at start', async () => {
  const sock = path.join(tmp, 'spool.sock');
  const r = daemon(['--socket-path', sock, '--check-interval', '200ms']);
  await until('socket', () => fs.existsSync(sock));
  const file = await writeSpool(path.join(tmp, 'state'), { containerId: 'late', network: 'lan', ifName: 'eth1' });
  await until(
    'the spooled DEL to be carried out',
    () => !fs.existsSync(file) && r.output().includes('spooled DEL carried out'),
  );
  assert.equal(await stop(r), 0);
});
