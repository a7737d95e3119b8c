// Client identity for DHCPv6 (RFC 8415 §11, §12; RFC 6355): DUIDs and IAIDs, derived without I/O.
import { createHash } from 'node:crypto';

/** DUID types (RFC 8415 §11.1, RFC 6355). */
export const DuidType = { LLT: 1, EN: 2, LL: 3, UUID: 4 } as const;
/** Hardware type of an Ethernet link (RFC 826 / IANA ARP hardware types). */
const HWTYPE_ETHERNET = 1;
/** RFC 8415 §11.1: a DUID is at most 128 bytes after its type. */
export const MAX_DUID_LEN = 130;

function typeHeader(type: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(type);
  return b;
}

/** DUID-LL (§11.4) of an Ethernet MAC: the `legacy` identity, tied to the pod's interface. */
export function duidLl(mac: Buffer): Buffer {
  if (mac.length !== 6) throw new RangeError(`DUID-LL needs a 6-byte MAC, got ${mac.length} bytes`);
  const hw = Buffer.alloc(2);
  hw.writeUInt16BE(HWTYPE_ETHERNET);
  return Buffer.concat([typeHeader(DuidType.LL), hw, mac]);
}

/** The ts-dhcp UUID namespace for name-based UUIDs (RFC 4122 §4.3, version 5). */
const UUID_NAMESPACE = Buffer.from('6c1f0b0e8f0a4d6e9a3b2f1d5c7e9a10', 'hex');

/**
 * DUID-UUID (RFC 6355) whose UUID is the version-5 (name-based, SHA-1) UUID of `name` in ts-dhcp's namespace: the
 * same name gives the same DUID on every node and after every restart, so a re-created pod keeps its address.
 */
export function duidUuid(name: string): Buffer {
  const uuid = createHash('sha1').update(UUID_NAMESPACE).update(name, 'utf8').digest().subarray(0, 16);
  uuid[6] = ((uuid[6] as number) & 0x0f) | 0x50;
  uuid[8] = ((uuid[8] as number) & 0x3f) | 0x80;
  return Buffer.concat([typeHeader(DuidType.UUID), uuid]);
}

/** IAID (§12): the first 32 bits of the SHA-256 of the attachment's text — stable for it, distinct between a pod's
 *  interfaces. */
export function iaidOf(attachment: string): number {
  return createHash('sha256').update(attachment).digest().readUInt32BE(0);
}
