/* N-API glue: argument checking, async work for everything that enters a netns, the packet socket handle (IPv4 or
 * ARP, or ICMPv6 router advertisements) driven by uv_poll on the JS thread, and errors carrying errno names. The
 * syscalls live in link.c, packet.c, arp.c, udp.c, ip6.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/if_ether.h>
#include <linux/rtnetlink.h>
#include <unistd.h>
#include <uv.h>

#include "arp.h"
#include "ip6.h"
#include "link.h"
#include "nsexec.h"
#include "packet.h"
#include "route.h"
#include "udp.h"

#define NAPI_OK(call)                      \
  do {                                     \
    if ((call) != napi_ok) goto napi_fail; \
  } while (0)

/* ---- errors ---- */

static const char *errno_name(int errnum) {
  return errnum == OPERR_NOTNS ? "ENOTNS" : uv_err_name(-errnum);
}

static const char *errno_text(int errnum) {
  switch (errnum) {
    case OPERR_NOTNS: return "not a network namespace";
    case ENODEV: return "no such interface";
    default: return strerror(errnum);
  }
}

static void set_string(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  if (value && napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v) == napi_ok)
    napi_set_named_property(env, obj, key, v);
}

/* Error whose message reads "op: netns: ifName: reason" (netns and ifName left out when NULL; reason defaults to
 * the errno's text), with .code set to the errno name, .syscall, .netns and .ifName. */
static napi_value make_error(napi_env env, const char *op, const char *netns, const char *ifname,
                             struct op_error e) {
  char msg[1024];
  const char *reason = e.reason ? e.reason : errno_text(e.errnum);
  if (netns)
    snprintf(msg, sizeof msg, "%s: %s: %s: %s", op, netns, ifname, reason);
  else
    snprintf(msg, sizeof msg, "%s: %s", op, reason);
  napi_value code, text, err;
  if (napi_create_string_utf8(env, errno_name(e.errnum), NAPI_AUTO_LENGTH, &code) != napi_ok ||
      napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text) != napi_ok ||
      napi_create_error(env, code, text, &err) != napi_ok)
    return NULL;
  set_string(env, err, "syscall", e.syscall);
  set_string(env, err, "netns", netns);
  set_string(env, err, "ifName", ifname);
  return err;
}

static void throw_error(napi_env env, const char *op, const char *netns, const char *ifname, struct op_error e) {
  napi_value err = make_error(env, op, netns, ifname, e);
  if (err) napi_throw(env, err);
}

/* ---- argument helpers (a wrong JS type is a programmer error: TypeError, thrown synchronously) ---- */

static char *get_string(napi_env env, napi_value v, const char *what) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  char *s = malloc(len + 1);
  if (!s || napi_get_value_string_utf8(env, v, s, len + 1, &len) != napi_ok) {
    free(s);
    napi_throw_error(env, "ENOMEM", what);
    return NULL;
  }
  return s;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "missing arguments");
    return -1;
  }
  return 0;
}

/* ---- netns jobs: run on the libuv threadpool, settle a Promise on the JS thread ---- */

enum job_kind {
  JOB_LINK_INFO, JOB_LINK_SET_UP, JOB_OPEN_PACKET, JOB_OPEN_UDP, JOB_ROUTE_ADD, JOB_OPEN_ARP, JOB_ROUTE_DEL, JOB_ADDR_ADD,
  JOB_ADDR_DEL, JOB_LINK_SET_MTU, JOB_IP6_PREPARE, JOB_IP6_ADDRS, JOB_OPEN_UDP6, JOB_OPEN_RA
};
static const char *const job_names[] = {"linkInfo", "linkSetUp", "openPacket", "openUdp", "routeAdd", "openArp",
                                        "routeDel", "addrAdd", "addrDel", "linkSetMtu", "ip6Prepare",
                                        "ip6Addrs", "openUdp6", "openRa"};

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
  struct op_error err;
  struct link_facts facts;
  struct addr6 *addrs6; /* ip6Addrs */
  size_t naddrs6;
  int fd;
};

