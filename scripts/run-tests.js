#!/usr/bin/env node
'use strict';
// Runs the compiled test tiers in order — dist/test/unit, dist/test/inproc (if present), dist/test/netns — one
// `node --test` process per file, a few at a time, each with a timeout, and prints a summary. Exits non-zero when
// anything failed. Usage: node scripts/run-tests.js [unit|inproc|netns ...]   (default: all tiers)
// With the netns tier selected it first runs scripts/preflight.js: every program the tests execute must be there.
//
// Environment: TEST_CONCURRENCY (files at once, per tier), TEST_FILE_TIMEOUT_S (overrides every tier's default).

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { preflight } = require('./preflight');

const ROOT = path.resolve(__dirname, '..');
const cores = os.availableParallelism();

// netns files each build their own namespaces and real servers; two at a time keeps timing-sensitive tests honest
// on a 2-core machine.
const TIERS = [
  { name: 'unit', concurrency: cores, timeoutS: 120, needsRoot: false },
  { name: 'inproc', concurrency: Math.min(cores, 2), timeoutS: 300, needsRoot: false },
  { name: 'netns', concurrency: 2, timeoutS: 900, needsRoot: true },
];
const KILL_GRACE_MS = 10_000;

function testFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) return testFiles(full);
      return e.isFile() && e.name.endsWith('.test.js') ? [full] : [];
    })
    .sort();
}

/** Test processes get no NODE_EXTRA_CA_CERTS: it adds ~50 ms to every node start the tests time or spawn. */
function testEnv() {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

const running = new Set();

function runFile(file, timeoutS) {
  const started = Date.now();
  const child = spawn(process.execPath, ['--test', '--test-reporter=spec', file], {
    cwd: ROOT,
    env: testEnv(),
    detached: true, // own process group: a timeout takes down everything the file started
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (output += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (output += d));
  let timedOut = false;
  const killGroup = (sig) => {
    try {
      process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup('SIGTERM');
    setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS).unref();
  }, timeoutS * 1000);
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      const count = (word) => Number(new RegExp(`^ℹ ${word} (\\d+)$`, 'm').exec(output)?.[1] ?? 0);
      resolve({
        file: path.relative(ROOT, file),
        ok: code === 0 && !timedOut,
        why: timedOut ? `timed out after ${timeoutS} s` : code === 0 ? '' : `exit ${code ?? signal}`,
        pass: count('pass'),
        fail: count('fail') + count('cancelled'),
        seconds: (Date.now() - started) / 1000,
        output,
      });
    });
  });
}

async function runTier(tier, files) {
  const concurrency = Number(process.env.TEST_CONCURRENCY) || tier.concurrency;
  const timeoutS = Number(process.env.TEST_FILE_TIMEOUT_S) || tier.timeoutS;
  console.log(`\n=== ${tier.name}: ${files.length} file(s), ${concurrency} at a time, ${timeoutS} s per file ===`);
  const queue = [...files];
  const results = [];
  const worker = async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      const r = await runFile(file, timeoutS);
      // Printed whole when the file finishes, so concurrent files do not interleave.
      console.log(
        `\n--- ${r.ok ? 'PASS' : 'FAIL'} ${r.file} (${r.seconds.toFixed(1)} s) ${r.why}\n${r.output.trimEnd()}`,
      );
      results.push(r);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  return results.sort((a, b) => a.file.localeCompare(b.file));
}

function summarize(rows) {
  console.log('\n=== summary ===');
  for (const r of rows) {
    const counts = r.files ? `${String(r.pass).padStart(4)} passed ${String(r.fail).padStart(3)} failed` : '';
    console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.label.padEnd(48)} ${counts} ${r.note}`);
  }
}

const DIGEST_LINES = 25;

/** Each failed file's reasons once more, last: whoever sees only the tail of a CI log (a CI summary keeps the last
 *  lines) still reads why, not just which. The spec reporter's own "failing tests" section without stack frames,
 *  else (a timeout, a crash) the file's last lines. */
function printFailures(failed) {
  if (failed.length === 0) return;
  console.log('\n=== why ===');
  for (const r of failed) {
    const at = r.output.lastIndexOf('\u2716 failing tests:');
    const lines = (
      at >= 0 ? r.output.slice(at).split('\n').slice(1) : r.output.trimEnd().split('\n').slice(-DIGEST_LINES)
    )
      .filter((l) => l.trim() !== '' && !/^\s+at /.test(l))
      .slice(0, DIGEST_LINES);
    console.log(`--- ${r.file} ${r.why}\n${lines.join('\n')}`);
  }
}

async function main() {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !TIERS.some((t) => t.name === w));
  if (unknown.length) {
    console.error(`unknown tier(s): ${unknown.join(', ')}; tiers are ${TIERS.map((t) => t.name).join(', ')}`);
    return 2;
  }
  // The netns tier executes the programs of install-deps.sh's DEPS table: a missing one fails the run now, by name,
  // instead of
  // as an ENOENT deep inside some test minutes later.
  if ((wanted.length === 0 || wanted.includes('netns')) && preflight() !== 0) return 1;
  const rows = [];
  const t0 = Date.now();
  for (const tier of TIERS) {
    if (wanted.length && !wanted.includes(tier.name)) continue;
    const files = testFiles(path.join(ROOT, 'dist', 'test', tier.name));
    if (files.length === 0) {
      // inproc is optional; a missing unit or netns tier means the build or the checkout is broken.
      const ok = tier.name === 'inproc';
      rows.push({ label: `${tier.name}/`, ok, note: 'no test files', files: false });
      continue;
    }
    if (tier.needsRoot && process.getuid?.() !== 0) {
      const msg = `${tier.name} tests need root (network namespaces, raw sockets); run as root or pick other tiers`;
      console.error(`\n=== ${tier.name}: NOT RUN: ${msg}`);
      rows.push({ label: `${tier.name}/`, ok: false, note: `not run: ${msg}`, files: false });
      continue;
    }
    for (const r of await runTier(tier, files)) {
      rows.push({ label: r.file, ok: r.ok, note: `${r.seconds.toFixed(1)} s ${r.why}`, files: true, ...r });
    }
  }
  summarize(rows);
  printFailures(rows.filter((r) => !r.ok && r.output !== undefined));
  const failed = rows.filter((r) => !r.ok).length;
  const total = (Date.now() - t0) / 1000;
  console.log(`\n${failed ? `FAILED: ${failed} item(s)` : 'all passed'} in ${total.toFixed(1)} s`);
  return failed ? 1 : 0;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const child of running) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
