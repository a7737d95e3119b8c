#include "packet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DHCP_CLIENT_PORT 68

/* The BOOTP chaddr field: UDP header (8) + op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr
 * (28). */
#define CHADDR_FROM_UDP (8 + 28)
#define FILTER_DROP 15

/* Unfragmented IPv4 UDP to port 68 whose chaddr is this link's MAC: every acquiring socket on a LAN would otherwise
 * hear (and wake up for) every other client's replies. Offsets count from the IP header: SOCK_DGRAM strips the
 * link-layer header. Jump offsets count from the next instruction, so each names FILTER_DROP - i - 1. */
static void build_filter(struct sock_filter out[FILTER_DROP + 1], const unsigned char mac[6]) {
  uint32_t mac_hi = (uint32_t)mac[0] << 24 | (uint32_t)mac[1] << 16 | (uint32_t)mac[2] << 8 | mac[3];
  uint32_t mac_lo = (uint32_t)mac[4] << 8 | mac[5];
  struct sock_filter f[FILTER_DROP + 1] = {
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),                            /* 0: A = version/IHL */
      BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf0),                         /* 1: A = version << 4 */
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x40, 0, FILTER_DROP - 3),     /* 2: IPv4? */
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),                            /* 3: A = protocol */
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, FILTER_DROP - 5), /* 4: UDP? */
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),                            /* 5: A = flags/fragment offset */
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, FILTER_DROP - 7, 0),  /* 6: MF or offset: a fragment */
      BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),                           /* 7: X = IHL * 4 */
      BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),                            /* 8: A = UDP destination port */
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, DHCP_CLIENT_PORT, 0, FILTER_DROP - 10), /* 9: port 68? */
      BPF_STMT(BPF_LD | BPF_W | BPF_IND, CHADDR_FROM_UDP),              /* 10: A = chaddr[0..3] */
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, mac_hi, 0, FILTER_DROP - 12),  /* 11 */
      BPF_STMT(BPF_LD | BPF_H | BPF_IND, CHADDR_FROM_UDP + 4),          /* 12: A = chaddr[4..5] */
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, mac_lo, 0, FILTER_DROP - 14),  /* 13 */
      BPF_STMT(BPF_RET | BPF_K, 0xffffffff),                            /* 14: accept all of it */
      BPF_STMT(BPF_RET | BPF_K, 0),                                     /* 15 = FILTER_DROP */
  };
  memcpy(out, f, sizeof f);
}

int packet_open_filtered(const char *ifname, unsigned short ethertype, const struct sock_fprog *prog,
                         struct link_facts *f, struct op_error *e) {
  /* Protocol 0: the socket receives nothing until bind() names the ethertype, which happens after the filter is
   * attached, so no unfiltered frame can be queued and there is nothing to drain. */
  int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return op_fail(e, "socket");
  if (link_query(fd, ifname, f, e) < 0) goto fail;

  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, prog, sizeof *prog) < 0) {
    op_fail(e, "setsockopt(SO_ATTACH_FILTER)");
    goto fail;
  }
  struct sockaddr_ll sll = {
      .sll_family = AF_PACKET,
      .sll_protocol = htons(ethertype),
      .sll_ifindex = f->index,
  };
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
    op_fail(e, "bind");
    goto fail;
  }
  return fd;

fail:
  close(fd);
  return -1;
}

int packet_open(const char *ifname, struct link_facts *f, struct op_error *e) {
  /* The filter names the link's MAC, so the facts come first, through a socket that is cheap to close. */
  int q = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (q < 0) return op_fail(e, "socket");
  int rc = link_query(q, ifname, f, e);
  close(q);
  if (rc < 0) return -1;
  struct sock_filter filter[FILTER_DROP + 1];
  build_filter(filter, f->mac);
  struct sock_fprog prog = {.len = FILTER_DROP + 1, .filter = filter};
  return packet_open_filtered(ifname, ETH_P_IP, &prog, f, e);
}

int packet_send(int fd, int ifindex, unsigned short ethertype, const void *payload, size_t len) {
  struct sockaddr_ll to = {
      .sll_family = AF_PACKET,
      .sll_protocol = htons(ethertype),
      .sll_ifindex = ifindex,
      .sll_halen = ETH_ALEN,
      .sll_addr = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
  };
  ssize_t n;
  do {
    n = sendto(fd, payload, len, 0, (struct sockaddr *)&to, sizeof to);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -1 : 0;
}

ssize_t packet_recv(int fd, void *buf, size_t cap) {
  struct sockaddr_ll from;
  socklen_t fromlen = sizeof from;
  ssize_t n;
  do {
    n = recvfrom(fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  if ((size_t)n > cap || from.sll_pkttype == PACKET_OUTGOING) return 0;
  return n;
}
