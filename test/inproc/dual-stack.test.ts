// ipam.ipv6 in process: CNI invocations (daemon/cni/plugin.ts runCni) served by the registry over the fake pod-side
// port, with a DHCPv4 and a DHCPv6 server played through its channels. ADD answers with both families in every
// cniVersion that has `ips`, DEL releases both, CHECK checks both; IPv6-only; no DHCPv6 server; a DAD failure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCni } from '../../daemon/cni/plugin';
import { messageType } from '../../daemon/dhcp/options';
import { MessageType } from '../../daemon/dhcp/types';
import { emptyRaView, noteRa } from '../../daemon/dhcp6/ra';
import { ip6ToBytes } from '../../daemon/dhcp6/ip6';
import { MsgType, Opt6 } from '../../daemon/dhcp6/types';
import { defaultOptions } from '../../daemon/flags';
import { createLogger } from '../../daemon/log';
import { Registry } from '../../daemon/registry';
import { cniAnswer, cniInvocation } from '../helpers/cni-invocation';
import { FakeLinkState, FakePort, answering } from '../helpers/fake-port';
import { DNS6, answering6 } from '../helpers/server6';

const NETNS = '/run/netns/pod1';
const V4 = '198.19.60.21';
const PREFIX = 'fd00:198:18:16::';
const log = createLogger('silent');
const hooks = { onBug: (err: unknown) => assert.fail(String(err)) };

function setup(t: { after(fn: () => unknown): void }, o: { ra?: boolean } = {}) {
  const events6: string[] = [];
  const metrics = { event: () => {}, event6: (e: { kind: string }) => void events6.push(e.kind) };
  const port = new FakePort();
  const link = port.addPod(NETNS, 'eth1');
  if (o.ra !== false)
    noteRa(link.ra, { managed: true, other: false, routerLifetimeS: 0, onLink: [{ prefix: PREFIX, length: 64 }] });
  port.answer = answering(V4);
  let n = 0x100;
  port.answer6 = answering6(() => `${PREFIX}${(n++).toString(16)}`);
  const opts = { ...defaultOptions(), addTimeoutMs: 3000 };
  const reg = new Registry({ opts, port, log, now: () => Date.now(), metrics });
  t.after(() => reg.shutdown(false));
  const cni = async (command: string, cniVersion: string, ipam: object = {}, top: object = {}, id = 'c1') =>
    cniAnswer(
      await runCni(
        cniInvocation(
          { CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: NETNS, CNI_IFNAME: 'eth1' },
          {
            cniVersion,
            name: 'lan',
            type: 'macvlan',
            ...top,
            ipam: { type: 'ts-dhcp', conflictDetection: 'off', announce: false, ipv6: true, ...ipam },
          },
        ),
        reg,
        hooks,
      ),
    );
  return { port, link, reg, cni, events6 };
}

