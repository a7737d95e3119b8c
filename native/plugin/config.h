/* The few config keys the client reads (cniVersion, name, ipam.daemonSocketPath, ipam.stateDir, ipam.timeout);
 * everything else is the daemon's to read. */
#ifndef TS_DHCP_CONFIG_H
#define TS_DHCP_CONFIG_H

#include <limits.h>

#include "versions.h"

/* Overridable at build time only so that the fuzzing build cannot reach the host's daemon or state (Makefile). */
#ifndef DEFAULT_SOCKET_PATH
#define DEFAULT_SOCKET_PATH "/run/cni/ts-dhcp.sock"
#endif
#ifndef DEFAULT_STATE_DIR
#define DEFAULT_STATE_DIR "/var/lib/ts-dhcp"
#endif

/* How long a verb waits for the daemon (the VERBS table's wait column, offline.c). */
enum wait { WAIT_ADD_TIMEOUT, WAIT_GC, WAIT_STATUS };

struct config {
  char version[64]; /* the cniVersion token as given (JSON, quotes included), or the latest */
  char socket_path[PATH_MAX];
  char state_dir[PATH_MAX];
  char name[256];
  long wait_ms;
};

/* What applies before (and without) a readable config. */
#define CONFIG_DEFAULTS {.version = "\"" LATEST_VERSION "\"", .socket_path = DEFAULT_SOCKET_PATH, .state_dir = DEFAULT_STATE_DIR}

/* The keys the client needs, from a validated document whose object starts at doc; c keeps its defaults for the
 * keys that are missing or unusable. */
void read_config(const char *doc, const char *end, enum wait wait, struct config *c);

#endif
