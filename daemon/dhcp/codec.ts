// DHCPv4 wire format (RFC 2131 §2, RFC 2132 §2-3, RFC 3396). Pure: no I/O, no module-level mutable state.
//
// decode() never throws: every length it reads is checked first, and a bad frame comes back as { ok: false, reason }.
// Its time and allocation are linear in the input length (each byte is visited once per field it belongs to; option
// chunks are gathered as views and concatenated once at the end).
import { bytesToIp, ipToBytes } from './bytes';
import { Decoded, DhcpMessage, Opt } from './types';

/** Fixed BOOTP header: op … file (RFC 2131 §2). */
export const HEADER_LEN = 236;
export const MAGIC_COOKIE = 0x63825363;
/** Header plus magic cookie: the shortest frame that can be a DHCP message. */
export const MIN_DHCP_LEN = HEADER_LEN + 4;
/** BOOTP relays drop shorter frames (RFC 1542 §2.1), so every message we send is padded to this. */
export const BOOTP_MIN_LEN = 300;

/** The header's two text fields (RFC 2131 §2); `overload`: option 52's bit for options carried in the field
 *  (RFC 2132 §9.3). */
const SNAME = { offset: 44, len: 64, overload: 2 } as const;
const FILE = { offset: 108, len: 128, overload: 1 } as const;
const CHADDR_LEN = 16;
const MAX_OPTION_CHUNK = 255;

/**
 * Codes the encoder never takes from the map: PAD and END are framing, and OVERLOAD describes where the encoder put
 * options, which it decides itself (it never overloads). decode() consumes option 52 for the same reason, so a
 * decoded message re-encodes to an equivalent frame.
 */
function isFraming(code: number): boolean {
  return code === Opt.PAD || code === Opt.END || code === Opt.OVERLOAD;
}

/** Codes in the order the encoder writes them: option 53 first (some servers only look there), then Map order. */
function optionOrder(msg: DhcpMessage): number[] {
  const codes: number[] = [];
  if (msg.options.has(Opt.MESSAGE_TYPE)) codes.push(Opt.MESSAGE_TYPE);
  for (const code of msg.options.keys()) {
    if (code !== Opt.MESSAGE_TYPE && !isFraming(code)) codes.push(code);
  }
  return codes;
}

/** Bytes one option takes on the wire: values over 255 bytes are split into several instances (RFC 3396). */
function optionWireLength(value: Buffer): number {
  const instances = Math.max(1, Math.ceil(value.length / MAX_OPTION_CHUNK));
  return value.length + 2 * instances;
}

export function encodingLength(msg: DhcpMessage): number {
  let len = MIN_DHCP_LEN + 1; // + END
  for (const code of optionOrder(msg)) len += optionWireLength(msg.options.get(code) as Buffer);
  return Math.max(len, BOOTP_MIN_LEN);
}

/** Writes `text` as a NUL-padded fixed field; latin1 so that decode → encode keeps every byte. */
function writeText(buf: Buffer, offset: number, len: number, text: string, field: string): void {
  const bytes = Buffer.from(text, 'latin1');
  if (bytes.length > len) throw new RangeError(`${field} is ${bytes.length} bytes, the field holds ${len}`);
  bytes.copy(buf, offset);
}

/**
 * Encodes `msg`. With `buf`, writes at `offset` (so a caller can put IP and UDP headers in front in one allocation)
 * and returns the slice written. Throws on a message that cannot be encoded (bad address string, chaddr over 16
 * bytes, field too long, option code out of range): those are local bugs, not network input.
 */
