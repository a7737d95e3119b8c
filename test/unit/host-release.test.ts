// The host-side RELEASE (the core's hostRelease, sent by daemon/host-release.ts): what it is built from, when there is
// nothing to release, and that a send failure is reported, never thrown.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode } from '../../daemon/dhcp/codec';
import { ClientConfig, LeaseState, hostRelease } from '../../daemon/dhcp/lease';
import { DEFAULT_REQUEST_LIST } from '../../daemon/cni/conf-options';
import { messageType, serverId } from '../../daemon/dhcp/options';
import { seededRng } from '../../daemon/dhcp/rng';
import { DEFAULT_TIMING } from '../../daemon/dhcp/timing';
import { MessageType, Opt } from '../../daemon/dhcp/types';
import { releaseFromHost } from '../../daemon/host-release';

const NOW = 1_700_000_000_000;
const cfg: ClientConfig = {
  chaddr: '02:00:00:00:00:01',
  clientId: Buffer.from('\0ctr1/net1/eth1').toString('hex'),
  paramRequestList: [...DEFAULT_REQUEST_LIST],
  provide: [],
  broadcastFlag: false,
  maxMessageSize: 1500,
  timing: DEFAULT_TIMING,
};
const lease = {
  address: '198.19.56.20',
  serverId: '198.19.56.1',
  leaseTimeS: 600,
  requestSentAtMs: NOW,
  t1AtMs: NOW + 300_000,
  t2AtMs: NOW + 525_000,
  expiresAtMs: NOW + 600_000,
};
const bound: LeaseState = { state: 'BOUND', lease };

test("the core's hostRelease: the RELEASE of a held lease (ciaddr, chaddr, option 61, option 54), from the host to the server id", () => {
  const r = hostRelease(bound, NOW, { cfg, rng: seededRng(1) });
  assert.ok(r);
  assert.equal(r.via, 'host');
  assert.equal(r.dstIp, '198.19.56.1');
  assert.equal(messageType(r.msg), MessageType.RELEASE);
  assert.equal(r.msg.ciaddr, '198.19.56.20');
  assert.equal(r.msg.chaddr.subarray(0, 6).toString('hex'), '020000000001');
  assert.equal(r.msg.options.get(Opt.CLIENT_ID)?.toString('hex'), cfg.clientId);
  assert.equal(serverId(r.msg), '198.19.56.1');
});

test('hostRelease: nothing for a state without a lease or an expired lease', () => {
  const ctx = { cfg, rng: seededRng(1) };
  assert.equal(hostRelease({ state: 'INIT' }, NOW, ctx), undefined);
  assert.equal(hostRelease({ state: 'RELEASED', previousAddress: '198.19.56.20' }, NOW, ctx), undefined);
  assert.equal(hostRelease(bound, lease.expiresAtMs, ctx), undefined);
});

test('releaseFromHost sends the encoded RELEASE and reports a failure instead of throwing', async () => {
  const sent: [Buffer, string][] = [];
  const ok = await releaseFromHost(async (p, dst) => void sent.push([p, dst]), cfg, bound, NOW, seededRng(1));
  assert.equal(ok, 'RELEASE sent from the host to 198.19.56.1');
  const d = decode(sent[0]?.[0] as Buffer);
  assert.ok(d.ok && d.value.ciaddr === '198.19.56.20');
  assert.equal(sent[0]?.[1], '198.19.56.1');
  const failed = await releaseFromHost(
    async () => {
      throw new Error('connect ENETUNREACH');
    },
    cfg,
    bound,
    NOW,
    seededRng(1),
  );
  assert.equal(failed, 'host RELEASE failed: connect ENETUNREACH');
  assert.equal(
    await releaseFromHost(async () => assert.fail('nothing to send'), cfg, { state: 'INIT' }, NOW, seededRng(1)),
    'nothing to release',
  );
});
