// The lease lifecycle against dnsmasq 2.90 (2-minute leases at least: T1 4 s and T2 10 s are set as options).
import { lifecycleSuite } from './lifecycle-common';
import { startDnsmasq } from './lib';

lifecycleSuite('dnsmasq', {
  prefix: 'tsl-d-',
  lanCidr: '198.19.32.1/23',
  range: ['198.19.33.10', '198.19.33.100'],
  outsideRange: '198.19.33.200',
  shortLease: false,
  start: startDnsmasq,
});
