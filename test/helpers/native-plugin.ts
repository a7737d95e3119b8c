// The native CNI plugin as the runtime runs it — installed by `ts-dhcp install` into a CNI bin dir of its own — and
// a daemon serving only the `cni` method with the real CNI layer (daemon/cni/plugin.ts) in front of fake leases.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { install, parseInstallArgs } from '../../client/install';
import { runCni, LeaseService } from '../../daemon/cni/plugin';
import { createLogger } from '../../daemon/log';
import { serveRpc } from '../../daemon/rpc-server';
import { cniParams } from '../../daemon/rpc-params';
import type { Methods } from '../../common/rpc';

let installed: string | undefined;

/** `ts-dhcp install --cni-bin-dir <temp>` once per test process; the path of the installed plugin. */
export function installedPlugin(): string {
  if (installed) return installed;
  const dir = mkdtempSync(join(tmpdir(), 'ts-dhcp-cnibin-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const o = parseInstallArgs(['--cni-bin-dir', dir]);
  if (o instanceof Error) throw o;
  const r = install(o);
  if (r.code !== 0) throw new Error(r.lines.join('\n'));
  installed = join(dir, 'ts-dhcp');
  return installed;
}

export interface PluginRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the plugin with exactly `env` (no PATH unless given), `stdin` (null: no stdin at all) and a kill deadline. */
export function execPlugin(
  env: Record<string, string | undefined>,
  stdin: Buffer | string | null,
  opts: { bin?: string; args?: string[]; cwd?: string; killAfterMs?: number } = {},
): Promise<PluginRun> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) clean[k] = v;
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(opts.bin ?? installedPlugin(), opts.args ?? [], {
      env: clean,
      cwd: opts.cwd,
      stdio: [stdin === null ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      });
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // the plugin may stop reading an oversize config
      child.stdin.end(stdin);
    }
  });
}

export interface CniDaemon {
  socketPath: string;
  /** Errors that were not CNI errors (bugs), as runCni reported them. */
  bugs: unknown[];
  /** Each invocation's verb and CNI code, as runCni reported them (what the metrics count). */
  answers: [string, number][];
  close(): Promise<void>;
}

/** The daemon's `cni` method on a fresh socket, the lease service faked. */
export async function cniDaemon(leases: LeaseService): Promise<CniDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'ts-dhcp-cnid-'));
  const socketPath = join(dir, 'd.sock');
  const bugs: unknown[] = [];
  const answers: [string, number][] = [];
  const server: Server = createServer();
  const open = new Set<Socket>();
  server.on('connection', (sock) => {
    open.add(sock);
    sock.on('close', () => open.delete(sock));
  });
  serveRpc<Pick<Methods, 'cni'>>(
    server,
    {
      cni: {
        params: cniParams,
        run: (p) =>
          runCni(p, leases, { onBug: (e) => bugs.push(e), onAnswer: (verb, code) => answers.push([verb, code]) }),
      },
    },
    createLogger('silent'),
  );
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    bugs,
    answers,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const sock of open) sock.destroy();
        rmSync(dir, { recursive: true, force: true });
      }),
  };
}
