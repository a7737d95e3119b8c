// The lease lifecycle against ISC dhcpd 4.4 with 20 s leases (T1 5 s, T2 10 s).
import { lifecycleSuite } from './lifecycle-common';
import { startDhcpd } from './lib';

lifecycleSuite('ISC dhcpd', {
  prefix: 'tsl-i-',
  lanCidr: '198.19.36.1/23',
  range: ['198.19.37.10', '198.19.37.100'],
  // dhcpd stays silent on INIT-REBOOT for an unknown address of its own subnet; it NAKs one of another network.
  outsideRange: '198.19.46.5',
  shortLease: true,
  start: startDhcpd,
});
