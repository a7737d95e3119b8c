// The daemon's `add` params from a validated config and the invocation's CNI_ARGS: `fromArg` values read, warnings
// gathered, the routing kept for the daemon to rebuild routes with.
import { AddParams, MAX_CONFIG_WARNINGS } from '../registry-api';
import { resolveClientId } from './conf-client-id';
import { resolveProvide } from './conf-options';
import type { NetConf } from './config';

/** What the config contributes to the daemon's `add` params; the plugin adds the CNI_* parts. */
export type ConfigParams = Omit<AddParams, 'containerId' | 'ifName' | 'netns' | 'args'>;

export function configParams(conf: NetConf, args: Readonly<Record<string, string>>): ConfigParams {
  const resolved = resolveProvide(conf.ipam.provide, args, conf.ipam.strict);
  const params: ConfigParams = {
    network: conf.name,
    paramRequestList: [...conf.ipam.paramRequestList],
    provide: resolved.provide,
  };
  const warnings = [...conf.warnings, ...resolved.warnings];
  if (warnings.length > MAX_CONFIG_WARNINGS)
    warnings.splice(MAX_CONFIG_WARNINGS - 1, Infinity, `and ${warnings.length - MAX_CONFIG_WARNINGS + 1} more`);
  if (warnings.length > 0) params.warnings = warnings;
  if (conf.ipam.broadcast !== undefined) params.broadcast = conf.ipam.broadcast;
  if (conf.ipam.timeoutMs !== undefined) params.timeoutMs = conf.ipam.timeoutMs;
  if (conf.ipam.clientId !== undefined) params.clientId = resolveClientId(conf.ipam.clientId, args);
  if (conf.ipam.conflictDetection !== undefined) params.conflictDetection = conf.ipam.conflictDetection;
  if (conf.ipam.announce !== undefined) params.announce = conf.ipam.announce;
  if (conf.ipam.onChange !== undefined) params.onChange = conf.ipam.onChange;
  if (conf.ipam.applyMtu !== undefined) params.applyMtu = conf.ipam.applyMtu;
  if (conf.master !== undefined) params.master = conf.master;
  if (!conf.ipam.ipv4) params.ipv4 = false;
  if (conf.ipam.ipv6) params.ipv6 = true;
  // The daemon rebuilds the result's routes from these when it restores a link (daemon/registry-api.ts
  // AddParams.routing).
  params.routing = {
    priority: conf.ipam.priority,
    routes: conf.ipam.routes.map((r) => ({ ...r })),
    defaultRoute: conf.ipam.defaultRoute,
  };
  return params;
}
