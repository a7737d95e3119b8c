// JSON-RPC 2.0 over a unix stream socket, one message per line (common/rpc.ts). A bad request gets an error
// reply; nothing a client sends can crash the daemon or stall other clients.
import { Server, Socket } from 'node:net';
import jsonrpc, { JsonRpcError } from 'jsonrpc-lite';
import { MAX_REQUEST_BYTES } from '../common/rpc';
import { CniError } from './cni/errors';
import type { Logger } from './log';

export type Handler = (params: unknown) => Promise<unknown>;
/** Told about every request that reached a handler (metrics). */
export type RpcObserver = (method: string, outcome: 'ok' | 'error' | 'internal', cniCode?: number) => void;

const INVALID_REQUEST = -32600;
const METHOD_NOT_FOUND = -32601;
const INTERNAL_ERROR = -32603;

export function serveRpc(server: Server, handlers: Record<string, Handler>, log: Logger, observe?: RpcObserver): void {
  server.on('connection', (sock) => onConnection(sock, handlers, log, observe));
}

function onConnection(sock: Socket, handlers: Record<string, Handler>, log: Logger, observe?: RpcObserver): void {
  let buffered = '';
  sock.setEncoding('utf8');
  sock.on('error', (err) => log.debug({ err: err.message }, 'rpc connection error'));
  sock.on('data', (chunk: string) => {
    buffered += chunk;
    if (buffered.length > MAX_REQUEST_BYTES) {
      reply(sock, jsonrpc.error(null as unknown as string, new JsonRpcError(`request larger than ${MAX_REQUEST_BYTES} bytes`, INVALID_REQUEST)));
      sock.end();
      buffered = '';
      return;
    }
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim()) void handleLine(sock, line, handlers, log, observe);
    }
  });
}

async function handleLine(sock: Socket, line: string, handlers: Record<string, Handler>, log: Logger, observe?: RpcObserver): Promise<void> {
  const parsed = jsonrpc.parse(line);
  const one = Array.isArray(parsed) ? parsed[0] : parsed;
  if (Array.isArray(parsed) || !one || one.type !== 'request') {
    const code = one?.type === 'invalid' ? one.payload.code : INVALID_REQUEST;
    const why = Array.isArray(parsed) ? 'batch requests are not supported' : one?.type === 'invalid' ? one.payload.message : `expected a request, got a ${one?.type}`;
    reply(sock, jsonrpc.error(null as unknown as string, new JsonRpcError(String(why), code)));
    return;
  }
  const { id, method, params } = one.payload as { id: string | number; method: string; params?: unknown };
  const handler = Object.prototype.hasOwnProperty.call(handlers, method) ? handlers[method] : undefined;
  if (!handler) {
    reply(sock, jsonrpc.error(id, new JsonRpcError(`unknown method ${JSON.stringify(method)}`, METHOD_NOT_FOUND)));
    return;
  }
  const started = process.hrtime.bigint();
  try {
    const result = await handler(params ?? {});
    reply(sock, jsonrpc.success(id, result as object));
    observe?.(method, 'ok');
    log.debug({ method, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'rpc ok');
  } catch (err) {
    if (err instanceof CniError) {
      reply(sock, jsonrpc.error(id, new JsonRpcError(err.msg, err.code, err.details === undefined ? undefined : { details: err.details })));
      log.info({ method, code: err.code, err: err.msg }, 'rpc error');
      observe?.(method, 'error', err.code);
    } else {
      reply(sock, jsonrpc.error(id, new JsonRpcError(`internal error: ${(err as Error).message}`, INTERNAL_ERROR)));
      log.error({ method, err }, 'rpc handler failed');
      observe?.(method, 'internal');
    }
  }
}

function reply(sock: Socket, msg: object): void {
  if (!sock.destroyed) sock.write(`${JSON.stringify(msg)}\n`);
}
