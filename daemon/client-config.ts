// The DHCP client an ADD asks for: the lease core's configuration from the network config, the pod's link and the
// daemon's flags.
import type { AddParams } from './registry-api';
import { broadcastFlag } from './broadcast';
import { clientIdFor } from './client-id';
import { DaemonError } from './errors';
import { ClientConfig, identity } from './dhcp/lease';
import { DEFAULT_CONFLICT_DETECTION } from './dhcp/probe';
import { DEFAULT_TIMING } from './dhcp/timing';
import type { DaemonOptions } from './flags';
import type { Logger } from './log';
import type { LinkInfo } from './pod-port';

/** The core's configuration, or CNI error 7 naming what in the network config cannot be used. */
export function clientConfig(p: AddParams, link: LinkInfo, opts: DaemonOptions, log: Logger): ClientConfig {
  let clientId: Buffer;
  try {
    clientId = clientIdFor(p, opts.stateDir, log);
  } catch (err) {
    throw new DaemonError('invalid-params', `ipam.clientId: ${(err as Error).message}`);
  }
  const cfg: ClientConfig = {
    chaddr: link.mac,
    clientId: clientId.toString('hex'),
    paramRequestList: p.paramRequestList,
    provide: p.provide.map((o) => ({ code: o.code, value: Buffer.from(o.value).toString('hex') })),
    broadcastFlag: broadcastFlag(link.kind, p.broadcast, opts.broadcast),
    maxMessageSize: Math.max(576, Math.min(link.mtu, 1500)),
    timing: { ...DEFAULT_TIMING, firstRetransmitMs: opts.retransmitMs, maxRetransmitMs: opts.resendMaxMs },
    conflictDetection: p.conflictDetection ?? DEFAULT_CONFLICT_DETECTION,
    announce: p.announce ?? true,
  };
  try {
    identity(cfg); // the core would throw on every step; say so now, naming the option
  } catch (err) {
    throw new DaemonError('invalid-params', `invalid DHCP client options: ${(err as Error).message}`);
  }
  return cfg;
}
