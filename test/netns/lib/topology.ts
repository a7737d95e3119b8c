// A node on a LAN, built from real network namespaces:
//
//   <prefix>lan    br0 (the DHCP server's address) ── node0 ─┐ veth
//   <prefix>node   eno1 (macvlan master) ────────────────────┘
//                  podbr (pod-network stand-in) ── p<N> ─┐ veth per pod
//   <prefix>pod<N> eth0 on the pod network, default route via podbr
//   <prefix>host<N> eth0 on br0: another host on the LAN (addLanHost), e.g. a printer with a static address
//
// Interface names are fixed: each lives in a namespace of its own topology, so only the namespace prefix has to be
// unique per test file. Everything a test starts goes through `spawn` and is killed by PID in `destroy`, which also
// sweeps any namespace carrying the prefix (including leftovers of a crashed earlier run, swept at creation too).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { intToIp, ipToInt, prefixToMaskInt } from '../../../daemon/dhcp/bytes';
import { run, signalPid, terminate } from './proc';

const NETNS_DIR = '/var/run/netns';
const TEST_NET = ipToInt('198.18.0.0'); // RFC 2544 benchmarking range 198.18.0.0/15
const TEST_NET_PREFIX = 15;

export interface TopologyOptions {
  /** Prefix of every namespace name, unique per test file, e.g. 'tsr-'. */
  prefix: string;
  /** The DHCP server's address on the LAN bridge with the LAN's prefix length, e.g. '198.19.0.1/22'. */
  lanCidr: string;
  /** Pods created up front (more with addPod/addPods). Default 0. */
  pods?: number;
  /**
   * Pod-network gateway address with prefix length, e.g. '198.18.0.1/22'. Default: the LAN's subnet with bit 16
   * flipped (198.19.x.y/L ↔ 198.18.x.y/L), which stays inside 198.18.0.0/15 and never overlaps the LAN.
   */
  podCidr?: string;
}

interface Cidr {
  address: string;
  prefixLength: number;
  network: number;
}

function parseCidr(cidr: string): Cidr {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr);
  const prefixLength = Number(m?.[2]);
  if (!m || prefixLength < 8 || prefixLength > 30) throw new TypeError(`not an address/prefix (8..30): ${cidr}`);
  const address = m[1] as string;
  return { address, prefixLength, network: (ipToInt(address) & prefixToMaskInt(prefixLength)) >>> 0 };
}

function defaultPodCidr(lan: Cidr): string {
  const inTestNet = (lan.network & prefixToMaskInt(TEST_NET_PREFIX)) >>> 0 === TEST_NET;
  if (!inTestNet || lan.prefixLength < 16) {
    throw new TypeError(`cannot derive a pod network from ${lan.address}/${lan.prefixLength}: pass podCidr`);
  }
  return `${intToIp((lan.network ^ 0x10000) + 1)}/${lan.prefixLength}`;
}

/** Processes (by PID) whose network namespace is one of `nsNames`. */
function pidsInNamespaces(nsNames: string[]): number[] {
  const inodes = new Set<string>();
  for (const name of nsNames) {
    try {
      inodes.add(`net:[${fs.statSync(path.join(NETNS_DIR, name)).ino}]`);
    } catch {
      // already gone
    }
  }
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (inodes.has(fs.readlinkSync(`/proc/${entry}/ns/net`))) pids.push(Number(entry));
    } catch {
      // exited meanwhile, or a kernel thread
    }
  }
  return pids;
}

/** TS_TEST_NS_TAG (a few [a-z0-9] chars) goes in front of every test namespace name, so that two checkouts can
 * run the same netns test at once without sweeping each other's namespaces. */
export function nsTag(): string {
  const tag = process.env.TS_TEST_NS_TAG ?? '';
  if (!/^[a-z0-9]{0,6}$/.test(tag)) throw new TypeError(`TS_TEST_NS_TAG must be 0-6 chars of [a-z0-9]: ${tag}`);
  return tag;
}

