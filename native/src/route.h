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

/* Adds an IPv4 route through `ifname` to the main table of the current netns with rtnetlink RTM_NEWROUTE
 * (protocol "boot", scope universe with a gateway and link without, as the CNI plugins' ConfigureIface makes them).
 * An identical route already present fails with EEXIST. Returns 0 or -1 with `e` filled. */
int route_add(const char *ifname, const struct route_spec *r, struct op_error *e);

#endif
