// What a bound lease means for the pod: address, prefix, routes and DNS, from the ACK's options.
import { LeaseFacts, Route } from '../common/rpc';
import { ipToInt, maskToPrefix } from './dhcp/bytes';
import {
  classlessRoutes,
  dnsServers,
  domainName,
  domainSearch,
  interfaceMtu,
  leaseTimeS,
  routers,
  serverId,
  staticRoutes,
  subnetMask,
} from './dhcp/options';
import { DhcpMessage } from './dhcp/types';

/** RFC 2132 §3.3 leaves a missing mask to the client: use the classful one, as most clients do. */
function classfulPrefix(address: string): number {
  const first = ipToInt(address) >>> 24;
  if (first < 128) return 8;
  if (first < 192) return 16;
  return 24;
}

/**
 * RFC 3442: when option 121 is present the client ignores 33 and 3 for routing. A route via 0.0.0.0 is on-link.
 * Without 121: option 33 routes (classful destinations, RFC 2132 §5.8), then a default route via the first router.
 */
function routesOf(ack: DhcpMessage, gateway: string | undefined): Route[] {
  const classless = classlessRoutes(ack);
  if (classless && classless.length > 0) {
    return classless.map((r) => (r.gw === '0.0.0.0' ? { dst: r.dst } : { dst: r.dst, gw: r.gw }));
  }
  const routes: Route[] = (staticRoutes(ack) ?? []).map((r) => ({ dst: r.dst, gw: r.gw }));
  if (gateway) routes.push({ dst: '0.0.0.0/0', gw: gateway });
  return routes;
}

export function leaseFacts(ack: DhcpMessage): LeaseFacts {
  const mask = subnetMask(ack);
  const prefixLength = (mask !== undefined ? maskToPrefix(mask) : undefined) ?? classfulPrefix(ack.yiaddr);
  const gateway = routers(ack)?.[0];
  const facts: LeaseFacts = {
    address: ack.yiaddr,
    prefixLength,
    routes: routesOf(ack, gateway),
    dns: { nameservers: dnsServers(ack) ?? [], search: domainSearch(ack) ?? [] },
    serverId: serverId(ack) ?? ack.siaddr,
    leaseTimeS: leaseTimeS(ack) ?? 0,
  };
  const domain = domainName(ack);
  if (domain) facts.dns.domain = domain;
  if (gateway) facts.gateway = gateway;
  const mtu = interfaceMtu(ack);
  if (mtu !== undefined) facts.mtu = mtu;
  return facts;
}
