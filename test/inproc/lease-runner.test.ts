// LeaseRunner without root: an in-memory pod side (channels and link) and a fake server in the same process, real
// timers with short retransmission times.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipToBytes, u32 } from '../../daemon/dhcp/bytes';
import { decode, encode } from '../../daemon/dhcp/codec';
import { ArpOp, ArpPacket, decodeArp, encodeArp } from '../../daemon/dhcp/arp';
import { ClientConfig } from '../../daemon/dhcp/lease';
import { seededRng } from '../../daemon/dhcp/rng';
import { BOOTREQUEST, DhcpMessage, MessageType, Opt } from '../../daemon/dhcp/types';
import { LeaseRunner, RunnerDeps } from '../../daemon/lease-runner';
import { takeover } from '../../daemon/resume';
import { LeaseRecord, RECORD_VERSION } from '../../daemon/store';
import type { AddParams } from '../../daemon/registry-api';
import { createLogger } from '../../daemon/log';
import type { ArpChannel, Channel, PodSide, Received } from '../../daemon/pod-port';
import { coded, fakeLink, linkState } from '../helpers/fake-port';
import { reply as bootp } from '../helpers/messages';

const SERVER = '198.19.60.1';
const LAN_HOST_MAC = '02:00:00:00:00:99';
const ADDRESS = '198.19.60.20';

/** A server that answers DISCOVER with OFFER and REQUEST with ACK, or stays silent; counts what it heard. */
class FakeServer {
  heard: number[] = [];
  /** ARP sent by the client, decoded; ARP sockets opened and closed. */
  arpSent: ArpPacket[] = [];
  arpSockets = { opened: 0, closed: 0 };
  /** A LAN host holding this address answers probes for it. */
  lanHostHolds?: string;
  /** Sockets of these kinds cannot be opened (errno code, as the kernel would say). */
  refuse = new Map<'packet' | 'udp', string>();
  /** How each message heard was sent. */
  heardVia: string[] = [];
  /** NAK every REQUEST; with `noise`, each OFFER is followed by one to another client (another xid). */
  naking = false;
  noise = false;
  constructor(public answering: boolean) {}

  private openArp = async (_address: string, onReceive: (arp: Buffer) => void): Promise<ArpChannel> => {
    this.arpSockets.opened++;
    let closed = false;
    return {
      send: (arp) => {
        const p = decodeArp(arp);
        assert.ok(p && !closed);
        this.arpSent.push(p);
        if (p.senderIp === '0.0.0.0' && p.targetIp === this.lanHostHolds) {
          const answer = {
            op: ArpOp.REPLY,
            senderMac: LAN_HOST_MAC,
            senderIp: p.targetIp,
            targetMac: p.senderMac,
            targetIp: '0.0.0.0',
          };
          setImmediate(() => onReceive(encodeArp(answer)));
        }
      },
      close: () => {
        if (!closed) this.arpSockets.closed++;
        closed = true;
      },
    };
  };

  /** The pod side: these channels, and an in-memory link (`check` runs before each call). */
  side(check: () => void = () => {}): PodSide {
    const open =
      (via: 'packet' | 'udp') =>
      async (_src: string, onReceive: (r: Received) => void): Promise<Channel> => {
        const refused = this.refuse.get(via);
        if (refused) throw Object.assign(new Error(`${via} socket: ${refused}`), { code: refused });
        return {
          send: (payload) => {
            const d = decode(payload);
            assert.ok(d.ok);
            const type = d.value.options.get(Opt.MESSAGE_TYPE)?.[0] ?? 0;
            this.heard.push(type);
            this.heardVia.push(via);
            if (!this.answering) return;
            const granted = this.naking ? MessageType.NAK : MessageType.ACK;
            const answer =
              type === MessageType.DISCOVER ? MessageType.OFFER : type === MessageType.REQUEST ? granted : 0;
            const answers = [reply(d.value, answer)];
            if (this.noise && answer === MessageType.OFFER)
              answers.push({ ...reply(d.value, answer), xid: (d.value.xid + 1) >>> 0 });
            for (const a of answer ? answers : [])
              setImmediate(() => onReceive({ payload: encode(a), srcIp: SERVER, dstIp: '255.255.255.255' }));
          },
          close: () => {},
        };
      };
    // The interface has the address the main plugin configured from the lease (what a resumed lease finds there).
    const link = linkState({ up: true, addresses: [{ address: ADDRESS, prefixLength: 22 }] });
    const checked =
      <A extends unknown[], R>(fn: (...a: A) => Promise<R>) =>
      async (...a: A): Promise<R> => {
        check();
        return fn(...a);
      };
    return {
      ...fakeLink(() => link, check),
      openPacket: checked(open('packet')),
      openUdp: checked(open('udp')),
      openArp: checked(this.openArp),
      openUdp6: () => Promise.reject(new Error('a DHCPv4 lease opens no DHCPv6 socket')),
      listenRa: () => Promise.reject(new Error('a DHCPv4 lease listens to no router advertisement')),
    };
  }
}

