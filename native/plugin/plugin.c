/* ts-dhcp CNI plugin: the thin client the runtime execs. One pass, bounded: read the config (≤ 1 MiB) and the CNI_*
 * environment, forward them with the working directory to the daemon (JSON-RPC method "cni", every value base64),
 * print the daemon's answer and exit with its code. Every CNI rule lives in the daemon (daemon/cni/plugin.ts); what
 * this client decides on its own when no daemon answers is the VERBS table below. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "spool.h"
#include "versions.h"

#define MAX_CONFIG_BYTES (1 << 20) /* common/rpc.ts MAX_CONFIG_BYTES */
#define MAX_ENV_BYTES (64 << 10)
#define MAX_REPLY_BYTES (8 << 20)
/* Overridable at build time only so that the fuzzing build cannot reach the host's daemon or state (Makefile). */
#ifndef DEFAULT_SOCKET_PATH
#define DEFAULT_SOCKET_PATH "/run/cni/ts-dhcp.sock"
#endif
#ifndef DEFAULT_STATE_DIR
#define DEFAULT_STATE_DIR "/var/lib/ts-dhcp"
#endif
/* The daemon's default ADD deadline; the client waits a little longer so the daemon's own answer wins the race. */
#define DAEMON_ADD_TIMEOUT_MS 30000L
#define RPC_MARGIN_MS 5000L
/* STATUS is a readiness probe: a daemon slower than this is not ready. */
#define STATUS_TIMEOUT_MS 5000L
#define MAX_TIMEOUT_MS 3600000L

/* CNI error codes the client itself reports (daemon/cni/errors.ts). */
enum { INVALID_ENV = 4, IO_FAILURE = 5, DECODING_FAILURE = 6, INVALID_CONFIG = 7, TRY_AGAIN_LATER = 11, NOT_AVAILABLE = 50, DAEMON_ERROR = 102, RPC_PROTOCOL = 103 };

/* What a verb needs of the daemon, and what the client does when the daemon cannot be reached. */
enum offline { ANSWER_VERSION, SPOOL_RELEASE, NOT_READY_50, TRY_AGAIN_11 };
enum wait { WAIT_ADD_TIMEOUT, WAIT_GC, WAIT_STATUS };

static const struct verb {
  const char *name;
  enum offline offline;
  enum wait wait;
} VERBS[] = {
    {"ADD", TRY_AGAIN_11, WAIT_ADD_TIMEOUT},
    {"DEL", SPOOL_RELEASE, WAIT_ADD_TIMEOUT},
    {"CHECK", TRY_AGAIN_11, WAIT_ADD_TIMEOUT},
    {"STATUS", NOT_READY_50, WAIT_STATUS},
    {"GC", TRY_AGAIN_11, WAIT_GC},
    {"VERSION", ANSWER_VERSION, WAIT_STATUS}, /* always answered here: no daemon needed, ~1 ms */
};
#define NVERBS (sizeof VERBS / sizeof VERBS[0])

