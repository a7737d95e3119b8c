// The pod's interface made ready before an ADD's first send: IPv6 on for DHCPv6, and the link up (the reference
// plugin loses 1-3 s to ENETDOWN there).
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

/** IPv6 on for the pod's interface before its link comes up (pod.prepare6): its link-local address is then usable at
 *  once. An interface that can never run DHCPv6 (the kernel or the link has no IPv6, or no link-local address can be
 *  had) fails ADD before anything is acquired, naming why: CNI error 7, since the config asks for what this pod
 *  cannot give and trying again changes nothing. Other failures are left to the link's own checks. */
export async function prepare6(pod: PodSide, p: AddParams, log: Logger): Promise<void> {
  try {
    await pod.prepare6();
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') return log.warn({ err: message }, 'IPv6 not prepared');
    // The addon's message starts "ip6Prepare: <netns>: <ifName>: ", which this one says its own way.
    const why = message.replace(/^ip6Prepare: [^:]*: [^:]*: /, '');
    throw new DaemonError('invalid-params', `ipam.ipv6: no DHCPv6 on ${p.ifName} in ${p.netns}: ${why}`);
  }
}