function reply(req: DhcpMessage, type: number): DhcpMessage {
  const options = new Map<number, Buffer>([
    [Opt.MESSAGE_TYPE, Buffer.from([type])],
    [Opt.SERVER_ID, ipToBytes(SERVER)],
    [Opt.LEASE_TIME, u32(3600)],
    [Opt.SUBNET_MASK, ipToBytes('255.255.252.0')],
  ]);
  return { ...req, op: 2, yiaddr: ADDRESS, ciaddr: '0.0.0.0', options };
}

const PARAMS: AddParams = {
  containerId: 'c1',
  network: 'lan',
  ifName: 'eth1',
  netns: '/run/netns/p1',
  args: {},
  paramRequestList: [1, 3, 51],
  provide: [],
};

function clientConfig(arp: Partial<ClientConfig> = {}): ClientConfig {
  return {
    ...arp,
    chaddr: '02:00:00:00:00:01',
    clientId: Buffer.from('\0c1/lan/eth1').toString('hex'),
    paramRequestList: [1, 3, 51],
    provide: [],
    broadcastFlag: false,
    maxMessageSize: 1500,
    timing: {
      firstRetransmitMs: 40,
      maxRetransmitMs: 80,
      jitterMs: 10,
      minRenewRetransmitMs: 60_000,
      requestRetries: 4,
    },
  };
}

function runnerDeps(server: FakeServer, resendTimeoutMs: number, deps: Partial<RunnerDeps> = {}): RunnerDeps {
  return {
    pod: server.side(),
    now: Date.now,
    rng: seededRng(7),
    log: createLogger('silent'),
    resendTimeoutMs,
    ...deps,
  };
}

function runner(
  server: FakeServer,
  resendTimeoutMs: number,
  arp: Partial<ClientConfig> = {},
  deps: Partial<RunnerDeps> = {},
): LeaseRunner {
  return new LeaseRunner(PARAMS, clientConfig(arp), runnerDeps(server, resendTimeoutMs, deps));
}

