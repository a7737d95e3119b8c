// Prometheus metrics (opt-in: `--metrics-address HOST:PORT`). This module is required only when the flag is set, so
// a daemon without it never loads prom-client. Counters are fed by the lease runners' events and the RPC server;
// leases by state is read from the registry at scrape time. The lease series carry `family` ("ipv4", "ipv6"): one
// series per family under the names IPv4 alone always had, so sums and rates over a name keep their meaning.
import { createServer, Server } from 'node:http';
import type * as PromClient from 'prom-client';
import type { IpFamily, LeaseCounts } from './registry-api';
import type { LeaseEvent } from './dhcp/lease';
import type { Lease6Event } from './dhcp6/lease';
import type { Runner6Metrics, RunnerMetrics } from './runner-deps';
import type { RpcOutcome } from './rpc-server';

export interface Metrics extends RunnerMetrics, Runner6Metrics {
  /** One RPC request served: outcome "ok", "error" (the daemon refused it: bad params, no such lease) or "internal". */
  rpc(method: string, outcome: RpcOutcome): void;
  /** One plugin call answered (RPC method `cni`): its CNI verb and CNI code, 0 for success. */
  cni(verb: string, code: number): void;
  /** A lease record set aside as corrupt, or a *.corrupt file expired. */
  record(event: RecordEvent): void;
  /** The registry text as served on /metrics. */
  text(): Promise<string>;
}

export type RecordEvent = 'set_aside' | 'expired';

/** CNI error 11 "try again later": an ADD that timed out waiting for a lease (daemon/cni/errors.ts). */
const TRY_AGAIN_LATER = 11;

/** Bounded failure reasons: a label per kind of failure, never the free text. */
export function failureReason(event: Extract<LeaseEvent, { kind: 'failed' }>): string {
  return /^no ACK or NAK/.test(event.reason) ? 'request_unanswered' : 'invalid_ack';
}

/** Names of the DHCPv6 status codes a lease's course turns on (RFC 8415 §21.13); others by number. */
const STATUS_NAMES = ['Success', 'UnspecFail', 'NoAddrsAvail', 'NoBinding', 'NotOnLink', 'UseMulticast'];

/** Every counter: its name, help text and labels. */
const COUNTERS = {
  acquisitions: [
    'ts_dhcp_acquisitions_total',
    'Leases bound from INIT or INIT-REBOOT (DHCPACK to a selecting or rebooting REQUEST; DHCPv6: REPLY to REQUEST or a rapid-commit SOLICIT).',
    ['family'],
  ],
  renewals: [
    'ts_dhcp_renewals_total',
    'Leases extended by a RENEWING REQUEST (unicast to the server; DHCPv6: RENEW).',
    ['family'],
  ],
  rebinds: [
    'ts_dhcp_rebinds_total',
    'Leases extended by a REBINDING REQUEST (broadcast; DHCPv6: REBIND to ff02::1:2).',
    ['family'],
  ],
  changes: [
    'ts_dhcp_address_changes_total',
    'ACKs (DHCPv6: REPLYs) that gave an attachment a different address.',
    ['family'],
  ],
  naks: ['ts_dhcp_naks_total', 'DHCPNAKs received, by the state they arrived in.', ['state']],
  statuses: [
    'ts_dhcp_status_codes_total',
    "DHCPv6 error statuses that changed a lease's course (NotOnLink, NoBinding, NoAddrsAvail, UseMulticast), by the state they arrived in.",
    ['status', 'state'],
  ],
  confirms: [
    'ts_dhcp_confirms_total',
    'DHCPv6 CONFIRMs of a stored lease after a restart: "confirmed" (Success) or "unanswered" (kept, RFC 8415 §18.2.3).',
    ['result'],
  ],
  expiries: ['ts_dhcp_expiries_total', 'Leases that expired without being renewed or rebound.', ['family']],
  releases: [
    'ts_dhcp_releases_total',
    'Leases released (DEL, GC); sent says whether a RELEASE went out.',
    ['family', 'sent'],
  ],
  failures: ['ts_dhcp_failures_total', "Failures by reason (and family, for a lease's own).", ['family', 'reason']],
  conflicts: [
    'ts_dhcp_conflicts_total',
    'Addresses found in use and declined: by an ARP probe (RFC 5227), DHCPv6 by duplicate address detection.',
    ['family'],
  ],
  corrupt: [
    'ts_dhcp_corrupt_records_total',
    'Lease records set aside as *.corrupt (event="set_aside") and *.corrupt files deleted after 7 days (event="expired").',
    ['event'],
  ],
  writeFailures: [
    'ts_dhcp_record_write_failures_total',
    'Lease record writes that failed (ENOSPC, EIO...); each is retried with backoff.',
    [],
  ],
  podAddress: [
    'ts_dhcp_pod_address_changes_total',
    'Pod interfaces re-addressed in place: replaced (another address), removed (lease expired), restored (a lease came back).',
    ['action'],
  ],
  rpcRequests: ['ts_dhcp_rpc_requests_total', 'RPC requests served, by method and outcome.', ['method', 'outcome']],
  cniRequests: [
    'ts_dhcp_cni_requests_total',
    'Plugin calls answered, by CNI verb (CNI_COMMAND; "unknown" when it names none) and CNI code ("0": success).',
    ['verb', 'code'],
  ],
} satisfies Record<string, readonly [string, string, readonly string[]]>;

