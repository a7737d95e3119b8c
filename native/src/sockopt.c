#include "sockopt.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int fail_closing(int fd, const char *what, struct op_error *e) {
  op_fail(e, what); /* before close, which may change errno */
  close(fd);
  return -1;
}

int set_options(int fd, const struct int_opt *opts, size_t n, struct op_error *e) {
  for (size_t i = 0; i < n; i++)
    if (setsockopt(fd, opts[i].level, opts[i].name, &opts[i].value, sizeof opts[i].value) < 0)
      return fail_closing(fd, opts[i].what, e);
  return 0;
}

int device_socket(int family, int type, int proto, const char *ifname, const struct int_opt *opts, size_t n,
                  struct op_error *e) {
  int fd = socket(family, type | SOCK_CLOEXEC, proto);
  if (fd < 0) return op_fail(e, "socket");
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen(ifname)) < 0)
    return fail_closing(fd, "setsockopt(SO_BINDTODEVICE)", e);
  return set_options(fd, opts, n, e) < 0 ? -1 : fd;
}
