// What a DHCPv6 lease's REPLY and state say, for ADD's result, the lease view and a restart.
import type { Lease6Facts } from '../common/rpc';
import type { Lease6, Lease6State } from './dhcp6/lease';
import { dnsServers, domainList, serverId } from './dhcp6/options';
import type { Dhcp6Message } from './dhcp6/types';

/** What a bound lease says, for ADD's result and the lease view. */
export function factsOf(reply: Dhcp6Message, lease: Lease6, prefixLength: number): Lease6Facts {
  const dns = { nameservers: dnsServers(reply) ?? [], search: domainList(reply) ?? [] };
  const serverDuid = serverId(reply)?.toString('hex') ?? lease.server.duid;
  return {
    address: lease.address,
    prefixLength,
    dns,
    serverId: serverDuid,
    preferredS: lease.preferredS,
    validS: lease.validS,
  };
}

/** The address a state without a lease last held or was offered, asked for again after a restart. */
export function previousOf(s: Lease6State): string | undefined {
  switch (s.state) {
    case 'SELECTING':
      return s.hint ?? s.previousAddress;
    case 'REQUESTING':
      return s.offer.address;
    default:
      return undefined;
  }
}
