// `ts-dhcp daemon`: parse flags, listen, serve the RPC methods, stop cleanly on SIGTERM/SIGINT without releasing
// (pods keep using their addresses across a daemon restart).
import { readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { createLogger } from './log';
import { daemonUsage, parseDaemonArgs } from './flags';
import { listen } from './listen';
import { Registry } from './registry';
import { LeaseStore } from './store';
import { drainSpool, every, removeStaleSpoolTemps } from './housekeeping';
import { DEFAULT_RPC_LIMITS, Handlers, serveRpc } from './rpc-server';
import { peerAuthorizer, resolveGroup } from './peer-auth';
import { leaseParams, cniParams, noParams } from './rpc-params';
import { runCni } from './cni/plugin';
import { nativePort } from './transport/pod-port';
import { compacting, quietGc } from './quiet-gc';
import type { Methods } from '../common/rpc';
import { VERSION } from '../common/version';

/** CNI calls come in bursts (pods scheduled together): a second without one ends the burst. */
const QUIET_GC_MS = 1000;
const QUIET_GC_MIN_GROWTH = 1 << 20;

export async function runDaemon(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h') || argv.includes('-help')) {
    process.stdout.write(daemonUsage());
    return 0;
  }
  const opts = parseDaemonArgs(argv);
  if (opts instanceof Error) {
    process.stderr.write(`ts-dhcp daemon: ${opts.message}\n`);
    return 2;
  }
  const log = createLogger(opts.logLevel);
  const startedAt = Date.now();
  // prom-client is loaded only when metrics are asked for.
  const metrics: import('./metrics').Metrics | undefined = opts.metricsAddress
    ? (require('./metrics') as typeof import('./metrics')).createMetrics(() => registry.queries.countsByFamily())
    : undefined;
  const store = new LeaseStore(opts.stateDir, log, {
    now: Date.now,
    onCorrupt: metrics && ((what) => metrics.record(what)),
  });
  const registry: Registry = new Registry({ opts, port: nativePort, log, now: Date.now, metrics, store });

  const socketGid = opts.socketGroup === undefined ? undefined : resolveGroup(opts.socketGroup);
  if (socketGid instanceof Error) {
    process.stderr.write(`ts-dhcp daemon: --socket-group: ${socketGid.message}\n`);
    return 2;
  }
  let listening;
  try {
    listening = await listen(
      opts.socketPath,
      () => log.warn({ socketPath: opts.socketPath }, 'removed a stale socket file'),
      socketGid,
    );
  } catch (err) {
    log.fatal({ err: (err as Error).message, socketPath: opts.socketPath }, 'cannot listen');
    return 1;
  }
  const { server, ownsSocketFile } = listening;
  // With socket activation, connections made before this process started are accepted as soon as it listens:
  // hold them until the RPC handlers are attached below, or they would hang unanswered.
  const early: Socket[] = [];
  const holdEarly = (sock: Socket) => early.push(sock);
  server.on('connection', holdEarly);
  let metricsServer: import('node:http').Server | undefined;
  if (metrics && opts.metricsAddress) {
    try {
      metricsServer = await (require('./metrics') as typeof import('./metrics')).serveMetrics(
        metrics,
        opts.metricsAddress,
      );
    } catch (err) {
      log.fatal({ err: (err as Error).message, metricsAddress: opts.metricsAddress }, 'cannot serve metrics');
      server.close();
      if (ownsSocketFile) unlinkQuiet(opts.socketPath);
      return 1;
    }
  }
  // After listen: a second daemon refused there never touches the records of the live one.
  try {
    await store.init();
    await store.expireCorrupt(Date.now());
    await registry.restore(await store.load());
    // DELs the plugin could not deliver while the daemon was down.
    await drainSpool(opts.stateDir, (a) => registry.del(a), log);
  } catch (err) {
    log.fatal({ err: (err as Error).message, stateDir: opts.stateDir }, 'cannot use the state directory');
    server.close();
    metricsServer?.close();
    if (ownsSocketFile) unlinkQuiet(opts.socketPath);
    return 1;
  }
  registry.startVanishCheck(opts.checkIntervalMs);
  const quiet = quietGc(QUIET_GC_MS, QUIET_GC_MIN_GROWTH, {
    gc: globalThis.gc && compacting(globalThis.gc),
    heapUsed: () => process.memoryUsage().heapUsed,
    now: Date.now,
  });
  quiet.touch(); // the start-up's and the restore's garbage
  // The plugin spools a DEL whenever it cannot reach the daemon (a restart, an overloaded socket), not only before
  // this process started.
  const stopHousekeeping = every(
    opts.checkIntervalMs,
    async () => {
      await drainSpool(opts.stateDir, (a) => registry.del(a), log);
      await removeStaleSpoolTemps(opts.stateDir, Date.now());
      await store.expireCorrupt(Date.now());
    },
    log,
  );
  if (opts.pidfile) writeFileSync(opts.pidfile, `${process.pid}\n`);

  const handlers: Handlers<Methods> = {
    cni: {
      params: cniParams,
      run: (p) =>
        quiet.during(() =>
          runCni(p, registry, {
            onBug: (err) => log.error({ err }, 'CNI plugin logic failed'),
            onAnswer: metrics && ((verb, code) => metrics.cni(verb, code)),
          }),
        ),
    },
    leases: { params: noParams, run: async () => registry.queries.list() },
    lease: { params: leaseParams, run: async (p) => registry.queries.detail(p) },
    status: {
      params: noParams,
      run: async () => ({
        version: VERSION,
        pid: process.pid,
        uptimeS: Math.round((Date.now() - startedAt) / 1000),
        socketPath: opts.socketPath,
        stateDir: opts.stateDir,
        leases: registry.queries.countsByState(),
        recordErrors: registry.queries.recordErrors(),
        memory: process.memoryUsage(),
        openFds: readdirSync('/proc/self/fd').length,
      }),
    },
  };
  serveRpc(server, handlers, log, metrics && ((method, outcome) => metrics.rpc(method, outcome)), {
    ...DEFAULT_RPC_LIMITS,
    idleTimeoutMs: opts.idleTimeoutMs,
    authorize: peerAuthorizer(socketGid),
  });
  server.off('connection', holdEarly);
  for (const sock of early) server.emit('connection', sock);
  log.info(
    {
      socketPath: opts.socketPath,
      activated: listening.activated,
      version: VERSION,
      metricsAddress: opts.metricsAddress,
    },
    'serving',
  );

  return new Promise((resolve) => {
    const stop = async (signal: string) => {
      log.info(
        { signal, releaseOnExit: opts.releaseOnExit },
        opts.releaseOnExit ? 'stopping; releasing every lease' : 'stopping; leases are kept (no RELEASE)',
      );
      server.close();
      stopHousekeeping();
      quiet.stop();
      await registry.shutdown(opts.releaseOnExit);
      metricsServer?.close();
      if (ownsSocketFile) unlinkQuiet(opts.socketPath);
      if (opts.pidfile) unlinkQuiet(opts.pidfile);
      resolve(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
