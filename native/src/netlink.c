#include "netlink.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

static int exchange(int sock, const struct nlmsghdr *req, nl_reply_fn on_reply, void *arg, struct op_error *e) {
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(sock, req, req->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) return op_fail(e, "sendto");
  char buf[8192]; /* a dump's replies come in batches of about a page */
  for (;;) {
    ssize_t got = recv(sock, buf, sizeof buf, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return op_fail(e, "recv");
    }
    int len = (int)got;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      int rc = on_reply(h, arg, e);
      if (rc != 0) return rc < 0 ? -1 : 0;
    }
  }
}

int nl_talk(const struct nlmsghdr *req, nl_reply_fn on_reply, void *arg, struct op_error *e) {
  int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (sock < 0) return op_fail(e, "socket");
  int rc = exchange(sock, req, on_reply, arg, e);
  close(sock);
  return rc;
}
