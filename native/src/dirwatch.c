/* The watch on the directories of pod netns files (daemon/transport/netns-watch.ts): one inotify descriptor, its
 * events read by the packet socket handle's poll (psock.c, PS_INOTIFY) and delivered a read at a time. Only what can
 * make a netns file vanish is asked for: on a node whose pods come and go, a file created (half of the traffic in
 * /var/run/netns) never wakes the daemon, as it did through fs.watch, which watches every change. */
#include <errno.h>
#include <stdlib.h>
#include <sys/inotify.h>

#include "exports.h"
#include "napi_util.h"
#include "psock.h"

/* A file deleted or renamed away, and the directory itself deleted or moved (IN_IGNORED, IN_UNMOUNT and
 * IN_Q_OVERFLOW come unasked). */
#define VANISH_EVENTS (IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/* The inotify handle of `v`, or NULL with an error thrown. */
static struct psock *watch_unwrap(napi_env env, napi_value v, const char *op) {
  struct psock *ps = psock_unwrap(env, v);
  if (!ps || psock_require_open(env, ps, op)) return NULL;
  if (ps->kind == PS_INOTIFY) return ps;
  throw_error(env, op, NULL, NULL, (struct op_error){.errnum = EINVAL, .reason = "not a directory watch"});
  return NULL;
}

/* watchOpen(): {handle} over a new inotify descriptor; packetStart(handle, cb) delivers each read's events, and
 * packetClose(handle) closes it. Throws with .code (EMFILE: fs.inotify.max_user_instances reached). */
static napi_value js_watch_open(napi_env env, napi_callback_info info) {
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    throw_error(env, "watchOpen", NULL, NULL, (struct op_error){.errnum = errno, .syscall = "inotify_init1"});
    return NULL;
  }
  const struct link_facts none = {0};
  return psock_new(env, fd, PS_INOTIFY, 0, "-", "-", &none);
}

/* watchAdd(handle, dir): the watch descriptor of `dir` (the same one again for a directory already watched). Throws
 * with .code (ENOENT, ENOTDIR, ENOSPC: fs.inotify.max_user_watches reached). */
static napi_value js_watch_add(napi_env env, napi_callback_info info) {
  napi_value argv[2], out = NULL;
  if (get_args(env, info, 2, argv)) return NULL;
  struct psock *ps = watch_unwrap(env, argv[0], "watchAdd");
  char *dir = ps ? get_string(env, argv[1], "dir must be a string") : NULL;
  if (!dir) return NULL;
  int wd = inotify_add_watch(ps->fd, dir, VANISH_EVENTS);
  if (wd < 0)
    throw_error(env, "watchAdd", dir, NULL, (struct op_error){.errnum = errno, .syscall = "inotify_add_watch"});
  else
    napi_create_int32(env, wd, &out);
  free(dir);
  return out;
}

/* watchRemove(handle, wd): stops watching; a watch already gone (its directory deleted) is no error. */
static napi_value js_watch_remove(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t wd;
  if (get_args(env, info, 2, argv)) return NULL;
  struct psock *ps = watch_unwrap(env, argv[0], "watchRemove");
  if (!ps) return NULL;
  if (napi_get_value_int32(env, argv[1], &wd) != napi_ok) {
    napi_throw_type_error(env, NULL, "wd must be a number");
    return NULL;
  }
  if (inotify_rm_watch(ps->fd, wd) < 0 && errno != EINVAL)
    throw_error(env, "watchRemove", NULL, NULL, (struct op_error){.errnum = errno, .syscall = "inotify_rm_watch"});
  return NULL;
}

/* inotifyMasks: the bits of the events netns-watch.ts acts on, as <sys/inotify.h> defines them, so that the daemon has
 * no copy of its own to drift. Frozen: a mask is no setting. NULL on failure. */
static napi_value inotify_masks(napi_env env) {
#define MASK(bit) {#bit, bit}
  static const struct {
    const char *name;
    int bit;
  } masks[] = {
      MASK(IN_MOVED_FROM), MASK(IN_DELETE),     MASK(IN_DELETE_SELF), MASK(IN_MOVE_SELF),
      MASK(IN_UNMOUNT),    MASK(IN_Q_OVERFLOW), MASK(IN_IGNORED),
  };
#undef MASK
  napi_value obj;
  if (napi_create_object(env, &obj) != napi_ok) return NULL;
  for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++)
    if (set_int(env, obj, masks[i].name, masks[i].bit)) return NULL;
  return napi_object_freeze(env, obj) == napi_ok ? obj : NULL;
}

int dirwatch_define(napi_env env, napi_value exports) {
  napi_value masks = inotify_masks(env);
  if (!masks) return -1;
  const napi_property_descriptor props[] = {
      EXPORT("watchOpen", js_watch_open, 0),
      EXPORT("watchAdd", js_watch_add, 0),
      EXPORT("watchRemove", js_watch_remove, 0),
      {"inotifyMasks", NULL, NULL, NULL, NULL, masks, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props) == napi_ok ? 0 : -1;
}
