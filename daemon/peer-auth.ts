// Who may use the daemon's socket: root (or the daemon's own user), and members of the group named by
// --socket-group. The socket file's mode says the same; SO_PEERCRED makes it hold when the file's mode or directory
// is wrong, or the socket came from systemd with a mode of its own.
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { PeerCred } from './transport/native-addon';
import { peerCred } from './transport/netns';

/** The supplementary groups of a process (/proc/PID/status "Groups:"), empty when it cannot be read. */
function groupsOf(pid: number): number[] {
  try {
    const line = /^Groups:(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
    return line.trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** A check for serveRpc's `authorize`: undefined when the peer may talk to the daemon, else why not. */
export function peerAuthorizer(
  allowedGid: number | undefined,
  cred: (fd: number) => PeerCred = peerCred,
  groups = groupsOf,
): (sock: Socket) => string | undefined {
  const self = process.geteuid?.() ?? 0;
  return (sock) => {
    // Node keeps the accepted descriptor on its handle; there is no public API for it.
    const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) return 'no descriptor to read the peer credentials of';
    let c: PeerCred;
    try {
      c = cred(fd);
    } catch (err) {
      return `peer credentials: ${(err as Error).message}`;
    }
    if (c.uid === 0 || c.uid === self) return undefined;
    if (allowedGid !== undefined && (c.gid === allowedGid || groups(c.pid).includes(allowedGid))) return undefined;
    return `uid ${c.uid} (pid ${c.pid}) is neither root${allowedGid === undefined ? '' : ` nor in group ${allowedGid}`}`;
  };
}

/** A group name or number (--socket-group) as a gid, from /etc/group; an Error naming it when unknown. */
export function resolveGroup(name: string, groupFile = '/etc/group'): number | Error {
  if (/^\d+$/.test(name)) return Number(name);
  let text: string;
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch (err) {
    return new Error(`cannot read ${groupFile}: ${(err as Error).message}`);
  }
  for (const line of text.split('\n')) {
    const [n, , gid] = line.split(':');
    if (n === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return new Error(`no group ${JSON.stringify(name)} in ${groupFile}`);
}
