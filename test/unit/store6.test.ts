// DHCPv6 lease records in the store (daemon/store.ts, record6.ts, record-check6.ts): a record built from a lease
// bound with Kea 2.2's captured REPLY round-trips beside the same attachment's IPv4 record, whose format is unchanged;
// hostile v6 files (bad base64, wrong types, absurd lifetimes, oversize, another family's name) are each set aside
// with a log line naming what is wrong, and the good records still load.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { AddParams } from '../../daemon/registry-api';
import { seededRng } from '../../daemon/dhcp/rng';
import { decode, encode } from '../../daemon/dhcp6/codec';
import { duidLl } from '../../daemon/dhcp6/duid';
import { ClientConfig6, Lease6State, step6 } from '../../daemon/dhcp6/lease';
import { INFINITY } from '../../daemon/dhcp6/options';
import { DEFAULT_TIMING6 } from '../../daemon/dhcp6/timing';
import { Dhcp6Message, MsgType } from '../../daemon/dhcp6/types';
import type { Logger } from '../../daemon/log';
import { preferredUntil, record6Of, takeover6 } from '../../daemon/record6';
import {
  LeaseRecord,
  LeaseRecord6,
  LeaseStore,
  MAX_RECORD_BYTES,
  RECORD_VERSION,
  parseRecord,
  recordName,
} from '../../daemon/store';

const BIN = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'dhcp6');
const MAC = '02:00:c6:12:06:0a';
const T0 = 1_700_000_000_000;
const KEY = 'c6/lan/eth1';

function fixture(name: string, xid: number): Dhcp6Message {
  const d = decode(fs.readFileSync(path.join(BIN, `${name}.bin`)));
  assert.ok(d.ok);
  return { ...d.value, xid };
}

const cfg: ClientConfig6 = {
  duid: duidLl(Buffer.from(MAC.replace(/:/g, ''), 'hex')).toString('hex'),
  iaid: 0x0a0b0c0d,
  oro: [23, 24],
  rapidCommit: false,
  timing: DEFAULT_TIMING6,
};

const attachment = { containerId: 'c6', network: 'lan', ifName: 'eth1' };
const params: AddParams = {
  ...attachment,
  netns: '/var/run/netns/c6',
  args: { K8S_POD_NAME: 'web-6' },
  paramRequestList: [1, 3, 6],
  provide: [],
};

/** SOLICIT, Kea's ADVERTISE, the first RT, REQUEST and Kea's REPLY, through the core: a real bound state. */
function keaBound(): { state: Lease6State; reply: Dhcp6Message; now: number } {
  const ctx = { cfg, rng: seededRng(3) };
  let now = T0;
  let s = step6({ state: 'INIT' }, { type: 'start' }, now, ctx).state;
  const xid = () => ('tx' in s ? s.tx.xid : assert.fail(`no exchange in ${s.state}`));
  s = step6(s, { type: 'packet', msg: fixture('kea-2.2-advertise', xid()) }, now, ctx).state;
  now += 1200;
  s = step6(s, { type: 'timeout' }, now, ctx).state;
  const reply = fixture('kea-2.2-reply-request', xid());
  s = step6(s, { type: 'packet', msg: reply }, now, ctx).state;
  assert.equal(s.state, 'BOUND');
  return { state: s, reply, now };
}

function record6(): LeaseRecord6 {
  const { state, reply, now } = keaBound();
  return record6Of({ params, mac: MAC, cfg, state, reply }, 4026532001, now + 5);
}

function record4(): LeaseRecord {
  return {
    version: RECORD_VERSION,
    attachment,
    params,
    netnsInode: 4026532001,
    mac: MAC,
    cfg: {
      chaddr: MAC,
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
    state: { state: 'INIT' },
    savedAtMs: T0,
  };
}

function tempStore(t: { after(fn: () => void): void }): {
  store: LeaseStore;
  errors: { obj: Record<string, unknown>; msg: string }[];
} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-dhcp-store6-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const errors: { obj: Record<string, unknown>; msg: string }[] = [];
  const log = { error: (obj: Record<string, unknown>, msg: string) => errors.push({ obj, msg }) } as unknown as Logger;
  return { store: new LeaseStore(path.join(dir, 'state'), log, { now: Date.now }), errors };
}

