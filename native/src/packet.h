#ifndef TSDHCP_PACKET_H
#define TSDHCP_PACKET_H
#include <stddef.h>
#include <sys/types.h>

#include "link.h"
#include "operr.h"

/* AF_PACKET/SOCK_DGRAM socket on `ifname` (current netns) that receives only unfragmented IPv4 UDP datagrams to
 * port 68; fills index, MAC, MTU and flags of the link. Returns the fd (non-blocking, close-on-exec) or -1. */
int packet_open(const char *ifname, struct link_facts *f, struct op_error *e);
/* Sends one IPv4 packet to the Ethernet broadcast address. Returns 0 or -1 with errno set. */
int packet_send(int fd, int ifindex, const void *ip_packet, size_t len);
/* Reads one datagram without blocking. Returns its length, 0 for a datagram to ignore (truncated, or one this
 * host sent), or -1 with errno set (EAGAIN: nothing left). */
ssize_t packet_recv(int fd, void *buf, size_t cap);

#endif