async function waitUntil(done: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) assert.fail('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What the main plugin does with ADD's result: every address onto the interface. */
function configure(link: FakeLinkState, ips: { address: string }[]): void {
  for (const ip of ips) {
    const [address, len] = ip.address.split('/') as [string, string];
    if (address.includes(':'))
      link.addresses6.push({
        address,
        prefixLength: +len,
        linkLocal: false,
        tentative: false,
        optimistic: false,
        dadFailed: false,
      });
    else link.addresses.push({ address, prefixLength: +len });
  }
}

test('dual-stack ADD, every cniVersion with ips: both families, the RA prefix, DNS merged; DEL releases both', async (t) => {
  const { port, cni } = setup(t);
  for (const [i, v] of ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'].entries()) {
    const id = `c${i}`;
    const add = await cni('ADD', v, {}, {}, id);
    assert.equal(add.exitCode, 0, JSON.stringify(add.json));
    const ips = add.json?.ips as { address: string; version?: string; gateway?: string }[];
    assert.equal(ips.length, 2);
    assert.equal(ips[0]?.address, `${V4}/22`);
    assert.match(ips[1]?.address ?? '', new RegExp(`^${PREFIX}[0-9a-f]+/64$`));
    assert.equal(ips[1]?.gateway, undefined);
    if (v.startsWith('0.'))
      assert.deepEqual(
        ips.map((ip) => ip.version),
        ['4', '6'],
      );
    else assert.ok(ips.every((ip) => ip.version === undefined));
    assert.deepEqual((add.json?.dns as { nameservers?: string[] } | undefined)?.nameservers, [DNS6]);
    const from = port.sent6.length;
    assert.equal((await cni('DEL', v, {}, {}, id)).exitCode, 0);
    const release = await port.nextSent6((s) => s.msg.type === MsgType.RELEASE, from);
    assert.equal(release.dstIp, 'ff02::1:2');
    await port.nextSent((s) => messageType(s.msg) === MessageType.RELEASE);
  }
  assert.equal(port.openSockets, 0, 'no socket left once every lease is released');
});

test('ipam.ipv6 with cniVersion 0.1.0/0.2.0: code 1 naming the version, nothing sent', async (t) => {
  const { port, cni } = setup(t);
  for (const v of ['0.1.0', '0.2.0']) {
    const add = await cni('ADD', v);
    assert.equal(add.json?.code, 1);
    assert.match(String(add.json?.msg), new RegExp(`cniVersion ${v} cannot carry an IPv6 address.*0\\.3\\.0 or later`));
  }
  assert.equal(port.sent.length + port.sent6.length, 0);
});

test('IPv6-only (ipv4 false): one IPv6 entry, no DHCPv4 at all; CHECK reads the interface; DEL releases', async (t) => {
  const { port, link, cni, events6 } = setup(t);
  const add = await cni('ADD', '1.1.0', { ipv4: false });
  assert.equal(add.exitCode, 0, JSON.stringify(add.json));
  assert.deepEqual(events6, ['bound'], 'the metrics count the v6 events');
  const ips = add.json?.ips as { address: string }[];
  assert.equal(ips.length, 1);
  assert.ok(ips[0]?.address.startsWith(PREFIX));
  assert.equal(port.sent.length, 0, 'no DHCPv4 message');
  const prevResult = add.json;
  const missing = await cni('CHECK', '1.1.0', { ipv4: false }, { prevResult });
  assert.equal(missing.json?.code, 101);
  assert.match(String(missing.json?.msg), /is not configured on eth1 in \/run\/netns\/pod1 \(it has no IPv6 address\)/);
  configure(link, ips);
  assert.equal((await cni('CHECK', '1.1.0', { ipv4: false }, { prevResult })).exitCode, 0);
  const other = { ...prevResult, ips: [{ address: `${PREFIX}99/64` }] };
  assert.match(
    String((await cni('CHECK', '1.1.0', { ipv4: false }, { prevResult: other })).json?.msg),
    /the lease has/,
  );
  assert.equal((await cni('DEL', '1.1.0', { ipv4: false })).exitCode, 0);
  assert.ok(port.sent6.some((s) => s.msg.type === MsgType.RELEASE));
});

test('without a router advertisement the IPv6 entry is a /128', async (t) => {
  const { cni } = setup(t, { ra: false });
  const add = await cni('ADD', '1.0.0');
  assert.match((add.json?.ips as { address: string }[])[1]?.address ?? '', /\/128$/);
});

test('no DHCPv6 server: code 11 within the deadline, saying what was sent and what the RAs said', async (t) => {
  const { port, link, cni } = setup(t);
  port.answer6 = undefined;
  link.ra = emptyRaView();
  noteRa(link.ra, { managed: false, other: false, routerLifetimeS: 1800, onLink: [] });
  const t0 = performance.now();
  const add = await cni('ADD', '1.1.0', { timeout: 1500 });
  assert.ok(performance.now() - t0 < 2500);
  assert.equal(add.json?.code, 11);
  assert.match(
    String(add.json?.msg),
    /no lease within 1\.5s: \d+ SOLICITs? on eth1 in \/run\/netns\/pod1, no ADVERTISE/,
  );
  assert.match(
    String(add.json?.msg),
    /1 router advertisement\(s\) seen, M=0 O=0: no DHCPv6 on this link \(SLAAC only\)/,
  );
});

test('DAD failure of the leased address: DECLINE, a new SOLICIT, and the new address on the interface', async (t) => {
  const { port, link, cni } = setup(t);
  const add = await cni('ADD', '1.1.0', { ipv4: false });
  const first = (add.json?.ips as { address: string }[])[0]?.address.split('/')[0] as string;
  // The plugin's address: the kernel's DAD finds a duplicate.
  link.addresses6.push({
    address: first,
    prefixLength: 64,
    linkLocal: false,
    tentative: true,
    optimistic: false,
    dadFailed: true,
  });
  const decline = await port.nextSent6((s) => s.msg.type === MsgType.DECLINE);
  assert.ok(decline.msg.options.some((o) => o.code === Opt6.IA_NA && o.data.includes(ip6ToBytes(first))));
  await port.nextSent6((s) => s.msg.type === MsgType.SOLICIT, port.sent6.indexOf(decline));
  await waitUntil(() => link.addresses6.some((a) => a.address !== first && !a.linkLocal));
  const now = link.addresses6.filter((a) => !a.linkLocal);
  assert.equal(now.length, 1, JSON.stringify(now));
  assert.notEqual(now[0]?.address, first, 'the duplicate came off');
  assert.equal(now[0]?.optimistic, true, 'the daemon adds it optimistic');
});

test('RENEW to a UNICAST address the pod has no route to goes to ff02::1:2, and renews', async (t) => {
  const { port, cni } = setup(t);
  const unicast = `${PREFIX}1`;
  port.unreachable6.add(unicast);
  port.answer6 = answering6(() => `${PREFIX}200`, {
    t1S: 1,
    t2S: 100,
    preferredS: 200,
    validS: 300,
    unicast,
  });
  const add = await cni('ADD', '1.1.0', { ipv4: false });
  assert.equal(add.exitCode, 0, JSON.stringify(add.json));
  const renew = await port.nextSent6((s) => s.msg.type === MsgType.RENEW, 0, 3000);
  assert.equal(renew.dstIp, 'ff02::1:2');
  // Answered there: the next T1 brings a new exchange (a retransmission would keep the xid).
  const next = await port.nextSent6((s) => s.msg.type === MsgType.RENEW, port.sent6.indexOf(renew) + 1, 3000);
  assert.notEqual(next.msg.xid, renew.msg.xid);
});

test('DEL after the netns is gone: the DHCPv6 lease is dropped and RELEASEd from the node', async (t) => {
  const { port, cni } = setup(t);
  const add = await cni('ADD', '1.1.0', { ipv4: false }, { master: 'eno1' });
  assert.equal(add.exitCode, 0, JSON.stringify(add.json));
  port.removeNetns(NETNS);
  assert.equal((await cni('DEL', '1.1.0', { ipv4: false }, { master: 'eno1' })).exitCode, 0);
  const sent = port.hostSent6.find((s) => s.msg.type === MsgType.RELEASE);
  assert.deepEqual(sent && { dstIp: sent.dstIp, hostLink: sent.hostLink }, { dstIp: 'ff02::1:2', hostLink: 'eno1' });
  assert.equal(port.openSockets, 0);
});

test('an IPv6-only attachment whose netns vanishes without DEL is dropped, its lease RELEASEd from the node', async (t) => {
  const { port, reg, cni } = setup(t);
  reg.startVanishCheck(60_000);
  assert.equal((await cni('ADD', '1.1.0', { ipv4: false })).exitCode, 0);
  port.removeNetns(NETNS);
  await waitUntil(() => port.hostSent6.some((s) => s.msg.type === MsgType.RELEASE));
  assert.equal(port.openSockets, 0);
  assert.equal((await cni('DEL', '1.1.0', { ipv4: false })).exitCode, 0, 'DEL of a dropped attachment succeeds');
});

test('a repeated ADD answers with the families its config asks for now: one missing is started, one no longer asked for withdrawn', async (t) => {
  const { port, link, reg, cni } = setup(t);
  const discovers = () => port.sent.filter((s) => messageType(s.msg) === MessageType.DISCOVER).length;
  const add4 = await cni('ADD', '1.1.0', { ipv6: false });
  assert.deepEqual(
    (add4.json?.ips as { address: string }[]).map((ip) => ip.address),
    [`${V4}/22`],
  );
  configure(link, add4.json?.ips as { address: string }[]);

  const both = await cni('ADD', '1.1.0');
  assert.equal(both.exitCode, 0, JSON.stringify(both.json));
  const ips = both.json?.ips as { address: string }[];
  assert.equal(ips[0]?.address, `${V4}/22`, 'the IPv4 lease joined');
  assert.ok(ips[1]?.address.startsWith(PREFIX), 'the IPv6 lease started');
  assert.equal(discovers(), 1, 'no second DHCPv4 acquisition');
  configure(link, ips.slice(1));
  const v6 = ips[1]?.address.split('/')[0];

  const only6 = await cni('ADD', '1.1.0', { ipv4: false });
  assert.deepEqual(
    (only6.json?.ips as { address: string }[]).map((ip) => ip.address),
    [ips[1]?.address],
  );
  await port.nextSent((s) => messageType(s.msg) === MessageType.RELEASE);
  assert.deepEqual(link.addresses, [], 'the withdrawn IPv4 address is off the interface');
  assert.deepEqual(
    reg.queries.list().map((r) => r.family),
    ['ipv6'],
  );

  const only4 = await cni('ADD', '1.1.0', { ipv6: false });
  assert.deepEqual(
    (only4.json?.ips as { address: string }[]).map((ip) => ip.address),
    [`${V4}/22`],
  );
  assert.equal(discovers(), 2, 'a new DHCPv4 acquisition');
  await port.nextSent6((s) => s.msg.type === MsgType.RELEASE);
  assert.ok(!link.addresses6.some((a) => a.address === v6), 'the withdrawn IPv6 address is off the interface');
  assert.deepEqual(
    reg.queries.list().map((r) => r.family),
    ['ipv4'],
  );
});
