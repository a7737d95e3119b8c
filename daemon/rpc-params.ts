// Validation of what reaches the daemon from outside: RPC params (it trusts nothing that arrives on its socket) and
// the ADD params kept in a lease record (daemon/record-check.ts). Each failure names the field.
import { Attachment, CniInvocation, LeaseParams } from '../common/rpc';
import { AddParams, MAX_CONFIG_WARNINGS, ON_CHANGE, OnChange, RouteConfig } from './registry-api';
import { DaemonError } from './errors';
import { isIpv4, isIpv4Cidr } from './dhcp/bytes';
import { CLIENT_OWNED_OPTIONS } from './dhcp/messages';
import { CONFLICT_DETECTION } from './dhcp/probe';
import { MAX_CLIENT_ID_TEXT_BYTES } from './dhcp/types';
import { MAX_ARG_KEY, MAX_ARG_VALUE, MAX_ARGS } from './cni/args';
import { MAX_ROUTES } from './cni/conf-keys';
import { MAX_NETWORK_NAME } from './cni/config';
import { MAX_CONTAINER_ID, ifNameProblem } from './cni/env';

type Obj = Record<string, unknown>;

function fail(field: string, what: string): never {
  throw new DaemonError('invalid-params', `invalid params: ${field} ${what}`);
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
  const containerId = text(o, 'containerId', MAX_CONTAINER_ID);
  const network = text(o, 'network', MAX_NETWORK_NAME);
  const ifName = text(o, 'ifName', 15);
  if (ifName.includes('/') || ifName === '.' || ifName === '..')
    fail('ifName', `${JSON.stringify(ifName)} is not an interface name`);
  return { containerId, network, ifName };
}

function netns(o: Obj): string {
  const path = text(o, 'netns');
  if (!path.startsWith('/')) fail('netns', `${JSON.stringify(path)} must be an absolute path`);
  return path;
}

function optionCode(v: unknown, field: string): number {
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 254)
    fail(field, 'must be a DHCP option code 1..254');
  return v as number;
}

/** The `lease` method's: an attachment and, optionally, which family's lease. */
export function leaseParams(params: unknown): LeaseParams {
  const o = object(params, 'params');
  const p: LeaseParams = attachment(o);
  if (o.family !== undefined) {
    if (o.family !== 'ipv4' && o.family !== 'ipv6') fail('family', 'must be "ipv4" or "ipv6"');
    p.family = o.family;
  }
  return p;
}

/** For the methods without params (leases, status): an object, whose keys are ignored. */
export function noParams(params: unknown): Record<string, never> {
  object(params, 'params');
  return {};
}

export function addParams(params: unknown): AddParams {
  const o = object(params, 'params');
  const base = { ...attachment(o), netns: netns(o) };
  const args = object(o.args ?? {}, 'args');
  const entries = Object.entries(args);
  // The same bounds as the CNI layer's (daemon/cni/args.ts): a record holds no more than an ADD could give.
  if (entries.length > MAX_ARGS) fail('args', `must have at most ${MAX_ARGS} keys`);
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > MAX_ARG_KEY) fail('args', `keys must be 1..${MAX_ARG_KEY} characters`);
    if (typeof v !== 'string') fail(`args.${k}`, 'must be a string');
    if (v.length > MAX_ARG_VALUE) fail(`args.${k}`, `must be at most ${MAX_ARG_VALUE} characters`);
  }
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
      if (CLIENT_OWNED_OPTIONS.has(code)) fail(`provide[${i}].code`, `${code} is set by the DHCP client itself`);
      return { code, value };
    }),
  };
  if (o.broadcast !== undefined) {
    if (typeof o.broadcast !== 'boolean') fail('broadcast', 'must be a boolean');
    p.broadcast = o.broadcast;
  }
  if (o.timeoutMs !== undefined) {
    const t = o.timeoutMs;
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 100 || t > 3_600_000)
      fail('timeoutMs', 'must be 100..3600000');
    p.timeoutMs = t;
  }
  if (o.clientId !== undefined) p.clientId = clientId(o.clientId);
  if (o.conflictDetection !== undefined) {
    const mode = CONFLICT_DETECTION.find((m) => m === o.conflictDetection);
    if (!mode) fail('conflictDetection', `must be one of ${CONFLICT_DETECTION.join(', ')}`);
    p.conflictDetection = mode;
  }
  if (o.announce !== undefined) {
    if (typeof o.announce !== 'boolean') fail('announce', 'must be a boolean');
    p.announce = o.announce;
  }
  if (o.routing !== undefined) p.routing = routing(o.routing);
  if (o.warnings !== undefined) p.warnings = warnings(o.warnings);
  if (o.onChange !== undefined) {
    if (!ON_CHANGE.includes(o.onChange as OnChange)) fail('onChange', `must be one of ${ON_CHANGE.join(', ')}`);
    p.onChange = o.onChange as OnChange;
  }
  if (o.applyMtu !== undefined) {
    if (typeof o.applyMtu !== 'boolean') fail('applyMtu', 'must be a boolean');
    p.applyMtu = o.applyMtu;
  }
  if (o.master !== undefined) {
    const why = typeof o.master === 'string' ? ifNameProblem(o.master) : 'is not a string';
    if (why) fail('master', `must be an interface name (${why})`);
    p.master = o.master as string;
  }
  for (const family of ['ipv4', 'ipv6'] as const) {
    const v = o[family];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') fail(family, 'must be a boolean');
    p[family] = v;
  }
  if (p.ipv4 === false && p.ipv6 !== true) fail('ipv4', 'false needs ipv6 true: no address to acquire');
  return p;
}

