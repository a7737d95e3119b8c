#include "route.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct route_req {
  struct nlmsghdr n;
  struct rtmsg r;
  char attrs[64];
};

static void add_attr(struct route_req *q, unsigned short type, const void *data, size_t len) {
  struct rtattr *a = (struct rtattr *)((char *)q + NLMSG_ALIGN(q->n.nlmsg_len));
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  memcpy(RTA_DATA(a), data, len);
  q->n.nlmsg_len = NLMSG_ALIGN(q->n.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* Sends the request and reads the kernel's acknowledgement: 0, or -1 with `e` carrying the kernel's errno. */
static int talk(int sock, struct route_req *q, struct op_error *e) {
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(sock, q, q->n.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) return op_fail(e, "sendto");
  char buf[1024];
  for (;;) {
    ssize_t n = recv(sock, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return op_fail(e, "recv");
    }
    int len = (int)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != q->n.nlmsg_seq || h->nlmsg_type != NLMSG_ERROR) continue;
      int err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
      return err == 0 ? 0 : op_fail_with(e, "RTM_NEWROUTE", -err);
    }
  }
}

int route_add(const char *ifname, const struct route_spec *r, struct op_error *e) {
  unsigned int oif = if_nametoindex(ifname);
  if (oif == 0) return op_fail(e, "if_nametoindex");
  struct route_req q;
  memset(&q, 0, sizeof q);
  q.n.nlmsg_len = NLMSG_LENGTH(sizeof q.r);
  q.n.nlmsg_type = RTM_NEWROUTE;
  q.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  q.n.nlmsg_seq = 1;
  q.r.rtm_family = AF_INET;
  q.r.rtm_dst_len = (unsigned char)r->prefix_length;
  q.r.rtm_table = RT_TABLE_MAIN;
  q.r.rtm_protocol = RTPROT_BOOT;
  q.r.rtm_scope = r->has_gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  q.r.rtm_type = RTN_UNICAST;
  uint32_t mask = r->prefix_length == 0 ? 0 : htonl(0xffffffffu << (32 - r->prefix_length));
  struct in_addr dst = {.s_addr = r->dst.s_addr & mask};
  if (r->prefix_length > 0) add_attr(&q, RTA_DST, &dst, sizeof dst);
  add_attr(&q, RTA_OIF, &oif, sizeof oif);
  if (r->has_gw) add_attr(&q, RTA_GATEWAY, &r->gw, sizeof r->gw);
  if (r->metric) add_attr(&q, RTA_PRIORITY, &r->metric, sizeof r->metric);
  int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (sock < 0) return op_fail(e, "socket");
  int rc = talk(sock, &q, e);
  close(sock);
  return rc;
}
