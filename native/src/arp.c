#include "arp.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>

#include "packet.h"

int arp_open(const char *ifname, struct in_addr address, struct link_facts *f, struct op_error *e) {
  const __u32 ip = ntohl(address.s_addr);
  /* Offsets count from the ARP header: SOCK_DGRAM strips the Ethernet header. */
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),                   /* A = hardware type, protocol type */
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x00010800, 0, 6),   /* Ethernet, IPv4? */
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 4),                   /* A = address lengths */
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0604, 0, 4),       /* 6 and 4? */
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 14),                  /* A = sender IP */
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ip, 3, 0),           /* the address: accept */
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 24),                  /* A = target IP */
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ip, 1, 0),           /* the address: accept */
      BPF_STMT(BPF_RET | BPF_K, 0),                            /* drop */
      BPF_STMT(BPF_RET | BPF_K, 0xffffffff),                   /* accept all of it */
  };
  struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
  return packet_open_filtered(ifname, ETH_P_ARP, &prog, f, e);
}
