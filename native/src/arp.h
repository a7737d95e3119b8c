#ifndef TSDHCP_ARP_H
#define TSDHCP_ARP_H
#include <netinet/in.h>

#include "link.h"
#include "operr.h"

/* AF_PACKET/SOCK_DGRAM socket for ARP on `ifname` (current netns) that receives only Ethernet/IPv4 ARP packets whose
 * sender or target IP is `address`: what an RFC 5227 probe for it must hear. Sends with packet_send(ETH_P_ARP) and
 * reads with packet_recv. Returns the fd (non-blocking, close-on-exec) or -1. */
int arp_open(const char *ifname, struct in_addr address, struct link_facts *f, struct op_error *e);

#endif
