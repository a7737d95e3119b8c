// `ts-dhcp install` / `ts-dhcp uninstall`: put an executable named ts-dhcp into the CNI bin dir (and, with
// --systemd, the units) so container runtimes and systemd run this installation. Runtimes exec IPAM plugins with a
// minimal environment (no PATH to find node), so the wrapper names Node and the entry script by absolute path.
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
  /** Copy the self-contained executable (dist/sea/ts-dhcp) instead of writing a wrapper: for nodes without Node. */
  selfContained: boolean;
  force: boolean;
}

/** Where this installation is: the interpreter and the entry script a wrapper must name. */
export interface Origin {
  nodePath: string;
  entryScript: string;
  /** The self-contained binary to copy with --self-contained. */
  seaBinary: string;
  /** The shipped unit files (systemd/ in the installation). */
  unitSource: string;
}

export function thisInstallation(): Origin {
  const repo = resolve(__dirname, '../..');
  return {
    nodePath: process.execPath,
    entryScript: join(repo, 'bin/ts-dhcp'),
    seaBinary: isSea() ? process.execPath : join(repo, 'dist/sea/ts-dhcp'),
    unitSource: join(repo, 'systemd'),
  };
}

function isSea(): boolean {
  try {
    return (require('node:sea') as { isSea(): boolean }).isSea();
  } catch {
    return false;
  }
}

export function parseInstallArgs(args: string[]): InstallOptions | Error {
  // The self-contained binary installs itself: it has no Node installation to point a wrapper at.
  const o: InstallOptions = { cniBinDir: DEFAULT_CNI_BIN_DIR, systemd: false, unitDir: DEFAULT_UNIT_DIR, root: '/', selfContained: isSea(), force: false };
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
      case '--self-contained':
        o.selfContained = true;
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

/** The wrapper: exec keeps the PID, so socket activation's LISTEN_PID still names the Node process. */
export function wrapperScript(origin: Origin): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return `#!/bin/sh\n# Written by "ts-dhcp install": runs the ts-dhcp installation below with this Node.js, whatever PATH is.\nexec ${q(origin.nodePath)} ${q(origin.entryScript)} "$@"\n`;
}

/** The shipped unit with ExecStart pointing at the installed executable. */
export function serviceUnit(source: string, executable: string): string {
  return source.replace(/^ExecStart=\S+/m, `ExecStart=${executable}`);
}

interface PlannedFile {
  path: string; // as on the target system
  content: Buffer;
  mode: number;
}

function plan(o: InstallOptions, origin: Origin): PlannedFile[] | Error {
  const executable = join(o.cniBinDir, 'ts-dhcp');
  let bin: Buffer;
  if (o.selfContained) {
    if (!existsSync(origin.seaBinary)) return new Error(`no self-contained executable at ${origin.seaBinary}: build it with "npm run build:sea"`);
    bin = readFileSync(origin.seaBinary);
  } else bin = Buffer.from(wrapperScript(origin));
  const files: PlannedFile[] = [{ path: executable, content: bin, mode: 0o755 }];
  if (o.systemd) {
    const unit = (name: string) => readFileSync(join(origin.unitSource, name), 'utf8');
    files.push({ path: join(o.unitDir, 'ts-dhcp.socket'), content: Buffer.from(unit('ts-dhcp.socket')), mode: 0o644 });
    files.push({ path: join(o.unitDir, 'ts-dhcp.service'), content: Buffer.from(serviceUnit(unit('ts-dhcp.service'), executable)), mode: 0o644 });
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
  if (!o.selfContained) {
    const risky = [origin.nodePath, origin.entryScript].find((p) => /^\/(home|root|tmp|var\/tmp)\//.test(p));
    if (risky && o.systemd) lines.push(`warning: ${risky} is hidden from the service by ProtectHome=/PrivateTmp=; install ts-dhcp elsewhere (e.g. /opt/ts-dhcp)`);
  }
  if (o.systemd && o.root === '/') lines.push('next: systemctl daemon-reload && systemctl enable --now ts-dhcp.socket');
  return { lines, code: 0 };
}

export function uninstall(o: InstallOptions, origin: Origin = thisInstallation()): Report {
  const executable = join(o.cniBinDir, 'ts-dhcp');
  // Both forms of the executable are "ours": the wrapper of this installation or its self-contained binary.
  const candidates: PlannedFile[] = [{ path: executable, content: Buffer.from(wrapperScript(origin)), mode: 0o755 }];
  if (existsSync(origin.seaBinary)) candidates.push({ path: executable, content: readFileSync(origin.seaBinary), mode: 0o755 });
  const units = plan({ ...o, systemd: true, selfContained: false }, origin);
  if (units instanceof Error) return { lines: [`ts-dhcp uninstall: ${units.message}`], code: 1 };
  candidates.push(...units.slice(1));
  const lines: string[] = [];
  let code = 0;
  const seen = new Set<string>();
  for (const f of candidates) {
    const dest = under(o.root, f.path);
    if (seen.has(f.path) || !existsSync(dest)) continue;
    if (!o.force && !candidates.some((c) => c.path === f.path && same(dest, c.content))) {
      seen.add(f.path);
      lines.push(`kept       ${f.path}: not what this installation wrote (--force removes it)`);
      code = 1;
      continue;
    }
    seen.add(f.path);
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
