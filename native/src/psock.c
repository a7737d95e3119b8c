/* The packet socket handle's life: made over a descriptor a netns job opened, polled by libuv on the JS thread
 * (each datagram to the JS callback), closed off the JS thread. */
#include "psock.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exports.h"
#include "napi_util.h"
#include "packet.h"

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

/* Whole inotify events, as many as fit (a read never splits one); -1 with errno. */
static ssize_t inotify_read(int fd, void *buf, size_t cap) {
  ssize_t n;
  do {
    n = read(fd, buf, cap);
  } while (n < 0 && errno == EINTR);
  return n;
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
    ssize_t n = ps->kind == PS_PACKET  ? packet_recv(ps->fd, buf, sizeof buf)
                : ps->kind == PS_ICMP6   ? raw_recv(ps->fd, buf, sizeof buf)
                : ps->kind == PS_INOTIFY ? inotify_read(ps->fd, buf, sizeof buf)
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
napi_value psock_new(napi_env env, int fd, enum ps_kind kind, unsigned short ethertype, const char *netns,
                     const char *ifname, const struct link_facts *f) {
  struct psock *ps = calloc(1, sizeof *ps);
  napi_value obj, handle;
  if (!ps) {
    close(fd);
    return NULL;
  }
  ps->fd = -1;
  ps->env = env;
  ps->ifindex = f->index;
  ps->ethertype = ethertype;
  ps->kind = kind;
  ps->netns = strdup(netns);
  ps->ifname = strdup(ifname);
  if (!ps->netns || !ps->ifname) goto fail;
  NAPI_OK(napi_create_object(env, &handle));
  NAPI_OK(napi_type_tag_object(env, handle, &psock_tag));
  NAPI_OK(napi_wrap(env, handle, ps, psock_finalize, NULL, NULL));
  ps->fd = fd; /* from here the finalizer owns the fd */
  NAPI_OK(napi_create_object(env, &obj));
  if (set_value(env, obj, "handle", handle) || set_int(env, obj, "ifindex", f->index) ||
      set_value(env, obj, "mac", mac_string(env, f->mac)) || set_int(env, obj, "mtu", f->mtu))
    goto napi_fail;
  return obj;
napi_fail:
  if (ps->fd >= 0) return NULL; /* wrapped: fd and memory go with the handle */
fail:
  close(fd);
  free(ps->ifname);
  free(ps->netns);
  free(ps);
  return NULL;
}

struct psock *psock_unwrap(napi_env env, napi_value v) {
  bool ok = false;
  void *ps = NULL;
  if (napi_check_object_type_tag(env, v, &psock_tag, &ok) != napi_ok || !ok || napi_unwrap(env, v, &ps) != napi_ok) {
    napi_throw_type_error(env, NULL, "not a packet socket handle");
    return NULL;
  }
  return ps;
}

int psock_require_open(napi_env env, struct psock *ps, const char *op) {
  if (ps->fd >= 0) return 0;
  throw_error(env, op, ps->netns, ps->ifname, (struct op_error){.errnum = EBADF, .reason = "socket is closed"});
  return -1;
}

/* packetStart(handle, onPacket): deliver every received IP packet to onPacket(buffer). */
static napi_value js_packet_start(napi_env env, napi_callback_info info) {
  napi_value argv[2], name;
  napi_valuetype type;
  if (get_args(env, info, 2, argv)) return NULL;
  struct psock *ps = psock_unwrap(env, argv[0]);
  if (!ps || psock_require_open(env, ps, "onMessage")) return NULL;
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

/* packetClose(handle): stops delivery and closes the socket; idempotent. */
static napi_value js_packet_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (get_args(env, info, 1, argv)) return NULL;
  struct psock *ps = psock_unwrap(env, argv[0]);
  if (ps) psock_close(ps, false);
  return NULL;
}

int psock_define(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      EXPORT("packetStart", js_packet_start, 0),
      EXPORT("packetClose", js_packet_close, 0),
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props) == napi_ok ? 0 : -1;
}
