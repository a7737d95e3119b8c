// The Prometheus registry (daemon/metrics.ts): plugin calls by CNI verb and code, RPC requests by method, the
// failures an ADD's answer counts, and the lease series of both families.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from '../../daemon/metrics';
import { reply } from '../helpers/messages';

test('plugin calls are counted by CNI verb and code; a failed ADD counts as add_timeout (11) or add_error', async () => {
  const m = createMetrics(() => ({ ipv4: { BOUND: 2 } }));
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
    'ts_dhcp_leases{family="ipv4",state="BOUND"} 2',
  ]) {
    assert.ok(text.split('\n').includes(line), `${line} in\n${text}`);
  }
  assert.doesNotMatch(
    text,
    /reason="add_(timeout|error)"\} [2-9]/,
    'a failed CHECK or an unknown verb is no ADD failure',
  );
});

test('lease events count under their family: IPv4 and DHCPv6 share the series names; v6 statuses and CONFIRMs have their own', async () => {
  const m = createMetrics(() => ({ ipv4: { BOUND: 2, RENEWING: 1 }, ipv6: { BOUND: 1, CONFIRMING: 1 } }));
  const reply6 = { type: 7, xid: 1, options: [] };
  const ack = reply({ yiaddr: '198.19.0.5' });
  m.event({ kind: 'bound', ack }, 40);
  m.event({ kind: 'renewed', ack }, 5);
  m.event({ kind: 'nak', in: 'REBOOTING' });
  m.event({ kind: 'released', sentRelease: true });
  m.event({ kind: 'failed', reason: 'no ACK or NAK after 4 REQUESTs' });
  m.event6({ kind: 'bound', reply: reply6 }, 120);
  m.event6({ kind: 'rebound', reply: reply6 }, 2000);
  m.event6({ kind: 'changed', from: 'fd00::5', to: 'fd00::6', reply: reply6 });
  m.event6({ kind: 'expired', address: 'fd00::5' });
  m.event6({ kind: 'declined', address: 'fd00::6' });
  m.event6({ kind: 'released', sentRelease: false });
  m.event6({ kind: 'status', in: 'RENEWING', code: 3, message: 'no binding' });
  m.event6({ kind: 'status', in: 'CONFIRMING', code: 4, message: '' });
  m.event6({ kind: 'status', in: 'REQUESTING', code: 99, message: '' });
  m.event6({ kind: 'confirmed', address: 'fd00::5' });
  m.event6({ kind: 'unconfirmed', address: 'fd00::5' });
  m.event6({ kind: 'failed', reason: 'no REPLY from server 0001 after 10 REQUESTs for fd00::5' });
  m.event6({ kind: 'ignored', reason: 'xid' });
  m.cni('ADD', 11);
  const text = await m.text();
  const lines = text.split('\n');
  for (const line of [
    'ts_dhcp_acquisitions_total{family="ipv4"} 1',
    'ts_dhcp_acquisitions_total{family="ipv6"} 1',
    'ts_dhcp_renewals_total{family="ipv4"} 1',
    'ts_dhcp_rebinds_total{family="ipv6"} 1',
    'ts_dhcp_address_changes_total{family="ipv6"} 1',
    'ts_dhcp_expiries_total{family="ipv6"} 1',
    'ts_dhcp_conflicts_total{family="ipv6"} 1',
    'ts_dhcp_releases_total{family="ipv4",sent="true"} 1',
    'ts_dhcp_releases_total{family="ipv6",sent="false"} 1',
    'ts_dhcp_naks_total{state="REBOOTING"} 1',
    'ts_dhcp_status_codes_total{status="NoBinding",state="RENEWING"} 1',
    'ts_dhcp_status_codes_total{status="NotOnLink",state="CONFIRMING"} 1',
    'ts_dhcp_status_codes_total{status="99",state="REQUESTING"} 1',
    'ts_dhcp_confirms_total{result="confirmed"} 1',
    'ts_dhcp_confirms_total{result="unanswered"} 1',
    'ts_dhcp_failures_total{family="ipv4",reason="request_unanswered"} 1',
    'ts_dhcp_failures_total{family="ipv6",reason="request_unanswered"} 1',
    'ts_dhcp_failures_total{reason="add_timeout"} 1',
    'ts_dhcp_transaction_duration_seconds_count{family="ipv4",kind="bound"} 1',
    'ts_dhcp_transaction_duration_seconds_count{family="ipv6",kind="bound"} 1',
    'ts_dhcp_transaction_duration_seconds_count{family="ipv6",kind="rebound"} 1',
    'ts_dhcp_leases{family="ipv4",state="BOUND"} 2',
    'ts_dhcp_leases{family="ipv4",state="RENEWING"} 1',
    'ts_dhcp_leases{family="ipv6",state="BOUND"} 1',
    'ts_dhcp_leases{family="ipv6",state="CONFIRMING"} 1',
  ]) {
    assert.ok(lines.includes(line), `${line} in\n${text}`);
  }
  assert.ok(
    !lines.some((l) => /^ts_dhcp_transaction_duration_seconds_count\{family="ipv6",kind="changed"\}/.test(l)),
    'no duration without one',
  );
});
