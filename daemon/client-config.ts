// The DHCP client an ADD asks for: the lease core's configuration from the network config, the pod's link and the
// daemon's flags.
import type { AddParams } from './registry-api';
import { broadcastFlag } from './broadcast';
import { clientIdFor, nodeDuid, podClientIdText } from './client-id';
import { DaemonError } from './errors';
import { ClientConfig, identity } from './dhcp/lease';
import { DEFAULT_CONFLICT_DETECTION } from './dhcp/probe';
import { DEFAULT_TIMING } from './dhcp/timing';
import { duidLl, duidUuid, iaidOf } from './dhcp6/duid';
import { ClientConfig6 } from './dhcp6/lease';
import { DEFAULT_TIMING6 } from './dhcp6/timing';
import { Opt6 } from './dhcp6/types';
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

/**
 * The DHCPv6 client of an ADD with ipam.ipv6. The DUID follows clientId: DUID-LL of the pod interface for legacy (as
 * the interface identifies the client), DUID-UUID of the pod's identity for pod (a re-created pod keeps its address;
 * legacy without pod args), the node's DUID for duid, DUID-UUID of the text for a literal value. The IAID comes from
 * network and ifName, so it is stable for a re-created pod and distinct between a pod's interfaces.
 */
export function clientConfig6(p: AddParams, link: LinkInfo, opts: DaemonOptions): ClientConfig6 {
  const spec = p.clientId ?? 'legacy';
  const { K8S_POD_NAMESPACE: ns, K8S_POD_NAME: name } = p.args;
  let duid: Buffer;
  if (spec === 'pod' && ns && name) duid = duidUuid(podClientIdText(ns, name, p.network, p.ifName).toString());
  else if (spec === 'duid') duid = nodeDuid(opts.stateDir);
  else if (typeof spec === 'object') duid = duidUuid(spec.value);
  else duid = duidLl(Buffer.from(link.mac.replace(/:/g, ''), 'hex'));
  return {
    duid: duid.toString('hex'),
    iaid: iaidOf(`${p.network}/${p.ifName}`),
    oro: [Opt6.DNS_SERVERS, Opt6.DOMAIN_LIST],
    rapidCommit: true,
    timing: DEFAULT_TIMING6,
  };
}
