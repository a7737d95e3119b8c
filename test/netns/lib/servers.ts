// The three real DHCP servers, each run in the foreground in the topology's lan namespace on its bridge, tracked by
// PID, with config, lease store and log in a temp dir.
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { intToIp, ipToBytes, ipToInt, prefixToMaskInt } from '../../../daemon/dhcp/bytes';
import { latestPerIp, parseDhcpdLeases, parseDnsmasqLeases, parseKeaLeases, type Lease } from './leasefiles';
import { hasExited, waitFor } from './proc';
import type { Topology } from './topology';

export type { Lease } from './leasefiles';

export interface StaticRoute {
  /** Destination as CIDR, e.g. '10.0.0.0/8'. */
  dst: string;
  gw: string;
}

export interface ServerOptions {
  /** First and last address handed out, inclusive. */
  range: [string, string];
  /** Lease time in seconds. Default 600. dnsmasq silently raises anything below 120. */
  leaseTime?: number;
  /** T1 (option 58) in seconds. Default: the server's (half the lease). */
  renewTime?: number;
  /** T2 (option 59) in seconds. Default: the server's (7/8 of the lease). */
  rebindTime?: number;
  /** Option 3. Default none (dnsmasq would otherwise announce itself). */
  routers?: string[];
  /** Option 6. */
  dns?: string[];
  /** Option 15. */
  domainName?: string;
  /** Option 119. */
  domainSearch?: string[];
  /** Option 121 (RFC 3442). */
  classlessRoutes?: StaticRoute[];
  /** NAK requests for addresses the server does not know (INIT-REBOOT on a foreign lease). Default true. */
  authoritative?: boolean;
}

export interface DnsmasqOptions extends ServerOptions {
  /** dnsmasq's ICMP check before each OFFER (~3 s each). Default false (--no-ping). */
  ping?: boolean;
  extraArgs?: string[];
}

export interface KeaOptions extends ServerOptions {
  /** Merged over the generated "Dhcp4" object (shallow). */
  extraConfig?: Record<string, unknown>;
}

export interface DhcpdOptions extends ServerOptions {
  /** dhcpd's ICMP check before each OFFER. Default false. */
  ping?: boolean;
  /** Appended to dhcpd.conf (global scope). */
  extraConfig?: string;
}

export type ServerKind = 'dnsmasq' | 'kea' | 'dhcpd';

export interface DhcpServer {
  readonly kind: ServerKind;
  /** PID of the running server process; changes on restart(). */
  readonly pid: number;
  /** The server identifier (option 54): the lan bridge address. */
  readonly serverIp: string;
  /** Temp dir holding config, lease store and log. */
  readonly dir: string;
  readonly leaseFile: string;
  /** Live leases, the newest state of each address. */
  leases(): Lease[];
  /** Every record in the lease store, oldest first (Kea: one per allocation/renewal; dhcpd: one per change). */
  leaseHistory(): Lease[];
  /** Everything the server logged so far (stdout and stderr). */
  log(): string;
  stop(): Promise<void>;
  /** stop() then start again with the same config and lease store. */
  restart(): Promise<void>;
}

interface Launch {
  kind: ServerKind;
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  dir: string;
  leaseFile: string;
  parse(text: string): Lease[];
}

const READY_TIMEOUT_MS = 10_000;

class RunningServer implements DhcpServer {
  private child: ChildProcess | undefined;
  readonly logFile: string;

  constructor(
    private readonly topo: Topology,
    private readonly launch: Launch,
  ) {
    this.logFile = path.join(launch.dir, `${launch.kind}.log`);
  }

  get kind(): ServerKind {
    return this.launch.kind;
  }
  get pid(): number {
    if (this.child?.pid === undefined || hasExited(this.child)) throw new Error(`${this.kind} is not running`);
    return this.child.pid;
  }
  get serverIp(): string {
    return this.topo.serverIp;
  }
  get dir(): string {
    return this.launch.dir;
  }
  get leaseFile(): string {
    return this.launch.leaseFile;
  }

  leaseHistory(): Lease[] {
    if (!fs.existsSync(this.leaseFile)) return [];
    return this.launch.parse(fs.readFileSync(this.leaseFile, 'utf8'));
  }

  leases(): Lease[] {
    return latestPerIp(this.leaseHistory()).filter((l) => l.state === 'active');
  }

  log(): string {
    return fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8') : '';
  }

