// The daemon's logger: pino JSON lines to stdout (journald/kubectl logs pick them up). Every line about a lease names
// its attachment.
import pino, { Logger } from 'pino';
import { Attachment } from '../common/rpc';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}

type LeaseBindings = Attachment & { netns: string };
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
const BINDINGS = Symbol('lease bindings');
type LogCall = (obj: object, ...rest: unknown[]) => void;

/** Per daemon logger, the prototype of its lease loggers: its level methods add the attachment when a line is
 *  written. */
const leasePrototypes = new WeakMap<Logger, Logger>();

function leasePrototype(log: Logger): Logger {
  const proto = Object.create(log) as Logger;
  for (const level of LEVELS) {
    const write: LogCall = (...args) => (log[level] as LogCall).apply(log, args as [object]);
    Object.defineProperty(proto, level, {
      value(this: { [BINDINGS]: LeaseBindings }, obj: unknown, ...rest: unknown[]): void {
        if (!log.isLevelEnabled(level)) return;
        const a = this[BINDINGS];
        const lease = { containerId: a.containerId, network: a.network, ifName: a.ifName, netns: a.netns };
        if (typeof obj === 'string') write(lease, obj, ...rest);
        else if (obj instanceof Error) write({ ...lease, err: obj }, ...(rest.length > 0 ? rest : [obj.message]));
        else write({ ...lease, ...(obj as object) }, ...rest);
      },
    });
  }
  // A child of a lease logger keeps the lease's keys (it is a pino child of `log` with them, made when asked for).
  Object.defineProperty(proto, 'child', {
    value(this: { [BINDINGS]: LeaseBindings }, bindings: object, options?: object): Logger {
      const a = this[BINDINGS];
      const lease = { containerId: a.containerId, network: a.network, ifName: a.ifName, netns: a.netns };
      return log.child({ ...lease, ...bindings }, options);
    },
  });
  leasePrototypes.set(log, proto);
  return proto;
}

/** The lease's logger: `log`, with the attachment's keys on every line, as a pino child would write them. Unlike a
 *  child it builds nothing ahead: one small object per lease pointing at `a` (a child keeps its bindings as a
 *  string of ~15 pieces and a formatters object: ~1 KB of heap per lease, 1 MB with 1000 leases). */
export function leaseLogger(log: Logger, a: LeaseBindings): Logger {
  const lease = Object.create(leasePrototypes.get(log) ?? leasePrototype(log)) as Logger & {
    [BINDINGS]: LeaseBindings;
  };
  lease[BINDINGS] = a;
  return lease;
}