export function createMetrics(leasesByState: () => LeaseCounts): Metrics {
  const prom = require('prom-client') as typeof PromClient;
  const registry = new prom.Registry();
  const counters = Object.fromEntries(
    Object.entries(COUNTERS).map(([key, [name, help, labels]]) => [
      key,
      new prom.Counter({ name, help, labelNames: [...labels], registers: [registry] }),
    ]),
  ) as Record<keyof typeof COUNTERS, PromClient.Counter>;
  const {
    acquisitions,
    renewals,
    rebinds,
    changes,
    naks,
    statuses,
    confirms,
    expiries,
    releases,
    failures,
    conflicts,
    corrupt,
    writeFailures,
    podAddress,
    rpcRequests,
    cniRequests,
  } = counters;
  const latency = new prom.Histogram({
    name: 'ts_dhcp_transaction_duration_seconds',
    help: 'From the start of an exchange (acquisition, renewal at T1) to its ACK or REPLY, by family and kind (bound, renewed, rebound, changed).',
    labelNames: ['family', 'kind'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  new prom.Gauge({
    name: 'ts_dhcp_leases',
    help: "Leases held by the daemon, by family and state (RFC 2131; DHCPv6 the lease core's, after RFC 8415).",
    labelNames: ['family', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [family, counts] of Object.entries(leasesByState()))
        for (const [state, n] of Object.entries(counts)) this.set({ family, state }, n);
    },
  });
  prom.collectDefaultMetrics({ register: registry, prefix: 'ts_dhcp_' });

  /** The events both cores have, counted the same way under their family. */
  const common = (family: IpFamily, event: LeaseEvent | Lease6Event, transactionMs: number | undefined): void => {
    switch (event.kind) {
      case 'bound':
      case 'renewed':
      case 'rebound':
      case 'changed':
        if (transactionMs !== undefined) latency.observe({ family, kind: event.kind }, transactionMs / 1000);
        return { bound: acquisitions, renewed: renewals, rebound: rebinds, changed: changes }[event.kind].inc({
          family,
        });
      case 'expired':
        return expiries.inc({ family });
      case 'released':
        return releases.inc({ family, sent: String(event.sentRelease) });
      case 'declined':
        return conflicts.inc({ family });
      default:
    }
  };

  return {
    event(event, transactionMs) {
      if (event.kind === 'nak') naks.inc({ state: event.in });
      else if (event.kind === 'failed') failures.inc({ family: 'ipv4', reason: failureReason(event) });
      else common('ipv4', event, transactionMs);
    },
    event6(event, transactionMs) {
      switch (event.kind) {
        case 'status':
          return statuses.inc({ status: STATUS_NAMES[event.code] ?? String(event.code), state: event.in });
        case 'confirmed':
          return confirms.inc({ result: 'confirmed' });
        case 'unconfirmed':
          return confirms.inc({ result: 'unanswered' });
        case 'failed':
          // The v6 core fails only when REQUESTs go unanswered.
          return failures.inc({ family: 'ipv6', reason: 'request_unanswered' });
        default:
          return common('ipv6', event, transactionMs);
      }
    },
    podAddress(action) {
      podAddress.inc({ action });
    },
    rpc(method, outcome) {
      rpcRequests.inc({ method, outcome });
    },
    cni(verb, code) {
      cniRequests.inc({ verb, code: String(code) });
      if (verb === 'ADD' && code !== 0)
        failures.inc({ reason: code === TRY_AGAIN_LATER ? 'add_timeout' : 'add_error' });
    },
    recordWriteFailed() {
      writeFailures.inc();
    },
    record(event) {
      corrupt.inc({ event });
    },
    text: () => registry.metrics(),
  };
}

/** Parses "HOST:PORT" ("[::1]:9101", "0.0.0.0:9101", ":9101" = all addresses). */
export function parseHostPort(address: string): { host?: string; port: number } | Error {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) return new Error(`${JSON.stringify(address)} is not HOST:PORT`);
  const host = m[1] ?? m[2];
  return host ? { host, port } : { port };
}

/** Serves GET /metrics on address; resolves once listening. */
export function serveMetrics(metrics: Metrics, address: string): Promise<Server> {
  const hp = parseHostPort(address);
  if (hp instanceof Error) return Promise.reject(hp);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at /metrics\n');
      return;
    }
    metrics.text().then(
      (body) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(hp.port, hp.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
