// The native addon in real namespaces (root). Topology, all in 198.18.1.0/24:
//   tsn-lan  lan0 198.18.1.1/24 ── veth ── eth1 (down at first)  tsn-pod
//            gone0              ── veth ── eth1                   tsn-gone   (proves closed sockets do not pin)
//   tsn-mv   fresh macvlans (master: eth1 of tsn-pod), to measure ensureLinkUp
// A UDP agent in tsn-lan (node, bound to :67) prints what it receives and sends what it is told on stdin.
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import { closeSync, readdirSync, readlinkSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';

import { ArpOp, arpAnnouncement, arpProbe, decodeArp, encodeArp, type ArpPacket } from '../../daemon/dhcp/arp';
import type { Channel, Received } from '../../daemon/pod-port';
import { parseIpUdp } from '../../daemon/transport/ipudp';
import {
  addrAdd,
  addrDel,
  ensureLinkUp,
  isNetnsError,
  isNetnsPath,
  linkInfo,
  linkSetMtu,
  linkSetUp,
  openArp,
  openPacket,
  openUdp,
  routeAdd,
  routeDel,
  type PacketSocket,
} from '../../daemon/transport/netns';
import { openArpChannel, openPacketChannel } from '../../daemon/transport/packet-channel';
import { openUdpChannel } from '../../daemon/transport/udp-channel';
import { nsTag } from './lib/topology';

const LAN = `${nsTag()}tsn-lan`;
const POD = `${nsTag()}tsn-pod`;
const GONE = `${nsTag()}tsn-gone`;
const MV = `${nsTag()}tsn-mv`;
const nsPath = (ns: string): string => `/var/run/netns/${ns}`;
const LAN_IP = '198.18.1.1';
const POD_IP = '198.18.1.50';
const UNCONFIGURED_IP = '198.18.1.77';
// A veth end gets IFF_RUNNING from the kernel's linkwatch work, rate-limited to about 1 s and slower while other
// namespaces are torn down (rtnl contention): generous, not a measure.
const VETH_RUNNING_MS = 10_000;

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function linkExists(ns: string, dev: string): boolean {
  return spawnSync('ip', ['-n', ns, 'link', 'show', dev], { stdio: 'ignore' }).status === 0;
}

// ---- every thread of this process must stay in the namespace it started in ----

const HOME_NS = readlinkSync('/proc/self/ns/net');

function assertThreadsHome(): number {
  const tids = readdirSync('/proc/self/task');
  for (const tid of tids) {
    let ns: string;
    try {
      ns = readlinkSync(`/proc/self/task/${tid}/ns/net`);
    } catch {
      continue; // the thread exited meanwhile
    }
    assert.equal(ns, HOME_NS, `thread ${tid} is in another netns`);
  }
  return tids.length;
}

/** Awaits an addon call, then checks every thread's netns, on success and on failure alike. */
async function settled<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } finally {
    assertThreadsHome();
  }
}

// ---- the UDP agent in tsn-lan ----

interface Heard {
  from: string;
  port: number;
  payload: Buffer;
}

class LanAgent {
  readonly heard: Heard[] = [];
  constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as { from?: string; port?: number; hex?: string };
      if (m.hex !== undefined) this.heard.push({ from: m.from!, port: m.port!, payload: Buffer.from(m.hex, 'hex') });
    });
  }
  send(to: string, port: number, payload: Buffer, fromPort = 67): void {
    this.child.stdin!.write(`${JSON.stringify({ to, port, fromPort, hex: payload.toString('hex') })}\n`);
  }
  waitHeard(payload: string): Promise<Heard> {
    return waitFor(`agent to hear ${payload}`, () => this.heard.find((h) => h.payload.toString() === payload));
  }
}

const AGENT = `
const dgram = require('node:dgram');
const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
s.on('message', (m, r) => out({ from: r.address, port: r.port, hex: m.toString('hex') }));
s.bind(67, () => { s.setBroadcast(true); out({ ready: true }); });
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const c = JSON.parse(line);
  const b = Buffer.from(c.hex, 'hex');
  if (c.fromPort === 67) return s.send(b, c.port, c.to);
  const o = dgram.createSocket('udp4');
  o.bind(c.fromPort, () => o.send(b, c.port, c.to, () => o.close()));
});`;

