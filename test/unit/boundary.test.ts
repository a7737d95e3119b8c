// daemon/dhcp/ and daemon/dhcp6/ are the pure protocol cores: no I/O and no clock, so they run the same under a fake
// clock and a seeded Rng as in the daemon. This test reads every file the cores are built from (their *.ts files and
// whatever they import, transitively) with the TypeScript parser — imports, require() and import() calls, clock and
// timer references — so a comment or a string never counts and no spelling of an import slips by.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const REPO = resolve(__dirname, '../../..');
const CORE = join(REPO, 'daemon/dhcp');
const CORES = [CORE, join(REPO, 'daemon/dhcp6')];

/** Node built-ins the core may use: none does I/O or reads the clock (crypto: hashes that name DUIDs and IAIDs). */
const ALLOWED_BUILTINS = new Set(['buffer', 'crypto']);
/** Code that does I/O however it is reached: the transport layer and the native addon. */
const IO_PATHS = ['daemon/transport/', 'native/'];
/** Globals that read the clock, schedule work or reach the process. */
const CLOCK_GLOBALS = new Set(['performance', 'process', 'setTimeout', 'setInterval', 'setImmediate']);

export interface Found {
  /** Module specifiers, as written. */
  imports: string[];
  /** Clock and timer reads, as "line N: what". */
  clock: string[];
}

function isPropertyName(node: ts.Identifier): boolean {
  const p = node.parent;
  return (
    (ts.isPropertyAccessExpression(p) && p.name === node) ||
    ((ts.isPropertyAssignment(p) ||
      ts.isPropertyDeclaration(p) ||
      ts.isMethodDeclaration(p) ||
      ts.isPropertySignature(p)) &&
      p.name === node)
  );
}

/** What one source text imports and which clock or timer it touches. */
export function scan(fileName: string, text: string): Found {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const found: Found = { imports: [], clock: [] };
  const at = (n: ts.Node, what: string) =>
    found.clock.push(`line ${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}: ${what}`);
  const visit = (n: ts.Node): void => {
    if (
      (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) &&
      n.moduleSpecifier &&
      ts.isStringLiteral(n.moduleSpecifier)
    ) {
      found.imports.push(n.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) {
      const e = n.moduleReference.expression;
      if (ts.isStringLiteralLike(e)) found.imports.push(e.text);
    } else if (ts.isCallExpression(n)) {
      const [arg] = n.arguments;
      const isRequire = ts.isIdentifier(n.expression) && n.expression.text === 'require';
      if ((isRequire || n.expression.kind === ts.SyntaxKind.ImportKeyword) && arg) {
        found.imports.push(ts.isStringLiteralLike(arg) ? arg.text : `<computed ${arg.getText(sf)}>`);
      }
      if (ts.isIdentifier(n.expression) && n.expression.text === 'Date') at(n, 'Date()');
    } else if (
      ts.isNewExpression(n) &&
      ts.isIdentifier(n.expression) &&
      n.expression.text === 'Date' &&
      !n.arguments?.length
    ) {
      at(n, 'new Date()');
    } else if (ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.expression)) {
      const obj = n.expression.text;
      if (obj === 'Date' && n.name.text === 'now') at(n, 'Date.now');
      if ((obj === 'globalThis' || obj === 'global') && CLOCK_GLOBALS.has(n.name.text)) at(n, `${obj}.${n.name.text}`);
    } else if (ts.isIdentifier(n) && CLOCK_GLOBALS.has(n.text) && !isPropertyName(n)) {
      at(n, n.text);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

/** Why importing `spec` from `fromFile` breaks the boundary, or the file to check next (a relative TS import). */
export function judgeImport(
  fromFile: string,
  spec: string,
  exists: (file: string) => boolean = existsSync,
): { bad: string } | { next: string } | undefined {
  if (spec.startsWith('<computed')) return { bad: `a computed module name ${spec}` };
  const bare = spec.replace(/^node:/, '');
  if (spec.startsWith('node:') || builtinModules.includes(bare)) {
    return ALLOWED_BUILTINS.has(bare.split('/')[0] as string) ? undefined : { bad: `the Node built-in ${spec}` };
  }
  if (!spec.startsWith('.')) return { bad: `the package ${spec}` };
  const target = resolve(dirname(fromFile), spec);
  const rel = relative(REPO, target);
  if (spec.endsWith('.node') || IO_PATHS.some((p) => `${rel}/`.startsWith(p))) return { bad: `${rel} (I/O)` };
  const file = [`${target}.ts`, join(target, 'index.ts')].find(exists);
  return file ? { next: file } : { bad: `${spec}, which is not a TypeScript module of the repository` };
}

/** Source files as the check sees them: the repository's, or a test's stand-ins laid over them. */
export interface Sources {
  read(file: string): string;
  exists(file: string): boolean;
}

const onDisk: Sources = { read: (f) => readFileSync(f, 'utf8'), exists: existsSync };

/** Sources where `files` (absolute path → text) stand beside, or over, the repository's. */
function withStandIns(files: Record<string, string>): Sources {
  return { read: (f) => files[f] ?? readFileSync(f, 'utf8'), exists: (f) => f in files || existsSync(f) };
}

/** Every boundary break in the closure of `roots` under their relative imports, as "file: what". */
export function breaches(roots: string[], src: Sources = onDisk): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const queue = [...roots];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const name = relative(REPO, file);
    const found = scan(file, src.read(file));
    for (const c of found.clock) out.push(`${name}: reads the clock or schedules work (${c})`);
    for (const spec of found.imports) {
      const v = judgeImport(file, spec, src.exists);
      if (v && 'bad' in v) out.push(`${name}: imports ${v.bad}`);
      else if (v) queue.push(v.next);
    }
  }
  return out;
}

const coreFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));

