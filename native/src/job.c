#include "job.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_ether.h>
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arp.h"
#include "napi_util.h"
#include "nsexec.h"
#include "packet.h"
#include "psock.h"
#include "udp.h"

static const char *const job_names[] = {"linkInfo", "linkSetUp", "openPacket", "openUdp", "routeAdd", "openArp",
                                        "routeDel", "addrAdd", "addrDel", "linkSetMtu", "ip6Prepare",
                                        "ip6Addrs", "openUdp6", "openRa"};

void job_free(struct job *j) {
  free(j->facts.addrs);
  free(j->addrs6);
  free(j->ifname);
  free(j->netns);
  free(j);
}

/* On the threadpool, inside the netns. */
static int job_body(void *arg, struct op_error *e) {
  struct job *j = arg;
  switch (j->kind) {
    case JOB_LINK_INFO: return link_info(j->ifname, &j->facts, e);
    case JOB_LINK_SET_UP: return link_set_up(j->ifname, j->up, e);
    case JOB_OPEN_PACKET: return (j->fd = packet_open(j->ifname, &j->facts, e)) < 0 ? -1 : 0;
    case JOB_OPEN_UDP: return (j->fd = udp_open(j->ifname, j->local, e)) < 0 ? -1 : 0;
    case JOB_ROUTE_ADD:
    case JOB_ROUTE_DEL: return route_change(j->kind == JOB_ROUTE_ADD, j->ifname, &j->route, e);
    case JOB_ADDR_ADD:
    case JOB_ADDR_DEL:
      if (j->addr6) return addr6_change(j->kind == JOB_ADDR_ADD, j->ifname, &j->addr6_address, j->addr.prefix_length, e);
      return addr_change(j->kind == JOB_ADDR_ADD, j->ifname, j->addr.address, j->addr.prefix_length, e);
    case JOB_LINK_SET_MTU: return link_set_mtu(j->ifname, j->mtu, e);
    case JOB_OPEN_ARP: return (j->fd = arp_open(j->ifname, j->local, &j->facts, e)) < 0 ? -1 : 0;
    case JOB_IP6_PREPARE: return ip6_prepare(j->ifname, e);
    case JOB_IP6_ADDRS: return ip6_addrs(j->ifname, &j->addrs6, &j->naddrs6, e);
    case JOB_OPEN_UDP6:
    case JOB_OPEN_RA:
      if ((j->fd = j->kind == JOB_OPEN_RA ? ra_open(j->ifname, e) : udp6_open(j->ifname, e)) < 0) return -1;
      if (link_query(j->fd, j->ifname, &j->facts, e) < 0) {
        close(j->fd);
        j->fd = -1;
        return -1;
      }
      return 0;
  }
  return op_fail_with(e, "job", EINVAL);
}

static void job_execute(napi_env env, void *data) {
  struct job *j = data;
  ns_run(j->netns, job_body, j, &j->err);
}

static napi_value link_info_value(napi_env env, const struct link_facts *f) {
  napi_value obj, list;
  NAPI_OK(napi_create_object(env, &obj));
  NAPI_OK(napi_create_array_with_length(env, f->naddrs, &list));
  for (size_t i = 0; i < f->naddrs; i++) {
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &f->addrs[i].address, text, sizeof text);
    napi_value a;
    NAPI_OK(napi_create_object(env, &a));
    if (set_value(env, a, "address", string_value(env, text)) || set_int(env, a, "prefixLength", f->addrs[i].prefix_length))
      goto napi_fail;
    NAPI_OK(napi_set_element(env, list, (uint32_t)i, a));
  }
  if (set_int(env, obj, "index", f->index) || set_value(env, obj, "mac", mac_string(env, f->mac)) ||
      set_int(env, obj, "mtu", f->mtu) || set_bool(env, obj, "up", f->flags & IFF_UP) ||
      set_bool(env, obj, "running", f->flags & IFF_RUNNING) || set_value(env, obj, "addresses", list) ||
      set_value(env, obj, "kind", string_value(env, f->kind)))
    goto napi_fail;
  return obj;
napi_fail:
  return NULL;
}

