// Bounded ADD on the wire (issue 3): no server → CNI error 11 within the deadline, naming what was tried; the
// acquisition goes on and a repeated ADD joins it; DEL cancels; -add-timeout and ipam.timeout; ipam.broadcast sets
// the BOOTP broadcast flag; dnsmasq's ping check and 50 parallel ADDs still give every pod a distinct lease.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { messageType } from '../../daemon/dhcp/options';
import { FLAG_BROADCAST, MessageType } from '../../daemon/dhcp/types';
import {
  Topology,
  cniIpam,
  cniMacvlan,
  createTopology,
  macvlanConfig,
  startCapture,
  startDnsmasq,
  startTsDaemon,
  type DhcpServer,
  type TsDaemon,
  dhcpOf,
} from './lib';

describe('ADD with no server on the segment', () => {
  let topo: Topology;
  let daemon: TsDaemon;
  let dnsmasq: DhcpServer | undefined;

  before(async () => {
    topo = await createTopology({ prefix: 'tsl-a-', lanCidr: '198.19.38.1/23', pods: 3 });
    daemon = await startTsDaemon(topo, { args: ['--add-timeout', '2s', '-timeout', '1s', '-resendmax', '2s'] });
  });
  after(() => topo.destroy());

  test('code 11 within the deadline naming the DISCOVERs; a repeated ADD joins the acquisition once a server answers', async () => {
    const [withKey, withFlag] = await Promise.all([
      cniMacvlan(topo, {
        command: 'ADD',
        containerId: 'a1',
        podIndex: 1,
        config: macvlanConfig(topo, daemon, { timeout: '3s' }),
      }),
      cniMacvlan(topo, { command: 'ADD', containerId: 'a2', podIndex: 2, config: macvlanConfig(topo, daemon) }),
    ]);
    for (const [out, secs] of [
      [withKey, 3],
      [withFlag, 2],
    ] as const) {
      assert.equal(out.code, 1, out.stdout);
      assert.equal(out.json?.code, 11, out.stdout);
      assert.match(
        out.json?.msg as string,
        new RegExp(`^no lease within ${secs}s: \\d+ DISCOVERs? on eth1 in /\\S+, no OFFER`),
      );
      assert.ok(out.durationMs < secs * 1000 + 4000, `answered in ${out.durationMs} ms`);
    }
    // DEL cancels a background acquisition.
    const del = await cniMacvlan(topo, {
      command: 'DEL',
      containerId: 'a2',
      podIndex: 2,
      config: macvlanConfig(topo, daemon),
    });
    assert.equal(del.code, 0, del.stdout);
    assert.deepEqual(
      (await daemon.rpc('leases', {})).map((l) => [l.containerId, l.state]),
      [['a1', 'SELECTING']],
    );

    dnsmasq = await startDnsmasq(topo, { range: ['198.19.39.10', '198.19.39.100'] });
    // The runtime's retry reaches the IPAM plugin for the eth1 the first ADD left in place.
    const again = await cniIpam(topo, {
      command: 'ADD',
      containerId: 'a1',
      podIndex: 1,
      config: macvlanConfig(topo, daemon, { timeout: '20s' }),
    });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.json?.ips?.[0]?.address as string, /^198\.19\.39\.\d+\/23$/);
    const starts = daemon.logs().filter((l) => l.containerId === 'a1' && l.msg === 'state' && l.from === 'INIT');
    assert.equal(starts.length, 1, 'one acquisition, joined by the second ADD');
  });

  test('ipam.broadcast sets the BOOTP broadcast flag on DISCOVER and REQUEST', async () => {
    assert.ok(dnsmasq, 'the server of the previous test');
    const capture = await startCapture(topo, topo.lanNs, topo.lanPort);
    const out = await cniMacvlan(topo, {
      command: 'ADD',
      containerId: 'a3',
      podIndex: 3,
      config: macvlanConfig(topo, daemon, { broadcast: true, timeout: '20s' }),
    });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const sent = (await capture.stop()).filter((p) => p.dstPort === 67).map(dhcpOf);
    const kinds = sent.map((m) => m && messageType(m));
    assert.ok(kinds.includes(MessageType.DISCOVER) && kinds.includes(MessageType.REQUEST), `${kinds}`);
    for (const m of sent) assert.equal((m?.flags ?? 0) & FLAG_BROADCAST, FLAG_BROADCAST);
    const replies = (await daemon.rpc('leases', {})).filter((l) => l.containerId === 'a3');
    assert.equal(replies[0]?.state, 'BOUND');
  });
});

async function parallelAdds(
  prefix: string,
  lanCidr: string,
  range: [string, string],
  pods: number,
  ping: boolean,
): Promise<void> {
  const topo = await createTopology({ prefix, lanCidr, pods });
  try {
    await startDnsmasq(topo, { range, ping });
    const daemon = await startTsDaemon(topo);
    const outs = await Promise.all(
      Array.from({ length: pods }, (_, i) =>
        cniMacvlan(topo, {
          command: 'ADD',
          containerId: `p${i + 1}`,
          podIndex: i + 1,
          config: macvlanConfig(topo, daemon),
        }),
      ),
    );
    const failures = outs.filter((o) => o.code !== 0).map((o) => o.stdout);
    assert.deepEqual(failures, []);
    const addresses = outs.map((o) => o.json?.ips?.[0]?.address);
    assert.equal(new Set(addresses).size, pods, `distinct: ${addresses.join(' ')}`);
    const leases = await daemon.rpc('leases', {});
    assert.equal(leases.filter((l) => l.state === 'BOUND').length, pods);
  } finally {
    await topo.destroy();
  }
}

describe('parallel ADDs against dnsmasq', { concurrency: true }, () => {
  test('with its ping check on, 10 parallel ADDs all get a lease within the default deadline', () =>
    parallelAdds('tsl-p-', '198.19.40.1/23', ['198.19.41.10', '198.19.41.200'], 10, true));
  test('50 parallel ADDs: 50 distinct leases, no failure', () =>
    parallelAdds('tsl-m-', '198.19.42.1/23', ['198.19.43.10', '198.19.43.250'], 50, false));
});
