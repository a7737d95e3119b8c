// The daemon's logger: pino JSON lines to stdout (journald/kubectl logs pick them up). Lease loggers are children
// carrying the attachment, so every line about a lease names it.
import pino, { Logger } from 'pino';
import { Attachment } from '../common/rpc';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}

export function leaseLogger(log: Logger, a: Attachment & { netns: string }): Logger {
  return log.child({ containerId: a.containerId, network: a.network, ifName: a.ifName, netns: a.netns });
}
