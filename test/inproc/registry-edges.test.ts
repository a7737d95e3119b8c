// The registry's untrusted edges without namespaces of our own: CNI_NETNS naming the daemon's own namespace or
// escaping with "..", refused before any link or socket is touched (issue 13).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { DaemonError } from '../../daemon/errors';
import { AddParams } from '../../daemon/registry-api';
import { defaultOptions } from '../../daemon/flags';
import { createLogger } from '../../daemon/log';
import { podNetnsPath } from '../../daemon/pod-netns';
import { Registry } from '../../daemon/registry';
import type { PodPort } from '../../daemon/pod-port';
import { nativePort } from '../../daemon/transport/pod-port';

/** The real port (its namespace checks need no root), counting every interface the registry would touch: none may
 *  be for a refused ADD. */
function countingPort(): { port: PodPort; opened: string[] } {
  const opened: string[] = [];
  const port: PodPort = {
    ...nativePort,
    side: (ns, ifName) => {
      opened.push(`${ns.path} ${ifName}`);
      return nativePort.side(ns, ifName);
    },
  };
  return { port, opened };
}

function registry(t: { after(fn: () => void): void }, hostPrefix = ''): { reg: Registry; opened: string[] } {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ts-dhcp-edges-'));
  t.after(() => fs.rmSync(stateDir, { recursive: true, force: true }));
  const { port, opened } = countingPort();
  const reg = new Registry({
    opts: { ...defaultOptions(), stateDir, hostPrefix, addTimeoutMs: 500 },
    port,
    log: createLogger('silent'),
    now: Date.now,
  });
  t.after(() => reg.shutdown(false));
  return { reg, opened };
}

function add(netns: string, ifName = 'lo'): AddParams {
  return { containerId: 'c1', network: 'lan', ifName, netns, args: {}, paramRequestList: [1, 3], provide: [] };
}

async function refused(p: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(p, (err) => {
    assert.ok(err instanceof DaemonError, String(err));
    assert.equal(err.kind, 'bad-netns');
    assert.match(err.message, message);
    return true;
  });
}

test("ADD in the daemon's own netns is refused (by device and inode, whatever the path), nothing opened", async (t) => {
  const { reg, opened } = registry(t);
  await refused(reg.add(add('/proc/self/ns/net')), /the daemon's own network namespace/);
  await refused(reg.add(add(`/proc/${process.pid}/ns/net`)), /the daemon's own network namespace/);
  assert.deepEqual(opened, []);
  assert.deepEqual(reg.queries.list(), []);
});

test('ADD with ".." in CNI_NETNS is refused before anything is opened; paths stay under the host prefix', async (t) => {
  const { reg, opened } = registry(t);
  await refused(reg.add(add('/var/run/netns/../../proc/self/ns/net')), /contains "\.\."/);
  const prefixed = registry(t, '/host');
  await refused(prefixed.reg.add(add('/run/netns/../../../proc/1/ns/net')), /contains "\.\."/);
  assert.deepEqual([...opened, ...prefixed.opened], []);
  assert.equal(podNetnsPath('/host/', '/run/netns/p1'), '/host/run/netns/p1');
  assert.equal(podNetnsPath('', '/run//netns/./p1'), '/run/netns/p1');
  assert.match(String(podNetnsPath('/host', 'run/netns/p1')), /not an absolute path/);
});
