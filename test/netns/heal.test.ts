// A true drop-in, and leases that heal (issue 14), through the real macvlan plugin and real servers: configs written
// for the reference plugin ADD (unknown keys, a `provide` whose fromArg CNI_ARGS lacks), each ignored part logged
// once per attachment; a server that moves the pod to another address re-addresses it in place (link up, ping goes
// on); an expired lease takes its address and routes off the interface and a returning server puts them back.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hostName, messageType, parameterRequestList, requestedIp, serverId } from '../../daemon/dhcp/options';
import { MessageType } from '../../daemon/dhcp/types';
import { linkInfo } from '../../daemon/transport/netns';
import {
  Topology,
  cniIpam,
  cniMacvlan,
  createTopology,
  dhcpOf,
  macvlanConfig,
  startCapture,
  startDnsmasq,
  startKea,
  startTsDaemon,
  waitFor,
  type DhcpServer,
  type TsDaemon,
} from './lib';

const LAN = '198.19.64.1/22';
const RANGE: [string, string] = ['198.19.65.10', '198.19.65.200'];

describe('reference configs ADD (dnsmasq)', () => {
  let topo: Topology;
  let server: DhcpServer;
  let daemon: TsDaemon;

  before(async () => {
    topo = await createTopology({ prefix: 'tsh-c-', lanCidr: LAN, pods: 2 });
    server = await startDnsmasq(topo, {
      range: RANGE,
      leaseTime: 600,
      routers: ['198.19.64.254'],
      extraArgs: ['--dhcp-option=26,1400'],
    });
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
      'k8s.v1.cni.cncf.io/networkName': 'lan',
      resendMax: '10s',
      request: [{ option: 'domain-name-servers', optional: true }],
    });
    const first = await cniMacvlan(topo, { command: 'ADD', containerId: 'unknown1', podIndex: 1, config });
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const cidr = first.json?.ips?.[0]?.address as string;
    assert.match(
      await topo.exec(topo.podNs(1), 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth1']),
      new RegExp(` ${cidr.replace(/\./g, '\\.')} `),
    );
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
    const out = await cniMacvlan(topo, {
      command: 'ADD',
      containerId: 'strict1',
      podIndex: 1,
      config: macvlanConfig(topo, daemon, { strict: true, resendMax: '10s' }),
    });
    assert.equal(out.json?.code, 2, out.stdout);
    assert.equal(out.json?.msg, 'ipam.resendMax: unsupported field (value "10s")');
    await cniMacvlan(topo, {
      command: 'DEL',
      containerId: 'strict1',
      podIndex: 1,
      config: macvlanConfig(topo, daemon),
    });
  });

  test('a provide entry whose fromArg CNI_ARGS lacks: the option is not sent, ADD succeeds, the skip is logged once', async () => {
    const config = macvlanConfig(topo, daemon, { provide: [{ option: 'host-name', fromArg: 'K8S_POD_NAME' }] });
    const capture = await startCapture(topo, topo.lanNs, topo.lanPort);
    const out = await cniMacvlan(topo, { command: 'ADD', containerId: 'noarg1', podIndex: 2, config });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const sent = (await capture.stop())
      .map(dhcpOf)
      .filter((m) => m !== undefined && messageType(m) === MessageType.DISCOVER);
    assert.ok(sent.length > 0, 'a DISCOVER was captured');
    assert.deepEqual(
      sent.map((m) => m && hostName(m)),
      sent.map(() => undefined),
      'no host-name option',
    );
    await waitFor('the warning', () => ignoredLines('noarg1').length === 1, 5000, 100);
    assert.deepEqual(ignoredLines('noarg1')[0]?.warnings, [
      'ipam.provide[0].fromArg: CNI_ARGS has no K8S_POD_NAME; option "host-name" not sent',
    ]);
    assert.equal((await cniMacvlan(topo, { command: 'DEL', containerId: 'noarg1', podIndex: 2, config })).code, 0);

    // With the arg present the option goes out, and nothing is logged.
    const capture2 = await startCapture(topo, topo.lanNs, topo.lanPort);
    const withArg = await cniMacvlan(topo, {
      command: 'ADD',
      containerId: 'arg1',
      podIndex: 2,
      config,
      args: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0',
    });
    assert.equal(withArg.code, 0, withArg.stdout + withArg.stderr);
    const discovers = (await capture2.stop())
      .map(dhcpOf)
      .filter((m) => m !== undefined && messageType(m) === MessageType.DISCOVER);
    assert.equal(discovers[0] && hostName(discovers[0]), 'web-0');
    assert.equal(ignoredLines('arg1').length, 0);
    assert.equal((await cniMacvlan(topo, { command: 'DEL', containerId: 'arg1', podIndex: 2, config })).code, 0);
  });

  test("option 26 is requested; with applyMtu: true the pod interface takes it (1400 < the parent's 1500), without it stays", async () => {
    const mtuOf = async () => (await linkInfo(topo.netnsPath(1), 'eth1')).mtu;
    const plain = macvlanConfig(topo, daemon);
    const capture = await startCapture(topo, topo.lanNs, topo.lanPort);
    assert.equal((await cniMacvlan(topo, { command: 'ADD', containerId: 'mtu0', podIndex: 1, config: plain })).code, 0);
    const discover = (await capture.stop())
      .map(dhcpOf)
      .find((m) => m !== undefined && messageType(m) === MessageType.DISCOVER);
    assert.ok(discover && parameterRequestList(discover)?.includes(26), 'DISCOVER asks for the interface MTU');
    assert.equal(await mtuOf(), 1500);
    assert.equal((await cniMacvlan(topo, { command: 'DEL', containerId: 'mtu0', podIndex: 1, config: plain })).code, 0);
    const config = macvlanConfig(topo, daemon, { applyMtu: true });
    const out = await cniMacvlan(topo, { command: 'ADD', containerId: 'mtu1', podIndex: 1, config });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    assert.equal(await mtuOf(), 1400);
    assert.ok(
      daemon.logs().some((l) => l.containerId === 'mtu1' && l.msg === 'MTU set' && l.to === 1400 && l.ceiling === 1500),
    );
    assert.equal((await cniMacvlan(topo, { command: 'DEL', containerId: 'mtu1', podIndex: 1, config })).code, 0);
  });
});

