// Prometheus metrics (opt-in: `--metrics-address HOST:PORT`). This module is required only when the flag is set, so
// a daemon without it never loads prom-client. Counters are fed by the lease runners' events and the RPC server;
// leases by state is read from the registry at scrape time.
import { createServer, Server } from 'node:http';
import type * as PromClient from 'prom-client';
import type { LeaseEvent } from './dhcp/lease';
import type { RunnerMetrics } from './lease-runner';
import type { RpcOutcome } from './rpc-server';

export interface Metrics extends RunnerMetrics {
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

export function createMetrics(leasesByState: () => Record<string, number>): Metrics {
  const prom = require('prom-client') as typeof PromClient;
  const registry = new prom.Registry();
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new prom.Counter({ name, help, labelNames, registers: [registry] });
  const acquisitions = counter(
    'ts_dhcp_acquisitions_total',
    'Leases bound from INIT or INIT-REBOOT (DHCPACK to a selecting or rebooting REQUEST).',
  );
  const renewals = counter('ts_dhcp_renewals_total', 'Leases extended by a RENEWING REQUEST (unicast to the server).');
  const rebinds = counter('ts_dhcp_rebinds_total', 'Leases extended by a REBINDING REQUEST (broadcast).');
  const changes = counter('ts_dhcp_address_changes_total', 'ACKs that gave an attachment a different address.');
  const naks = counter('ts_dhcp_naks_total', 'DHCPNAKs received, by the state they arrived in.', ['state']);
  const expiries = counter('ts_dhcp_expiries_total', 'Leases that expired without being renewed or rebound.');
  const releases = counter(
    'ts_dhcp_releases_total',
    'Leases released (DEL, GC); sent says whether a DHCPRELEASE went out.',
    ['sent'],
  );
  const failures = counter('ts_dhcp_failures_total', 'Failures by reason.', ['reason']);
  const conflicts = counter(
    'ts_dhcp_conflicts_total',
    'ACKed addresses found in use by an ARP probe (RFC 5227) and declined.',
  );
  const corrupt = counter(
    'ts_dhcp_corrupt_records_total',
    'Lease records set aside as *.corrupt (event="set_aside") and *.corrupt files deleted after 7 days (event="expired").',
    ['event'],
  );
  const writeFailures = counter(
    'ts_dhcp_record_write_failures_total',
    'Lease record writes that failed (ENOSPC, EIO...); each is retried with backoff.',
  );
  const podAddress = counter(
    'ts_dhcp_pod_address_changes_total',
    'Pod interfaces re-addressed in place: replaced (another address), removed (lease expired), restored (a lease came back).',
    ['action'],
  );
  const rpcRequests = counter('ts_dhcp_rpc_requests_total', 'RPC requests served, by method and outcome.', [
    'method',
    'outcome',
  ]);
  const cniRequests = counter(
    'ts_dhcp_cni_requests_total',
    'Plugin calls answered, by CNI verb (CNI_COMMAND; "unknown" when it names none) and CNI code ("0": success).',
    ['verb', 'code'],
  );
  const latency = new prom.Histogram({
    name: 'ts_dhcp_transaction_duration_seconds',
    help: 'From the start of an exchange (acquisition, renewal at T1) to its ACK, by kind (bound, renewed, rebound, changed).',
    labelNames: ['kind'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  new prom.Gauge({
    name: 'ts_dhcp_leases',
    help: 'Leases held by the daemon, by RFC 2131 state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [state, n] of Object.entries(leasesByState())) this.set({ state }, n);
    },
  });
  prom.collectDefaultMetrics({ register: registry, prefix: 'ts_dhcp_' });

  return {
    event(event, transactionMs) {
      if (
        transactionMs !== undefined &&
        (event.kind === 'bound' || event.kind === 'renewed' || event.kind === 'rebound' || event.kind === 'changed')
      ) {
        latency.observe({ kind: event.kind }, transactionMs / 1000);
      }
      switch (event.kind) {
        case 'bound':
          return acquisitions.inc();
        case 'renewed':
          return renewals.inc();
        case 'rebound':
          return rebinds.inc();
        case 'changed':
          return changes.inc();
        case 'nak':
          return naks.inc({ state: event.in });
        case 'expired':
          return expiries.inc();
        case 'released':
          return releases.inc({ sent: String(event.sentRelease) });
        case 'failed':
          return failures.inc({ reason: failureReason(event) });
        case 'declined':
          return conflicts.inc();
        default:
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
