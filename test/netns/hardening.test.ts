// The untrusted edges in real namespaces (issue 13): a rogue server on the LAN sending hostile options, CNI_NETNS
// naming the daemon's own namespace or escaping with "..", two attachments on one interface, a full disk at ADD,
// and a socket client that is not root.
import assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MessageType } from '../../daemon/dhcp/types';
import {
  Topology,
  cniIpam,
  cniMacvlan,
  createTopology,
  macvlanConfig,
  startTsDaemon,
  waitFor,
  TS_DHCP_BIN,
  type CniOutcome,
  type TsDaemon,
} from './lib';
import { allStrings, rawSearch } from '../helpers/hostile';

const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

const ip = (s: string) => Buffer.from(s.split('.').map(Number));

const HOSTILE: Record<number, Buffer> = {
  1: ip('0.0.0.0'),
  3: Buffer.concat([ip('224.0.0.1'), ip('198.19.68.1')]),
  6: Buffer.concat([ip('0.0.0.0'), ip('127.0.0.1'), ip('198.19.68.1')]),
  15: Buffer.from('lan\x1b[31m\nnameserver 6.6.6.6'),
  119: rawSearch(['good.example', 'ba\x1bd.example']),
  121: Buffer.concat([Buffer.from([16, 10, 1]), ip('198.19.68.1'), Buffer.from([8, 10]), ip('127.0.0.1')]),
  51: Buffer.from([0, 0, 0, 2]),
};

interface Heard {
  type: number;
  chaddr: string;
  ciaddr: string;
}

function linkFlags(ns: string, dev: string): string {
  return execFileSync('ip', ['-n', ns, '-o', 'link', 'show', dev], { encoding: 'utf8' });
}