test('a v6 record holds the core state, the DUID/IAID, the last REPLY, the server DUID and the deadlines', () => {
  const rec = record6();
  assert.equal(rec.family, 'ipv6');
  assert.equal(rec.version, RECORD_VERSION);
  assert.ok(rec.state.state === 'BOUND');
  const lease = rec.state.lease;
  assert.equal(rec.cfg.duid, cfg.duid);
  assert.equal(rec.cfg.iaid, cfg.iaid);
  assert.equal(rec.serverDuid, lease.server.duid);
  assert.deepEqual([rec.t1AtMs, rec.t2AtMs, rec.expiresAtMs], [lease.t1AtMs, lease.t2AtMs, lease.expiresAtMs]);
  assert.equal(rec.preferredUntilMs, (lease.expiresAtMs as number) - (lease.validS - lease.preferredS) * 1000);
  const reply = decode(Buffer.from(rec.reply as string, 'base64'));
  assert.ok(reply.ok && reply.value.type === MsgType.REPLY);
  assert.deepEqual(parseRecord(JSON.stringify(rec)), rec);
});

test('preferredUntil: from the valid end; null when either lifetime is infinite', () => {
  assert.equal(preferredUntil(T0 + 600_000, 600, 300), T0 + 300_000);
  assert.equal(preferredUntil(null, INFINITY, 300), null);
  assert.equal(preferredUntil(T0 + 600_000, 600, INFINITY), null);
});

test("an attachment's v4 and v6 records sit side by side; each family is saved and removed alone; v4's format is unchanged", async (t) => {
  const { store } = tempStore(t);
  await store.init();
  await store.save(KEY, record4());
  await store.save(KEY, record6());
  assert.deepEqual(fs.readdirSync(store.dir).sort(), [recordName(KEY), recordName(KEY, 'ipv6')].sort());
  assert.match(recordName(KEY, 'ipv6'), /^[0-9a-f]{40}\.v6\.json$/);
  assert.equal(recordName(KEY, 'ipv6').slice(0, 40), recordName(KEY).slice(0, 40), 'the same hash: a pair');
  const onDisk = JSON.parse(fs.readFileSync(path.join(store.dir, recordName(KEY)), 'utf8')) as Record<string, unknown>;
  assert.equal('family' in onDisk, false, 'an IPv4 record is written as before DHCPv6');
  const loaded = await store.load();
  assert.deepEqual(
    loaded.map((l) => l.record).sort((a, b) => Number('family' in a) - Number('family' in b)),
    [record4(), record6()],
  );
  await store.remove(KEY, 'ipv6');
  assert.deepEqual(fs.readdirSync(store.dir), [recordName(KEY)]);
  await store.save(KEY, record6());
  await store.remove(KEY);
  assert.deepEqual(fs.readdirSync(store.dir), [recordName(KEY, 'ipv6')]);
});

