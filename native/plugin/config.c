/* See config.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "json_text.h"

/* The daemon's default ADD deadline; the client waits a little longer so the daemon's own answer wins the race. */
#define DAEMON_ADD_TIMEOUT_MS 30000L
#define RPC_MARGIN_MS 5000L
/* STATUS is a readiness probe: a daemon slower than this is not ready. */
#define STATUS_TIMEOUT_MS 5000L
#define MAX_TIMEOUT_MS 3600000L

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

void read_config(const char *doc, const char *end, enum wait wait, struct config *c) {
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
  c->wait_ms = wait == WAIT_STATUS ? STATUS_TIMEOUT_MS
               : wait == WAIT_GC   ? DAEMON_ADD_TIMEOUT_MS + RPC_MARGIN_MS
                                   : (timeout >= 0 ? timeout : DAEMON_ADD_TIMEOUT_MS) + RPC_MARGIN_MS;
}
