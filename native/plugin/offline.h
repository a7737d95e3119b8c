/* The VERBS table: what each CNI verb waits for, and what the client does when the daemon cannot be reached. */
#ifndef TS_DHCP_OFFLINE_H
#define TS_DHCP_OFFLINE_H

#include "config.h"
#include "rpc.h"

/* What the client does when the daemon cannot be reached. */
enum offline { ANSWER_VERSION, SPOOL_RELEASE, NOT_READY_50, TRY_AGAIN_11 };

/* What a verb needs of the daemon, and what the client does without it. */
struct verb {
  const char *name;
  enum offline offline;
  enum wait wait;
};

/* The verb CNI_COMMAND names, or NULL. */
const struct verb *verb_named(const char *name);

/* Prints VERSION's result: the config's cniVersion and the versions ts-dhcp speaks. */
void answer_version(const struct config *c);

/* The verb's offline rule after the call failed with *f; prints its answer and returns the exit code. */
int offline(const struct config *c, const struct verb *verb, const char *const env[NENV], const struct failure *f);

#endif
