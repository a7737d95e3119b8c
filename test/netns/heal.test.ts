// A true drop-in (issue 14), through the real macvlan plugin and real servers: configs written for the reference
// plugin ADD (unknown keys, a `provide` whose fromArg CNI_ARGS lacks), each ignored part logged once per attachment.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hostName, messageType } from '../../daemon/dhcp/options';
import { MessageType } from '../../daemon/dhcp/types';
import {
  Topology, cniIpam, cniMacvlan, createTopology, dhcpOf, macvlanConfig, startCapture, startDnsmasq, startTsDaemon, waitFor,
  type DhcpServer, type TsDaemon,
} from './lib';

const LAN = '198.19.64.1/22';
const RANGE: [string, string] = ['198.19.65.10', '198.19.65.200'];

describe('reference configs ADD (dnsmasq)', () => {
  let topo: Topology;
  let server: DhcpServer;
  let daemon: TsDaemon;

  before(async () => {
    topo = await createTopology({ prefix: 'tsh-c-', lanCidr: LAN, pods: 2 });
    server = await startDnsmasq(topo, { range: RANGE, leaseTime: 600, routers: ['198.19.64.254'] });
    daemon = await startTsDaemon(topo);
  });
  after(async () => {
    await daemon.stop();
    await server.stop();
    await topo.destroy();
  });

  const ignoredLines = (containerId: string) =>
    daemon.logs().filter((l) => l.msg === 'network config: parts ignored' && l.containerId === containerId);

  test('unknown IPAM keys (another tool\'s, the reference docs\' "optional") are accepted and logged once per attachment', async () => {
    const config = macvlanConfig(topo, daemon, {
      'k8s.v1.cni.cncf.io/networkName': 'lan', resendMax: '10s',
      request: [{ option: 'domain-name-servers', optional: true }],
    });
    const first = await cniMacvlan(topo, { command: 'ADD', containerId: 'unknown1', podIndex: 1, config });
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const cidr = first.json?.ips?.[0]?.address as string;
    assert.match(await topo.exec(topo.podNs(1), 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth1']), new RegExp(` ${cidr.replace(/\./g, '\\.')} `));
    await waitFor('the warning', () => ignoredLines('unknown1').length === 1, 5000, 100);
    assert.deepEqual(ignoredLines('unknown1')[0]?.warnings, [
      'ipam.k8s.v1.cni.cncf.io/networkName: unsupported field (value "lan"); ignored',
      'ipam.resendMax: unsupported field (value "10s"); ignored',
      'ipam.request[0].optional: unsupported field (value true); ignored',
    ]);
    // A repeated ADD of the same attachment (macvlan execs IPAM again on a runtime retry) answers from the lease and
    // logs nothing again.
    const again = await cniIpam(topo, { command: 'ADD', containerId: 'unknown1', podIndex: 1, config });
    assert.equal(again.json?.ips?.[0]?.address, cidr, again.stdout);
    assert.equal(ignoredLines('unknown1').length, 1, 'logged once per attachment');
    const del = await cniMacvlan(topo, { command: 'DEL', containerId: 'unknown1', podIndex: 1, config });
    assert.equal(del.code, 0, del.stdout + del.stderr);
  });

  test('strict: true rejects an unknown key with code 2 naming it', async () => {
    const out = await cniMacvlan(topo, { command: 'ADD', containerId: 'strict1', podIndex: 1, config: macvlanConfig(topo, daemon, { strict: true, resendMax: '10s' }) });
    assert.equal(out.json?.code, 2, out.stdout);
    assert.equal(out.json?.msg, 'ipam.resendMax: unsupported field (value "10s")');
    await cniMacvlan(topo, { command: 'DEL', containerId: 'strict1', podIndex: 1, config: macvlanConfig(topo, daemon) });
  });

  test('a provide entry whose fromArg CNI_ARGS lacks: the option is not sent, ADD succeeds, the skip is logged once', async () => {
    const config = macvlanConfig(topo, daemon, { provide: [{ option: 'host-name', fromArg: 'K8S_POD_NAME' }] });
    const capture = await startCapture(topo, topo.lanNs, topo.lanPort);
    const out = await cniMacvlan(topo, { command: 'ADD', containerId: 'noarg1', podIndex: 2, config });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const sent = (await capture.stop()).map(dhcpOf).filter((m) => m !== undefined && messageType(m) === MessageType.DISCOVER);
    assert.ok(sent.length > 0, 'a DISCOVER was captured');
    assert.deepEqual(sent.map((m) => m && hostName(m)), sent.map(() => undefined), 'no host-name option');
    await waitFor('the warning', () => ignoredLines('noarg1').length === 1, 5000, 100);
    assert.deepEqual(ignoredLines('noarg1')[0]?.warnings, ['ipam.provide[0].fromArg: CNI_ARGS has no K8S_POD_NAME; option "host-name" not sent']);
    assert.equal((await cniMacvlan(topo, { command: 'DEL', containerId: 'noarg1', podIndex: 2, config })).code, 0);

    // With the arg present the option goes out, and nothing is logged.
    const capture2 = await startCapture(topo, topo.lanNs, topo.lanPort);
    const withArg = await cniMacvlan(topo, { command: 'ADD', containerId: 'arg1', podIndex: 2, config, args: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0' });
    assert.equal(withArg.code, 0, withArg.stdout + withArg.stderr);
    const discovers = (await capture2.stop()).map(dhcpOf).filter((m) => m !== undefined && messageType(m) === MessageType.DISCOVER);
    assert.equal(discovers[0] && hostName(discovers[0]), 'web-0');
    assert.equal(ignoredLines('arg1').length, 0);
    assert.equal((await cniMacvlan(topo, { command: 'DEL', containerId: 'arg1', podIndex: 2, config })).code, 0);
  });
});
