#ifndef TSDHCP_PACKET_H
#define TSDHCP_PACKET_H
#include <linux/filter.h>
#include <stddef.h>
#include <sys/types.h>

#include "link.h"
#include "operr.h"

/* AF_PACKET/SOCK_DGRAM socket on `ifname` (current netns) that receives only unfragmented IPv4 UDP datagrams to
 * port 68 whose BOOTP chaddr is the link's MAC (the daemon's chaddr is always its interface's); fills index, MAC,
 * MTU and flags of the link. Returns the fd (non-blocking, close-on-exec) or -1. */
int packet_open(const char *ifname, struct link_facts *f, struct op_error *e);
/* AF_PACKET/SOCK_DGRAM socket on `ifname` (current netns) for `ethertype`, receiving only what `prog` accepts (the
 * filter is attached before the bind, so nothing unfiltered is ever queued); fills the link facts as packet_open. */
int packet_open_filtered(const char *ifname, unsigned short ethertype, const struct sock_fprog *prog,
                         struct link_facts *f, struct op_error *e);
/* Sends one packet of `ethertype` (the kernel adds the Ethernet header) to the Ethernet broadcast address.
 * Returns 0 or -1 with errno set. */
int packet_send(int fd, int ifindex, unsigned short ethertype, const void *payload, size_t len);
/* Reads one datagram without blocking. Returns its length, 0 for a datagram to ignore (truncated, or one this
 * host sent), or -1 with errno set (EAGAIN: nothing left). */
ssize_t packet_recv(int fd, void *buf, size_t cap);

#endif
