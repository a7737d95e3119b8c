// Which network namespace an ADD may make the daemon work in. CNI_NETNS comes from whoever can reach the socket:
// it must name a pod's namespace under the host prefix, never the daemon's own (the host's, where an ADD would
// bring a host link up, run DHCP on it, and on expiry take it down).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isNetnsPath } from './transport/netns';

/** A namespace file as identified when it was checked: the same path naming another (dev, inode) later is another
 *  namespace. */
export interface PodNetns {
  path: string;
  dev: number;
  inode: number;
}

/** A path the daemon must never use as a pod's namespace (as opposed to one that is merely gone). */
export class RefusedNetns extends Error {}

/** The path the daemon opens for `netns` (absolute, as the runtime passed it): under `hostPrefix` after
 *  normalisation, without any `..` component. Returns why not as an Error. */
export function podNetnsPath(hostPrefix: string, netns: string): string | RefusedNetns {
  if (!path.isAbsolute(netns)) return new RefusedNetns(`${JSON.stringify(netns)} is not an absolute path`);
  if (netns.split('/').includes('..')) return new RefusedNetns(`${JSON.stringify(netns)} contains ".."`);
  if (hostPrefix === '') return path.normalize(netns);
  const root = path.resolve(hostPrefix);
  const full = path.normalize(path.join(root, netns));
  return full.startsWith(root === '/' ? root : `${root}/`) ? full : new RefusedNetns(`${JSON.stringify(netns)} is outside the host prefix ${root}`);
}

let own: Promise<{ dev: number; ino: number }> | undefined;

/** The daemon's own network namespace (read once: the JS thread never changes namespace). */
function ownNetns(): Promise<{ dev: number; ino: number }> {
  own ??= fs.stat('/proc/self/ns/net').then((st) => ({ dev: st.dev, ino: st.ino }));
  return own;
}

/** Checks `netns` for use as a pod namespace: a path under the prefix, a network namespace file, not the daemon's
 *  own namespace. Returns its identity, or why not: a RefusedNetns, or an Error when it is no namespace (any
 *  more). Nothing is entered or changed. */
export async function checkPodNetns(hostPrefix: string, netns: string): Promise<PodNetns | Error> {
  const p = podNetnsPath(hostPrefix, netns);
  if (p instanceof Error) return p;
  const ns = await isNetnsPath(p);
  if (!ns.ok) return new Error(ns.reason);
  const st = await fs.stat(p).catch((err: Error) => err);
  if (st instanceof Error) return st;
  const mine = await ownNetns();
  if (st.dev === mine.dev && st.ino === mine.ino) return new RefusedNetns(`${p} is the daemon's own network namespace, not a pod's`);
  return { path: p, dev: st.dev, inode: st.ino };
}
