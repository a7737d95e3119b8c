// The daemon's randomness (issue 13): xids must not be predictable from earlier ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cryptoRng } from '../../daemon/dhcp/rng';

test('the daemon draws xids from the kernel CSPRNG: two generators never repeat each other, values cover 32 bits', () => {
  const a = cryptoRng();
  const b = cryptoRng();
  const xa = Array.from({ length: 1000 }, () => a.u32());
  const xb = Array.from({ length: 1000 }, () => b.u32());
  assert.notDeepEqual(xa, xb);
  assert.ok(new Set([...xa, ...xb]).size > 1990, 'no run of repeats');
  assert.ok(xa.some((x) => x > 0x80000000) && xa.some((x) => x < 0x80000000));
  for (let i = 0; i < 1000; i++) {
    const r = a.next();
    assert.ok(r >= 0 && r < 1);
  }
});