export function encode(msg: DhcpMessage, buf?: Buffer, offset = 0): Buffer {
  const len = encodingLength(msg);
  if (buf === undefined) {
    buf = Buffer.alloc(len);
    offset = 0;
  } else {
    if (!Number.isInteger(offset) || offset < 0 || buf.length - offset < len) {
      throw new RangeError(`encode needs ${len} bytes at offset ${offset}, buffer has ${buf.length}`);
    }
    buf.fill(0, offset, offset + len);
  }
  if (msg.chaddr.length > CHADDR_LEN || msg.hlen > CHADDR_LEN) {
    throw new RangeError(`chaddr is ${msg.chaddr.length} bytes with hlen ${msg.hlen}, the field holds 16`);
  }

  const out = buf.subarray(offset, offset + len);
  out.writeUInt8(msg.op, 0);
  out.writeUInt8(msg.htype, 1);
  out.writeUInt8(msg.hlen, 2);
  out.writeUInt8(msg.hops, 3);
  out.writeUInt32BE(msg.xid >>> 0, 4);
  out.writeUInt16BE(msg.secs, 8);
  out.writeUInt16BE(msg.flags, 10);
  ipToBytes(msg.ciaddr).copy(out, 12);
  ipToBytes(msg.yiaddr).copy(out, 16);
  ipToBytes(msg.siaddr).copy(out, 20);
  ipToBytes(msg.giaddr).copy(out, 24);
  msg.chaddr.copy(out, 28);
  writeText(out, SNAME.offset, SNAME.len, msg.sname, 'sname');
  writeText(out, FILE.offset, FILE.len, msg.file, 'file');
  out.writeUInt32BE(MAGIC_COOKIE, HEADER_LEN);

  let pos = MIN_DHCP_LEN;
  for (const code of optionOrder(msg)) {
    if (!Number.isInteger(code) || code < 0 || code > 255) throw new RangeError(`option code ${code} out of range`);
    const value = msg.options.get(code) as Buffer;
    let start = 0;
    do {
      const chunk = value.subarray(start, start + MAX_OPTION_CHUNK);
      out[pos++] = code;
      out[pos++] = chunk.length;
      pos += chunk.copy(out, pos);
      start += MAX_OPTION_CHUNK;
    } while (start < value.length);
  }
  out[pos] = Opt.END; // the rest is already zero: PAD up to BOOTP_MIN_LEN
  return out;
}

/** Option chunks per code, gathered across the options, file and sname fields, in first-seen order. */
type Chunks = Map<number, Buffer[]>;

/**
 * Parses one options area [start, end) into `chunks`. PAD is skipped, END stops the area, the length octet is
 * authoritative. Returns an error reason, or undefined when the area parsed.
 */
function parseOptionArea(buf: Buffer, start: number, end: number, area: string, chunks: Chunks): string | undefined {
  let pos = start;
  while (pos < end) {
    const code = buf[pos] as number;
    if (code === Opt.END) return undefined;
    if (code === Opt.PAD) {
      pos++;
      continue;
    }
    if (pos + 1 >= end) return `option ${code} in ${area} truncated: no length octet`;
    const len = buf[pos + 1] as number;
    const valueStart = pos + 2;
    if (valueStart + len > end) {
      return `option ${code} in ${area} truncated: length ${len}, ${end - valueStart} bytes left`;
    }
    const list = chunks.get(code);
    const value = buf.subarray(valueStart, valueStart + len);
    if (list) list.push(value);
    else chunks.set(code, [value]);
    pos = valueStart + len;
  }
  return undefined; // no END: tolerated, the area simply ends (several servers omit it in overloaded fields)
}

/** NUL-terminated text of a fixed field; latin1 keeps the bytes one-to-one for re-encoding. */
function readText(buf: Buffer, start: number, len: number): string {
  const field = buf.subarray(start, start + len);
  const nul = field.indexOf(0);
  return field.toString('latin1', 0, nul === -1 ? len : nul);
}

/**
 * Decodes a DHCP message occupying buf[offset..]. Never throws. The whole rest of the buffer is taken as the
 * message (UDP gives exact datagrams), so `bytes` is `buf.length - offset`. Option 52 is honoured and consumed:
 * the overloaded fields' options are merged (order: options, file, sname — RFC 2131 §4.1, RFC 3396) and the
 * fields read as empty text.
 */
