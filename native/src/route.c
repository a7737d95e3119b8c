#include "route.h"

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

#include "netlink.h"

struct nl_req {
  struct nlmsghdr n;
  union {
    struct rtmsg r;
    struct ifaddrmsg a;
  } body;
  char attrs[64];
};

static void add_attr(struct nl_req *q, unsigned short type, const void *data, size_t len) {
  struct rtattr *a = (struct rtattr *)((char *)q + NLMSG_ALIGN(q->n.nlmsg_len));
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  memcpy(RTA_DATA(a), data, len);
  q->n.nlmsg_len = NLMSG_ALIGN(q->n.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* What the acknowledgement of a request is matched with, and names the failure by. */
struct ack {
  unsigned int seq;
  const char *what;
};

static int on_ack(const struct nlmsghdr *h, void *arg, struct op_error *e) {
  const struct ack *ack = arg;
  if (h->nlmsg_seq != ack->seq || h->nlmsg_type != NLMSG_ERROR) return 0;
  int err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
  return err == 0 ? 1 : op_fail_with(e, ack->what, -err);
}

/* One request and its acknowledgement: 0, or -1 with `e` carrying the kernel's errno. */
static int request(struct nl_req *q, const char *what, struct op_error *e) {
  struct ack ack = {q->n.nlmsg_seq, what};
  return nl_talk(&q->n, on_ack, &ack, e);
}

static uint32_t mask_of(int prefix_length) {
  return prefix_length == 0 ? 0 : htonl(0xffffffffu << (32 - prefix_length));
}

/* A request of `type` with a zeroed body of `body_len`; an add creates and fails when the object exists. */
static void header(struct nl_req *q, unsigned short type, size_t body_len, int add) {
  memset(q, 0, sizeof *q);
  q->n.nlmsg_len = NLMSG_LENGTH(body_len);
  q->n.nlmsg_type = type;
  q->n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0);
  q->n.nlmsg_seq = 1;
}

int route_change(int add, const char *ifname, const struct route_spec *r, struct op_error *e) {
  unsigned int oif = if_nametoindex(ifname);
  if (oif == 0) return op_fail(e, "if_nametoindex");
  struct nl_req q;
  header(&q, add ? RTM_NEWROUTE : RTM_DELROUTE, sizeof q.body.r, add);
  q.body.r.rtm_family = AF_INET;
  q.body.r.rtm_dst_len = (unsigned char)r->prefix_length;
  q.body.r.rtm_table = RT_TABLE_MAIN;
  q.body.r.rtm_protocol = add ? RTPROT_BOOT : 0;
  q.body.r.rtm_scope = !add ? RT_SCOPE_NOWHERE : r->has_gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  q.body.r.rtm_type = RTN_UNICAST;
  struct in_addr dst = {.s_addr = r->dst.s_addr & mask_of(r->prefix_length)};
  if (r->prefix_length > 0) add_attr(&q, RTA_DST, &dst, sizeof dst);
  add_attr(&q, RTA_OIF, &oif, sizeof oif);
  if (r->has_gw) add_attr(&q, RTA_GATEWAY, &r->gw, sizeof r->gw);
  if (r->metric) add_attr(&q, RTA_PRIORITY, &r->metric, sizeof r->metric);
  return request(&q, add ? "RTM_NEWROUTE" : "RTM_DELROUTE", e);
}

/* The request adding or deleting `len` bytes of `address` (of `family`) on interface `index`. */
static void addr_request(struct nl_req *q, int add, unsigned int index, unsigned char family, const void *address,
                         size_t len, int prefix_length) {
  header(q, add ? RTM_NEWADDR : RTM_DELADDR, sizeof q->body.a, add);
  q->body.a.ifa_family = family;
  q->body.a.ifa_prefixlen = (unsigned char)prefix_length;
  q->body.a.ifa_scope = RT_SCOPE_UNIVERSE;
  q->body.a.ifa_index = index;
  add_attr(q, IFA_LOCAL, address, len);
  add_attr(q, IFA_ADDRESS, address, len);
}

int addr_change(int add, const char *ifname, struct in_addr address, int prefix_length, struct op_error *e) {
  unsigned int index = if_nametoindex(ifname);
  if (index == 0) return op_fail(e, "if_nametoindex");
  struct nl_req q;
  addr_request(&q, add, index, AF_INET, &address, sizeof address, prefix_length);
  if (add && prefix_length < 31) {
    struct in_addr brd = {.s_addr = address.s_addr | ~mask_of(prefix_length)};
    add_attr(&q, IFA_BROADCAST, &brd, sizeof brd);
  }
  return request(&q, add ? "RTM_NEWADDR" : "RTM_DELADDR", e);
}

int addr6_change(int add, const char *ifname, const struct in6_addr *address, int prefix_length, struct op_error *e) {
  unsigned int index = if_nametoindex(ifname);
  if (index == 0) return op_fail(e, "if_nametoindex");
  struct nl_req q;
  addr_request(&q, add, index, AF_INET6, address, sizeof *address, prefix_length);
  if (add) {
    /* usable while its DAD runs (the interface's optimistic_dad is on, ip6_prepare) */
    uint32_t flags = IFA_F_OPTIMISTIC;
    add_attr(&q, IFA_FLAGS, &flags, sizeof flags);
  }
  return request(&q, add ? "RTM_NEWADDR" : "RTM_DELADDR", e);
}