static void job_free(struct job *j) {
  free(j->facts.addrs);
  free(j->addrs6);
  free(j->ifname);
  free(j->netns);
  free(j);
}

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

static napi_value mac_string(napi_env env, const unsigned char *mac) {
  char s[18];
  snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  napi_value v;
  return napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v) == napi_ok ? v : NULL;
}

static napi_value string_value(napi_env env, const char *text) {
  napi_value v;
  return napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v) == napi_ok ? v : NULL;
}

static int set_int(napi_env env, napi_value obj, const char *key, int value) {
  napi_value v;
  return napi_create_int32(env, value, &v) == napi_ok && napi_set_named_property(env, obj, key, v) == napi_ok
             ? 0 : -1;
}

static int set_bool(napi_env env, napi_value obj, const char *key, int value) {
  napi_value v;
  return napi_get_boolean(env, value, &v) == napi_ok && napi_set_named_property(env, obj, key, v) == napi_ok
             ? 0 : -1;
}

static int set_value(napi_env env, napi_value obj, const char *key, napi_value v) {
  return v && napi_set_named_property(env, obj, key, v) == napi_ok ? 0 : -1;
}

static napi_value link_info_value(napi_env env, const struct link_facts *f) {
  napi_value obj, list;
  NAPI_OK(napi_create_object(env, &obj));
  NAPI_OK(napi_create_array_with_length(env, f->naddrs, &list));
  for (size_t i = 0; i < f->naddrs; i++) {
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &f->addrs[i].address, text, sizeof text);
    napi_value a, s;
    NAPI_OK(napi_create_object(env, &a));
    NAPI_OK(napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &s));
    if (set_value(env, a, "address", s) || set_int(env, a, "prefixLength", f->addrs[i].prefix_length)) goto napi_fail;
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

static napi_value packet_handle_new(napi_env env, const struct job *j);

static void job_complete(napi_env env, napi_status status, void *data) {
  struct job *j = data;
  napi_value result = NULL;
  if (status != napi_ok) j->err = (struct op_error){.errnum = ECANCELED};
  if (j->err.errnum) {
    napi_value err = make_error(env, job_names[j->kind], j->netns, j->ifname, j->err);
    if (err) napi_reject_deferred(env, j->deferred, err);
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
      case JOB_OPEN_UDP6:
        result = packet_handle_new(env, j);
        j->fd = -1; /* owned by the handle now, or closed by its failure path */
        break;
      case JOB_OPEN_UDP: napi_create_int32(env, j->fd, &result); break;
    }
    if (result) {
      napi_resolve_deferred(env, j->deferred, result);
    } else {
      if (j->fd >= 0) close(j->fd);
      napi_value err = make_error(env, job_names[j->kind], j->netns, j->ifname,
                                  (struct op_error){.errnum = ENOMEM});
      if (err) napi_reject_deferred(env, j->deferred, err);
    }
  }
  napi_delete_async_work(env, j->work);
  job_free(j);
}

