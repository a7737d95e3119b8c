// The DEL spool as the daemon carries it out (issue 13): a record goes only once its DEL succeeded; the writer
// leaves no temp file and makes the file 0600.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { readSpool, spoolDir } from '../../common/spool';
import { writeSpool } from '../helpers/spool';
import type { Attachment } from '../../common/rpc';
import { drainSpool, removeStaleSpoolTemps } from '../../daemon/housekeeping';
import type { Logger } from '../../daemon/log';

const quiet = { info: () => {}, warn: () => {}, error: () => {} } as unknown as Logger;

test('drainSpool: a failed DEL keeps its record for the next round; a successful one removes it', async (t) => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-dhcp-spool-'));
  t.after(() => fs.rmSync(stateDir, { recursive: true, force: true }));
  const a: Attachment = { containerId: 'a', network: 'lan', ifName: 'eth1' };
  const b: Attachment = { containerId: 'b', network: 'lan', ifName: 'eth1' };
  await writeSpool(stateDir, a);
  await writeSpool(stateDir, b);
  assert.deepEqual(
    fs.readdirSync(spoolDir(stateDir)).filter((n) => n.endsWith('.tmp')),
    [],
    'no temp file left',
  );
  for (const name of fs.readdirSync(spoolDir(stateDir)))
    assert.equal(fs.statSync(path.join(spoolDir(stateDir), name)).mode & 0o777, 0o600);
  const tried: string[] = [];
  await drainSpool(
    stateDir,
    async (x) => {
      tried.push(x.containerId);
      if (x.containerId === 'a') throw new Error('EIO');
      return { released: true };
    },
    quiet,
  );
  assert.deepEqual(tried.sort(), ['a', 'b']);
  assert.deepEqual(
    (await readSpool(stateDir)).map((e) => e.attachment),
    [a],
    'the failed DEL stays',
  );
  await drainSpool(stateDir, async () => ({ released: false }), quiet);
  assert.deepEqual(await readSpool(stateDir), []);
});

test('temp files a killed plugin left in the spool go after a minute; fresh ones and records stay', async (t) => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-dhcp-spool-'));
  t.after(() => fs.rmSync(stateDir, { recursive: true, force: true }));
  const record = await writeSpool(stateDir, { containerId: 'a', network: 'lan', ifName: 'eth1' });
  const old = path.join(spoolDir(stateDir), `.${path.basename(record)}.1.aa.tmp`);
  const oldNative = path.join(spoolDir(stateDir), `${path.basename(record)}.3.tmp`); // the native plugin's naming
  const fresh = path.join(spoolDir(stateDir), `.${path.basename(record)}.2.bb.tmp`);
  for (const f of [old, oldNative, fresh]) fs.writeFileSync(f, '{');
  const twoMinutesAgo = new Date(Date.now() - 120_000);
  for (const f of [old, oldNative]) fs.utimesSync(f, twoMinutesAgo, twoMinutesAgo);
  assert.equal(await removeStaleSpoolTemps(stateDir, Date.now()), 2);
  assert.deepEqual(fs.readdirSync(spoolDir(stateDir)).sort(), [path.basename(fresh), path.basename(record)].sort());
});
