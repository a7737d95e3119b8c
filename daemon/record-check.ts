// The full shape of a lease record, checked before anything uses it: a record is a file on disk, written by this
// version, an older or a newer one, or by hand, and one wrong record must cost its own lease, never the daemon.
// Each failure names the field.
import { isIpv4 } from './dhcp/bytes';
import type { ClientConfig, Lease, LeaseState, Offer, Transaction } from './dhcp/lease';
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

function optionalIp(o: Obj, key: string, field: string): void {
  if (o[key] !== undefined) ip(o[key], `${field}.${key}`);
}

export function hex(v: unknown, field: string): string {
  if (typeof v !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(v)) fail(field, 'is not hex');
  return v;
}

function transaction(v: unknown, field: string): Transaction {
  const t = obj(v, field);
  int(t.xid, `${field}.xid`, 0, 0xffffffff);
  for (const k of ['startedAtMs', 'firstSentAtMs', 'retransmitAtMs']) num(t[k], `${field}.${k}`);
  int(t.sends, `${field}.sends`, 0, Number.MAX_SAFE_INTEGER);
  return t as unknown as Transaction;
}

function lease(v: unknown, field: string): Lease {
  const l = obj(v, field);
  ip(l.address, `${field}.address`);
  ip(l.serverId, `${field}.serverId`);
  int(l.leaseTimeS, `${field}.leaseTimeS`, 0, 0xffffffff);
  num(l.requestSentAtMs, `${field}.requestSentAtMs`);
  for (const k of ['t1AtMs', 't2AtMs', 'expiresAtMs']) deadline(l[k], `${field}.${k}`);
  return l as unknown as Lease;
}

function offer(v: unknown, field: string): Offer {
  const o = obj(v, field);
  ip(o.address, `${field}.address`);
  ip(o.serverId, `${field}.serverId`);
  return o as unknown as Offer;
}

/** Every state this version knows, with the fields it needs; a state name from a newer version is refused. */
export function checkState(v: unknown, field = 'state'): LeaseState {
  const s = obj(v, field);
  const counts = () => {
    for (const k of ['naks', 'conflicts'])
      if (s[k] !== undefined) int(s[k], `${field}.${k}`, 0, Number.MAX_SAFE_INTEGER);
  };
  switch (s.state) {
    case 'INIT':
      break;
    case 'INIT-REBOOT':
      ip(s.requestedIp, `${field}.requestedIp`);
      break;
    case 'SELECTING':
      transaction(s.tx, `${field}.tx`);
      optionalIp(s, 'requestedIp', field);
      optionalIp(s, 'previousAddress', field);
      counts();
      break;
    case 'REQUESTING':
      transaction(s.tx, `${field}.tx`);
      offer(s.offer, `${field}.offer`);
      optionalIp(s, 'previousAddress', field);
      counts();
      break;
    case 'REBOOTING':
      transaction(s.tx, `${field}.tx`);
      ip(s.requestedIp, `${field}.requestedIp`);
      break;
    case 'PROBING': {
      lease(s.lease, `${field}.lease`);
      if (typeof s.ack !== 'string' || !BASE64.test(s.ack)) fail(`${field}.ack`, 'is not base64');
      const p = obj(s.probe, `${field}.probe`);
      int(p.sent, `${field}.probe.sent`, 0, 1000);
      num(p.nextAtMs, `${field}.probe.nextAtMs`);
      optionalIp(s, 'previousAddress', field);
      counts();
      break;
    }
    case 'BOUND':
      lease(s.lease, `${field}.lease`);
      if (s.announce !== undefined) {
        const a = obj(s.announce, `${field}.announce`);
        int(a.left, `${field}.announce.left`, 0, 1000);
        num(a.atMs, `${field}.announce.atMs`);
      }
      break;
    case 'RENEWING':
    case 'REBINDING': {
      const l = lease(s.lease, `${field}.lease`);
      if (l.expiresAtMs === null) fail(`${field}.lease.expiresAtMs`, `is null (an infinite lease is never ${s.state})`);
      transaction(s.tx, `${field}.tx`);
      break;
    }
    case 'RELEASED':
      optionalIp(s, 'previousAddress', field);
      break;
    default:
      fail(`${field}.state`, `${JSON.stringify(s.state)} is not a state this version knows`);
  }
  return s as unknown as LeaseState;
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
  try {
    const params = checkCommon(v);
    const cfg = clientConfig(v.cfg, 'cfg');
    if ((v.mac as string).replace(/[:-]/g, '').toLowerCase() !== cfg.chaddr.replace(/:/g, '').toLowerCase()) {
      fail('mac', 'does not match cfg.chaddr');
    }
    checkState(v.state);
    if (v.ack !== undefined && (typeof v.ack !== 'string' || !BASE64.test(v.ack))) fail('ack', 'is not base64');
    if (v.serverId !== undefined) ip(v.serverId, 'serverId');
    for (const k of ['t1AtMs', 't2AtMs', 'expiresAtMs']) if (v[k] !== undefined) deadline(v[k], k);
    return { ...v, params } as unknown as LeaseRecord;
  } catch (err) {
    if (err instanceof RecordError) return err.message;
    throw err;
  }
}
