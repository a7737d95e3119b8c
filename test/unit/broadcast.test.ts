// The pod link's kind decides the BOOTP broadcast flag before the network's `broadcast` key and --broadcast do.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { broadcastFlag } from '../../daemon/broadcast';

test("an ipvlan pod link gets the broadcast flag whatever the config says (it shares its parent's MAC)", () => {
  for (const configured of [undefined, false, true]) {
    for (const daemonDefault of [false, true]) assert.equal(broadcastFlag('ipvlan', configured, daemonDefault), true);
  }
});

test("other kinds (and an unknown one) follow the network's broadcast key, else the daemon's --broadcast", () => {
  const table: [string, boolean | undefined, boolean, boolean][] = [
    ['macvlan', undefined, false, false],
    ['macvlan', undefined, true, true],
    ['macvlan', true, false, true],
    ['macvlan', false, true, false],
    ['veth', undefined, false, false],
    ['', undefined, false, false],
    ['', true, false, true],
    ['IPVLAN', undefined, false, false], // ethtool names drivers in lower case; nothing else matches
  ];
  for (const [kind, configured, daemonDefault, want] of table) {
    assert.equal(
      broadcastFlag(kind, configured, daemonDefault),
      want,
      JSON.stringify({ kind, configured, daemonDefault }),
    );
  }
});
