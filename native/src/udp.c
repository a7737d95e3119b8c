#include "udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DHCP_CLIENT_PORT 68

static int set_int(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof value);
}

int udp_open(const char *ifname, struct in_addr local, struct op_error *e) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return op_fail(e, "socket");
  const char *failed = NULL;
  if (set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0) failed = "setsockopt(SO_REUSEADDR)";
  else if (set_int(fd, SOL_SOCKET, SO_BROADCAST, 1) < 0) failed = "setsockopt(SO_BROADCAST)";
  else if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen(ifname)) < 0)
    failed = "setsockopt(SO_BINDTODEVICE)";
  else if (set_int(fd, IPPROTO_IP, IP_FREEBIND, 1) < 0) failed = "setsockopt(IP_FREEBIND)";
  else {
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(DHCP_CLIENT_PORT), .sin_addr = local};
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0) failed = "bind";
  }
  if (failed) {
    op_fail(e, failed);
    close(fd);
    return -1;
  }
  return fd;
}

int udp_send(int fd, const void *payload, size_t len, struct in_addr dst, unsigned short port) {
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = dst};
  ssize_t n;
  do {
    n = sendto(fd, payload, len, 0, (struct sockaddr *)&to, sizeof to);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -1 : 0;
}

int udp6_send(int fd, const void *payload, size_t len, struct in6_addr dst, unsigned short port) {
  struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = dst};
  ssize_t n;
  do {
    n = sendto(fd, payload, len, 0, (struct sockaddr *)&to, sizeof to);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -1 : 0;
}
