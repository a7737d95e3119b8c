/* See rpc.h. */
#include "rpc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "output.h"

#define MAX_REPLY_BYTES (8 << 20)

const char *const FORWARDED_ENV[NENV] = {
    [ENV_COMMAND] = "CNI_COMMAND", [ENV_CONTAINERID] = "CNI_CONTAINERID", [ENV_NETNS] = "CNI_NETNS",
    [ENV_IFNAME] = "CNI_IFNAME",   [ENV_ARGS] = "CNI_ARGS",
};

static size_t base64(const unsigned char *in, size_t len, char *out) {
  static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t n = 0, i = 0;
  for (; i + 2 < len; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
    out[n++] = A[v >> 18];
    out[n++] = A[(v >> 12) & 63];
    out[n++] = A[(v >> 6) & 63];
    out[n++] = A[v & 63];
  }
  if (i < len) {
    unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0);
    out[n++] = A[v >> 18];
    out[n++] = A[(v >> 12) & 63];
    out[n++] = i + 1 < len ? A[(v >> 6) & 63] : '=';
    out[n++] = '=';
  }
  return n;
}

#define B64LEN(n) (((n) + 2) / 3 * 4)

char *build_request(const char *const env[NENV], const char *config, size_t config_len, const char *cwd, size_t *len) {
  size_t need = 128 + B64LEN(config_len) + B64LEN(strlen(cwd));
  for (size_t i = 0; i < NENV; i++)
    if (env[i]) need += strlen(FORWARDED_ENV[i]) + 6 + B64LEN(strlen(env[i]));
  char *req = malloc(need);
  if (!req) return NULL;
  size_t n = (size_t)snprintf(req, need, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"cni\",\"params\":{\"env\":{");
  const char *sep = "";
  for (size_t i = 0; i < NENV; i++) {
    if (!env[i]) continue;
    n += (size_t)snprintf(req + n, need - n, "%s\"%s\":\"", sep, FORWARDED_ENV[i]);
    n += base64((const unsigned char *)env[i], strlen(env[i]), req + n);
    req[n++] = '"';
    sep = ",";
  }
  n += (size_t)snprintf(req + n, need - n, "},\"stdin\":\"");
  n += base64((const unsigned char *)config, config_len, req + n);
  n += (size_t)snprintf(req + n, need - n, "\",\"cwd\":\"");
  n += base64((const unsigned char *)cwd, strlen(cwd), req + n);
  n += (size_t)snprintf(req + n, need - n, "\"}}\n");
  *len = n;
  return req;
}

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits for fd to be ready for `events` until deadline; 0 ready, -1 with errno (ETIMEDOUT at the deadline). */
static int wait_fd(int fd, short events, long deadline) {
  for (;;) {
    long left = deadline - now_ms();
    if (left <= 0) {
      errno = ETIMEDOUT;
      return -1;
    }
    struct pollfd p = {fd, events, 0};
    int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
    if (r > 0) return 0;
    if (r < 0 && errno != EINTR) return -1;
  }
}

static void fail_errno(struct failure *f, int e, const struct config *c, const char *verb, int connecting) {
  const char *name = e == ENOENT ? "ENOENT" : e == ECONNREFUSED ? "ECONNREFUSED" : e == EACCES ? "EACCES" : e == EPERM ? "EPERM"
                   : e == ECONNRESET ? "ECONNRESET" : e == EPIPE ? "EPIPE" : "";
  snprintf(f->details, sizeof f->details, "%s%s%s", name, *name ? ": " : "", strerror(e));
  f->unreachable = 1;
  if (e == ETIMEDOUT) {
    f->code = TRY_AGAIN_LATER;
    snprintf(f->msg, sizeof f->msg, "ts-dhcp daemon did not answer %s within %ld %s", verb, c->wait_ms % 1000 ? c->wait_ms : c->wait_ms / 1000,
             c->wait_ms % 1000 ? "ms" : "s");
    snprintf(f->details, sizeof f->details, "socket %s", c->socket_path);
  } else if (connecting && (e == ENOENT || e == ECONNREFUSED)) {
    f->code = TRY_AGAIN_LATER;
    snprintf(f->msg, sizeof f->msg,
             "ts-dhcp daemon is not running: cannot connect to %s (start it with \"ts-dhcp daemon\" or \"systemctl enable --now ts-dhcp.socket\")",
             c->socket_path);
  } else if (connecting && (e == EACCES || e == EPERM)) {
    f->code = IO_FAILURE;
    snprintf(f->msg, sizeof f->msg, "permission denied connecting to the ts-dhcp daemon at %s: the socket is for root only (mode 0600)", c->socket_path);
  } else if (e == ECONNRESET || e == EPIPE) {
    f->code = TRY_AGAIN_LATER;
    snprintf(f->msg, sizeof f->msg, "ts-dhcp daemon dropped the connection during %s", verb);
  } else {
    f->code = IO_FAILURE;
    snprintf(f->msg, sizeof f->msg, "cannot talk to the ts-dhcp daemon at %s: %s", c->socket_path, strerror(e));
  }
}

