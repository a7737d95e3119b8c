// The image and the DaemonSet, rehearsed: scripts/build-image.sh builds deploy/Containerfile with podman (no
// registry), then podman runs the containers of deploy/daemonset.yaml as the kubelet would — command, args,
// privileged, hostNetwork, and every volume mount with its propagation, read from the manifest — with the host paths
// the manifest names. The pod netns directories are the real /var/run/netns and /run/netns (runtimes create netns
// files there); the other host paths (/opt/cni/bin, /run/cni, /var/lib/ts-dhcp) are stood in for by the test's temp
// dirs. A podman container on the network of deploy/network-attachment.yaml then gets its lease through the daemon
// container, with the plugin the init container installed.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { REPO, Topology, createTopology, startDnsmasq, waitFor, type DhcpServer } from './lib';
import { run } from './lib/proc';
import { SLEEPER, importBusybox, startPodman, type Conflist, type Podman } from './lib/runtimes';

interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  mountPropagation?: 'None' | 'HostToContainer' | 'Bidirectional';
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  securityContext?: { privileged?: boolean; runAsUser?: number };
  volumeMounts?: VolumeMount[];
  readinessProbe?: { exec?: { command: string[] } };
}
interface PodSpec {
  hostNetwork?: boolean;
  initContainers?: Container[];
  containers: Container[];
  volumes: { name: string; hostPath?: { path: string } }[];
}

const docs = (file: string) =>
  YAML.parseAllDocuments(fs.readFileSync(path.join(REPO, file), 'utf8')).map((d) => d.toJS() as Record<string, any>);
const daemonSet = docs('deploy/daemonset.yaml').find((d) => d.kind === 'DaemonSet');
const podSpec = daemonSet?.spec.template.spec as PodSpec;
const attachment = docs('deploy/network-attachment.yaml').find((d) => d.kind === 'NetworkAttachmentDefinition');

/** Where runtimes put pod netns files: these host paths are the real ones, everything else a temp dir. */
const NETNS_DIRS = ['/var/run/netns', '/run/netns'];
const PROPAGATION = { None: 'private', HostToContainer: 'rslave', Bidirectional: 'rshared' } as const;

