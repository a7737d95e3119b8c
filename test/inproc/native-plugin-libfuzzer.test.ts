// Coverage-guided fuzzing of the native plugin's parsing: the libFuzzer harness native/plugin/fuzz.c (clang,
// AddressSanitizer, UBSan) grown from the small corpus in test/fixtures/plugin-fuzz-corpus — the JSON scanner, the
// daemon's replies, and whole plugin runs from the CNI_* environment and stdin. A crash, a sanitizer report, a leak
// or a broken property (the plugin's own output is JSON; quoting round-trips) fails the test with the input that
// caused it. Bounded: FUZZ_LIBFUZZER_RUNS runs (200000) or 40 s, whichever comes first; FUZZ_SEED repeats a run.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const PLUGIN_DIR = resolve(__dirname, '../../../native/plugin');
const FUZZER = resolve(__dirname, '../../../native/build/plugin/ts-dhcp-fuzz');
const CORPUS = resolve(__dirname, '../../../test/fixtures/plugin-fuzz-corpus');
const RUNS = Number(process.env.FUZZ_LIBFUZZER_RUNS ?? 200_000);
const MAX_SECONDS = 40;

test(
  `libFuzzer: ${RUNS} runs (at most ${MAX_SECONDS} s) of the plugin's parsing without a finding`,
  { timeout: 180_000 },
  (t) => {
    execFileSync('make', ['-s', '-C', PLUGIN_DIR, 'fuzz'], { stdio: 'pipe' });
    // New inputs go to the first directory, so the committed corpus stays as it is.
    const dir = mkdtempSync(join(tmpdir(), 'tsq-libfuzzer-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const args = [dir, CORPUS, `-runs=${RUNS}`, `-max_total_time=${MAX_SECONDS}`, `-artifact_prefix=${dir}/`];
    if (process.env.FUZZ_SEED) args.push(`-seed=${process.env.FUZZ_SEED}`);
    const r = spawnSync(FUZZER, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
    const seed = /INFO: Seed: (\d+)/.exec(r.stderr)?.[1];
    const tail = r.stderr.split('\n').slice(-80).join('\n');
    assert.equal(r.signal, null, `seed ${seed}\n${tail}`);
    assert.equal(r.status, 0, `libFuzzer found something (seed ${seed}; FUZZ_SEED=${seed} repeats it)\n${tail}`);
    const done = /Done (\d+) runs in (\d+) second/.exec(r.stderr);
    assert.ok(done, tail);
    // Fewer runs than this means the machine starved the fuzzer, not that the code was exercised.
    assert.ok(Number(done[1]) >= 20_000, `only ${done[1]} runs in ${done[2]} s`);
    // The seeds alone reach ~245 edges; a run that explored reaches ~480.
    const cov = Number([...r.stderr.matchAll(/cov: (\d+)/g)].at(-1)?.[1]);
    assert.ok(cov >= 400, `coverage ${cov} edges`);
  },
);
