// Real container runtimes from Debian 12 (podman 4.3 with its CNI backend and runc; containerd 1.6 with ctr) on a
// test network, configured entirely from a temp dir of the test: storage, run state, CNI config and plugin dirs,
// containers.conf. Nothing of the host's configuration is read for these or changed. No registry: images are made
// here from busybox-static.
//
// The runtimes run the CNI plugins in their own netns, and macvlan looks its master up there, so each runtime
// command runs in the topology's node netns (nsenter --net, which keeps the host's mount namespace: podman's netns
// bind mounts under /run/netns must be visible to the daemon).
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { run, signalPid, waitFor } from './proc';
import { TS_DHCP_BIN } from './tsdhcp';
import type { Topology } from './topology';

const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'sleep', 'ping', 'ip', 'cat', 'ls', 'true'];
/** Below any host's hard limits (podman's defaults are above this host's, which runc cannot set without
 *  CAP_SYS_RESOURCE). */
const RLIMITS = ['nofile=1024:1024', 'nproc=1024:1024'];

/** A container's PID 1 that ends on SIGTERM (a shell ignores it as PID 1 otherwise), so that `podman rm -f` and
 *  ctr's forwarded signal stop it at once instead of after a stop timeout. */
export const SLEEPER = ['/bin/sh', '-c', 'trap "exit 0" TERM; sleep 600 & wait'];

/** A minimal root filesystem: static busybox and the applets the tests use. */
export function busyboxRootfs(dir: string): string {
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'run'])
    fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.copyFileSync(BUSYBOX, path.join(dir, 'bin/busybox'));
  fs.chmodSync(path.join(dir, 'bin/busybox'), 0o755);
  for (const a of APPLETS) fs.symlinkSync('busybox', path.join(dir, 'bin', a));
  return dir;
}

/** The CNI bin dir a runtime is given: ts-dhcp as `ts-dhcp install` puts it there, macvlan from Debian. */
export async function cniBinDir(dir: string): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  await run(process.execPath, [TS_DHCP_BIN, 'install', '--cni-bin-dir', dir]);
  fs.symlinkSync('/usr/lib/cni/macvlan', path.join(dir, 'macvlan'));
  return dir;
}

export interface Conflist {
  name: string;
  [key: string]: unknown;
}

/** The network config list a runtime reads: macvlan on the node's NIC, addressed by ts-dhcp. */
export function macvlanConflist(topo: Topology, name: string, ipam: Record<string, unknown>): Conflist {
  return {
    cniVersion: '1.0.0',
    name,
    plugins: [{ type: 'macvlan', master: topo.nodeNic, mode: 'bridge', ipam: { type: 'ts-dhcp', ...ipam } }],
  };
}

/** Unmounts everything mounted below `dir` (deepest first): overlay layers, shm, netns files left by a runtime. */
export async function unmountUnder(dir: string): Promise<void> {
  const prefix = `${path.resolve(dir)}/`;
  const points = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined && p.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
  for (const p of points) await run('umount', ['-l', p]).catch(() => undefined);
}

/** Runs `cmd` in the topology's node netns, in this process's mount namespace. */
export function nsExec(topo: Topology, cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return run('nsenter', [`--net=/run/netns/${topo.nodeNs}`, cmd, ...args], undefined, env);
}

export interface Podman {
  readonly dir: string;
  /** The CNI bin dir podman searches first. */
  readonly cniBin: string;
  /** Where podman reads network config lists. */
  readonly netDir: string;
  /** podman ARGS in the node netns, with this instance's configuration; resolves with stdout. */
  run(args: string[]): Promise<string>;
  /** The netns path of a running container (/run/netns/netns-<uuid>). */
  sandbox(name: string): Promise<string>;
  /** Writes a network config list podman can use by its name. */
  addNetwork(conflist: Conflist): void;
  /** podman rm -af, then unmounts what is left. */
  destroy(): Promise<void>;
}

export interface PodmanOptions {
  /** Read-only image stores (e.g. the one scripts/build-image.sh fills). */
  additionalImageStores?: string[];
  /** The CNI bin dir podman searches first, macvlan's dir after it. Default: a fresh one holding what
   *  `ts-dhcp install` puts there. */
  cniBin?: string;
}

/**
 * A podman of its own: private --root/--runroot (c/storage overlay), its own containers.conf (CNI backend with this
 * test's config and plugin dirs, runc, cgroupfs, file events, rlimits no higher than the host's) and storage.conf.
 */
