#ifndef TSDHCP_UDP_H
#define TSDHCP_UDP_H
#include <netinet/in.h>
#include <stddef.h>

#include "operr.h"

/* AF_INET UDP socket in the current netns, bound to `ifname` and to local:68 (the address need not be configured
 * yet). Returns the fd (close-on-exec) or -1. */
int udp_open(const char *ifname, struct in_addr local, struct op_error *e);
/* One sendto; returns 0 or -1 with errno set. */
int udp_send(int fd, const void *payload, size_t len, struct in_addr dst, unsigned short port);
/* The same to an IPv6 destination (an AF_INET6 socket; a link-scope one leaves through the socket's device). */
int udp6_send(int fd, const void *payload, size_t len, struct in6_addr dst, unsigned short port);

#endif
