// JSON-RPC 2.0 over a unix stream socket, one message per line (common/rpc.ts). A bad request gets an error
// reply; nothing a client sends can crash the daemon or stall other clients. Each connection is bounded: one
// request at a time (the next line is read only once the answer is written and drained), a request line of at
// most maxRequestBytes, an idle timeout; the number of connections is capped, idle ones giving way to new ones.
import { Server, Socket } from 'node:net';
import jsonrpc, { JsonRpcError } from 'jsonrpc-lite';
import { MAX_REQUEST_BYTES } from '../common/rpc';
import { cniCodeOf } from './cni/errors';
import { DaemonError } from './errors';
import type { Logger } from './log';

/** One method: its params checked (nothing on the socket is trusted), then served. */
export interface Handler<P, R> {
  params(raw: unknown): P;
  run(params: P): Promise<R>;
}

/** A handler for each method of a contract (common/rpc.ts Methods), typed by it: a handler whose params or result
 *  do not match its method does not compile. */
export type Handlers<C> = { [M in keyof C]: C[M] extends { params: infer P; result: infer R } ? Handler<P, R> : never };
type AnyHandler = Handler<unknown, unknown>;
/** Told about every request that reached a handler (metrics). */
export type RpcOutcome = 'ok' | 'error' | 'internal';
export type RpcObserver = (method: string, outcome: RpcOutcome) => void;

export interface RpcLimits {
  /** Open connections at most; a new one beyond closes the longest-idle one, or is refused when none is idle. */
  maxConnections: number;
  /** A connection with no request in progress for this long is closed. */
  idleTimeoutMs: number;
  /** Longest request line, in bytes. */
  maxRequestBytes: number;
  /** Whether the peer may talk to the daemon (SO_PEERCRED); undefined when it may, else why not. */
  authorize?(sock: Socket): string | undefined;
}

export const DEFAULT_RPC_LIMITS: RpcLimits = {
  maxConnections: 256,
  idleTimeoutMs: 30_000,
  maxRequestBytes: MAX_REQUEST_BYTES,
};

const INVALID_REQUEST = -32600;
const METHOD_NOT_FOUND = -32601;
const INTERNAL_ERROR = -32603;

interface Conn {
  sock: Socket;
  busy: boolean;
  idleSinceMs: number;
  timer?: NodeJS.Timeout;
}

export function serveRpc<C>(
  server: Server,
  handlers: Handlers<C>,
  log: Logger,
  observe?: RpcObserver,
  limits: RpcLimits = DEFAULT_RPC_LIMITS,
): void {
  const conns = new Set<Conn>();
  server.on('connection', (sock: Socket) => {
    const refused = limits.authorize?.(sock);
    if (refused !== undefined) {
      log.warn({ reason: refused }, 'rpc connection refused');
      sock.destroy();
      return;
    }
    if (conns.size >= limits.maxConnections) {
      let oldest: Conn | undefined;
      for (const c of conns) if (!c.busy && (!oldest || c.idleSinceMs < oldest.idleSinceMs)) oldest = c;
      if (!oldest) {
        log.warn({ connections: conns.size }, 'rpc connection refused: every connection has a request in progress');
        sock.destroy();
        return;
      }
      log.debug({ connections: conns.size }, 'closed the longest-idle rpc connection to make room');
      oldest.sock.destroy();
    }
    const conn: Conn = { sock, busy: false, idleSinceMs: Date.now() };
    conns.add(conn);
    sock.once('close', () => {
      clearTimeout(conn.timer);
      conns.delete(conn);
    });
    onConnection(conn, handlers as Record<string, AnyHandler>, log, limits, observe);
  });
}

