// CNI GC (spec 1.1): every lease of the network whose attachment the runtime no longer lists goes, each by its own
// DEL (serialised with the other operations on its attachment); one failing does not stop the others.
import { Attachment, attachmentKey } from '../common/rpc';
import type { GcParams, GcResult } from './registry-api';

export async function collectGarbage(
  p: GcParams,
  held: readonly { params: Attachment }[],
  del: (a: Attachment) => Promise<unknown>,
): Promise<GcResult> {
  const valid = new Set(p.validAttachments.map((a) => `${a.containerId}/${a.ifName}`));
  // Both families of one attachment: one DEL.
  const stale = new Map(
    held
      .map((r) => ({ containerId: r.params.containerId, network: r.params.network, ifName: r.params.ifName }))
      .filter((a) => a.network === p.network && !valid.has(`${a.containerId}/${a.ifName}`))
      .map((a) => [attachmentKey(a), a]),
  ).values();
  const result: GcResult = { released: [], errors: [] };
  await Promise.all(
    [...stale].map(async (a) => {
      try {
        await del(a);
        result.released.push(a);
      } catch (err) {
        result.errors.push(`${attachmentKey(a)}: ${(err as Error).message}`);
      }
    }),
  );
  return result;
}
