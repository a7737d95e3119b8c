/* A small, strict JSON scanner (RFC 8259, UTF-8 checked) for the few config keys the plugin reads. It never
 * allocates: it validates a document in place and then finds members; json_text.h copies strings out of it. */
#ifndef TS_DHCP_JSON_H
#define TS_DHCP_JSON_H

#include <stddef.h>

/* Deepest nesting accepted; deeper documents are refused, so the recursion is bounded. */
#define JSON_MAX_DEPTH 128

/* Validates the whole of [p, end) as one JSON value surrounded by whitespace. Returns 0, or -1 with *why set
 * (a static string) and *at the byte offset of the problem. */
int json_validate(const char *p, const char *end, const char **why, size_t *at);

/* In a validated object starting at `obj` ('{'), the value of the last member named `key` (JSON.parse keeps the
 * last of duplicate keys), or NULL. Keys are compared after unescaping. */
const char *json_member(const char *obj, const char *end, const char *key);

/* The end of the validated value starting at p. */
const char *json_skip(const char *p, const char *end);

#endif
