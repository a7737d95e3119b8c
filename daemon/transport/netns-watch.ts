// Notices pod netns files disappearing (`ip netns del`, a runtime removing its sandbox) as they happen, through
// inotify on the directories that hold them (one descriptor for all, none per lease), so the periodic sweep of every
// lease can be slow and an idle node with a thousand leases stays idle. Only deletions and renames wake the daemon
// (native/src/dirwatch.c): the pods of every network on the node are created in the same directory.
import { dirname } from 'node:path';
import type { NetnsWatcher } from '../pod-port';
import { inotifyEvents } from './inotify';
import { DirWatch, inotifyMasks } from './netns';

export class NetnsWatch implements NetnsWatcher {
  private inotify?: DirWatch;
  /** Watched directory -> its watch descriptor, and back. */
  private readonly wds = new Map<string, number>();
  private readonly dirOf = new Map<number, string>();

  /** `onChanged(path)`: the file `path` of a watched directory was deleted or renamed away, and the caller checks
   *  the leases of that path alone (every other pod on the node comes and goes through the same directory);
   *  `onChanged(undefined)`: the change names no file (the directory itself, or events were lost: the queue
   *  overflowed), and the caller checks every lease. */
  constructor(private readonly onChanged: (path: string | undefined) => void) {}

  /** Starts watching the directory of `netnsPath` unless it is watched already. A path that cannot be watched
   *  (e.g. /proc/PID/ns/net) is left to the periodic sweep. */
  watch(netnsPath: string): void {
    const dir = dirname(netnsPath);
    if (this.wds.has(dir)) return;
    try {
      this.inotify ??= new DirWatch((events) => this.onEvents(events));
      const wd = this.inotify.add(dir);
      this.wds.set(dir, wd);
      this.dirOf.set(wd, dir);
    } catch {
      // Not watchable: the sweep covers it.
    }
  }

  /** Stops watching every directory that holds none of `netnsPaths` (the leases left): a node whose pods moved to
   *  another netns directory does not keep a watch on the old one. */
  retain(netnsPaths: Iterable<string>): void {
    const unneeded = new Set(this.wds.keys());
    for (const p of netnsPaths) {
      // Most often the first lease's directory is the only one watched: the rest of the leases need no look.
      if (unneeded.size === 0) return;
      unneeded.delete(dirname(p));
    }
    for (const dir of unneeded) this.forget(this.wds.get(dir) as number, true);
  }

  /** The directories watched now. */
  get dirs(): string[] {
    return [...this.wds.keys()];
  }

  close(): void {
    this.inotify?.close();
    this.inotify = undefined;
    this.wds.clear();
    this.dirOf.clear();
  }

  private onEvents(events: Buffer): void {
    const { IN_DELETE, IN_DELETE_SELF, IN_IGNORED, IN_MOVED_FROM, IN_MOVE_SELF, IN_Q_OVERFLOW, IN_UNMOUNT } =
      inotifyMasks();
    // The directory itself went (deleted, moved, its file system unmounted) or its watch did.
    const dirGone = IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED;
    for (const { wd, mask, name } of inotifyEvents(events)) {
      if (mask & IN_Q_OVERFLOW) this.onChanged(undefined);
      const dir = this.dirOf.get(wd);
      if (dir === undefined) continue; // a watch removed here (IN_IGNORED follows rm_watch)
      if (mask & dirGone) {
        // A later lease in a directory of this name watches it afresh.
        this.forget(wd, !(mask & IN_IGNORED));
        this.onChanged(undefined);
      } else if (mask & (IN_DELETE | IN_MOVED_FROM) && name) {
        // Not path.join: a name from inotify has no slash to normalise, and every event of the node's pods comes here.
        this.onChanged(dir === '/' ? `/${name}` : `${dir}/${name}`);
      }
    }
  }

  private forget(wd: number, remove: boolean): void {
    const dir = this.dirOf.get(wd);
    if (dir !== undefined) this.wds.delete(dir);
    this.dirOf.delete(wd);
    if (remove) this.inotify?.remove(wd);
  }
}
