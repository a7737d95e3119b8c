import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, TestContext } from 'node:test';
import { CniError } from '../../daemon/cni/errors';
import { call } from '../../client/rpc-client';
import { cniInvocation } from '../helpers/cni-invocation';

const invocation = cniInvocation(
  { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c0ffee', CNI_NETNS: '/run/netns/pod1', CNI_IFNAME: 'eth1' },
  { cniVersion: '1.0.0', name: 'lan' },
);
const output = { stdout: '{"cniVersion":"1.0.0","ips":[{"address":"198.19.0.57/22"}]}\n', exitCode: 0 };
const attachment = { containerId: 'c', network: 'lan', ifName: 'eth1' };

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ts-dhcp-rpc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A one-connection-at-a-time fake daemon: `onRequest` gets the parsed request line and the socket. */
async function fakeDaemon(
  t: TestContext,
  onRequest: (req: Record<string, unknown>, sock: Socket) => void,
): Promise<string> {
  const path = join(tempDir(t), 'd.sock');
  const server = createServer((sock) => {
    let buf = '';
    sock.on('data', (c) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) onRequest(JSON.parse(buf.slice(0, nl)), sock);
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return path;
}

async function callError(p: Promise<unknown>): Promise<CniError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CniError, String(e));
    return e;
  }
  assert.fail('expected the call to fail');
}

test('success: one JSON-RPC 2.0 request line out, the result back', async (t) => {
  let seen: Record<string, unknown> | undefined;
  const path = await fakeDaemon(t, (req, sock) => {
    seen = req;
    sock.end(`${JSON.stringify({ jsonrpc: '2.0', id: req.id, result: output })}\n`);
  });
  const result = await call(path, 'cni', invocation, { timeoutMs: 2000 });
  assert.deepEqual(result, output);
  assert.deepEqual(seen, { jsonrpc: '2.0', id: 1, method: 'cni', params: invocation });
});

test('a reply without the final newline, followed by close, is still the reply', async (t) => {
  const path = await fakeDaemon(t, (req, sock) => sock.end(JSON.stringify({ jsonrpc: '2.0', id: req.id, result: [] })));
  assert.deepEqual(await call(path, 'leases', {}, { timeoutMs: 2000 }), []);
});

test('a reply split over several writes is reassembled', async (t) => {
  const path = await fakeDaemon(t, (req, sock) => {
    const line = `${JSON.stringify({ jsonrpc: '2.0', id: req.id, result: output })}\n`;
    sock.write(line.slice(0, 10));
    setTimeout(() => sock.end(line.slice(10)), 20);
  });
  assert.deepEqual(await call(path, 'cni', invocation, { timeoutMs: 2000 }), output);
});

test('a daemon error with a CNI code keeps code, message and data.details', async (t) => {
  const path = await fakeDaemon(t, (req, sock) =>
    sock.end(
      `${JSON.stringify({ jsonrpc: '2.0', id: req.id, error: { code: 11, message: 'no lease within 30s', data: { details: 'no OFFER' } } })}\n`,
    ),
  );
  const e = await callError(call(path, 'cni', invocation, { timeoutMs: 2000 }));
  assert.deepEqual([e.code, e.msg, e.details], [11, 'no lease within 30s', 'no OFFER']);
});

test('data as a plain string is the details; ts-dhcp codes (100+) pass through too', async (t) => {
  const path = await fakeDaemon(t, (req, sock) =>
    sock.end(
      `${JSON.stringify({ jsonrpc: '2.0', id: req.id, error: { code: 100, message: 'no lease for c/lan/eth1', data: 'DEL it and ADD again' } })}\n`,
    ),
  );
  const e = await callError(call(path, 'lease', attachment, { timeoutMs: 2000 }));
  assert.deepEqual([e.code, e.msg, e.details], [100, 'no lease for c/lan/eth1', 'DEL it and ADD again']);
});

test('a JSON-RPC protocol error (negative code) is a daemon error, code 102', async (t) => {
  const path = await fakeDaemon(t, (req, sock) =>
    sock.end(
      `${JSON.stringify({ jsonrpc: '2.0', id: req.id, error: { code: -32601, message: 'unknown method "cni"' } })}\n`,
    ),
  );
  const e = await callError(call(path, 'cni', invocation, { timeoutMs: 2000 }));
  assert.equal(e.code, 102);
  assert.equal(e.msg, 'ts-dhcp daemon error on "cni": unknown method "cni"');
  assert.equal(e.details, 'JSON-RPC error -32601');
});

test('an error reply with id null (the daemon could not parse us) is still reported', async (t) => {
  const path = await fakeDaemon(t, (_req, sock) =>
    sock.end(`${JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } })}\n`),
  );
  assert.equal((await callError(call(path, 'status', {}, { timeoutMs: 2000 }))).code, 102);
});

