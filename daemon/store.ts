// The durable lease store: one JSON record per lease in <stateDir>/leases/, written atomically (temp file in the
// same directory, fsync, rename, fsync of the directory), so a kill -9 at any instant leaves either the old record or
// the new one, never half of one. Writes for one lease are serialised; a corrupt record is set aside, not fatal.
// An attachment has a record per address family: IPv4 records keep the format they always had (no `family`), DHCPv6
// ones say `family: "ipv6"` and sit beside them (<hash>.v6.json).
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Attachment } from '../common/rpc';
import { AddParams, IpFamily } from './registry-api';
import { ClientConfig, LeaseState } from './dhcp/lease';
import type { ClientConfig6, Lease6State } from './dhcp6/lease';
import type { Logger } from './log';
import { TEMP_SUFFIX, syncDir, writeDurably } from './durable-file';
import { checkRecord } from './record-check';
import { checkRecord6 } from './record-check6';

export const RECORD_VERSION = 1;

/** What resuming a lease after a restart needs. Plain JSON. */
export interface LeaseRecord {
  version: typeof RECORD_VERSION;
  attachment: Attachment;
  /** The ADD that created the lease (netns as the runtime passed it, args, options). */
  params: AddParams;
  /** Inode of the netns file at ADD: the same path naming another namespace is another pod. */
  netnsInode: number;
  mac: string;
  cfg: ClientConfig;
  /** The core's state as of the last persist action. */
  state: LeaseState;
  /** The last ACK, base64 of its encoding; absent before the first one. */
  ack?: string;
  serverId?: string;
  /** Copies of the core's absolute deadlines (ms since the epoch), for people reading the file. */
  t1AtMs?: number | null;
  t2AtMs?: number | null;
  expiresAtMs?: number | null;
  savedAtMs: number;
}

/** What resuming a DHCPv6 lease needs (daemon/dhcp6/lease.ts); the same attachment fields as LeaseRecord. */
export interface LeaseRecord6 {
  version: typeof RECORD_VERSION;
  family: 'ipv6';
  attachment: Attachment;
  params: AddParams;
  netnsInode: number;
  /** The pod interface's MAC at ADD: an interface re-created since is another attachment. */
  mac: string;
  /** DUID, IAID, ORO, Rapid Commit, retransmission parameters. */
  cfg: ClientConfig6;
  state: Lease6State;
  /** The last REPLY that granted the address, base64 of its encoding; absent before the first one. */
  reply?: string;
  /** The address's prefix length in ADD's result (the on-link prefix of the link's RAs, else 128). */
  prefixLength?: number;
  /** For people reading the file: the server's DUID (hex) and copies of the core's absolute deadlines (ms since the
   *  epoch), preferredUntilMs the end of the preferred lifetime. */
  serverDuid?: string;
  t1AtMs?: number | null;
  t2AtMs?: number | null;
  preferredUntilMs?: number | null;
  expiresAtMs?: number | null;
  savedAtMs: number;
}

export type AnyLeaseRecord = LeaseRecord | LeaseRecord6;

export function familyOf(record: AnyLeaseRecord): IpFamily {
  return 'family' in record ? record.family : 'ipv4';
}

export interface LoadedRecord {
  file: string;
  record: AnyLeaseRecord;
}

const RECORD_SUFFIX = '.json';
const V6_SUFFIX = '.v6' + RECORD_SUFFIX;
/** A record file larger than this is set aside unread: the largest params and REPLY a record can hold are far less. */
export const MAX_RECORD_BYTES = 1 << 20;
const CORRUPT_SUFFIX = '.corrupt';
/** A record set aside stays this long for someone to look at, then goes. */
export const CORRUPT_KEEP_MS = 7 * 24 * 3600 * 1000;

/** The record's file name: a hash of the attachment key, since container IDs and network names may hold any byte;
 *  the DHCPv6 record of the same attachment beside it. */
export function recordName(key: string, family: IpFamily = 'ipv4'): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 40) + (family === 'ipv6' ? V6_SUFFIX : RECORD_SUFFIX);
}

export class LeaseStore {
  readonly dir: string;
  private readonly queues = new Map<string, Promise<void>>();
  private readonly now: () => number;
  private readonly onCorrupt?: (what: 'set_aside' | 'expired') => void;
  /** The *.corrupt files the last expiry left plus those set aside since (undefined: not read yet): an idle daemon
   *  reads its directory of records once a minute only while one waits to expire. */
  private corruptLeft?: number;

  /** `now`: the daemon's clock (a record set aside is dated by it); `onCorrupt`: counts records set aside and
   *  expired (metrics). */
  constructor(
    stateDir: string,
    private readonly log: Logger,
    o: { now: () => number; onCorrupt?: (what: 'set_aside' | 'expired') => void },
  ) {
    this.dir = path.join(stateDir, 'leases');
    this.now = o.now;
    this.onCorrupt = o.onCorrupt;
  }

  /** Creates the state and lease directories (0700) if needed and tightens their modes. */
  async init(): Promise<void> {
    const stateDir = path.dirname(this.dir);
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await fs.chmod(stateDir, 0o700);
    await fs.chmod(this.dir, 0o700);
  }

