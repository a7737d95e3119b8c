/* The exported calls that run on the JS thread and throw with .code at the caller: sends on a handle or on a UDP
 * descriptor, SO_PEERCRED and one stat. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "exports.h"
#include "napi_util.h"
#include "packet.h"
#include "psock.h"
#include "udp.h"

/* packetSend(handle, packet): one IPv4 (or, on an ARP handle, ARP) packet to the Ethernet broadcast address. Throws
 * with .code. */
static napi_value js_packet_send(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  void *data;
  size_t len;
  if (get_args(env, info, 2, argv)) return NULL;
  struct psock *ps = psock_unwrap(env, argv[0]);
  if (!ps || psock_require_open(env, ps, "send")) return NULL;
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
  struct psock *ps = psock_unwrap(env, argv[0]);
  if (!ps || psock_require_open(env, ps, "send")) return NULL;
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

/* inodeOf(path): the inode `path` names now (one stat). The vanish sweep's stat of every lease, once a minute:
 * fs.statSync builds a Stats object and its four Dates each time. Throws with .code. */
static napi_value js_inode_of(napi_env env, napi_callback_info info) {
  napi_value argv[1], out = NULL;
  struct stat st;
  if (get_args(env, info, 1, argv)) return NULL;
  char *path = get_string(env, argv[0], "path must be a string");
  if (!path) return NULL;
  if (stat(path, &st) < 0)
    throw_error(env, "stat", path, NULL, (struct op_error){.errnum = errno, .syscall = "stat"});
  else
    napi_create_double(env, (double)st.st_ino, &out);
  free(path);
  return out;
}

int sync_calls_define(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      EXPORT("packetSend", js_packet_send, 0),
      EXPORT("udp6SendTo", js_udp6_send_to, 0),
      EXPORT("udpSend", js_udp_send, 0),
      EXPORT("peerCred", js_peer_cred, 0),
      EXPORT("inodeOf", js_inode_of, 0),
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props) == napi_ok ? 0 : -1;
}
