/* See offline.h. Every other CNI rule lives in the daemon (daemon/cni/plugin.ts). */
#include "offline.h"

#include <stdio.h>
#include <string.h>

#include "output.h"
#include "spool.h"
#include "versions.h"

static const struct verb VERBS[] = {
    {"ADD", TRY_AGAIN_11, WAIT_ADD_TIMEOUT},
    {"DEL", SPOOL_RELEASE, WAIT_ADD_TIMEOUT},
    {"CHECK", TRY_AGAIN_11, WAIT_ADD_TIMEOUT},
    {"STATUS", NOT_READY_50, WAIT_STATUS},
    {"GC", TRY_AGAIN_11, WAIT_GC},
    {"VERSION", ANSWER_VERSION, WAIT_STATUS}, /* always answered here: no daemon needed, ~1 ms */
};

const struct verb *verb_named(const char *name) {
  for (size_t i = 0; i < sizeof VERBS / sizeof VERBS[0]; i++)
    if (strcmp(name, VERBS[i].name) == 0) return &VERBS[i];
  return NULL;
}

void answer_version(const struct config *c) {
  char out[sizeof c->version + sizeof SUPPORTED_VERSIONS_JSON + 64];
  int n = snprintf(out, sizeof out, "{\"cniVersion\":%s,\"supportedVersions\":%s}\n", c->version, SUPPORTED_VERSIONS_JSON);
  write_out(out, n < (int)sizeof out ? (size_t)n : sizeof out - 1);
}

int offline(const struct config *c, const struct verb *verb, const char *const env[NENV], const struct failure *f) {
  switch (verb->offline) {
    case NOT_READY_50: {
      char msg[sizeof f->msg + PATH_MAX + 64];
      snprintf(msg, sizeof msg, "ts-dhcp daemon not available at %s: %s", c->socket_path, f->msg);
      return cni_error(c, NOT_AVAILABLE, msg, f->details);
    }
    case SPOOL_RELEASE: {
      const char *cid = env[ENV_CONTAINERID], *ifname = env[ENV_IFNAME];
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