export function decode(buf: Buffer, offset = 0): Decoded<DhcpMessage> {
  if (!Buffer.isBuffer(buf)) return { ok: false, reason: 'not a Buffer' };
  if (!Number.isInteger(offset) || offset < 0 || offset > buf.length) {
    return { ok: false, reason: `offset ${offset} outside a ${buf.length}-byte buffer` };
  }
  const frame = buf.subarray(offset);
  if (frame.length < MIN_DHCP_LEN) {
    return { ok: false, reason: `${frame.length} bytes, a DHCP message has at least ${MIN_DHCP_LEN}` };
  }
  if (frame.readUInt32BE(HEADER_LEN) !== MAGIC_COOKIE) {
    return { ok: false, reason: `bad magic cookie 0x${frame.readUInt32BE(HEADER_LEN).toString(16)}` };
  }
  const hlen = frame[2] as number;
  if (hlen > CHADDR_LEN) return { ok: false, reason: `hlen ${hlen} exceeds the 16-byte chaddr field` };

  const chunks: Chunks = new Map();
  const bad = parseOptionArea(frame, MIN_DHCP_LEN, frame.length, 'options', chunks);
  if (bad) return { ok: false, reason: bad };

  // Only the options field may carry option 52; a 52 inside file/sname is ignored, so overload cannot recurse.
  const overloadChunks = chunks.get(Opt.OVERLOAD);
  chunks.delete(Opt.OVERLOAD);
  let overload = 0;
  if (overloadChunks) {
    const v = Buffer.concat(overloadChunks);
    if (v.length !== 1 || (v[0] as number) < 1 || (v[0] as number) > 3) {
      return { ok: false, reason: `invalid option 52 (overload) value ${v.toString('hex') || '(empty)'}` };
    }
    overload = v[0] as number;
  }
  if (overload & FILE.overload) {
    const err = parseOptionArea(frame, FILE.offset, FILE.offset + FILE.len, 'file', chunks);
    if (err) return { ok: false, reason: err };
  }
  if (overload & SNAME.overload) {
    const err = parseOptionArea(frame, SNAME.offset, SNAME.offset + SNAME.len, 'sname', chunks);
    if (err) return { ok: false, reason: err };
  }
  chunks.delete(Opt.OVERLOAD);

  // chaddr and every option value are copied (no view into `buf`) into one store of their exact size: a lease keeps
  // its ACK, and small Buffers from Node's shared 8 KiB pool would each keep a whole pool slab alive (1000 leases
  // held 3.3 MiB of slabs that way).
  let size = hlen;
  for (const list of chunks.values()) for (const chunk of list) size += chunk.length;
  const store = Buffer.allocUnsafeSlow(size);
  let at = frame.copy(store, 0, 28, 28 + hlen);
  const options = new Map<number, Buffer>();
  for (const [code, list] of chunks) {
    const start = at;
    for (const chunk of list) at += chunk.copy(store, at);
    options.set(code, store.subarray(start, at));
  }

  const value: DhcpMessage = {
    op: frame[0] as number,
    htype: frame[1] as number,
    hlen,
    hops: frame[3] as number,
    xid: frame.readUInt32BE(4),
    secs: frame.readUInt16BE(8),
    flags: frame.readUInt16BE(10),
    ciaddr: bytesToIp(frame, 12),
    yiaddr: bytesToIp(frame, 16),
    siaddr: bytesToIp(frame, 20),
    giaddr: bytesToIp(frame, 24),
    chaddr: store.subarray(0, hlen),
    sname: overload & SNAME.overload ? '' : readText(frame, SNAME.offset, SNAME.len),
    file: overload & FILE.overload ? '' : readText(frame, FILE.offset, FILE.len),
    options,
  };
  return { ok: true, value, bytes: frame.length };
}
