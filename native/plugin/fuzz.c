/* libFuzzer harness for the plugin's parsing (make fuzz; run by test/inproc/native-plugin-libfuzzer.test.ts). The
 * first input byte picks a target, the rest is its input:
 *   0  the JSON scanner (json.c, json_text.c): validate, look members up, unescape, and quote back (a round trip
 *      that must hold);
 *   1  a daemon reply, as deliver() reads it;
 *   2  a whole plugin run: CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME and CNI_ARGS (NUL-separated, missing
 *      ones unset), then the config on stdin. No daemon answers (connect fails with an errno the second byte picks)
 *      and the spool is a stand-in, so a run touches nothing on the host. What the plugin prints must be JSON.
 * plugin.c is included so that its main() becomes plugin_main(), and rpc.c so that its connect() is the stand-in
 * below; the other parsers are linked (Makefile). spool.c is not: spool_release() below stands in for it. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "json.h"
#include "json_text.h"
#include "spool.h"

static int connect_errno;

static int fuzz_connect(int fd, const struct sockaddr *addr, socklen_t len) {
  (void)fd, (void)addr, (void)len;
  errno = connect_errno;
  return -1;
}

/* Refuses every other release, so that both of the offline DEL's outcomes are reached. */
int spool_release(const char *state_dir, const char *container_id, const char *network, const char *if_name, char *err, size_t errsz) {
  if ((strlen(state_dir) + strlen(container_id) + strlen(network) + strlen(if_name)) % 2 == 0) return 0;
  snprintf(err, errsz, "stand-in spool refuses %s", container_id);
  return -1;
}

#define connect fuzz_connect
#include "rpc.c"
#undef connect
#define main plugin_main
#include "plugin.c"
#undef main

static int stdin_fd = -1, stdout_fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  stdin_fd = memfd_create("fuzz-stdin", 0);
  stdout_fd = memfd_create("fuzz-stdout", 0);
  if (stdin_fd < 0 || stdout_fd < 0 || dup2(stdout_fd, STDOUT_FILENO) < 0) abort();
  return 0;
}

static void json_target(const char *p, size_t n) {
  const char *end = p + n, *why;
  size_t at;
  if (json_validate(p, end, &why, &at) == 0) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
    if (json_skip(p, end) > end) abort();
    char small[8], big[4096];
    if (*p == '"') {
      json_string(p, end, small, sizeof small);
      json_string(p, end, big, sizeof big);
    } else if (*p == '{') {
      static const char *const KEYS[] = {"cniVersion", "name", "ipam", "timeout", "stdout", ""};
      for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0]; i++) {
        const char *v = json_member(p, end, KEYS[i]);
        if (v && (v < p || json_skip(v, end) > end)) abort();
      }
    }
  } else if (at > n) {
    abort();
  }
  /* Quoting: the length it reports is what it writes, the token is JSON whatever the bytes, and UTF-8 text without
   * NUL comes back unchanged through json_string. */
  size_t need = json_quote(p, (size_t)(end - p), NULL, 0);
  char *q = malloc(need + 1), *back = malloc(need + 1);
  if (!q || !back) abort();
  if (json_quote(p, (size_t)(end - p), q, need + 1) != need || strlen(q) != need) abort();
  if (json_validate(q, q + need, &why, &at) != 0) abort();
  int text = 1;
  for (const char *c = p; c < end && text; c += text ? json_utf8_len((const unsigned char *)c, (const unsigned char *)end) : 0)
    text = *c != '\0' && json_utf8_len((const unsigned char *)c, (const unsigned char *)end) > 0;
  if (text) {
    long len = json_string(q, q + need, back, need + 1);
    if (len != end - p || memcmp(back, p, (size_t)len) != 0) abort();
  }
  free(q);
  free(back);
}

static void reply_target(const char *p, size_t n) {
  /* As exchange() hands it over: the line without its '\n', which stays in the buffer after it. */
  char *reply = malloc(n + 1);
  if (!reply) abort();
  memcpy(reply, p, n);
  reply[n] = '\n';
  struct config c = CONFIG_DEFAULTS;
  deliver(&c, "ADD", reply, n);
  free(reply);
}

static void plugin_target(const char *p, size_t n) {
  static const int ERRNOS[] = {ENOENT, ECONNREFUSED, EACCES, EPERM, ECONNRESET, ETIMEDOUT, ENAMETOOLONG};
  if (n == 0) return;
  connect_errno = ERRNOS[(unsigned char)*p % (sizeof ERRNOS / sizeof ERRNOS[0])];
  p++, n--;
  const char *end = p + n;
  for (size_t i = 0; i < NENV; i++) {
    const char *nul = memchr(p, '\0', (size_t)(end - p));
    if (!nul) {
      unsetenv(FORWARDED_ENV[i]);
      continue;
    }
    setenv(FORWARDED_ENV[i], p, 1);
    p = nul + 1;
  }
  if (ftruncate(stdin_fd, 0) != 0 || pwrite(stdin_fd, p, (size_t)(end - p), 0) != end - p || lseek(stdin_fd, 0, SEEK_SET) != 0 ||
      dup2(stdin_fd, STDIN_FILENO) < 0 || ftruncate(stdout_fd, 0) != 0 || lseek(stdout_fd, 0, SEEK_SET) != 0)
    abort();
  int code = plugin_main();
  if (code != 0 && code != 1) abort();
  /* Every answer the plugin makes itself is one JSON value: VERSION's, or a CNI error. */
  off_t len = lseek(stdout_fd, 0, SEEK_CUR);
  char *out = malloc((size_t)len + 1);
  if (!out || pread(stdout_fd, out, (size_t)len, 0) != len) abort();
  const char *why;
  size_t at;
  if (len == 0 ? code != 0 : json_validate(out, out + len, &why, &at) != 0) abort();
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  const char *p = (const char *)data + 1;
  switch (data[0] % 3) {
    case 0:
      json_target(p, size - 1);
      break;
    case 1:
      reply_target(p, size - 1);
      break;
    default:
      plugin_target(p, size - 1);
  }
  return 0;
}
