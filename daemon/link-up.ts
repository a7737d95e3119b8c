// The pod's interface brought up before an ADD's first send: the reference plugin loses 1-3 s to ENETDOWN there.
import type { AddParams } from './registry-api';
import { DaemonError } from './errors';
import type { Logger } from './log';
import type { LinkInfo, PodSide } from './pod-port';

/** How long ADD waits for a fresh macvlan to come up before sending anyway. */
const LINK_UP_TIMEOUT_MS = 2000;

/** The link as it is once up. A link slow to report carrier is used anyway: retransmissions cover the first lost
 *  DISCOVER. An interface that cannot be used is CNI error 4 naming it. */
export async function linkUp(pod: PodSide, p: AddParams, log: Logger): Promise<LinkInfo> {
  try {
    return await pod.bringUp(LINK_UP_TIMEOUT_MS);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
      log.warn({ ifName: p.ifName, netns: p.netns }, 'link not running yet; sending anyway');
      return pod.info();
    }
    throw new DaemonError('bad-interface', `CNI_IFNAME ${JSON.stringify(p.ifName)}: ${(err as Error).message}`);
  }
}
