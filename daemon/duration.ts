// Go time.ParseDuration syntax ("10s", "1m30s", "250ms", "1.5h"), because the reference daemon's flags use it
// and existing units pass such values verbatim.
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Milliseconds, or an Error naming the bad value. "0" is allowed bare, as in Go. */
export function parseDuration(text: string): number | Error {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    consumed = re.lastIndex;
  }
  if (consumed === 0 || consumed !== text.length) {
    return new Error(`invalid duration ${JSON.stringify(text)} (expected Go syntax such as "10s", "1m30s", "250ms")`);
  }
  return total;
}
