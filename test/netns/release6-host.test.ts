// A DHCPv6 lease whose pod side is gone goes back to the server from the node (daemon/host-release.ts), as the IPv4
// one does (release-fallback.test.ts): a lease bound with Kea 2.2 through the real [::]:546 channel, its record in
// the daemon's state dir, the pod deleted while the daemon is down; at the next start the dead attachment's RELEASE
// goes from the daemon's netns — to ff02::1:2 on the record's master when the node has no route to the server's
// UNICAST address, unicast once it has one — and Kea frees the lease (its lease file says valid lifetime 0).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { duidUuid } from '../../daemon/dhcp6/duid';
import type { Lease6State } from '../../daemon/dhcp6/lease';
import type { Logger } from '../../daemon/log';
import { record6Of } from '../../daemon/record6';
import { LeaseStore, recordName } from '../../daemon/store';
import { readyLinkLocal } from '../../daemon/transport/link6';
import { linkInfo } from '../../daemon/transport/netns';
import { Topology, createTopology, startTsDaemon, waitFor } from './lib';
import { Driver, IF, Kea6, SERVER6, SUBNET, dualStack, podWithMacvlan, startKea6 } from './lib/dhcp6';

const QUIET = { error: () => {}, info: () => {}, warn: () => {} } as unknown as Logger;

describe('DHCPv6 RELEASE from the node when the pod side is gone (Kea 2.2)', () => {
  let topo: Topology;
  let kea: Kea6;

  before(async () => {
    topo = await createTopology({ prefix: 'ts6r-', lanCidr: '198.19.66.1/24' });
    await dualStack(topo);
    kea = startKea6(topo);
    await waitFor('Kea started', () => kea.started(), 15_000);
  });
  after(async () => {
    await kea.stop();
    await topo.destroy();
  });

  /** A pod bound by Kea, its lease recorded in a fresh state dir as the daemon records it, then the pod deleted. */
  async function recordedThenGone(
    containerId: string,
    nodeAddress: boolean,
  ): Promise<{ stateDir: string; address: string; key: string }> {
    const { n, netns } = await podWithMacvlan(topo);
    // Added after the pod: adding a pod turns the node's IPv6 off and on again, which drops its addresses.
    if (nodeAddress) await topo.exec(topo.nodeNs, 'ip', ['addr', 'add', `${SUBNET}2/64`, 'dev', topo.nodeNic, 'nodad']);
    await readyLinkLocal(netns, IF, 3000);
    const d = new Driver(netns, duidUuid(`${containerId}/lan/${IF}`), false);
    await d.start();
    await waitFor('bound', () => d.state.state === 'BOUND', 10_000);
    d.stop();
    const address = d.address();
    await waitFor('Kea holds the lease', () => held(address), 3000);
    const reply = d.events.flatMap((e) => ('reply' in e ? [e.reply] : [])).at(-1);
    const params = {
      containerId,
      network: 'lan',
      ifName: IF,
      netns,
      args: {},
      paramRequestList: [1, 3, 6],
      provide: [],
      master: topo.nodeNic,
    };
    const stateDir = topo.tempDir(`state-${containerId}`);
    const store = new LeaseStore(stateDir, QUIET, { now: Date.now });
    await store.init();
    const key = `${containerId}/lan/${IF}`;
    const state = d.state as Lease6State;
    const mac = (await linkInfo(netns, IF)).mac;
    await store.save(key, record6Of({ params, mac, cfg: d.cfg, state, reply }, fs.statSync(netns).ino, Date.now()));
    await topo.removePod(n);
    return { stateDir, address, key };
  }

  /** Kea's latest row for the address is live (valid lifetime > 0). */
  function held(address: string): boolean {
    const row = kea
      .leases()
      .filter((l) => l[0] === address)
      .at(-1);
    return row !== undefined && row[2] !== '0';
  }

  async function restartReleases(
    containerId: string,
    nodeAddress = false,
  ): Promise<{ hostRelease: string; address: string }> {
    const { stateDir, address, key } = await recordedThenGone(containerId, nodeAddress);
    const daemon = await startTsDaemon(topo, { stateDir });
    try {
      await waitFor(`Kea to free ${address}`, () => !held(address), 10_000, 100).catch((err: Error) => {
        throw new Error(`${err.message}; daemon: ${fs.readFileSync(daemon.logFile, 'utf8')}`);
      });
      // The line follows the record's removal (an fsync), which may end after Kea has freed the lease.
      const droppedLine = () => daemon.logs().find((l) => l.msg === 'stored lease dropped: attachment gone');
      await waitFor('the drop logged', () => droppedLine() !== undefined, 3000).catch(() => undefined);
      const dropped = droppedLine();
      assert.ok(dropped, 'the dead attachment was dropped at start');
      assert.equal(dropped.family, undefined);
      const file = path.join(stateDir, 'leases', recordName(key, 'ipv6'));
      await waitFor('the record removed', () => !fs.existsSync(file), 3000);
      return { hostRelease: String(dropped.hostRelease), address };
    } finally {
      await daemon.stop();
    }
  }

  test('no route from the node to the UNICAST address: ff02::1:2 on the master, and Kea frees the lease', async () => {
    const { hostRelease, address } = await restartReleases('v6gone1');
    assert.ok(address.startsWith(SUBNET));
    assert.match(
      hostRelease,
      new RegExp(`^RELEASE sent from the host to ff02::1:2%${topo.nodeNic} \\(unicast to ${SERVER6}: .*ENETUNREACH`),
    );
  });

  test('the node has an address on the LAN: unicast to the server, and Kea frees the lease', async () => {
    const { hostRelease } = await restartReleases('v6gone2', true);
    assert.equal(hostRelease, `RELEASE sent from the host to ${SERVER6}`);
  });
});
