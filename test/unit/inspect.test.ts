// The lease view's formatting: human times, the table, one lease in full, status, finding a lease by what an
// operator types, and colour only where asked.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LeaseDetail, LeaseView, StatusResult } from '../../common/rpc';
import { parseInspectArgs } from '../../client/inspect';
import {
  familiesOf,
  leaseDetailText,
  leasesTable,
  podName,
  resolveLease,
  shortDuid,
  statusText,
} from '../../client/lease-text';
import { COLOUR, PLAIN, humanDelta, humanDuration, styleFor } from '../../client/terminal';

const NOW = Date.parse('2026-01-02T10:00:00.000Z');
const iso = (deltaS: number) => new Date(NOW + deltaS * 1000).toISOString();
const ANSI = /\x1b\[[0-9;]*m/g;

const web1: LeaseView = {
  containerId: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
  network: 'lan',
  ifName: 'eth1',
  family: 'ipv4',
  netns: '/var/run/netns/cni-1',
  args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'web-1', IgnoreUnknown: '1' },
  mac: '02:42:c6:13:30:0a',
  state: 'BOUND',
  address: '198.19.49.10',
  prefixLength: 22,
  serverId: '198.19.48.1',
  t1At: iso(192),
  t2At: iso(400),
  expiresAt: iso(600),
};
const bare: LeaseView = {
  containerId: 'ffeeddccbbaa99887766',
  network: 'lan',
  ifName: 'eth1',
  family: 'ipv4',
  netns: '/var/run/netns/x',
  args: {},
  mac: '02:00:00:00:00:01',
  state: 'SELECTING',
  lastError: 'no OFFER yet',
};

describe('human times', () => {
  test("durations at an operator's precision", () => {
    assert.equal(humanDuration(0), '0s');
    assert.equal(humanDuration(59_400), '59s');
    assert.equal(humanDuration(192_000), '3m12s');
    assert.equal(humanDuration(7_500_000), '2h05m');
    assert.equal(humanDuration(86_400_000 + 4 * 3_600_000), '1d04h');
  });
  test('future is "in …", past is "… ago"', () => {
    assert.equal(humanDelta(192_000), 'in 3m12s');
    assert.equal(humanDelta(-5_000), '5s ago');
    assert.equal(humanDelta(-200), 'in 0s', 'rounding to now is not "ago"');
  });
});

