/* ts-dhcp CNI plugin: the thin client the runtime execs. One pass, bounded: read the config (≤ 1 MiB) and the CNI_*
 * environment, forward them with the working directory to the daemon (rpc.c), print the daemon's answer (output.c)
 * and exit with its code. Every CNI rule lives in the daemon (daemon/cni/plugin.ts); what this client decides on its
 * own when no daemon answers is the VERBS table (offline.c). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "json.h"
#include "offline.h"
#include "output.h"
#include "rpc.h"

#define MAX_CONFIG_BYTES (1 << 20) /* common/rpc.ts MAX_CONFIG_BYTES */
#define MAX_ENV_BYTES (64 << 10)

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

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  struct config c = CONFIG_DEFAULTS;
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
  const struct verb *verb = env[ENV_COMMAND] ? verb_named(env[ENV_COMMAND]) : NULL;
  const char *why = NULL;
  size_t at = 0;
  int valid = config_len <= MAX_CONFIG_BYTES && json_validate(config, config + config_len, &why, &at) == 0;
  const char *doc = config;
  while (valid && (*doc == ' ' || *doc == '\t' || *doc == '\r' || *doc == '\n')) doc++; /* a valid document has a value */
  int object = valid && *doc == '{';
  if (object) read_config(doc, config + config_len, verb ? verb->wait : WAIT_ADD_TIMEOUT, &c);

  int code;
  char msg[256];
  if (!env[ENV_COMMAND] || !*env[ENV_COMMAND]) {
    code = cni_error(&c, INVALID_ENV, "required env variables [CNI_COMMAND] missing", NULL);
  } else if (!verb) {
    snprintf(msg, sizeof msg, "unknown CNI_COMMAND: %.128s", env[ENV_COMMAND]);
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
      int built = req != NULL; /* a freed pointer's value may not be read again */
      char *reply = built ? exchange(&c, verb->name, req, req_len, &reply_len, &f) : NULL;
      free(req);
      if (!built) {
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