test('malformed replies are code 103, saying what is wrong', async (t) => {
  const replies: [string, RegExp][] = [
    ['this is not json\n', /not JSON: "this is not json"/],
    ['[1,2]\n', /not a JSON object/],
    [`${JSON.stringify({ jsonrpc: '1.0', id: 1, result: {} })}\n`, /not JSON-RPC 2\.0/],
    [`${JSON.stringify({ jsonrpc: '2.0', id: 7, result: {} })}\n`, /reply id 7 is not the request's 1/],
    [`${JSON.stringify({ jsonrpc: '2.0', id: 1 })}\n`, /neither "result" nor "error"/],
    [`${JSON.stringify({ jsonrpc: '2.0', id: 1, error: 'bad' })}\n`, /"error" is not an object/],
    [
      `${JSON.stringify({ jsonrpc: '2.0', id: 1, error: { code: 'x', message: 'm' } })}\n`,
      /error without an integer code/,
    ],
  ];
  for (const [reply, why] of replies) {
    const path = await fakeDaemon(t, (_req, sock) => sock.end(reply));
    const e = await callError(call(path, 'status', {}, { timeoutMs: 2000 }));
    assert.equal(e.code, 103, reply);
    assert.match(e.msg, /^ts-dhcp daemon sent a malformed reply to "status": /);
    assert.match(e.msg, why);
  }
});

test('daemon absent (no socket file): code 11 with how to start it', async (t) => {
  const path = join(tempDir(t), 'none.sock');
  const e = await callError(call(path, 'cni', invocation, { timeoutMs: 2000 }));
  assert.equal(e.code, 11);
  assert.equal(
    e.msg,
    `ts-dhcp daemon is not running: cannot connect to ${path} (start it with "ts-dhcp daemon" or "systemctl enable --now ts-dhcp.socket")`,
  );
  assert.match(e.details ?? '', /^ENOENT/);
});

test('daemon gone, stale socket file left behind (ECONNREFUSED): same code 11 message', async (t) => {
  const dir = tempDir(t);
  const live = join(dir, 'live.sock');
  const stale = join(dir, 'stale.sock');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(live, resolve));
  renameSync(live, stale); // keep the socket file after the listener is gone, as after kill -9
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const e = await callError(call(stale, 'cni', invocation, { timeoutMs: 2000 }));
  assert.equal(e.code, 11);
  assert.match(e.msg, /^ts-dhcp daemon is not running: cannot connect to /);
  assert.match(e.details ?? '', /^ECONNREFUSED/);
});

test('no permission on the socket: code 5 saying so', async (t) => {
  const path = await fakeDaemon(t, () => {});
  chmodSync(path, 0o600);
  // Root passes permission checks: ask as an unprivileged user from a child process.
  const script = `require(${JSON.stringify(require.resolve('../../client/rpc-client'))}).call(${JSON.stringify(path)}, 'status', {}, { timeoutMs: 2000 })
    .then(() => console.log('{}'), (e) => console.log(JSON.stringify({ code: e.code, msg: e.msg })))`;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) chmodSync(path, 0o000);
  chmodSync(join(path, '..'), 0o755);
  const out = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    ...(isRoot ? { uid: 65534, gid: 65534 } : {}),
  });
  const e = JSON.parse(out.stdout) as { code: number; msg: string };
  assert.equal(e.code, 5, out.stderr);
  assert.equal(
    e.msg,
    `permission denied connecting to the ts-dhcp daemon at ${path}: the socket is for root only (mode 0600)`,
  );
});

test('no answer within the deadline: code 11 naming the deadline', async (t) => {
  const path = await fakeDaemon(t, () => {}); // reads the request, never answers
  const started = Date.now();
  const e = await callError(call(path, 'cni', invocation, { timeoutMs: 200 }));
  assert.ok(Date.now() - started >= 190);
  assert.equal(e.code, 11);
  assert.equal(e.msg, 'ts-dhcp daemon did not answer "cni" within 200 ms');
  assert.equal(e.details, `socket ${path}`);
  const e2 = await callError(call(path, 'status', {}, { timeoutMs: 1000 }));
  assert.equal(e2.msg, 'ts-dhcp daemon did not answer "status" within 1 s');
});

test('the daemon closes without answering: code 11', async (t) => {
  const path = await fakeDaemon(t, (_req, sock) => sock.end());
  const e = await callError(call(path, 'cni', invocation, { timeoutMs: 2000 }));
  assert.equal(e.code, 11);
  assert.equal(e.msg, 'ts-dhcp daemon closed the connection without answering "cni"');
});
