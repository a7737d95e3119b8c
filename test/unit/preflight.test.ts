// The DEPS table in scripts/install-deps.sh is the one list of programs → Debian packages: install-deps.sh installs
// from it, the preflight of `npm test` checks it. These tests hold the list to what the test sources execute.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const REPO = resolve(__dirname, '../../..');

interface Entry {
  program: string | null;
  pkg: string;
  line: number;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const preflight = require(join(REPO, 'scripts/preflight.js')) as {
  DEPS: string;
  parseDeps(text: string, file?: string): Entry[];
  which(program: string, searchPath?: string): string | undefined;
  missing(entries: Entry[], searchPath?: string): Entry[];
};

test('the list parses; a malformed line is an error naming the file and line', () => {
  const entries = preflight.parseDeps(readFileSync(preflight.DEPS, 'utf8'));
  assert.ok(entries.some((e) => e.program === 'nft' && e.pkg === 'nftables'));
  assert.ok(entries.some((e) => e.program === null && e.pkg === 'ca-certificates'));
  assert.ok(
    !entries.some((e) => e.pkg === 'euo' || e.program === 'set'),
    'only the DEPS table, not the script around it',
  );
  assert.throws(() => preflight.parseDeps('dnsmasq\n', 'x.txt'), /^Error: x\.txt:1: expected "PROGRAM PACKAGE"/);
  assert.throws(() => preflight.parseDeps('# c\n\na b c\n', 'x.txt'), /x\.txt:3:/);
});

test('which: PATH lookup and absolute paths, as execve would resolve them', () => {
  assert.equal(preflight.which('sh', '/nonexistent:/bin'), '/bin/sh');
  assert.equal(preflight.which('sh', '/nonexistent'), undefined);
  assert.equal(preflight.which(process.execPath, ''), process.execPath);
  assert.equal(preflight.which('/etc/passwd', ''), undefined, 'not executable');
  assert.equal(preflight.which('/bin', ''), undefined, 'a directory is not a program');
});

test('a missing program fails the preflight naming the program and its Debian package', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ts-preflight-'));
  try {
    const list = join(dir, 'deps.txt');
    writeFileSync(
      list,
      'sh  dash\nts-dhcp-no-such-program  ts-dhcp-nonexistent-pkg\n/no/such/plugin  some-plugins\n-  ca-certificates\n',
    );
    const r = spawnSync(process.execPath, [join(REPO, 'scripts/preflight.js'), list], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /2 program\(s\) missing/);
    assert.match(r.stderr, /ts-dhcp-no-such-program {2}\(Debian package ts-dhcp-nonexistent-pkg\)/);
    assert.match(r.stderr, /\/no\/such\/plugin {2}\(Debian package some-plugins\)/);
    assert.match(r.stderr, /apt-get install ts-dhcp-nonexistent-pkg some-plugins/);
    assert.doesNotMatch(r.stderr, /dash|ca-certificates/);
    writeFileSync(list, 'sh  dash\n');
    assert.equal(spawnSync(process.execPath, [join(REPO, 'scripts/preflight.js'), list]).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return /\.(ts|js)$/.test(e.name) ? [full] : [];
  });
}

test('every program the test and script sources execute by name is in the list', () => {
  const listed = new Set(preflight.parseDeps(readFileSync(preflight.DEPS, 'utf8')).map((e) => e.program));
  // Literal program names in the shapes the sources use: spawn('x', …), execFileSync('x', …), run('x', …),
  // topo.exec(ns, 'x', …), topo.spawn(ns, 'x', …) and the runtime helpers' nsExec(ns, 'x', …).
  const shapes = [
    /\b(?:spawn|spawnSync|execFile|execFileSync|run)\(\s*'([^']+)'/g,
    /\b(?:exec|spawn|nsExec)\(\s*[\w.()[\]]+,\s*'([^']+)'/g,
  ];
  const unlisted: string[] = [];
  const self = join(REPO, 'test/unit/preflight.test.ts');
  for (const file of [...sources(join(REPO, 'test')), ...sources(join(REPO, 'scripts'))]) {
    if (file === self) continue;
    const text = readFileSync(file, 'utf8');
    for (const re of shapes) {
      for (const m of text.matchAll(re)) {
        const program = m[1] as string;
        if (!/^[a-z/][a-z0-9/._+-]*$/.test(program)) continue; // a CNI verb or a word, not a program
        if (!listed.has(program)) unlisted.push(`${program} (${file.slice(REPO.length + 1)})`);
      }
    }
  }
  assert.deepEqual(unlisted, [], 'add these to the DEPS table of scripts/install-deps.sh with their Debian package');
});
