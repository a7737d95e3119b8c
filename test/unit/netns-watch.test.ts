// Watches on netns directories go once no lease is in them (issue 13).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { NetnsWatch } from '../../daemon/transport/netns-watch';

test('retain closes the watch of every directory no lease is in; a change in a kept one is still noticed', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-dhcp-watch-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const [a, b] = ['a', 'b'].map((d) => path.join(root, d)) as [string, string];
  fs.mkdirSync(a);
  fs.mkdirSync(b);
  let changes = 0;
  const w = new NetnsWatch(() => changes++);
  t.after(() => w.close());
  w.watch(path.join(a, 'pod1'));
  w.watch(path.join(a, 'pod2'));
  w.watch(path.join(b, 'pod3'));
  assert.deepEqual(w.dirs.sort(), [a, b]);
  w.retain([path.join(a, 'pod2')]);
  assert.deepEqual(w.dirs, [a]);
  fs.writeFileSync(path.join(a, 'x'), '');
  const until = Date.now() + 2000;
  while (changes === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.ok(changes > 0);
  w.retain([]);
  assert.deepEqual(w.dirs, []);
});
