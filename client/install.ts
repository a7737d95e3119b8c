// `ts-dhcp install` / `ts-dhcp uninstall`: put the native CNI plugin (native/plugin, built by `npm ci`) into the CNI
// bin dir as ts-dhcp, and, with --systemd, the units that run this installation's daemon. The plugin is one static
// ELF file: a node needs neither Node.js nor this installation to run it. The unit names Node and the entry script
// by absolute path (systemd's environment has no PATH to find node).
// Idempotent: a file already as it should be is left alone; uninstall removes only files that are what install
// writes (--force removes them anyway, e.g. after the installation moved).
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export const DEFAULT_CNI_BIN_DIR = '/opt/cni/bin';
export const DEFAULT_UNIT_DIR = '/etc/systemd/system';

export interface InstallOptions {
  cniBinDir: string;
  systemd: boolean;
  unitDir: string;
  /** Prefix for every file written (an image being built, a test); the paths inside the files omit it. */
  root: string;
  force: boolean;
}

/** Where this installation is: the plugin to copy, and the interpreter and entry script the unit must name. */
export interface Origin {
  nodePath: string;
  entryScript: string;
  /** The native CNI plugin (native/plugin, built into native/build/plugin by `npm ci`). */
  plugin: string;
  /** The shipped unit files (systemd/ in the installation). */
  unitSource: string;
}

export function thisInstallation(): Origin {
  const repo = resolve(__dirname, '../..');
  return {
    nodePath: process.execPath,
    entryScript: join(repo, 'bin/ts-dhcp'),
    plugin: nativePluginPath(),
    unitSource: join(repo, 'systemd'),
  };
}

/** The native plugin of this installation. */
export function nativePluginPath(): string {
  return resolve(__dirname, '../../native/build/plugin/ts-dhcp');
}

export function parseInstallArgs(args: string[]): InstallOptions | Error {
  const o: InstallOptions = {
    cniBinDir: DEFAULT_CNI_BIN_DIR,
    systemd: false,
    unitDir: DEFAULT_UNIT_DIR,
    root: '/',
    force: false,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const eq = a.indexOf('=');
    const [flag, inline] = a.startsWith('--') && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const value = (): string | Error => {
      const v = inline ?? args[++i];
      if (!v) return new Error(`${flag} needs a value`);
      return v.startsWith('/') ? v : new Error(`${flag} needs an absolute path, not ${JSON.stringify(v)}`);
    };
    let v: string | Error | undefined;
    switch (flag) {
      case '--cni-bin-dir':
        v = o.cniBinDir = value() as string;
        break;
      case '--unit-dir':
        v = o.unitDir = value() as string;
        break;
      case '--root':
        v = o.root = value() as string;
        break;
      case '--systemd':
        o.systemd = true;
        break;
      case '--force':
        o.force = true;
        break;
      default:
        return new Error(`unknown argument ${JSON.stringify(a)}`);
    }
    if (v instanceof Error) return v;
  }
  return o;
}

/**
 * Node flags for the daemon process. A young generation capped at 1 MiB semi-spaces: V8 otherwise grows it to 16 MiB
 * semi-spaces during bursts of ADD/DEL and keeps it committed (npm run bench, 1000 leases: 100 MiB RSS, 58 private,
 * without; 74 MiB, 32 private, with). Lite mode (no optimising compilers): their code and data are never paged in,
 * 5-7 MiB less RSS at any number of leases, and the daemon's CPU per ADD is the same (interleaved A/B: its time goes
 * to system calls, not to hot JavaScript); WebAssembly, which lite mode turns off anyway, is off by name so that
 * node does not warn about it at every start. `gc` for the one full collection after a burst of CNI calls
 * (daemon/quiet-gc.ts). bin/ts-dhcp's #! line and deploy/Containerfile's ENTRYPOINT repeat this list
 * (test/unit/install.test.ts checks both).
 */
export const DAEMON_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=1',
  '--lite-mode',
  '--no-expose-wasm',
  '--expose-gc',
];

/** How systemd starts this installation's daemon: Node and the entry script by absolute path (systemd quoting). */
export function daemonCommand(origin: Origin): string {
  const q = (s: string) => (/^[A-Za-z0-9_./+-]+$/.test(s) ? s : `"${s.replace(/(["\\$%])/g, '\\$1')}"`);
  return [q(origin.nodePath), ...DAEMON_NODE_FLAGS, q(origin.entryScript)].join(' ');
}

