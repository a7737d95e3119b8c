// What DHCPv6 needs of a pod interface before its first SOLICIT: a link-local source address, usable at once on a
// fresh macvlan (optimistic DAD) or within a bounded wait, and the router advertisements of the link (M/O flags for
// the error when no server answers, on-link prefixes for the prefix length of a leased address).
import { decodeRa, emptyRaView, noteRa } from '../dhcp6/ra';
import type { LinkAddress6, RaListener } from '../pod-port';
import { ensureLinkUp, ip6Addrs, ip6Prepare, netnsError, openRa } from './netns';

const ADDR_POLL_MS = 10;

/** A link-local address the client may send from and receive on: DAD done, or optimistic (RFC 4429). */
function usableLinkLocal(addrs: readonly LinkAddress6[]): LinkAddress6 | undefined {
  return addrs.find((a) => a.linkLocal && !a.dadFailed && (!a.tentative || a.optimistic));
}

/**
 * Turns on optimistic DAD, brings the link up and waits until it has a usable link-local address. On a link that was
 * down (a macvlan fresh from the CNI plugin) the address is optimistic and usable at once; on one that was already up
 * its DAD (about a second) is waited for. Rejects with code 'ETIMEDOUT' after timeoutMs, saying what the link has.
 */
export async function readyLinkLocal(netns: string, ifName: string, timeoutMs: number): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  await ip6Prepare(netns, ifName);
  await ensureLinkUp(netns, ifName, timeoutMs);
  for (;;) {
    const addrs = await ip6Addrs(netns, ifName);
    const ll = usableLinkLocal(addrs);
    if (ll) return ll.address;
    if (performance.now() >= deadline) {
      const have = addrs
        .filter((a) => a.linkLocal)
        .map((a) => `${a.address}${a.dadFailed ? ' (DAD failed)' : a.tentative ? ' (tentative)' : ''}`);
      throw netnsError(
        'readyLinkLocal',
        netns,
        ifName,
        'ETIMEDOUT',
        `no usable IPv6 link-local address after ${timeoutMs} ms (${have.length ? have.join(', ') : 'none'})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, ADDR_POLL_MS));
  }
}

/** Listens for router advertisements on ifName (soliciting one as it opens); close() when the exchange is done. */
export async function listenRa(netns: string, ifName: string): Promise<RaListener> {
  const socket = await openRa(netns, ifName);
  const view = emptyRaView();
  socket.onMessage((packet) => {
    const ra = decodeRa(packet);
    if (ra !== undefined) noteRa(view, ra);
  });
  return { view, close: () => socket.close() };
}