/* Reads (netnsPath, ifName) into a new job. Bad values (not wrong types) become a rejected Promise. */
static struct job *job_new(napi_env env, enum job_kind kind, napi_value netns, napi_value ifname) {
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

/* Queues the job (or rejects at once when argument checks already failed) and returns its Promise. */
static napi_value job_start(napi_env env, struct job *j) {
  napi_value promise, name;
  NAPI_OK(napi_create_promise(env, &j->deferred, &promise));
  if (j->err.errnum) {
    napi_value err = make_error(env, job_names[j->kind], j->netns, j->ifname, j->err);
    if (err) napi_reject_deferred(env, j->deferred, err);
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

static napi_value js_link_info(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (get_args(env, info, 2, argv)) return NULL;
  struct job *j = job_new(env, JOB_LINK_INFO, argv[0], argv[1]);
  return j ? job_start(env, j) : NULL;
}

static napi_value js_link_set_up(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  bool up;
  if (get_args(env, info, 3, argv)) return NULL;
  if (napi_get_value_bool(env, argv[2], &up) != napi_ok) {
    napi_throw_type_error(env, NULL, "up must be a boolean");
    return NULL;
  }
  struct job *j = job_new(env, JOB_LINK_SET_UP, argv[0], argv[1]);
  if (!j) return NULL;
  j->up = up;
  return job_start(env, j);
}

static napi_value js_open_packet(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (get_args(env, info, 2, argv)) return NULL;
  struct job *j = job_new(env, JOB_OPEN_PACKET, argv[0], argv[1]);
  return j ? job_start(env, j) : NULL;
}

/* A job on (netnsPath, ifName, address): `what` names the address argument in errors. */
static napi_value job_with_address(napi_env env, napi_callback_info info, enum job_kind kind, const char *what) {
  napi_value argv[3];
  char text[64];
  if (get_args(env, info, 3, argv)) return NULL;
  struct job *j = job_new(env, kind, argv[0], argv[1]);
  if (!j) return NULL;
  snprintf(text, sizeof text, "%s must be a string", what);
  char *address = get_string(env, argv[2], text);
  if (!address) {
    job_free(j);
    return NULL;
  }
  if (!j->err.errnum && inet_pton(AF_INET, address, &j->local) != 1)
    j->err = (struct op_error){.errnum = EINVAL,
                               .reason = kind == JOB_OPEN_UDP ? "bindAddress is not an IPv4 address"
                                                              : "address is not an IPv4 address"};
  free(address);
  return job_start(env, j);
}

static napi_value js_open_udp(napi_env env, napi_callback_info info) {
  return job_with_address(env, info, JOB_OPEN_UDP, "bindAddress");
}

/* openArp(netnsPath, ifName, address): a packet socket handle for ARP about `address`. */
static napi_value js_open_arp(napi_env env, napi_callback_info info) {
  return job_with_address(env, info, JOB_OPEN_ARP, "address");
}

/* The job kind a function was registered with (napi_property_descriptor.data). */
static enum job_kind job_kind_of(napi_env env, napi_callback_info info) {
  void *data = NULL;
  napi_get_cb_info(env, info, NULL, NULL, NULL, &data);
  return (enum job_kind)(intptr_t)data;
}

/* ip6Prepare, ip6Addrs, openUdp6, openRa (netnsPath, ifName): the job kind the function was registered with. */
static napi_value js_ip6_job(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (get_args(env, info, 2, argv)) return NULL;
  struct job *j = job_new(env, job_kind_of(env, info), argv[0], argv[1]);
  return j ? job_start(env, j) : NULL;
}

/* routeAdd / routeDel(netnsPath, ifName, dst, prefixLength, gw | null, metric): an IPv4 route through ifName in the
 * netns. */
static napi_value js_route(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int32_t prefix;
  uint32_t metric;
  napi_valuetype gw_type;
  if (get_args(env, info, 6, argv)) return NULL;
  if (napi_get_value_int32(env, argv[3], &prefix) != napi_ok || napi_get_value_uint32(env, argv[5], &metric) != napi_ok ||
      napi_typeof(env, argv[4], &gw_type) != napi_ok || (gw_type != napi_null && gw_type != napi_string)) {
    napi_throw_type_error(env, NULL, "route(netnsPath, ifName, dst: string, prefixLength: number, gw: string | null, metric: number)");
    return NULL;
  }
  struct job *j = job_new(env, job_kind_of(env, info), argv[0], argv[1]);
  if (!j) return NULL;
  char *dst = get_string(env, argv[2], "dst must be a string");
  char *gw = dst && gw_type == napi_string ? get_string(env, argv[4], "gw must be a string or null") : NULL;
  if (!dst || (gw_type == napi_string && !gw)) {
    free(dst);
    job_free(j);
    return NULL;
  }
  j->route.prefix_length = prefix;
  j->route.metric = metric;
  j->route.has_gw = gw != NULL;
  if (j->err.errnum) {
    /* the interface name was already refused */
  } else if (inet_pton(AF_INET, dst, &j->route.dst) != 1) {
    j->err = (struct op_error){.errnum = EINVAL, .reason = "dst is not an IPv4 address"};
  } else if (prefix < 0 || prefix > 32) {
    j->err = (struct op_error){.errnum = EINVAL, .reason = "prefixLength must be 0..32"};
  } else if (gw && inet_pton(AF_INET, gw, &j->route.gw) != 1) {
    j->err = (struct op_error){.errnum = EINVAL, .reason = "gw is not an IPv4 address"};
  }
  free(gw);
  free(dst);
  return job_start(env, j);
}

/* addrAdd / addrDel(netnsPath, ifName, address, prefixLength): an IPv4 or IPv6 address on ifName in the netns. */
static napi_value js_addr(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t prefix;
  if (get_args(env, info, 4, argv)) return NULL;
  if (napi_get_value_int32(env, argv[3], &prefix) != napi_ok) {
    napi_throw_type_error(env, NULL, "addr(netnsPath, ifName, address: string, prefixLength: number)");
    return NULL;
  }
  struct job *j = job_new(env, job_kind_of(env, info), argv[0], argv[1]);
  if (!j) return NULL;
  char *address = get_string(env, argv[2], "address must be a string");
  if (!address) {
    job_free(j);
    return NULL;
  }
  j->addr.prefix_length = prefix;
  if (j->err.errnum) {
    /* the interface name was already refused */
  } else if (inet_pton(AF_INET, address, &j->addr.address) == 1) {
    if (prefix < 1 || prefix > 32) j->err = (struct op_error){.errnum = EINVAL, .reason = "prefixLength must be 1..32"};
  } else if (inet_pton(AF_INET6, address, &j->addr6_address) == 1) {
    j->addr6 = 1;
    if (prefix < 1 || prefix > 128)
      j->err = (struct op_error){.errnum = EINVAL, .reason = "prefixLength must be 1..128"};
  } else {
    j->err = (struct op_error){.errnum = EINVAL, .reason = "address is not an IPv4 or IPv6 address"};
  }
  free(address);
  return job_start(env, j);
}

/* linkSetMtu(netnsPath, ifName, mtu). */
static napi_value js_link_set_mtu(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t mtu;
  if (get_args(env, info, 3, argv)) return NULL;
  if (napi_get_value_int32(env, argv[2], &mtu) != napi_ok) {
    napi_throw_type_error(env, NULL, "mtu must be a number");
    return NULL;
  }
  struct job *j = job_new(env, JOB_LINK_SET_MTU, argv[0], argv[1]);
  if (!j) return NULL;
  j->mtu = mtu;
  if (!j->err.errnum && (mtu < 68 || mtu > 65535)) j->err = (struct op_error){.errnum = EINVAL, .reason = "mtu must be 68..65535"};
  return job_start(env, j);
}

/* ---- packet socket handle: an fd used from the JS thread, readable events from uv_poll ---- */

/* What a handle's descriptor is: AF_PACKET (IPv4 or ARP), raw ICMPv6 (router advertisements, receive only), or
 * the DHCPv6 client's UDP socket (libuv's dgram cannot receive there: it names a link-local source's zone by the
 * interface index, which means nothing in the daemon's netns, and fails the read). */
enum ps_kind { PS_PACKET, PS_ICMP6, PS_UDP6 };

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

static const napi_type_tag psock_tag = {0x74736468637000a1ULL, 0x7061636b6574736bULL};

static void deliver(struct psock *ps, const void *bytes, size_t len) {
  napi_env env = ps->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value buffer, cb, recv, ignored;
  void *copy;
  bool pending = false;
  if (napi_create_buffer_copy(env, len, bytes, &copy, &buffer) != napi_ok ||
      napi_get_reference_value(env, ps->callback, &cb) != napi_ok ||
      napi_get_reference_value(env, ps->self, &recv) != napi_ok ||
      napi_make_callback(env, ps->async_context, recv, cb, 1, &buffer, &ignored) != napi_ok) {
    /* Nothing on the JS stack can catch it here: report it like any uncaught exception. */
    napi_value exception;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
        napi_get_and_clear_last_exception(env, &exception) == napi_ok)
      napi_fatal_exception(env, exception);
  }
  napi_close_handle_scope(env, scope);
}

#define PACKET_BUDGET 32

/* One datagram of a raw ICMPv6 socket (from the ICMPv6 header on); 0 for a truncated one, -1 with errno. */
static ssize_t raw_recv(int fd, void *buf, size_t cap) {
  ssize_t n;
  do {
    n = recv(fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC);
  } while (n < 0 && errno == EINTR);
  return n >= 0 && (size_t)n > cap ? 0 : n;
}

#define UDP6_PREFIX 18 /* source address (16) and port (2) in front of a DHCPv6 datagram */

/* One datagram of the DHCPv6 socket, delivered as source address, source port (network order) and payload. */
static ssize_t udp6_recv(int fd, unsigned char *buf, size_t cap) {
  struct sockaddr_in6 from;
  socklen_t fromlen = sizeof from;
  ssize_t n;
  do {
    n = recvfrom(fd, buf + UDP6_PREFIX, cap - UDP6_PREFIX, MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  if ((size_t)n > cap - UDP6_PREFIX || fromlen < sizeof from || from.sin6_family != AF_INET6) return 0;
  memcpy(buf, &from.sin6_addr, 16);
  memcpy(buf + 16, &from.sin6_port, 2);
  return n + UDP6_PREFIX;
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  struct psock *ps = handle->data;
  if (status < 0) {
    /* libuv stops the poll on POLLERR: a pending socket error, e.g. ENETDOWN from binding to a link that was
     * still down. Reading SO_ERROR clears it; then keep listening. */
    int soerr;
    socklen_t len = sizeof soerr;
    if (getsockopt(ps->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0) uv_poll_start(handle, UV_READABLE, on_readable);
    return;
  }
  unsigned char buf[65536];
  /* The callback may close the socket: check the fd before every read. At most PACKET_BUDGET per wakeup: a flood
   * must not hold the JS thread; the poll is level-triggered, so what is left wakes it again after other work. */
  for (int budget = PACKET_BUDGET; budget > 0 && ps->fd >= 0; budget--) {
    ssize_t n = ps->kind == PS_PACKET ? packet_recv(ps->fd, buf, sizeof buf)
                : ps->kind == PS_ICMP6  ? raw_recv(ps->fd, buf, sizeof buf)
                                        : udp6_recv(ps->fd, buf, sizeof buf);
    if (n < 0) break; /* EAGAIN: drained; any other error was consumed by this read */
    if (n > 0) deliver(ps, buf, (size_t)n);
  }
}

static void on_poll_closed(uv_handle_t *handle) {
  struct psock *ps = handle->data;
  free(handle);
  if (!ps) return; /* finalized first */
  ps->poll = NULL;
  napi_async_destroy(ps->env, ps->async_context);
  napi_delete_reference(ps->env, ps->callback);
  napi_delete_reference(ps->env, ps->self);
}

static void *close_fd_thread(void *arg) {
  close((int)(intptr_t)arg);
  return NULL;
}

/* close(2) of an AF_PACKET socket waits for an RCU grace period (packet_release calls synchronize_net): 10-20 ms
 * here. On the JS thread that stalled every other lease once per acquisition, so a detached thread takes it; closes
 * running at once share one grace period. The descriptor number stays taken until then, so nothing can reuse it. */
static void close_in_background(int fd) {
  pthread_attr_t attr;
  pthread_t thread;
  if (pthread_attr_init(&attr) == 0) {
    int rc = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (rc == 0) rc = pthread_attr_setstacksize(&attr, 64 * 1024);
    if (rc == 0) rc = pthread_create(&thread, &attr, close_fd_thread, (void *)(intptr_t)fd);
    pthread_attr_destroy(&attr);
    if (rc == 0) return;
  }
  close(fd);
}

/* Stops polling (the uv_close callback drops the strong reference) and closes the fd, in the background unless
 * `now`. Idempotent. */
static void psock_close(struct psock *ps, bool now) {
  if (ps->fd < 0) return;
  if (ps->poll) uv_close((uv_handle_t *)ps->poll, on_poll_closed); /* removes the fd from epoll before close */
  if (now) close(ps->fd);
  else close_in_background(ps->fd);
  ps->fd = -1;
}

static void psock_finalize(napi_env env, void *data, void *hint) {
  struct psock *ps = data;
  /* Only reachable with a poll handle at environment teardown; leave the references to the environment. */
  if (ps->poll) ps->poll->data = NULL;
  psock_close(ps, true); /* at environment teardown no thread may outlive it */
  free(ps->ifname);
  free(ps->netns);
  free(ps);
}

/* Takes ownership of j->fd. */
static napi_value packet_handle_new(napi_env env, const struct job *j) {
  struct psock *ps = calloc(1, sizeof *ps);
  napi_value obj, handle;
  if (!ps) {
    close(j->fd);
    return NULL;
  }
  ps->fd = -1;
  ps->env = env;
  ps->ifindex = j->facts.index;
  ps->ethertype = j->kind == JOB_OPEN_ARP ? ETH_P_ARP : ETH_P_IP;
  ps->kind = j->kind == JOB_OPEN_RA ? PS_ICMP6 : j->kind == JOB_OPEN_UDP6 ? PS_UDP6 : PS_PACKET;
  ps->netns = strdup(j->netns);
  ps->ifname = strdup(j->ifname);
  if (!ps->netns || !ps->ifname) goto fail;
  NAPI_OK(napi_create_object(env, &handle));
  NAPI_OK(napi_type_tag_object(env, handle, &psock_tag));
  NAPI_OK(napi_wrap(env, handle, ps, psock_finalize, NULL, NULL));
  ps->fd = j->fd; /* from here the finalizer owns the fd */
  NAPI_OK(napi_create_object(env, &obj));
  if (set_value(env, obj, "handle", handle) || set_int(env, obj, "ifindex", j->facts.index) ||
      set_value(env, obj, "mac", mac_string(env, j->facts.mac)) || set_int(env, obj, "mtu", j->facts.mtu))
    goto napi_fail;
  return obj;
napi_fail:
  if (ps->fd >= 0) return NULL; /* wrapped: fd and memory go with the handle */
fail:
  close(j->fd);
  free(ps->ifname);
  free(ps->netns);
  free(ps);
  return NULL;
}

static struct psock *unwrap_psock(napi_env env, napi_value v) {
  bool ok = false;
  void *ps = NULL;
  if (napi_check_object_type_tag(env, v, &psock_tag, &ok) != napi_ok || !ok || napi_unwrap(env, v, &ps) != napi_ok) {
    napi_throw_type_error(env, NULL, "not a packet socket handle");
    return NULL;
  }
  return ps;
}

static int require_open(napi_env env, struct psock *ps, const char *op) {
  if (ps->fd >= 0) return 0;
  napi_value err =
      make_error(env, op, ps->netns, ps->ifname, (struct op_error){.errnum = EBADF, .reason = "socket is closed"});
  if (err) napi_throw(env, err);
  return -1;
}

/* packetStart(handle, onPacket): deliver every received IP packet to onPacket(buffer). */
static napi_value js_packet_start(napi_env env, napi_callback_info info) {
  napi_value argv[2], name;
  napi_valuetype type;
  if (get_args(env, info, 2, argv)) return NULL;
  struct psock *ps = unwrap_psock(env, argv[0]);
  if (!ps || require_open(env, ps, "onMessage")) return NULL;
  if (napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, NULL, "callback must be a function");
    return NULL;
  }
  if (ps->poll) { /* a new callback replaces the old one */
    napi_ref previous = ps->callback;
    if (napi_create_reference(env, argv[1], 1, &ps->callback) == napi_ok) napi_delete_reference(env, previous);
    return NULL;
  }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return NULL;
  uv_poll_t *poll = malloc(sizeof *poll);
  if (!poll || uv_poll_init(loop, poll, ps->fd) != 0) {
    free(poll);
    throw_error(env, "onMessage", ps->netns, ps->ifname, (struct op_error){.errnum = ENOMEM, .syscall = "uv_poll_init"});
    return NULL;
  }
  poll->data = ps;
  ps->poll = poll;
  /* From here on_poll_closed releases what is created below; any failure closes the socket. */
  int rc = 0;
  if (napi_create_string_utf8(env, "ts-dhcp:PacketSocket", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &ps->async_context) != napi_ok ||
      napi_create_reference(env, argv[1], 1, &ps->callback) != napi_ok ||
      napi_create_reference(env, argv[0], 1, &ps->self) != napi_ok)
    rc = UV_ENOMEM;
  else
    rc = uv_poll_start(poll, UV_READABLE, on_readable);
  if (rc != 0) {
    throw_error(env, "onMessage", ps->netns, ps->ifname, (struct op_error){.errnum = -rc, .syscall = "uv_poll_start"});
    psock_close(ps, false);
  }
  return NULL;
}

/* packetSend(handle, packet): one IPv4 (or, on an ARP handle, ARP) packet to the Ethernet broadcast address. Throws
 * with .code. */
static napi_value js_packet_send(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  void *data;
  size_t len;
  if (get_args(env, info, 2, argv)) return NULL;
  struct psock *ps = unwrap_psock(env, argv[0]);
  if (!ps || require_open(env, ps, "send")) return NULL;
  if (ps->kind != PS_PACKET) {
    throw_error(env, "send", ps->netns, ps->ifname, (struct op_error){.errnum = EOPNOTSUPP, .reason = "not a packet socket"});
    return NULL;
  }
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "packet must be a Buffer");
    return NULL;
  }
  if (packet_send(ps->fd, ps->ifindex, ps->ethertype, data, len) < 0)
    throw_error(env, "send", ps->netns, ps->ifname, (struct op_error){.errnum = errno, .syscall = "sendto"});
  return NULL;
}

/* udp6SendTo(handle, payload, dstIp, dstPort): one sendto on a DHCPv6 handle (a link-scope destination leaves
 * through its device). Throws with .code. */
static napi_value js_udp6_send_to(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  void *data;
  size_t len;
  uint32_t port;
  struct in6_addr dst;
  if (get_args(env, info, 4, argv)) return NULL;
  struct psock *ps = unwrap_psock(env, argv[0]);
  if (!ps || require_open(env, ps, "send")) return NULL;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok || napi_get_value_uint32(env, argv[3], &port) != napi_ok ||
      port > 65535) {
    napi_throw_type_error(env, NULL, "udp6SendTo(handle, payload: Buffer, dstIp: string, dstPort: number)");
    return NULL;
  }
  char *ip = get_string(env, argv[2], "dstIp must be a string");
  if (!ip) return NULL;
  if (ps->kind != PS_UDP6)
    throw_error(env, "send", ps->netns, ps->ifname, (struct op_error){.errnum = EOPNOTSUPP, .reason = "not a DHCPv6 socket"});
  else if (inet_pton(AF_INET6, ip, &dst) != 1)
    throw_error(env, "send", ps->netns, ps->ifname, (struct op_error){.errnum = EINVAL, .reason = "dstIp is not an IPv6 address"});
  else if (udp6_send(ps->fd, data, len, dst, (unsigned short)port) < 0)
    throw_error(env, "send", ps->netns, ps->ifname, (struct op_error){.errnum = errno, .syscall = "sendto"});
  free(ip);
  return NULL;
}

static napi_value js_packet_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (get_args(env, info, 1, argv)) return NULL;
  struct psock *ps = unwrap_psock(env, argv[0]);
  if (ps) psock_close(ps, false);
  return NULL;
}