static napi_value addrs6_value(napi_env env, const struct addr6 *list, size_t n) {
  napi_value arr;
  NAPI_OK(napi_create_array_with_length(env, n, &arr));
  for (size_t i = 0; i < n; i++) {
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &list[i].address, text, sizeof text);
    napi_value a;
    NAPI_OK(napi_create_object(env, &a));
    if (set_value(env, a, "address", string_value(env, text)) || set_int(env, a, "prefixLength", list[i].prefix_length) ||
        set_bool(env, a, "linkLocal", list[i].scope == RT_SCOPE_LINK) ||
        set_bool(env, a, "tentative", list[i].flags & IFA_F_TENTATIVE) ||
        set_bool(env, a, "optimistic", list[i].flags & IFA_F_OPTIMISTIC) ||
        set_bool(env, a, "dadFailed", list[i].flags & IFA_F_DADFAILED))
      goto napi_fail;
    NAPI_OK(napi_set_element(env, arr, (uint32_t)i, a));
  }
  return arr;
napi_fail:
  return NULL;
}

/* The handle over a job's socket; takes j->fd (the handle owns it, or its failure path closed it). */
static napi_value handle_of(napi_env env, struct job *j) {
  enum ps_kind kind = j->kind == JOB_OPEN_RA ? PS_ICMP6 : j->kind == JOB_OPEN_UDP6 ? PS_UDP6 : PS_PACKET;
  unsigned short ethertype = j->kind == JOB_OPEN_ARP ? ETH_P_ARP : ETH_P_IP;
  int fd = j->fd;
  j->fd = -1;
  return psock_new(env, fd, kind, ethertype, j->netns, j->ifname, &j->facts);
}

static void reject(napi_env env, struct job *j) {
  napi_value err = make_error(env, job_names[j->kind], j->netns, j->ifname, j->err);
  if (err) napi_reject_deferred(env, j->deferred, err);
}

/* On the JS thread: the job's outcome settles its Promise. */
static void job_complete(napi_env env, napi_status status, void *data) {
  struct job *j = data;
  napi_value result = NULL;
  if (status != napi_ok) j->err = (struct op_error){.errnum = ECANCELED};
  if (j->err.errnum) {
    reject(env, j);
  } else {
    switch (j->kind) {
      case JOB_LINK_INFO: result = link_info_value(env, &j->facts); break;
      case JOB_LINK_SET_UP:
      case JOB_ROUTE_ADD:
      case JOB_ROUTE_DEL:
      case JOB_ADDR_ADD:
      case JOB_ADDR_DEL:
      case JOB_LINK_SET_MTU:
      case JOB_IP6_PREPARE: napi_get_undefined(env, &result); break;
      case JOB_IP6_ADDRS: result = addrs6_value(env, j->addrs6, j->naddrs6); break;
      case JOB_OPEN_PACKET:
      case JOB_OPEN_ARP:
      case JOB_OPEN_RA:
      case JOB_OPEN_UDP6: result = handle_of(env, j); break;
      case JOB_OPEN_UDP: napi_create_int32(env, j->fd, &result); break;
    }
    if (result) {
      napi_resolve_deferred(env, j->deferred, result);
    } else {
      if (j->fd >= 0) close(j->fd);
      j->err = (struct op_error){.errnum = ENOMEM};
      reject(env, j);
    }
  }
  napi_delete_async_work(env, j->work);
  job_free(j);
}

struct job *job_new(napi_env env, enum job_kind kind, napi_value netns, napi_value ifname) {
  struct job *j = calloc(1, sizeof *j);
  if (!j) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  j->kind = kind;
  j->fd = -1;
  j->netns = get_string(env, netns, "netnsPath must be a string");
  if (!j->netns) goto fail;
  j->ifname = get_string(env, ifname, "ifName must be a string");
  if (!j->ifname) goto fail;
  size_t len = strlen(j->ifname);
  if (len == 0 || len >= IFNAMSIZ) j->err = (struct op_error){.errnum = EINVAL, .reason = "invalid interface name"};
  return j;
fail:
  job_free(j);
  return NULL;
}

napi_value job_start(napi_env env, struct job *j) {
  napi_value promise, name;
  NAPI_OK(napi_create_promise(env, &j->deferred, &promise));
  if (j->err.errnum) {
    reject(env, j);
    job_free(j);
    return promise;
  }
  NAPI_OK(napi_create_string_utf8(env, job_names[j->kind], NAPI_AUTO_LENGTH, &name));
  NAPI_OK(napi_create_async_work(env, NULL, name, job_execute, job_complete, j, &j->work));
  NAPI_OK(napi_queue_async_work(env, j->work));
  return promise;
napi_fail:
  job_free(j);
  return NULL;
}
