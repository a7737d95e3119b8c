// Start-up: the stored leases taken over. A live attachment (the netns path names the same namespace, the interface
// with the same MAC is in it) is back in the table at once, so ADD, DEL and the lease view see it, and is
// re-verified with the server after a random delay (spread: many leases must not flood the server). A dead one's
// record is dropped, its lease released from the host when it can be.
import { attachmentKey } from '../common/rpc';
import type { Rng } from './dhcp/rng';
import type { LeaseRunner, Takeover } from './lease-runner';
import type { Logger } from './log';
import { RefusedNetns, checkPodNetns, netnsGone } from './pod-netns';
import type { PodNetns, PodPort } from './pod-port';
import { takeover } from './resume';
import { AnyLeaseRecord, LeaseRecord, LeaseRecord6, LeaseStore, LoadedRecord, familyOf } from './store';

/** Resuming is spread over time: this much per lease, at most RESUME_SPREAD_MAX_MS in all. */
const RESUME_SPREAD_PER_LEASE_MS = 20;
const RESUME_SPREAD_MAX_MS = 30_000;

export interface RestoreDeps {
  port: PodPort;
  hostPrefix: string;
  log: Logger;
  store?: LeaseStore;
  now(): number;
  rng: Rng;
  minLeaseTimeS: number;
  /** A dead attachment's lease: released from the host when it can be, its record removed; says what happened. */
  dropRecord(rec: AnyLeaseRecord): Promise<string>;
  /** Puts a runner taken over from `rec` into the table. */
  adopt(rec: LeaseRecord, ns: PodNetns, takeover: Takeover): LeaseRunner;
  /** The same for a DHCPv6 lease; absent: v6 records of live attachments stay on disk, not resumed. */
  adopt6?(rec: LeaseRecord6, ns: PodNetns): Adopted;
  /** Runs `fn` in turn with the attachment's other operations, if `runner` is still its lease then. */
  whenCurrent(key: string, runner: Resumable, fn: () => void): void;
}

export async function restoreRecords(loaded: LoadedRecord[], deps: RestoreDeps): Promise<void> {
  const spreadMs = Math.min(RESUME_SPREAD_MAX_MS, loaded.length * RESUME_SPREAD_PER_LEASE_MS);
  for (const { file, record } of loaded) {
    // Each record on its own: whatever goes wrong with one costs that lease, never the others or the daemon.
    await restoreOne(record, spreadMs, deps).catch(async (err: Error) => {
      if (deps.store) await deps.store.setAside(file, `cannot resume: ${err.message}`);
      else deps.log.error({ file, err: err.message }, 'stored lease not resumed');
    });
  }
}

/** A lease runner back in the table, to be re-verified with the server once its turn comes. */
export interface Resumable {
  resume(): void;
}

/** A runner taken over, with the state it resumes in and the address it holds (for the log line). */
export interface Adopted {
  runner: Resumable;
  next: string;
  address?: string;
}

async function restoreOne(rec: AnyLeaseRecord, spreadMs: number, deps: RestoreDeps): Promise<void> {
  const { port, log, now } = deps;
  const key = attachmentKey(rec.params);
  // A record's netns gets the checks of an ADD's: a record is a file, and may have been edited.
  const ns = await checkPodNetns(port, deps.hostPrefix, rec.params.netns);
  if (ns instanceof RefusedNetns) throw ns;
  const gone = ns instanceof Error ? ns.message : await attachmentGone(port, ns, rec);
  if (gone) {
    const hostRelease = await deps.dropRecord(rec);
    log.info({ attachment: key, reason: gone, hostRelease }, 'stored lease dropped: attachment gone');
    return;
  }
  const family = familyOf(rec);
  let adopted: Adopted;
  if ('family' in rec) {
    if (!deps.adopt6) {
      log.warn({ attachment: key, family }, 'stored DHCPv6 lease left on disk: this daemon does not resume v6 leases');
      return;
    }
    adopted = deps.adopt6(rec, ns as PodNetns);
  } else {
    const plan = takeover(rec, now(), deps.minLeaseTimeS);
    const runner = deps.adopt(rec, ns as PodNetns, plan);
    adopted = { runner, next: plan.next.state, address: runner.facts?.address };
  }
  const { runner, next, address } = adopted;
  const delayMs = Math.floor(deps.rng.next() * spreadMs);
  log.info({ attachment: key, family, state: next, address, delayMs }, 'resuming stored lease');
  setTimeout(() => deps.whenCurrent(key, runner, () => runner.resume()), delayMs).unref();
}

/** Whether the recorded attachment is gone: its netns path names another namespace now, or the interface with its
 *  MAC is not in it (one lookup inside the netns). A running lease notices a removed interface at its next
 *  transaction instead (ENODEV → linkGone). */
async function attachmentGone(port: PodPort, ns: PodNetns, rec: AnyLeaseRecord): Promise<string | undefined> {
  const other = netnsGone(ns.path, ns.inode, rec.netnsInode);
  if (other) return other;
  const ifName = rec.params.ifName;
  try {
    const link = await port.side(ns, ifName).info();
    if (normalMac(link.mac) !== normalMac(rec.mac)) return `${ifName} has MAC ${link.mac}, not ${rec.mac}`;
  } catch (err) {
    return `${ifName}: ${(err as Error).message}`;
  }
  return undefined;
}

function normalMac(mac: string): string {
  return mac.replace(/[:-]/g, '').toLowerCase();
}
