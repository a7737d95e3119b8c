// The spool writer the native plugin (native/plugin/spool.c) is, in TypeScript: tests put DELs into a spool the way
// the plugin does, in the format common/spool.ts reads.
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Attachment } from '../../common/rpc';
import { SPOOL_RECORD_VERSION, SpoolRecord, spoolDir, spoolFile } from '../../common/spool';

/** Writes (or replaces) the record for `a`; returns its path. Directory 0700, file 0600: the state is root's.
 *  Written as the lease store writes: a temp file of a fresh random name opened O_EXCL|O_NOFOLLOW (a planted file
 *  or symlink is never written through), fsync, rename, fsync of the directory (the DEL survives a power cut). */
export async function writeSpool(stateDir: string, a: Attachment, now: Date = new Date()): Promise<string> {
  const dir = spoolDir(stateDir);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = spoolFile(stateDir, a);
  const record: SpoolRecord = {
    version: SPOOL_RECORD_VERSION,
    containerId: a.containerId,
    network: a.network,
    ifName: a.ifName,
    at: now.toISOString(),
  };
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fsConstants;
  const handle = await fs.open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(record)}\n`);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  await fs.rename(tmp, file);
  const dh = await fs.open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
  return file;
}
