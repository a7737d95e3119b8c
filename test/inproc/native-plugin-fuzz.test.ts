// Fuzzing the native plugin's input handling: thousands of mutated and random configs, environments and daemon
// replies thrown at a build with AddressSanitizer and UBSan (make -C native/plugin asan). Every run must end by
// itself, without a signal or a sanitizer report, and with a CNI error JSON whenever it fails. Seeded: a failure
// prints the seed and the input that caused it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { DaemonError } from '../../daemon/errors';
import type { LeaseService } from '../../daemon/cni/plugin';
import { seededRng } from '../../daemon/dhcp/rng';
import { cniDaemon, execPlugin } from '../helpers/native-plugin';

const PLUGIN_DIR = resolve(__dirname, '../../../native/plugin');
const ASAN_BIN = resolve(__dirname, '../../../native/build/plugin/ts-dhcp-asan');
// 1000 a run (a fresh seed each time) fits the tier's time limit on a loaded 2-core machine; FUZZ_RUNS for more.
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const PARALLEL = 4;

type Rng = () => number;
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
const int = (rng: Rng, n: number) => Math.floor(rng() * n);

const FRAGMENTS = [
  '{',
  '}',
  '[',
  ']',
  '"',
  '\\',
  '\\u',
  '\\ud800',
  '\\udc00',
  '\\u0000',
  ':',
  ',',
  'null',
  'true',
  '1e999',
  '-0',
  '0x1',
  '"cniVersion"',
  '"ipam"',
  '"timeout"',
  '"daemonSocketPath"',
  '"name"',
  '"1.1.0"',
  '"9999h"',
  '"1.5.3s"',
  '\u00e9',
  '\ud83d\ude00',
  ' ',
  '\n',
];

function mutate(rng: Rng, text: string): Buffer {
  let b = Buffer.from(text);
  for (let n = 1 + int(rng, 4); n > 0; n--) {
    const at = int(rng, b.length + 1);
    switch (int(rng, 6)) {
      case 0: // flip a byte
        if (b.length > 0) b[Math.min(at, b.length - 1)] = int(rng, 256);
        break;
      case 1: // truncate
        b = b.subarray(0, at);
        break;
      case 2: // insert a fragment
        b = Buffer.concat([b.subarray(0, at), Buffer.from(pick(rng, FRAGMENTS)), b.subarray(at)]);
        break;
      case 3: // insert raw bytes (invalid UTF-8 likely)
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from(Array.from({ length: 1 + int(rng, 4) }, () => int(rng, 256))),
          b.subarray(at),
        ]);
        break;
      case 4: // delete a span
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + int(rng, 8))]);
        break;
      default: // duplicate a span
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + int(rng, 64)), b.subarray(at)]);
    }
  }
  return b;
}

function randomConfig(rng: Rng, socketPath: string, stateDir: string): string {
  const ipam: Record<string, unknown> = { type: 'ts-dhcp', daemonSocketPath: socketPath, stateDir };
  if (rng() < 0.3)
    ipam.timeout = pick(rng, ['100ms', '1h', '1h0m1s', '.5s', '5', 250, 1e308, -1, 'x', '', '0', '3\u00b5s', null]);
  if (rng() < 0.2) ipam.extra = 'x'.repeat(int(rng, 5000));
  const top: Record<string, unknown> = {
    cniVersion: pick(rng, [
      '0.1.0',
      '0.3.1',
      '0.4.0',
      '1.0.0',
      '1.1.0',
      '',
      '1.2.0',
      7,
      '"\\',
      'v'.repeat(int(rng, 80)),
      '\u00e9'.repeat(int(rng, 40)),
    ]),
    name: pick(rng, ['lan', '', 'a/b', 'x'.repeat(300), 5]),
    type: 'macvlan',
    ipam,
  };
  if (rng() < 0.2) top.prevResult = { ips: [{ address: '198.19.0.57/22' }] };
  if (rng() < 0.1) top.nest = JSON.parse('['.repeat(100) + ']'.repeat(100));
  if (rng() < 0.05) return '['.repeat(200 + int(rng, 200));
  return JSON.stringify(top);
}

function randomEnv(rng: Rng, verb: string): Record<string, string | undefined> {
  const value = (good: string) =>
    pick(rng, [
      good,
      good,
      good,
      '',
      undefined,
      'x'.repeat(int(rng, 100_000)),
      '../../etc',
      'a;b=c;=;',
      '\u00e9\u{1f600}',
    ]);
  return {
    CNI_COMMAND: verb,
    CNI_CONTAINERID: value('c0ffee'),
    CNI_NETNS: value('/run/netns/pod1'),
    CNI_IFNAME: value('eth1'),
    CNI_ARGS: value('K8S_POD_NAME=web-0'),
    // Leak checking costs ~100 ms a run: one run in ten.
    ASAN_OPTIONS: `abort_on_error=1:detect_leaks=${rng() < 0.1 ? 1 : 0}`,
    UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
  };
}

/** Daemon replies a misbehaving daemon could send: the bytes, sent once a request arrived. */
function randomReply(rng: Rng): Buffer {
  const valid = `{"jsonrpc":"2.0","id":1,"result":{"stdout":"{\\"cniVersion\\":\\"1.0.0\\"}\\n","exitCode":${int(rng, 3)}}}\n`;
  return pick(rng, [
    () => Buffer.alloc(0),
    () => Buffer.from(valid.slice(0, int(rng, valid.length))),
    () => mutate(rng, valid),
    () => Buffer.from(Array.from({ length: int(rng, 2000) }, () => int(rng, 256))),
    () =>
      Buffer.from(
        `{"jsonrpc":"2.0","id":1,"error":{"code":${pick(rng, [-32600, 7, 0, 1e9, '"x"'])},"message":${pick(rng, ['"m"', '5', '"\\ud800"'])},"data":{"details":"d"}}}\n`,
      ),
    () =>
      Buffer.from(`{"jsonrpc":"2.0","id":1,"result":{"stdout":"${'\\u00e9'.repeat(int(rng, 3000))}","exitCode":0}}\n`),
  ])();
}

