// CNI CHECK of an attachment's DHCPv6 lease: bound, not expired, taken in this namespace, and its address on the
// interface (compared with prevResult by the CNI layer). Like lease-check.ts, it only reads.
import { Lease6Facts, attachmentKey } from '../common/rpc';
import type { CheckParams } from './registry-api';
import { DaemonError } from './errors';
import type { Lease6Runner } from './lease6-runner';
import { CheckDeps, readInterface } from './lease-check';
import type { PodNetns } from './pod-port';

export interface Check6 {
  facts6: Lease6Facts;
  interfaceAddresses6: { address: string; prefixLength: number }[];
}

/** The lease and the interface's IPv6 addresses, or CNI error 101 saying what does not match. `recorded`: the
 *  namespace as checked at ADD. */
export async function checkLease6(
  runner: Lease6Runner,
  recorded: PodNetns | undefined,
  p: CheckParams,
  deps: CheckDeps,
): Promise<Check6> {
  const key = attachmentKey(p);
  if (runner.params.netns !== p.netns)
    throw new DaemonError('mismatch', `DHCPv6 lease for ${key} was taken in ${runner.params.netns}, not ${p.netns}`);
  const s = runner.state;
  if (!runner.bound || !runner.facts || !('lease' in s))
    throw new DaemonError('mismatch', `DHCPv6 lease for ${key} is not bound (state ${s.state})`);
  const { expiresAtMs } = s.lease;
  if (expiresAtMs !== null && expiresAtMs <= deps.now())
    throw new DaemonError('mismatch', `DHCPv6 lease for ${key} expired at ${new Date(expiresAtMs).toISOString()}`);
  const addresses = await readInterface(recorded, p, deps, (side) => side.addresses6());
  const interfaceAddresses6 = addresses
    .filter((a) => !a.linkLocal && !a.dadFailed)
    .map(({ address, prefixLength }) => ({ address, prefixLength }));
  return { facts6: runner.facts, interfaceAddresses6 };
}
