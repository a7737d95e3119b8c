import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { AddParams } from '../../daemon/registry-api';
import { clientIdFor, legacyClientId, podClientIdText } from '../../daemon/client-id';
import { MAX_CLIENT_ID_BYTES } from '../../daemon/dhcp/types';
import type { Logger } from '../../daemon/log';

const stateDir = mkdtempSync(join(tmpdir(), 'tsdhcp-cid-'));
after(() => rmSync(stateDir, { recursive: true, force: true }));

function params(o: Partial<AddParams> = {}): AddParams {
  return {
    containerId: 'c0ffee',
    network: 'lan',
    ifName: 'eth1',
    netns: '/run/netns/p',
    paramRequestList: [],
    provide: [],
    args: { K8S_POD_NAMESPACE: 'shop', K8S_POD_NAME: 'db-0' },
    ...o,
  };
}

function recordingLog(): { log: Logger; warnings: string[] } {
  const warnings: string[] = [];
  return { log: { warn: (_: unknown, msg: string) => warnings.push(msg) } as unknown as Logger, warnings };
}

const id = (p: AddParams, log = recordingLog().log) => clientIdFor(p, stateDir, log);

test('legacy (the default): type 0 + "<containerID>/<network>/<ifName>", as the reference plugin sends it', () => {
  const expected = Buffer.concat([Buffer.from([0]), Buffer.from('c0ffee/lan/eth1')]);
  assert.deepEqual(id(params()), expected);
  assert.deepEqual(id(params({ clientId: 'legacy' })), expected);
  const long = params({ containerId: 'x'.repeat(300) });
  assert.equal(id(long).length, 255, 'a long container id is cut to 254 bytes of text');
});

test('pod: namespace/name/network/ifName, the same for a re-created pod, different per interface', () => {
  const a = id(params({ clientId: 'pod' }));
  assert.deepEqual(a, Buffer.concat([Buffer.from([0]), Buffer.from('shop/db-0/lan/eth1')]));
  assert.deepEqual(id(params({ clientId: 'pod', containerId: 'another-sandbox' })), a, 'StatefulSet member re-created');
  assert.notDeepEqual(id(params({ clientId: 'pod', ifName: 'eth2' })), a);
});

test('pod: a text over 254 bytes is its first 189 bytes, "~" and its SHA-256 in hex — stable, and distinct per pod', () => {
  const name = `web-${'n'.repeat(249)}`; // 253 bytes, the longest pod name Kubernetes allows
  const args = { K8S_POD_NAMESPACE: 'shop', K8S_POD_NAME: name };
  const a = id(params({ clientId: 'pod', args }));
  const text = `shop/${name}/lan/eth1`;
  const expected = `${text.slice(0, 189)}~${createHash('sha256').update(text).digest('hex')}`;
  assert.deepEqual(a, Buffer.concat([Buffer.from([0]), Buffer.from(expected)]));
  assert.equal(a.length, 255);
  assert.deepEqual(
    id(params({ clientId: 'pod', args, containerId: 'another-sandbox' })),
    a,
    'the same for a re-created pod',
  );
  assert.notDeepEqual(
    id(params({ clientId: 'pod', args: { ...args, K8S_POD_NAME: `${name.slice(0, -1)}m` } })),
    a,
    'pods sharing the prefix differ',
  );
  const fits = `shop/${'x'.repeat(254 - 'shop//lan/eth1'.length)}/lan/eth1`;
  assert.equal(fits.length, 254);
  assert.deepEqual(
    podClientIdText('shop', 'x'.repeat(254 - 'shop//lan/eth1'.length), 'lan', 'eth1').toString(),
    fits,
    '254 bytes are kept as they are',
  );
});

test('pod without the pod args falls back to legacy with a warning', () => {
  const { log, warnings } = recordingLog();
  const p = params({ clientId: 'pod', args: { K8S_POD_NAME: 'db-0' } });
  assert.deepEqual(id(p, log), legacyClientId(p));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] as string, /K8S_POD_NAMESPACE and K8S_POD_NAME/);
});

test('duid: RFC 4361 type 255, a 4-byte IAID per attachment, then the node DUID persisted in the state dir', () => {
  const a = id(params({ clientId: 'duid' }));
  const duid = Buffer.from(readFileSync(join(stateDir, 'duid'), 'utf8').trim(), 'hex');
  assert.equal(a[0], 255);
  assert.deepEqual(a.subarray(5), duid);
  assert.deepEqual(duid.subarray(0, 2), Buffer.from([0, 4]), 'DUID-UUID');
  assert.equal(duid.length, 18);
  assert.deepEqual(id(params({ clientId: 'duid' })), a, 'stable: the DUID is read back, the IAID derived');
  const other = id(params({ clientId: 'duid', ifName: 'eth2' }));
  assert.notDeepEqual(other.subarray(1, 5), a.subarray(1, 5), 'another interface, another IAID');
  assert.deepEqual(other.subarray(5), duid, 'one DUID per node');
});

test('a literal value (also what fromArg resolves to): type 0 + the text; more than 255 bytes in all is refused', () => {
  assert.deepEqual(id(params({ clientId: { value: 'rack7-db' } })), Buffer.from('\0rack7-db', 'latin1'));
  assert.equal(id(params({ clientId: { value: 'é'.repeat(127) } })).length, MAX_CLIENT_ID_BYTES);
  assert.throws(() => id(params({ clientId: { value: 'x'.repeat(255) } })), /256 bytes, more than the 255/);
});