/** Whether a reply holds a well-formed answer whose exit code the daemon chose (then stdout is the daemon's, not
 *  ours): the whole reply or any prefix of it ending in "}" (a mutation may leave bytes after the answer). */
function daemonChoseExit(reply: Buffer): boolean {
  const text = reply.toString('utf8');
  const ends = [text.length];
  for (let i = text.indexOf('}'); i >= 0; i = text.indexOf('}', i + 1)) ends.push(i + 1);
  return ends.some((end) => {
    try {
      const r = JSON.parse(text.slice(0, end)) as { result?: { exitCode?: unknown } };
      return typeof r?.result?.exitCode === 'number';
    } catch {
      return false;
    }
  });
}

test(
  `the sanitizer build survives ${RUNS} hostile inputs with a CNI error every time (seed ${SEED})`,
  { timeout: 280_000 },
  async (t) => {
    execFileSync('make', ['-s', '-C', PLUGIN_DIR, 'asan'], { stdio: 'pipe' });
    const dir = mkdtempSync(join(tmpdir(), 'tsq-fuzz-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const seeded = seededRng(SEED);
    const rng: Rng = () => seeded.next();
    const answers = [
      () => ({
        facts: {
          address: '198.19.0.5',
          prefixLength: 22,
          routes: [],
          dns: { nameservers: [], search: [] },
          serverId: '1.1.1.1',
          leaseTimeS: 60,
        },
      }),
      () => new DaemonError('timeout', 'later'),
      () => new TypeError('bug'),
      () => ({ released: [], errors: ['e'] }),
    ];
    const reply = async () => {
      const a = pick(rng, answers)();
      if (a instanceof Error) throw a;
      return a as never;
    };
    const real = await cniDaemon({ add: reply, del: reply, check: reply, gc: reply } as LeaseService);
    t.after(() => real.close());
    // One raw daemon per worker, so that a worker's reply is never another worker's.
    const raws = await Promise.all(
      Array.from({ length: PARALLEL }, async (_, w) => {
        const slot = { path: join(dir, `raw${w}.sock`), reply: Buffer.alloc(0) as Buffer, open: new Set<Socket>() };
        const server: Server = createServer((s) => {
          slot.open.add(s);
          s.on('close', () => slot.open.delete(s));
          s.on('error', () => {});
          s.once('data', () => s.end(slot.reply));
        });
        await new Promise<void>((r) => server.listen(slot.path, r));
        t.after(
          () =>
            new Promise<void>((r) => {
              server.close(() => r());
              for (const s of slot.open) s.destroy();
            }),
        );
        return slot;
      }),
    );

    const stateDir = join(dir, 'state');
    const verbs = ['ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION', '', 'add', 'X'.repeat(300)];
    let next = 0;
    let spooled = 0;
    const worker = async (w: number) => {
      const raw = raws[w]!;
      while (next < RUNS) {
        const i = next++;
        const daemon = pick(rng, ['none', 'real', 'raw'] as const);
        const socketPath = daemon === 'real' ? real.socketPath : daemon === 'raw' ? raw.path : join(dir, 'none.sock');
        if (daemon === 'raw') raw.reply = randomReply(rng);
        const verb = pick(rng, verbs);
        const config = randomConfig(rng, socketPath, stateDir);
        // A mutated config may name any stateDir: DEL (which writes there without a daemon) gets well-formed ones only.
        const stdin = verb === 'DEL' || rng() < 0.3 ? Buffer.from(config) : mutate(rng, config);
        const env = randomEnv(rng, verb);
        const r = await execPlugin(env, rng() < 0.05 ? null : stdin, { bin: ASAN_BIN, killAfterMs: 60_000 });
        const what = `run ${i} (seed ${SEED}): env ${JSON.stringify({ ...env, CNI_ARGS: env.CNI_ARGS?.slice(0, 80), CNI_CONTAINERID: env.CNI_CONTAINERID?.slice(0, 80) })} stdin ${JSON.stringify(stdin.toString('latin1').slice(0, 300))} daemon ${daemon}\nstdout ${r.stdout.slice(0, 500)}\nstderr ${r.stderr.slice(0, 3000)}`;
        assert.equal(r.signal, null, what);
        assert.equal(r.stderr, '', what);
        if (daemon === 'raw' && daemonChoseExit(raw.reply)) continue; // a well-formed reply chose exit code and stdout
        if (r.code === 0) {
          if (r.stdout !== '') JSON.parse(r.stdout);
          if (verb === 'DEL' && daemon === 'none') spooled++;
          continue;
        }
        assert.equal(r.code, 1, what);
        let e: { cniVersion?: unknown; code?: unknown; msg?: unknown };
        try {
          e = JSON.parse(r.stdout);
        } catch {
          assert.fail(`not a CNI error JSON: ${what}`);
        }
        assert.equal(typeof e.cniVersion, 'string', what);
        assert.ok(Number.isInteger(e.code), what);
        assert.equal(typeof e.msg, 'string', what);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, (_, w) => worker(w)));
    assert.ok(spooled > 0, 'some DELs without a daemon were spooled');
  },
);
