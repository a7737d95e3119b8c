// The registry in process, over the fake pod-side port: ADD join, DEL cancelling a pending ADD (and the fast retry),
// CHECK, GC, restore from records, and a vanished netns. The test plays the DHCP server through the port's channels;
// the registry's clock is a fake one, so no protocol timer fires unless the test moves it.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { Attachment, attachmentKey } from '../../common/rpc';
import { AddParams } from '../../daemon/registry-api';
import { DaemonError, DaemonErrorKind } from '../../daemon/errors';
import { messageType, requestedIp, serverId } from '../../daemon/dhcp/options';
import { DhcpMessage, MessageType } from '../../daemon/dhcp/types';
import { defaultOptions } from '../../daemon/flags';
import { createLogger } from '../../daemon/log';
import { Registry } from '../../daemon/registry';
import { LeaseStore } from '../../daemon/store';
import { FakePort, SERVER, Sent, serverReply } from '../helpers/fake-port';

const DIR = '/run/netns';
const POD = { c1: `${DIR}/pod1`, c2: `${DIR}/pod2`, c3: `${DIR}/pod3` };
const ADDRESS: Record<string, string> = {
  [POD.c1]: '198.19.60.21',
  [POD.c2]: '198.19.60.22',
  [POD.c3]: '198.19.60.23',
};
const START_MS = Date.UTC(2026, 0, 1);
const log = createLogger((process.env.TEST_LOG as 'debug' | undefined) ?? 'silent');

interface Setup {
  port: FakePort;
  reg: Registry;
  clock: { ms: number };
  stateDir: string;
  store: LeaseStore;
  /** Another registry over the same port and state directory: the daemon after a restart. */
  restart(): Promise<Registry>;
}

async function setup(t: { after(fn: () => unknown): void }): Promise<Setup> {
  const port = new FakePort();
  for (const [i, netns] of Object.values(POD).entries())
    port.addPod(netns, 'eth1', { mac: `02:00:00:00:00:0${i + 1}` });
  const clock = { ms: START_MS };
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-dhcp-registry-'));
  t.after(() => fs.rmSync(stateDir, { recursive: true, force: true }));
  const registry = async (): Promise<{ reg: Registry; store: LeaseStore }> => {
    const store = new LeaseStore(stateDir, log, { now: Date.now });
    await store.init();
    // Retransmissions a minute apart: within a test only the replies the test gives move a lease.
    const opts = { ...defaultOptions(), stateDir, addTimeoutMs: 5000, retransmitMs: 60_000 };
    const reg = new Registry({ opts, port, log, now: () => clock.ms, store });
    t.after(() => reg.shutdown(false));
    return { reg, store };
  };
  const { reg, store } = await registry();
  return { port, reg, clock, stateDir, store, restart: async () => (await registry()).reg };
}

function params(containerId: keyof typeof POD, network = 'lan'): AddParams {
  // No ARP probing or announcements: they wait on timers, and the fake clock does not move by itself.
  return {
    containerId,
    network,
    ifName: 'eth1',
    netns: POD[containerId],
    args: {},
    paramRequestList: [1, 3, 51],
    provide: [],
    conflictDetection: 'off',
    announce: false,
  };
}

const attachment = (containerId: keyof typeof POD, network = 'lan'): Attachment => ({
  containerId,
  network,
  ifName: 'eth1',
});
const isType = (type: number) => (s: Sent) => messageType(s.msg) === type;
const NAMES = new Map<number, string>(Object.entries(MessageType).map(([name, code]) => [code, name]));
const types = (sent: Sent[]) => sent.map((s) => NAMES.get(messageType(s.msg) ?? 0));

/** The server: OFFERs and ACKs each pod its own address. */
function answering(s: Sent): DhcpMessage | undefined {
  const type = messageType(s.msg);
  const address = ADDRESS[s.netns] ?? '0.0.0.0';
  if (type === MessageType.DISCOVER) return serverReply(s.msg, MessageType.OFFER, address);
  if (type === MessageType.REQUEST) return serverReply(s.msg, MessageType.ACK, address);
  return undefined;
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function daemonError(kind: DaemonErrorKind, message: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof DaemonError, String(err));
    assert.equal(err.kind, kind, err.message);
    assert.match(err.message, message);
    return true;
  };
}

test('two ADDs of one attachment share one acquisition; a third, once bound, is answered without a send', async (t) => {
  const { port, reg, store } = await setup(t);
  const first = reg.add(params('c1'));
  const second = reg.add(params('c1'));
  const discover = await port.nextSent(isType(MessageType.DISCOVER));
  port.reply(POD.c1, 'eth1', serverReply(discover.msg, MessageType.OFFER, ADDRESS[POD.c1] as string));
  const request = await port.nextSent(isType(MessageType.REQUEST));
  assert.equal(requestedIp(request.msg), ADDRESS[POD.c1]);
  port.reply(POD.c1, 'eth1', serverReply(request.msg, MessageType.ACK, ADDRESS[POD.c1] as string));
  const [a, b] = await Promise.all([first, second]);
  assert.equal(a.facts?.address, ADDRESS[POD.c1]);
  assert.deepEqual(b, a);
  assert.deepEqual(types(port.sent), ['DISCOVER', 'REQUEST'], 'one DISCOVER, one REQUEST for both ADDs');
  assert.equal(port.link(POD.c1, 'eth1')?.up, true, 'the link was brought up before the first send');
  const third = await reg.add(params('c1'));
  assert.deepEqual(third, a);
  assert.equal(port.sent.length, 2);
  assert.equal(port.openSockets, 0, 'a bound lease holds no socket in the pod netns');
  const records = await store.load();
  assert.deepEqual(
    records.map((r) => [attachmentKey(r.record.params), r.record.state.state]),
    [['c1/lan/eth1', 'BOUND']],
  );
});