/* udpSend(fd, payload, dstIp, dstPort, netnsPath, ifName): one synchronous sendto, so a failure throws with
 * .code at the caller (dgram only reports send errors later, through a callback). The names are for the message. */
static napi_value js_udp_send(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int32_t fd;
  uint32_t port;
  void *data;
  size_t len;
  struct in_addr dst;
  if (get_args(env, info, 6, argv)) return NULL;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &port) != napi_ok || port > 65535) {
    napi_throw_type_error(env, NULL, "udpSend(fd: number, payload: Buffer, dstIp: string, dstPort: number, ...)");
    return NULL;
  }
  char *ip = get_string(env, argv[2], "dstIp must be a string");
  char *netns = ip ? get_string(env, argv[4], "netnsPath must be a string") : NULL;
  char *ifname = netns ? get_string(env, argv[5], "ifName must be a string") : NULL;
  if (ifname) {
    if (inet_pton(AF_INET, ip, &dst) != 1)
      throw_error(env, "send", netns, ifname, (struct op_error){.errnum = EINVAL, .reason = "dstIp is not an IPv4 address"});
    else if (udp_send(fd, data, len, dst, (unsigned short)port) < 0)
      throw_error(env, "send", netns, ifname, (struct op_error){.errnum = errno, .syscall = "sendto"});
  }
  free(ifname);
  free(netns);
  free(ip);
  return NULL;
}