test('daemon/dhcp/, daemon/dhcp6/ and everything they import do no I/O and read no clock', () => {
  const roots = CORES.flatMap(coreFiles);
  assert.ok(roots.length >= 15, `the cores' files: ${roots.length}`);
  assert.deepEqual(breaches(roots), []);
});

test('the check fails on a core file that imports I/O or reads the clock', () => {
  // A stand-in core file with one of each kind of breach, next to files that must pass.
  const bad = join(CORE, 'bad-sample.ts');
  const sample = [
    "import { readFileSync } from 'node:fs';",
    "import * as net from 'net';",
    "import type { Channel } from '../transport/channel';",
    "export { openPacket } from '../transport/netns';",
    "import pino from 'pino';",
    "import dgram = require('node:dgram');",
    "const addon = require('../../native/build/Release/ts_dhcp_netns.node');",
    "const lazy = () => import('node:child_process');",
    "const w = require('worker' + '_threads');",
    "import { Buffer } from 'node:buffer';",
    "import { isIpv4 } from './bytes';",
    '// Date.now() and setTimeout in a comment, and "new Date()" in a string, are not reads:',
    "const s = 'new Date() setTimeout(f) process.hrtime()';",
    'export const a = Date.now();',
    'export const b = new Date();',
    'export const c = new Date(0);',
    'export const d = performance.now();',
    'export const e = process.hrtime.bigint();',
    'setTimeout(() => {}, 1);',
    'globalThis.setInterval(() => {}, 1);',
    'export const o = { setTimeout: 1 };',
    'export const f = Date();',
  ].join('\n');
  assert.deepEqual(breaches([bad], withStandIns({ [bad]: sample })), [
    'daemon/dhcp/bad-sample.ts: reads the clock or schedules work (line 14: Date.now)',
    'daemon/dhcp/bad-sample.ts: reads the clock or schedules work (line 15: new Date())',
    'daemon/dhcp/bad-sample.ts: reads the clock or schedules work (line 17: performance)',
    'daemon/dhcp/bad-sample.ts: reads the clock or schedules work (line 18: process)',
    'daemon/dhcp/bad-sample.ts: reads the clock or schedules work (line 19: setTimeout)',
    'daemon/dhcp/bad-sample.ts: reads the clock or schedules work (line 20: globalThis.setInterval)',
    'daemon/dhcp/bad-sample.ts: reads the clock or schedules work (line 22: Date())',
    'daemon/dhcp/bad-sample.ts: imports the Node built-in node:fs',
    'daemon/dhcp/bad-sample.ts: imports the Node built-in net',
    'daemon/dhcp/bad-sample.ts: imports daemon/transport/channel (I/O)',
    'daemon/dhcp/bad-sample.ts: imports daemon/transport/netns (I/O)',
    'daemon/dhcp/bad-sample.ts: imports the package pino',
    'daemon/dhcp/bad-sample.ts: imports the Node built-in node:dgram',
    'daemon/dhcp/bad-sample.ts: imports native/build/Release/ts_dhcp_netns.node (I/O)',
    'daemon/dhcp/bad-sample.ts: imports the Node built-in node:child_process',
    "daemon/dhcp/bad-sample.ts: imports a computed module name <computed 'worker' + '_threads'>",
  ]);
});

test('a breach reached through imports, also outside daemon/dhcp/, is found in the file that has it', () => {
  const core = join(CORE, 'uses-helper.ts');
  const helper = join(REPO, 'daemon/some-helper.ts');
  const deeper = join(REPO, 'daemon/deeper/index.ts');
  const src = withStandIns({
    [core]: "import { name } from '../some-helper';\nimport { bytesToIp } from './bytes';\n",
    [helper]: "export { deep } from './deeper';\nexport const name = 'x';\n",
    [deeper]: "import { statSync } from 'node:fs';\nexport const deep = String(Date.now());\n",
  });
  assert.deepEqual(breaches([core], src), [
    'daemon/deeper/index.ts: reads the clock or schedules work (line 2: Date.now)',
    'daemon/deeper/index.ts: imports the Node built-in node:fs',
  ]);
  assert.deepEqual(
    breaches(
      [join(CORE, 'uses-nothing.ts')],
      withStandIns({ [join(CORE, 'uses-nothing.ts')]: "import './missing';\n" }),
    ),
    ['daemon/dhcp/uses-nothing.ts: imports ./missing, which is not a TypeScript module of the repository'],
  );
});

