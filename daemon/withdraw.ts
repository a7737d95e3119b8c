// A lease of a family the config no longer asks for (daemon/add-plan.ts): released, and its address taken off the
// pod's interface, where the main plugin put it from an earlier ADD's result. The pod keeps no address the server
// may give to another.
import { attachmentKey } from '../common/rpc';
import type { Logger } from './log';
import type { PodNetns, PodPort } from './pod-port';
import type { AddParams } from './registry-api';

/** A runner of either family, as a withdrawal needs it. */
export interface Withdrawn {
  readonly params: AddParams;
  readonly facts?: { address: string; prefixLength: number };
  release(): Promise<void>;
}

/** `ns`: the namespace the runner was built for (absent: unknown, the address is left alone). */
export async function withdraw(
  r: Withdrawn,
  ns: PodNetns | undefined,
  deps: { port: PodPort; log: Logger },
): Promise<void> {
  const on = r.facts;
  await r.release();
  if (!ns || !on) return;
  const pod = deps.port.side(ns, r.params.ifName);
  const off = on.address.includes(':')
    ? pod.delAddress6(on.address, on.prefixLength)
    : pod.delAddress(on.address, on.prefixLength);
  await off.catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EADDRNOTAVAIL')
      deps.log.warn({ err: err.message, address: on.address }, 'withdrawn address not removed');
  });
  deps.log.info(
    { attachment: attachmentKey(r.params), address: on.address },
    'ADD: lease of a family no longer asked for withdrawn',
  );
}
