import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cniErrorOf, CniCode, CniError, toCniErrorJson } from '../../daemon/cni/errors';
import { DaemonError, DaemonErrorKind } from '../../daemon/errors';

test("the spec's codes", () => {
  assert.deepEqual(
    [
      CniCode.INCOMPATIBLE_CNI_VERSION,
      CniCode.UNSUPPORTED_FIELD,
      CniCode.UNKNOWN_CONTAINER,
      CniCode.INVALID_ENVIRONMENT_VARIABLES,
      CniCode.IO_FAILURE,
      CniCode.DECODING_FAILURE,
      CniCode.INVALID_NETWORK_CONFIG,
      CniCode.TRY_AGAIN_LATER,
      CniCode.PLUGIN_NOT_AVAILABLE,
      CniCode.LIMITED_CONNECTIVITY,
    ],
    [1, 2, 3, 4, 5, 6, 7, 11, 50, 51],
  );
  for (const ours of [
    CniCode.NO_LEASE,
    CniCode.LEASE_MISMATCH,
    CniCode.DAEMON_ERROR,
    CniCode.RPC_PROTOCOL,
    CniCode.INTERNAL,
  ])
    assert.ok(ours >= 100);
});

test("a CniError prints as the spec's error object, details only when present", () => {
  assert.deepEqual(
    toCniErrorJson(new CniError(7, 'Invalid Configuration', 'Network 192.168.0.0/31 too small'), '1.0.0'),
    {
      cniVersion: '1.0.0',
      code: 7,
      msg: 'Invalid Configuration',
      details: 'Network 192.168.0.0/31 too small',
    },
  );
  assert.deepEqual(Object.keys(toCniErrorJson(new CniError(11, 'later'), '0.4.0')), ['cniVersion', 'code', 'msg']);
  const e = new CniError(4, 'missing', 'CNI_IFNAME');
  assert.equal(e.message, 'missing; CNI_IFNAME');
  assert.ok(e instanceof Error);
});

test('anything else is a plugin bug: code 999', () => {
  assert.deepEqual(toCniErrorJson(new TypeError('x is undefined'), '0.3.1'), {
    cniVersion: '0.3.1',
    code: 999,
    msg: 'internal error: x is undefined',
  });
  assert.deepEqual(toCniErrorJson('thrown string', '1.0.0'), {
    cniVersion: '1.0.0',
    code: 999,
    msg: 'internal error: thrown string',
  });
});

test('a daemon failure becomes the CNI code of its kind, its message unchanged', () => {
  const codes: Record<DaemonErrorKind, number> = {
    'invalid-params': 7,
    'bad-netns': 4,
    'bad-interface': 4,
    'in-use': 4,
    'no-lease': 100,
    mismatch: 101,
    timeout: 11,
    cancelled: 11,
    io: 5,
  };
  for (const [kind, code] of Object.entries(codes) as [DaemonErrorKind, number][]) {
    const e = cniErrorOf(new DaemonError(kind, `what went wrong (${kind})`));
    assert.deepEqual([e.code, e.msg, e.details], [code, `what went wrong (${kind})`, undefined]);
  }
});
