// Notices pod netns files disappearing (`ip netns del`, a runtime removing its sandbox) as they happen, through
// inotify on the directories that hold them (one descriptor per directory, none per lease), so the periodic sweep
// of every lease can be slow and an idle node with a thousand leases stays idle.
import { FSWatcher, watch } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { NetnsWatcher } from '../pod-port';

export class NetnsWatch implements NetnsWatcher {
  private readonly watchers = new Map<string, FSWatcher>();

  /** `onChanged(path)`: the file `path` of a watched directory was created, deleted or renamed, and the caller
   *  checks the leases of that path alone (every other pod on the node comes and goes through the same directory);
   *  `onChanged(undefined)`: the change names no file (the directory itself), and the caller checks every lease. */
  constructor(private readonly onChanged: (path: string | undefined) => void) {}

  /** Starts watching the directory of `netnsPath` unless it is watched already. A path that cannot be watched
   *  (e.g. /proc/PID/ns/net) is left to the periodic sweep. */
  watch(netnsPath: string): void {
    const dir = dirname(netnsPath);
    if (this.watchers.has(dir)) return;
    try {
      // libuv names the directory's own base name for an event on the directory itself (deleted, moved).
      const w = watch(dir, { persistent: false }, (_event, file) =>
        this.onChanged(file && file !== basename(dir) ? join(dir, file) : undefined),
      );
      w.on('error', () => {
        w.close();
        this.watchers.delete(dir);
      });
      this.watchers.set(dir, w);
    } catch {
      // Not watchable: the sweep covers it.
    }
  }

  /** Stops watching every directory that holds none of `netnsPaths` (the leases left): a node whose pods moved to
   *  another netns directory does not keep a descriptor on the old one. */
  retain(netnsPaths: Iterable<string>): void {
    const needed = new Set([...netnsPaths].map((p) => dirname(p)));
    for (const [dir, w] of this.watchers) {
      if (needed.has(dir)) continue;
      w.close();
      this.watchers.delete(dir);
    }
  }

  /** The directories watched now. */
  get dirs(): string[] {
    return [...this.watchers.keys()];
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
