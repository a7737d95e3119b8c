// The spool writer the native plugin (native/plugin/spool.c) is, in TypeScript: tests put DELs into a spool the way
// the plugin does, in the format common/spool.ts reads.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Attachment } from '../../common/rpc';
import { writeDurably } from '../../daemon/durable-file';
import { SPOOL_RECORD_VERSION, SpoolRecord, spoolDir, spoolFile } from '../../common/spool';

/** Writes (or replaces) the record for `a`; returns its path. Directory 0700, file 0600: the state is root's.
 *  Written as the lease store writes (daemon/durable-file.ts): the DEL survives a power cut. */
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
  await writeDurably(dir, path.basename(file), `${JSON.stringify(record)}\n`);
  return file;
}
