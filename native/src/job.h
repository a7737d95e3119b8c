/* Netns jobs: work that enters a pod's network namespace runs on the libuv threadpool (setns moves only the calling
 * thread) and settles a Promise on the JS thread. */
#ifndef TSDHCP_JOB_H
#define TSDHCP_JOB_H
#include <netinet/in.h>
#include <node_api.h>

#include "ip6.h"
#include "link.h"
#include "operr.h"
#include "route.h"

enum job_kind {
  JOB_LINK_INFO, JOB_LINK_SET_UP, JOB_OPEN_PACKET, JOB_OPEN_UDP, JOB_ROUTE_ADD, JOB_OPEN_ARP, JOB_ROUTE_DEL, JOB_ADDR_ADD,
  JOB_ADDR_DEL, JOB_LINK_SET_MTU, JOB_IP6_PREPARE, JOB_IP6_ADDRS, JOB_OPEN_UDP6, JOB_OPEN_RA
};

struct job {
  enum job_kind kind;
  napi_async_work work;
  napi_deferred deferred;
  char *netns;
  char *ifname;
  int up;
  struct in_addr local;
  struct route_spec route;
  struct link_addr addr; /* addrAdd, addrDel of an IPv4 address */
  int addr6;             /* addrAdd, addrDel: the address is IPv6, in addr6_address */
  struct in6_addr addr6_address;
  int mtu;
  struct op_error err; /* set before job_start: the arguments were refused, and the Promise is rejected at once */
  struct link_facts facts;
  struct addr6 *addrs6; /* ip6Addrs */
  size_t naddrs6;
  int fd;
};

/* Reads (netnsPath, ifName) into a new job. Bad values (not wrong types) become j->err; NULL with an exception. */
struct job *job_new(napi_env env, enum job_kind kind, napi_value netns, napi_value ifname);
/* Queues the job (or rejects at once when argument checks failed) and returns its Promise; takes the job. */
napi_value job_start(napi_env env, struct job *j);
void job_free(struct job *j);

#endif