  /** Starts the server and waits until this very process listens on UDP 67 in the lan namespace. */
  async start(): Promise<void> {
    const { cmd, args, env } = this.launch;
    const child = this.topo.spawn(this.topo.lanNs, cmd, args, {
      logFile: this.logFile,
      env: { ...process.env, ...env },
    });
    this.child = child;
    await waitFor(
      `${this.kind} listening on UDP 67 in ${this.topo.lanNs}`,
      async () => {
        if (hasExited(child))
          throw new Error(`${this.kind} exited (${child.exitCode ?? child.signalCode}):\n${this.log()}`);
        const sockets = await this.topo.exec(this.topo.lanNs, 'ss', ['-Hlunp', 'sport = :67']);
        return sockets.includes(`pid=${child.pid},`);
      },
      READY_TIMEOUT_MS,
    );
  }

  async stop(): Promise<void> {
    if (this.child) await this.topo.stop(this.child);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

async function startServer(topo: Topology, launch: Launch): Promise<DhcpServer> {
  const server = new RunningServer(topo, launch);
  await server.start();
  return server;
}

const DEFAULT_LEASE_TIME_S = 600;

function lanSubnet(topo: Topology): string {
  const network = (ipToInt(topo.serverIp) & prefixToMaskInt(topo.lanPrefixLength)) >>> 0;
  return intToIp(network);
}

/** Option 121 payload (RFC 3442): prefix length, significant octets of the destination, router. */
function classlessRoutesBytes(routes: StaticRoute[]): Buffer {
  return Buffer.concat(
    routes.map((r) => {
      const [dst, len] = r.dst.split('/') as [string, string];
      const prefix = Number(len);
      return Buffer.concat([Buffer.from([prefix]), ipToBytes(dst).subarray(0, Math.ceil(prefix / 8)), ipToBytes(r.gw)]);
    }),
  );
}

export function startDnsmasq(topo: Topology, opts: DnsmasqOptions): Promise<DhcpServer> {
  const dir = topo.tempDir('dnsmasq');
  const leaseFile = path.join(dir, 'dnsmasq.leases');
  const o = opts;
  const args = [
    '--no-daemon',
    '--port=0',
    '--conf-file=/dev/null',
    '--user=root',
    '--log-dhcp',
    `--interface=${topo.lanBridge}`,
    `--dhcp-range=${o.range[0]},${o.range[1]},${topo.lanNetmask},${o.leaseTime ?? DEFAULT_LEASE_TIME_S}`,
    `--dhcp-leasefile=${leaseFile}`,
    `--pid-file=${path.join(dir, 'dnsmasq.pid')}`,
    `--dhcp-option=3${o.routers?.length ? `,${o.routers.join(',')}` : ''}`,
  ];
  if (o.authoritative ?? true) args.push('--dhcp-authoritative');
  if (!o.ping) args.push('--no-ping');
  if (o.renewTime !== undefined) args.push(`--dhcp-option=option:T1,${o.renewTime}`);
  if (o.rebindTime !== undefined) args.push(`--dhcp-option=option:T2,${o.rebindTime}`);
  if (o.dns?.length) args.push(`--dhcp-option=6,${o.dns.join(',')}`);
  if (o.domainName) args.push(`--dhcp-option=15,${o.domainName}`);
  if (o.domainSearch?.length) args.push(`--dhcp-option=119,${o.domainSearch.join(',')}`);
  if (o.classlessRoutes?.length) {
    args.push(`--dhcp-option=121,${o.classlessRoutes.map((r) => `${r.dst},${r.gw}`).join(',')}`);
  }
  args.push(...(o.extraArgs ?? []));
  return startServer(topo, { kind: 'dnsmasq', cmd: 'dnsmasq', args, dir, leaseFile, parse: parseDnsmasqLeases });
}

export function startKea(topo: Topology, opts: KeaOptions): Promise<DhcpServer> {
  const dir = topo.tempDir('kea');
  const leaseFile = path.join(dir, 'kea-leases4.csv');
  const o = opts;
  const lifetime = o.leaseTime ?? DEFAULT_LEASE_TIME_S;
  const optionData: Record<string, unknown>[] = [];
  if (o.routers?.length) optionData.push({ name: 'routers', data: o.routers.join(', ') });
  if (o.dns?.length) optionData.push({ name: 'domain-name-servers', data: o.dns.join(', ') });
  if (o.domainName) optionData.push({ name: 'domain-name', data: o.domainName });
  if (o.domainSearch?.length) optionData.push({ name: 'domain-search', data: o.domainSearch.join(', ') });
  if (o.classlessRoutes?.length) {
    // Kea 2.2 has no definition for 121: send it as raw bytes.
    const hex = classlessRoutesBytes(o.classlessRoutes).toString('hex');
    optionData.push({ code: 121, space: 'dhcp4', 'csv-format': false, data: hex, 'always-send': true });
  }
  const config = {
    Dhcp4: {
      'interfaces-config': { interfaces: [topo.lanBridge], 'dhcp-socket-type': 'raw' },
      'lease-database': { type: 'memfile', persist: true, name: leaseFile, 'lfc-interval': 0 },
      'valid-lifetime': lifetime,
      'min-valid-lifetime': lifetime,
      'max-valid-lifetime': lifetime,
      ...(o.renewTime !== undefined && { 'renew-timer': o.renewTime }),
      ...(o.rebindTime !== undefined && { 'rebind-timer': o.rebindTime }),
      authoritative: o.authoritative ?? true,
      subnet4: [
        {
          id: 1,
          subnet: `${lanSubnet(topo)}/${topo.lanPrefixLength}`,
          pools: [{ pool: `${o.range[0]} - ${o.range[1]}` }],
          'option-data': optionData,
        },
      ],
      loggers: [{ name: 'kea-dhcp4', output_options: [{ output: 'stdout', flush: true }], severity: 'INFO' }],
      ...o.extraConfig,
    },
  };
  const confFile = path.join(dir, 'kea-dhcp4.conf');
  fs.writeFileSync(confFile, JSON.stringify(config, null, 2));
  return startServer(topo, {
    kind: 'kea',
    cmd: 'kea-dhcp4',
    args: ['-c', confFile],
    env: { KEA_PIDFILE_DIR: dir, KEA_LOCKFILE_DIR: dir },
    dir,
    leaseFile,
    parse: parseKeaLeases,
  });
}

export function startDhcpd(topo: Topology, opts: DhcpdOptions): Promise<DhcpServer> {
  const dir = topo.tempDir('dhcpd');
  const leaseFile = path.join(dir, 'dhcpd.leases');
  const o = opts;
  const lifetime = o.leaseTime ?? DEFAULT_LEASE_TIME_S;
  const quoted = (names: string[]): string => names.map((n) => JSON.stringify(n)).join(', ');
  const subnetLines = [`range ${o.range[0]} ${o.range[1]};`];
  if (o.routers?.length) subnetLines.push(`option routers ${o.routers.join(', ')};`);
  if (o.dns?.length) subnetLines.push(`option domain-name-servers ${o.dns.join(', ')};`);
  if (o.domainName) subnetLines.push(`option domain-name ${JSON.stringify(o.domainName)};`);
  if (o.domainSearch?.length) subnetLines.push(`option domain-search ${quoted(o.domainSearch)};`);
  if (o.classlessRoutes?.length) {
    subnetLines.push(`option classless-routes ${[...classlessRoutesBytes(o.classlessRoutes)].join(',')};`);
  }
  if (o.renewTime !== undefined) subnetLines.push(`option dhcp-renewal-time ${o.renewTime};`);
  if (o.rebindTime !== undefined) subnetLines.push(`option dhcp-rebinding-time ${o.rebindTime};`);
  const conf = [
    'ddns-update-style none;',
    (o.authoritative ?? true) ? 'authoritative;' : 'not authoritative;',
    `ping-check ${o.ping ? 'true' : 'false'};`,
    `default-lease-time ${lifetime};`,
    `min-lease-time ${lifetime};`,
    `max-lease-time ${lifetime};`,
    'option classless-routes code 121 = array of unsigned integer 8;',
    `subnet ${lanSubnet(topo)} netmask ${topo.lanNetmask} {`,
    ...subnetLines.map((l) => `  ${l}`),
    '}',
    o.extraConfig ?? '',
  ].join('\n');
  const confFile = path.join(dir, 'dhcpd.conf');
  fs.writeFileSync(confFile, `${conf}\n`);
  fs.writeFileSync(leaseFile, '');
  const args = [
    '-4',
    '-f',
    '-d',
    '-cf',
    confFile,
    '-lf',
    leaseFile,
    '-pf',
    path.join(dir, 'dhcpd.pid'),
    topo.lanBridge,
  ];
  return startServer(topo, { kind: 'dhcpd', cmd: 'dhcpd', args, dir, leaseFile, parse: parseDhcpdLeases });
}
