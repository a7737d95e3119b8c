// One JSON-RPC 2.0 call to the daemon: connect to its unix socket, write one request line, read one response line,
// close. Written out here (a few lines) rather than pulled from a library: this runs in every plugin invocation.
import { createConnection } from 'node:net';
import { CniCode, CniError } from '../daemon/cni/errors';
import type { MethodName, Methods } from '../common/rpc';

/** Replies are small (a lease list is the largest); a daemon that streams more than this is misbehaving. */
const MAX_REPLY_BYTES = 16 << 20;

export interface CallOptions {
  timeoutMs: number;
}

/** Maps every failure to a CniError: transport problems, the daemon's application errors and malformed replies. */
export function call<M extends MethodName>(
  socketPath: string,
  method: M,
  params: Methods[M]['params'],
  opts: CallOptions,
): Promise<Methods[M]['result']> {
  const id = 1; // one request per connection
  const request = `${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const sock = createConnection({ path: socketPath });
    const finish = (err: CniError | undefined, result?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(result as Methods[M]['result']);
    };
    const timer = setTimeout(() => {
      finish(
        new CniError(
          CniCode.TRY_AGAIN_LATER,
          `ts-dhcp daemon did not answer "${method}" within ${formatMs(opts.timeoutMs)}`,
          `socket ${socketPath}`,
        ),
      );
    }, opts.timeoutMs);

    sock.on('connect', () => sock.write(request));
    sock.on('error', (err: NodeJS.ErrnoException) => finish(connectionError(err, socketPath, method)));
    sock.on('data', (chunk: Buffer) => {
      const nl = chunk.indexOf(0x0a);
      chunks.push(nl >= 0 ? chunk.subarray(0, nl) : chunk);
      received += chunk.length;
      if (nl >= 0) finish(...parseReply(Buffer.concat(chunks).toString('utf8'), id, method));
      else if (received > MAX_REPLY_BYTES) finish(protocolError(method, `reply longer than ${MAX_REPLY_BYTES} bytes`));
    });
    // A reply without the final newline is still a reply; no reply at all means the daemon gave up on us.
    sock.on('end', () => {
      if (received > 0) finish(...parseReply(Buffer.concat(chunks).toString('utf8'), id, method));
      else
        finish(
          new CniError(
            CniCode.TRY_AGAIN_LATER,
            `ts-dhcp daemon closed the connection without answering "${method}"`,
            `socket ${socketPath}`,
          ),
        );
    });
  });
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function connectionError(err: NodeJS.ErrnoException, socketPath: string, method: string): CniError {
  switch (err.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return new CniError(
        CniCode.TRY_AGAIN_LATER,
        `ts-dhcp daemon is not running: cannot connect to ${socketPath} (start it with "ts-dhcp daemon" or "systemctl enable --now ts-dhcp.socket")`,
        `${err.code}: ${err.message}`,
      );
    case 'EACCES':
    case 'EPERM':
      return new CniError(
        CniCode.IO_FAILURE,
        `permission denied connecting to the ts-dhcp daemon at ${socketPath}: the socket is for root only (mode 0600)`,
        `${err.code}: ${err.message}`,
      );
    case 'ECONNRESET':
    case 'EPIPE':
      return new CniError(
        CniCode.TRY_AGAIN_LATER,
        `ts-dhcp daemon dropped the connection during "${method}"`,
        `${err.code}: ${err.message}`,
      );
    default:
      return new CniError(
        CniCode.IO_FAILURE,
        `cannot talk to the ts-dhcp daemon at ${socketPath}: ${err.message}`,
        err.code,
      );
  }
}

function protocolError(method: string, what: string): CniError {
  return new CniError(CniCode.RPC_PROTOCOL, `ts-dhcp daemon sent a malformed reply to "${method}": ${what}`);
}

type Outcome = [CniError | undefined, unknown?];

function parseReply(line: string, id: number, method: string): Outcome {
  let msg: unknown;
  try {
    msg = JSON.parse(line);
  } catch {
    return [protocolError(method, `not JSON: ${JSON.stringify(line.slice(0, 200))}`)];
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg))
    return [protocolError(method, 'not a JSON object')];
  const m = msg as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') return [protocolError(method, 'not JSON-RPC 2.0')];
  if ('error' in m) return [daemonError(m.error, method)];
  if (m.id !== id) return [protocolError(method, `reply id ${JSON.stringify(m.id)} is not the request's ${id}`)];
  if (!('result' in m)) return [protocolError(method, 'neither "result" nor "error"')];
  return [undefined, m.result];
}

/**
 * Positive codes are the daemon's CNI codes (common/rpc.ts; JSON-RPC reserves only negative ones) and pass through
 * unchanged with the daemon's message and `data.details`. JSON-RPC's own errors mean the request was not served.
 */
function daemonError(e: unknown, method: string): CniError {
  if (typeof e !== 'object' || e === null) return protocolError(method, '"error" is not an object');
  const { code, message, data } = e as { code?: unknown; message?: unknown; data?: unknown };
  if (typeof code !== 'number' || !Number.isInteger(code))
    return protocolError(method, 'error without an integer code');
  const text = typeof message === 'string' && message !== '' ? message : `error ${code}`;
  const details =
    typeof data === 'string'
      ? data
      : typeof data === 'object' && data !== null && typeof (data as { details?: unknown }).details === 'string'
        ? (data as { details: string }).details
        : undefined;
  if (code > 0) return new CniError(code, text, details);
  return new CniError(
    CniCode.DAEMON_ERROR,
    `ts-dhcp daemon error on "${method}": ${text}`,
    `JSON-RPC error ${code}${details ? `: ${details}` : ''}`,
  );
}
