// The events of one inotify read (inotify(7)): struct inotify_event { int wd; uint32_t mask, cookie, len; char
// name[len]; }, in the host's byte order, the name NUL-padded. Read from bytes the addon hands over as they are; the
// mask is left as read (its bits: the addon's inotifyMasks).
import { endianness } from 'node:os';

export interface InotifyEvent {
  wd: number;
  mask: number;
  /** The file in the watched directory; '' for an event of the directory itself (or of the queue). */
  name: string;
}

const HEADER = 16;
const LE = endianness() === 'LE';

/** Every whole event in `buf`; a truncated tail (never written by the kernel) is left out. DataView and indexing,
 *  not Buffer's read methods: the daemon runs in lite mode, where every call into Node's JS is interpreted. */
export function inotifyEvents(buf: Buffer): InotifyEvent[] {
  const out: InotifyEvent[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let at = 0; at + HEADER <= buf.length;) {
    const start = at + HEADER;
    const end = start + view.getUint32(at + 12, LE);
    if (end > buf.length) break;
    let nameEnd = start;
    while (nameEnd < end && buf[nameEnd] !== 0) nameEnd++;
    out.push({
      wd: view.getInt32(at, LE),
      mask: view.getUint32(at + 4, LE),
      name: nameEnd === start ? '' : buf.toString('utf8', start, nameEnd),
    });
    at = end;
  }
  return out;
}
