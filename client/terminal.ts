// Text for an operator's terminal: untrusted strings escaped, durations as people read them, colour only where it
// is wanted, and rows laid out in columns. Pure: time and colour are parameters.

/** Control characters (C0, DEL, C1) and bidirectional overrides written as escapes: every string the daemon
 *  reports may come from a DHCP server, CNI_ARGS or a container id, and must not drive the operator's terminal. */
export function escapeText(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const n = c.charCodeAt(0);
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

/** A copy of a daemon answer with every string in it (keys too) escaped. */
export function escapeAll<T>(v: T): T {
  if (typeof v === 'string') return escapeText(v) as T;
  if (Array.isArray(v)) return v.map(escapeAll) as T;
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [escapeText(k), escapeAll(x)])) as T;
  }
  return v;
}

/** "3m12s", "2h05m", "1d04h": a duration at the precision an operator reads. */
export function humanDuration(ms: number): string {
  let s = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const two = (n: number) => String(n).padStart(2, '0');
  if (d > 0) return `${d}d${two(h)}h`;
  if (h > 0) return `${h}h${two(m)}m`;
  if (m > 0) return `${m}m${two(s)}s`;
  return `${s}s`;
}

/** "in 3m12s" for the future, "5s ago" for the past. */
export function humanDelta(ms: number): string {
  return ms < 0 && Math.round(-ms / 1000) > 0 ? `${humanDuration(ms)} ago` : `in ${humanDuration(ms)}`;
}

/** ANSI colours, or none (not a terminal, NO_COLOR set, --json). */
export interface Style {
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const sgr = (code: number) => (s: string) => (s === '' ? s : `\x1b[${code}m${s}\x1b[0m`);
export const COLOUR: Style = { green: sgr(32), yellow: sgr(33), red: sgr(31), dim: sgr(2), bold: sgr(1) };
export const PLAIN: Style = { green: (s) => s, yellow: (s) => s, red: (s) => s, dim: (s) => s, bold: (s) => s };

export function styleFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): Style {
  return stream.isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb' ? COLOUR : PLAIN;
}

/** Lays out rows in columns; colour is applied after padding so escape codes do not skew the widths. */
export function columns(
  head: string[],
  rows: string[][],
  colour: (row: number, col: number, text: string) => string,
  st: Style,
): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const pad = (cells: string[], paint: (col: number, text: string) => string) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? paint(i, c) : paint(i, c.padEnd(widths[i] as number))))
      .join('  ')
      .trimEnd();
  return (
    [pad(head, (_, t) => st.bold(t)), ...rows.map((r, ri) => pad(r, (ci, t) => colour(ri, ci, t)))].join('\n') + '\n'
  );
}