/** Each hostile record: the file's text and what the log line's reason must say. */
function hostile(): Record<string, { text: string; reason: RegExp }> {
  const good = record6();
  const lease = (good.state as Extract<Lease6State, { state: 'BOUND' }>).lease;
  const with_ = (patch: Record<string, unknown>) => JSON.stringify({ ...good, ...patch });
  const boundWith = (l: Record<string, unknown>) => with_({ state: { state: 'BOUND', lease: { ...lease, ...l } } });
  const solicit = encode({ type: MsgType.SOLICIT, xid: 1, options: [] }).toString('base64');
  return {
    'bad-base64': { text: with_({ reply: 'not*base64' }), reason: /^reply is not base64/ },
    'reply-garbage': { text: with_({ reply: 'BwAAAQABAA==' }), reason: /^reply is not a DHCPv6 message/ },
    'reply-not-reply': { text: with_({ reply: solicit }), reason: /^reply is a message of type 1, not a REPLY/ },
    'reply-huge': { text: with_({ reply: 'A'.repeat(100_000) }), reason: /^reply is longer than a DHCPv6 message/ },
    'iaid-string': { text: with_({ cfg: { ...good.cfg, iaid: '168496141' } }), reason: /^cfg\.iaid is not an integer/ },
    'duid-upper': { text: with_({ cfg: { ...good.cfg, duid: cfg.duid.toUpperCase() } }), reason: /^cfg\.duid/ },
    'duid-short': { text: with_({ cfg: { ...good.cfg, duid: '0003' } }), reason: /^cfg\.duid is not a DUID/ },
    'oro-string': { text: with_({ cfg: { ...good.cfg, oro: '23,24' } }), reason: /^cfg\.oro/ },
    'rt-zero': {
      text: with_({ cfg: { ...good.cfg, timing: { ...cfg.timing, renew: { ...cfg.timing.renew, irtMs: 0 } } } }),
      reason: /^cfg\.timing\.renew\.irtMs is 0/,
    },
    'address-v4': {
      text: boundWith({ address: '198.19.0.5' }),
      reason: /^state\.lease\.address is not a unicast IPv6/,
    },
    'address-multicast': { text: boundWith({ address: 'ff02::1:2' }), reason: /^state\.lease\.address/ },
    'server-unicast-bad': {
      text: boundWith({ server: { ...lease.server, unicast: 'fe80::1' } }),
      reason: /^state\.lease\.server\.unicast/,
    },
    'preferred-over-valid': {
      text: boundWith({ preferredS: lease.validS + 1 }),
      reason: /^state\.lease\.preferredS is more than validS/,
    },
    'valid-over-32-bits': { text: boundWith({ validS: 2 ** 32 }), reason: /^state\.lease\.validS is not an integer/ },
    'valid-zero': { text: boundWith({ validS: 0 }), reason: /^state\.lease\.validS is not an integer in 1\./ },
    'stretched-end': {
      text: boundWith({ expiresAtMs: (lease.expiresAtMs as number) + 400 * 24 * 3600 * 1000 }),
      reason: /^state\.lease\.expiresAtMs is more than validS/,
    },
    'infinite-with-end': { text: boundWith({ validS: INFINITY }), reason: /^state\.lease\.expiresAtMs is set for an/ },
    'finite-without-end': { text: boundWith({ expiresAtMs: null }), reason: /^state\.lease\.expiresAtMs is null/ },
    't1-after-t2': {
      text: boundWith({ t1AtMs: (lease.t2AtMs as number) + 1 }),
      reason: /^state\.lease\.t1AtMs is after t2AtMs/,
    },
    'unknown-state': {
      text: with_({ state: { state: 'WAITING', lease } }),
      reason: /^state\.state "WAITING" is not a state/,
    },
    'renewing-without-tx': { text: with_({ state: { state: 'RENEWING', lease } }), reason: /^state\.tx/ },
    'xid-over-24-bits': {
      text: with_({
        state: {
          state: 'RENEWING',
          lease,
          tx: { xid: 0x1000000, startedAtMs: T0, rtMs: 1, sends: 1, retransmitAtMs: T0 },
        },
      }),
      reason: /^state\.tx\.xid/,
    },
    'unknown-family': { text: with_({ family: 'ipx' }), reason: /^family "ipx" is not one this version knows/ },
    'mac-garbage': { text: with_({ mac: 'eth1' }), reason: /^mac is not a MAC address/ },
    'saved-string': { text: with_({ savedAtMs: 'now' }), reason: /^savedAtMs is not a finite number/ },
  };
}

