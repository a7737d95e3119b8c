// The scalar IPAM keys and the routes, one checker each: where the daemon listens, where DELs are spooled, the
// static routes, the route metric and ADD's timeout. DEL, STATUS and GC read some of them too.
import { isAbsolute } from 'node:path';
import { DEFAULT_SOCKET_PATH, DEFAULT_STATE_DIR } from '../../common/rpc';
import { parseDuration } from '../../common/duration';
import { isIpv4, isIpv4Cidr } from '../dhcp/bytes';
import { Leniency, entries, invalid, unknownKeys } from './conf-check';
import { StaticRoute } from './result';

const MAX_TIMEOUT_MS = 3_600_000;
const MIN_TIMEOUT_MS = 100;

export function socketPath(v: unknown): string {
  if (v === undefined) return DEFAULT_SOCKET_PATH;
  if (typeof v !== 'string' || v === '') throw invalid('ipam.daemonSocketPath', 'must be a non-empty string');
  // The runtime's working directory is not ours to rely on.
  if (!isAbsolute(v)) throw invalid('ipam.daemonSocketPath', `${JSON.stringify(v)} must be an absolute path`);
  return v;
}

export function stateDir(v: unknown): string {
  if (v === undefined) return DEFAULT_STATE_DIR;
  if (typeof v !== 'string' || !isAbsolute(v))
    throw invalid('ipam.stateDir', `must be an absolute path, not ${JSON.stringify(v)}`);
  return v;
}

/** More static routes than this is not a pod's configuration. */
export const MAX_ROUTES = 256;

export function parseRoutes(v: unknown, lenient: Leniency): StaticRoute[] {
  const list = entries(v, 'ipam.routes');
  if (list.length > MAX_ROUTES) throw invalid('ipam.routes', `${list.length} routes, more than ${MAX_ROUTES}`);
  return list.map((e, i) => {
    const field = `ipam.routes[${i}]`;
    unknownKeys(e, field, ['dst', 'gw'], lenient);
    if (!isIpv4Cidr(e.dst)) {
      throw invalid(`${field}.dst`, `must be an IPv4 CIDR like "10.0.0.0/8", not ${JSON.stringify(e.dst)}`);
    }
    const route: StaticRoute = { dst: e.dst };
    if (e.gw !== undefined) {
      if (!isIpv4(e.gw)) throw invalid(`${field}.gw`, `must be an IPv4 address, not ${JSON.stringify(e.gw)}`);
      route.gw = e.gw;
    }
    return route;
  });
}

export function priority(v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw invalid('ipam.priority', `must be an integer route metric 0..4294967295, not ${JSON.stringify(v)}`);
  }
  return v;
}

export function timeoutMs(v: unknown): number {
  let ms: number | undefined;
  if (typeof v === 'number') ms = v;
  else if (typeof v === 'string') {
    const parsed = parseDuration(v);
    if (!(parsed instanceof Error)) ms = parsed;
  }
  if (ms === undefined || !Number.isFinite(ms)) {
    throw invalid(
      'ipam.timeout',
      `must be a duration like "30s" or "1m30s", or a number of milliseconds, not ${JSON.stringify(v)}`,
    );
  }
  if (ms < MIN_TIMEOUT_MS || ms > MAX_TIMEOUT_MS)
    throw invalid('ipam.timeout', `${JSON.stringify(v)} is outside 100ms..1h`);
  return Math.round(ms);
}