test('DEL cancels a pending ADD (code 11, no socket left); the retried ADD REQUESTs the offered address at once', async (t) => {
  const { port, reg } = await setup(t);
  const add = reg.add(params('c1'));
  const discover = await port.nextSent(isType(MessageType.DISCOVER));
  port.reply(POD.c1, 'eth1', serverReply(discover.msg, MessageType.OFFER, ADDRESS[POD.c1] as string));
  await port.nextSent(isType(MessageType.REQUEST));
  assert.deepEqual(await reg.del(attachment('c1')), { released: true });
  await assert.rejects(add, daemonError('cancelled', /cancelled/));
  assert.deepEqual(reg.queries.list(), []);
  assert.equal(port.openSockets, 0);
  assert.ok(!port.sent.some(isType(MessageType.RELEASE)), 'nothing was bound, so nothing is released');

  const from = port.sent.length;
  const retry = reg.add(params('c1'));
  const request = await port.nextSent(isType(MessageType.REQUEST), from);
  assert.deepEqual(types(port.sent.slice(from)), ['REQUEST'], 'no DISCOVER: straight to the offer');
  assert.equal(requestedIp(request.msg), ADDRESS[POD.c1]);
  assert.equal(serverId(request.msg), SERVER);
  port.reply(POD.c1, 'eth1', serverReply(request.msg, MessageType.ACK, ADDRESS[POD.c1] as string));
  assert.equal((await retry).facts?.address, ADDRESS[POD.c1]);
});

test('CHECK reads the lease and the interface, opens and sends nothing, and says what does not match', async (t) => {
  const { port, reg, clock } = await setup(t);
  port.answer = answering;
  await reg.add(params('c1'));
  // The main plugin configured the address from ADD's result.
  port.link(POD.c1, 'eth1')?.addresses.push({ address: ADDRESS[POD.c1] as string, prefixLength: 22 });
  const sent = port.sent.length;
  const check = await reg.check({ ...attachment('c1'), netns: POD.c1 });
  assert.equal(check.state, 'BOUND');
  assert.equal(check.facts?.address, ADDRESS[POD.c1]);
  assert.deepEqual(check.interfaceAddresses, [{ address: ADDRESS[POD.c1], prefixLength: 22 }]);
  assert.equal(check.expiresAt, new Date(START_MS + 3600_000).toISOString());
  assert.equal(port.sent.length, sent);
  assert.equal(port.openSockets, 0);

  await assert.rejects(
    reg.check({ ...attachment('c2'), netns: POD.c2 }),
    daemonError('no-lease', /no lease for c2\/lan\/eth1/),
  );
  await assert.rejects(
    reg.check({ ...attachment('c1'), netns: POD.c2 }),
    daemonError('mismatch', /was taken in \/run\/netns\/pod1/),
  );
  clock.ms = START_MS + 3600_000;
  await assert.rejects(
    reg.check({ ...attachment('c1'), netns: POD.c1 }),
    daemonError('mismatch', /expired at 2026-01-01T01:00:00/),
  );
  clock.ms = START_MS;
  // The path now names another namespace (the pod was re-created under the same name).
  port.removeNetns(POD.c1);
  port.addPod(POD.c1, 'eth1');
  await assert.rejects(
    reg.check({ ...attachment('c1'), netns: POD.c1 }),
    daemonError('mismatch', /names another namespace than at ADD/),
  );
});

test('GC releases the leases of its network that are not valid, and only those', async (t) => {
  const { port, reg, store } = await setup(t);
  port.answer = answering;
  await reg.add(params('c1'));
  await reg.add(params('c2'));
  await reg.add(params('c3', 'other'));
  const from = port.sent.length;
  const result = await reg.gc({ network: 'lan', validAttachments: [{ containerId: 'c1', ifName: 'eth1' }] });
  assert.deepEqual(result, { released: [attachment('c2')], errors: [] });
  assert.deepEqual(
    reg.queries
      .list()
      .map((v) => `${v.containerId}/${v.network}`)
      .sort(),
    ['c1/lan', 'c3/other'],
  );
  const releases = port.sent.slice(from);
  assert.deepEqual(types(releases), ['RELEASE']);
  assert.equal(releases[0]?.netns, POD.c2);
  assert.equal(releases[0]?.msg.ciaddr, ADDRESS[POD.c2]);
  assert.equal(releases[0]?.dstIp, SERVER, 'unicast to the server that granted it');
  assert.deepEqual((await store.load()).map((r) => r.record.params.containerId).sort(), ['c1', 'c3']);
});