/** The IPv4 routes through eth1 in pod n, as `ip route` prints them (proto and scope left out). */
async function routesOf(topo: Topology, n: number): Promise<string[]> {
  const out = await topo.exec(topo.podNs(n), 'ip', ['-4', 'route', 'show', 'dev', 'eth1']);
  return out
    .split('\n')
    .map((l) => l.replace(/ proto \S+| scope \S+| src \S+/g, '').trim())
    .filter((l) => l !== '')
    .sort();
}

async function addressesOf(topo: Topology, n: number): Promise<string[]> {
  const out = await topo.exec(topo.podNs(n), 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth1']);
  return [...out.matchAll(/inet (\S+)/g)].map((m) => m[1] as string);
}

/** Samples eth1's up flag every 100 ms until stop(): whether it was ever seen down. */
function watchLinkUp(topo: Topology, n: number): { stop(): boolean } {
  let wentDown = false;
  const timer = setInterval(
    () =>
      void linkInfo(topo.netnsPath(n), 'eth1').then(
        (l) => (wentDown ||= !l.up),
        () => {},
      ),
    100,
  );
  return {
    stop: () => {
      clearInterval(timer);
      return wentDown;
    },
  };
}

const METRICS_PORT = 9481;

describe('in-place re-addressing: dnsmasq moves the pod to a reserved address (dhcp-hostsfile + SIGHUP)', () => {
  const lan = '198.19.68.1/22';
  let topo: Topology;
  let server: DhcpServer;
  let daemon: TsDaemon;
  let hostsFile: string;

  before(async () => {
    topo = await createTopology({ prefix: 'tsh-r-', lanCidr: lan, pods: 1 });
    hostsFile = path.join(topo.tempDir('hosts'), 'dhcp-hosts');
    fs.writeFileSync(hostsFile, '');
    server = await startDnsmasq(topo, {
      range: ['198.19.69.10', '198.19.69.100'],
      leaseTime: 600,
      renewTime: 3,
      routers: ['198.19.68.254'],
      classlessRoutes: [{ dst: '198.19.71.0/25', gw: '198.19.68.1' }],
      extraArgs: [`--dhcp-hostsfile=${hostsFile}`],
    });
    daemon = await startTsDaemon(topo, { args: ['--metrics-address', `127.0.0.1:${METRICS_PORT}`] });
  });
  after(async () => {
    await daemon.stop();
    await server.stop();
    await topo.destroy();
  });

  test('a new address replaces the old one with its routes, the link stays up and a ping goes on; leases show, CHECK and the metric say so', async () => {
    const ipam = { defaultRoute: false, routes: [{ dst: '198.19.71.200/32', gw: '198.19.68.2' }] };
    const config = macvlanConfig(topo, daemon, ipam);
    const out = await cniMacvlan(topo, { command: 'ADD', containerId: 'move1', podIndex: 1, config });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const oldCidr = out.json?.ips?.[0]?.address as string;
    const routesBefore = await routesOf(topo, 1);
    assert.deepEqual(routesBefore, [
      '198.19.68.0/22',
      '198.19.71.0/25 via 198.19.68.1',
      '198.19.71.200 via 198.19.68.2',
    ]);

    const pingLog = path.join(topo.tempDir('ping'), 'ping.log');
    const ping = topo.spawn(topo.podNs(1), 'ping', ['-D', '-n', '-i', '0.2', '-W', '1', '198.19.71.1'], {
      logFile: pingLog,
    });
    // 198.19.71.1 is the server's second address, reached through the classless route via 198.19.68.1.
    await topo.exec(topo.lanNs, 'ip', ['addr', 'add', '198.19.71.1/32', 'dev', topo.lanBridge]);
    const link = watchLinkUp(topo, 1);
    const lease = await daemon.rpc('lease', { containerId: 'move1', network: 'lan', ifName: 'eth1' });
    // The reservation: this client's MAC now gets 198.19.69.200. dnsmasq NAKs the next renewal ("static lease
    // available") and offers the reserved address.
    fs.writeFileSync(hostsFile, `${lease.mac},198.19.69.200\n`);
    process.kill(server.pid, 'SIGHUP');
    await waitFor(
      'the pod on its new address',
      async () => (await addressesOf(topo, 1)).includes('198.19.69.200/22'),
      30_000,
      100,
    );
    const switchedAtS = Date.now() / 1000;
    await new Promise((r) => setTimeout(r, 2000));
    await topo.stop(ping);
    assert.equal(link.stop(), false, 'eth1 never went down');

    assert.deepEqual(await addressesOf(topo, 1), ['198.19.69.200/22'], 'the old address is gone');
    assert.deepEqual(await routesOf(topo, 1), routesBefore, 'the routes ADD installed are back');
    const replies = [
      ...fs.readFileSync(pingLog, 'utf8').matchAll(/^\[(\d+\.\d+)\] \d+ bytes from 198\.19\.71\.1/gm),
    ].map((m) => Number(m[1]));
    assert.ok(
      replies.some((t) => t < switchedAtS - 0.5),
      'ping answered before the switch',
    );
    assert.ok(
      replies.filter((t) => t > switchedAtS).length >= 5,
      `ping goes on after the switch (${replies.length} replies)`,
    );
    await topo.exec(topo.lanNs, 'ping', ['-c', '1', '-W', '2', '198.19.69.200']);

    const shown = await daemon.rpc('lease', { containerId: 'move1', network: 'lan', ifName: 'eth1' });
    assert.equal(shown.address, '198.19.69.200');
    const why = shown.transitions.map((x) => x.why);
    const oldIp = oldCidr.split('/')[0];
    assert.ok(
      why.includes(
        `ACK with a new address (${oldIp} -> 198.19.69.200); ${oldCidr} replaced by 198.19.69.200/22 on the interface, in place`,
      ),
      why.join(' | '),
    );
    assert.ok(
      daemon
        .logs()
        .some(
          (l) =>
            l.containerId === 'move1' &&
            l.msg === 'pod address replaced' &&
            l.from === oldCidr &&
            l.to === '198.19.69.200/22',
        ),
    );
    const metrics = await topo.exec(topo.nodeNs, 'curl', ['-sf', `http://127.0.0.1:${METRICS_PORT}/metrics`]);
    assert.match(metrics, /^ts_dhcp_pod_address_changes_total\{action="replaced"\} 1$/m);

    const check = await cniMacvlan(topo, {
      command: 'CHECK',
      containerId: 'move1',
      podIndex: 1,
      config: { ...config, prevResult: out.json },
    });
    assert.equal(check.json?.code, 101, check.stdout);
    assert.equal(check.json?.msg, `CHECK: the lease has 198.19.69.200/22, prevResult has ${oldCidr}`);
    assert.equal((await cniMacvlan(topo, { command: 'DEL', containerId: 'move1', podIndex: 1, config })).code, 0);
  });
});

describe('expiry with the server gone: address and routes removed, link up, back when the server returns (Kea)', () => {
  const lan = '198.19.72.1/22';
  let topo: Topology;
  let server: DhcpServer;
  let daemon: TsDaemon;

  before(async () => {
    topo = await createTopology({ prefix: 'tsh-e-', lanCidr: lan, pods: 1 });
    server = await startKea(topo, {
      range: ['198.19.73.10', '198.19.73.100'],
      leaseTime: 20,
      renewTime: 5,
      rebindTime: 10,
      routers: ['198.19.72.254'],
      classlessRoutes: [{ dst: '198.19.75.0/25', gw: '198.19.72.1' }],
    });
    daemon = await startTsDaemon(topo);
  });
  after(async () => {
    await daemon.stop();
    await server.stop();
    await topo.destroy();
  });

  test('nothing leaves from the expired address; the same lease back restores address and routes', async () => {
    const exp1 = { containerId: 'exp1', network: 'lan', ifName: 'eth1' };
    const config = macvlanConfig(topo, daemon, {
      defaultRoute: false,
      routes: [{ dst: '198.19.75.200/32', gw: '198.19.72.2' }],
    });
    const out = await cniMacvlan(topo, { command: 'ADD', containerId: 'exp1', podIndex: 1, config });
    assert.equal(out.code, 0, out.stdout + out.stderr);
    const cidr = out.json?.ips?.[0]?.address as string;
    const routesBefore = await routesOf(topo, 1);
    assert.deepEqual(routesBefore, [
      '198.19.72.0/22',
      '198.19.75.0/25 via 198.19.72.1',
      '198.19.75.200 via 198.19.72.2',
    ]);
    const link = watchLinkUp(topo, 1);
    try {
      await server.stop();
      await waitFor(
        'expiry',
        () => daemon.logs().some((l) => l.containerId === 'exp1' && l.msg === 'pod address removed'),
        40_000,
        200,
      );
      assert.deepEqual(await addressesOf(topo, 1), [], 'the expired address is off eth1');
      assert.deepEqual(await routesOf(topo, 1), [], 'and its routes');
      await daemon.noted(exp1, `${cidr} removed from the interface (link stays up)`);
      const check = await cniMacvlan(topo, {
        command: 'CHECK',
        containerId: 'exp1',
        podIndex: 1,
        config: { ...config, prevResult: out.json },
      });
      assert.equal(check.json?.code, 101, check.stdout);
      await server.restart();
      await waitFor('the address back', async () => (await addressesOf(topo, 1)).includes(cidr), 40_000, 200);
    } finally {
      assert.equal(link.stop(), false, 'eth1 never went down');
    }
    await daemon.noted(exp1, `${cidr} restored on the interface`);
    assert.deepEqual(await routesOf(topo, 1), routesBefore);
    const check = await cniMacvlan(topo, {
      command: 'CHECK',
      containerId: 'exp1',
      podIndex: 1,
      config: { ...config, prevResult: out.json },
    });
    assert.deepEqual([check.code, check.stdout], [0, ''], check.stderr);
    assert.equal((await cniMacvlan(topo, { command: 'DEL', containerId: 'exp1', podIndex: 1, config })).code, 0);
  });
});

describe('fast retry: DEL after "try again later", then ADD, finishes in one exchange (dnsmasq)', () => {
  let topo: Topology;
  let server: DhcpServer;
  let daemon: TsDaemon;

  before(async () => {
    topo = await createTopology({ prefix: 'tsh-f-', lanCidr: '198.19.76.1/22', pods: 1 });
    server = await startDnsmasq(topo, { range: ['198.19.77.10', '198.19.77.100'], leaseTime: 600 });
    daemon = await startTsDaemon(topo);
  });
  after(async () => {
    await daemon.stop();
    await server.stop();
    await topo.destroy();
  });

  test('the retried ADD sends a REQUEST with option 50 for the offered address and no DISCOVER', async () => {
    const config = macvlanConfig(topo, daemon, { timeout: '3s' });
    // A slow server as the runtime sees it: the OFFER arrives, the ACKs are lost (dropped on the server's way out).
    await topo.exec(topo.lanNs, 'nft', ['add table inet tsh']);
    await topo.exec(topo.lanNs, 'nft', ['add chain inet tsh out { type filter hook output priority 0; }']);
    await topo.exec(topo.lanNs, 'nft', ['add rule inet tsh out udp sport 67 @th,2000,8 5 drop']); // option 53 = ACK
    const first = await cniMacvlan(topo, { command: 'ADD', containerId: 'retry1', podIndex: 1, config });
    assert.equal(first.json?.code, 11, first.stdout);
    assert.match(first.json?.msg ?? '', /OFFER/);
    const offered = (await daemon.rpc('lease', { containerId: 'retry1', network: 'lan', ifName: 'eth1' })).transitions;
    assert.ok(
      offered.some((x) => x.to === 'REQUESTING'),
      JSON.stringify(offered),
    );
    // containerd's answer to code 11: DEL, then ADD again (macvlan makes a new eth1, with a new MAC: the client
    // identifier is what the server knows the pod by).
    assert.equal((await cniMacvlan(topo, { command: 'DEL', containerId: 'retry1', podIndex: 1, config })).code, 0);
    await topo.exec(topo.lanNs, 'nft', ['delete table inet tsh']);

    const capture = await startCapture(topo, topo.lanNs, topo.lanPort);
    const again = await cniMacvlan(topo, { command: 'ADD', containerId: 'retry1', podIndex: 1, config });
    const packets = (await capture.stop()).map(dhcpOf).filter((m) => m !== undefined);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const address = (again.json?.ips?.[0]?.address as string).split('/')[0];
    const fromClient = packets.filter((m) => m && m.op === 1);
    assert.deepEqual(
      fromClient.map((m) => m && messageType(m)),
      [MessageType.REQUEST],
      'one REQUEST, no DISCOVER',
    );
    const request = fromClient[0] as NonNullable<(typeof fromClient)[number]>;
    assert.deepEqual([requestedIp(request), serverId(request)], [address, server.serverIp]);
    assert.ok(
      daemon
        .logs()
        .some(
          (l) =>
            l.containerId === 'retry1' &&
            l.msg === 'fast retry: asking for the address the cancelled acquisition reached',
        ),
    );
    const shown = await daemon.rpc('lease', { containerId: 'retry1', network: 'lan', ifName: 'eth1' });
    assert.ok(
      shown.transitions.some((x) => x.why === `start (REQUEST for ${address}, offered by ${server.serverIp} before)`),
      JSON.stringify(shown.transitions),
    );
    assert.equal((await cniMacvlan(topo, { command: 'DEL', containerId: 'retry1', podIndex: 1, config })).code, 0);
  });
});