test('hostile v6 records are each set aside with a log line naming the field; the good ones load', async (t) => {
  const { store, errors } = tempStore(t);
  await store.init();
  await store.save(KEY, record4());
  await store.save(KEY, record6());
  const cases = hostile();
  for (const [name, { text }] of Object.entries(cases)) fs.writeFileSync(path.join(store.dir, `${name}.v6.json`), text);
  // Larger than any record can be: not even read.
  fs.writeFileSync(path.join(store.dir, 'oversize.v6.json'), ' '.repeat(MAX_RECORD_BYTES + 1));
  // A v6 record under an IPv4 record's name, and a directory where a record should be.
  fs.writeFileSync(path.join(store.dir, 'misnamed.json'), JSON.stringify(record6()));
  fs.mkdirSync(path.join(store.dir, 'dir.v6.json'));

  const loaded = await store.load();
  assert.equal(loaded.length, 2, 'the good v4 and v6 records load');
  const reasons = new Map(errors.map((e) => [path.basename(String(e.obj.file)), String(e.obj.reason)]));
  for (const [name, { reason }] of Object.entries(cases)) {
    assert.match(reasons.get(`${name}.v6.json`) ?? 'not set aside', reason, name);
  }
  assert.match(reasons.get('oversize.v6.json') ?? '', /more than a record can be/);
  assert.match(reasons.get('misnamed.json') ?? '', /an ipv6 record in a file named for the other family/);
  assert.match(reasons.get('dir.v6.json') ?? '', /not a regular file/);
  assert.ok(errors.every((e) => e.msg === 'corrupt lease record set aside'));
  const extra = 3;
  assert.equal(errors.length, Object.keys(cases).length + extra);
  assert.equal(fs.readdirSync(store.dir).filter((n) => n.endsWith('.corrupt')).length, errors.length);
});

test('v6 records in every state the core persists pass the check', () => {
  const good = record6();
  const lease = (good.state as Extract<Lease6State, { state: 'BOUND' }>).lease;
  const tx = { xid: 7, startedAtMs: T0, rtMs: 1000, sends: 1, retransmitAtMs: T0 + 1000 };
  const advert = { server: lease.server, address: lease.address, preference: 0 };
  const states: Lease6State[] = [
    { state: 'INIT' },
    { state: 'SELECTING', tx, collectUntilMs: T0 + 1000, hint: lease.address, previousAddress: lease.address },
    { state: 'SELECTING', tx, collectUntilMs: T0 + 1000, best: advert },
    { state: 'REQUESTING', tx, offer: advert },
    { state: 'CONFIRMING', tx, lease },
    { state: 'RENEWING', tx, lease: { ...lease, server: { ...lease.server, unicast: 'fd00:198:18:16::1' } } },
    { state: 'REBINDING', tx, lease },
    { state: 'DECLINING', tx, lease },
    { state: 'RELEASED', previousAddress: lease.address },
    {
      state: 'BOUND',
      lease: { ...lease, validS: INFINITY, preferredS: INFINITY, t1AtMs: null, t2AtMs: null, expiresAtMs: null },
    },
  ];
  for (const state of states) {
    const r = parseRecord(JSON.stringify({ ...good, state }));
    assert.equal(typeof r, 'object', `${state.state}: ${String(r)}`);
  }
});

test('takeover6: an unexpired stored lease is held with its REPLY until CONFIRM; an expired one is asked for again', () => {
  const rec = record6();
  const lease = (rec.state as Extract<Lease6State, { state: 'BOUND' }>).lease;
  const live = takeover6({ ...rec, prefixLength: 64 }, (lease.expiresAtMs as number) - 1);
  assert.equal(live.next, 'CONFIRMING');
  assert.deepEqual(live.held, rec.state);
  assert.equal(live.reply?.type, MsgType.REPLY);
  assert.equal(live.prefixLength, 64);
  const expired = takeover6(rec, lease.expiresAtMs as number);
  assert.equal(expired.next, 'SELECTING');
  assert.equal(expired.reply, undefined, 'no facts from an expired lease');
  assert.equal(takeover6({ ...rec, state: { state: 'INIT' } }, T0).next, 'SELECTING');
});
