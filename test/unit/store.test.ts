// The lease store with a temp dir: atomic records, modes, corrupt records set aside, serialised writes; and how a
// stored lease is resumed.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Lease } from '../../daemon/dhcp/lease';
import type { Logger } from '../../daemon/log';
import { resumeState } from '../../daemon/resume';
import { LeaseRecord, LeaseStore, RECORD_VERSION, parseRecord, recordName } from '../../daemon/store';

function tempStateDir(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-dhcp-store-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'state');
}

function fakeLog(): { log: Logger; errors: { obj: Record<string, unknown>; msg: string }[] } {
  const errors: { obj: Record<string, unknown>; msg: string }[] = [];
  const log = { error: (obj: Record<string, unknown>, msg: string) => errors.push({ obj, msg }) } as unknown as Logger;
  return { log, errors };
}

const LEASE: Lease = {
  address: '198.19.29.10',
  serverId: '198.19.28.1',
  leaseTimeS: 20,
  requestSentAtMs: 1_000_000,
  t1AtMs: 1_005_000,
  t2AtMs: 1_017_500,
  expiresAtMs: 1_020_000,
};

function record(containerId: string, lease: Lease = LEASE): LeaseRecord {
  const attachment = { containerId, network: 'lan', ifName: 'eth1' };
  return {
    version: RECORD_VERSION,
    attachment,
    params: {
      ...attachment,
      netns: `/var/run/netns/${containerId}`,
      args: {},
      paramRequestList: [1, 3, 6],
      provide: [],
    },
    netnsInode: 4026532000,
    mac: '02:00:00:00:00:01',
    cfg: {
      chaddr: '02:00:00:00:00:01',
      clientId: '00',
      paramRequestList: [1, 3, 6],
      provide: [],
      broadcastFlag: false,
      maxMessageSize: 1500,
      timing: {
        firstRetransmitMs: 4000,
        maxRetransmitMs: 62_000,
        jitterMs: 1000,
        minRenewRetransmitMs: 60_000,
        requestRetries: 4,
      },
    },
    state: { state: 'BOUND', lease },
    serverId: lease.serverId,
    savedAtMs: 1_000_100,
  };
}

test('save then load returns the record; files 0600 in a 0700 dir, no temp file left', async (t) => {
  const stateDir = tempStateDir(t);
  const store = new LeaseStore(stateDir, fakeLog().log, { now: Date.now });
  await store.init();
  await store.save('a/lan/eth1', record('a'));
  await store.save('b/lan/eth1', record('b'));
  const loaded = await store.load();
  assert.deepEqual(
    loaded.map((l) => l.record).sort((x, y) => x.attachment.containerId.localeCompare(y.attachment.containerId)),
    [record('a'), record('b')],
  );
  assert.equal(fs.statSync(stateDir).mode & 0o777, 0o700);
  assert.equal(fs.statSync(store.dir).mode & 0o777, 0o700);
  const names = fs.readdirSync(store.dir).sort();
  assert.deepEqual(names, [recordName('a/lan/eth1'), recordName('b/lan/eth1')].sort());
  for (const n of names) assert.equal(fs.statSync(path.join(store.dir, n)).mode & 0o777, 0o600);
});

test('init tightens an existing state dir to 0700', async (t) => {
  const stateDir = tempStateDir(t);
  fs.mkdirSync(stateDir, { mode: 0o755 });
  fs.chmodSync(stateDir, 0o755);
  await new LeaseStore(stateDir, fakeLog().log, { now: Date.now }).init();
  assert.equal(fs.statSync(stateDir).mode & 0o777, 0o700);
});

test('concurrent saves of one lease are serialised: the last one wins, none fails', async (t) => {
  const store = new LeaseStore(tempStateDir(t), fakeLog().log, { now: Date.now });
  await store.init();
  const writes = Array.from({ length: 50 }, (_, i) => store.save('a/lan/eth1', { ...record('a'), savedAtMs: i }));
  await Promise.all(writes);
  const [only, ...rest] = await store.load();
  assert.equal(rest.length, 0);
  assert.equal(only?.record.savedAtMs, 49);
  assert.deepEqual(fs.readdirSync(store.dir), [recordName('a/lan/eth1')]);
});

test('remove deletes the record and is quiet when there is none; a remove queued after a save wins', async (t) => {
  const store = new LeaseStore(tempStateDir(t), fakeLog().log, { now: Date.now });
  await store.init();
  await store.remove('nothing/lan/eth1');
  void store.save('a/lan/eth1', record('a'));
  await store.remove('a/lan/eth1');
  await store.idle();
  assert.deepEqual(await store.load(), []);
});