  /** Writes the record for `key` (of the record's family), replacing the previous one atomically. */
  save(key: string, record: AnyLeaseRecord): Promise<void> {
    const name = recordName(key, familyOf(record));
    return this.enqueue(name, () => writeDurably(this.dir, name, JSON.stringify(record)));
  }

  /** Removes the record of `family` for `key` (no error when there is none). */
  remove(key: string, family: IpFamily = 'ipv4'): Promise<void> {
    const name = recordName(key, family);
    return this.enqueue(name, async () => {
      await fs.rm(path.join(this.dir, name), { force: true });
      await syncDir(this.dir);
    });
  }

  /** Resolves once every write queued so far has finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.queues.values()]);
  }

  /** Reads every record. Leftover temp files (a crash mid-write) are deleted; unreadable records are renamed to
   *  *.corrupt with a log line, and the others load. */
  async load(): Promise<LoadedRecord[]> {
    const out: LoadedRecord[] = [];
    for (const name of (await fs.readdir(this.dir)).sort()) {
      const file = path.join(this.dir, name);
      if (name.endsWith(TEMP_SUFFIX)) {
        await fs.rm(file, { force: true });
        continue;
      }
      if (!name.endsWith(RECORD_SUFFIX)) continue;
      let text: string;
      try {
        const st = await fs.lstat(file);
        if (!st.isFile()) {
          await this.setAside(file, 'not a regular file');
          continue;
        }
        if (st.size > MAX_RECORD_BYTES) {
          await this.setAside(file, `${st.size} bytes, more than a record can be (${MAX_RECORD_BYTES})`);
          continue;
        }
        text = await fs.readFile(file, 'utf8');
      } catch (err) {
        this.log.error({ file, err: (err as Error).message }, 'cannot read lease record');
        continue;
      }
      const parsed = parseRecord(text);
      if (typeof parsed !== 'string' && (familyOf(parsed) === 'ipv6') !== name.endsWith(V6_SUFFIX)) {
        await this.setAside(file, `an ${familyOf(parsed)} record in a file named for the other family`);
        continue;
      }
      if (typeof parsed === 'string') {
        await this.setAside(file, parsed);
        continue;
      }
      out.push({ file, record: parsed });
    }
    return out;
  }

  /** Renames a record that cannot be used to *.corrupt (kept CORRUPT_KEEP_MS for a person to read), with a log
   *  line saying why. A record that cannot even be renamed is logged and left. */
  async setAside(file: string, reason: string): Promise<void> {
    const movedTo = file + CORRUPT_SUFFIX;
    try {
      await fs.rename(file, movedTo);
      // Its mtime says when it was set aside: expireCorrupt counts from there.
      const at = new Date(this.now());
      await fs.utimes(movedTo, at, at);
      await syncDir(this.dir);
      this.onCorrupt?.('set_aside');
      if (this.corruptLeft !== undefined) this.corruptLeft++;
      this.log.error({ file, reason, movedTo }, 'corrupt lease record set aside');
    } catch (err) {
      this.log.error({ file, reason, err: (err as Error).message }, 'corrupt lease record could not be set aside');
    }
  }

  /** Deletes the *.corrupt files set aside more than CORRUPT_KEEP_MS ago; returns how many went. */
  async expireCorrupt(nowMs: number): Promise<number> {
    if (this.corruptLeft === 0) return 0;
    let n = 0;
    let left = 0;
    for (const name of await fs.readdir(this.dir)) {
      if (!name.endsWith(CORRUPT_SUFFIX)) continue;
      const file = path.join(this.dir, name);
      const st = await fs.lstat(file).catch(() => undefined);
      if (!st) continue; // gone meanwhile
      if (nowMs - st.mtimeMs < CORRUPT_KEEP_MS) {
        left++;
        continue;
      }
      await fs.rm(file, { force: true });
      this.onCorrupt?.('expired');
      this.log.info({ file }, 'corrupt lease record expired');
      n++;
    }
    this.corruptLeft = left;
    return n;
  }

  /** Runs op after the writes queued for the same record file. */
  private enqueue(name: string, op: () => Promise<void>): Promise<void> {
    const prev = this.queues.get(name) ?? Promise.resolve();
    const run = prev.then(op);
    const tail = run.catch(() => undefined);
    this.queues.set(name, tail);
    void tail.then(() => {
      if (this.queues.get(name) === tail) this.queues.delete(name);
    });
    return run;
  }
}

/** The record, or why it is unusable (daemon/record-check.ts and record-check6.ts check every field resuming relies
 *  on). A record without `family` is an IPv4 one, as every record was before DHCPv6. */
export function parseRecord(text: string): AnyLeaseRecord | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object';
  const r = v as Record<string, unknown>;
  if (r.version !== RECORD_VERSION) return `version ${JSON.stringify(r.version)}, expected ${RECORD_VERSION}`;
  if (r.family === undefined) return checkRecord(r);
  if (r.family === 'ipv6') return checkRecord6(r);
  return `family ${JSON.stringify(r.family)} is not one this version knows (absent for IPv4, "ipv6")`;
}
