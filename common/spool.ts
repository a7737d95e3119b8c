// Releases the plugin could not hand to the daemon (DEL while it was down), written by the native plugin
// (native/plugin/spool.c) into the state directory for the daemon to carry out (at start and every --check-interval).
// One JSON file per attachment, written atomically
// (temp + rename), so a reader never sees half a record and a repeated DEL overwrites instead of piling up; a record
// goes only once its DEL succeeded.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Attachment, attachmentKey } from './rpc';

export const SPOOL_RECORD_VERSION = 1;

export interface SpoolRecord extends Attachment {
  version: typeof SPOOL_RECORD_VERSION;
  /** When the DEL was asked for (ISO 8601). */
  at: string;
}

export interface SpoolEntry {
  file: string;
  attachment: Attachment;
}

export function spoolDir(stateDir: string): string {
  return path.join(stateDir, 'spool');
}

/** `<stateDir>/spool/<first 32 hex chars of sha256("containerId/network/ifName")>.json`. */
export function spoolFile(stateDir: string, a: Attachment): string {
  const digest = createHash('sha256').update(attachmentKey(a)).digest('hex').slice(0, 32);
  return path.join(spoolDir(stateDir), `${digest}.json`);
}

/** Every valid record, oldest first. Unreadable or foreign files are skipped (and left alone): one bad file must not
 *  keep the daemon from carrying out the others. A missing directory is an empty spool. */
export async function readSpool(stateDir: string): Promise<SpoolEntry[]> {
  const dir = spoolDir(stateDir);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const found: { entry: SpoolEntry; at: string }[] = [];
  for (const name of names.filter((n) => /^[0-9a-f]{32}\.json$/.test(n)).sort()) {
    const file = path.join(dir, name);
    const record = parseRecord(await fs.readFile(file, 'utf8').catch(() => ''));
    if (record)
      found.push({
        entry: {
          file,
          attachment: { containerId: record.containerId, network: record.network, ifName: record.ifName },
        },
        at: record.at,
      });
  }
  return found.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)).map((f) => f.entry);
}

/** Removes a carried-out record; already gone is fine. */
export async function removeSpool(file: string): Promise<void> {
  await fs.rm(file, { force: true });
}

function parseRecord(text: string): SpoolRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const r = v as Record<string, unknown>;
  const str = (k: string) => typeof r[k] === 'string' && (r[k] as string) !== '';
  if (r.version !== SPOOL_RECORD_VERSION || !str('containerId') || !str('network') || !str('ifName') || !str('at'))
    return undefined;
  return r as unknown as SpoolRecord;
}