export async function startPodman(topo: Topology, opts: PodmanOptions = {}): Promise<Podman> {
  const dir = topo.tempDir('podman');
  const netDir = path.join(dir, 'net.d');
  const cniBin = opts.cniBin ?? (await cniBinDir(path.join(dir, 'cni-bin')));
  fs.mkdirSync(netDir);
  fs.mkdirSync(path.join(dir, 'tmp'));
  const q = (s: string) => JSON.stringify(s);
  fs.writeFileSync(
    path.join(dir, 'containers.conf'),
    `[containers]
default_ulimits = [${RLIMITS.map(q).join(', ')}]
[network]
network_backend = "cni"
cni_plugin_dirs = [${q(cniBin)}, "/usr/lib/cni"]
network_config_dir = ${q(netDir)}
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = ${q(path.join(dir, 'events.log'))}
tmp_dir = ${q(path.join(dir, 'tmp'))}
`,
  );
  fs.writeFileSync(
    path.join(dir, 'storage.conf'),
    `[storage]
driver = "overlay"
graphroot = ${q(path.join(dir, 'root'))}
runroot = ${q(path.join(dir, 'runroot'))}
[storage.options]
additionalimagestores = [${(opts.additionalImageStores ?? []).map(q).join(', ')}]
`,
  );
  const env = {
    ...process.env,
    CONTAINERS_CONF: path.join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf'),
  };
  const podman: Podman = {
    dir,
    cniBin,
    netDir,
    run: (args) => nsExec(topo, 'podman', args, env),
    sandbox: async (name) =>
      (await podman.run(['inspect', '--format', '{{.NetworkSettings.SandboxKey}}', name])).trim(),
    addNetwork: (conflist) =>
      fs.writeFileSync(path.join(netDir, `${conflist.name}.conflist`), JSON.stringify(conflist)),
    destroy: async () => {
      await podman.run(['rm', '--all', '--force', '--time', '0']).catch(() => undefined);
      // conmon runs `podman container cleanup` when a container exits, which opens the store again (and mounts it):
      // wait for every process of this instance to be gone before unmounting.
      const mine = () => pidsWhoseArgv((argv) => argv.some((a) => a.includes(dir)));
      await waitFor(`podman processes of ${dir} to exit`, () => mine().length === 0, 15_000, 100).catch(() => {
        for (const pid of mine()) signalPid(pid, 'SIGKILL');
      });
      await unmountUnder(dir);
    },
  };
  return podman;
}

/** The busybox rootfs as a podman image named `ref`. */
export async function importBusybox(topo: Topology, podman: Podman, ref: string): Promise<void> {
  const rootfs = busyboxRootfs(topo.tempDir('busybox'));
  const tar = path.join(podman.dir, 'busybox.tar');
  await run('tar', ['-C', rootfs, '-cf', tar, '.']);
  await podman.run(['import', '--change', 'CMD ["/bin/sh"]', tar, ref]);
}

export interface Containerd {
  readonly dir: string;
  readonly socket: string;
  readonly child: ChildProcess;
  /** ctr ARGS against this containerd (in the host netns: ctr commands that do no CNI). */
  ctr(args: string[]): Promise<string>;
  /** Starts `ctr run --cni` in the node netns, in a private mount namespace where /etc/cni/net.d and /opt/cni/bin
   *  (ctr reads only these) are this test's dirs. The ctr process stays in the foreground until the task ends. */
  runCni(id: string, rootfs: string, cmd: string[], logFile: string): ChildProcess;
  /** Kills what is left (tasks, shims by PID), stops containerd, unmounts. */
  destroy(): Promise<void>;
}

