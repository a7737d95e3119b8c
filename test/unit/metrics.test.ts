// The Prometheus registry (daemon/metrics.ts): plugin calls by CNI verb and code, RPC requests by method, and the
// failures an ADD's answer counts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from '../../daemon/metrics';

test('plugin calls are counted by CNI verb and code; a failed ADD counts as add_timeout (11) or add_error', async () => {
  const m = createMetrics(() => ({ BOUND: 2 }));
  for (const [verb, code] of [
    ['ADD', 0],
    ['ADD', 0],
    ['ADD', 11],
    ['ADD', 4],
    ['DEL', 0],
    ['CHECK', 101],
    ['unknown', 4],
  ] as const)
    m.cni(verb, code);
  m.rpc('cni', 'ok');
  m.rpc('lease', 'error');
  const text = await m.text();
  for (const line of [
    'ts_dhcp_cni_requests_total{verb="ADD",code="0"} 2',
    'ts_dhcp_cni_requests_total{verb="ADD",code="11"} 1',
    'ts_dhcp_cni_requests_total{verb="ADD",code="4"} 1',
    'ts_dhcp_cni_requests_total{verb="DEL",code="0"} 1',
    'ts_dhcp_cni_requests_total{verb="CHECK",code="101"} 1',
    'ts_dhcp_cni_requests_total{verb="unknown",code="4"} 1',
    'ts_dhcp_failures_total{reason="add_timeout"} 1',
    'ts_dhcp_failures_total{reason="add_error"} 1',
    'ts_dhcp_rpc_requests_total{method="cni",outcome="ok"} 1',
    'ts_dhcp_rpc_requests_total{method="lease",outcome="error"} 1',
    'ts_dhcp_leases{state="BOUND"} 2',
  ]) {
    assert.ok(text.split('\n').includes(line), `${line} in\n${text}`);
  }
  assert.doesNotMatch(
    text,
    /reason="add_(timeout|error)"\} [2-9]/,
    'a failed CHECK or an unknown verb is no ADD failure',
  );
});
