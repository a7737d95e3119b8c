// A file replaced so that a crash or a power cut leaves the old content or the new, never a torn file: a temp file of
// a fresh random name opened O_EXCL|O_NOFOLLOW (a planted file or symlink is never written through), fsync, rename
// over the name, fsync of the directory. The lease store writes its records so; tests write DEL spool records so,
// as the native plugin does (native/plugin/spool.c).
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, promises as fs } from 'node:fs';
import * as path from 'node:path';

/** What a temp file's name ends with: a leftover one (a crash mid-write) may be deleted by whoever reads `dir`. */
export const TEMP_SUFFIX = '.tmp';

/** Replaces `dir/name` with `text` (file mode 0600), durably. */
export async function writeDurably(dir: string, name: string, text: string): Promise<void> {
  const temp = path.join(dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fsConstants;
  const fh = await fs.open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await fs.rm(temp, { force: true });
    throw err;
  }
  await fh.close();
  await fs.rename(temp, path.join(dir, name));
  await syncDir(dir);
}

/** Makes a rename or an unlink in `dir` itself durable. */
export async function syncDir(dir: string): Promise<void> {
  const dh = await fs.open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