/** Names of existing namespaces that belong to a topology with this prefix. */
function namespacesWithPrefix(prefix: string): string[] {
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const mine = new RegExp(`^${escaped}(lan|node|pod\\d+|host\\d+)$`);
  let names: string[];
  try {
    names = fs.readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
  return names.filter((n) => mine.test(n));
}

/** Kills every process inside the prefix's namespaces (by PID) and deletes the namespaces. Synchronous so that it
 * can run from an exit handler too. */
function sweepSync(prefix: string): void {
  const names = namespacesWithPrefix(prefix);
  if (names.length === 0) return;
  for (const pid of pidsInNamespaces(names)) signalPid(pid, 'SIGKILL');
  const batch = names.map((n) => `netns del ${n}\n`).join('');
  // -force: keep going past a namespace that vanished meanwhile.
  execFileSync('ip', ['-force', '-batch', '-'], { input: batch, stdio: ['pipe', 'ignore', 'ignore'] });
}

const live = new Set<Topology>();
let exitHookInstalled = false;

/** Last-resort cleanup when the test process ends without running t.after (process.exit, SIGTERM, SIGINT). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const cleanup = (): void => {
    for (const topo of live) topo.destroySync();
  };
  process.on('exit', cleanup);
  // A persistent listener, not once(): a second signal (the test runner forwards its own) must not hit the default
  // action half-way through the cleanup.
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(sig, () => {
      cleanup();
      process.exit(code);
    });
  }
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** Append stdout and stderr to this file instead of piping them. */
  logFile?: string;
}

export class Topology {
  readonly prefix: string;
  readonly lanNs: string;
  readonly nodeNs: string;
  /** The LAN bridge in lanNs; DHCP servers listen on it. */
  readonly lanBridge = 'br0';
  /** The bridge port in lanNs facing the node: capture here, not on the bridge. */
  readonly lanPort = 'node0';
  /** The node's NIC in nodeNs, the macvlan master. */
  readonly nodeNic = 'eno1';
  /** The pod-network bridge in nodeNs. */
  readonly podBridge = 'podbr';
  readonly serverIp: string;
  readonly lanPrefixLength: number;
  readonly lanNetmask: string;
  readonly podGateway: string;
  readonly podPrefixLength: number;

  private readonly lanNetwork: number;
  private readonly podNetwork: number;
  private readonly livePods = new Set<number>();
  private nextPod = 1;
  private nextHost = 1;
  private readonly children = new Set<ChildProcess>();
  private readonly dirs: string[] = [];
  private destroying: Promise<void> | undefined;

  constructor(opts: TopologyOptions) {
    const prefix = nsTag() + opts.prefix;
    if (!/^[a-z0-9][a-z0-9-]{0,23}$/.test(prefix)) {
      throw new TypeError(`netns prefix must be 1-24 chars of [a-z0-9-]: ${JSON.stringify(prefix)}`);
    }
    const lan = parseCidr(opts.lanCidr);
    const pod = parseCidr(opts.podCidr ?? defaultPodCidr(lan));
    const shorter = Math.min(lan.prefixLength, pod.prefixLength);
    if ((lan.network & prefixToMaskInt(shorter)) >>> 0 === (pod.network & prefixToMaskInt(shorter)) >>> 0) {
      throw new TypeError(`pod network ${opts.podCidr} overlaps the LAN ${opts.lanCidr}`);
    }
    this.prefix = prefix;
    this.lanNs = `${prefix}lan`;
    this.nodeNs = `${prefix}node`;
    this.serverIp = lan.address;
    this.lanPrefixLength = lan.prefixLength;
    this.lanNetmask = intToIp(prefixToMaskInt(lan.prefixLength));
    this.lanNetwork = lan.network;
    this.podGateway = pod.address;
    this.podPrefixLength = pod.prefixLength;
    this.podNetwork = pod.network;
  }

  /** Indices of the pods that exist, ascending. Pod indices start at 1 and are never reused. */
  get pods(): number[] {
    return [...this.livePods].sort((a, b) => a - b);
  }

  podNs(n: number): string {
    return `${this.prefix}pod${n}`;
  }

