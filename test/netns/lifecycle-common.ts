// The lease lifecycle against one real server (issue 3), shared by lifecycle-{dnsmasq,kea,dhcpd}.test.ts: DORA,
// RENEW at T1, REBIND when unicast is dropped, INIT-REBOOT, NAK → INIT, RELEASE, and (short leases) the server
// going away and coming back.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LeaseDetail } from '../../common/rpc';
import { macToString } from '../../daemon/dhcp/bytes';
import { ClientConfig } from '../../daemon/dhcp/lease';
import { messageType, requestedIp, serverId } from '../../daemon/dhcp/options';
import { seededRng } from '../../daemon/dhcp/rng';
import { DhcpMessage, MessageType } from '../../daemon/dhcp/types';
import { createLogger } from '../../daemon/log';
import { LeaseRunner } from '../../daemon/lease-runner';
import { nativePort } from '../../daemon/transport/pod-port';
import { ensureLinkUp, linkInfo } from '../../daemon/transport/netns';
import {
  Topology,
  cniMacvlan,
  createTopology,
  macvlanConfig,
  startCapture,
  startTsDaemon,
  waitFor,
  type DhcpServer,
  type ServerOptions,
  type TsDaemon,
  dhcpOf,
} from './lib';

export interface LifecycleOptions {
  prefix: string;
  /** Server address / prefix, e.g. '198.19.34.1/23'. */
  lanCidr: string;
  range: [string, string];
  /** An address the server NAKs in INIT-REBOOT (outside its pool, or its subnet). */
  outsideRange: string;
  /** Short leases (20 s) let the suite watch T1, T2 and expiry; dnsmasq enforces 2 minutes and skips expiry. */
  shortLease: boolean;
  start(topo: Topology, o: ServerOptions): Promise<DhcpServer>;
}

async function eth1State(topo: Topology, pod: number): Promise<{ up: boolean; addresses: string[] }> {
  const [link] = JSON.parse(await topo.exec(topo.podNs(pod), 'ip', ['-j', '-4', 'addr', 'show', 'dev', 'eth1'])) as {
    flags: string[];
    addr_info: { local: string }[];
  }[];
  return { up: link?.flags.includes('UP') ?? false, addresses: link?.addr_info.map((a) => a.local) ?? [] };
}

/** A macvlan eth1 in the pod made by hand, for the runner tests that drive LeaseRunner directly (INIT-REBOOT). */
async function bareEth1(topo: Topology, pod: number): Promise<string> {
  const tmp = `tslmv${pod}`;
  await topo.exec(topo.nodeNs, 'ip', ['link', 'add', tmp, 'link', topo.nodeNic, 'type', 'macvlan', 'mode', 'bridge']);
  await topo.exec(topo.nodeNs, 'ip', ['link', 'set', tmp, 'netns', topo.podNs(pod)]);
  await topo.exec(topo.podNs(pod), 'ip', ['link', 'set', tmp, 'name', 'eth1']);
  return (await ensureLinkUp(topo.netnsPath(pod), 'eth1', 5000)).mac;
}

async function directRunner(topo: Topology, pod: number, mac: string, clientText: string): Promise<LeaseRunner> {
  const cfg: ClientConfig = {
    chaddr: mac,
    clientId: Buffer.concat([Buffer.from([0]), Buffer.from(clientText)]).toString('hex'),
    paramRequestList: [1, 3, 51, 58, 59],
    provide: [],
    broadcastFlag: false,
    maxMessageSize: 1500,
    timing: {
      firstRetransmitMs: 1000,
      maxRetransmitMs: 4000,
      jitterMs: 100,
      minRenewRetransmitMs: 60_000,
      requestRetries: 4,
    },
  };
  const netnsPath = topo.netnsPath(pod);
  const id = await nativePort.netnsId(netnsPath);
  assert.ok(!(id instanceof Error), String(id));
  return new LeaseRunner(
    {
      containerId: clientText,
      network: 'lan',
      ifName: 'eth1',
      netns: netnsPath,
      args: {},
      paramRequestList: cfg.paramRequestList,
      provide: [],
    },
    cfg,
    {
      pod: nativePort.side({ path: netnsPath, ...id }, 'eth1'),
      now: Date.now,
      rng: seededRng(pod),
      log: createLogger('silent'),
    },
  );
}

