// Option 61 (client identifier) per the IPAM key `clientId`: legacy (the reference plugin's), pod (stable across
// re-created pods), duid (RFC 4361: type 255, IAID, node DUID) or a literal value. At most 255 bytes, type included.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Attachment, attachmentKey } from '../common/rpc';
import { AddParams } from './registry-api';
import { MAX_CLIENT_ID_BYTES, MAX_CLIENT_ID_TEXT_BYTES } from './dhcp/types';
import { DuidType, iaidOf } from './dhcp6/duid';
import type { Logger } from './log';

/** RFC 4361 §6.1: type 255, then a 4-byte IAID, then the DUID. */
const RFC4361_TYPE = 255;

function typed(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type]), body]);
}

/** The node's DUID, created once and kept in the state dir so every lease of this node carries the same one. */
export function nodeDuid(stateDir: string): Buffer {
  const file = join(stateDir, 'duid');
  try {
    const hex = readFileSync(file, 'utf8').trim();
    if (/^(?:[0-9a-f]{2}){3,130}$/.test(hex)) return Buffer.from(hex, 'hex');
  } catch {
    // not yet created
  }
  const duid = Buffer.concat([Buffer.from([0, DuidType.UUID]), randomBytes(16)]);
  mkdirSync(stateDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${duid.toString('hex')}\n`, { mode: 0o644 });
  renameSync(tmp, file);
  return duid;
}

/** What a too-long `pod` text keeps of itself, before "~" and the 64 hex digits of its SHA-256. */
const POD_PREFIX_BYTES = MAX_CLIENT_ID_TEXT_BYTES - 1 - 64;

/**
 * The `pod` identifier's text: namespace/name/network/ifName. Kubernetes allows a 253-byte pod name, and network
 * names are unbounded, so one can outgrow option 61: then it is its first 189 bytes, "~", and the SHA-256 of the whole
 * text in hex (254 bytes) — stable for the same pod, distinct for different ones, readable in a server's lease list.
 */
export function podClientIdText(namespace: string, name: string, network: string, ifName: string): Buffer {
  const text = Buffer.from(`${namespace}/${name}/${network}/${ifName}`);
  if (text.length <= MAX_CLIENT_ID_TEXT_BYTES) return text;
  const digest = createHash('sha256').update(text).digest('hex');
  return Buffer.concat([text.subarray(0, POD_PREFIX_BYTES), Buffer.from(`~${digest}`)]);
}

/** IAID: stable per attachment, distinct between a pod's interfaces (RFC 4361 §6.1). */
function iaid(p: AddParams): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(iaidOf(attachmentKey(p)));
  return b;
}

/**
 * The option 61 value for an ADD. "pod" without K8S_POD_NAMESPACE/K8S_POD_NAME falls back to legacy with a warning.
 */
export function clientIdFor(p: AddParams, stateDir: string, log: Logger): Buffer {
  const spec = p.clientId ?? 'legacy';
  const legacy = legacyClientId(p);
  let id: Buffer;
  if (spec === 'legacy') id = legacy;
  else if (spec === 'pod') {
    const ns = p.args.K8S_POD_NAMESPACE;
    const name = p.args.K8S_POD_NAME;
    if (!ns || !name) {
      log.warn(
        { clientId: 'pod' },
        'clientId "pod" needs K8S_POD_NAMESPACE and K8S_POD_NAME in CNI_ARGS; using the legacy identifier',
      );
      id = legacy;
    } else id = typed(0, podClientIdText(ns, name, p.network, p.ifName));
  } else if (spec === 'duid') id = typed(RFC4361_TYPE, Buffer.concat([iaid(p), nodeDuid(stateDir)]));
  else id = typed(0, Buffer.from(spec.value));
  if (id.length > MAX_CLIENT_ID_BYTES) {
    throw new RangeError(
      `client identifier is ${id.length} bytes, more than the ${MAX_CLIENT_ID_BYTES} option 61 holds`,
    );
  }
  return id;
}

/** The reference plugin's client identifier: type 0 + "<containerID>/<network>/<ifName>", so a switch from
 *  `dhcp` keeps every address on the server. */
export function legacyClientId(a: Attachment): Buffer {
  return typed(0, Buffer.from(attachmentKey(a)).subarray(0, MAX_CLIENT_ID_TEXT_BYTES));
}
