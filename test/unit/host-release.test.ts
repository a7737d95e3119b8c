// The host-side RELEASE (the cores' hostRelease and hostRelease6, sent by daemon/host-release.ts): what it is built
// from, when there is nothing to release, where a DHCPv6 one goes, and that a send failure is reported, never thrown.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode } from '../../daemon/dhcp/codec';
import { ClientConfig, LeaseState, hostRelease } from '../../daemon/dhcp/lease';
import { DEFAULT_REQUEST_LIST } from '../../daemon/cni/conf-options';
import { messageType, serverId } from '../../daemon/dhcp/options';
import { seededRng } from '../../daemon/dhcp/rng';
import { DEFAULT_TIMING } from '../../daemon/dhcp/timing';
import { MessageType, Opt } from '../../daemon/dhcp/types';
import { decode as decode6 } from '../../daemon/dhcp6/codec';
import { duidUuid } from '../../daemon/dhcp6/duid';
import { ClientConfig6, Lease6, Lease6State, hostRelease6 } from '../../daemon/dhcp6/lease';
import * as o from '../../daemon/dhcp6/options';
import { DEFAULT_TIMING6 } from '../../daemon/dhcp6/timing';
import { ALL_SERVERS, MsgType } from '../../daemon/dhcp6/types';
import { releaseFromHost } from '../../daemon/host-release';
import { defaultRouteOf } from '../../daemon/transport/host-send';

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
  const v4 = (state: LeaseState) => ({ family: 'ipv4' as const, cfg, state });
  const ok = await releaseFromHost(
    { sendFromHost: async (p: Buffer, dst: string) => void sent.push([p, dst]) },
    v4(bound),
    NOW,
    seededRng(1),
  );
  assert.equal(ok, 'RELEASE sent from the host to 198.19.56.1');
  const d = decode(sent[0]?.[0] as Buffer);
  assert.ok(d.ok && d.value.ciaddr === '198.19.56.20');
  assert.equal(sent[0]?.[1], '198.19.56.1');
  const failed = await releaseFromHost(
    {
      sendFromHost: async () => {
        throw new Error('connect ENETUNREACH');
      },
    },
    v4(bound),
    NOW,
    seededRng(1),
  );
  assert.equal(failed, 'host RELEASE failed: connect ENETUNREACH');
  assert.equal(
    await releaseFromHost(
      { sendFromHost: async () => assert.fail('nothing to send') },
      v4({ state: 'INIT' }),
      NOW,
      seededRng(1),
    ),
    'nothing to release',
  );
  assert.equal(await releaseFromHost({}, v4(bound), NOW, seededRng(1)), 'no host sender');
});

const cfg6: ClientConfig6 = {
  duid: duidUuid('ctr1/net1/eth1').toString('hex'),
  iaid: 0x01020304,
  oro: [23, 24],
  rapidCommit: false,
  timing: DEFAULT_TIMING6,
};
const SERVER_DUID = '000100012c0d4a1e0200c6121601';
const lease6: Lease6 = {
  address: 'fd00:198:18:16::142',
  server: { duid: SERVER_DUID },
  preferredS: 300,
  validS: 600,
  t1AtMs: NOW + 150_000,
  t2AtMs: NOW + 240_000,
  expiresAtMs: NOW + 600_000,
};
const bound6: Lease6State = { state: 'BOUND', lease: lease6 };

test("the v6 core's hostRelease6: a RELEASE naming the DUID, the IA_NA with the address and the server's DUID; none for an expired lease or a state without one", () => {
  const ctx = { cfg: cfg6, rng: seededRng(1) };
  const r = hostRelease6(bound6, NOW, ctx);
  assert.ok(r);
  assert.equal(r.msg.type, MsgType.RELEASE);
  assert.equal(r.dst, ALL_SERVERS);
  assert.equal(o.clientId(r.msg)?.toString('hex'), cfg6.duid);
  assert.equal(o.serverId(r.msg)?.toString('hex'), SERVER_DUID);
  assert.deepEqual(
    o.iaNa(r.msg, cfg6.iaid)?.addresses.map((a) => a.address),
    [lease6.address],
  );
  const unicast = hostRelease6(
    { state: 'RENEWING', lease: { ...lease6, server: { duid: SERVER_DUID, unicast: 'fd00:198:18:16::1' } }, tx: TX },
    NOW,
    ctx,
  );
  assert.equal(unicast?.dst, 'fd00:198:18:16::1', 'to the UNICAST address the server gave');
  assert.equal(hostRelease6({ state: 'INIT' }, NOW, ctx), undefined);
  assert.equal(hostRelease6({ state: 'RELEASED', previousAddress: lease6.address }, NOW, ctx), undefined);
  assert.equal(hostRelease6(bound6, NOW + 600_000, ctx), undefined);
});

const TX = { xid: 1, startedAtMs: NOW, rtMs: 10_000, sends: 1, retransmitAtMs: NOW + 10_000 };

test('releaseFromHost, DHCPv6: ff02::1:2 on the host link; unicast first when the server gave UNICAST, multicast when the host cannot reach it', async () => {
  const sent: { type: number; dst: string; link?: string }[] = [];
  const send6 = async (p: Buffer, dst: string, link?: string) => {
    const d = decode6(p);
    assert.ok(d.ok);
    sent.push(link === undefined ? { type: d.value.type, dst } : { type: d.value.type, dst, link });
    if (dst === 'fd00:198:18:16::1' && link === undefined) throw new Error('send ENETUNREACH');
    return link === undefined ? dst : `${dst}%${link}`;
  };
  const gone = (state: Lease6State) => ({ family: 'ipv6' as const, cfg: cfg6, state, hostLink: 'eno1' });
  assert.equal(
    await releaseFromHost({ sendFromHost6: send6 }, gone(bound6), NOW, seededRng(1)),
    'RELEASE sent from the host to ff02::1:2%eno1',
  );
  assert.deepEqual(sent.splice(0), [{ type: MsgType.RELEASE, dst: ALL_SERVERS, link: 'eno1' }]);

  const withUnicast: Lease6State = {
    state: 'BOUND',
    lease: { ...lease6, server: { duid: SERVER_DUID, unicast: 'fd00:198:18:16::1' } },
  };
  assert.equal(
    await releaseFromHost({ sendFromHost6: send6 }, gone(withUnicast), NOW, seededRng(1)),
    'RELEASE sent from the host to ff02::1:2%eno1 (unicast to fd00:198:18:16::1: send ENETUNREACH)',
  );
  assert.deepEqual(sent.splice(0), [
    { type: MsgType.RELEASE, dst: 'fd00:198:18:16::1' },
    { type: MsgType.RELEASE, dst: ALL_SERVERS, link: 'eno1' },
  ]);
  assert.equal(await releaseFromHost({}, gone(bound6), NOW, seededRng(1)), 'no IPv6 host sender');
  assert.equal(
    await releaseFromHost({ sendFromHost6: send6 }, gone({ state: 'INIT' }), NOW, seededRng(1)),
    'nothing to release',
  );
});

test("the host link for ff02::1:2 without a master: the default route's link in /proc/net/route", () => {
  const table = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eno1\t0038A8C6\t00000000\t0001\t0\t0\t0\t00FCFFFF\t0\t0\t0',
    'eno2\t00000000\t0138A8C6\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    '',
  ].join('\n');
  assert.equal(defaultRouteOf(table), 'eno2');
  assert.equal(defaultRouteOf(table.split('\n').slice(0, 2).join('\n')), undefined);
});
