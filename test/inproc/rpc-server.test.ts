// The RPC server's limits on a real unix socket (issue 13): idle connections closed and capped without starving a
// new request, one request at a time per connection, answers written only as fast as the client reads them, the
// size limit in bytes; and who may connect (SO_PEERCRED, with injected credentials here).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { DaemonError } from '../../daemon/errors';
import { createLogger } from '../../daemon/log';
import { peerAuthorizer, resolveGroup } from '../../daemon/peer-auth';
import type { Methods } from '../../common/rpc';
import { leaseParams, noParams } from '../../daemon/rpc-params';
import { DEFAULT_RPC_LIMITS, Handlers, RpcLimits, serveRpc } from '../../daemon/rpc-server';

type Contract = Record<string, { params: unknown; result: unknown }>;

/** Serves `handlers` (params taken as they come, unless a checker is given) on a fresh socket. */
async function serve(
  t: { after(fn: () => unknown): void },
  runs: Record<string, () => Promise<unknown>>,
  limits: Partial<RpcLimits> = {},
  handlers: Handlers<Contract> = {},
): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-dhcp-rpc-'));
  const sock = path.join(dir, 's.sock');
  const server = net.createServer();
  for (const [method, run] of Object.entries(runs)) handlers[method] = { params: (raw) => raw, run };
  serveRpc<Contract>(server, handlers, createLogger('silent'), undefined, { ...DEFAULT_RPC_LIMITS, ...limits });
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  t.after(() => {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return sock;
}

function connect(sock: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(sock, () => resolve(c));
    c.once('error', reject);
  });
}

