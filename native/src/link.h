#ifndef TSDHCP_LINK_H
#define TSDHCP_LINK_H
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>

#include "operr.h"

struct link_addr {
  struct in_addr address;
  int prefix_length;
};

struct link_facts {
  int index;
  unsigned char mac[6];
  int mtu;
  short flags; /* IFF_* as SIOCGIFFLAGS reports them */
  /* The driver's name as ETHTOOL_GDRVINFO reports it: for virtual links the rtnetlink kind ("macvlan", "ipvlan",
   * "veth"); "" when the driver reports none. */
  char kind[32];
  struct link_addr *addrs; /* IPv4 only; malloc'd, owned by the caller */
  size_t naddrs;
};

/* Index, MAC, MTU, flags and kind of `ifname`, through ioctls on any socket of the current netns. */
int link_query(int sock, const char *ifname, struct link_facts *f, struct op_error *e);
/* link_query plus the interface's IPv4 addresses (getifaddrs), in the current netns. */
int link_info(const char *ifname, struct link_facts *f, struct op_error *e);
int link_set_up(const char *ifname, int up, struct op_error *e);
/* Sets the MTU of `ifname` (SIOCSIFMTU). */
int link_set_mtu(const char *ifname, int mtu, struct op_error *e);

#endif