describe('untrusted edges (rogue server, namespaces, disk, socket)', () => {
  let topo: Topology;
  let rogue: ChildProcess;
  const heard: Heard[] = [];
  let daemon: TsDaemon;
  let stateMount: string;

  before(async () => {
    topo = await createTopology({ prefix: 'tsh-', lanCidr: '198.19.68.1/22', pods: 3 });
    const config = {
      serverIp: topo.serverIp,
      broadcastIp: '198.19.71.255',
      poolStart: '198.19.68.50',
      options: Object.fromEntries(Object.entries(HOSTILE).map(([c, b]) => [c, b.toString('hex')])),
    };
    rogue = topo.spawn(topo.lanNs, process.execPath, [
      path.join(__dirname, 'lib/rogue-responder.js'),
      JSON.stringify(config),
    ]);
    let buf = '';
    let listening = false;
    rogue.stdout?.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (line.listening) listening = true;
        else heard.push(line);
      }
    });
    await waitFor('the rogue responder', () => listening, 10_000);
    // The state dir on a 1 MiB tmpfs of the test's own, so the disk can be filled.
    stateMount = path.join(topo.tempDir('state'), 'mnt');
    fs.mkdirSync(stateMount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tsh-state', stateMount]);
    daemon = await startTsDaemon(topo, { stateDir: path.join(stateMount, 'state'), args: ['--min-lease-time', '60s'] });
  });
  after(async () => {
    await daemon?.stop();
    if (stateMount) execFileSync('umount', [stateMount]);
    await topo.destroy();
  });

  function cli(...args: string[]): string {
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    return execFileSync(process.execPath, [TS_DHCP_BIN, ...args, '--socket-path', daemon.socketPath], {
      encoding: 'utf8',
      env,
    });
  }

  let podMac = '';

  test('a rogue server with hostile options: the result is sanitised, the CLI prints no control characters, a 2 s lease is not renewed every second', async () => {
    const out: CniOutcome = await cniMacvlan(topo, {
      command: 'ADD',
      containerId: 'rogue1',
      podIndex: 1,
      config: macvlanConfig(topo, daemon),
      args: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web\x1b[2J-0',
    });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const r = out.json!;
    assert.deepEqual(
      r.ips?.map((i) => [i.address, i.gateway]),
      [['198.19.68.50/24', '198.19.68.1']],
      'mask 0.0.0.0 dropped: classful /24; gateway 224.0.0.1 dropped',
    );
    assert.deepEqual(r.routes, [{ dst: '10.1.0.0/16', gw: '198.19.68.1' }], 'the route via 127.0.0.1 dropped');
    for (const s of allStrings(r)) assert.doesNotMatch(s, CONTROL, JSON.stringify(s));
    const detail = JSON.parse(cli('leases', 'show', 'rogue1', '--json'));
    assert.deepEqual(
      detail.facts.dns,
      { nameservers: ['198.19.68.1'], search: ['good.example'] },
      'option 15 and the bad search name dropped',
    );
    assert.equal(detail.facts.leaseTimeS, 60, 'raised to --min-lease-time');
    podMac = (detail.mac as string).replace(/:/g, '');
    const text = cli('leases', 'show', 'rogue1') + cli('leases');
    for (const line of text.split('\n')) assert.doesNotMatch(line, CONTROL, JSON.stringify(line));
    assert.match(text, /web\\x1b\[2J-0/, 'the pod name from CNI_ARGS, escaped');
    assert.ok(daemon.logs().some((l) => l.msg === 'unusable values in a reply dropped'));
    const requests = () => heard.filter((h) => h.chaddr === podMac && h.type === MessageType.REQUEST).length;
    const before = requests();
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal(requests(), before, 'no renewal within 4 s of a lease taken as 60 s');
  });

  test('a second attachment on the same interface of the same netns is refused', async () => {
    const out = await cniIpam(topo, {
      command: 'ADD',
      containerId: 'rogue1-again',
      podIndex: 1,
      ifName: 'eth1',
      config: macvlanConfig(topo, daemon),
    });
    assert.equal(out.json?.code, 4, out.stdout + out.stderr);
    assert.match(out.json?.msg ?? '', /eth1 in .* already has a lease, for attachment rogue1\/lan\/eth1/);
  });

  test("the daemon's own netns and '..' paths are refused before any link changes", async () => {
    execFileSync('ip', ['-n', topo.nodeNs, 'link', 'add', 'tshx0', 'type', 'veth', 'peer', 'name', 'tshx1']);
    assert.doesNotMatch(linkFlags(topo.nodeNs, 'tshx0'), /[<,]UP[,>]/);
    // Through the plugin (which resolves the path first) and straight on the socket, as any client could.
    for (const netnsPath of [
      `/run/netns/${topo.nodeNs}`,
      `/run/netns/../netns/${topo.nodeNs}`,
      `/proc/${daemon.pid}/ns/net`,
    ]) {
      const out = await cniIpam(topo, {
        command: 'ADD',
        containerId: 'hostile',
        netnsPath,
        ifName: 'tshx0',
        config: macvlanConfig(topo, daemon),
      });
      assert.equal(out.json?.code, 4, out.stdout + out.stderr);
      assert.match(out.json?.msg ?? '', /the daemon's own network namespace/);
    }
    // On the socket a relative CNI_NETNS with ".." resolves against the given working directory, then is refused alike.
    const env = {
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: 'hostile',
      CNI_NETNS: `../netns/${topo.nodeNs}`,
      CNI_IFNAME: 'tshx0',
    };
    const raw = await daemon.cni(env, macvlanConfig(topo, daemon), '/run/netns');
    assert.equal(raw.exitCode, 1);
    assert.equal(raw.json?.code, 4, JSON.stringify(raw.json));
    assert.match(
      raw.json?.msg ?? '',
      new RegExp(`^CNI_NETNS "/run/netns/${topo.nodeNs}": .*the daemon's own network namespace`),
    );
    assert.doesNotMatch(linkFlags(topo.nodeNs, 'tshx0'), /[<,]UP[,>]/, 'the host link was never brought up');
    assert.deepEqual(
      (await daemon.rpc('leases', {})).map((l) => l.containerId),
      ['rogue1'],
    );
  });

  test('a full disk at ADD: CNI error 5, the lease released, none left behind; with space again ADD works', async () => {
    const filler = path.join(stateMount, 'filler');
    assert.throws(() => fs.writeFileSync(filler, Buffer.alloc(2 << 20)), /ENOSPC/);
    const out = await cniMacvlan(topo, {
      command: 'ADD',
      containerId: 'full',
      podIndex: 2,
      config: macvlanConfig(topo, daemon),
    });
    assert.equal(out.json?.code, 5, out.stdout + out.stderr);
    assert.match(out.json?.msg ?? '', /the lease record could not be written \(ENOSPC/);
    assert.deepEqual(
      (await daemon.rpc('leases', {})).map((l) => l.containerId),
      ['rogue1'],
      'no orphan lease',
    );
    await waitFor(
      'the RELEASE of the unrecorded lease',
      () => heard.some((h) => h.type === MessageType.RELEASE && h.ciaddr !== '0.0.0.0'),
      5000,
    );
    fs.rmSync(filler);
    // As a runtime does after a failed ADD: DEL, then ADD again.
    const del = await cniMacvlan(topo, {
      command: 'DEL',
      containerId: 'full',
      podIndex: 2,
      config: macvlanConfig(topo, daemon),
    });
    assert.equal(del.code, 0, del.stdout + del.stderr);
    const again = await cniMacvlan(topo, {
      command: 'ADD',
      containerId: 'full',
      podIndex: 2,
      config: macvlanConfig(topo, daemon),
    });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal(fs.readdirSync(path.join(daemon.stateDir, 'leases')).filter((n) => n.endsWith('.json')).length, 2);
  });

  test('SO_PEERCRED: a client that is not root is refused even when the socket file lets it connect', async () => {
    fs.chmodSync(path.dirname(daemon.socketPath), 0o755);
    fs.chmodSync(daemon.socketPath, 0o666);
    const script = `const c = require('node:net').createConnection(${JSON.stringify(daemon.socketPath)}, () => c.write('{"jsonrpc":"2.0","id":1,"method":"status"}\\n'));
      let got = ''; c.on('data', (d) => (got += d)); c.on('error', () => {}); c.on('close', () => process.stdout.write(got ? 'answered' : 'closed'));`;
    const run = (uid: number) =>
      new Promise<string>((resolve) => {
        const child = spawn(process.execPath, ['-e', script], { uid, gid: uid === 0 ? 0 : 65534 });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.on('exit', () => resolve(out));
        setTimeout(() => child.kill(), 5000);
      });
    assert.equal(await run(65534), 'closed');
    assert.ok(daemon.logs().some((l) => l.msg === 'rpc connection refused' && /uid 65534/.test(String(l.reason))));
  });
});
