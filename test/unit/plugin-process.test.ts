// bin/ts-dhcp as the runtime runs it: config on stdin (a pipe, a closed descriptor), result or error on stdout, the
// exit code. client/main.ts reads and writes the descriptors directly instead of through process.stdin/stdout.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';

const BIN = path.resolve(__dirname, '../../../bin/ts-dhcp');

function plugin(env: Record<string, string>, stdin: string | null): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    input: stdin ?? undefined,
    stdio: [stdin === null ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('VERSION reads the config from a stdin pipe and answers in its cniVersion', () => {
  const r = plugin({ CNI_COMMAND: 'VERSION' }, JSON.stringify({ cniVersion: '0.4.0' }));
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { cniVersion: string; supportedVersions: string[] };
  assert.equal(out.cniVersion, '0.4.0');
  assert.ok(out.supportedVersions.includes('1.0.0'));
});

test('a large config arrives whole (more than one pipe buffer)', () => {
  const big = JSON.stringify({ cniVersion: '1.0.0', padding: 'x'.repeat(200_000) });
  const r = plugin({ CNI_COMMAND: 'VERSION' }, big);
  assert.equal(r.status, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { cniVersion: string }).cniVersion, '1.0.0');
});

test('VERSION with no stdin at all still answers', () => {
  const r = plugin({ CNI_COMMAND: 'VERSION' }, null);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(Array.isArray((JSON.parse(r.stdout) as { supportedVersions: unknown }).supportedVersions));
});

test('an ADD without its environment exits 1 with a CNI error on stdout', () => {
  const r = plugin({ CNI_COMMAND: 'ADD' }, JSON.stringify({ cniVersion: '1.0.0', name: 'lan', ipam: { type: 'ts-dhcp' } }));
  assert.equal(r.status, 1);
  const err = JSON.parse(r.stdout) as { cniVersion: string; code: number; msg: string };
  assert.equal(err.cniVersion, '1.0.0');
  assert.equal(err.code, 4);
  assert.match(err.msg, /CNI_CONTAINERID/);
});
