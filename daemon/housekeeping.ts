// Work the daemon does now and then besides its leases: the DEL spool (the plugin writes it whenever it cannot
// reach the daemon, not only while the daemon is down) and the expiry of lease records set aside as corrupt.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { readSpool, removeSpool, spoolDir } from '../common/spool';
import type { Attachment } from '../common/rpc';
import type { DelResult } from './registry-api';
import type { Logger } from './log';

/** Carries out every spooled DEL, oldest first. A record goes only once its DEL succeeded; a failed one stays for
 *  the next round, with a log line. */
export async function drainSpool(
  stateDir: string,
  del: (a: Attachment) => Promise<DelResult>,
  log: Logger,
): Promise<void> {
  for (const { file, attachment } of await readSpool(stateDir)) {
    let done: DelResult;
    try {
      done = await del(attachment);
    } catch (err) {
      log.warn({ err: (err as Error).message, attachment, file }, 'spooled DEL failed; kept for the next round');
      continue;
    }
    await removeSpool(file);
    log.info({ attachment, ...done }, 'spooled DEL carried out');
  }
}

/** A plugin killed between creating its temp file and the rename leaves the temp file: gone after this long. */
const STALE_TEMP_MS = 60_000;

/** Deletes spool temp files (any "*.tmp": the TS writer's ".<name>.<pid>.<random>.tmp", the native plugin's
 *  "<name>.<pid>.tmp") older than STALE_TEMP_MS; returns how many went. */
export async function removeStaleSpoolTemps(stateDir: string, nowMs: number): Promise<number> {
  const dir = spoolDir(stateDir);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  let n = 0;
  for (const name of names.filter((x) => x.endsWith('.tmp'))) {
    const file = path.join(dir, name);
    const st = await fs.lstat(file).catch(() => undefined);
    if (!st || nowMs - st.mtimeMs < STALE_TEMP_MS) continue;
    await fs.rm(file, { force: true });
    n++;
  }
  return n;
}

/** Runs `work` every intervalMs (after the previous run finished) until the returned stop() is called; a failing
 *  run is logged and the next one comes all the same. */
export function every(intervalMs: number, work: () => Promise<void>, log: Logger): () => void {
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    await work().catch((err: Error) => log.error({ err: err.message }, 'housekeeping failed'));
    if (timer) timer = setTimeout(() => void tick(), intervalMs).unref();
  };
  timer = setTimeout(() => void tick(), intervalMs).unref();
  return () => {
    clearTimeout(timer);
    timer = undefined;
  };
}