void fail_protocol(struct failure *f, const char *verb, const char *what) {
  f->code = RPC_PROTOCOL;
  f->unreachable = 0;
  snprintf(f->msg, sizeof f->msg, "ts-dhcp daemon sent a malformed reply to %s: %s", verb, what);
  f->details[0] = '\0';
}

char *exchange(const struct config *c, const char *verb, const char *req, size_t req_len, size_t *reply_len, struct failure *f) {
  long deadline = now_ms() + c->wait_ms;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(c->socket_path) >= sizeof addr.sun_path) {
    fail_errno(f, ENAMETOOLONG, c, verb, 1);
    return NULL;
  }
  memcpy(addr.sun_path, c->socket_path, strlen(c->socket_path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    fail_errno(f, errno, c, verb, 1);
    return NULL;
  }
  char *buf = NULL;
  int connecting = 1;
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    if (errno != EINPROGRESS && errno != EAGAIN) goto sys_error;
    /* A full listen backlog: wait for the daemon to accept. */
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (wait_fd(fd, POLLOUT, deadline) != 0) goto sys_error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0) goto sys_error;
    if (soerr != 0) {
      errno = soerr;
      goto sys_error;
    }
  }
  connecting = 0;
  for (size_t sent = 0; sent < req_len;) {
    ssize_t n = send(fd, req + sent, req_len - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += (size_t)n;
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (wait_fd(fd, POLLOUT, deadline) != 0) goto sys_error;
    } else {
      goto sys_error;
    }
  }
  size_t cap = 4096, len = 0;
  if (!(buf = malloc(cap))) goto sys_error;
  for (;;) {
    if (len == cap) {
      if (cap >= MAX_REPLY_BYTES) {
        fail_protocol(f, verb, "reply longer than 8 MiB");
        goto out;
      }
      char *grown = realloc(buf, cap * 2);
      if (!grown) goto sys_error;
      buf = grown;
      cap *= 2;
    }
    ssize_t n = recv(fd, buf + len, cap - len, 0);
    if (n > 0) {
      char *nl = memchr(buf + len, '\n', (size_t)n);
      len += (size_t)n;
      if (nl) {
        *reply_len = (size_t)(nl - buf);
        close(fd);
        return buf;
      }
    } else if (n == 0) {
      if (len > 0) {
        /* A reply without its final newline is still a reply; the JSON check below tells a cut one. */
        *reply_len = len;
        close(fd);
        return buf;
      }
      f->code = TRY_AGAIN_LATER;
      f->unreachable = 1;
      snprintf(f->msg, sizeof f->msg, "ts-dhcp daemon closed the connection without answering %s", verb);
      snprintf(f->details, sizeof f->details, "socket %s", c->socket_path);
      goto out;
    } else if (errno == EAGAIN || errno == EINTR) {
      if (wait_fd(fd, POLLIN, deadline) != 0) goto sys_error;
    } else {
      goto sys_error;
    }
  }
sys_error:
  fail_errno(f, errno, c, verb, connecting);
out:
  free(buf);
  close(fd);
  return NULL;
}
