// Watches on netns directories go once no lease is in them (issue 13).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { NetnsWatch } from '../../daemon/transport/netns-watch';

test('retain closes the watch of every directory no lease is in; a change in a kept one is still noticed, naming the file', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-dhcp-watch-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const [a, b] = ['a', 'b'].map((d) => path.join(root, d)) as [string, string];
  fs.mkdirSync(a);
  fs.mkdirSync(b);
  const changed: (string | undefined)[] = [];
  const w = new NetnsWatch((p) => changed.push(p));
  t.after(() => w.close());
  w.watch(path.join(a, 'pod1'));
  w.watch(path.join(a, 'pod2'));
  w.watch(path.join(b, 'pod3'));
  assert.deepEqual(w.dirs.sort(), [a, b]);
  w.retain([path.join(a, 'pod2')]);
  assert.deepEqual(w.dirs, [a]);
  fs.writeFileSync(path.join(a, 'x'), '');
  const until = Date.now() + 2000;
  while (changed.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.ok(changed.length > 0);
  assert.deepEqual(new Set(changed), new Set([path.join(a, 'x')]));
  w.retain([]);
  assert.deepEqual(w.dirs, []);
});

test('a change of the watched directory itself names no file: the caller checks every lease', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-dhcp-watch-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const dir = path.join(root, 'netns');
  fs.mkdirSync(dir);
  const changed: (string | undefined)[] = [];
  const w = new NetnsWatch((p) => changed.push(p));
  t.after(() => w.close());
  w.watch(path.join(dir, 'pod1'));
  fs.rmdirSync(dir);
  const until = Date.now() + 2000;
  while (!changed.includes(undefined) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.ok(changed.includes(undefined), JSON.stringify(changed));
  assert.ok(
    changed.every((p) => p === undefined),
    JSON.stringify(changed),
  );
});