test('corrupt records (truncated, garbage, wrong version, missing fields) are set aside with a log line; good ones load', async (t) => {
  const { log, errors } = fakeLog();
  const store = new LeaseStore(tempStateDir(t), log, { now: Date.now });
  await store.init();
  await store.save('good1/lan/eth1', record('good1'));
  await store.save('good2/lan/eth1', record('good2'));
  const full = JSON.stringify(record('bad'));
  const bad: Record<string, string> = {
    truncated: full.slice(0, full.length / 2),
    garbage: '\u0000\u00ff not json at all',
    version: JSON.stringify({ ...record('bad'), version: 99 }),
    fields: JSON.stringify({ version: RECORD_VERSION, attachment: { containerId: 'x' } }),
    empty: '',
  };
  for (const [name, text] of Object.entries(bad)) fs.writeFileSync(path.join(store.dir, `${name}.json`), text);
  // A temp file left by a crash mid-write is not a record.
  fs.writeFileSync(path.join(store.dir, `.${recordName('good1/lan/eth1')}.123.abcd.tmp`), full.slice(0, 10));
  const loaded = await store.load();
  assert.deepEqual(loaded.map((l) => l.record.attachment.containerId).sort(), ['good1', 'good2']);
  assert.equal(errors.length, Object.keys(bad).length);
  for (const e of errors) assert.equal(e.msg, 'corrupt lease record set aside');
  const names = fs.readdirSync(store.dir);
  for (const name of Object.keys(bad))
    assert.ok(names.includes(`${name}.json.corrupt`), `${name} moved aside: ${names.join(' ')}`);
  assert.ok(!names.some((n) => n.endsWith('.tmp')), 'temp file removed');
  // The next start does not trip over them again.
  assert.equal((await store.load()).length, 2);
  assert.equal(errors.length, Object.keys(bad).length);
});

test('parseRecord says why a record is unusable', () => {
  assert.match(parseRecord('{') as string, /^not JSON/);
  assert.match(parseRecord('[]') as string, /not an object/);
  assert.match(parseRecord(JSON.stringify({ ...record('a'), version: 0 })) as string, /version 0/);
  assert.match(parseRecord(JSON.stringify({ ...record('a'), state: null })) as string, /^state is not an object/);
  assert.deepEqual(parseRecord(JSON.stringify(record('a'))), record('a'));
});

test('resume: before T1 a RENEW at once (T1 moved to now); after T1 or expiry INIT-REBOOT; no address: INIT', () => {
  const before = resumeState(record('a'), 1_002_000);
  assert.deepEqual(before, { state: 'BOUND', lease: { ...LEASE, t1AtMs: 1_002_000 } });
  assert.deepEqual(resumeState(record('a'), 1_006_000), { state: 'INIT-REBOOT', requestedIp: LEASE.address });
  assert.deepEqual(resumeState(record('a'), 2_000_000), { state: 'INIT-REBOOT', requestedIp: LEASE.address });
  const renewing: LeaseRecord = {
    ...record('a'),
    state: {
      state: 'RENEWING',
      lease: LEASE,
      tx: { xid: 1, startedAtMs: 0, firstSentAtMs: 0, sends: 1, retransmitAtMs: 0 },
    },
  };
  assert.deepEqual(resumeState(renewing, 1_006_000), { state: 'INIT-REBOOT', requestedIp: LEASE.address });
  const expired: LeaseRecord = {
    ...record('a'),
    state: {
      state: 'SELECTING',
      requestedIp: LEASE.address,
      previousAddress: LEASE.address,
      tx: { xid: 1, startedAtMs: 0, firstSentAtMs: 0, sends: 1, retransmitAtMs: 0 },
    },
  };
  assert.deepEqual(resumeState(expired, 3_000_000), { state: 'INIT-REBOOT', requestedIp: LEASE.address });
  assert.deepEqual(resumeState({ ...record('a'), state: { state: 'INIT' } }, 0), { state: 'INIT' });
});

