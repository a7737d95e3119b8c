// Operator experience (issue 6) on a real test network: a new user's install, the lease view with pod names, metrics
// after an ADD, socket activation with the connection made before the daemon starts, -hostprefix (daemon in a
// container), and the installed native plugin on a node without Node.js.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LeaseDetail, LeaseView, StatusResult } from '../../common/rpc';
import { VERSION } from '../../common/version';
import {
  TS_DHCP_BIN,
  Topology,
  createTopology,
  runCni,
  startDnsmasq,
  startTsDaemon,
  tsDhcpCniPath,
  waitFor,
  type TsDaemon,
} from './lib';

const POD_ARGS = (name: string) => `IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=${name}`;
const METRICS_PORT = 19448;

function config(topo: Topology, socketPath: string): object {
  return {
    cniVersion: '1.0.0',
    name: 'lan',
    type: 'macvlan',
    master: topo.nodeNic,
    mode: 'bridge',
    ipam: { type: 'ts-dhcp', daemonSocketPath: socketPath },
  };
}

describe('operator experience', () => {
  let topo: Topology;

  before(async () => {
    topo = await createTopology({ prefix: 'tso-', lanCidr: '198.19.48.1/22', pods: 5 });
    await startDnsmasq(topo, { range: ['198.19.49.10', '198.19.49.200'], leaseTime: 600, routers: ['198.19.48.1'] });
  });
  after(() => topo.destroy());

  test('a new user: install into a root, run the daemon, ADD a pod through macvlan; leases, show, status, metrics', async () => {
    const root = topo.tempDir('root');
    const inst = spawnSync(process.execPath, [TS_DHCP_BIN, 'install', '--root', root, '--systemd'], {
      encoding: 'utf8',
    });
    assert.equal(inst.status, 0, inst.stderr);
    const exe = path.join(root, 'opt/cni/bin/ts-dhcp');
    const dir = topo.tempDir('user');
    const socketPath = path.join(dir, 'ts-dhcp.sock');
    const logFile = path.join(dir, 'daemon.log');
    // The daemon as the installed unit starts it (minimal environment: no PATH).
    const unit = fs.readFileSync(path.join(root, 'etc/systemd/system/ts-dhcp.service'), 'utf8');
    const execStart = /^ExecStart=(\S+) ((?:--\S+ )*)(\S+) daemon /m.exec(unit);
    assert.ok(execStart);
    const [, node, flags, entry] = execStart as unknown as [string, string, string, string];
    const child = topo.spawn(
      topo.nodeNs,
      node,
      [
        ...flags.split(' ').filter(Boolean),
        entry,
        'daemon',
        '--socket-path',
        socketPath,
        '--state-dir',
        path.join(dir, 'state'),
        '--metrics-address',
        `127.0.0.1:${METRICS_PORT}`,
      ],
      { env: {}, logFile },
    );
    await waitFor(
      'the daemon socket',
      () => {
        if (child.exitCode !== null) throw new Error(fs.readFileSync(logFile, 'utf8'));
        return fs.existsSync(socketPath);
      },
      10_000,
    );

    const add = await runCni(topo, {
      command: 'ADD',
      containerId: 'u1',
      podIndex: 1,
      config: config(topo, socketPath),
      args: POD_ARGS('web-1'),
      cniPath: [path.dirname(exe), '/usr/lib/cni'],
    });
    assert.equal(add.code, 0, add.stdout + add.stderr);
    const address = (add.json?.ips?.[0]?.address as string).split('/')[0] as string;

    const cli = (...args: string[]) =>
      spawnSync(node, [entry, ...args, '--socket-path', socketPath], { encoding: 'utf8', env: {} });
    const table = cli('leases');
    assert.equal(table.status, 0, table.stderr);
    assert.doesNotMatch(table.stdout, /\x1b\[/, 'no colours when stdout is not a terminal');
    const row = table.stdout.split('\n').find((l) => l.startsWith('shop/web-1'));
    assert.ok(row, table.stdout);
    assert.deepEqual(row.split(/\s{2,}/).slice(0, 6), [
      'shop/web-1',
      'lan',
      'eth1',
      `${address}/22`,
      '198.19.48.1',
      'BOUND',
    ]);
    assert.match(row, /in \d+m\d\ds\s+in \d+m\d\ds$/);

    const json = JSON.parse(cli('leases', '--json').stdout) as LeaseView[];
    assert.deepEqual(Object.keys(json[0] as object).sort(), [
      'address',
      'args',
      'containerId',
      'expiresAt',
      'family',
      'ifName',
      'mac',
      'netns',
      'network',
      'prefixLength',
      'serverId',
      'state',
      't1At',
      't2At',
    ]);

    const show = cli('leases', 'show', 'shop/web-1');
    assert.equal(show.status, 0, show.stderr);
    assert.match(show.stdout, /^Lease u1\/lan\/eth1\n/);
    const detail = JSON.parse(cli('leases', 'show', 'web-1', '--json').stdout) as LeaseDetail;
    assert.deepEqual(
      detail.transitions.map((t) => `${t.from}>${t.to}:${t.why}`),
      [
        'INIT>SELECTING:start',
        'SELECTING>REQUESTING:OFFER',
        'REQUESTING>PROBING:ACK',
        'PROBING>BOUND:no answer to the ARP probes',
      ],
    );
    assert.equal(detail.facts?.gateway, '198.19.48.1');

    const status = JSON.parse(cli('status', '--json').stdout) as StatusResult;
    assert.equal(status.version, VERSION);
    assert.deepEqual(status.leases, { BOUND: 1 });
    assert.equal(status.stateDir, path.join(dir, 'state'));
    assert.match(cli('status').stdout, /^leases +1 \(1 BOUND\)$/m);

    // --watch redraws until interrupted.
    const watch = topo.spawn(
      topo.nodeNs,
      node,
      [entry, 'leases', '--watch', '--interval', '200ms', '--socket-path', socketPath],
      { env: {} },
    );
    let frames = '';
    watch.stdout?.setEncoding('utf8').on('data', (d: string) => (frames += d));
    await waitFor('two frames of --watch', () => frames.split('shop/web-1').length > 2, 10_000);
    await topo.stop(watch, 3000, 'SIGINT');
    assert.equal(watch.exitCode, 0);

    const scrape = async () => topo.exec(topo.nodeNs, 'curl', ['-sf', `http://127.0.0.1:${METRICS_PORT}/metrics`]);
    const m = await scrape();
    assert.match(m, /^ts_dhcp_leases\{family="ipv4",state="BOUND"\} 1$/m);
    assert.match(m, /^ts_dhcp_acquisitions_total\{family="ipv4"\} 1$/m);
    assert.match(m, /^ts_dhcp_rpc_requests_total\{method="cni",outcome="ok"\} 1$/m);
    assert.match(m, /^ts_dhcp_cni_requests_total\{verb="ADD",code="0"\} 1$/m);
    assert.match(m, /^ts_dhcp_transaction_duration_seconds_count\{family="ipv4",kind="bound"\} 1$/m);

    const del = await runCni(topo, {
      command: 'DEL',
      containerId: 'u1',
      podIndex: 1,
      config: config(topo, socketPath),
      args: POD_ARGS('web-1'),
      cniPath: [path.dirname(exe), '/usr/lib/cni'],
    });
    assert.equal(del.code, 0, del.stdout + del.stderr);
    const after = await scrape();
    assert.match(after, /^ts_dhcp_releases_total\{family="ipv4",sent="true"\} 1$/m);
    assert.match(after, /^ts_dhcp_rpc_requests_total\{method="cni",outcome="ok"\} 2$/m);
    assert.match(after, /^ts_dhcp_cni_requests_total\{verb="DEL",code="0"\} 1$/m);
    assert.doesNotMatch(after, /^ts_dhcp_leases\{family="ipv4",state="BOUND"\}/m);
    await topo.stop(child);

    const gone = cli('leases');
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /ts-dhcp daemon is not running: cannot connect to /);
  });

  test('socket activation: an ADD that connects before the daemon runs is served by the daemon it starts', async () => {
    const dir = topo.tempDir('activate');
    const socketPath = path.join(dir, 'ts-dhcp.sock');
    const logFile = path.join(dir, 'daemon.log');
    // bin/ts-dhcp is "#!/usr/bin/env node": env execs node in place, so LISTEN_PID still names the daemon.
    const activator = topo.spawn(
      topo.nodeNs,
      'systemd-socket-activate',
      ['-l', socketPath, TS_DHCP_BIN, 'daemon', '--socket-path', socketPath, '--state-dir', path.join(dir, 'state')],
      { logFile },
    );
    await waitFor('the activation socket', () => fs.existsSync(socketPath), 10_000);
    assert.ok(!fs.readFileSync(logFile, 'utf8').includes('"serving"'), 'no daemon before the first connection');
    const add = await runCni(topo, {
      command: 'ADD',
      containerId: 'a2',
      podIndex: 2,
      config: config(topo, socketPath),
      args: POD_ARGS('web-2'),
      cniPath: tsDhcpCniPath(),
    });
    assert.equal(add.code, 0, add.stdout + add.stderr + fs.readFileSync(logFile, 'utf8'));
    assert.match(add.json?.ips?.[0]?.address as string, /^198\.19\.(49|50|51)\.\d+\/22$/);
    const serving = fs
      .readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"serving"'))
      .map((l) => JSON.parse(l) as { activated: boolean; pid: number });
    assert.equal(serving.length, 1);
    assert.equal(serving[0]?.activated, true);
    assert.equal(serving[0]?.pid, activator.pid, 'the daemon is the process systemd-socket-activate became');
    await topo.stop(activator);
    assert.ok(fs.existsSync(socketPath), 'an activated daemon leaves the socket to its owner');
  });

  describe('-hostprefix: the daemon sees host paths under a prefix, as in a container', () => {
    let daemon: TsDaemon;
    let prefix: string;

    before(async () => {
      prefix = topo.tempDir('hostfs');
      // The container's view: the host's /var/run/netns/<pod> bind-mounted under the prefix (pod 3 only).
      const inside = path.join(prefix, topo.netnsPath(3));
      fs.mkdirSync(path.dirname(inside), { recursive: true });
      fs.writeFileSync(inside, '');
      execFileSync('mount', ['--bind', topo.netnsPath(3), inside]);
      daemon = await startTsDaemon(topo, { args: ['-hostprefix', prefix] });
    });
    after(async () => {
      await daemon?.stop();
      spawnSync('umount', [path.join(prefix, topo.netnsPath(3))]);
    });

    test('ADD with CNI_NETNS as the host names it works through the prefix; a path missing under it fails', async () => {
      const cniPath = tsDhcpCniPath();
      const ok = await runCni(topo, {
        command: 'ADD',
        containerId: 'h3',
        podIndex: 3,
        config: config(topo, daemon.socketPath),
        args: POD_ARGS('web-3'),
        cniPath,
      });
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      const [lease] = await daemon.rpc('leases', {});
      assert.equal(lease?.netns, topo.netnsPath(3), 'the lease view shows the host path');
      assert.equal(lease?.state, 'BOUND');
      const missing = await runCni(topo, {
        command: 'ADD',
        containerId: 'h4',
        podIndex: 4,
        config: config(topo, daemon.socketPath),
        args: POD_ARGS('web-4'),
        cniPath,
      });
      assert.notEqual(missing.code, 0);
      assert.match(missing.stdout + missing.stderr, /tso-pod4/);
    });
  });

  test('the installed native plugin runs VERSION and an ADD through macvlan with no node on PATH', async (t) => {
    // PATH holds only `ip` (the test runs plugins through `ip netns exec`), so no node can be found.
    const pathDir = topo.tempDir('nonode');
    fs.symlinkSync(
      execFileSync('/bin/sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).trim(),
      path.join(pathDir, 'ip'),
    );
    const env = { PATH: pathDir };
    assert.notEqual(spawnSync('/bin/sh', ['-c', 'command -v node'], { env }).status, 0, 'node is not on this PATH');
    const daemon = await startTsDaemon(topo);
    t.after(() => daemon.stop());
    const cniPath = tsDhcpCniPath();
    const plugin = path.join(cniPath[0] as string, 'ts-dhcp');
    const version = await runCni(topo, {
      command: 'VERSION',
      config: { cniVersion: '1.0.0' },
      pluginPath: plugin,
      env,
    });
    assert.equal(version.code, 0, version.stderr);
    assert.ok((version.json?.supportedVersions as string[]).includes('1.1.0'));
    const add = await runCni(topo, {
      command: 'ADD',
      containerId: 's5',
      podIndex: 5,
      config: config(topo, daemon.socketPath),
      args: POD_ARGS('web-5'),
      cniPath,
      env,
    });
    assert.equal(add.code, 0, add.stdout + add.stderr);
    assert.match(add.json?.ips?.[0]?.address as string, /^198\.19\.(49|50|51)\.\d+\/22$/);
    const leases = await daemon.rpc('leases', {});
    assert.equal(leases[0]?.args.K8S_POD_NAME, 'web-5');
  });
});
