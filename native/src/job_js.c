/* The exported functions that start a netns job: each checks its arguments' types (TypeError, synchronously),
 * checks their values (a rejected Promise), and returns the job's Promise. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "exports.h"
#include "job.h"
#include "napi_util.h"

/* The job kind a function was registered with (napi_property_descriptor.data). */
static enum job_kind job_kind_of(napi_env env, napi_callback_info info) {
  void *data = NULL;
  napi_get_cb_info(env, info, NULL, NULL, NULL, &data);
  return (enum job_kind)(intptr_t)data;
}

/* A job on (netnsPath, ifName, text, ...) with its third argument read as a string into *text (`what` names it in
 * the TypeError); NULL with an exception and nothing left allocated. */
static struct job *job_with_text(napi_env env, enum job_kind kind, napi_value *argv, const char *what, char **text) {
  struct job *j = job_new(env, kind, argv[0], argv[1]);
  if (!j) return NULL;
  *text = get_string(env, argv[2], what);
  if (*text) return j;
  job_free(j);
  return NULL;
}

/* linkInfo, openPacket, ip6Prepare, ip6Addrs, openUdp6, openRa (netnsPath, ifName). */
static napi_value js_job(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (get_args(env, info, 2, argv)) return NULL;
  struct job *j = job_new(env, job_kind_of(env, info), argv[0], argv[1]);
  return j ? job_start(env, j) : NULL;
}

/* openUdp(netnsPath, ifName, bindAddress) and openArp(netnsPath, ifName, address): a packet socket handle for ARP
 * about `address`. */
static napi_value js_job_ipv4(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  char *address;
  if (get_args(env, info, 3, argv)) return NULL;
  enum job_kind kind = job_kind_of(env, info);
  const char *what = kind == JOB_OPEN_UDP ? "bindAddress" : "address";
  char text[64];
  snprintf(text, sizeof text, "%s must be a string", what);
  struct job *j = job_with_text(env, kind, argv, text, &address);
  if (!j) return NULL;
  if (!j->err.errnum && inet_pton(AF_INET, address, &j->local) != 1)
    j->err = (struct op_error){.errnum = EINVAL, .reason = kind == JOB_OPEN_UDP ? "bindAddress is not an IPv4 address"
                                                                                 : "address is not an IPv4 address"};
  free(address);
  return job_start(env, j);
}

/* routeAdd / routeDel(netnsPath, ifName, dst, prefixLength, gw | null, metric): an IPv4 route through ifName in the
 * netns. */
static napi_value js_route(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int32_t prefix;
  uint32_t metric;
  napi_valuetype gw_type;
  char *dst, *gw = NULL;
  if (get_args(env, info, 6, argv)) return NULL;
  if (napi_get_value_int32(env, argv[3], &prefix) != napi_ok || napi_get_value_uint32(env, argv[5], &metric) != napi_ok ||
      napi_typeof(env, argv[4], &gw_type) != napi_ok || (gw_type != napi_null && gw_type != napi_string)) {
    napi_throw_type_error(env, NULL, "route(netnsPath, ifName, dst: string, prefixLength: number, gw: string | null, metric: number)");
    return NULL;
  }
  struct job *j = job_with_text(env, job_kind_of(env, info), argv, "dst must be a string", &dst);
  if (!j) return NULL;
  if (gw_type == napi_string && !(gw = get_string(env, argv[4], "gw must be a string or null"))) {
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
  char *address;
  if (get_args(env, info, 4, argv)) return NULL;
  if (napi_get_value_int32(env, argv[3], &prefix) != napi_ok) {
    napi_throw_type_error(env, NULL, "addr(netnsPath, ifName, address: string, prefixLength: number)");
    return NULL;
  }
  struct job *j = job_with_text(env, job_kind_of(env, info), argv, "address must be a string", &address);
  if (!j) return NULL;
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

/* linkSetUp(netnsPath, ifName, up: boolean) and linkSetMtu(netnsPath, ifName, mtu: number). */
static napi_value js_link_set(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  bool up = false;
  int32_t mtu = 0;
  if (get_args(env, info, 3, argv)) return NULL;
  enum job_kind kind = job_kind_of(env, info);
  if (kind == JOB_LINK_SET_UP ? napi_get_value_bool(env, argv[2], &up) != napi_ok
                              : napi_get_value_int32(env, argv[2], &mtu) != napi_ok) {
    napi_throw_type_error(env, NULL, kind == JOB_LINK_SET_UP ? "up must be a boolean" : "mtu must be a number");
    return NULL;
  }
  struct job *j = job_new(env, kind, argv[0], argv[1]);
  if (!j) return NULL;
  j->up = up;
  j->mtu = mtu;
  if (kind == JOB_LINK_SET_MTU && !j->err.errnum && (mtu < 68 || mtu > 65535))
    j->err = (struct op_error){.errnum = EINVAL, .reason = "mtu must be 68..65535"};
  return job_start(env, j);
}

int jobs_define(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      EXPORT("linkInfo", js_job, JOB_LINK_INFO),
      EXPORT("linkSetUp", js_link_set, JOB_LINK_SET_UP),
      EXPORT("linkSetMtu", js_link_set, JOB_LINK_SET_MTU),
      EXPORT("openPacket", js_job, JOB_OPEN_PACKET),
      EXPORT("openUdp", js_job_ipv4, JOB_OPEN_UDP),
      EXPORT("openArp", js_job_ipv4, JOB_OPEN_ARP),
      EXPORT("routeAdd", js_route, JOB_ROUTE_ADD),
      EXPORT("routeDel", js_route, JOB_ROUTE_DEL),
      EXPORT("addrAdd", js_addr, JOB_ADDR_ADD),
      EXPORT("addrDel", js_addr, JOB_ADDR_DEL),
      EXPORT("ip6Prepare", js_job, JOB_IP6_PREPARE),
      EXPORT("ip6Addrs", js_job, JOB_IP6_ADDRS),
      EXPORT("openUdp6", js_job, JOB_OPEN_UDP6),
      EXPORT("openRa", js_job, JOB_OPEN_RA),
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props) == napi_ok ? 0 : -1;
}
