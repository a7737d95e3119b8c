// Go's time.ParseDuration syntax ("10s", "1m30s", "250ms", "1.5h", "500µs"): the reference daemon's flags and the
// IPAM `timeout` take it, and existing units and configs pass such values verbatim. Go's unit table, both micro
// signs included; Go's leading "+" is accepted, its "-" is not (no duration here may be negative).
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5 MICRO SIGN
  μs: 1e-3, // U+03BC GREEK SMALL LETTER MU
  ms: 1,
  s: 1e3,
  m: 6e4,
  h: 3.6e6,
};

/** Go's longest duration, 2^63 - 1 ns (about 292 years), in milliseconds. */
const MAX_MS = 9_223_372_036_854.775;

/** Milliseconds, or an Error naming the bad value. "0" is allowed without a unit, as in Go. */
export function parseDuration(text: string): number | Error {
  const invalid = (why: string): Error => new Error(`invalid duration ${JSON.stringify(text)} (${why})`);
  const syntax = 'expected Go syntax such as "10s", "1m30s", "250ms"';
  if (text.startsWith('-')) return invalid('must not be negative');
  const body = text.startsWith('+') ? text.slice(1) : text;
  if (body === '0') return 0;
  const part = /([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < body.length) {
    part.lastIndex = at;
    const m = part.exec(body);
    if (!m) return invalid(syntax);
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    at = part.lastIndex;
  }
  if (at === 0) return invalid(syntax);
  if (total > MAX_MS) return invalid('longer than Go allows, about 292 years');
  return total;
}