test('the record schema: each state needs its fields; unknown states, bad addresses and shapes are refused by name', () => {
  const bad = (patch: Record<string, unknown>) => parseRecord(JSON.stringify({ ...record('a'), ...patch })) as string;
  assert.match(bad({ state: { state: 'BOUND' } }), /^state\.lease is not an object/);
  assert.match(
    bad({ state: { state: 'HOLDING', lease: LEASE } }),
    /^state\.state "HOLDING" is not a state this version knows/,
  );
  assert.match(bad({ state: { state: 'PROBING', lease: LEASE } }), /^state\.ack is not base64/);
  assert.match(
    bad({ state: { state: 'BOUND', lease: { ...LEASE, t1AtMs: '5' } } }),
    /^state\.lease\.t1AtMs is not a finite number/,
  );
  assert.match(
    bad({ state: { state: 'BOUND', lease: { ...LEASE, address: '198.19.29' } } }),
    /^state\.lease\.address is not an IPv4/,
  );
  assert.match(
    bad({
      state: {
        state: 'RENEWING',
        lease: { ...LEASE, expiresAtMs: null },
        tx: { xid: 1, startedAtMs: 0, firstSentAtMs: 0, sends: 1, retransmitAtMs: 0 },
      },
    }),
    /never RENEWING/,
  );
  assert.match(
    bad({
      state: { state: 'REQUESTING', tx: { xid: 1, startedAtMs: 0, firstSentAtMs: 0, sends: 1, retransmitAtMs: 0 } },
    }),
    /^state\.offer/,
  );
  assert.match(bad({ state: { state: 'INIT-REBOOT' } }), /^state\.requestedIp/);
  assert.match(bad({ cfg: { ...record('a').cfg, timing: { firstRetransmitMs: 1 } } }), /^cfg\.timing\.maxRetransmitMs/);
  assert.match(bad({ cfg: { ...record('a').cfg, clientId: 'zz' } }), /^cfg\.clientId is not hex/);
  assert.match(bad({ params: { ...record('a').params, netns: 'relative' } }), /^params: netns/);
  assert.match(bad({ params: { ...record('a').params, paramRequestList: 'x' } }), /^params: paramRequestList/);
  assert.match(
    bad({ attachment: { containerId: 'b', network: 'lan', ifName: 'eth1' } }),
    /^attachment\.containerId does not match/,
  );
  assert.match(bad({ netnsInode: -1 }), /^netnsInode/);
  assert.match(bad({ mac: '02:00:00:00:00:02' }), /^mac does not match/);
  assert.match(bad({ ack: 'not base64!' }), /^ack/);
  assert.match(bad({ savedAtMs: undefined }), /^savedAtMs/);
  for (const state of [
    { state: 'INIT' },
    { state: 'RELEASED', previousAddress: LEASE.address },
    { state: 'INIT-REBOOT', requestedIp: LEASE.address },
  ]) {
    assert.equal(typeof parseRecord(JSON.stringify({ ...record('a'), state })), 'object', state.state);
  }
});

test('load: bad records among good ones are each set aside with a log line and counted; the good ones load', async (t) => {
  const stateDir = tempStateDir(t);
  const { log, errors } = fakeLog();
  const counted: string[] = [];
  const store = new LeaseStore(stateDir, log, { now: Date.now, onCorrupt: (what) => counted.push(what) });
  await store.init();
  await store.save('a', record('a'));
  await store.save('b', record('b'));
  fs.writeFileSync(path.join(store.dir, 'x.json'), JSON.stringify({ ...record('x'), state: { state: 'BOUND' } }));
  fs.writeFileSync(
    path.join(store.dir, 'y.json'),
    JSON.stringify({ ...record('y'), state: { state: 'FROM-THE-FUTURE' } }),
  );
  const loaded = await store.load();
  assert.deepEqual(loaded.map((l) => l.record.attachment.containerId).sort(), ['a', 'b']);
  assert.deepEqual(
    fs
      .readdirSync(store.dir)
      .filter((n) => n.endsWith('.corrupt'))
      .sort(),
    ['x.json.corrupt', 'y.json.corrupt'],
  );
  assert.equal(errors.filter((e) => e.msg === 'corrupt lease record set aside').length, 2);
  assert.deepEqual(counted, ['set_aside', 'set_aside']);
});

test('expireCorrupt: *.corrupt files set aside more than 7 days ago by the store clock go and are counted; newer ones stay', async (t) => {
  const stateDir = tempStateDir(t);
  const counted: string[] = [];
  let clock = Date.now() - 8 * 24 * 3600 * 1000;
  const log = { info: () => {}, error: () => {} } as unknown as Logger;
  const store = new LeaseStore(stateDir, log, { now: () => clock, onCorrupt: (what) => counted.push(what) });
  await store.init();
  fs.writeFileSync(path.join(store.dir, 'old.json'), '{');
  await store.load();
  clock = Date.now();
  fs.writeFileSync(path.join(store.dir, 'new.json'), '{');
  await store.load();
  assert.equal(await store.expireCorrupt(Date.now()), 1);
  assert.deepEqual(fs.readdirSync(store.dir).sort(), ['new.json.corrupt']);
  assert.deepEqual(counted, ['set_aside', 'set_aside', 'expired']);
});

test('expireCorrupt after one that left nothing: a record set aside since is still expired in its time', async (t) => {
  const stateDir = tempStateDir(t);
  let clock = Date.now();
  const log = { info: () => {}, error: () => {} } as unknown as Logger;
  const store = new LeaseStore(stateDir, log, { now: () => clock });
  await store.init();
  fs.writeFileSync(path.join(store.dir, 'young.json'), '{');
  await store.load();
  assert.equal(await store.expireCorrupt(clock), 0);
  assert.equal(await store.expireCorrupt(clock + 8 * 24 * 3600 * 1000), 1);
  assert.equal(await store.expireCorrupt(clock + 9 * 24 * 3600 * 1000), 0, 'none left');
  clock += 9 * 24 * 3600 * 1000;
  fs.writeFileSync(path.join(store.dir, 'later.json'), '{');
  await store.load();
  assert.equal(await store.expireCorrupt(clock + 8 * 24 * 3600 * 1000), 1);
  assert.deepEqual(fs.readdirSync(store.dir), []);
});
