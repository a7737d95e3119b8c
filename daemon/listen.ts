// Where the daemon listens: the socket systemd hands over (LISTEN_FDS, socket activation), or its own unix socket
// file, created 0600. A stale file left by a crashed daemon is replaced; a live daemon's socket is never taken.
import { lstatSync, mkdirSync, unlinkSync, chmodSync, chownSync } from 'node:fs';
import { Server, createConnection, createServer } from 'node:net';
import { dirname } from 'node:path';

/** sd_listen_fds(3): the first passed descriptor. */
const SD_LISTEN_FDS_START = 3;

export interface Listening {
  server: Server;
  /** True when this process created the socket file and must remove it on exit. */
  ownsSocketFile: boolean;
  activated: boolean;
}

/** The activation descriptor when systemd (or systemd-socket-activate) passed one to this very process. */
function activationFd(env: NodeJS.ProcessEnv): number | undefined {
  if (env.LISTEN_PID !== String(process.pid) || !env.LISTEN_FDS) return undefined;
  const n = Number(env.LISTEN_FDS);
  if (!Number.isInteger(n) || n < 1) return undefined;
  // Not for our children.
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
  return SD_LISTEN_FDS_START;
}

function isLive(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const c = createConnection(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false);
      else reject(new Error(`cannot probe existing socket ${path}: ${err.message}`));
    });
  });
}

async function removeStale(path: string): Promise<boolean> {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return false;
  }
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
  if (await isLive(path)) throw new Error(`another daemon is already serving on ${path}`);
  unlinkSync(path);
  return true;
}

function listenOn(server: Server, target: string | { fd: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(target, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** `groupId`: besides root, this group may connect (the socket file becomes root:GROUP 0660). */
export async function listen(socketPath: string, onStale: () => void, groupId?: number): Promise<Listening> {
  const server = createServer();
  const fd = activationFd(process.env);
  if (fd !== undefined) {
    await listenOn(server, { fd });
    return { server, ownsSocketFile: false, activated: true };
  }
  const dir = dirname(socketPath);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (await removeStale(socketPath)) onStale();
  // The umask makes the file 0600 from the moment it exists; the chmod states the intent.
  const old = process.umask(0o177);
  try {
    await listenOn(server, socketPath);
  } finally {
    process.umask(old);
  }
  if (groupId !== undefined) chownSync(socketPath, process.geteuid?.() ?? 0, groupId);
  chmodSync(socketPath, groupId === undefined ? 0o600 : 0o660);
  return { server, ownsSocketFile: true, activated: false };
}