/** A record of a lease BOUND to ADDRESS, written `ageS` seconds ago for a 3600 s lease. */
function boundRecord(ageS: number): LeaseRecord {
  const cfg = clientConfig();
  const sent = Date.now() - ageS * 1000;
  const ack = reply(bootp({ op: BOOTREQUEST, chaddr: Buffer.from('020000000001', 'hex') }), MessageType.ACK);
  const lease = {
    address: ADDRESS,
    serverId: SERVER,
    leaseTimeS: 3600,
    requestSentAtMs: sent,
    t1AtMs: sent + 1_800_000,
    t2AtMs: sent + 3_150_000,
    expiresAtMs: sent + 3_600_000,
  };
  return {
    version: RECORD_VERSION,
    attachment: { containerId: 'c1', network: 'lan', ifName: 'eth1' },
    params: PARAMS,
    netnsInode: 1,
    mac: cfg.chaddr,
    cfg,
    state: { state: 'BOUND', lease },
    ack: encode(ack).toString('base64'),
    savedAtMs: sent,
  };
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('-resendtimeout: with no server, the background acquisition gives up and says what it tried', async (t) => {
  const server = new FakeServer(false);
  const r = runner(server, 400);
  t.after(() => r.stop('test over'));
  r.start();
  const waiting = assert.rejects(r.waitBound(10_000), /acquisition cancelled: resend timeout reached/);
  await waitFor('the runner to give up', () => !r.active);
  assert.ok(
    server.heard.filter((m) => m === MessageType.DISCOVER).length >= 2,
    `DISCOVERs retransmitted: ${server.heard}`,
  );
  assert.match(
    r.lastError ?? '',
    /^gave up after 400ms \(resend timeout\): \d+ DISCOVERs on eth1 in \/run\/netns\/p1, no OFFER/,
  );
  await waiting;
  const sent = server.heard.length;
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(server.heard.length, sent, 'nothing is sent after giving up');
});

test('-resendtimeout does not touch a lease that was bound in time', async (t) => {
  const server = new FakeServer(true);
  const r = runner(server, 200);
  t.after(() => r.stop('test over'));
  r.start();
  const facts = await r.waitBound(5000);
  assert.equal(facts.address, ADDRESS);
  await new Promise((res) => setTimeout(res, 300));
  assert.equal(r.active, true);
  assert.equal(r.state.state, 'BOUND');
  assert.deepEqual(server.heard, [MessageType.DISCOVER, MessageType.REQUEST]);
});

test('conflict detection: probes on an ARP socket closed afterwards; an answer → DECLINE to the server, no lease yet, DISCOVER later', async (t) => {
  const server = new FakeServer(true);
  server.lanHostHolds = ADDRESS;
  const r = runner(server, 0, { conflictDetection: 'quick', announce: true });
  t.after(() => r.stop('test over'));
  r.start();
  let bound = false;
  void r.waitBound(30_000).then(
    () => (bound = true),
    () => undefined,
  );
  await waitFor('the DECLINE', () => server.heard.includes(MessageType.DECLINE));
  await r.settled();
  // A loaded machine may retransmit the DISCOVER before the OFFER is in (40 ms here): not what this test is about.
  assert.deepEqual(
    server.heard.filter((m, i) => m !== MessageType.DISCOVER || i === 0),
    [MessageType.DISCOVER, MessageType.REQUEST, MessageType.DECLINE],
  );
  assert.deepEqual(
    server.arpSent.map((p) => [p.senderIp, p.targetIp]),
    [['0.0.0.0', ADDRESS]],
  );
  assert.equal(r.state.state, 'SELECTING');
  assert.match(r.lastError ?? '', new RegExp(`${ADDRESS} is in use by ${LAN_HOST_MAC}: declined`));
  assert.deepEqual(
    r.transitions.map((x) => x.to),
    ['SELECTING', 'REQUESTING', 'PROBING', 'SELECTING'],
  );
  assert.equal(r.transitions.at(-1)?.why, `${ADDRESS} in use (ARP from ${LAN_HOST_MAC}): DECLINE`);
  assert.deepEqual(server.arpSockets, { opened: 1, closed: 1 }, 'no ARP socket outlives the probe');
  assert.equal(bound, false);
});

test('conflict detection: nobody answers → bound after the probes, then two announcements, each on a socket of its own', async (t) => {
  const server = new FakeServer(true);
  const r = runner(server, 0, { conflictDetection: 'quick', announce: true });
  t.after(() => r.stop('test over'));
  r.start();
  const started = Date.now();
  const facts = await r.waitBound(5000);
  assert.equal(facts.address, ADDRESS);
  assert.ok(Date.now() - started >= 200, 'bound only after the 200 ms of probing');
  assert.deepEqual(r.transitions.map((x) => `${x.from}>${x.to}:${x.why}`).slice(-2), [
    'REQUESTING>PROBING:ACK',
    'PROBING>BOUND:no answer to the ARP probes',
  ]);
  assert.deepEqual(
    server.arpSent.map((p) => p.senderIp),
    ['0.0.0.0', '0.0.0.0'],
    'ADD is answered before the announcements',
  );
  await waitFor('two announcements', () => server.arpSent.length === 4, 4000);
  assert.deepEqual(
    server.arpSent.slice(2).map((p) => [p.senderIp, p.targetIp]),
    [
      [ADDRESS, ADDRESS],
      [ADDRESS, ADDRESS],
    ],
  );
  assert.deepEqual(server.arpSockets, { opened: 3, closed: 3 });
});

/** A record write that fails like a full disk. */
function enospc(): Error {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
}

test('the first record cannot be written (disk full): ADD fails with code 5 and the lease is released', async (t) => {
  const server = new FakeServer(true);
  let writes = 0;
  const r = runner(
    server,
    0,
    {},
    {
      persist: async () => {
        writes++;
        if (r.state.state !== 'RELEASED') throw enospc();
      },
    },
  );
  t.after(() => r.stop('test over'));
  r.start();
  await assert.rejects(r.waitBound(5000), (err: Error & { kind?: string }) => {
    assert.equal(err.kind, 'io');
    assert.match(err.message, /the lease record could not be written \(ENOSPC.*\); the lease was released/);
    return true;
  });
  await waitFor('the release', () => !r.active);
  assert.equal(r.state.state, 'RELEASED');
  assert.equal(server.heard.filter((m) => m === MessageType.RELEASE).length, 1, 'a RELEASE gives the address back');
  assert.ok(writes >= 2, 'the failed write, then the removal of the released lease');
});

test('a later record write failing keeps the lease, is retried with backoff, and clears once it succeeds', async (t) => {
  const server = new FakeServer(true);
  let failing = false;
  let failures = 0;
  const r = runner(
    server,
    0,
    {},
    {
      persist: async () => {
        if (failing) {
          failures++;
          throw enospc();
        }
      },
      metrics: { event: () => {}, recordWriteFailed: () => {} },
    },
  );
  t.after(() => r.stop('test over'));
  r.start();
  await r.waitBound(5000);
  assert.equal(r.recordOnDisk, true);
  failing = true;
  // The next persist action (a renewal, in a real lease) fails:
  void (r as unknown as { record: { write(): Promise<boolean> } }).record.write();
  await waitFor('the first failure', () => r.recordError !== undefined);
  assert.equal(failures, 1);
  assert.match(r.recordError ?? '', /ENOSPC/);
  assert.ok(r.active && r.bound, 'the lease stays');
  await waitFor('a retry about a second later', () => failures === 2, 3000);
  failing = false;
  await waitFor('the retry that succeeds', () => r.recordError === undefined, 5000);
});

test('re-entering: when the netns path no longer names the namespace of the ADD, nothing is opened or sent there', async (t) => {
  const server = new FakeServer(true);
  const r = runner(
    server,
    0,
    {},
    {
      pod: server.side(() => {
        throw coded('ENOTNS', 'netns /run/netns/p1 names another namespace (inode 2, was 1)');
      }),
    },
  );
  t.after(() => r.stop('test over'));
  r.start();
  await waitFor('the lease to end', () => r.state.state === 'RELEASED');
  assert.deepEqual(server.heard, [], 'no DISCOVER went into the other namespace');
  assert.match(r.lastError ?? '', /names another namespace/);
});

test('a runner built from a record holds the stored lease until resume(), which RENEWs it at once', async (t) => {
  const server = new FakeServer(true);
  const rec = boundRecord(60);
  const r = new LeaseRunner(rec.params, rec.cfg, runnerDeps(server, 0), takeover(rec, Date.now(), 60));
  t.after(() => r.stop('test over'));
  assert.equal(r.state.state, 'BOUND');
  assert.equal(r.facts?.address, ADDRESS);
  assert.equal(r.recordOnDisk, true, 'a failed write keeps a taken-over lease: its record names the address');
  assert.equal(r.bound, true);
  await new Promise((res) => setTimeout(res, 100));
  assert.deepEqual(server.heard, [], 'nothing is sent before resume()');
  r.resume();
  await waitFor('the renewal', () => r.transitions.some((x) => x.from === 'RENEWING' && x.to === 'BOUND'));
  assert.deepEqual(server.heard, [MessageType.REQUEST]);
  assert.deepEqual(
    r.transitions.map((x) => `${x.from}>${x.to}:${x.why}`),
    ['BOUND>RENEWING:T1', 'RENEWING>BOUND:ACK'],
  );
});

test('a runner built from an expired record starts at INIT-REBOOT for the stored address', async (t) => {
  const server = new FakeServer(true);
  const rec = boundRecord(4000);
  const r = new LeaseRunner(rec.params, rec.cfg, runnerDeps(server, 0), takeover(rec, Date.now(), 60));
  t.after(() => r.stop('test over'));
  assert.deepEqual(r.state, { state: 'INIT-REBOOT', requestedIp: ADDRESS });
  assert.equal(r.bound, false);
  r.resume();
  const facts = await r.waitBound(5000);
  assert.equal(facts.address, ADDRESS);
  assert.deepEqual(server.heard, [MessageType.REQUEST], 'INIT-REBOOT asks for the stored address without a DISCOVER');
});

test('resume() of a runner not built from a record is a bug, said at once', () => {
  const r = runner(new FakeServer(true), 0);
  assert.throws(() => r.resume(), /not taken over from a record/);
});

test("RELEASE: UDP from ciaddr, else AF_PACKET, else from the host: the core's fallbacks, in order", async (t) => {
  const viaPacket = new FakeServer(true);
  const r = runner(viaPacket, 0);
  t.after(() => r.stop('test over'));
  r.start();
  await r.waitBound(5000);
  viaPacket.refuse.set('udp', 'EADDRNOTAVAIL');
  await r.release();
  assert.deepEqual(viaPacket.heard.at(-1), MessageType.RELEASE);
  assert.equal(viaPacket.heardVia.at(-1), 'packet', 'ciaddr was never configured: AF_PACKET needs no route');

  const fromHost = new FakeServer(true);
  const hostSent: [Buffer, string][] = [];
  const h = runner(fromHost, 0, {}, { sendFromHost: async (payload, dstIp) => void hostSent.push([payload, dstIp]) });
  t.after(() => h.stop('test over'));
  h.start();
  await h.waitBound(5000);
  fromHost.refuse.set('udp', 'EADDRNOTAVAIL').set('packet', 'ENETDOWN');
  await h.release();
  assert.equal(fromHost.heard.includes(MessageType.RELEASE), false);
  assert.equal(hostSent.length, 1);
  const d = decode(hostSent[0]?.[0] as Buffer);
  assert.ok(d.ok);
  assert.deepEqual(
    [d.value.options.get(Opt.MESSAGE_TYPE)?.[0], d.value.ciaddr, hostSent[0]?.[1]],
    [MessageType.RELEASE, ADDRESS, SERVER],
  );
});

test("the pod side gone under a held lease: the lease ends and the core's host RELEASE goes out", async (t) => {
  const server = new FakeServer(true);
  const hostSent: string[] = [];
  const rec = boundRecord(60);
  server.refuse.set('udp', 'ENODEV');
  const r = new LeaseRunner(
    rec.params,
    rec.cfg,
    runnerDeps(server, 0, { sendFromHost: async (_p, dstIp) => void hostSent.push(dstIp) }),
    takeover(rec, Date.now(), 60),
  );
  t.after(() => r.stop('test over'));
  r.resume();
  await waitFor('the lease to end', () => r.state.state === 'RELEASED');
  await r.settled();
  assert.deepEqual(hostSent, [SERVER]);
  assert.deepEqual(
    r.transitions.map((x) => `${x.from}>${x.to}:${x.why}`),
    ['BOUND>RENEWING:T1', 'RENEWING>RELEASED:released'],
  );
});

test('progress counts the OFFERs the core took, not every OFFER on the link', async (t) => {
  const server = new FakeServer(true);
  server.naking = true;
  server.noise = true;
  const r = runner(server, 0);
  t.after(() => r.stop('test over'));
  r.start();
  const err = await r.waitBound(600).then(
    () => assert.fail('bound'),
    (e: Error) => e,
  );
  const m = /(\d+) OFFERs?, (\d+) NAKs?, no ACK/.exec(err.message);
  assert.ok(m, err.message);
  const [offers, naks] = [Number(m[1]), Number(m[2])];
  assert.ok(
    naks >= 2 && offers - naks >= 0 && offers - naks <= 1,
    `each OFFER taken is NAKed; the other client's are not counted: ${err.message}`,
  );
});
