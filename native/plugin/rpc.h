/* The call to the daemon: the invocation as one JSON-RPC request (method "cni", every value base64) over its unix
 * socket, and one reply line back, all by the deadline the config sets. */
#ifndef TS_DHCP_RPC_H
#define TS_DHCP_RPC_H

#include <limits.h>
#include <stddef.h>

#include "config.h"

/* The CNI_* variables forwarded to the daemon: indexes into FORWARDED_ENV and the env arrays read from it. */
enum { ENV_COMMAND, ENV_CONTAINERID, ENV_NETNS, ENV_IFNAME, ENV_ARGS, NENV };
extern const char *const FORWARDED_ENV[NENV];

/* Why a call failed, in the RPC client's words (what used to be client/rpc-client.ts). `unreachable`: the request
 * never reached a daemon able to serve it, so the verb's offline rule applies. */
struct failure {
  int code;
  int unreachable;
  char msg[PATH_MAX + 512];
  char details[PATH_MAX + 64];
};

/* {"jsonrpc":"2.0","id":1,"method":"cni","params":{"env":{...},"stdin":"…","cwd":"…"}}\n (malloc'd), or NULL when
 * out of memory. env[i] is FORWARDED_ENV[i]'s value, NULL when unset. */
char *build_request(const char *const env[NENV], const char *config, size_t config_len, const char *cwd, size_t *len);

/* Connects, sends, and reads one reply line (to '\n' or EOF) by the deadline. Returns the reply (malloc'd) or NULL
 * with *f filled in. */
char *exchange(const struct config *c, const char *verb, const char *req, size_t req_len, size_t *reply_len, struct failure *f);

/* Fills *f for a reply that is not what the protocol says. */
void fail_protocol(struct failure *f, const char *verb, const char *what);

#endif