/** containerd with its own config, root, state and socket in a temp dir; the CRI plugin off. */
export async function startContainerd(topo: Topology, conflist: Conflist): Promise<Containerd> {
  const dir = topo.tempDir('containerd');
  const socket = path.join(dir, 'containerd.sock');
  const netDir = path.join(dir, 'net.d');
  fs.mkdirSync(netDir);
  fs.writeFileSync(path.join(netDir, `10-${conflist.name}.conflist`), JSON.stringify(conflist));
  const cniBin = await cniBinDir(path.join(dir, 'cni-bin'));
  const q = (s: string) => JSON.stringify(s);
  fs.writeFileSync(
    path.join(dir, 'config.toml'),
    `version = 2
root = ${q(path.join(dir, 'root'))}
state = ${q(path.join(dir, 'state'))}
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = ${q(socket)}
[ttrpc]
  address = ${q(`${socket}.ttrpc`)}
[debug]
  address = ${q(`${socket}.debug`)}
`,
  );
  const logFile = path.join(dir, 'containerd.log');
  const out = fs.openSync(logFile, 'a');
  const child = spawn('containerd', ['--config', path.join(dir, 'config.toml')], { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  // Runs in the host netns, outside the topology's bookkeeping: killed by PID if the test process ends early.
  const killOnExit = () => child.pid !== undefined && child.exitCode === null && signalPid(child.pid, 'SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  await waitFor(
    'containerd socket',
    () => {
      if (child.exitCode !== null) throw new Error(`containerd exited: ${fs.readFileSync(logFile, 'utf8')}`);
      return fs.existsSync(socket);
    },
    15_000,
  );
  const ctrArgs = ['--address', socket, '--namespace', 'ts-dhcp-test'];
  const spawned = new Set<ChildProcess>();
  // A shell in a new mount namespace (propagation from the host still flows in) binds this test's CNI dirs over the
  // two fixed paths go-cni reads, keeps libcni's result cache off the host's /var/lib, and execs ctr in the node
  // netns.
  const mountScript = `set -e
mount --bind "$NET_DIR" /etc/cni/net.d
mount -t tmpfs tmpfs /opt
mkdir -p /opt/cni/bin
mount --bind "$CNI_BIN" /opt/cni/bin
mount -t tmpfs tmpfs /var/lib
exec nsenter --net="/run/netns/$NODE_NS" "$@"`;
  const c: Containerd = {
    dir,
    socket,
    child,
    ctr: (args) => run('ctr', [...ctrArgs, ...args]),
    runCni: (id, rootfs, cmd, ctrLog) => {
      const fd = fs.openSync(ctrLog, 'a');
      const p = spawn(
        'unshare',
        [
          '--mount',
          '--propagation',
          'slave',
          'sh',
          '-c',
          mountScript,
          'sh',
          'ctr',
          ...ctrArgs,
          'run',
          '--cni',
          '--fifo-dir',
          path.join(dir, 'fifo'),
          '--runc-root',
          path.join(dir, 'runc'),
          '--rootfs',
          rootfs,
          id,
          ...cmd,
        ],
        {
          stdio: ['ignore', fd, fd],
          env: { ...process.env, NET_DIR: netDir, CNI_BIN: cniBin, NODE_NS: topo.nodeNs },
        },
      );
      fs.closeSync(fd);
      spawned.add(p);
      p.once('exit', () => spawned.delete(p));
      return p;
    },
    destroy: async () => {
      for (const p of spawned) if (p.pid !== undefined) signalPid(p.pid, 'SIGKILL');
      const tasks = await c.ctr(['task', 'ls', '-q']).catch(() => '');
      for (const id of tasks.split('\n').filter(Boolean)) {
        await c.ctr(['task', 'kill', '-s', 'SIGKILL', id]).catch(() => undefined);
        await c.ctr(['task', 'delete', '-f', id]).catch(() => undefined);
      }
      const containers = await c.ctr(['container', 'ls', '-q']).catch(() => '');
      for (const id of containers.split('\n').filter(Boolean))
        await c.ctr(['container', 'rm', id]).catch(() => undefined);
      // A shim whose task could not be deleted outlives containerd: find it by its -address, kill it by PID.
      const shims = pidsWhoseArgv(
        (argv) => argv[0]?.endsWith('containerd-shim-runc-v2') === true && argv.includes(socket),
      );
      for (const pid of shims) signalPid(pid, 'SIGKILL');
      if (child.exitCode === null && child.pid !== undefined) {
        signalPid(child.pid, 'SIGTERM');
        await waitFor('containerd to exit', () => child.exitCode !== null || child.signalCode !== null, 10_000).catch(
          () => {
            if (child.pid !== undefined) signalPid(child.pid, 'SIGKILL');
          },
        );
      }
      await unmountUnder(dir);
    },
  };
  return c;
}

/** PIDs of the processes whose argv satisfies `match`. */
function pidsWhoseArgv(match: (argv: string[]) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (match(fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0'))) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