  /** What a runtime passes as CNI_NETNS. */
  netnsPath(n: number): string {
    return path.join(NETNS_DIR, this.podNs(n));
  }

  /** The pod's eth0 address: the gateway's address plus n. */
  podAddress(n: number): string {
    const broadcast = this.podNetwork + 2 ** (32 - this.podPrefixLength) - 1;
    const ip = ipToInt(this.podGateway) + n;
    if (!Number.isInteger(n) || n < 1 || ip >= broadcast)
      throw new RangeError(`pod ${n} does not fit in the pod network`);
    return intToIp(ip);
  }

  /** The LAN network address plus `offset`, e.g. lanAddress(100) → 198.19.0.100 on 198.19.0.0/22. */
  lanAddress(offset: number): string {
    if (offset <= 0 || offset >= 2 ** (32 - this.lanPrefixLength) - 1) throw new RangeError(`offset ${offset}`);
    return intToIp(this.lanNetwork + offset);
  }

  /** Builds the lan and node namespaces (called by createTopology). */
  async build(): Promise<void> {
    live.add(this);
    installExitHook();
    sweepSync(this.prefix);
    const { lanNs: lan, nodeNs: node } = this;
    await this.script(`
ip -batch - <<'EOF'
netns add ${lan}
netns add ${node}
EOF
${inNs(lan, [
  'link set lo up',
  `link add ${this.lanBridge} type bridge`,
  `addr add ${this.serverIp}/${this.lanPrefixLength} dev ${this.lanBridge}`,
  `link set ${this.lanBridge} up`,
])}
${inNs(node, [
  'link set lo up',
  `link add ${this.nodeNic} type veth peer name ${this.lanPort} netns ${lan}`,
  `link set ${this.nodeNic} up`,
  `link add ${this.podBridge} type bridge`,
  `addr add ${this.podGateway}/${this.podPrefixLength} dev ${this.podBridge}`,
  `link set ${this.podBridge} up`,
])}
${inNs(lan, [`link set ${this.lanPort} master ${this.lanBridge} up`])}
`);
  }

  async addPod(): Promise<number> {
    return (await this.addPods(1))[0] as number;
  }

  /** Creates `count` pods with one shell script (~6 ms per pod): the fast path for benchmarks. A Linux bridge takes
   * at most 1024 ports, so one topology holds at most 1023 pods at a time. */
  async addPods(count: number): Promise<number[]> {
    const ids = Array.from({ length: count }, () => this.nextPod++);
    if (ids.length === 0) return [];
    this.podAddress(ids[ids.length - 1] as number); // range check before touching anything
    for (const n of ids) this.livePods.add(n);
    // eth0 arrives in the pod with IPv6 still on, but down: inNs turns IPv6 off before anything is set up.
    await this.script(`
ip -batch - <<'EOF'
${ids.map((n) => `netns add ${this.podNs(n)}`).join('\n')}
EOF
${inNs(
  this.nodeNs,
  ids.flatMap((n) => [
    `link add p${n} type veth peer name eth0 netns ${this.podNs(n)}`,
    `link set p${n} master ${this.podBridge} up`,
  ]),
)}
${ids
  .map((n) =>
    inNs(this.podNs(n), [
      'link set lo up',
      `addr add ${this.podAddress(n)}/${this.podPrefixLength} dev eth0`,
      'link set eth0 up',
      `route add default via ${this.podGateway}`,
    ]),
  )
  .join('\n')}
`);
    return ids;
  }

  /** A host on the LAN holding `address` (with the LAN's prefix length; none: eth0 without an address): its own
   * namespace with eth0 on a veth whose peer is a port of the LAN bridge. Returns the namespace name; removeLanHost
   * or destroy deletes it. */
  async addLanHost(address?: string): Promise<string> {
    const n = this.nextHost++;
    const ns = `${this.prefix}host${n}`;
    await this.script(`
ip netns add ${ns}
${inNs(this.lanNs, [`link add h${n} type veth peer name eth0 netns ${ns}`, `link set h${n} master ${this.lanBridge} up`])}
${inNs(ns, ['link set lo up', ...(address ? [`addr add ${address}/${this.lanPrefixLength} dev eth0`] : []), 'link set eth0 up'])}
`);
    return ns;
  }

