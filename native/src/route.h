#ifndef TSDHCP_ROUTE_H
#define TSDHCP_ROUTE_H
#include <netinet/in.h>
#include <stdint.h>

#include "operr.h"

struct route_spec {
  struct in_addr dst;
  int prefix_length; /* 0..32 */
  int has_gw;        /* 0: on-link (link scope) */
  struct in_addr gw;
  uint32_t metric;   /* 0: the kernel's default */
};

/* rtnetlink in the current netns, one request and its acknowledgement each; the kernel's errno on failure. */

/* Adds (RTM_NEWROUTE) or deletes (RTM_DELROUTE) an IPv4 route through `ifname` in the main table. Added routes are
 * protocol "boot", scope universe with a gateway and link without, as the CNI plugins' ConfigureIface makes them;
 * an identical route fails with EEXIST. A delete matches any protocol and scope; a missing route fails with ESRCH.
 * Returns 0 or -1 with `e` filled. */
int route_change(int add, const char *ifname, const struct route_spec *r, struct op_error *e);

/* Adds (RTM_NEWADDR, with the subnet's broadcast address below /31) or deletes (RTM_DELADDR) an IPv4 address on
 * `ifname`. Adding one already there fails with EEXIST; deleting a missing one with EADDRNOTAVAIL. */
int addr_change(int add, const char *ifname, struct in_addr address, int prefix_length, struct op_error *e);

/* The same for an IPv6 address; an added one is optimistic (RFC 4429): the interface's optimistic_dad must be on
 * (ip6_prepare), and DAD goes on in the background (ip6_addrs reports its outcome). */
int addr6_change(int add, const char *ifname, const struct in6_addr *address, int prefix_length, struct op_error *e);

#endif
