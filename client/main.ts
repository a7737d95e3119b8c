// Entry point of bin/ts-dhcp. Each mode is required lazily: the plugin path must not pay for the daemon's modules
// (its start-up time is added to every ADD the runtime makes).
export function main(): void {
  if (process.env.CNI_COMMAND !== undefined) {
    const { runPlugin } = require('./plugin') as typeof import('./plugin');
    void runPluginProcess(runPlugin);
    return;
  }
  const [cmd, ...rest] = process.argv.slice(2);
  void runCli(cmd, rest).then((code) => process.exit(code));
}

// process.stdin/stdout/stderr build stream objects (net.Socket for a pipe): ~10 ms of the plugin's start-up. The
// runtime hands the plugin a small config and takes a small result, so plain synchronous reads and writes on the
// descriptors do.
async function runPluginProcess(runPlugin: typeof import('./plugin').runPlugin): Promise<void> {
  const stdin = readStdinSync() ?? (await readStdinStream());
  const code = await runPlugin({ env: process.env, stdin, stdout: fdWriter(1), stderr: fdWriter(2) });
  process.exitCode = code;
}

/** All of stdin, or undefined when it cannot be read synchronously (a non-blocking descriptor with nothing yet). */
function readStdinSync(): Buffer | undefined {
  const { readFileSync } = require('node:fs') as typeof import('node:fs');
  try {
    return readFileSync(0);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EBADF') return Buffer.alloc(0); // no stdin at all: the plugin reports the missing config
    if (code === 'EAGAIN') return undefined;
    throw err;
  }
}

async function readStdinStream(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The one method runPlugin uses of a Writable. */
function fdWriter(fd: number): import('node:stream').Writable {
  const { writeSync } = require('node:fs') as typeof import('node:fs');
  const writer = {
    write(chunk: string | Uint8Array): boolean {
      if (typeof chunk === 'string') writeSync(fd, chunk);
      else writeSync(fd, chunk);
      return true;
    },
  };
  return writer as unknown as import('node:stream').Writable;
}

const USAGE = `Usage: ts-dhcp <command> [flags]

Commands:
  daemon     run the DHCP IPAM daemon (see "ts-dhcp daemon --help")
  leases     list the leases the daemon holds ([--json | --watch [--interval 2s]] [--socket-path P])
  leases show ID
             one lease in full with its recent transitions (ID: pod NAMESPACE/NAME or NAME, container id
             or a prefix of it, or CONTAINERID/NETWORK/IFNAME) ([--json] [--socket-path P])
  status     show the daemon's status ([--json] [--socket-path P])
  install    put ts-dhcp into the CNI bin dir ([--cni-bin-dir /opt/cni/bin] [--systemd [--unit-dir D]]
             [--self-contained] [--root DIR])
  uninstall  remove what install put there (same flags; --force removes files install did not write)
  version    print the version

With CNI_COMMAND set in the environment, ts-dhcp is the CNI IPAM plugin.
`;

async function runCli(cmd: string | undefined, args: string[]): Promise<number> {
  switch (cmd) {
    case 'daemon':
      return (require('../daemon/main') as typeof import('../daemon/main')).runDaemon(args);
    case 'leases':
    case 'status':
      return (require('./inspect') as typeof import('./inspect')).runInspect(cmd, args);
    case 'install':
    case 'uninstall':
      return (require('./install') as typeof import('./install')).runInstall(cmd, args);
    case 'version':
    case '--version':
      process.stdout.write(`${(require('../common/version') as typeof import('../common/version')).VERSION}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`ts-dhcp: unknown command ${JSON.stringify(cmd)}\n\n${USAGE}`);
      return 2;
  }
}
