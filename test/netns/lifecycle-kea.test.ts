// The lease lifecycle against Kea 2.2 with 20 s leases (T1 5 s, T2 10 s).
import { lifecycleSuite } from './lifecycle-common';
import { startKea } from './lib';

lifecycleSuite('Kea', {
  prefix: 'tsl-k-',
  lanCidr: '198.19.34.1/23',
  range: ['198.19.35.10', '198.19.35.100'],
  outsideRange: '198.19.35.200',
  shortLease: true,
  start: startKea,
});
