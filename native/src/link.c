#include "link.h"

#include <errno.h>
#include <ifaddrs.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static void ifreq_for(struct ifreq *ifr, const char *ifname) {
  memset(ifr, 0, sizeof *ifr);
  strncpy(ifr->ifr_name, ifname, IFNAMSIZ - 1);
}

int link_query(int sock, const char *ifname, struct link_facts *f, struct op_error *e) {
  struct ifreq ifr;
  ifreq_for(&ifr, ifname);
  if (ioctl(sock, SIOCGIFINDEX, &ifr) < 0) return op_fail(e, "ioctl(SIOCGIFINDEX)");
  f->index = ifr.ifr_ifindex;
  if (ioctl(sock, SIOCGIFHWADDR, &ifr) < 0) return op_fail(e, "ioctl(SIOCGIFHWADDR)");
  memcpy(f->mac, ifr.ifr_hwaddr.sa_data, sizeof f->mac);
  if (ioctl(sock, SIOCGIFMTU, &ifr) < 0) return op_fail(e, "ioctl(SIOCGIFMTU)");
  f->mtu = ifr.ifr_mtu;
  if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) return op_fail(e, "ioctl(SIOCGIFFLAGS)");
  f->flags = ifr.ifr_flags;
  /* The kind decides the BOOTP broadcast flag (an ipvlan shares its parent's MAC); a driver without ethtool info
   * is no error, just no kind. */
  struct ethtool_drvinfo info = {.cmd = ETHTOOL_GDRVINFO};
  ifreq_for(&ifr, ifname);
  ifr.ifr_data = (char *)&info;
  f->kind[0] = '\0';
  if (ioctl(sock, SIOCETHTOOL, &ifr) == 0) {
    memcpy(f->kind, info.driver, sizeof f->kind);
    f->kind[sizeof f->kind - 1] = '\0';
  }
  return 0;
}

static int prefix_of(struct in_addr mask) {
  return __builtin_popcount(mask.s_addr);
}

/* getifaddrs names IPv4 addresses by label, which is the interface name or "name:alias". */
static int label_matches(const char *label, const char *ifname) {
  size_t n = strlen(ifname);
  return strncmp(label, ifname, n) == 0 && (label[n] == '\0' || label[n] == ':');
}

static int link_addresses(const char *ifname, struct link_facts *f, struct op_error *e) {
  struct ifaddrs *all;
  if (getifaddrs(&all) < 0) return op_fail(e, "getifaddrs");
  size_t count = 0;
  for (struct ifaddrs *a = all; a; a = a->ifa_next) {
    if (a->ifa_addr && a->ifa_addr->sa_family == AF_INET && label_matches(a->ifa_name, ifname)) count++;
  }
  f->addrs = count ? calloc(count, sizeof *f->addrs) : NULL;
  if (count && !f->addrs) {
    freeifaddrs(all);
    return op_fail_with(e, "calloc", ENOMEM);
  }
  for (struct ifaddrs *a = all; a; a = a->ifa_next) {
    if (!(a->ifa_addr && a->ifa_addr->sa_family == AF_INET && label_matches(a->ifa_name, ifname))) continue;
    struct link_addr *out = &f->addrs[f->naddrs++];
    out->address = ((struct sockaddr_in *)a->ifa_addr)->sin_addr;
    out->prefix_length = a->ifa_netmask ? prefix_of(((struct sockaddr_in *)a->ifa_netmask)->sin_addr) : 32;
  }
  freeifaddrs(all);
  return 0;
}

int link_info(const char *ifname, struct link_facts *f, struct op_error *e) {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return op_fail(e, "socket");
  int rc = link_query(sock, ifname, f, e);
  close(sock);
  return rc < 0 ? rc : link_addresses(ifname, f, e);
}

int link_set_up(const char *ifname, int up, struct op_error *e) {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return op_fail(e, "socket");
  struct ifreq ifr;
  ifreq_for(&ifr, ifname);
  int rc = 0;
  if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) {
    rc = op_fail(e, "ioctl(SIOCGIFFLAGS)");
  } else {
    short want = up ? (ifr.ifr_flags | IFF_UP) : (ifr.ifr_flags & ~IFF_UP);
    if (want != ifr.ifr_flags) {
      ifr.ifr_flags = want;
      if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) rc = op_fail(e, "ioctl(SIOCSIFFLAGS)");
    }
  }
  close(sock);
  return rc;
}

int link_set_mtu(const char *ifname, int mtu, struct op_error *e) {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return op_fail(e, "socket");
  struct ifreq ifr;
  ifreq_for(&ifr, ifname);
  ifr.ifr_mtu = mtu;
  int rc = ioctl(sock, SIOCSIFMTU, &ifr) < 0 ? op_fail(e, "ioctl(SIOCSIFMTU)") : 0;
  close(sock);
  return rc;
}
