#include "udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "sockopt.h"

#define DHCP_CLIENT_PORT 68

int udp_open(const char *ifname, struct in_addr local, struct op_error *e) {
  static const struct int_opt opts[] = {
      {SOL_SOCKET, SO_REUSEADDR, 1, "setsockopt(SO_REUSEADDR)"},
      {SOL_SOCKET, SO_BROADCAST, 1, "setsockopt(SO_BROADCAST)"},
      {IPPROTO_IP, IP_FREEBIND, 1, "setsockopt(IP_FREEBIND)"},
  };
  int fd = device_socket(AF_INET, SOCK_DGRAM, 0, ifname, opts, sizeof opts / sizeof opts[0], e);
  if (fd < 0) return -1;
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(DHCP_CLIENT_PORT), .sin_addr = local};
  if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0) return fail_closing(fd, "bind", e);
  return fd;
}

/* One sendto, again when a signal interrupts it. */
static int send_to(int fd, const void *payload, size_t len, const void *to, socklen_t tolen) {
  ssize_t n;
  do {
    n = sendto(fd, payload, len, 0, to, tolen);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -1 : 0;
}

int udp_send(int fd, const void *payload, size_t len, struct in_addr dst, unsigned short port) {
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = dst};
  return send_to(fd, payload, len, &to, sizeof to);
}

int udp6_send(int fd, const void *payload, size_t len, struct in6_addr dst, unsigned short port) {
  struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = dst};
  return send_to(fd, payload, len, &to, sizeof to);
}
