/* N-API helpers shared by the addon's files: errors that carry errno names, argument reading (a wrong JS type is a
 * programmer error: TypeError, thrown synchronously) and building result objects. */
#ifndef TSDHCP_NAPI_UTIL_H
#define TSDHCP_NAPI_UTIL_H
#include <node_api.h>

#include "operr.h"

#define NAPI_OK(call)                      \
  do {                                     \
    if ((call) != napi_ok) goto napi_fail; \
  } while (0)

/* Error whose message reads "op: netns: ifName: reason" (netns and ifName left out when NULL; reason defaults to
 * the errno's text), with .code set to the errno name, .syscall, .netns and .ifName. NULL if it cannot be made. */
napi_value make_error(napi_env env, const char *op, const char *netns, const char *ifname, struct op_error e);
void throw_error(napi_env env, const char *op, const char *netns, const char *ifname, struct op_error e);

/* The string value v (malloc'd), or NULL with a TypeError saying `what` thrown. */
char *get_string(napi_env env, napi_value v, const char *what);
/* The first `want` arguments into argv; -1 with a TypeError thrown when fewer were passed. */
int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv);

/* Values, or NULL; set_* return -1 when the property could not be set (a NULL value included). */
napi_value string_value(napi_env env, const char *text);
napi_value mac_string(napi_env env, const unsigned char *mac);
int set_int(napi_env env, napi_value obj, const char *key, int value);
int set_bool(napi_env env, napi_value obj, const char *key, int value);
int set_value(napi_env env, napi_value obj, const char *key, napi_value v);

#endif
