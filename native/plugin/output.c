/* See output.h. */
#include "output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "json_text.h"
#include "rpc.h"

void write_out(const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(STDOUT_FILENO, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return; /* nobody reads our stdout any more: nothing left to tell */
    buf += n;
    len -= (size_t)n;
  }
}

int cni_error(const struct config *c, int code, const char *msg, const char *details) {
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

int deliver(const struct config *c, const char *verb, char *reply, size_t len) {
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
