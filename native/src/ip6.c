#include "ip6.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netlink.h"
#include "sockopt.h"

#define DHCP6_CLIENT_PORT 546

/* Writes "0" or "1" into /proc/sys/net/ipv6/conf/IF/NAME; /proc/sys/net is the netns of the calling thread. */
static int sysctl_set(const char *ifname, const char *name, int on, struct op_error *e) {
  char path[96];
  snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/%s", ifname, name);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return op_fail(e, "open(/proc/sys/net/ipv6/conf)");
  int rc = write(fd, on ? "1\n" : "0\n", 2) == 2 ? 0 : op_fail(e, "write(/proc/sys/net/ipv6/conf)");
  close(fd);
  return rc;
}

/* Reads the number in /proc/sys/net/ipv6/conf/IF/NAME. */
static int sysctl_get(const char *ifname, const char *name, int *value, struct op_error *e) {
  char path[96];
  char text[16] = {0};
  snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/%s", ifname, name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return op_fail(e, "open(/proc/sys/net/ipv6/conf)");
  ssize_t got = read(fd, text, sizeof text - 1);
  int rc = got > 0 ? 0 : op_fail(e, "read(/proc/sys/net/ipv6/conf)");
  close(fd);
  if (rc == 0) *value = atoi(text);
  return rc;
}

/* Why the interface has no IPv6 conf when the open of its sysctl failed with ENOENT: the netns has no IPv6 at all
 * (the kernel booted with ipv6.disable=1), or the interface alone has none (the kernel takes IPv6 off a link whose
 * MTU is below 1280, RFC 8200 §5). */
static int no_ipv6(const char *ifname, struct op_error *e) {
  if (e->errnum != ENOENT || if_nametoindex(ifname) == 0) return -1; /* or the interface is missing */
  int kernel = access("/proc/sys/net/ipv6/conf/all", F_OK) != 0;
  *e = (struct op_error){.errnum = EAFNOSUPPORT,
                         .syscall = "open(/proc/sys/net/ipv6/conf)",
                         .reason = kernel ? "the kernel has no IPv6 (booted with ipv6.disable=1?)"
                                          : "the interface has no IPv6 (the kernel keeps none on a link whose MTU is "
                                            "below 1280)"};
  return -1;
}

/* With addr_gen_mode 1 (none) the kernel makes no link-local address, and a DHCPv6 client sends from one (RFC 8415
 * §13.1): unless the interface has one already, DHCPv6 cannot run on it. */
static int link_local_possible(const char *ifname, struct op_error *e) {
  int mode = 0;
  if (sysctl_get(ifname, "addr_gen_mode", &mode, e) < 0) return -1;
  if (mode != 1) return 0;
  struct addr6 *list;
  size_t n;
  if (ip6_addrs(ifname, &list, &n, e) < 0) return -1;
  int have = 0;
  for (size_t i = 0; i < n; i++) have |= IN6_IS_ADDR_LINKLOCAL(&list[i].address);
  free(list);
  if (have) return 0;
  *e = (struct op_error){.errnum = EADDRNOTAVAIL,
                         .syscall = "addr_gen_mode",
                         .reason = "net.ipv6.conf of the interface has addr_gen_mode 1 (none): the kernel makes no "
                                   "link-local address, the interface has none, and DHCPv6 sends from one"};
  return -1;
}

int ip6_prepare(const char *ifname, struct op_error *e) {
  if (sysctl_set(ifname, "optimistic_dad", 1, e) < 0 || sysctl_set(ifname, "use_optimistic", 1, e) < 0)
    return no_ipv6(ifname, e);
  /* Then IPv6 on (a pod netns may start with it off; the main plugin's ConfigureIface turns it on for an IPv6 result
   * too): an interface that is up makes its link-local address now, optimistic already. */
  if (sysctl_set(ifname, "disable_ipv6", 0, e) < 0) return -1;
  return link_local_possible(ifname, e);
}

/* A dump's collection so far. */
struct dump {
  unsigned int index;
  struct addr6 *list;
  size_t n;
  size_t cap;
};

/* Appends one RTM_NEWADDR of the dump's interface to its list; returns -1 only when out of memory. */
static int take_addr(const struct nlmsghdr *h, struct dump *d) {
  struct ifaddrmsg *ifa = NLMSG_DATA(h);
  if (ifa->ifa_family != AF_INET6 || ifa->ifa_index != d->index) return 0;
  struct addr6 a = {.prefix_length = ifa->ifa_prefixlen, .flags = ifa->ifa_flags, .scope = ifa->ifa_scope};
  int have = 0;
  int len = (int)IFA_PAYLOAD(h);
  for (struct rtattr *rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
    if (rta->rta_type == IFA_ADDRESS && RTA_PAYLOAD(rta) == sizeof a.address) {
      memcpy(&a.address, RTA_DATA(rta), sizeof a.address);
      have = 1;
    } else if (rta->rta_type == IFA_FLAGS && RTA_PAYLOAD(rta) == sizeof(unsigned int)) {
      memcpy(&a.flags, RTA_DATA(rta), sizeof a.flags); /* the full 32 bits; ifa_flags holds only 8 */
    }
  }
  if (!have) return 0;
  if (d->n == d->cap) {
    size_t more = d->cap ? d->cap * 2 : 4;
    struct addr6 *grown = realloc(d->list, more * sizeof *d->list);
    if (!grown) return -1;
    d->list = grown;
    d->cap = more;
  }
  d->list[d->n++] = a;
  return 0;
}

