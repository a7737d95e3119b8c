/* Sockets bound to one device of the current netns, with integer options: what the DHCP client sockets share. */
#ifndef TSDHCP_SOCKOPT_H
#define TSDHCP_SOCKOPT_H
#include <stddef.h>

#include "operr.h"

struct int_opt {
  int level;
  int name;
  int value;
  const char *what; /* the failing call as err.syscall names it, e.g. "setsockopt(SO_REUSEADDR)" */
};

/* socket(family, type | SOCK_CLOEXEC, proto) bound to `ifname` (SO_BINDTODEVICE), then `opts` in order. Returns
 * the fd, or -1 with `e` filled and nothing left open. */
int device_socket(int family, int type, int proto, const char *ifname, const struct int_opt *opts, size_t n,
                  struct op_error *e);
/* Sets `opts` in order on fd; on a failure fills `e`, closes fd and returns -1. */
int set_options(int fd, const struct int_opt *opts, size_t n, struct op_error *e);
/* Fills `e` for the failed `what` (from errno), closes fd and returns -1: a later step's failure. */
int fail_closing(int fd, const char *what, struct op_error *e);

#endif
