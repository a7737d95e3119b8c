// Mutation fuzzer for the DHCP decoder: real server packets (test/fixtures/dhcp/*.bin) with bytes flipped,
// overwritten, inserted, deleted, truncated and option lengths forged, fed to decode(). decode() must never throw,
// must answer each input within a time bound, and must not return more option bytes than the input holds.
// Usage: node dist/scripts/fuzz-codec.js [count=1000000] [seed=1]
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from '../daemon/dhcp/codec';
import { seededRng } from '../daemon/dhcp/rng';

export interface FuzzReport {
  inputs: number;
  decoded: number;
  rejected: number;
  slowestMs: number;
}

/** Longest single decode tolerated: far above the µs a packet takes (GC pauses included), far below a hang. */
const SLOW_DECODE_MS = 250;

export function loadFixtures(dir = join(__dirname, '../../test/fixtures/dhcp')): Buffer[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .sort()
    .map((f) => readFileSync(join(dir, f)));
}

function mutate(seed: Buffer, rng: ReturnType<typeof seededRng>): Buffer {
  let b = Buffer.from(seed);
  const rounds = 1 + Math.floor(rng.next() * 8);
  const at = (len: number) => Math.floor(rng.next() * Math.max(1, len));
  for (let i = 0; i < rounds; i++) {
    switch (Math.floor(rng.next() * 7)) {
      case 0: // flip a bit
        if (b.length) b[at(b.length)] ^= 1 << Math.floor(rng.next() * 8);
        break;
      case 1: // random byte
        if (b.length) b[at(b.length)] = Math.floor(rng.next() * 256);
        break;
      case 2: // interesting byte in the option area (lengths, 52, 255, 0)
        if (b.length > 240)
          b[240 + at(b.length - 240)] = [0, 1, 52, 255, 254, 3, 0x80][Math.floor(rng.next() * 7)] as number;
        break;
      case 3: // truncate
        b = b.subarray(0, at(b.length + 1));
        break;
      case 4: // insert random bytes
        {
          const p = at(b.length + 1);
          const ins = Buffer.from(Array.from({ length: 1 + at(16) }, () => Math.floor(rng.next() * 256)));
          b = Buffer.concat([b.subarray(0, p), ins, b.subarray(p)]);
        }
        break;
      case 5: // delete a run
        {
          const p = at(b.length);
          b = Buffer.concat([b.subarray(0, p), b.subarray(p + 1 + at(16))]);
        }
        break;
      default: // overload (52) forced into the option area, with file/sname filled with garbage
        if (b.length > 243) {
          b[240] = 52;
          b[241] = 1;
          b[242] = 1 + at(3);
          for (let j = 44; j < 236; j++) if (rng.next() < 0.1) b[j] = Math.floor(rng.next() * 256);
        }
    }
  }
  return b;
}

export function fuzzDecode(count: number, seed = 1, fixtures = loadFixtures()): FuzzReport {
  if (fixtures.length === 0) throw new Error('no fixtures');
  const rng = seededRng(seed);
  const report: FuzzReport = { inputs: 0, decoded: 0, rejected: 0, slowestMs: 0 };
  for (let i = 0; i < count; i++) {
    const input = mutate(fixtures[i % fixtures.length] as Buffer, rng);
    const started = performance.now();
    let result: ReturnType<typeof decode>;
    try {
      result = decode(input);
    } catch (err) {
      throw new Error(`decode threw on input ${i} (${input.toString('hex')}): ${(err as Error).message}`);
    }
    const ms = performance.now() - started;
    report.slowestMs = Math.max(report.slowestMs, ms);
    if (ms > SLOW_DECODE_MS)
      throw new Error(`decode took ${ms.toFixed(1)} ms on input ${i} (${input.toString('hex')})`);
    report.inputs++;
    if (!result.ok) {
      report.rejected++;
      continue;
    }
    report.decoded++;
    // Bounded output: option bytes never exceed the input (no amplification from overload or RFC 3396 joins).
    let optionBytes = 0;
    for (const v of result.value.options.values()) optionBytes += v.length;
    if (optionBytes > input.length)
      throw new Error(`decode returned ${optionBytes} option bytes from ${input.length} bytes (input ${i})`);
  }
  return report;
}

if (require.main === module) {
  const count = Number(process.argv[2] ?? 1_000_000);
  const seed = Number(process.argv[3] ?? 1);
  const started = Date.now();
  const r = fuzzDecode(count, seed);
  console.log(
    `${r.inputs} mutated packets in ${((Date.now() - started) / 1000).toFixed(1)} s: ${r.decoded} decoded, ${r.rejected} rejected, slowest ${r.slowestMs.toFixed(2)} ms, no throw`,
  );
}