static int on_dump_reply(const struct nlmsghdr *h, void *arg, struct op_error *e) {
  struct dump *d = arg;
  if (h->nlmsg_type == NLMSG_DONE) return 1;
  if (h->nlmsg_type == NLMSG_ERROR) return op_fail_with(e, "RTM_GETADDR", -((struct nlmsgerr *)NLMSG_DATA(h))->error);
  if (h->nlmsg_type == RTM_NEWADDR && take_addr(h, d) < 0)
    return op_fail_with(e, "realloc", ENOMEM);
  return 0;
}

int ip6_addrs(const char *ifname, struct addr6 **out, size_t *n, struct op_error *e) {
  *out = NULL;
  *n = 0;
  struct dump d = {.index = if_nametoindex(ifname)};
  if (d.index == 0) return op_fail(e, "if_nametoindex");
  struct {
    struct nlmsghdr n;
    struct ifaddrmsg a;
  } q = {.n = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)), .nlmsg_type = RTM_GETADDR,
               .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1},
         .a = {.ifa_family = AF_INET6}};
  if (nl_talk(&q.n, on_dump_reply, &d, e) < 0) {
    free(d.list);
    return -1;
  }
  *out = d.list;
  *n = d.n;
  return 0;
}

/* A socket of `type`/`proto` bound to the device, multicast out of it with `hops` and not looped back, then
 * `extra` options; -1 with `e` filled (and nothing open). */
static int device_socket6(const char *ifname, int type, int proto, int hops, const struct int_opt *extra, size_t nextra,
                          struct op_error *e) {
  unsigned int index = if_nametoindex(ifname);
  if (index == 0) return op_fail(e, "if_nametoindex");
  const struct int_opt multicast[] = {
      {IPPROTO_IPV6, IPV6_MULTICAST_IF, (int)index, "setsockopt(IPV6_MULTICAST_IF)"},
      {IPPROTO_IPV6, IPV6_MULTICAST_HOPS, hops, "setsockopt(IPV6_MULTICAST_HOPS)"},
      {IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, "setsockopt(IPV6_MULTICAST_LOOP)"},
  };
  int fd = device_socket(AF_INET6, type, proto, ifname, multicast, sizeof multicast / sizeof multicast[0], e);
  return fd < 0 || set_options(fd, extra, nextra, e) < 0 ? -1 : fd;
}

int udp6_open(const char *ifname, struct op_error *e) {
  static const struct int_opt opts[] = {
      {SOL_SOCKET, SO_REUSEADDR, 1, "setsockopt(SO_REUSEADDR)"},
      {IPPROTO_IPV6, IPV6_V6ONLY, 1, "setsockopt(IPV6_V6ONLY)"},
  };
  int fd = device_socket6(ifname, SOCK_DGRAM, 0, 1, opts, sizeof opts / sizeof opts[0], e);
  if (fd < 0) return -1;
  struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(DHCP6_CLIENT_PORT), .sin6_addr = IN6ADDR_ANY_INIT};
  if (bind(fd, (struct sockaddr *)&sin6, sizeof sin6) < 0) return fail_closing(fd, "bind", e);
  return fd;
}

int ra_open(const char *ifname, struct op_error *e) {
  /* Hop limit 255: receivers drop neighbour discovery with any other (RFC 4861 §6.1.1). */
  static const struct int_opt opts[] = {{IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255, "setsockopt(IPV6_UNICAST_HOPS)"}};
  int fd = device_socket6(ifname, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_ICMPV6, 255, opts, sizeof opts / sizeof opts[0], e);
  if (fd < 0) return -1;
  struct icmp6_filter filter;
  ICMP6_FILTER_SETBLOCKALL(&filter);
  ICMP6_FILTER_SETPASS(ND_ROUTER_ADVERT, &filter);
  if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) < 0)
    return fail_closing(fd, "setsockopt(ICMP6_FILTER)", e);
  struct nd_router_solicit rs = {.nd_rs_type = ND_ROUTER_SOLICIT};
  struct sockaddr_in6 routers = {.sin6_family = AF_INET6};
  inet_pton(AF_INET6, "ff02::2", &routers.sin6_addr);
  /* A solicitation that cannot leave yet (no usable link-local address: EADDRNOTAVAIL) is no error: the kernel
   * solicits by itself once the address is ready, and routers advertise periodically. */
  if (sendto(fd, &rs, sizeof rs, 0, (struct sockaddr *)&routers, sizeof routers) < 0 && errno != EADDRNOTAVAIL &&
      errno != ENETDOWN)
    return fail_closing(fd, "sendto(router solicitation)", e);
  return fd;
}