test('restore: a live attachment is back at once and RENEWed after the spread; a dead one is released from the host', async (t) => {
  const { port, reg, restart, stateDir } = await setup(t);
  port.answer = answering;
  await reg.add(params('c1'));
  await reg.add(params('c2'));
  port.link(POD.c1, 'eth1')?.addresses.push({ address: ADDRESS[POD.c1] as string, prefixLength: 22 });
  const granted = reg.queries.detail(attachment('c1')).facts;
  assert.ok(granted);
  await reg.shutdown(false); // the daemon stops: nothing released, the records stay
  port.removeNetns(POD.c2); // c2's pod went while the daemon was down
  const from = port.sent.length;

  const again = await restart();
  await again.restore(await new LeaseStore(stateDir, log, { now: Date.now }).load());
  assert.deepEqual(
    again.queries.list().map((v) => [v.containerId, v.state, v.address]),
    [['c1', 'BOUND', ADDRESS[POD.c1]]],
  );
  assert.deepEqual(again.queries.detail(attachment('c1')).facts, granted, "the facts of the record's ACK");

  const host = await port.nextSent((s) => s.via === 'host', from);
  assert.equal(messageType(host.msg), MessageType.RELEASE);
  assert.equal(host.msg.ciaddr, ADDRESS[POD.c2]);
  assert.equal(host.dstIp, SERVER);

  // T1 moved to now: the re-verification is a RENEW from ciaddr, unicast to the server.
  const renew = await port.nextSent((s) => s.via === 'udp' && isType(MessageType.REQUEST)(s), from);
  assert.equal(renew.msg.ciaddr, ADDRESS[POD.c1]);
  assert.equal(renew.dstIp, SERVER);
  await waitFor('the renewal', () =>
    again.queries.detail(attachment('c1')).transitions.some((x) => x.from === 'RENEWING' && x.to === 'BOUND'),
  );
  assert.deepEqual(
    port.link(POD.c1, 'eth1')?.addresses,
    [{ address: ADDRESS[POD.c1], prefixLength: 22 }],
    'the address stays',
  );
  assert.ok(!port.sent.slice(from).some((s) => s.netns === POD.c2), 'nothing entered the dead pod');
});

test('the sweep drops a lease only when its netns file is gone: a stat failing otherwise (EACCES) keeps it', async (t) => {
  const { port, reg } = await setup(t);
  port.answer = answering;
  await reg.add(params('c1'));
  await reg.add(params('c2'));
  port.statFailures.set(POD.c1, 'EACCES');
  reg.startVanishCheck(20);
  await waitFor('three sweeps', () => port.statted.filter((p) => p === POD.c1).length >= 3);
  assert.deepEqual(
    reg.queries.list().map((v) => v.containerId),
    ['c1', 'c2'],
  );
  port.statFailures.set(POD.c1, 'ENOENT');
  await waitFor('the lease to leave the table', () => reg.queries.list().length === 1);
  assert.deepEqual(
    reg.queries.list().map((v) => v.containerId),
    ['c2'],
  );
});

test('a netns that vanishes without DEL: the lease is dropped (only its file is looked at) and released from the host; DEL later finds nothing', async (t) => {
  const { port, reg, store } = await setup(t);
  port.answer = answering;
  await reg.add(params('c1'));
  await reg.add(params('c2'));
  reg.startVanishCheck(3_600_000); // the sweep never comes in this test: the watch alone must notice
  assert.deepEqual(port.watchedDirs, [DIR]);
  const from = port.sent.length;
  port.removeNetns(POD.c1);
  const host = await port.nextSent((s) => s.via === 'host', from);
  assert.equal(messageType(host.msg), MessageType.RELEASE);
  assert.equal(host.msg.ciaddr, ADDRESS[POD.c1]);
  assert.equal(host.dstIp, SERVER);
  await waitFor('the lease to leave the table', () => reg.queries.list().length === 1);
  assert.deepEqual(
    reg.queries.list().map((v) => v.containerId),
    ['c2'],
  );
  assert.deepEqual(port.statted, [POD.c1], 'the change named its file: no other lease is looked at');
  assert.ok(!port.sent.slice(from).some((s) => s.netns === POD.c1), 'nothing is sent from the vanished pod side');
  assert.deepEqual(
    (await store.load()).map((r) => r.record.params.containerId),
    ['c2'],
  );
  assert.deepEqual(await reg.del(attachment('c1')), { released: false });

  // The netns gone before DEL, unnoticed (no watch on its directory): DEL drops the lease and the host releases it.
  await reg.shutdown(false);
  const { port: port2, reg: reg2 } = await setup(t);
  port2.answer = answering;
  await reg2.add(params('c2'));
  port2.removeNetns(POD.c2);
  const from2 = port2.sent.length;
  assert.deepEqual(await reg2.del(attachment('c2')), { released: false, dropped: true });
  assert.deepEqual(types(port2.sent.slice(from2)), ['RELEASE']);
  assert.equal(port2.sent[from2]?.via, 'host');
  assert.deepEqual(reg2.queries.list(), []);
});