function warnings(v: unknown): string[] {
  if (!Array.isArray(v) || v.length > MAX_CONFIG_WARNINGS)
    fail('warnings', `must be an array of at most ${MAX_CONFIG_WARNINGS} strings`);
  return v.map((w, i) => {
    if (typeof w !== 'string' || w.length > 1024) fail(`warnings[${i}]`, 'must be a string of at most 1024 characters');
    return w;
  });
}

function routing(v: unknown): RouteConfig {
  const o = object(v, 'routing');
  const out: RouteConfig = {};
  if (o.priority !== undefined) {
    const m = o.priority;
    if (!Number.isInteger(m) || (m as number) < 0 || (m as number) > 0xffffffff)
      fail('routing.priority', 'must be an integer 0..4294967295');
    out.priority = m as number;
  }
  if (o.defaultRoute !== undefined) {
    if (typeof o.defaultRoute !== 'boolean') fail('routing.defaultRoute', 'must be a boolean');
    out.defaultRoute = o.defaultRoute;
  }
  if (o.routes !== undefined) {
    if (!Array.isArray(o.routes) || o.routes.length > MAX_ROUTES)
      fail('routing.routes', `must be an array of at most ${MAX_ROUTES} routes`);
    out.routes = o.routes.map((e, i) => {
      const r = object(e, `routing.routes[${i}]`);
      if (!isIpv4Cidr(r.dst)) fail(`routing.routes[${i}].dst`, 'must be an IPv4 CIDR');
      if (r.gw !== undefined && !isIpv4(r.gw)) fail(`routing.routes[${i}].gw`, 'must be an IPv4 address');
      return r.gw === undefined ? { dst: r.dst as string } : { dst: r.dst as string, gw: r.gw as string };
    });
  }
  return out;
}

function clientId(v: unknown): NonNullable<AddParams['clientId']> {
  if (v === 'legacy' || v === 'pod' || v === 'duid') return v;
  const o = object(v, 'clientId');
  const value = o.value;
  if (typeof value !== 'string' || value === '')
    fail('clientId', 'must be "legacy", "pod", "duid" or {value: non-empty text}');
  if (Buffer.byteLength(value) > MAX_CLIENT_ID_TEXT_BYTES)
    fail('clientId.value', `must be at most ${MAX_CLIENT_ID_TEXT_BYTES} bytes`);
  return { value };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const CNI_ENV = new Set(['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS']);

function base64(v: unknown, field: string): string {
  if (typeof v !== 'string' || !BASE64.test(v)) fail(field, 'must be base64 text');
  return v;
}

export function cniParams(params: unknown): CniInvocation {
  const o = object(params, 'params');
  const env = object(o.env, 'env');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (!CNI_ENV.has(k)) fail(`env.${k}`, `is not forwarded (expected ${[...CNI_ENV].join(', ')})`);
    out[k] = base64(v, `env.${k}`);
  }
  return { env: out, stdin: base64(o.stdin, 'stdin'), cwd: base64(o.cwd, 'cwd') };
}