/** Sends one request and resolves with the first answer line. */
async function call(sock: string, method: string, id = 1): Promise<Record<string, unknown>> {
  const c = await connect(sock);
  c.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params: {} })}\n`);
  let text = '';
  for await (const chunk of c) {
    text += chunk;
    if (text.includes('\n')) break;
  }
  c.destroy();
  return JSON.parse(text.slice(0, text.indexOf('\n')));
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('600 idle connections: an ADD is served meanwhile, and every idle one is closed', async (t) => {
  const sock = await serve(t, { status: async () => ({ pid: 1 }) }, { idleTimeoutMs: 1500 });
  const idle: net.Socket[] = [];
  let closed = 0;
  for (let i = 0; i < 600; i++) {
    const c = await connect(sock);
    c.on('error', () => {});
    c.on('close', () => closed++);
    idle.push(c);
  }
  t.after(() => idle.forEach((c) => c.destroy()));
  assert.deepEqual((await call(sock, 'status')).result, { pid: 1 });
  assert.ok(
    closed >= 600 - DEFAULT_RPC_LIMITS.maxConnections,
    `the cap closed the longest-idle ones (${closed} closed)`,
  );
  await until('every idle connection to be closed', () => closed === 600);
});

test('one request at a time per connection: a pipelined second request waits for the first answer', async (t) => {
  let running = 0;
  let most = 0;
  const sock = await serve(t, {
    slow: async () => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 50));
      running--;
      return { done: true };
    },
  });
  const c = await connect(sock);
  t.after(() => c.destroy());
  c.write([1, 2, 3, 4].map((id) => `${JSON.stringify({ jsonrpc: '2.0', id, method: 'slow' })}\n`).join(''));
  let text = '';
  c.setEncoding('utf8').on('data', (d: string) => (text += d));
  await until('four answers', () => text.split('\n').length > 4);
  assert.equal(most, 1);
  assert.deepEqual(
    text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id),
    [1, 2, 3, 4],
  );
});

test('backpressure: a client that never reads gets no more answers computed than the socket can hold', async (t) => {
  let served = 0;
  const big = 'x'.repeat(256 * 1024);
  const sock = await serve(t, {
    big: async () => {
      served++;
      return { big };
    },
  });
  const c = await connect(sock);
  t.after(() => c.destroy());
  c.pause();
  c.write(
    Array.from({ length: 200 }, (_, i) => `${JSON.stringify({ jsonrpc: '2.0', id: i, method: 'big' })}\n`).join(''),
  );
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(served < 20, `${served} answers of 256 KiB computed for a client that reads nothing`);
  let got = 0;
  c.setEncoding('utf8').on('data', (d: string) => (got += d.split('\n').length - 1));
  c.resume();
  await until('all 200 answers once the client reads', () => got === 200, 20_000);
});

test("a daemon failure is a JSON-RPC error with its kind's CNI code and its message; anything else is an internal error", async (t) => {
  const sock = await serve(t, {
    gone: async () => {
      throw new DaemonError('no-lease', 'no lease for c1/lan/eth1');
    },
    bug: async () => {
      throw new TypeError('x is undefined');
    },
  });
  assert.deepEqual((await call(sock, 'gone')).error, { code: 100, message: 'no lease for c1/lan/eth1' });
  assert.deepEqual((await call(sock, 'bug')).error, { code: -32603, message: 'internal error: x is undefined' });
});

test('params are checked before the method runs: a bad one is a JSON-RPC error naming the field', async (t) => {
  let ran = 0;
  const sock = await serve(
    t,
    {},
    {},
    {
      lease: {
        params: leaseParams,
        run: async () => {
          ran++;
          return {};
        },
      },
    },
  );
  assert.deepEqual((await call(sock, 'lease')).error, {
    code: 7,
    message: 'invalid params: containerId must be a non-empty string',
  });
  assert.equal(ran, 0);
});

test('the handler table is typed by the contract: a wrong params checker or result does not compile', () => {
  const facts = {
    address: '198.19.0.5',
    prefixLength: 24,
    routes: [],
    dns: { nameservers: [], search: [] },
    serverId: '198.19.0.1',
    leaseTimeS: 60,
  };
  const handlers: Handlers<Pick<Methods, 'lease' | 'leases'>> = {
    lease: {
      // @ts-expect-error: lease takes an attachment, not "no params"
      params: noParams,
      run: async () => ({
        containerId: 'c',
        network: 'n',
        ifName: 'e',
        family: 'ipv4',
        netns: '/n',
        args: {},
        mac: '',
        state: 'BOUND',
        facts,
        transitions: [],
      }),
    },
    // @ts-expect-error: leases answers a list of lease views
    leases: { params: noParams, run: async () => ({ leases: [] }) },
  };
  assert.deepEqual(Object.keys(handlers), ['lease', 'leases']);
});

test('the request size limit counts bytes, not characters', async (t) => {
  const sock = await serve(t, { status: async () => ({}) }, { maxRequestBytes: 1000 });
  const c = await connect(sock);
  c.write('é'.repeat(600)); // 1200 bytes, 600 characters
  let text = '';
  for await (const chunk of c) text += chunk;
  assert.match(JSON.parse(text.trim()).error.message, /request larger than 1000 bytes/);
});

test('peer credentials: root and the daemon user pass; others only through the configured group', () => {
  const sock = { _handle: { fd: 7 } } as unknown as net.Socket;
  const as =
    (uid: number, gid: number, groups: number[] = []) =>
    (allowed?: number) =>
      peerAuthorizer(
        allowed,
        () => ({ pid: 42, uid, gid }),
        () => groups,
      )(sock);
  assert.equal(as(0, 0)(), undefined);
  assert.match(as(1000, 1000)() ?? '', /uid 1000 \(pid 42\) is neither root$/);
  assert.match(as(1000, 1000)(2000) ?? '', /nor in group 2000/);
  assert.equal(as(1000, 2000)(2000), undefined, 'primary group');
  assert.equal(as(1000, 1000, [5, 2000])(2000), undefined, 'supplementary group');
  assert.match(peerAuthorizer(undefined)({} as net.Socket) ?? '', /no descriptor/);
  assert.equal(resolveGroup('0'), 0);
  assert.equal(resolveGroup('root'), 0);
  assert.match(String(resolveGroup('no-such-group-x')), /no group "no-such-group-x"/);
});
