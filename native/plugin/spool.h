/* A DEL the daemon could not take, remembered for its next start in exactly the daemon's format (common/spool.ts):
 * <stateDir>/spool/<first 32 hex of sha256("containerId/network/ifName")>.json =
 * {"version":1,"containerId":…,"network":…,"ifName":…,"at":"<ISO 8601>"}, directory 0700, file 0600. */
#ifndef TS_DHCP_SPOOL_H
#define TS_DHCP_SPOOL_H

#include <stddef.h>

/* Returns 0, or -1 with a sentence in err saying which step failed and why. */
int spool_release(const char *state_dir, const char *container_id, const char *network, const char *if_name, char *err, size_t errsz);

#endif
