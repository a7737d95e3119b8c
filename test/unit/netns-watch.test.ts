// Watches on netns directories: what wakes the daemon, and watches go once no lease is in their directory (issue 13).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { inotifyEvents } from '../../daemon/transport/inotify';
import { DirWatch, inotifyMasks } from '../../daemon/transport/netns';
import { NetnsWatch } from '../../daemon/transport/netns-watch';
import { nativePort } from '../../daemon/transport/pod-port';
import { netnsGone } from '../../daemon/pod-netns';

function tempRoot(t: { after(fn: () => void): void }): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-dhcp-watch-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  return root;
}

async function until(what: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!what() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** The inotify descriptors this process holds now. */
function inotifyFds(): number {
  const fds = fs.readdirSync('/proc/self/fd');
  return fds.filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:inotify';
    } catch {
      return false; // the descriptor readdir itself used, closed since
    }
  }).length;
}

// First in the file: no other test's watch is still being closed (the addon closes in a thread of its own). The wait
// is synchronous: the handle's finalizer runs only from the event loop, so only the constructor can close it meanwhile.
test('a watch whose delivery cannot start closes its inotify descriptor at once, not at a collection', () => {
  const before = inotifyFds();
  assert.throws(() => new DirWatch(undefined as unknown as (events: Buffer) => void), /callback must be a function/);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let deadline = Date.now() + 2000; inotifyFds() !== before && Date.now() < deadline;)
    Atomics.wait(pause, 0, 0, 10);
  assert.equal(inotifyFds(), before);
});

test('a file deleted or renamed away in a watched directory is noticed by name; one created is not', async (t) => {
  const dir = path.join(tempRoot(t), 'netns');
  fs.mkdirSync(dir);
  for (const f of ['gone', 'moved']) fs.writeFileSync(path.join(dir, f), '');
  const changed: (string | undefined)[] = [];
  const w = new NetnsWatch((p) => changed.push(p));
  t.after(() => w.close());
  w.watch(path.join(dir, 'pod1'));
  fs.writeFileSync(path.join(dir, 'new'), '');
  fs.rmSync(path.join(dir, 'gone'));
  fs.renameSync(path.join(dir, 'moved'), path.join(dir, 'elsewhere'));
  await until(() => changed.length >= 2);
  assert.deepEqual(changed, [path.join(dir, 'gone'), path.join(dir, 'moved')]);
});

test('retain closes the watch of every directory no lease is in; a deletion in a kept one is still noticed', async (t) => {
  const root = tempRoot(t);
  const [a, b] = ['a', 'b'].map((d) => path.join(root, d)) as [string, string];
  fs.mkdirSync(a);
  fs.mkdirSync(b);
  for (const d of [a, b]) fs.writeFileSync(path.join(d, 'x'), '');
  const changed: (string | undefined)[] = [];
  const w = new NetnsWatch((p) => changed.push(p));
  t.after(() => w.close());
  w.watch(path.join(a, 'pod1'));
  w.watch(path.join(a, 'pod2'));
  w.watch(path.join(b, 'pod3'));
  assert.deepEqual(w.dirs.sort(), [a, b]);
  w.retain([path.join(a, 'pod1'), path.join(a, 'pod2'), path.join(b, 'pod3')]);
  assert.deepEqual(w.dirs.sort(), [a, b]);
  w.retain([path.join(a, 'pod2')]);
  assert.deepEqual(w.dirs, [a]);
  fs.rmSync(path.join(b, 'x'));
  fs.rmSync(path.join(a, 'x'));
  await until(() => changed.length > 0);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(changed, [path.join(a, 'x')]);
  w.retain([]);
  assert.deepEqual(w.dirs, []);
});

test('the watched directory itself removed names no file: the caller checks every lease; made again, it is watched afresh', async (t) => {
  const dir = path.join(tempRoot(t), 'netns');
  fs.mkdirSync(dir);
  const changed: (string | undefined)[] = [];
  const w = new NetnsWatch((p) => changed.push(p));
  t.after(() => w.close());
  w.watch(path.join(dir, 'pod1'));
  fs.rmdirSync(dir);
  await until(() => changed.includes(undefined));
  assert.deepEqual(changed, [undefined]);
  await until(() => w.dirs.length === 0);
  assert.deepEqual(w.dirs, []);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'pod1'), '');
  w.watch(path.join(dir, 'pod1'));
  assert.deepEqual(w.dirs, [dir]);
  fs.rmSync(path.join(dir, 'pod1'));
  await until(() => changed.length > 1);
  assert.deepEqual(changed, [undefined, path.join(dir, 'pod1')]);
});

/** struct inotify_event in the host's byte order, the name NUL-padded to `len`. */
function event(wd: number, mask: number, name = '', len = name ? name.length + 4 : 0): Buffer {
  const b = Buffer.alloc(16 + len);
  const le = os.endianness() === 'LE';
  (le ? b.writeInt32LE : b.writeInt32BE).call(b, wd, 0);
  (le ? b.writeUInt32LE : b.writeUInt32BE).call(b, mask, 4);
  (le ? b.writeUInt32LE : b.writeUInt32BE).call(b, len, 12);
  b.write(name, 16);
  return b;
}

test('inotify events: each whole event of a read with its padded name; a truncated tail is left out', () => {
  const { IN_DELETE, IN_IGNORED, IN_Q_OVERFLOW } = inotifyMasks();
  const read = Buffer.concat([
    event(1, IN_DELETE, 'cni-1234'),
    event(-1, IN_Q_OVERFLOW),
    event(2, IN_IGNORED),
    event(1, IN_DELETE, 'cut').subarray(0, 18),
  ]);
  assert.deepEqual(inotifyEvents(read), [
    { wd: 1, mask: IN_DELETE, name: 'cni-1234' },
    { wd: -1, mask: IN_Q_OVERFLOW, name: '' },
    { wd: 2, mask: IN_IGNORED, name: '' },
  ]);
  assert.deepEqual(inotifyEvents(Buffer.alloc(10)), []);
  // A name filling its whole length (no NUL) is read to the end of the event, not into the next one.
  assert.deepEqual(inotifyEvents(Buffer.concat([event(3, IN_DELETE, 'abcd', 4), event(3, IN_DELETE, 'e')])), [
    { wd: 3, mask: IN_DELETE, name: 'abcd' },
    { wd: 3, mask: IN_DELETE, name: 'e' },
  ]);
});

test("the sweep's stat (nativePort.inodeNow): the inode a path names now, or the error with its code", (t) => {
  const root = tempRoot(t);
  const file = path.join(root, 'pod1');
  fs.writeFileSync(file, '');
  assert.equal(nativePort.inodeNow(file), fs.statSync(file).ino);
  fs.rmSync(file);
  const gone = nativePort.inodeNow(file);
  assert.ok(gone instanceof Error);
  assert.equal((gone as NodeJS.ErrnoException).code, 'ENOENT');
  assert.equal(netnsGone(file, gone, 1), `netns ${file}: ENOENT`);
});
