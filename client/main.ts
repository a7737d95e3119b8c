// Entry point of bin/ts-dhcp. Each mode is required lazily: the CLI commands load only what they use.
export function main(): void {
  if (process.env.CNI_COMMAND !== undefined) {
    process.exitCode = runNativePlugin();
    return;
  }
  const [cmd, ...rest] = process.argv.slice(2);
  void runCli(cmd, rest).then((code) => process.exit(code));
}

/**
 * As a CNI plugin (development use: runtimes exec the native plugin that `ts-dhcp install` puts in the CNI bin dir),
 * this entry runs that same native plugin with its stdin, stdout, stderr and environment: one implementation of the
 * client side, whichever file the runtime execs.
 */
function runNativePlugin(): number {
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const { nativePluginPath } = require('./install') as typeof import('./install');
  const r = spawnSync(nativePluginPath(), [], { stdio: 'inherit' });
  if (r.error) {
    const msg = `ts-dhcp: cannot run the native plugin ${nativePluginPath()}: ${r.error.message} (build it with "npm run build")`;
    process.stdout.write(`${JSON.stringify({ cniVersion: '1.1.0', code: 5, msg })}\n`);
    return 1;
  }
  return r.status ?? 1;
}

const USAGE = `Usage: ts-dhcp <command> [flags]

Commands:
  daemon     run the DHCP IPAM daemon (see "ts-dhcp daemon --help")
  leases     list the leases the daemon holds ([--json | --watch [--interval 2s]] [--socket-path P])
  leases show ID
             one lease in full with its recent transitions (ID: pod NAMESPACE/NAME or NAME, container id
             or a prefix of it, or CONTAINERID/NETWORK/IFNAME) ([--json] [--socket-path P])
  status     show the daemon's status ([--json] [--socket-path P])
  install    put the native CNI plugin into the CNI bin dir ([--cni-bin-dir /opt/cni/bin]
             [--systemd [--unit-dir D]] [--root DIR])
  uninstall  remove what install put there (same flags; --force removes files install did not write)
  version    print the version

With CNI_COMMAND set in the environment, ts-dhcp runs the native CNI IPAM plugin (what "install" installs).
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
