// CNI CHECK of one lease: what the daemon holds is compared with what the runtime says and with the pod's interface
// as it is now. CHECK only reads: it never opens a socket or sends.
import { attachmentKey } from '../common/rpc';
import { CheckParams, CheckResult } from './registry-api';
import { DaemonError } from './errors';
import type { LeaseRunner } from './lease-runner';
import type { PodNetns, PodPort, PodSide } from './pod-port';

export interface CheckDeps {
  port: PodPort;
  now(): number;
  /** CNI_NETNS checked as ADD checks it (a bad-netns DaemonError when it cannot be used). */
  podNetns(netns: string): Promise<PodNetns>;
}

/** The lease's facts and the interface's addresses, or CNI error 101 saying what does not match. `recorded`: the
 *  namespace as checked at ADD. */
export async function checkLease(
  runner: LeaseRunner,
  recorded: PodNetns | undefined,
  p: CheckParams,
  deps: CheckDeps,
): Promise<CheckResult> {
  const key = attachmentKey(p);
  if (runner.params.netns !== p.netns) {
    throw new DaemonError('mismatch', `lease for ${key} was taken in ${runner.params.netns}, not ${p.netns}`);
  }
  if (!runner.bound || !runner.facts) {
    throw new DaemonError('mismatch', `lease for ${key} is not bound (state ${runner.state.state})`);
  }
  if (runner.changedTo !== undefined) {
    throw new DaemonError(
      'mismatch',
      `lease for ${key} changed from ${runner.configuredAddress} to ${runner.changedTo} after it expired; the pod's interface still has ${runner.configuredAddress} (held down): re-create the attachment`,
    );
  }
  const s = runner.state;
  const expiresAtMs = 'lease' in s ? s.lease.expiresAtMs : null;
  if (expiresAtMs !== null && expiresAtMs <= deps.now()) {
    throw new DaemonError('mismatch', `lease for ${key} expired at ${new Date(expiresAtMs).toISOString()}`);
  }
  const link = await readInterface(recorded, p, deps, (side) => side.info());
  const out: CheckResult = { facts: runner.facts, state: s.state, interfaceAddresses: link.addresses };
  if (expiresAtMs !== null) out.expiresAt = new Date(expiresAtMs).toISOString();
  return out;
}

/** What `read` says of the pod's interface now, once the namespace is found to be the one named at ADD (`recorded`);
 *  CNI error 101 when it is not, or when the interface cannot be read. */
export async function readInterface<T>(
  recorded: PodNetns | undefined,
  p: CheckParams,
  deps: CheckDeps,
  read: (side: PodSide) => Promise<T>,
): Promise<T> {
  const ns = await deps.podNetns(p.netns);
  if (recorded && (recorded.dev !== ns.dev || recorded.inode !== ns.inode)) {
    throw new DaemonError(
      'mismatch',
      `${p.netns} names another namespace than at ADD (inode ${ns.inode}, was ${recorded.inode})`,
    );
  }
  try {
    return await read(deps.port.side(ns, p.ifName));
  } catch (err) {
    throw new DaemonError(
      'mismatch',
      `CNI_IFNAME ${JSON.stringify(p.ifName)} is not usable in ${p.netns}: ${(err as Error).message}`,
    );
  }
}
