// What the benchmark reads about a daemon, by PID, from /proc: resident memory, threads, open descriptors and CPU
// time (utime + stime).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

export interface ProcSample {
  rssMiB: number;
  /** The private part of RSS (RssAnon): RSS also counts the executable's pages, which every process running the
   *  same binary shares (for node, ~30-38 MiB of its 99 MB binary). */
  rssAnonMiB: number;
  threads: number;
  fds: number;
}

export function sampleProc(pid: number): ProcSample {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return {
    rssMiB: round(field('VmRSS') / 1024, 1),
    rssAnonMiB: round(field('RssAnon') / 1024, 1),
    threads: field('Threads'),
    fds: fs.readdirSync(`/proc/${pid}/fd`).length,
  };
}

let clockTicks: number | undefined;

/** CPU time the process has used so far, in ms. */
export function cpuTimeMs(pid: number): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm (field 2) may hold spaces and parentheses: count fields from the last ')'. utime and stime are fields
  // 14 and 15, i.e. 11 and 12 after the state field.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(rest[11]) + Number(rest[12])) * 1000) / clockTicks;
}

export function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