function onConnection(
  conn: Conn,
  handlers: Record<string, AnyHandler>,
  log: Logger,
  limits: RpcLimits,
  observe?: RpcObserver,
): void {
  const { sock } = conn;
  let buffered: Buffer = Buffer.alloc(0);
  const idle = () => {
    conn.busy = false;
    conn.idleSinceMs = Date.now();
    clearTimeout(conn.timer);
    conn.timer = setTimeout(() => {
      log.debug('idle rpc connection closed');
      sock.destroy();
    }, limits.idleTimeoutMs);
  };
  /** A request over the limit: an error answer (no id can be read from it), and the connection ends. */
  const refuseTooLarge = async (): Promise<void> => {
    const err = new JsonRpcError(`request larger than ${limits.maxRequestBytes} bytes`, INVALID_REQUEST);
    await reply(sock, jsonrpc.error(null as unknown as string, err));
    sock.end();
  };
  /** Takes the next complete line, answers it, and only then reads on: one request at a time, answers drained. */
  const next = async (): Promise<void> => {
    while (!conn.busy && !sock.destroyed) {
      const nl = buffered.indexOf(0x0a);
      if (nl < 0) {
        if (buffered.length > limits.maxRequestBytes) {
          await refuseTooLarge();
          buffered = Buffer.alloc(0);
        }
        return;
      }
      const line = buffered.toString('utf8', 0, nl);
      buffered = buffered.subarray(nl + 1);
      if (nl > limits.maxRequestBytes) {
        await refuseTooLarge();
        return;
      }
      if (!line.trim()) continue;
      conn.busy = true;
      clearTimeout(conn.timer);
      sock.pause();
      await handleLine(sock, line, handlers, log, observe);
      idle();
      sock.resume();
    }
  };
  sock.on('error', (err) => log.debug({ err: err.message }, 'rpc connection error'));
  sock.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    void next();
  });
  idle();
}

async function handleLine(
  sock: Socket,
  line: string,
  handlers: Record<string, AnyHandler>,
  log: Logger,
  observe?: RpcObserver,
): Promise<void> {
  const parsed = jsonrpc.parse(line);
  const one = Array.isArray(parsed) ? parsed[0] : parsed;
  if (Array.isArray(parsed) || !one || one.type !== 'request') {
    const code = one?.type === 'invalid' ? one.payload.code : INVALID_REQUEST;
    const why = Array.isArray(parsed)
      ? 'batch requests are not supported'
      : one?.type === 'invalid'
        ? one.payload.message
        : `expected a request, got a ${one?.type}`;
    await reply(sock, jsonrpc.error(null as unknown as string, new JsonRpcError(String(why), code)));
    return;
  }
  const { id, method, params } = one.payload as { id: string | number; method: string; params?: unknown };
  const handler = Object.prototype.hasOwnProperty.call(handlers, method) ? handlers[method] : undefined;
  if (!handler) {
    await reply(
      sock,
      jsonrpc.error(id, new JsonRpcError(`unknown method ${JSON.stringify(method)}`, METHOD_NOT_FOUND)),
    );
    return;
  }
  const started = process.hrtime.bigint();
  try {
    const result = await handler.run(handler.params(params ?? {}));
    await reply(sock, jsonrpc.success(id, result as object));
    observe?.(method, 'ok');
    log.debug({ method, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'rpc ok');
  } catch (err) {
    if (err instanceof DaemonError) {
      // The application range of the protocol is the CNI codes (common/rpc.ts).
      const code = cniCodeOf(err.kind);
      await reply(sock, jsonrpc.error(id, new JsonRpcError(err.message, code)));
      log.info({ method, kind: err.kind, err: err.message }, 'rpc error');
      observe?.(method, 'error');
    } else {
      await reply(
        sock,
        jsonrpc.error(id, new JsonRpcError(`internal error: ${(err as Error).message}`, INTERNAL_ERROR)),
      );
      log.error({ method, err }, 'rpc handler failed');
      observe?.(method, 'internal');
    }
  }
}

/** Writes one answer; resolves once the socket took it (drain), so a client that does not read holds one answer
 *  in memory, not all of them. */
function reply(sock: Socket, msg: object): Promise<void> {
  if (sock.destroyed) return Promise.resolve();
  if (sock.write(`${JSON.stringify(msg)}\n`)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      sock.off('drain', done);
      sock.off('close', done);
      resolve();
    };
    sock.once('drain', done);
    sock.once('close', done);
  });
}