// ---- layers: following one ADD, rpc edge → registry → runner → core → port, and nothing goes back up ----

const DAEMON = join(REPO, 'daemon');
const inDir = (dir: string) => (file: string) => file.startsWith(`${join(DAEMON, dir)}/`);
const isFile = (name: string) => (file: string) => file === join(DAEMON, name);
const isCore = (f: string) => inDir('dhcp')(f) || inDir('dhcp6')(f);
/** The daemon's shell files: daemon/*.ts, daemon/cni/, daemon/transport/ (not the cores). */
const isShell = (f: string) => f.startsWith(`${DAEMON}/`) && !isCore(f);
const isRunner = (f: string) => /\/daemon\/(lease6?-runner|runner-base)\.ts$/.test(f);
/** The registry and its DHCPv6 side. */
const isRegistry = (f: string) => isFile('registry.ts')(f) || isFile('registry6.ts')(f);
/** The RPC edge: the server, its listener, the daemon's wiring and runCni, which drives the registry for one CNI
 *  invocation. The rest of daemon/cni/ is pure CNI knowledge (result format, limits) that any layer may read. */
const isEdge = (f: string) => ['rpc-server.ts', 'listen.ts', 'main.ts', 'cni/plugin.ts'].some((n) => isFile(n)(f));

/** Who may not reach whom, however indirectly (type-only imports count: they name the layer above too). */
const LAYERS: { layer: string; roots: (f: string) => boolean; above: string; forbidden: (f: string) => boolean }[] = [
  { layer: 'the cores', roots: isCore, above: 'a daemon shell file', forbidden: isShell },
  {
    layer: 'the port (daemon/transport/)',
    roots: inDir('transport'),
    above: 'a runner, the registry or the RPC edge',
    forbidden: (f) => isRunner(f) || isRegistry(f) || isEdge(f),
  },
  {
    layer: 'the runners',
    roots: isRunner,
    above: 'the registry or the RPC edge',
    forbidden: (f) => isRegistry(f) || isEdge(f),
  },
  { layer: 'the registry', roots: isRegistry, above: 'the RPC edge', forbidden: isEdge },
];

/** Every relative .ts import of `file`, resolved. */
function importsOf(file: string, src: Sources): string[] {
  return scan(file, src.read(file)).imports.flatMap((spec) => {
    if (!spec.startsWith('.')) return [];
    const target = resolve(dirname(file), spec);
    const found = [`${target}.ts`, join(target, 'index.ts')].find(src.exists);
    return found ? [found] : [];
  });
}

/** "from → to (via a → b → ...)" for each forbidden file the roots reach. */
export function upwardImports(roots: string[], forbidden: (f: string) => boolean, src: Sources = onDisk): string[] {
  const out: string[] = [];
  for (const root of roots) {
    const path = new Map<string, string[]>([[root, [root]]]);
    const queue = [root];
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      for (const next of importsOf(file, src)) {
        if (path.has(next)) continue;
        const via = [...(path.get(file) as string[]), next];
        path.set(next, via);
        if (forbidden(next)) out.push(via.map((f) => relative(REPO, f)).join(' → '));
        else queue.push(next);
      }
    }
  }
  return out;
}

const daemonFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? daemonFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

for (const { layer, roots, above, forbidden } of LAYERS) {
  test(`${layer} import nothing from ${above}`, () => {
    const files = daemonFiles(DAEMON).filter(roots);
    assert.ok(files.length > 0, `files of ${layer}`);
    assert.deepEqual(upwardImports(files, forbidden), []);
  });
}

test('an upward import is found, also through a file in between, and named with its path', () => {
  const runner = join(DAEMON, 'lease-runner.ts');
  const helper = join(DAEMON, 'some-helper.ts');
  const src = withStandIns({
    [runner]: "import type { X } from './some-helper';\nimport { step } from './dhcp/lease';\n",
    [helper]: "export type { Registry as X } from './registry';\n",
  });
  const runners = LAYERS.find((l) => l.layer === 'the runners');
  assert.ok(runners);
  assert.deepEqual(upwardImports([runner], runners.forbidden, src), [
    'daemon/lease-runner.ts → daemon/some-helper.ts → daemon/registry.ts',
  ]);
  const core = join(DAEMON, 'dhcp/lease.ts');
  const coreSrc = withStandIns({ [core]: "import { LeaseRunner } from '../lease-runner';\n" });
  assert.deepEqual(upwardImports([core], isShell, coreSrc), ['daemon/dhcp/lease.ts → daemon/lease-runner.ts']);
});
