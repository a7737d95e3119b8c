// Validation of RPC params: the daemon trusts nothing that arrives on its socket. Each failure names the field.
import { AddParams, Attachment, CheckParams, GcParams } from '../common/rpc';
import { CniCode, CniError } from '../common/cni/errors';

type Obj = Record<string, unknown>;

function fail(field: string, what: string): never {
  throw new CniError(CniCode.INVALID_NETWORK_CONFIG, `invalid params: ${field} ${what}`);
}

function object(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, 'must be an object');
  return v as Obj;
}

function text(o: Obj, field: string, max = 4096): string {
  const v = o[field];
  if (typeof v !== 'string' || v.length === 0) fail(field, 'must be a non-empty string');
  if (v.length > max) fail(field, `must be at most ${max} characters`);
  return v;
}

function attachment(o: Obj): Attachment {
  const containerId = text(o, 'containerId', 1024);
  const network = text(o, 'network', 1024);
  const ifName = text(o, 'ifName', 15);
  if (ifName.includes('/') || ifName === '.' || ifName === '..') fail('ifName', `${JSON.stringify(ifName)} is not an interface name`);
  return { containerId, network, ifName };
}

function netns(o: Obj): string {
  const path = text(o, 'netns');
  if (!path.startsWith('/')) fail('netns', `${JSON.stringify(path)} must be an absolute path`);
  return path;
}

/** Options the DHCP client computes per message (RFC 2131 table 5); a provided value would corrupt them. */
const CLIENT_OWNED = new Set([50, 52, 53, 54, 55, 57]);

function optionCode(v: unknown, field: string): number {
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 254) fail(field, 'must be a DHCP option code 1..254');
  return v as number;
}

export function attachmentParams(params: unknown): Attachment {
  return attachment(object(params, 'params'));
}

export function gcParams(params: unknown): GcParams {
  const o = object(params, 'params');
  const list = o.validAttachments;
  if (!Array.isArray(list)) fail('validAttachments', 'must be an array');
  return {
    network: text(o, 'network', 1024),
    validAttachments: list.map((e, i) => {
      const a = object(e, `validAttachments[${i}]`);
      return { containerId: text(a, 'containerId', 1024), ifName: text(a, 'ifName', 15) };
    }),
  };
}

export function checkParams(params: unknown): CheckParams {
  const o = object(params, 'params');
  return { ...attachment(o), netns: netns(o) };
}

export function addParams(params: unknown): AddParams {
  const o = object(params, 'params');
  const base = { ...attachment(o), netns: netns(o) };
  const args = object(o.args ?? {}, 'args');
  for (const [k, v] of Object.entries(args)) if (typeof v !== 'string') fail(`args.${k}`, 'must be a string');
  const prl = o.paramRequestList;
  if (!Array.isArray(prl) || prl.length > 255) fail('paramRequestList', 'must be an array of at most 255 option codes');
  const provide = o.provide ?? [];
  if (!Array.isArray(provide)) fail('provide', 'must be an array');
  const p: AddParams = {
    ...base,
    args: args as Record<string, string>,
    paramRequestList: prl.map((c, i) => optionCode(c, `paramRequestList[${i}]`)),
    provide: provide.map((e, i) => {
      const item = object(e, `provide[${i}]`);
      const value = item.value;
      if (typeof value !== 'string') fail(`provide[${i}].value`, 'must be a string');
      if (Buffer.byteLength(value) > 255) fail(`provide[${i}].value`, 'must be at most 255 bytes');
      const code = optionCode(item.code, `provide[${i}].code`);
      if (CLIENT_OWNED.has(code)) fail(`provide[${i}].code`, `${code} is set by the DHCP client itself`);
      return { code, value };
    }),
  };
  if (o.broadcast !== undefined) {
    if (typeof o.broadcast !== 'boolean') fail('broadcast', 'must be a boolean');
    p.broadcast = o.broadcast;
  }
  if (o.timeoutMs !== undefined) {
    const t = o.timeoutMs;
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 100 || t > 3_600_000) fail('timeoutMs', 'must be 100..3600000');
    p.timeoutMs = t;
  }
  if (o.clientId !== undefined) p.clientId = clientId(o.clientId);
  return p;
}

function clientId(v: unknown): NonNullable<AddParams['clientId']> {
  if (v === 'legacy' || v === 'pod' || v === 'duid') return v;
  const o = object(v, 'clientId');
  const value = o.value;
  if (typeof value !== 'string' || value === '') fail('clientId', 'must be "legacy", "pod", "duid" or {value: non-empty text}');
  // One type byte + the text: option 61 holds 255 bytes.
  if (Buffer.byteLength(value) > 254) fail('clientId.value', 'must be at most 254 bytes');
  return { value };
}
