// Plugin start-up measured by a small C program (scripts/bench/exectime.c, built here with the project's C
// toolchain): it posix_spawns the plugin N times, one after the other, and times each run from spawn to exit.
// Spawning from Node costs a few milliseconds of its own — more than a static C plugin takes to answer VERSION.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../../test/netns/lib/proc';
import { REPO } from '../../test/netns/lib';

let built: string | undefined;
let inputs = 0;

/** Compiles the timer once per benchmark run into a temporary directory (removed at exit); its path. */
async function timer(): Promise<string> {
  if (built) return built;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-dhcp-bench-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'exectime');
  const src = path.join(REPO, 'scripts/bench/exectime.c');
  await run('cc', ['-std=gnu11', '-D_GNU_SOURCE', '-O2', '-Wall', '-Wextra', '-Werror', '-o', out, src]);
  built = out;
  return out;
}

/** Runs `binary` `runs` times with exactly `env` and `stdin`, each run's stdout read to its end; the times in ms.
 *  Rejects when a run fails or exits non-zero. */
export async function execTimes(
  binary: string,
  runs: number,
  env: Record<string, string>,
  stdin: string,
): Promise<number[]> {
  const exe = await timer();
  const input = path.join(path.dirname(exe), `stdin-${inputs++}`);
  fs.writeFileSync(input, stdin);
  const out = await run(exe, [String(runs), input, binary], undefined, env);
  return out
    .trim()
    .split('\n')
    .map((us) => Math.round(Number(us) / 10) / 100);
}