/* peerCred(fd): {pid, uid, gid} of the process at the other end of a unix stream socket (SO_PEERCRED, as of its
 * connect). Node has no API for it; the daemon reads the descriptor of an accepted socket. Throws with .code. */
static napi_value js_peer_cred(napi_env env, napi_callback_info info) {
  napi_value argv[1], out, v;
  int32_t fd;
  if (get_args(env, info, 1, argv)) return NULL;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "fd must be a descriptor number");
    return NULL;
  }
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
    throw_error(env, "peerCred", "-", "-", (struct op_error){.errnum = errno, .syscall = "getsockopt(SO_PEERCRED)"});
    return NULL;
  }
  if (napi_create_object(env, &out) != napi_ok) return NULL;
  if (napi_create_int32(env, cred.pid, &v) != napi_ok || napi_set_named_property(env, out, "pid", v) != napi_ok) return NULL;
  if (napi_create_uint32(env, cred.uid, &v) != napi_ok || napi_set_named_property(env, out, "uid", v) != napi_ok) return NULL;
  if (napi_create_uint32(env, cred.gid, &v) != napi_ok || napi_set_named_property(env, out, "gid", v) != napi_ok) return NULL;
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"linkInfo", NULL, js_link_info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"linkSetUp", NULL, js_link_set_up, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openPacket", NULL, js_open_packet, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openUdp", NULL, js_open_udp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openArp", NULL, js_open_arp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetStart", NULL, js_packet_start, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetSend", NULL, js_packet_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetClose", NULL, js_packet_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udp6SendTo", NULL, js_udp6_send_to, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpSend", NULL, js_udp_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"routeAdd", NULL, js_route, NULL, NULL, NULL, napi_enumerable, (void *)JOB_ROUTE_ADD},
      {"routeDel", NULL, js_route, NULL, NULL, NULL, napi_enumerable, (void *)JOB_ROUTE_DEL},
      {"addrAdd", NULL, js_addr, NULL, NULL, NULL, napi_enumerable, (void *)JOB_ADDR_ADD},
      {"addrDel", NULL, js_addr, NULL, NULL, NULL, napi_enumerable, (void *)JOB_ADDR_DEL},
      {"linkSetMtu", NULL, js_link_set_mtu, NULL, NULL, NULL, napi_enumerable, NULL},
      {"peerCred", NULL, js_peer_cred, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ip6Prepare", NULL, js_ip6_job, NULL, NULL, NULL, napi_enumerable, (void *)JOB_IP6_PREPARE},
      {"ip6Addrs", NULL, js_ip6_job, NULL, NULL, NULL, napi_enumerable, (void *)JOB_IP6_ADDRS},
      {"openUdp6", NULL, js_ip6_job, NULL, NULL, NULL, napi_enumerable, (void *)JOB_OPEN_UDP6},
      {"openRa", NULL, js_ip6_job, NULL, NULL, NULL, napi_enumerable, (void *)JOB_OPEN_RA},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
