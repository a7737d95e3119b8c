/* A small, strict JSON scanner (RFC 8259, UTF-8 checked) for the few config keys the plugin reads. It never
 * allocates: it validates a document in place and then finds members and copies strings into caller buffers. */
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

/* Copies the validated string token at p ('"') unescaped into out (NUL-terminated). Returns its length, or -1
 * when it does not fit in outsz - 1 bytes, contains NUL, or holds an unpaired surrogate escape. */
long json_string(const char *p, const char *end, char *out, size_t outsz);

/* The length of the UTF-8 sequence at p (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF), or 0. */
size_t json_utf8_len(const unsigned char *p, const unsigned char *end);

/* Writes s (len bytes) as a JSON string token into out; returns the bytes needed (excluding NUL), like snprintf.
 * Bytes that are not UTF-8 are written as \ufffd, so the token is valid JSON whatever s holds. */
size_t json_quote(const char *s, size_t len, char *out, size_t outsz);

#endif
