/* The packet socket handle: a descriptor opened in a pod netns, used from the JS thread, its readable events from
 * uv_poll. */
#ifndef TSDHCP_PSOCK_H
#define TSDHCP_PSOCK_H
#include <node_api.h>
#include <stdbool.h>
#include <uv.h>

#include "link.h"

/* What a handle's descriptor is: AF_PACKET (IPv4 or ARP), raw ICMPv6 (router advertisements, receive only), the
 * DHCPv6 client's UDP socket (libuv's dgram cannot receive there: it names a link-local source's zone by the
 * interface index, which means nothing in the daemon's netns, and fails the read), or an inotify descriptor
 * (dirwatch.c; each read's events delivered as they are). */
enum ps_kind { PS_PACKET, PS_ICMP6, PS_UDP6, PS_INOTIFY };

struct psock {
  int fd;
  int ifindex;
  unsigned short ethertype; /* what sends carry: ETH_P_IP or ETH_P_ARP (PS_PACKET only) */
  enum ps_kind kind;
  char *netns;
  char *ifname;
  napi_env env;
  uv_poll_t *poll;        /* set from onMessage until the uv_close callback */
  napi_ref self;          /* strong while polling, so a live socket is never collected */
  napi_ref callback;
  napi_async_context async_context;
};

/* {handle, ifindex, mac, mtu} over `fd`, which it takes: the handle owns it, or it is closed on failure (NULL). */
napi_value psock_new(napi_env env, int fd, enum ps_kind kind, unsigned short ethertype, const char *netns,
                     const char *ifname, const struct link_facts *f);
/* The handle's socket, or NULL with a TypeError thrown (not a handle). */
struct psock *psock_unwrap(napi_env env, napi_value v);
/* 0 while the socket is open; else -1 with an EBADF error naming `op` thrown. */
int psock_require_open(napi_env env, struct psock *ps, const char *op);

#endif
