// The full shape of a lease record, checked before anything uses it: a record is a file on disk, written by this
// version, an older or a newer one, or by hand, and one wrong record must cost its own lease, never the daemon.
// Each failure names the field.
import { isIpv4 } from './dhcp/bytes';
import type { ClientConfig, LeaseState } from './dhcp/lease';
import { CONFLICT_DETECTION } from './dhcp/probe';
import type { TimingConfig } from './dhcp/timing';
import type { AddParams } from './registry-api';
import { addParams } from './rpc-params';
import type { LeaseRecord } from './store';

export type Obj = Record<string, unknown>;

export const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** A MAC as records hold it: colons, dashes or none between the bytes. */
const MAC = /^[0-9a-fA-F]{2}(?:[:-]?[0-9a-fA-F]{2}){5}$/;

/** A record field that is wrong, named; turned into the reason a record is set aside. */
export class RecordError extends Error {}

export function fail(field: string, what: string): never {
  throw new RecordError(`${field} ${what}`);
}

export function obj(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, 'is not an object');
  return v as Obj;
}

export function num(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(field, 'is not a finite number');
  return v;
}

export function deadline(v: unknown, field: string): number | null {
  return v === null ? null : num(v, field);
}

export function int(v: unknown, field: string, min: number, max: number): number {
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max)
    fail(field, `is not an integer in ${min}..${max}`);
  return v as number;
}

function ip(v: unknown, field: string): string {
  if (!isIpv4(v)) fail(field, 'is not an IPv4 address');
  return v;
}

export function hex(v: unknown, field: string): string {
  if (typeof v !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(v)) fail(field, 'is not hex');
  return v;
}

/** The check of one field: throws RecordError naming `field` when `v` is wrong. */
export type Check = (v: unknown, field: string) => unknown;

/** The fields each state of a core needs, by state name, each with its check. */
export type StateFields<S extends string> = { readonly [K in S]: Readonly<Record<string, Check>> };

export function optional(check: Check): Check {
  return (v, field) => (v === undefined ? undefined : check(v, field));
}

export function intIn(min: number, max: number): Check {
  return (v, field) => int(v, field, min, max);
}

/** An object whose fields each pass their check, in the order given. */
export function fields(checks: Readonly<Record<string, Check>>): (v: unknown, field: string) => Obj {
  return (v, field) => {
    const o = obj(v, field);
    for (const [k, check] of Object.entries(checks)) check(o[k], `${field}.${k}`);
    return o;
  };
}

/** A lease state checked against its core's table; a state name from a newer version is refused. */
export function checkStateBy(states: StateFields<string>, v: unknown, field: string): Obj {
  const s = obj(v, field);
  if (typeof s.state !== 'string' || !Object.hasOwn(states, s.state))
    fail(`${field}.state`, `${JSON.stringify(s.state)} is not a state this version knows`);
  return fields(states[s.state] ?? {})(s, field);
}

/** The record, or the RecordError's reason (naming the field) it fails with. */
export function recordOrReason<R>(check: () => R): R | string {
  try {
    return check();
  } catch (err) {
    if (err instanceof RecordError) return err.message;
    throw err;
  }
}

const u32 = intIn(0, 0xffffffff);
const count = intIn(0, Number.MAX_SAFE_INTEGER);

const transaction = fields({
  xid: u32,
  startedAtMs: num,
  firstSentAtMs: num,
  retransmitAtMs: num,
  sends: count,
});

const lease = fields({
  address: ip,
  serverId: ip,
  leaseTimeS: u32,
  requestSentAtMs: num,
  t1AtMs: deadline,
  t2AtMs: deadline,
  expiresAtMs: deadline,
});

/** The lease of RENEWING or REBINDING: one with an end, since an infinite lease is never renewed. */
function expiring(state: string): Check {
  return (v, field) => {
    if (lease(v, field).expiresAtMs === null)
      fail(`${field}.expiresAtMs`, `is null (an infinite lease is never ${state})`);
  };
}

const offer = fields({ address: ip, serverId: ip });
const probe = fields({ sent: intIn(0, 1000), nextAtMs: num });
const announce = fields({ left: intIn(0, 1000), atMs: num });

function base64(v: unknown, field: string): void {
  if (typeof v !== 'string' || !BASE64.test(v)) fail(field, 'is not base64');
}

/** NAKs and conflicts seen so far, carried by the states that may meet them again. */
const COUNTS = { naks: optional(count), conflicts: optional(count) };

