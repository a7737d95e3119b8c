// Address conflict detection (RFC 5227), pure: the probe schedule of each `ipam.conflictDetection` setting, what
// counts as a conflict, the announcements, and how long to wait after a DHCPDECLINE. The lease core runs it.
import { ArpOp, ArpPacket } from './arp';
import { ZERO_IP } from './bytes';
import { Rng } from './rng';

export const CONFLICT_DETECTION = ['off', 'quick', 'rfc5227'] as const;
export type ConflictDetection = (typeof CONFLICT_DETECTION)[number];
/** Chosen from the measurements in docs/configuration.md, "Address conflicts (RFC 5227)": what it catches, what it
 * costs per ADD. */
export const DEFAULT_CONFLICT_DETECTION: ConflictDetection = 'quick';

export interface ProbeTiming {
  /** The first probe goes out after a random wait in [0, probeWaitMs] (RFC 5227 PROBE_WAIT). */
  probeWaitMs: number;
  /** PROBE_NUM */
  probeNum: number;
  /** Between probes: uniform in [probeMinMs, probeMaxMs] (PROBE_MIN, PROBE_MAX). */
  probeMinMs: number;
  probeMaxMs: number;
  /** Listening after the last probe (ANNOUNCE_WAIT). */
  listenMs: number;
}

export const PROBE_TIMING: Record<Exclude<ConflictDetection, 'off'>, ProbeTiming> = {
  // RFC 5227 §1.1 as written: 4-7 s before the address may be used.
  rfc5227: { probeWaitMs: 1000, probeNum: 3, probeMinMs: 1000, probeMaxMs: 2000, listenMs: 2000 },
  // 200 ms: two probes (one may be lost), listening 100 ms after the second. No initial random wait: it keeps
  // hosts that power on together from probing in step, but a server never hands one address to two clients.
  quick: { probeWaitMs: 0, probeNum: 2, probeMinMs: 100, probeMaxMs: 100, listenMs: 100 },
};

/** RFC 5227 §2.3: ANNOUNCE_NUM announcements ANNOUNCE_INTERVAL apart, whatever the probe setting. */
export const ANNOUNCE_NUM = 2;
export const ANNOUNCE_INTERVAL_MS = 2000;

/** RFC 2131 §4.4.1: after a DHCPDECLINE the client SHOULD wait at least ten seconds before restarting. */
export const DECLINE_RESTART_MS = 10_000;
/** RFC 5227 §2.1.1: after MAX_CONFLICTS conflicts, at most one attempt per RATE_LIMIT_INTERVAL. */
export const MAX_CONFLICTS = 10;
export const RATE_LIMIT_INTERVAL_MS = 60_000;

/** Probes sent so far and the next instant to act: send the next probe, or (all sent) end the listening. */
export interface ProbeProgress {
  sent: number;
  nextAtMs: number;
}

export interface Announcing {
  left: number;
  atMs: number;
}

export function probeTiming(mode: ConflictDetection | undefined): ProbeTiming | undefined {
  return mode === undefined || mode === 'off' ? undefined : PROBE_TIMING[mode];
}

export function startProbe(t: ProbeTiming, nowMs: number, rng: Rng): ProbeProgress {
  return { sent: 0, nextAtMs: nowMs + uniform(0, t.probeWaitMs, rng) };
}

/** The progress after one more probe went out at nowMs. */
export function probeSent(p: ProbeProgress, t: ProbeTiming, nowMs: number, rng: Rng): ProbeProgress {
  const sent = p.sent + 1;
  return { sent, nextAtMs: nowMs + (sent < t.probeNum ? uniform(t.probeMinMs, t.probeMaxMs, rng) : t.listenMs) };
}

/**
 * RFC 5227 §2.1.1: while probing, the address is in use when any ARP packet names it as its sender IP (a reply to a
 * probe, a request, an announcement), or another host probes for it too. Packets with our own MAC as sender are our
 * own, whatever a switch loop reflects.
 */
export function isConflict(p: ArpPacket, address: string, ownMac: string): boolean {
  if (p.senderMac.toLowerCase() === ownMac.toLowerCase()) return false;
  if (p.senderIp === address) return true;
  return p.op === ArpOp.REQUEST && p.senderIp === ZERO_IP && p.targetIp === address;
}

/** How long after the n-th conflict in a row (n ≥ 1) the next DISCOVER waits. */
export function declineRestartMs(conflicts: number): number {
  return conflicts >= MAX_CONFLICTS ? RATE_LIMIT_INTERVAL_MS : DECLINE_RESTART_MS;
}

export function startAnnouncing(nowMs: number): Announcing {
  return { left: ANNOUNCE_NUM, atMs: nowMs };
}

/** After one announcement: the next one, or undefined when all went out. */
export function announced(a: Announcing, nowMs: number): Announcing | undefined {
  return a.left > 1 ? { left: a.left - 1, atMs: nowMs + ANNOUNCE_INTERVAL_MS } : undefined;
}

function uniform(minMs: number, maxMs: number, rng: Rng): number {
  return minMs + Math.round(rng.next() * (maxMs - minMs));
}
