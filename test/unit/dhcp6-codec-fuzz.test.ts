// Property-based tests of the DHCPv6 codec and its option views (fast-check): round trip, and no input — random or
// a mutated capture from a real server — makes decode or any view throw.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { decode, encode } from '../../daemon/dhcp6/codec';
import * as o from '../../daemon/dhcp6/options';
import { decodeRa } from '../../daemon/dhcp6/ra';
import { Dhcp6Message } from '../../daemon/dhcp6/types';

const BIN = resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'dhcp6');
const fixtures = readdirSync(BIN).map((f) => readFileSync(join(BIN, f)));

const message: fc.Arbitrary<Dhcp6Message> = fc.record({
  type: fc.integer({ min: 1, max: 255 }).filter((t) => t !== 12 && t !== 13),
  xid: fc.integer({ min: 0, max: 0xffffff }),
  options: fc.array(
    fc.record({ code: fc.nat(0xffff), data: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) }),
    { maxLength: 10 },
  ),
});

/** Every view a caller may apply to a decoded message. */
function readAll(m: Dhcp6Message): void {
  o.clientId(m);
  o.serverId(m);
  o.status(m);
  o.preference(m);
  o.unicastAddress(m);
  o.rapidCommit(m);
  o.dnsServers(m);
  o.domainList(m);
  for (const opt of m.options) if (opt.data.length >= 4) o.iaNa(m, opt.data.readUInt32BE(0));
}

test('decode(encode(m)) is m for any encodable message', () => {
  fc.assert(
    fc.property(message, (m) => {
      const d = decode(encode(m));
      assert.ok(d.ok, d.ok ? '' : d.reason);
      // fast-check's records have no prototype; the decoder's are plain objects
      assert.deepEqual(d.value, {
        type: m.type,
        xid: m.xid,
        options: m.options.map(({ code, data }) => ({ code, data })),
      });
    }),
    { numRuns: 500 },
  );
});

test('decode and every view never throw on arbitrary bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      const d = decode(Buffer.from(bytes));
      if (d.ok) readAll(d.value);
      decodeRa(Buffer.from(bytes));
    }),
    { numRuns: 3000 },
  );
});

test('mutated real messages: decode and every view never throw, decoded values never exceed the input', () => {
  let decoded = 0;
  let rejected = 0;
  fc.assert(
    fc.property(
      fc.nat(fixtures.length - 1),
      fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 6 }),
      fc.nat(),
      (which, flips, cut) => {
        const b = Buffer.from(fixtures[which] as Buffer);
        for (const [at, value] of flips) b[at % b.length] = value;
        const input = b.subarray(0, b.length - (cut % 8));
        const d = decode(input);
        decodeRa(input);
        if (!d.ok) {
          rejected++;
          return;
        }
        decoded++;
        const total = d.value.options.reduce((n, opt) => n + opt.data.length, 0);
        assert.ok(total <= input.length, 'no amplification');
        readAll(d.value);
      },
    ),
    { numRuns: 5000 },
  );
  assert.ok(decoded > 0 && rejected > 0, `both outcomes reached: ${decoded} decoded, ${rejected} rejected`);
});