/** The shipped unit with ExecStart's executable replaced by the command that runs this installation. */
export function serviceUnit(source: string, command: string): string {
  return source.replace(/^ExecStart=\S+/m, `ExecStart=${command}`);
}

interface PlannedFile {
  path: string; // as on the target system
  content: Buffer;
  mode: number;
}

function plan(o: InstallOptions, origin: Origin): PlannedFile[] | Error {
  if (!existsSync(origin.plugin))
    return new Error(`no native plugin at ${origin.plugin}: build it with "npm run build" (needs gcc and make)`);
  const files: PlannedFile[] = [
    { path: join(o.cniBinDir, 'ts-dhcp'), content: readFileSync(origin.plugin), mode: 0o755 },
  ];
  if (o.systemd) {
    const unit = (name: string) => readFileSync(join(origin.unitSource, name), 'utf8');
    files.push({ path: join(o.unitDir, 'ts-dhcp.socket'), content: Buffer.from(unit('ts-dhcp.socket')), mode: 0o644 });
    files.push({
      path: join(o.unitDir, 'ts-dhcp.service'),
      content: Buffer.from(serviceUnit(unit('ts-dhcp.service'), daemonCommand(origin))),
      mode: 0o644,
    });
  }
  return files;
}

const under = (root: string, p: string) => join(root, p);

function same(path: string, content: Buffer): boolean {
  try {
    return readFileSync(path).equals(content);
  } catch {
    return false;
  }
}

export interface Report {
  lines: string[];
  code: number;
}

export function install(o: InstallOptions, origin: Origin = thisInstallation()): Report {
  const files = plan(o, origin);
  if (files instanceof Error) return { lines: [`ts-dhcp install: ${files.message}`], code: 1 };
  const lines: string[] = [];
  for (const f of files) {
    const dest = under(o.root, f.path);
    if (same(dest, f.content)) {
      chmodSync(dest, f.mode);
      lines.push(`unchanged  ${f.path}`);
      continue;
    }
    const existed = existsSync(dest);
    mkdirSync(dirname(dest), { recursive: true });
    // Write beside and rename: a runtime exec'ing the plugin mid-upgrade sees the old file or the new, never half.
    const tmp = `${dest}.ts-dhcp-new`;
    writeFileSync(tmp, f.content, { mode: f.mode });
    chmodSync(tmp, f.mode);
    renameSync(tmp, dest);
    lines.push(`${existed ? 'updated' : 'installed'}  ${f.path}`);
  }
  const risky = [origin.nodePath, origin.entryScript].find((p) => /^\/(home|root|tmp|var\/tmp)\//.test(p));
  if (risky && o.systemd)
    lines.push(
      `warning: ${risky} is hidden from the service by ProtectHome=/PrivateTmp=; install ts-dhcp elsewhere (e.g. /opt/ts-dhcp)`,
    );
  if (o.systemd && o.root === '/') lines.push('next: systemctl daemon-reload && systemctl enable --now ts-dhcp.socket');
  return { lines, code: 0 };
}

export function uninstall(o: InstallOptions, origin: Origin = thisInstallation()): Report {
  const candidates = plan({ ...o, systemd: true }, origin);
  if (candidates instanceof Error) return { lines: [`ts-dhcp uninstall: ${candidates.message}`], code: 1 };
  const lines: string[] = [];
  let code = 0;
  for (const f of candidates) {
    const dest = under(o.root, f.path);
    if (!existsSync(dest)) continue;
    if (!o.force && !same(dest, f.content)) {
      lines.push(`kept       ${f.path}: not what this installation wrote (--force removes it)`);
      code = 1;
      continue;
    }
    rmSync(dest);
    lines.push(`removed    ${f.path}`);
  }
  if (lines.length === 0) lines.push('nothing to remove');
  return { lines, code };
}

export function runInstall(cmd: 'install' | 'uninstall', args: string[]): number {
  const o = parseInstallArgs(args);
  if (o instanceof Error) {
    process.stderr.write(`ts-dhcp ${cmd}: ${o.message}\n`);
    return 2;
  }
  let r: Report;
  try {
    r = cmd === 'install' ? install(o) : uninstall(o);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'EACCES' || e.code === 'EPERM' ? ' (run as root, or use --root DIR)' : '';
    process.stderr.write(`ts-dhcp ${cmd}: ${e.message}${hint}\n`);
    return 1;
  }
  (r.code === 0 ? process.stdout : process.stderr).write(`${r.lines.join('\n')}\n`);
  return r.code;
}
