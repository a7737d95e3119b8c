/* JSON text both ways, for the scanner (json.h) and the plugin: UTF-8 checked, string tokens unescaped into caller
 * buffers, bytes quoted back into tokens. Nothing here allocates. */
#ifndef TS_DHCP_JSON_TEXT_H
#define TS_DHCP_JSON_TEXT_H

#include <stddef.h>

/* The value of the hex digit c, or -1. */
int json_hexval(char c);

/* The length of the UTF-8 sequence at p (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF), or 0. */
size_t json_utf8_len(const unsigned char *p, const unsigned char *end);

/* Copies the validated string token at p ('"') unescaped into out (NUL-terminated). Returns its length, or -1
 * when it does not fit in outsz - 1 bytes, contains NUL, or holds an unpaired surrogate escape. */
long json_string(const char *p, const char *end, char *out, size_t outsz);

/* Writes s (len bytes) as a JSON string token into out; returns the bytes needed (excluding NUL), like snprintf.
 * Bytes that are not UTF-8 are written as \ufffd, so the token is valid JSON whatever s holds. */
size_t json_quote(const char *s, size_t len, char *out, size_t outsz);

#endif