describe('leases table', () => {
  test('one row per lease, pod name from CNI_ARGS, else the container id shortened', () => {
    const out = leasesTable([web1, bare], NOW);
    const lines = out.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.match(
      lines[0] as string,
      /^POD\s+NETWORK\s+IFACE\s+ADDRESS\s+SERVER\s+STATE\s+RENEWS\s+EXPIRES\s+LAST ERROR$/,
    );
    const row = lines.find((l) => l.startsWith('default/web-1')) as string;
    assert.deepEqual(row.split(/\s{2,}/), [
      'default/web-1',
      'lan',
      'eth1',
      '198.19.49.10/22',
      '198.19.48.1',
      'BOUND',
      'in 3m12s',
      'in 10m00s',
    ]);
    const other = lines.find((l) => l.startsWith('ffeeddccbbaa ')) as string;
    assert.deepEqual(other.split(/\s{2,}/), [
      'ffeeddccbbaa',
      'lan',
      'eth1',
      '-',
      '-',
      'SELECTING',
      '-',
      '-',
      'no OFFER yet',
    ]);
    assert.equal(podName({ ...bare, args: { K8S_POD_NAME: 'solo' } }), 'solo');
    assert.equal(podName({ ...bare, containerId: 'short' }), 'short');
  });

  test('colour does not change the layout, and plain output has no escape codes', () => {
    const plain = leasesTable([web1, bare], NOW, PLAIN);
    const coloured = leasesTable([web1, bare], NOW, COLOUR);
    assert.doesNotMatch(plain, ANSI);
    assert.match(coloured, /\x1b\[32mBOUND/);
    assert.match(coloured, /\x1b\[31mno OFFER yet/);
    assert.equal(coloured.replace(ANSI, ''), plain);
  });

  test('an empty table says so', () => {
    assert.equal(leasesTable([], NOW), 'no leases\n');
  });
});

test('colour only on a terminal, and never with NO_COLOR or TERM=dumb', () => {
  assert.equal(styleFor({ isTTY: true }, {}), COLOUR);
  assert.equal(styleFor({ isTTY: false }, {}), PLAIN);
  assert.equal(styleFor({}, {}), PLAIN);
  assert.equal(styleFor({ isTTY: true }, { NO_COLOR: '' }), PLAIN);
  assert.equal(styleFor({ isTTY: true }, { TERM: 'dumb' }), PLAIN);
});

test('one lease in full: facts, times with their ISO stamps, transitions newest first', () => {
  const d: LeaseDetail = {
    ...web1,
    facts: {
      address: '198.19.49.10',
      prefixLength: 22,
      gateway: '198.19.48.254',
      serverId: '198.19.48.1',
      leaseTimeS: 600,
      mtu: 1500,
      routes: [{ dst: '0.0.0.0/0', gw: '198.19.48.254' }, { dst: '10.0.0.0/8' }],
      dns: { nameservers: ['198.19.48.1'], domain: 'home.lan', search: ['home.lan', 'lan'] },
    },
    transitions: [
      { at: iso(-30), from: 'INIT', to: 'SELECTING', why: 'start' },
      { at: iso(-29), from: 'SELECTING', to: 'REQUESTING', why: 'OFFER' },
      { at: iso(-28), from: 'REQUESTING', to: 'BOUND', why: 'ACK' },
    ],
  };
  const out = leaseDetailText(d, NOW);
  assert.match(out, /^Lease a1b2c3d4e5f60718293a4b5c6d7e8f90\/lan\/eth1\n/);
  assert.match(out, /\n {2}pod +default\/web-1\n/);
  assert.match(out, /\n {2}interface +eth1 \(MAC 02:42:c6:13:30:0a\)\n/);
  assert.match(out, /\n {2}gateway +198\.19\.48\.254\n/);
  assert.match(out, /\n {2}lease time +10m00s\n/);
  assert.match(out, new RegExp(`\\n {2}renews \\(T1\\) +in 3m12s \\(${iso(192).replace(/\./g, '\\.')}\\)\\n`));
  assert.match(out, /\n {2}routes +0\.0\.0\.0\/0 via 198\.19\.48\.254, 10\.0\.0\.0\/8 on-link\n/);
  assert.match(out, /\n {2}search +home\.lan lan\n/);
  assert.match(out, /\n {2}CNI_ARGS +K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-1;IgnoreUnknown=1\n/);
  const table = out.slice(out.indexOf('Recent transitions'));
  const rows = table
    .trimEnd()
    .split('\n')
    .slice(2)
    .map((l) => l.trim().split(/\s{2,}/));
  assert.deepEqual(rows, [
    ['28s ago', 'REQUESTING', 'BOUND', 'ACK'],
    ['29s ago', 'SELECTING', 'REQUESTING', 'OFFER'],
    ['30s ago', 'INIT', 'SELECTING', 'start'],
  ]);
  assert.match(leaseDetailText({ ...bare, transitions: [] }, NOW), /Recent transitions: none\n$/);
});

test('status: version, uptime, socket, state dir, counts by state', () => {
  const s: StatusResult = {
    version: '0.1.0',
    pid: 42,
    uptimeS: 3 * 3600 + 120,
    socketPath: '/run/cni/ts-dhcp.sock',
    stateDir: '/var/lib/ts-dhcp',
    leases: { SELECTING: 1, BOUND: 3 },
  };
  assert.equal(
    statusText(s),
    'daemon     running, version 0.1.0, pid 42, up 3h02m\n' +
      'socket     /run/cni/ts-dhcp.sock\n' +
      'state dir  /var/lib/ts-dhcp\n' +
      'leases     4 (3 BOUND, 1 SELECTING)\n',
  );
  assert.match(statusText({ ...s, leases: {} }), /\nleases +none\n/);
  assert.match(
    statusText({ ...s, recordErrors: 2 }),
    /\nrecords +2 lease records cannot be written \(disk full\?\); retrying\n/,
  );
});

test('every string from the daemon is printed escaped: no control or bidi character reaches the terminal', () => {
  const hostile: LeaseDetail = {
    ...web1,
    args: { K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'web\x1b]0;owned\x07-1' },
    lastError: 'NAK: \x1b[2Jgone\r\u202eevil',
    transitions: [{ at: iso(-5), from: 'REBOOTING', to: 'SELECTING', why: 'NAK: \x9b31m' }],
  };
  const text =
    leaseDetailText(hostile, NOW) +
    leasesTable([hostile], NOW) +
    statusText({ version: '\x1b[1m', pid: 1, uptimeS: 1, socketPath: '/s', leases: { '\x07': 1 } });
  assert.doesNotMatch(text.replace(/\n/g, ''), /[\x00-\x1f\x7f-\x9f\u202a-\u202e]/);
  assert.match(text, /web\\x1b\]0;owned\\x07-1/);
  assert.match(text, /\\u202eevil/);
});

describe('DHCPv6 leases in the view', () => {
  const SERVER_DUID = '000100012c0d4a1e0200c6121601';
  const web1v6: LeaseView = {
    ...web1,
    family: 'ipv6',
    address: 'fd00:198:18:16::142',
    prefixLength: 64,
    serverId: SERVER_DUID,
    duid: '0004' + '6c1f0b0e8f0a5d6e9a3b2f1d5c7e9a10',
    iaid: 0x0a0b0c0d,
    preferredUntil: iso(300),
    t1At: iso(150),
    t2At: iso(240),
    expiresAt: iso(600),
  };
  const bare6: LeaseView = { ...bare, family: 'ipv6', state: 'SELECTING', lastError: '3 SOLICITs, no ADVERTISE' };

  test("the table: an attachment's IPv6 row after its IPv4 one; the server by unicast address or short DUID", () => {
    const lines = leasesTable([web1v6, bare6, web1, bare], NOW).trimEnd().split('\n');
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(/\s{2,}/)),
      [
        ['default/web-1', 'lan', 'eth1', '198.19.49.10/22', '198.19.48.1', 'BOUND', 'in 3m12s', 'in 10m00s'],
        [
          'default/web-1',
          'lan',
          'eth1',
          'fd00:198:18:16::142/64',
          '0001..0200c6121601',
          'BOUND',
          'in 2m30s',
          'in 10m00s',
        ],
        ['ffeeddccbbaa', 'lan', 'eth1', '-', '-', 'SELECTING', '-', '-', 'no OFFER yet'],
        ['ffeeddccbbaa', 'lan', 'eth1', '(v6)', '-', 'SELECTING', '-', '-', '3 SOLICITs, no ADVERTISE'],
      ],
    );
    const unicast = leasesTable([{ ...web1v6, serverAddress: 'fd00:198:18:16::1' }], NOW);
    assert.match(unicast, /fd00:198:18:16::142\/64 +fd00:198:18:16::1 +BOUND/);
    assert.equal(shortDuid('00030001020000000001'), '00030001020000000001', 'short DUIDs whole');
  });

  test('one IPv6 lease in full: DUID and IAID, the server, preferred and valid ends, T1/T2; no IPv4-only lines', () => {
    const out = leaseDetailText({ ...web1v6, serverAddress: 'fd00:198:18:16::1', transitions: [] }, NOW);
    assert.match(out, /^Lease a1b2c3d4e5f60718293a4b5c6d7e8f90\/lan\/eth1 \(IPv6\)\n/);
    assert.match(out, /\n {2}family +IPv6 \(DHCPv6\)\n/);
    assert.match(out, /\n {2}address +fd00:198:18:16::142\/64\n/);
    assert.match(out, /\n {2}client DUID +00046c1f0b0e8f0a5d6e9a3b2f1d5c7e9a10 \(IAID 168496141\)\n/);
    assert.match(out, new RegExp(`\\n {2}server +DUID ${SERVER_DUID}\\n`));
    assert.match(out, /\n {2}server unicast +fd00:198:18:16::1\n/);
    assert.match(out, new RegExp(`\\n {2}preferred until +in 5m00s \\(${iso(300).replace(/\./g, '\\.')}\\)\\n`));
    assert.match(out, /\n {2}renews \(T1\) +in 2m30s /);
    assert.match(out, /\n {2}expires +in 10m00s /);
    assert.doesNotMatch(out, /\n {2}(gateway|lease time|routes|mtu|changed to) /);
    assert.match(
      leaseDetailText({ ...bare6, transitions: [] }, NOW),
      /\n {2}server unicast +- \(RENEW to ff02::1:2\)\n/,
    );
    assert.match(leaseDetailText({ ...web1, transitions: [] }, NOW), /\n {2}family +IPv4 \(DHCPv4\)\n {2}state/);
  });

  test("a dual-stack attachment's two rows are one match: its IPv4 row, and both families", () => {
    for (const id of ['web-1', web1.containerId, `${web1.containerId}/lan/eth1`]) {
      assert.equal(resolveLease([web1v6, web1, bare], id), web1, id);
    }
    assert.deepEqual(familiesOf([web1v6, web1, bare], web1), ['ipv4', 'ipv6']);
    assert.deepEqual(familiesOf([web1v6, bare], web1v6), ['ipv6']);
    assert.equal(resolveLease([web1v6], 'web-1'), web1v6, 'an IPv6-only attachment');
  });
});

