// DHCPv6 wire format of client/server messages (RFC 8415 §8, §21.1). Pure: no I/O, no module-level mutable state.
//
// decode() never throws: every length is checked before it is read, and a bad frame comes back as { ok: false,
// reason }. Relay messages (§9) are refused: a client never receives one.
import type { Decoded } from '../dhcp/types';
import { Dhcp6Message, MsgType, Option6 } from './types';

const HEADER_LEN = 4;
const OPTION_HEADER_LEN = 4;
const MAX_XID = 0xffffff;
const MAX_OPTION_LEN = 0xffff;

export function encodingLength(msg: Dhcp6Message): number {
  return HEADER_LEN + optionsLength(msg.options);
}

export function optionsLength(options: readonly Option6[]): number {
  return options.reduce((n, o) => n + OPTION_HEADER_LEN + o.data.length, 0);
}

/** Writes options at `pos` of `out`; returns the position after them. Throws on a code or length out of range. */
function writeOptions(out: Buffer, pos: number, options: readonly Option6[]): number {
  for (const { code, data } of options) {
    if (!Number.isInteger(code) || code < 0 || code > 0xffff) throw new RangeError(`option code ${code} out of range`);
    if (data.length > MAX_OPTION_LEN)
      throw new RangeError(`option ${code} is ${data.length} bytes, at most ${MAX_OPTION_LEN}`);
    out.writeUInt16BE(code, pos);
    out.writeUInt16BE(data.length, pos + 2);
    pos += OPTION_HEADER_LEN + data.copy(out, pos + OPTION_HEADER_LEN);
  }
  return pos;
}

/** An option list as bytes: the value of an encapsulating option (IA_NA, IAADDR) after its fixed fields. */
export function encodeOptions(options: readonly Option6[]): Buffer {
  const out = Buffer.alloc(optionsLength(options));
  writeOptions(out, 0, options);
  return out;
}

/** Encodes `msg`. Throws on a message that cannot be encoded (type or xid out of range): local bugs, not input. */
export function encode(msg: Dhcp6Message): Buffer {
  if (!Number.isInteger(msg.type) || msg.type < 1 || msg.type > 255)
    throw new RangeError(`message type ${msg.type} out of range`);
  if (!Number.isInteger(msg.xid) || msg.xid < 0 || msg.xid > MAX_XID)
    throw new RangeError(`xid ${msg.xid} is not 24 bits`);
  const out = Buffer.alloc(encodingLength(msg));
  out.writeUInt32BE(((msg.type << 24) | msg.xid) >>> 0, 0);
  writeOptions(out, HEADER_LEN, msg.options);
  return out;
}

/**
 * Parses the options in buf[start, end). Every option must fit exactly: a length running past `end` is an error
 * (RFC 8415 §16: a malformed message is discarded). Values are copies, so nothing keeps `buf` alive.
 */
export function decodeOptions(
  buf: Buffer,
  start: number,
  end: number,
): { ok: true; value: Option6[] } | { ok: false; reason: string } {
  const options: Option6[] = [];
  let pos = start;
  while (pos < end) {
    if (end - pos < OPTION_HEADER_LEN)
      return { ok: false, reason: `option header at byte ${pos} truncated: ${end - pos} bytes left` };
    const code = buf.readUInt16BE(pos);
    const len = buf.readUInt16BE(pos + 2);
    const valueStart = pos + OPTION_HEADER_LEN;
    if (valueStart + len > end) {
      return { ok: false, reason: `option ${code} truncated: length ${len}, ${end - valueStart} bytes left` };
    }
    options.push({ code, data: Buffer.from(buf.subarray(valueStart, valueStart + len)) });
    pos = valueStart + len;
  }
  return { ok: true, value: options };
}

/** Decodes one message occupying buf[offset..] (UDP gives exact datagrams). Never throws. */
export function decode(buf: Buffer, offset = 0): Decoded<Dhcp6Message> {
  if (!Buffer.isBuffer(buf)) return { ok: false, reason: 'not a Buffer' };
  if (!Number.isInteger(offset) || offset < 0 || offset > buf.length) {
    return { ok: false, reason: `offset ${offset} outside a ${buf.length}-byte buffer` };
  }
  const frame = buf.subarray(offset);
  if (frame.length < HEADER_LEN)
    return { ok: false, reason: `${frame.length} bytes, a DHCPv6 message has at least ${HEADER_LEN}` };
  const type = frame[0] as number;
  if (type === 0) return { ok: false, reason: 'message type 0 is reserved' };
  if (type === MsgType.RELAY_FORW || type === MsgType.RELAY_REPL)
    return { ok: false, reason: `relay message (type ${type}) sent to a client` };
  const options = decodeOptions(frame, HEADER_LEN, frame.length);
  if (!options.ok) return options;
  return {
    ok: true,
    value: { type, xid: frame.readUInt32BE(0) & MAX_XID, options: options.value },
    bytes: frame.length,
  };
}