  /** Deletes a LAN host's namespace (its veth goes with it). */
  async removeLanHost(ns: string): Promise<void> {
    await run('ip', ['netns', 'del', ns]);
  }

  /** Deletes the pod's namespace (and with it eth0 and any macvlan in it) and its veth in the node. */
  async removePod(n: number): Promise<void> {
    if (!this.livePods.delete(n)) throw new Error(`no pod ${n}`);
    await run('ip', ['netns', 'del', this.podNs(n)]);
    // The veth normally dies with its peer; it survives if something still pins the pod netns.
    await run('ip', ['-n', this.nodeNs, 'link', 'del', `p${n}`]).catch(() => undefined);
  }

  /** Runs a command in namespace `ns` (a full name such as topo.lanNs); resolves with stdout. */
  exec(ns: string, cmd: string, args: string[] = []): Promise<string> {
    return run('ip', ['netns', 'exec', ns, cmd, ...args]);
  }

  /** Starts a long-running process in `ns`; it is killed by PID in destroy(). `ip netns exec` execs in place, so
   * the child's PID is the command's PID. */
  spawn(ns: string, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    if (this.destroying) throw new Error('topology destroyed');
    let stdio: ('ignore' | 'pipe' | number)[] = ['pipe', 'pipe', 'pipe'];
    let fd: number | undefined;
    if (opts.logFile !== undefined) {
      fd = fs.openSync(opts.logFile, 'a');
      stdio = ['ignore', fd, fd];
    }
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio, env: opts.env ?? process.env });
    if (fd !== undefined) fs.closeSync(fd);
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    child.once('error', () => this.children.delete(child));
    return child;
  }

  /** Stops a process started with spawn(): signal by PID, SIGKILL after graceMs. */
  stop(child: ChildProcess, graceMs = 3000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    return terminate(child, graceMs, signal);
  }

  /** A fresh temporary directory, removed by destroy(). */
  tempDir(label: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${this.prefix}${label}-`));
    this.dirs.push(dir);
    return dir;
  }

  /** Kills everything started through the topology, deletes every namespace with its prefix and the temp dirs.
   * Idempotent. */
  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      await Promise.all([...this.children].map((c) => terminate(c, 2000)));
      this.destroySync();
    })();
    return this.destroying;
  }

  /** The synchronous part of destroy(), also run from the exit hook. */
  destroySync(): void {
    for (const child of this.children) if (child.pid !== undefined) signalPid(child.pid, 'SIGKILL');
    sweepSync(this.prefix);
    for (const dir of this.dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
    this.livePods.clear();
    live.delete(this);
  }

  private script(body: string): Promise<string> {
    return run('bash', ['-euo', 'pipefail', '-s'], body);
  }
}

/**
 * Shell lines that run `ip -batch` inside namespace `ns` after turning IPv6 off there (`all.disable_ipv6` also sets
 * `default`, so interfaces created or moved in later start without it). nsenter, not `ip -n`: it leaves the mount
 * namespace alone, which halves the cost per pod when there are many.
 */
function inNs(ns: string, batch: string[]): string {
  return `nsenter --net=${NETNS_DIR}/${ns} sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && exec ip -batch -' <<'EOF'
${batch.join('\n')}
EOF`;
}

export async function createTopology(opts: TopologyOptions): Promise<Topology> {
  const topo = new Topology(opts);
  try {
    await topo.build();
    if (opts.pods) await topo.addPods(opts.pods);
  } catch (err) {
    await topo.destroy();
    throw err;
  }
  return topo;
}

/** createTopology with destroy registered on the test context (node:test `t`, or anything with after()). */
export async function withTopology(t: { after(fn: () => unknown): void }, opts: TopologyOptions): Promise<Topology> {
  const topo = await createTopology(opts);
  t.after(() => topo.destroy());
  return topo;
}
