#include "napi_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

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

napi_value make_error(napi_env env, const char *op, const char *netns, const char *ifname, struct op_error e) {
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
  /* Best effort: the error is worth throwing without these. */
  if (e.syscall) set_value(env, err, "syscall", string_value(env, e.syscall));
  if (netns) set_value(env, err, "netns", string_value(env, netns));
  if (ifname) set_value(env, err, "ifName", string_value(env, ifname));
  return err;
}

void throw_error(napi_env env, const char *op, const char *netns, const char *ifname, struct op_error e) {
  napi_value err = make_error(env, op, netns, ifname, e);
  if (err) napi_throw(env, err);
}

char *get_string(napi_env env, napi_value v, const char *what) {
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

int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "missing arguments");
    return -1;
  }
  return 0;
}

napi_value string_value(napi_env env, const char *text) {
  napi_value v;
  return napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v) == napi_ok ? v : NULL;
}

napi_value mac_string(napi_env env, const unsigned char *mac) {
  char s[18];
  snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  return string_value(env, s);
}

int set_int(napi_env env, napi_value obj, const char *key, int value) {
  napi_value v;
  return napi_create_int32(env, value, &v) == napi_ok ? set_value(env, obj, key, v) : -1;
}

int set_bool(napi_env env, napi_value obj, const char *key, int value) {
  napi_value v;
  return napi_get_boolean(env, value, &v) == napi_ok ? set_value(env, obj, key, v) : -1;
}

int set_value(napi_env env, napi_value obj, const char *key, napi_value v) {
  return v && napi_set_named_property(env, obj, key, v) == napi_ok ? 0 : -1;
}
