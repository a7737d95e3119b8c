/* What the plugin prints on stdout: the daemon's answer, or a CNI error JSON (spec "Error"). */
#ifndef TS_DHCP_OUTPUT_H
#define TS_DHCP_OUTPUT_H

#include <stddef.h>

#include "config.h"

/* CNI error codes the client itself reports (daemon/cni/errors.ts). */
enum { INVALID_ENV = 4, IO_FAILURE = 5, DECODING_FAILURE = 6, INVALID_CONFIG = 7, TRY_AGAIN_LATER = 11, NOT_AVAILABLE = 50, DAEMON_ERROR = 102, RPC_PROTOCOL = 103 };

/* All of buf, or as much as stdout still takes. */
void write_out(const char *buf, size_t len);

/* Prints the CNI error JSON and returns the exit code 1. details may be NULL. */
int cni_error(const struct config *c, int code, const char *msg, const char *details);

/* Prints the daemon's reply (len bytes): result {stdout, exitCode}, or a JSON-RPC error turned into a CNI error.
 * Returns the exit code. */
int deliver(const struct config *c, const char *verb, char *reply, size_t len);

#endif
