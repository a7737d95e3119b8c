/* The ts_dhcp_netns addon's module. Netns jobs (job.c, their arguments in job_js.c) run on the libuv threadpool and
 * settle Promises; the packet socket handle (psock.c) is polled on the JS thread, the netns directory watch
 * (dirwatch.c) through it; sync_calls.c holds the calls that throw at once; napi_util.c the N-API helpers. The
 * syscalls live in link.c, packet.c, arp.c, udp.c, ip6.c, route.c. */
#include <node_api.h>

#include "exports.h"

static napi_value init(napi_env env, napi_value exports) {
  if (jobs_define(env, exports) || psock_define(env, exports) || dirwatch_define(env, exports) ||
      sync_calls_define(env, exports))
    return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
