#ifndef TSDHCP_IP6_H
#define TSDHCP_IP6_H
#include <netinet/in.h>
#include <stddef.h>

#include "operr.h"

/* IPv6 on a pod interface, in the current netns: optimistic DAD, the interface's addresses with their DAD state,
 * the DHCPv6 client socket and the ICMPv6 socket that hears router advertisements. */

struct addr6 {
  struct in6_addr address;
  int prefix_length;
  unsigned int flags; /* IFA_F_*: TENTATIVE, OPTIMISTIC, DADFAILED, ... */
  unsigned char scope; /* RT_SCOPE_*: LINK for fe80::/10 */
};

/* Turns IPv6 on for `ifname` (net.ipv6.conf.IF.disable_ipv6 0) with optimistic DAD (RFC 4429: optimistic_dad and
 * use_optimistic), so the link-local address made when the link comes up is usable at once instead of after a second
 * of DAD. Fails with EAFNOSUPPORT when the kernel or the interface has no IPv6, and with EADDRNOTAVAIL when the
 * interface can have no link-local address (addr_gen_mode none, and none configured); the reason says which. */
int ip6_prepare(const char *ifname, struct op_error *e);
/* The IPv6 addresses of `ifname` (an RTM_GETADDR dump): *out is malloc'd (NULL when none), owned by the caller. */
int ip6_addrs(const char *ifname, struct addr6 **out, size_t *n, struct op_error *e);
/* UDP socket bound to [::]:546 on `ifname`, multicast out of it with hop limit 1. Returns the fd or -1. */
int udp6_open(const char *ifname, struct op_error *e);
/* Raw ICMPv6 socket on `ifname` that receives only router advertisements (non-blocking); sends one router
 * solicitation to ff02::2 so a router answers now rather than at its next periodic RA. Returns the fd or -1. */
int ra_open(const char *ifname, struct op_error *e);

#endif
