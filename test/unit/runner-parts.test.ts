// The pieces a lease runner is built from that need no sockets: history and progress, ADD waiters, record writes,
// retry hints, the DHCPv6 lease's address on the link. A fake clock where time matters.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LeaseHistory } from '../../daemon/lease-history';
import { IaAddressDeps, IaAddressOnLink } from '../../daemon/lease6-address';
import type { LeaseRunner } from '../../daemon/lease-runner';
import { LeaseTable } from '../../daemon/lease-table';
import { Waiters } from '../../daemon/lease-waiters';
import { createLogger } from '../../daemon/log';
import { RecordWriter, RecordWriterDeps } from '../../daemon/record-writer';
import { AcquisitionHints } from '../../daemon/retry-hints';
import type { LeaseState } from '../../daemon/dhcp/lease';
import { coded } from '../helpers/fake-port';

const NAMES = { offer: 'OFFER', refusal: 'NAK', grant: 'ACK' };

test('progress says what the acquisition sent and heard, and the last error; a grant clears it', () => {
  const h = new LeaseHistory(() => 0, 'on eth1 in /run/netns/p', NAMES);
  assert.equal(h.progress(), 'nothing sent on eth1 in /run/netns/p, no OFFER');
  h.sentOne('DISCOVER');
  h.sentOne('DISCOVER');
  h.sentOne('DISCOVER');
  assert.equal(h.progress(), '3 DISCOVERs on eth1 in /run/netns/p, no OFFER');
  h.offered();
  h.sentOne('REQUEST');
  h.refused();
  h.lastError = 'connect ENETUNREACH';
  assert.equal(
    h.progress(),
    '3 DISCOVERs, 1 REQUEST on eth1 in /run/netns/p, 1 OFFER, 1 NAK, no ACK (last error: connect ENETUNREACH)',
  );
  h.granted();
  assert.equal(h.progress(), 'nothing sent on eth1 in /run/netns/p, no OFFER');
  assert.equal(h.lastError, undefined);
});

test('transitions are stamped by the injected clock and capped at the 16 most recent', () => {
  let now = Date.UTC(2030, 0, 1);
  const h = new LeaseHistory(() => now, 'on eth1 in x', NAMES);
  for (let i = 0; i < 20; i++) {
    h.transition(`S${i}`, `S${i + 1}`, 'why');
    now += 1000;
  }
  assert.equal(h.transitions.length, 16);
  assert.deepEqual(h.transitions[0], {
    at: new Date(Date.UTC(2030, 0, 1, 0, 0, 4)).toISOString(),
    from: 'S4',
    to: 'S5',
    why: 'why',
  });
  assert.equal(h.ignoredOne('xid'), 1);
  assert.equal(h.ignoredOne('xid'), 2);
  assert.deepEqual(h.ignored, { xid: 2 });
});

test('exchange timing: from the first step of an exchange to its grant; an expiry starts it anew', () => {
  let now = 1000;
  const h = new LeaseHistory(() => now, 'x', NAMES);
  assert.equal(h.exchangeEnded(), undefined, 'nothing timed');
  h.exchangeBegins();
  now += 300;
  h.exchangeBegins();
  now += 200;
  assert.equal(h.exchangeEnded(), 500, 'a second begin does not restart the clock');
  h.exchangeBegins();
  now += 100;
  h.exchangeBegins(true);
  now += 50;
  assert.equal(h.exchangeEnded(), 50);
});

test('waiters: each resolves with the value, or rejects with its own timeout error built when it fires', async () => {
  const w = new Waiters<string>();
  const a = w.wait(10_000, () => new Error('never'));
  const b = w.wait(10_000, () => new Error('never'));
  w.resolve('bound');
  assert.deepEqual(await Promise.all([a, b]), ['bound', 'bound']);
  let built = 0;
  const late = w.wait(20, () => new Error(`timed out (${++built})`));
  await assert.rejects(late, /timed out \(1\)/);
  w.resolve('after');
  assert.equal(built, 1, 'a timed-out waiter is gone');
  const c = w.wait(10_000, () => new Error('never'));
  w.reject(new Error('released'));
  await assert.rejects(c, /released/);
});

function writer(
  write: () => Promise<void>,
  onDisk = false,
  released = false,
): { rw: RecordWriter; queued: (() => Promise<void>)[]; failed: number[] } {
  const queued: (() => Promise<void>)[] = [];
  const failed: number[] = [];
  const deps: RecordWriterDeps = {
    write,
    log: createLogger('silent'),
    failed: () => failed.push(1),
    serialise: (work) => queued.push(work),
    active: () => true,
    released: () => released,
  };
  return { rw: new RecordWriter(deps, onDisk), queued, failed };
}

const enospc = async (): Promise<void> => {
  throw new Error('ENOSPC: no space left on device');
};

