// Property-based round trip of the codec (fast-check) and a short run of the mutation fuzzer (scripts/fuzz-codec.ts
// runs a million).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decode, encode } from '../../daemon/dhcp/codec';
import { DhcpMessage } from '../../daemon/dhcp/types';
import { fuzzDecode } from '../../scripts/fuzz-codec';

const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
/** Fixed text fields: latin1 without NUL (a NUL ends the field). */
const text = (max: number) =>
  fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a.map((c) => c || 1)).toString('latin1'));
/** Any option but pad (0), overload (52, consumed by decode) and end (255); values up to 300 bytes exercise RFC 3396.
 */
const optionCode = fc.integer({ min: 1, max: 254 }).filter((c) => c !== 52);
const options = fc
  .uniqueArray(fc.tuple(optionCode, fc.uint8Array({ minLength: 1, maxLength: 300 })), {
    maxLength: 8,
    selector: ([c]) => c,
  })
  .map((list) => new Map(list.map(([c, v]) => [c, Buffer.from(v)])));

const message: fc.Arbitrary<DhcpMessage> = fc
  .record({
    op: fc.constantFrom(1, 2),
    htype: fc.nat(255),
    hlen: fc.integer({ min: 0, max: 16 }),
    hops: fc.nat(255),
    xid: fc.nat(0xffffffff),
    secs: fc.nat(0xffff),
    flags: fc.nat(0xffff),
    ciaddr: ip,
    yiaddr: ip,
    siaddr: ip,
    giaddr: ip,
    chaddr: fc.constant(Buffer.alloc(0)),
    sname: text(63),
    file: text(127),
    options,
  })
  .chain((m) => fc.uint8Array({ minLength: m.hlen, maxLength: m.hlen }).map((c) => ({ ...m, chaddr: Buffer.from(c) })));

test('decode(encode(m)) is m for any encodable message', () => {
  fc.assert(
    fc.property(message, (m) => {
      const d = decode(encode(m));
      assert.ok(d.ok, d.ok ? '' : d.reason);
      assert.deepEqual(d.value, m);
    }),
    { numRuns: 500 },
  );
});

test('decode never throws on arbitrary bytes, with or without a valid header', () => {
  const cookie = Buffer.from([99, 130, 83, 99]);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 700 }), fc.boolean(), (bytes, withHeader) => {
      const b = Buffer.from(bytes);
      if (withHeader && b.length >= 240) cookie.copy(b, 236);
      const d = decode(b);
      if (d.ok) assert.equal(d.bytes, b.length);
    }),
    { numRuns: 2000 },
  );
});

test('20,000 mutated real packets: decode never throws, stays fast, never amplifies', () => {
  const r = fuzzDecode(20_000, 7);
  assert.equal(r.inputs, 20_000);
  assert.ok(r.decoded > 0 && r.rejected > 0, `both outcomes reached: ${JSON.stringify(r)}`);
});