static const char *const FORWARDED_ENV[] = {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS"};
#define NENV (sizeof FORWARDED_ENV / sizeof FORWARDED_ENV[0])

/* The few config keys the client reads; everything else is the daemon's to read. */
struct config {
  char version[64]; /* the cniVersion token as given (JSON, quotes included), or the latest */
  char socket_path[PATH_MAX];
  char state_dir[PATH_MAX];
  char name[256];
  long wait_ms;
};

/* ---- output ---- */

static void write_out(const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(STDOUT_FILENO, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return; /* nobody reads our stdout any more: nothing left to tell */
    buf += n;
    len -= (size_t)n;
  }
}

/* Prints the CNI error JSON (spec "Error") and returns the exit code 1. */
static int cni_error(const struct config *c, int code, const char *msg, const char *details) {
  size_t mlen = strlen(msg);
  size_t dlen = details ? strlen(details) : 0;
  size_t need = strlen(c->version) + 2 * (json_quote(msg, mlen, NULL, 0) + json_quote(details ? details : "", dlen, NULL, 0)) + 96;
  char *out = malloc(need);
  if (!out) {
    static const char oom[] = "{\"cniVersion\":\"1.1.0\",\"code\":5,\"msg\":\"ts-dhcp plugin: out of memory\"}\n";
    write_out(oom, sizeof oom - 1);
    return 1;
  }
  size_t n = (size_t)snprintf(out, need, "{\"cniVersion\":%s,\"code\":%d,\"msg\":", c->version, code);
  n += json_quote(msg, mlen, out + n, need - n);
  if (details && *details) {
    n += (size_t)snprintf(out + n, need - n, ",\"details\":");
    n += json_quote(details, dlen, out + n, need - n);
  }
  n += (size_t)snprintf(out + n, need - n, "}\n");
  write_out(out, n);
  free(out);
  return 1;
}

/* ---- input ---- */

/* All of stdin up to MAX_CONFIG_BYTES + 1 (one more byte says "too large"); no stdin at all reads as empty. */
static char *read_stdin(size_t *len, int *err) {
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  if (!buf) {
    *err = ENOMEM;
    return NULL;
  }
  for (;;) {
    if (n == cap) {
      size_t next = cap * 2 > MAX_CONFIG_BYTES + 1 ? MAX_CONFIG_BYTES + 1 : cap * 2;
      if (next == cap) break;
      char *grown = realloc(buf, next);
      if (!grown) {
        free(buf);
        *err = ENOMEM;
        return NULL;
      }
      buf = grown;
      cap = next;
    }
    ssize_t r = read(STDIN_FILENO, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EBADF) break;
    if (r < 0) {
      *err = errno;
      free(buf);
      return NULL;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  *len = n;
  return buf;
}

/* Go's time.ParseDuration without a sign ("1m30s", "300ms"), or a JSON number of ms; -1 when it is neither. */
static long parse_timeout_ms(const char *v, const char *end) {
  char text[64];
  if (*v != '"') {
    char *stop;
    size_t len = (size_t)(json_skip(v, end) - v);
    if (len >= sizeof text) return -1;
    memcpy(text, v, len);
    text[len] = '\0';
    double ms = strtod(text, &stop);
    return *stop == '\0' && ms >= 0 && ms <= MAX_TIMEOUT_MS ? (long)(ms + 0.5) : -1;
  }
  if (json_string(v, end, text, sizeof text) <= 0) return -1;
  static const struct {
    const char *unit;
    double ms;
  } UNITS[] = {{"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"\xce\xbcs", 1e-3}, {"ms", 1}, {"s", 1e3}, {"m", 6e4}, {"h", 3.6e6}};
  if (strcmp(text, "0") == 0) return 0;
  double total = 0;
  const char *p = text;
  while (*p) {
    char *stop;
    if (!((*p >= '0' && *p <= '9') || *p == '.')) return -1;
    double x = strtod(p, &stop);
    if (stop == p) return -1;
    p = stop;
    size_t best = 0;
    double scale = 0;
    for (size_t i = 0; i < sizeof UNITS / sizeof UNITS[0]; i++) {
      size_t ul = strlen(UNITS[i].unit);
      if (ul > best && strncmp(p, UNITS[i].unit, ul) == 0) {
        best = ul;
        scale = UNITS[i].ms;
      }
    }
    if (best == 0) return -1;
    total += x * scale;
    p += best;
    if (total > MAX_TIMEOUT_MS) return -1;
  }
  return (long)(total + 0.5);
}

/* An absolute path string that fits, or nothing (the default applies, and the daemon says what is wrong). */
static void path_key(const char *obj, const char *end, const char *key, char *out, size_t outsz) {
  const char *v = obj ? json_member(obj, end, key) : NULL;
  char buf[PATH_MAX];
  if (v && *v == '"' && json_string(v, end, buf, sizeof buf) > 0 && buf[0] == '/' && strlen(buf) < outsz) strcpy(out, buf);
}

/* The keys the client needs, from a validated document. */
static void read_config(const char *doc, const char *end, const struct verb *verb, struct config *c) {
  const char *v = json_member(doc, end, "cniVersion");
  char text[sizeof c->version - 2];
  if (v && *v == '"' && json_string(v, end, text, sizeof text) > 0) {
    size_t len = (size_t)(json_skip(v, end) - v);
    if (len < sizeof c->version) {
      memcpy(c->version, v, len);
      c->version[len] = '\0';
    }
  }
  v = json_member(doc, end, "name");
  if (v && *v == '"') json_string(v, end, c->name, sizeof c->name);
  const char *ipam = json_member(doc, end, "ipam");
  if (ipam && *ipam != '{') ipam = NULL;
  path_key(ipam, end, "daemonSocketPath", c->socket_path, sizeof c->socket_path);
  path_key(ipam, end, "stateDir", c->state_dir, sizeof c->state_dir);
  long timeout = -1;
  v = ipam ? json_member(ipam, end, "timeout") : NULL;
  if (v) timeout = parse_timeout_ms(v, end);
  c->wait_ms = verb->wait == WAIT_STATUS ? STATUS_TIMEOUT_MS
               : verb->wait == WAIT_GC   ? DAEMON_ADD_TIMEOUT_MS + RPC_MARGIN_MS
                                         : (timeout >= 0 ? timeout : DAEMON_ADD_TIMEOUT_MS) + RPC_MARGIN_MS;
}

static void answer_version(const struct config *c) {
  char out[sizeof c->version + sizeof SUPPORTED_VERSIONS_JSON + 64];
  int n = snprintf(out, sizeof out, "{\"cniVersion\":%s,\"supportedVersions\":%s}\n", c->version, SUPPORTED_VERSIONS_JSON);
  write_out(out, n < (int)sizeof out ? (size_t)n : sizeof out - 1);
}

/* ---- the request ---- */

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

/* {"jsonrpc":"2.0","id":1,"method":"cni","params":{"env":{...},"stdin":"…","cwd":"…"}}\n */
static char *build_request(const char *const env[NENV], const char *config, size_t config_len, const char *cwd, size_t *len) {
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

/* ---- the call ---- */

/* Why a call failed, in the RPC client's words (what used to be client/rpc-client.ts). `unreachable`: the request
 * never reached a daemon able to serve it, so the verb's offline rule applies. */
struct failure {
  int code;
  int unreachable;
  char msg[PATH_MAX + 512];
  char details[PATH_MAX + 64];
};

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

static void fail_protocol(struct failure *f, const char *verb, const char *what) {
  f->code = RPC_PROTOCOL;
  f->unreachable = 0;
  snprintf(f->msg, sizeof f->msg, "ts-dhcp daemon sent a malformed reply to %s: %s", verb, what);
  f->details[0] = '\0';
}

/* Connects, sends, and reads one reply line (to '\n' or EOF) by the deadline. Returns the reply (malloc'd) or NULL
 * with *f filled in. */
static char *exchange(const struct config *c, const char *verb, const char *req, size_t req_len, size_t *reply_len, struct failure *f) {
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

/* Prints the daemon's answer: result {stdout, exitCode}, or a JSON-RPC error turned into a CNI error. */
static int deliver(const struct config *c, const char *verb, char *reply, size_t len) {
  struct failure f = {0};
  const char *why = NULL; /* stays NULL when the reply is JSON but not an object */
  size_t at = 0;
  const char *end = reply + len;
  if (json_validate(reply, end, &why, &at) != 0 || *reply != '{') {
    char what[128];
    if (*reply != '{' && !why) snprintf(what, sizeof what, "not a JSON object");
    else snprintf(what, sizeof what, "not JSON (%s at byte %zu)", why, at);
    fail_protocol(&f, verb, what);
    return cni_error(c, f.code, f.msg, NULL);
  }
  const char *result = json_member(reply, end, "result");
  const char *error = json_member(reply, end, "error");
  if (result && *result == '{') {
    const char *out = json_member(result, end, "stdout");
    const char *code = json_member(result, end, "exitCode");
    long exit_code = -1;
    if (code && *code >= '0' && *code <= '9') exit_code = strtol(code, NULL, 10);
    if (!out || *out != '"' || exit_code < 0 || exit_code > 255) {
      fail_protocol(&f, verb, "result without stdout and exitCode");
      return cni_error(c, f.code, f.msg, NULL);
    }
    /* Unescaped in place: the text is never longer than its JSON token. */
    size_t tok = (size_t)(json_skip(out, end) - out);
    char *text = malloc(tok);
    if (!text) return cni_error(c, IO_FAILURE, "ts-dhcp plugin: out of memory", NULL);
    long n = json_string(out, end, text, tok);
    if (n >= 0) write_out(text, (size_t)n);
    free(text);
    if (n < 0) {
      fail_protocol(&f, verb, "stdout is not text");
      return cni_error(c, f.code, f.msg, NULL);
    }
    return (int)exit_code;
  }
  if (error && *error == '{') {
    const char *code = json_member(error, end, "code");
    const char *message = json_member(error, end, "message");
    const char *data = json_member(error, end, "data");
    const char *details = data && *data == '{' ? json_member(data, end, "details") : data;
    char text[1024] = "", why_text[1024] = "";
    if (message && *message == '"') json_string(message, end, text, sizeof text);
    if (details && *details == '"') json_string(details, end, why_text, sizeof why_text);
    long n = code && (*code == '-' || (*code >= '0' && *code <= '9')) ? strtol(code, NULL, 10) : 0;
    /* Positive codes are the daemon's CNI codes (common/rpc.ts) and pass through; JSON-RPC's own (negative) mean the
     * request was refused before any CNI logic ran. */
    if (n > 0 && n < 1000) return cni_error(c, (int)n, text[0] ? text : "ts-dhcp daemon error", why_text);
    char msg[1200], rpc[1100];
    snprintf(msg, sizeof msg, "ts-dhcp daemon error on %s: %s", verb, text[0] ? text : "(no message)");
    snprintf(rpc, sizeof rpc, "JSON-RPC error %ld%s%s", n, why_text[0] ? ": " : "", why_text);
    return cni_error(c, DAEMON_ERROR, msg, rpc);
  }
  fail_protocol(&f, verb, "neither \"result\" nor \"error\"");
  return cni_error(c, f.code, f.msg, NULL);
}

/* ---- without a daemon: the VERBS table's offline column ---- */

static int offline(const struct config *c, const struct verb *verb, const char *const env[NENV], const struct failure *f) {
  switch (verb->offline) {
    case NOT_READY_50: {
      char msg[sizeof f->msg + PATH_MAX + 64];
      snprintf(msg, sizeof msg, "ts-dhcp daemon not available at %s: %s", c->socket_path, f->msg);
      return cni_error(c, NOT_AVAILABLE, msg, f->details);
    }
    case SPOOL_RELEASE: {
      const char *cid = env[1], *ifname = env[3];
      if (!cid || !*cid || !ifname || !*ifname) {
        char msg[128];
        snprintf(msg, sizeof msg, "required env variables [%s%s%s] missing", !cid || !*cid ? "CNI_CONTAINERID" : "",
                 (!cid || !*cid) && (!ifname || !*ifname) ? "," : "", !ifname || !*ifname ? "CNI_IFNAME" : "");
        return cni_error(c, INVALID_ENV, msg, NULL);
      }
      if (!c->name[0]) return cni_error(c, INVALID_CONFIG, "name: missing network name", NULL);
      char why[PATH_MAX + 256];
      if (spool_release(c->state_dir, cid, c->name, ifname, why, sizeof why) == 0) return 0;
      char msg[sizeof f->msg + sizeof why + PATH_MAX + 64];
      snprintf(msg, sizeof msg, "%s; and the release could not be remembered in %s: %s", f->msg, c->state_dir, why);
      return cni_error(c, IO_FAILURE, msg, f->details);
    }
    case TRY_AGAIN_11:
    case ANSWER_VERSION:
      break;
  }
  return cni_error(c, f->code, f->msg, f->details);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  struct config c = {.version = "\"" LATEST_VERSION "\"", .socket_path = DEFAULT_SOCKET_PATH, .state_dir = DEFAULT_STATE_DIR};
  const char *env[NENV];
  for (size_t i = 0; i < NENV; i++) env[i] = getenv(FORWARDED_ENV[i]);

  size_t config_len = 0;
  int read_err = 0;
  char *config = read_stdin(&config_len, &read_err);
  if (!config) {
    char msg[256];
    snprintf(msg, sizeof msg, "cannot read the network config on stdin: %s", strerror(read_err));
    return cni_error(&c, IO_FAILURE, msg, NULL);
  }
  const struct verb *verb = NULL;
  for (size_t i = 0; i < NVERBS && env[0]; i++)
    if (strcmp(env[0], VERBS[i].name) == 0) verb = &VERBS[i];
  const char *why = NULL;
  size_t at = 0;
  int valid = config_len <= MAX_CONFIG_BYTES && json_validate(config, config + config_len, &why, &at) == 0;
  const char *doc = config;
  while (valid && (*doc == ' ' || *doc == '\t' || *doc == '\r' || *doc == '\n')) doc++; /* a valid document has a value */
  int object = valid && *doc == '{';
  if (object) read_config(doc, config + config_len, verb ? verb : &VERBS[0], &c);

  int code;
  char msg[256];
  if (!env[0] || !*env[0]) {
    code = cni_error(&c, INVALID_ENV, "required env variables [CNI_COMMAND] missing", NULL);
  } else if (!verb) {
    snprintf(msg, sizeof msg, "unknown CNI_COMMAND: %.128s", env[0]);
    code = cni_error(&c, INVALID_ENV, msg, "ts-dhcp supports ADD, DEL, CHECK, STATUS, GC, VERSION");
  } else if (verb->offline == ANSWER_VERSION) {
    answer_version(&c);
    code = 0;
  } else if (config_len > MAX_CONFIG_BYTES) {
    snprintf(msg, sizeof msg, "the network config on stdin is larger than %d bytes", MAX_CONFIG_BYTES);
    code = cni_error(&c, DECODING_FAILURE, msg, NULL);
  } else if (!valid) {
    /* Where the daemon is comes from the config: without it there is no one to ask. */
    snprintf(msg, sizeof msg, "error parsing the network config on stdin: %s at byte %zu", why, at);
    code = cni_error(&c, DECODING_FAILURE, msg, NULL);
  } else if (!object) {
    code = cni_error(&c, DECODING_FAILURE, "the network config on stdin is not a JSON object", NULL);
  } else {
    code = -1;
    for (size_t i = 0; i < NENV && code < 0; i++) {
      if (env[i] && strlen(env[i]) > MAX_ENV_BYTES) {
        snprintf(msg, sizeof msg, "%s is longer than %d bytes", FORWARDED_ENV[i], MAX_ENV_BYTES);
        code = cni_error(&c, INVALID_ENV, msg, NULL);
      }
    }
    if (code < 0) {
      char cwd[PATH_MAX];
      if (!getcwd(cwd, sizeof cwd)) cwd[0] = '\0'; /* the daemon refuses a relative CNI_NETNS then */
      size_t req_len = 0;
      char *req = build_request(env, config, config_len, cwd, &req_len);
      struct failure f = {0};
      size_t reply_len = 0;
      char *reply = req ? exchange(&c, verb->name, req, req_len, &reply_len, &f) : NULL;
      free(req);
      if (!req) {
        code = cni_error(&c, IO_FAILURE, "ts-dhcp plugin: out of memory", NULL);
      } else if (reply) {
        code = deliver(&c, verb->name, reply, reply_len);
        free(reply);
      } else if (f.unreachable || verb->offline == NOT_READY_50) {
        code = offline(&c, verb, env, &f);
      } else {
        code = cni_error(&c, f.code, f.msg, f.details);
      }
    }
  }
  free(config);
  return code;
}