test('record writer: the first write failing is fatal (false); once a record is on disk a failure is retried instead', async (t) => {
  const first = writer(enospc);
  assert.equal(await first.rw.write(), false);
  assert.match(first.rw.error ?? '', /ENOSPC/);
  assert.equal(first.failed.length, 1);
  const removal = writer(enospc, false, true);
  assert.equal(await removal.rw.write(), true, "a released lease's removal failing ends nothing");
  removal.rw.stop();

  let failing = true;
  const taken = writer(async () => (failing ? enospc() : undefined), true);
  t.after(() => taken.rw.stop());
  assert.equal(await taken.rw.write(), true, 'a taken-over lease keeps its record');
  assert.equal(taken.queued.length, 0);
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal(taken.queued.length, 1, 'retried about a second later, in order with the lease');
  failing = false;
  await taken.queued[0]?.();
  assert.equal(taken.rw.error, undefined);
  assert.equal(taken.rw.onDisk, true);
});

test('retry hints: the offer requested until a NAK or an ACK settles it; the acked address unless NAKed', () => {
  const hints = new AcquisitionHints();
  const tx = { xid: 1, startedAtMs: 0, firstSentAtMs: 0, sends: 1, retransmitAtMs: 0 };
  const requesting: LeaseState = { state: 'REQUESTING', tx, offer: { address: '198.18.0.20', serverId: '198.18.0.1' } };
  const selecting: LeaseState = { state: 'SELECTING', tx };
  assert.equal(hints.hint(selecting, undefined), undefined);
  assert.deepEqual(hints.hint(selecting, '198.18.0.9'), { address: '198.18.0.9' });
  hints.onState(requesting);
  assert.deepEqual(
    hints.hint(selecting, '198.18.0.9'),
    { address: '198.18.0.20', serverId: '198.18.0.1' },
    'back in SELECTING after a lost REQUEST',
  );
  hints.onEvent({ kind: 'nak', in: 'REQUESTING' });
  assert.equal(hints.hint(selecting, '198.18.0.9'), undefined, 'a NAK withdraws both');
  assert.deepEqual(hints.hint({ state: 'REBOOTING', tx, requestedIp: '198.18.0.9' }, undefined), {
    address: '198.18.0.9',
  });
  assert.equal(hints.hint({ state: 'INIT' }, '198.18.0.9'), undefined);
});

test('LeaseTable: the leases of one netns path, kept right through replacement and deletion', () => {
  const table = new LeaseTable();
  const runner = (path: string, inode: number) => {
    const r = { params: { ifName: 'eth1' }, active: true } as unknown as LeaseRunner;
    table.setNetns(r, { path, dev: 1, inode });
    return r;
  };
  const a = runner('/run/netns/a', 1);
  const b = runner('/run/netns/b', 2);
  table.set('a/lan/eth1', a);
  table.set('b/lan/eth1', b);
  table.set('a/lan2/eth1', runner('/run/netns/a', 1));
  assert.deepEqual(
    table.entries('/run/netns/a').map((e) => e.key),
    ['a/lan/eth1', 'a/lan2/eth1'],
  );
  assert.deepEqual(table.entries('/run/netns/elsewhere'), []);
  // The same key, now in another netns: it leaves a's count.
  table.set('a/lan/eth1', runner('/run/netns/c', 3));
  table.delete('a/lan2/eth1');
  assert.deepEqual(table.entries('/run/netns/a'), []);
  assert.deepEqual(
    table.entries('/run/netns/c').map((e) => e.key),
    ['a/lan/eth1'],
  );
  assert.deepEqual([...table.netnsPaths()].sort(), ['/run/netns/b', '/run/netns/c']);
  assert.equal(table.entries().length, 2);
});

test("IA address on the link: the same one again stays; another replaces it; one gone already is no error, an add's failure is noted", async () => {
  const on = new Map<string, number>();
  const calls: string[] = [];
  const errors: (string | undefined)[] = [];
  let addFails = false;
  const pod: IaAddressDeps['pod'] = {
    addresses6: async () => [],
    addAddress6: async (address, prefixLength) => {
      calls.push(`add ${address}/${prefixLength}`);
      if (addFails) throw coded('EPERM', address);
      on.set(address, prefixLength);
    },
    delAddress6: async (address, prefixLength) => {
      calls.push(`del ${address}/${prefixLength}`);
      if (!on.delete(address)) throw coded('EADDRNOTAVAIL', address);
    },
  };
  const leased = new IaAddressOnLink({ pod, ioError: (err) => errors.push(err.code) }, () => {});
  // The main plugin's, from ADD's result.
  on.set('fd00:198:18::10', 64);
  leased.adopt('fd00:198:18::10', 64);
  await leased.replace('fd00:198:18::10', 64);
  assert.deepEqual(calls, []);
  await leased.replace('fd00:198:18::11', 128);
  assert.deepEqual(calls, ['del fd00:198:18::10/64', 'add fd00:198:18::11/128']);
  assert.deepEqual([...on], [['fd00:198:18::11', 128]]);
  assert.equal(leased.prefixLength, 128);
  on.clear(); // taken off by someone else
  await leased.remove();
  assert.equal(leased.prefixLength, undefined);
  assert.deepEqual(errors, []);
  addFails = true;
  await leased.replace('fd00:198:18::12', 128);
  assert.deepEqual(errors, ['EPERM']);
  assert.equal(leased.prefixLength, undefined);
  calls.length = 0;
  await leased.remove();
  assert.deepEqual(calls, []);
});