export function lifecycleSuite(name: string, o: LifecycleOptions): void {
  describe(`lease lifecycle against ${name}`, () => {
    let topo: Topology;
    let server: DhcpServer;
    let daemon: TsDaemon;
    const serverOpts: ServerOptions = o.shortLease
      ? { range: o.range, leaseTime: 20, renewTime: 5, rebindTime: 10 }
      : { range: o.range, leaseTime: 120, renewTime: 4, rebindTime: 10 };

    before(async () => {
      topo = await createTopology({ prefix: o.prefix, lanCidr: o.lanCidr, pods: 5 });
      server = await o.start(topo, serverOpts);
      daemon = await startTsDaemon(topo);
    });
    after(() => topo.destroy());

    const add = async (pod: number) => {
      const out = await cniMacvlan(topo, {
        command: 'ADD',
        containerId: `c${pod}`,
        podIndex: pod,
        config: macvlanConfig(topo, daemon),
      });
      assert.equal(out.code, 0, out.stdout + out.stderr);
      return (out.json?.ips?.[0]?.address as string).split('/')[0] as string;
    };
    const logsOf = (pod: number, msg: string) =>
      daemon.logs().filter((l) => l.containerId === `c${pod}` && l.msg === msg);

    describe('leases held side by side', { concurrency: true }, () => {
      test('DORA; RENEW at T1 is unicast from the lease and ACKed; RELEASE leaves the server lease store', async () => {
        const capture = await startCapture(topo, topo.lanNs, topo.lanPort, `udp port 67 or udp port 68`);
        const leased = await add(1);
        await waitFor('a renewal', () => logsOf(1, 'renewed').length >= 1, 15_000, 200);
        const packets = await capture.stop();
        const kinds = packets.filter((p) => p.dstPort === 67).map((p) => messageType(dhcpOf(p) as DhcpMessage));
        assert.ok(kinds.includes(MessageType.DISCOVER), `DISCOVER seen (${kinds})`);
        const renew = packets.find((p) => p.dstPort === 67 && p.ipSrc === leased);
        assert.ok(renew, 'a REQUEST from the leased address');
        assert.equal(renew.ipDst, server.serverIp, 'unicast to the server');
        const msg = dhcpOf(renew) as DhcpMessage;
        assert.equal(msg.ciaddr, leased);
        assert.equal(requestedIp(msg), undefined);
        assert.equal(serverId(msg), undefined);
        assert.ok(
          packets.map(dhcpOf).some((m) => m && messageType(m) === MessageType.ACK && m.xid === msg.xid),
          'the RENEW was ACKed',
        );

        const del = await cniMacvlan(topo, {
          command: 'DEL',
          containerId: 'c1',
          podIndex: 1,
          config: macvlanConfig(topo, daemon),
        });
        assert.equal(del.code, 0, del.stdout + del.stderr);
        await waitFor(
          `${name} to drop ${leased} after RELEASE`,
          () => !server.leases().some((l) => l.ip === leased),
          10_000,
          100,
        );
      });

      test('REBIND: with unicast to the server dropped, T2 brings a broadcast REQUEST with ciaddr, and it is ACKed', async (t) => {
        const leased = await add(2);
        // In the LAN namespace, before the server's sockets (Kea and dhcpd read raw frames, below the IP layer's
        // firewall): drop this client's unicast to port 67 as the bridge receives it.
        const table = 'tslrebind';
        await topo.exec(topo.lanNs, 'nft', ['add', 'table', 'bridge', table]);
        t.after(() => topo.exec(topo.lanNs, 'nft', ['delete', 'table', 'bridge', table]).catch(() => undefined));
        await topo.exec(topo.lanNs, 'nft', [
          'add',
          'chain',
          'bridge',
          table,
          'in',
          '{ type filter hook input priority -200 ; }',
        ]);
        await topo.exec(topo.lanNs, 'nft', [
          'add',
          'rule',
          'bridge',
          table,
          'in',
          'ip',
          'saddr',
          leased,
          'ip',
          'daddr',
          server.serverIp,
          'udp',
          'dport',
          '67',
          'drop',
        ]);
        const capture = await startCapture(topo, topo.lanNs, topo.lanPort);
        await waitFor('a rebinding', () => logsOf(2, 'rebound').length >= 1, 20_000, 200);
        const packets = await capture.stop();
        const rebind = packets
          .map(dhcpOf)
          .find(
            (m) =>
              m &&
              m.ciaddr === leased &&
              messageType(m) === MessageType.REQUEST &&
              packets.some((p) => p.ipDst === '255.255.255.255' && dhcpOf(p)?.xid === m.xid),
          );
        assert.ok(rebind, 'a broadcast REQUEST with ciaddr = the lease');
        assert.equal(serverId(rebind), undefined, 'no option 54 in REBINDING');
        assert.ok(
          packets.map(dhcpOf).some((m) => m && messageType(m) === MessageType.ACK && m.xid === rebind.xid),
          'the REBIND was ACKed',
        );
        const lease = (await daemon.rpc('leases', {})).find((l) => l.containerId === 'c2');
        assert.equal(lease?.address, leased);
      });

      test('INIT-REBOOT for a held lease is ACKed; for an address outside the pool NAK → INIT → a new lease', async (t) => {
        const mac = await bareEth1(topo, 3);
        const first = await directRunner(topo, 3, mac, 'tsl-reboot');
        t.after(() => first.stop('test over'));
        first.start();
        const facts = await first.waitBound(15_000);
        first.stop('daemon restart stand-in'); // no RELEASE: the server still holds the lease
        const capture = await startCapture(topo, topo.lanNs, topo.lanPort);
        const again = await directRunner(topo, 3, mac, 'tsl-reboot');
        t.after(() => again.stop('test over'));
        again.start({ address: facts.address });
        const rebooted = await again.waitBound(15_000);
        assert.equal(rebooted.address, facts.address);
        assert.deepEqual(
          again.transitions.slice(0, 2).map((x) => x.to),
          ['REBOOTING', 'BOUND'],
        );
        // Other pods of this suite renew meanwhile: pick this client's REQUEST by its chaddr.
        const req = (await capture.stop())
          .map(dhcpOf)
          .find((m) => m && messageType(m) === MessageType.REQUEST && macToString(m.chaddr) === mac);
        assert.ok(req, 'an INIT-REBOOT REQUEST');
        assert.equal(requestedIp(req), facts.address);
        assert.equal(serverId(req), undefined);
        assert.equal(req.ciaddr, '0.0.0.0');

        const mac4 = await bareEth1(topo, 4);
        const foreign = await directRunner(topo, 4, mac4, 'tsl-foreign');
        t.after(() => foreign.stop('test over'));
        foreign.start({ address: o.outsideRange });
        const fresh = await foreign.waitBound(20_000);
        assert.notEqual(fresh.address, o.outsideRange);
        assert.ok(
          foreign.transitions.some((x) => x.from === 'REBOOTING' && x.why.startsWith('NAK')),
          JSON.stringify(foreign.transitions),
        );
        assert.equal(foreign.state.state, 'BOUND');
      });
    });

    if (o.shortLease)
      test('server stopped: RENEWING → REBINDING → expired → address removed, link up; server back: same address restored', async () => {
        const leased = await add(5);
        assert.deepEqual(await eth1State(topo, 5), { up: true, addresses: [leased] });
        // The link must never go down: sampled all along.
        let wentDown = false;
        let lease: LeaseDetail;
        const c5 = { containerId: 'c5', network: 'lan', ifName: 'eth1' };
        const watch = setInterval(
          () =>
            void linkInfo(topo.netnsPath(5), 'eth1').then(
              (l) => (wentDown ||= !l.up),
              () => {},
            ),
          100,
        );
        try {
          await server.stop();
          await waitFor('expiry', () => logsOf(5, 'lease expired').length >= 1, 30_000, 200);
          const path = daemon
            .logs()
            .filter((l) => l.containerId === 'c5' && l.msg === 'state')
            .map((l) => `${l.from}>${l.to}`);
          for (const step of ['BOUND>RENEWING', 'RENEWING>REBINDING', 'REBINDING>SELECTING'])
            assert.ok(path.includes(step), `${step} in ${path}`);
          await waitFor(
            'the expired address off eth1',
            async () => (await eth1State(topo, 5)).addresses.length === 0,
            10_000,
            100,
          );
          await server.restart();
          await waitFor('the lease back', async () => (await eth1State(topo, 5)).addresses.length === 1, 30_000, 200);
          // The note comes after the link changes and the record's fsync: what is read below is done.
          lease = await daemon.noted(c5, ' restored on the interface');
          assert.ok(lease.transitions.some((x) => x.to === 'BOUND' && x.why.endsWith(' restored on the interface')));
        } finally {
          clearInterval(watch);
        }
        assert.equal(wentDown, false, 'eth1 stayed up');
        assert.equal(lease.address, leased);
        assert.deepEqual(await eth1State(topo, 5), { up: true, addresses: [leased] });
        const whys = lease.transitions.map((x) => x.why);
        assert.ok(
          whys.some(
            (w) =>
              w.startsWith(`lease on ${leased} expired; ${leased}/`) &&
              w.endsWith(' removed from the interface (link stays up)'),
          ),
          whys.join(' | '),
        );
        assert.ok(
          whys.some((w) => w.includes(`; ${leased}/`) && w.endsWith(' restored on the interface')),
          whys.join(' | '),
        );
        assert.equal((await linkInfo(topo.netnsPath(5), 'eth1')).up, true);
      });
  });
}
