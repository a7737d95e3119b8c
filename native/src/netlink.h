/* One rtnetlink exchange in the current netns: what route.c's changes and ip6.c's address dump share. */
#ifndef TSDHCP_NETLINK_H
#define TSDHCP_NETLINK_H
#include <linux/netlink.h>

#include "operr.h"

/* Reads one reply message: 0 for more, 1 when the exchange is over, -1 with `e` filled when it failed. */
typedef int (*nl_reply_fn)(const struct nlmsghdr *h, void *arg, struct op_error *e);

/* Sends `req` on a NETLINK_ROUTE socket of its own and hands every reply message to `on_reply` until it says the
 * exchange is over. Returns 0, or -1 with `e` filled. */
int nl_talk(const struct nlmsghdr *req, nl_reply_fn on_reply, void *arg, struct op_error *e);

#endif
