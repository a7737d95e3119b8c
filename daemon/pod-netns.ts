// Which network namespace an ADD may make the daemon work in. CNI_NETNS comes from whoever can reach the socket:
// it must name a pod's namespace under the host prefix, never the daemon's own (the host's, where an ADD would
// bring a host link up, run DHCP on it, and on expiry take it down).
import * as path from 'node:path';
import { DaemonError } from './errors';
import type { PodNetns, PodPort } from './pod-port';

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
  return full.startsWith(root === '/' ? root : `${root}/`)
    ? full
    : new RefusedNetns(`${JSON.stringify(netns)} is outside the host prefix ${root}`);
}

/** Checks `netns` for use as a pod namespace: a path under the prefix, a network namespace file, not the daemon's
 *  own namespace. Returns its identity, or why not: a RefusedNetns, or an Error when it is no namespace (any
 *  more). Nothing is entered or changed. */
export async function checkPodNetns(port: PodPort, hostPrefix: string, netns: string): Promise<PodNetns | Error> {
  const p = podNetnsPath(hostPrefix, netns);
  if (p instanceof Error) return p;
  const id = await port.netnsId(p);
  if (id instanceof Error) return id;
  const mine = await port.ownNetns();
  if (id.dev === mine.dev && id.inode === mine.inode)
    return new RefusedNetns(`${p} is the daemon's own network namespace, not a pod's`);
  return { path: p, ...id };
}

/** checkPodNetns for an ADD or CHECK: the namespace, or a 'bad-netns' DaemonError (CNI error 4) saying why not. */
export async function podNetnsFor(port: PodPort, hostPrefix: string, netns: string): Promise<PodNetns> {
  const ns = await checkPodNetns(port, hostPrefix, netns);
  if (ns instanceof Error) throw new DaemonError('bad-netns', `CNI_NETNS ${JSON.stringify(netns)}: ${ns.message}`);
  return ns;
}

/** A stat that says the namespace file is gone: the file, or a directory on its path, no longer exists. */
const GONE = new Set(['ENOENT', 'ENOTDIR']);

/** Whether the namespace file still names the namespace of inode `was`, from what port.inode said of it now:
 *  undefined when it does, or when the stat failed for a reason that says nothing of the pod (EACCES, EIO, EMFILE:
 *  dropping the lease on it would lose a live pod's lease), else why not. */
export function netnsGone(netnsPath: string, now: number | Error, was: number): string | undefined {
  if (now instanceof Error) {
    const code = (now as NodeJS.ErrnoException).code;
    return code !== undefined && GONE.has(code) ? `netns ${netnsPath}: ${code}` : undefined;
  }
  return now === was ? undefined : `netns ${netnsPath} names another namespace (inode ${now}, was ${was})`;
}

/** One interface of one namespace, whatever path names it: no two attachments may share one. */
export function interfaceId(ns: PodNetns, ifName: string): string {
  return `${ns.dev}:${ns.inode}/${ifName}`;
}