describe('the image and the DaemonSet (deploy/), rehearsed with podman', () => {
  let topo: Topology;
  let dnsmasq: DhcpServer;
  let podman: Podman;
  let hostRoot: string;
  const hostDir = (p: string) => (NETNS_DIRS.includes(p) ? p : path.join(hostRoot, p));

  /** podman run arguments for one container of the pod spec, as the kubelet would start it. */
  function containerArgs(c: Container): string[] {
    const args = ['--network', podSpec.hostNetwork ? 'host' : 'none'];
    if (c.securityContext?.privileged) args.push('--privileged');
    if (c.securityContext?.runAsUser !== undefined) args.push('--user', String(c.securityContext.runAsUser));
    for (const m of c.volumeMounts ?? []) {
      const hostPath = podSpec.volumes.find((v) => v.name === m.name)?.hostPath?.path;
      assert.ok(hostPath, `volume ${m.name} of ${c.name} is a hostPath`);
      fs.mkdirSync(hostDir(hostPath), { recursive: true }); // type: DirectoryOrCreate
      const opts = [m.readOnly ? 'ro' : 'rw', PROPAGATION[m.mountPropagation ?? 'None']];
      args.push('--volume', `${hostDir(hostPath)}:${m.mountPath}:${opts.join(',')}`);
    }
    // Kubernetes: command replaces the image's ENTRYPOINT (and drops its CMD), args replace CMD.
    if (c.command) args.push('--entrypoint', JSON.stringify(c.command));
    return [...args, c.image, ...(c.args ?? [])];
  }

  before(async () => {
    assert.ok(podSpec && attachment, 'deploy/ holds a DaemonSet and a NetworkAttachmentDefinition');
    topo = await createTopology({ prefix: 'tsds-', lanCidr: '198.19.72.1/22' });
    dnsmasq = await startDnsmasq(topo, {
      range: ['198.19.73.10', '198.19.73.200'],
      leaseTime: 600,
      routers: ['198.19.72.254'],
    });
    hostRoot = topo.tempDir('host');
    // Built (or found in podman's layer cache) in the clone's own store; its output ends with the image size.
    const built = await run('bash', [path.join(REPO, 'scripts/build-image.sh')]);
    assert.match(built, /: \d+ MB\n$/);
    process.stdout.write(`# ${built.trim().split('\n').pop()}\n`);
    podman = await startPodman(topo, {
      additionalImageStores: [path.join(REPO, '.build/podman/storage')],
      cniBin: hostDir('/opt/cni/bin'),
    });
  });
  after(async () => {
    await podman?.destroy();
    await topo?.destroy();
  });

  test('init container installs the plugin; the daemon container serves it; a podman container gets its lease', async () => {
    // The init container: the plugin lands in the host's CNI bin dir, executable, answering VERSION.
    const [init] = podSpec.initContainers ?? [];
    assert.ok(init, 'an init container');
    await podman.run(['run', '--rm', '--name', init.name, ...containerArgs(init)]);
    const plugin = path.join(hostDir('/opt/cni/bin'), 'ts-dhcp');
    assert.equal(fs.statSync(plugin).mode & 0o111, 0o111, 'executable');
    const version = JSON.parse(await run('env', ['-i', 'CNI_COMMAND=VERSION', plugin], '')) as {
      supportedVersions: string[];
    };
    assert.ok(version.supportedVersions.includes('1.0.0'), JSON.stringify(version));

    // The daemon container, detached; its socket appears in the host's /run/cni; the readiness probe passes.
    const [daemon] = podSpec.containers;
    assert.ok(daemon);
    await podman.run(['run', '-d', '--name', daemon.name, ...containerArgs(daemon)]);
    const socketPath = path.join(hostDir('/run/cni'), 'ts-dhcp.sock');
    await waitFor("the daemon container's socket", () => fs.existsSync(socketPath), 20_000, 100);
    const probe = daemon.readinessProbe?.exec?.command;
    assert.ok(probe, 'a readiness probe');
    await podman.run(['exec', daemon.name, ...probe]);
    const leases = async () =>
      JSON.parse(
        await podman.run([
          'exec',
          daemon.name,
          probe[0] as string,
          'leases',
          '--json',
          '--socket-path',
          '/run/cni/ts-dhcp.sock',
        ]),
      ) as { containerId: string; netns: string; state: string; address?: string }[];

    // The NetworkAttachmentDefinition's network, its daemon socket at the host path the DaemonSet mounts.
    const config = JSON.parse(attachment?.spec.config as string) as Record<string, any>;
    const { cniVersion, name, ...plugin0 } = config;
    assert.equal(plugin0.master, topo.nodeNic);
    const conflist: Conflist = {
      cniVersion,
      name,
      plugins: [
        { ...plugin0, ipam: { ...plugin0.ipam, daemonSocketPath: socketPath, stateDir: hostDir('/var/lib/ts-dhcp') } },
      ],
    };
    podman.addNetwork(conflist);
    await importBusybox(topo, podman, 'localhost/ts-dhcp-test/busybox:1');
    const id = (
      await podman.run([
        'run',
        '-d',
        '--name',
        'pod',
        '--network',
        `${name}:interface_name=eth1`,
        'localhost/ts-dhcp-test/busybox:1',
        ...SLEEPER,
      ])
    ).trim();

    // The daemon in its container opened the pod's netns through /host/run/netns (podman's path, created after the
    // daemon container started: propagated by HostToContainer).
    const [lease, ...others] = await leases();
    assert.equal(others.length, 0);
    assert.equal(lease?.containerId, id);
    assert.equal(lease?.netns, await podman.sandbox('pod'));
    assert.equal(lease?.state, 'BOUND');
    const address = lease?.address as string;
    assert.deepEqual(
      dnsmasq.leases().map((l) => l.ip),
      [address],
    );
    assert.match(
      await podman.run(['exec', 'pod', 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth1']),
      new RegExp(`inet ${address.replace(/\./g, '\\.')}/22 `),
    );
    await topo.exec(topo.lanNs, 'ping', ['-c', '1', '-W', '2', address]);
    // The lease record is in the host's state dir (survives the daemon container).
    assert.equal(
      fs.readdirSync(path.join(hostDir('/var/lib/ts-dhcp'), 'leases')).filter((f) => f.endsWith('.json')).length,
      1,
    );

    await podman.run(['rm', '-f', 'pod']);
    await waitFor('dnsmasq to drop the lease', () => dnsmasq.leases().length === 0, 5000);
    assert.deepEqual(await leases(), []);
  });
});