async function startAgent(t: TestContext): Promise<LanAgent> {
  const child = spawn('ip', ['netns', 'exec', LAN, process.execPath, '-e', AGENT], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  t.after(() => {
    child.kill(); // by PID: the ip netns exec process execs node
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`agent exited with ${code}`)));
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', () => {
      rl.close();
      resolve();
    });
  });
  child.removeAllListeners('exit');
  return new LanAgent(child);
}

// ---- namespaces ----

function addNetns(t: TestContext, ns: string): void {
  spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); // left over from an interrupted run
  ip('netns', 'add', ns);
  t.after(() => {
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  });
  ip('netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
  ip('-n', ns, 'link', 'set', 'lo', 'up');
}

/** veth pair: `lanDev` up in tsn-lan, eth1 left down in `ns`. */
function addVeth(lanDev: string, ns: string): void {
  ip('link', 'add', lanDev, 'netns', LAN, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', ns);
  ip('-n', LAN, 'link', 'set', lanDev, 'up');
}

function ipLink(ns: string, dev: string): { ifindex: number; address: string; mtu: number; flags: string[] } {
  return JSON.parse(ip('-n', ns, '-j', 'link', 'show', dev))[0];
}

function collect(): { got: Received[]; onReceive: (r: Received) => void } {
  const got: Received[] = [];
  return { got, onReceive: (r) => got.push(r) };
}

function assertCoded(e: unknown, code: string, op: string, netns: string, ifName: string): true {
  assert.ok(isNetnsError(e), `not a NetnsError: ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.ok(e.message.startsWith(`${op}: ${netns}: ${ifName}: `), e.message);
  assert.equal(e.netns, netns);
  assert.equal(e.ifName, ifName);
  return true;
}

test('native addon in real network namespaces', { timeout: 120_000 }, async (t) => {
  assert.equal(process.getuid?.(), 0, 'these tests need root');
  for (const ns of [LAN, POD, GONE, MV]) addNetns(t, ns);
  addVeth('lan0', POD);
  ip('-n', LAN, 'addr', 'add', `${LAN_IP}/24`, 'dev', 'lan0');
  const agent = await startAgent(t);
  const pod = nsPath(POD);

  await t.test('linkInfo reports what ip link reports (the kind too); a fresh veth end is down', async () => {
    const info = await settled(linkInfo(pod, 'eth1'));
    const ref = ipLink(POD, 'eth1');
    assert.deepEqual(info, {
      index: ref.ifindex,
      mac: ref.address,
      mtu: ref.mtu,
      up: false,
      running: false,
      addresses: [],
      kind: 'veth',
    });
    assert.ok(!ref.flags.includes('UP'));
  });

  await t.test('linkSetUp sets and clears IFF_UP', async () => {
    await settled(linkSetUp(pod, 'eth1', true));
    assert.ok(ipLink(POD, 'eth1').flags.includes('UP'));
    assert.equal((await settled(linkInfo(pod, 'eth1'))).up, true);
    await settled(linkSetUp(pod, 'eth1', true)); // already up: no change, no error
    await settled(linkSetUp(pod, 'eth1', false));
    assert.ok(!ipLink(POD, 'eth1').flags.includes('UP'));
    assert.equal((await settled(linkInfo(pod, 'eth1'))).up, false);
  });

  let raw: PacketSocket | undefined;
  const rawFrames: Buffer[] = [];
  const acquiring = collect();
  let acquire: Channel | undefined;

  await t.test('a packet socket opened while the link is down receives once ensureLinkUp returns', async () => {
    // Binding to a down link leaves ENETDOWN pending on the socket (POLLERR): reception must survive it.
    raw = await settled(openPacket(pod, 'eth1'));
    raw.onMessage((p) => rawFrames.push(p));
    assert.equal(raw.ifindex, ipLink(POD, 'eth1').ifindex);
    assert.equal(raw.mac, ipLink(POD, 'eth1').address);
    assert.equal(raw.mtu, 1500);
    acquire = await settled(openPacketChannel(pod, 'eth1', '0.0.0.0', acquiring.onReceive));

    const started = performance.now();
    const info = await settled(ensureLinkUp(pod, 'eth1', VETH_RUNNING_MS));
    t.diagnostic(`veth eth1: ensureLinkUp took ${(performance.now() - started).toFixed(1)} ms`);
    assert.equal(info.up && info.running, true);
  });

  await t.test('UDP/68 unicast to an address the pod does not have arrives through the packet socket', async () => {
    ip('-n', LAN, 'neigh', 'replace', UNCONFIGURED_IP, 'lladdr', raw!.mac, 'dev', 'lan0', 'nud', 'permanent');
    // The filter also wants the link's MAC in the BOOTP chaddr field (28 bytes into the payload): a reply for
    // another client on the LAN never wakes this socket.
    const bootp = (text: string, mac = raw!.mac) =>
      Buffer.concat([Buffer.alloc(28), Buffer.from(mac.replace(/:/g, ''), 'hex'), Buffer.from(text)]);
    agent.send(UNCONFIGURED_IP, 69, bootp('port 69: the BPF filter drops it'));
    agent.send(UNCONFIGURED_IP, 68, bootp('another chaddr: the BPF filter drops it', '02:00:00:00:00:99'));
    agent.send(UNCONFIGURED_IP, 68, Buffer.from('too short for a chaddr: dropped'));
    agent.send(UNCONFIGURED_IP, 68, bootp('from port 1234: the channel drops it'), 1234);
    agent.send(UNCONFIGURED_IP, 68, bootp('offer'));
    await waitFor('the channel to receive', () => acquiring.got.length > 0);
    await waitFor('both UDP/68 frames on the raw socket', () => rawFrames.length >= 2);
    assert.deepEqual(acquiring.got, [{ payload: bootp('offer'), srcIp: LAN_IP, dstIp: UNCONFIGURED_IP }]);
    // The agent sends from port 1234 through a socket it binds first, so the two may arrive in either order.
    const parsed = rawFrames.map((f) => parseIpUdp(f)).sort((x, y) => (x.ok && y.ok ? x.srcPort - y.srcPort : 0));
    assert.deepEqual(
      parsed.map((p) => p.ok && [p.srcPort, p.dstPort, p.dstIp, p.payload.subarray(34).toString()]),
      [
        [67, 68, UNCONFIGURED_IP, 'offer'],
        [1234, 68, UNCONFIGURED_IP, 'from port 1234: the channel drops it'],
      ],
    );
  });

  await t.test('the packet channel broadcasts from 0.0.0.0 and sends from a given source', async () => {
    acquire!.send(Buffer.from('discover'), '255.255.255.255');
    const heard = await agent.waitHeard('discover');
    assert.deepEqual([heard.from, heard.port], ['0.0.0.0', 68]);
    const rebinding = await settled(openPacketChannel(pod, 'eth1', UNCONFIGURED_IP, () => {}));
    t.after(() => rebinding.close());
    rebinding.send(Buffer.from('rebind'), '255.255.255.255');
    assert.equal((await agent.waitHeard('rebind')).from, UNCONFIGURED_IP);
    rebinding.close();
  });

  await t.test('a closed packet socket throws EBADF; close is idempotent', () => {
    raw!.close();
    raw!.close();
    assert.throws(
      () => raw!.send(Buffer.alloc(28)),
      (e) => assertCoded(e, 'EBADF', 'send', pod, 'eth1'),
    );
    assert.throws(
      () => raw!.onMessage(() => {}),
      (e) => assertCoded(e, 'EBADF', 'onMessage', pod, 'eth1'),
    );
    acquire!.close();
    acquire!.close();
    assert.throws(
      () => acquire!.send(Buffer.alloc(1), '255.255.255.255'),
      (e) => assertCoded(e, 'EBADF', 'send', pod, 'eth1'),
    );
  });

  await t.test('openUdp: the descriptor works with dgram bind({ fd }) and sends from the bound address', async () => {
    ip('-n', POD, 'addr', 'add', `${POD_IP}/24`, 'dev', 'eth1');
    assert.deepEqual((await settled(linkInfo(pod, 'eth1'))).addresses, [{ address: POD_IP, prefixLength: 24 }]);

    const fd = await settled(openUdp(pod, 'eth1', POD_IP));
    const socket = dgram.createSocket('udp4');
    t.after(() => {
      try {
        socket.close();
      } catch {
        /* closed by the test */
      }
    });
    socket.bind({ fd });
    assert.deepEqual(socket.address(), { address: POD_IP, family: 'IPv4', port: 68 });
    const replies: [Buffer, dgram.RemoteInfo][] = [];
    socket.on('message', (m, r) => replies.push([m, r]));
    socket.send('dgram renew', 67, LAN_IP);
    const heard = await agent.waitHeard('dgram renew');
    assert.deepEqual([heard.from, heard.port], [POD_IP, 68]);
    agent.send(POD_IP, 68, Buffer.from('dgram ack'));
    await waitFor('dgram to receive', () => replies.length > 0);
    assert.equal(replies[0]![0].toString(), 'dgram ack');
    assert.equal(replies[0]![1].address, LAN_IP);
    socket.close();

    // IP_FREEBIND: binding to an address not configured (yet) succeeds.
    closeSync(await settled(openUdp(pod, 'eth1', '198.18.1.99')));
  });

  await t.test('the UDP channel sends unicast from localIp:68 and delivers only replies from port 67', async () => {
    const renewing = collect();
    const ch = await settled(openUdpChannel(pod, 'eth1', POD_IP, renewing.onReceive));
    t.after(() => ch.close());
    ch.send(Buffer.from('renew'), LAN_IP);
    const heard = await agent.waitHeard('renew');
    assert.deepEqual([heard.from, heard.port], [POD_IP, 68]);
    agent.send(POD_IP, 68, Buffer.from('not from 67'), 1234);
    agent.send(POD_IP, 68, Buffer.from('ack'));
    await waitFor('the UDP channel to receive', () => renewing.got.length > 0);
    assert.deepEqual(renewing.got, [{ payload: Buffer.from('ack'), srcIp: LAN_IP, dstIp: POD_IP }]);
    assert.throws(
      () => ch.send(Buffer.from('x'), 'nowhere'),
      (e) => assertCoded(e, 'EINVAL', 'send', pod, 'eth1'),
    );
    ch.close();
    ch.close();
    assert.throws(
      () => ch.send(Buffer.from('x'), LAN_IP),
      (e) => assertCoded(e, 'EBADF', 'send', pod, 'eth1'),
    );
  });

  await t.test(
    "ARP: a probe from 0.0.0.0 gets the holder's reply; each socket hears only ARP about its address",
    async () => {
      const decoded = (got: Buffer[]): ArpPacket[] =>
        got.map((b) => decodeArp(b)).filter((p): p is ArpPacket => p !== undefined);
      const podMac = ipLink(POD, 'eth1').address;
      const lanMac = ipLink(LAN, 'lan0').address;
      const FREE_IP = '198.18.1.88';
      const heard = { lanIp: [] as Buffer[], free: [] as Buffer[], lanSide: [] as Buffer[] };
      const probeLan = await settled(openArpChannel(pod, 'eth1', LAN_IP, (b) => heard.lanIp.push(b)));
      const probeFree = await settled(openArpChannel(pod, 'eth1', FREE_IP, (b) => heard.free.push(b)));
      // The LAN side listens with the same kind of socket: it sees what the pod puts on the wire.
      const lanSide = await settled(openArpChannel(nsPath(LAN), 'lan0', FREE_IP, (b) => heard.lanSide.push(b)));
      t.after(() => [probeLan, probeFree, lanSide].forEach((c) => c.close()));

      probeLan.send(encodeArp(arpProbe(podMac, LAN_IP)));
      await waitFor('the reply of the address holder', () => heard.lanIp.length > 0);
      assert.deepEqual(decoded(heard.lanIp), [
        { op: ArpOp.REPLY, senderMac: lanMac, senderIp: LAN_IP, targetMac: podMac, targetIp: '0.0.0.0' },
      ]);

      probeFree.send(encodeArp(arpProbe(podMac, FREE_IP)));
      probeFree.send(encodeArp(arpAnnouncement(podMac, FREE_IP)));
      await waitFor('the LAN side to hear the probe and the announcement', () => heard.lanSide.length >= 2);
      assert.deepEqual(
        decoded(heard.lanSide).map((p) => [p.op, p.senderMac, p.senderIp, p.targetIp]),
        [
          [ArpOp.REQUEST, podMac, '0.0.0.0', FREE_IP],
          [ArpOp.REQUEST, podMac, FREE_IP, FREE_IP],
        ],
      );
      await sleep(100);
      assert.deepEqual(heard.free, [], 'nobody holds the free address, and the socket does not hear its own packets');
      assert.equal(heard.lanIp.length, 1, 'the probe for the free address is not heard by the socket for LAN_IP');
      probeLan.close();
      probeLan.close();
      assert.throws(
        () => probeLan.send(Buffer.alloc(28)),
        (e) => assertCoded(e, 'EBADF', 'send', pod, 'eth1'),
      );
    },
  );

  await t.test(
    'a UDP channel bound to the broadcast address hears a broadcast from port 67 (the RENEWING NAK)',
    async (t2) => {
      const nak = collect();
      const ch = await settled(openUdpChannel(pod, 'eth1', '255.255.255.255', nak.onReceive));
      t.after(() => ch.close());
      // A limited broadcast leaves by a route: the agent's namespace has none beyond its subnet.
      ip('-n', LAN, 'route', 'add', 'default', 'dev', 'lan0');
      t2.after(() => ip('-n', LAN, 'route', 'del', 'default', 'dev', 'lan0'));
      agent.send('255.255.255.255', 68, Buffer.from('nak'));
      await waitFor('the broadcast listener to receive', () => nak.got.length > 0);
      assert.deepEqual(nak.got, [{ payload: Buffer.from('nak'), srcIp: LAN_IP, dstIp: '255.255.255.255' }]);
      ch.close();
    },
  );

  await t.test(
    'addrAdd/addrDel, routeAdd/routeDel and linkSetMtu change what ip reports; repeats are coded',
    async () => {
      const addrs = () =>
        JSON.parse(ip('-n', POD, '-j', '-4', 'addr', 'show', 'dev', 'eth1'))[0].addr_info.map(
          (a: { local: string; prefixlen: number; broadcast?: string }) =>
            `${a.local}/${a.prefixlen} brd ${a.broadcast}`,
        );
      const routes = () => ip('-n', POD, '-4', 'route', 'show', 'dev', 'eth1');
      await settled(addrAdd(pod, 'eth1', '198.18.2.60', 23));
      assert.ok(addrs().includes('198.18.2.60/23 brd 198.18.3.255'), addrs().join(', '));
      assert.match(
        routes(),
        /^198\.18\.2\.0\/23 proto kernel scope link src 198\.18\.2\.60/m,
        'the kernel added the prefix route',
      );
      await assert.rejects(settled(addrAdd(pod, 'eth1', '198.18.2.60', 23)), (e) =>
        assertCoded(e, 'EEXIST', 'addrAdd', pod, 'eth1'),
      );
      await settled(routeAdd(pod, 'eth1', { dst: '198.18.9.0/24', gw: '198.18.2.1', metric: 5 }));
      assert.match(routes(), /^198\.18\.9\.0\/24 via 198\.18\.2\.1 metric 5/m, routes());
      await settled(routeDel(pod, 'eth1', { dst: '198.18.9.0/24', gw: '198.18.2.1', metric: 5 }));
      assert.doesNotMatch(routes(), /198\.18\.9\.0/);
      await assert.rejects(settled(routeDel(pod, 'eth1', { dst: '198.18.9.0/24', gw: '198.18.2.1', metric: 5 })), (e) =>
        assertCoded(e, 'ESRCH', 'routeDel', pod, 'eth1'),
      );
      await settled(addrDel(pod, 'eth1', '198.18.2.60', 23));
      assert.ok(!addrs().some((a: string) => a.startsWith('198.18.2.60/')));
      assert.doesNotMatch(routes(), /198\.18\.2\.0\/23/, 'the prefix route went with the address');
      await assert.rejects(settled(addrDel(pod, 'eth1', '198.18.2.60', 23)), (e) =>
        assertCoded(e, 'EADDRNOTAVAIL', 'addrDel', pod, 'eth1'),
      );
      const mtu = ipLink(POD, 'eth1').mtu;
      await settled(linkSetMtu(pod, 'eth1', 1400));
      assert.equal(ipLink(POD, 'eth1').mtu, 1400);
      await settled(linkSetMtu(pod, 'eth1', mtu));
      await assert.rejects(settled(addrAdd(pod, 'eth1', '198.18.2', 23)), (e) =>
        assertCoded(e, 'EINVAL', 'addrAdd', pod, 'eth1'),
      );
      await assert.rejects(settled(addrAdd(pod, 'eth1', '198.18.2.60', 33)), (e) =>
        assertCoded(e, 'EINVAL', 'addrAdd', pod, 'eth1'),
      );
      await assert.rejects(settled(linkSetMtu(pod, 'eth1', 20)), (e) =>
        assertCoded(e, 'EINVAL', 'linkSetMtu', pod, 'eth1'),
      );
    },
  );

  await t.test('every error path rejects with a named, coded error', async (t2) => {
    const dir = mkdtempSync(join(tmpdir(), 'tsn-'));
    t2.after(() => rmSync(dir, { recursive: true, force: true }));
    const regular = join(dir, 'not-a-netns');
    writeFileSync(regular, 'x');
    const ops: [string, (p: string, i: string) => Promise<unknown>][] = [
      ['linkInfo', (p, i) => linkInfo(p, i)],
      ['linkSetUp', (p, i) => linkSetUp(p, i, true)],
      ['openPacket', (p, i) => openPacket(p, i)],
      ['openUdp', (p, i) => openUdp(p, i, POD_IP)],
      ['openArp', (p, i) => openArp(p, i, POD_IP)],
      ['addrAdd', (p, i) => addrAdd(p, i, '198.18.2.61', 24)],
      ['addrDel', (p, i) => addrDel(p, i, '198.18.2.61', 24)],
      ['routeDel', (p, i) => routeDel(p, i, { dst: '198.18.9.0/24' })],
      ['linkSetMtu', (p, i) => linkSetMtu(p, i, 1400)],
    ];
    const cases: [string, string, string][] = [
      [nsPath('tsn-does-not-exist'), 'eth1', 'ENOENT'],
      [regular, 'eth1', 'ENOTNS'],
      ['/proc/self/ns/mnt', 'eth1', 'ENOTNS'],
      ['/proc/self/ns/uts', 'eth1', 'ENOTNS'],
      [pod, 'eth9', 'ENODEV'],
      [pod, 'a-name-too-long-for-linux', 'EINVAL'],
    ];
    for (const [op, call] of ops) {
      for (const [p, ifName, code] of cases) {
        await assert.rejects(
          settled(call(p, ifName)),
          (e) => assertCoded(e, code, op, p, ifName),
          `${op} ${p} ${ifName}`,
        );
      }
    }
    await assert.rejects(settled(openUdp(pod, 'eth1', '198.18.1')), (e) =>
      assertCoded(e, 'EINVAL', 'openUdp', pod, 'eth1'),
    );
    await assert.rejects(settled(openArp(pod, 'eth1', '198.18.1.300')), (e) =>
      assertCoded(e, 'EINVAL', 'openArp', pod, 'eth1'),
    );
    await assert.rejects(settled(openPacketChannel(regular, 'eth1', '0.0.0.0', () => {})), (e) =>
      assertCoded(e, 'ENOTNS', 'openPacket', regular, 'eth1'),
    );
    await assert.rejects(settled(openUdpChannel(pod, 'eth9', POD_IP, () => {})), (e) =>
      assertCoded(e, 'ENODEV', 'openUdp', pod, 'eth9'),
    );
    await assert.rejects(settled(ensureLinkUp(pod, 'eth9', 100)), (e) =>
      assertCoded(e, 'ENODEV', 'linkInfo', pod, 'eth9'),
    );

    // A link whose peer is down never runs: ensureLinkUp gives up at its deadline.
    ip('-n', LAN, 'link', 'set', 'lan0', 'down');
    t2.after(() => ip('-n', LAN, 'link', 'set', 'lan0', 'up'));
    await waitFor('eth1 to lose IFF_RUNNING', () => !ipLink(POD, 'eth1').flags.includes('LOWER_UP'));
    while ((await settled(linkInfo(pod, 'eth1'))).running) await sleep(10);
    const started = performance.now();
    await assert.rejects(settled(ensureLinkUp(pod, 'eth1', 150)), (e) =>
      assertCoded(e, 'ETIMEDOUT', 'ensureLinkUp', pod, 'eth1'),
    );
    assert.ok(performance.now() - started < 1000);
  });

  await t.test('isNetnsPath checks the file without entering it', async () => {
    const ino = Number(execFileSync('stat', ['-L', '-c', '%i', pod], { encoding: 'utf8' }));
    assert.deepEqual(await isNetnsPath(pod), { ok: true, inode: ino });
    assert.equal((await isNetnsPath('/etc/hostname')).ok, false);
    const missing = await isNetnsPath(nsPath('tsn-does-not-exist'));
    assert.ok(!missing.ok && /ENOENT/.test(missing.reason));
  });

  await t.test('no thread of this process ever left its netns', () => {
    const threads = assertThreadsHome();
    assert.ok(threads >= 5, `expected the main thread and the libuv workers, saw ${threads}`);
  });

  await t.test('fresh macvlans: ensureLinkUp wait, and the first send goes out', async () => {
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      // As the CNI plugin does: create on the master's side, move into the pod netns, where it arrives down.
      ip('-n', POD, 'link', 'add', 'mvtmp', 'link', 'eth1', 'type', 'macvlan', 'mode', 'bridge');
      ip('-n', POD, 'link', 'set', 'mvtmp', 'netns', MV);
      ip('-n', MV, 'link', 'set', 'mvtmp', 'name', 'eth1');
      const mv = nsPath(MV);
      assert.deepEqual(await settled(linkInfo(mv, 'eth1')).then(({ up, kind }) => ({ up, kind })), {
        up: false,
        kind: 'macvlan',
      });
      const ch = await settled(openPacketChannel(mv, 'eth1', '0.0.0.0', () => {}));
      const started = performance.now();
      const info = await settled(ensureLinkUp(mv, 'eth1', 3000));
      waits.push(performance.now() - started);
      assert.ok(info.running);
      ch.send(Buffer.from(`first send ${i}`), '255.255.255.255'); // no ENETDOWN, and it arrives
      assert.equal((await agent.waitHeard(`first send ${i}`)).from, '0.0.0.0');
      ch.close();
      ip('-n', MV, 'link', 'del', 'eth1');
    }
    t.diagnostic(`macvlan ensureLinkUp waits (ms): ${waits.map((w) => w.toFixed(1)).join(', ')}`);
  });

  await t.test('an open socket pins a deleted netns; after close() it is really gone', async () => {
    addVeth('gone0', GONE);
    const gone = nsPath(GONE);
    await settled(ensureLinkUp(gone, 'eth1', VETH_RUNNING_MS));
    const packet = await settled(openPacketChannel(gone, 'eth1', '0.0.0.0', () => {}));
    const udp = await settled(openUdpChannel(gone, 'eth1', '198.18.1.66', () => {}));
    ip('netns', 'del', GONE);
    await sleep(500);
    assert.ok(linkExists(LAN, 'gone0'), 'while a socket is open the namespace (and its veth) lives on');
    packet.close();
    udp.close();
    await waitFor('the veth peer to disappear', () => !linkExists(LAN, 'gone0'), 5000);
  });

  await t.test('a closed packet socket does not keep the event loop alive; an open one does', async () => {
    const netnsJs = require.resolve('../../daemon/transport/netns');
    const script = (close: boolean): string => `
      require(${JSON.stringify(netnsJs)}).openPacket(${JSON.stringify(pod)}, 'eth1').then((s) => {
        s.onMessage(() => {});
        ${close ? 's.close();' : ''}
      });`;
    const closed = spawnSync(process.execPath, ['-e', script(true)], { timeout: 5000 });
    assert.equal(closed.status, 0, String(closed.stderr));
    const open = spawnSync(process.execPath, ['-e', script(false)], { timeout: 700, killSignal: 'SIGKILL' });
    assert.equal(open.signal, 'SIGKILL', 'an open socket keeps the process running');
  });

  await t.test('a packet socket dropped without close() is closed when collected', () => {
    const netnsJs = require.resolve('../../daemon/transport/netns');
    const script = `
      const fds = () => require('node:fs').readdirSync('/proc/self/fd').length;
      const before = fds();
      require(${JSON.stringify(netnsJs)}).openPacket('/proc/self/ns/net', 'lo').then(() => {
        const opened = fds();
        gc();
        setTimeout(() => { gc(); setTimeout(() => console.log(JSON.stringify([before, opened, fds()])), 50); }, 50);
      });`;
    const child = spawnSync('ip', ['netns', 'exec', POD, process.execPath, '--expose-gc', '-e', script], {
      timeout: 5000,
      encoding: 'utf8',
    });
    const [before, opened, after] = JSON.parse(child.stdout) as number[];
    assert.equal(opened, before! + 1, child.stderr);
    assert.equal(after, before);
  });

  await t.test('a flood is read at most 32 packets per wakeup: other work runs in between', () => {
    // 60 datagrams (120 frames on lo, each seen going out and coming in) wait in the socket before delivery starts; a
    // setImmediate queued at the first one must run
    // after at most one wakeup's worth, not after the whole queue.
    const netnsJs = require.resolve('../../daemon/transport/netns');
    const script = `
      require(${JSON.stringify(netnsJs)}).openPacket('/proc/self/ns/net', 'lo').then(async (s) => {
        const udp = require('node:dgram').createSocket('udp4');
        for (let i = 0; i < 60; i++) await new Promise((r) => udp.send(Buffer.alloc(64), 68, '127.0.0.1', r));
        await new Promise((r) => setTimeout(r, 200));
        let delivered = 0, before = -1;
        s.onMessage(() => {
          if (delivered++ === 0) setImmediate(() => (before = delivered));
          if (delivered === 60) { process.stdout.write(String(before)); process.exit(0); }
        });
      });`;
    const child = spawnSync('ip', ['netns', 'exec', POD, process.execPath, '-e', script], { timeout: 10_000 });
    assert.equal(child.status, 0, String(child.stderr));
    const before = Number(String(child.stdout));
    assert.ok(before >= 1 && before <= 32, `${before} packets delivered before other work ran`);
  });

  await t.test('an exception thrown by the onMessage callback surfaces as uncaught, not silently', () => {
    // In the pod's own loopback: the child sends itself a UDP/68 datagram and its packet socket sees it.
    const netnsJs = require.resolve('../../daemon/transport/netns');
    const script = `
      require(${JSON.stringify(netnsJs)}).openPacket('/proc/self/ns/net', 'lo').then((s) => {
        s.onMessage(() => { throw new Error('thrown from onMessage'); });
        require('node:dgram').createSocket('udp4').send(Buffer.alloc(64), 68, '127.0.0.1'); // chaddr 0s: lo's MAC
      });`;
    const child = spawnSync('ip', ['netns', 'exec', POD, process.execPath, '-e', script], { timeout: 5000 });
    assert.equal(child.status, 1);
    assert.match(String(child.stderr), /thrown from onMessage/);
  });
});