describe('finding the lease an operator means', () => {
  const eth2: LeaseView = { ...web1, ifName: 'eth2', address: '198.19.50.3' };
  test('by pod NAMESPACE/NAME, pod name, container id, its prefix, or the full key', () => {
    for (const id of ['default/web-1', 'web-1', web1.containerId, 'a1b2c3', `${web1.containerId}/lan/eth1`]) {
      assert.equal(resolveLease([web1, bare], id), web1, id);
    }
  });
  test('an ambiguous or unknown id is an error that says what to type', () => {
    const amb = resolveLease([web1, eth2], 'web-1');
    assert.ok(amb instanceof Error);
    assert.match(amb.message, /matches 2 leases: .*\/lan\/eth1, .*\/lan\/eth2/);
    assert.equal(resolveLease([web1, eth2], 'default/web-1/eth2'), eth2);
    assert.equal(resolveLease([web1, eth2], `${web1.containerId}/lan/eth2`), eth2);
    const none = resolveLease([web1], 'nope');
    assert.ok(none instanceof Error);
    assert.match(none.message, /no lease matches "nope"/);
    assert.ok(resolveLease([web1], 'a1b') instanceof Error, 'prefixes shorter than 4 do not match');
  });
});

test('arguments: --json, --watch with --interval, show ID, and the errors', () => {
  assert.deepEqual(parseInspectArgs('leases', ['--json', '--socket-path', '/s']), {
    json: true,
    socketPath: '/s',
    watch: false,
    intervalMs: 2000,
  });
  assert.deepEqual(parseInspectArgs('leases', ['--watch', '--interval=500ms']), {
    json: false,
    socketPath: '/run/cni/ts-dhcp.sock',
    watch: true,
    intervalMs: 500,
  });
  assert.equal((parseInspectArgs('leases', ['show', 'web-1', '--json']) as { show?: string }).show, 'web-1');
  assert.match(String(parseInspectArgs('leases', ['show'])), /needs a lease/);
  assert.match(String(parseInspectArgs('leases', ['--watch', '--json'])), /do not go together/);
  assert.match(String(parseInspectArgs('status', ['--watch'])), /unknown argument "--watch"/);
  assert.match(String(parseInspectArgs('leases', ['--interval', '10ms'])), /at least 100ms/);
  assert.match(String(parseInspectArgs('leases', ['--socket-path'])), /needs a value/);
});