/** Every state this version knows, with the fields it needs, in the order they are checked. */
const STATES: StateFields<LeaseState['state']> = {
  INIT: {},
  'INIT-REBOOT': { requestedIp: ip },
  SELECTING: { tx: transaction, requestedIp: optional(ip), previousAddress: optional(ip), ...COUNTS },
  REQUESTING: { tx: transaction, offer, previousAddress: optional(ip), ...COUNTS },
  REBOOTING: { tx: transaction, requestedIp: ip },
  PROBING: { lease, ack: base64, probe, previousAddress: optional(ip), ...COUNTS },
  BOUND: { lease, announce: optional(announce) },
  RENEWING: { lease: expiring('RENEWING'), tx: transaction },
  REBINDING: { lease: expiring('REBINDING'), tx: transaction },
  RELEASED: { previousAddress: optional(ip) },
};

/** A state this version knows, with the fields it needs; a state name from a newer version is refused. */
export function checkState(v: unknown, field = 'state'): LeaseState {
  return checkStateBy(STATES, v, field) as unknown as LeaseState;
}

function timing(v: unknown, field: string): TimingConfig {
  const t = obj(v, field);
  for (const k of ['firstRetransmitMs', 'maxRetransmitMs', 'jitterMs', 'minRenewRetransmitMs']) {
    int(t[k], `${field}.${k}`, 0, 0x7fffffff);
  }
  int(t.requestRetries, `${field}.requestRetries`, 0, 1000);
  return t as unknown as TimingConfig;
}

function clientConfig(v: unknown, field: string): ClientConfig {
  const c = obj(v, field);
  if (typeof c.chaddr !== 'string' || !/^[0-9a-fA-F]{2}(?::?[0-9a-fA-F]{2}){5}$/.test(c.chaddr))
    fail(`${field}.chaddr`, 'is not a MAC address');
  if (hex(c.clientId, `${field}.clientId`).length > 2 * 255) fail(`${field}.clientId`, 'is longer than 255 bytes');
  if (!Array.isArray(c.paramRequestList) || c.paramRequestList.length > 255)
    fail(`${field}.paramRequestList`, 'is not a list of option codes');
  c.paramRequestList.forEach((code, i) => int(code, `${field}.paramRequestList[${i}]`, 1, 254));
  if (!Array.isArray(c.provide)) fail(`${field}.provide`, 'is not a list');
  c.provide.forEach((e, i) => {
    const p = obj(e, `${field}.provide[${i}]`);
    int(p.code, `${field}.provide[${i}].code`, 1, 254);
    if (hex(p.value, `${field}.provide[${i}].value`).length > 2 * 255)
      fail(`${field}.provide[${i}].value`, 'is longer than 255 bytes');
  });
  if (typeof c.broadcastFlag !== 'boolean') fail(`${field}.broadcastFlag`, 'is not a boolean');
  int(c.maxMessageSize, `${field}.maxMessageSize`, 576, 0xffff);
  timing(c.timing, `${field}.timing`);
  if (c.conflictDetection !== undefined && !(CONFLICT_DETECTION as readonly unknown[]).includes(c.conflictDetection)) {
    fail(`${field}.conflictDetection`, `is not one of ${CONFLICT_DETECTION.join(', ')}`);
  }
  if (c.announce !== undefined && typeof c.announce !== 'boolean') fail(`${field}.announce`, 'is not a boolean');
  return c as unknown as ClientConfig;
}

/** The fields every record has, whatever its family (attachment, params, netns inode, MAC, save time): the checked
 *  params. Throws RecordError. */
export function checkCommon(v: Obj): AddParams {
  const a = obj(v.attachment, 'attachment');
  let params;
  try {
    params = addParams(v.params);
  } catch (err) {
    throw new RecordError(`params: ${(err as Error).message.replace(/^invalid params: /, '')}`);
  }
  for (const k of ['containerId', 'network', 'ifName'] as const) {
    if (a[k] !== params[k]) fail(`attachment.${k}`, `does not match params.${k}`);
  }
  int(v.netnsInode, 'netnsInode', 1, Number.MAX_SAFE_INTEGER);
  if (typeof v.mac !== 'string' || !MAC.test(v.mac)) fail('mac', 'is not a MAC address');
  num(v.savedAtMs, 'savedAtMs');
  return params;
}

/** The record, or why it cannot be used (naming the field). `version` is checked by the caller. */
export function checkRecord(v: Obj): LeaseRecord | string {
  return recordOrReason(() => {
    const params = checkCommon(v);
    const cfg = clientConfig(v.cfg, 'cfg');
    if ((v.mac as string).replace(/[:-]/g, '').toLowerCase() !== cfg.chaddr.replace(/:/g, '').toLowerCase()) {
      fail('mac', 'does not match cfg.chaddr');
    }
    checkState(v.state);
    if (v.ack !== undefined) base64(v.ack, 'ack');
    if (v.serverId !== undefined) ip(v.serverId, 'serverId');
    for (const k of ['t1AtMs', 't2AtMs', 'expiresAtMs']) if (v[k] !== undefined) deadline(v[k], k);
    return { ...v, params } as unknown as LeaseRecord;
  });
}
