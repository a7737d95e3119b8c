/* See json_text.h. json_string trusts its token: json_validate (json.c) has checked it. */
#include "json_text.h"

#include <string.h>

int json_hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

size_t json_utf8_len(const unsigned char *p, const unsigned char *end) {
  unsigned c = p[0];
  size_t n;
  unsigned min;
  unsigned cp;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    min = 0x80;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    min = 0x800;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    min = 0x10000;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if ((size_t)(end - p) < n) return 0;
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

static size_t put_utf8(unsigned long cp, char *out) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xc0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xe0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
  }
  out[0] = (char)(0xf0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
  out[3] = (char)(0x80 | (cp & 0x3f));
  return 4;
}

static unsigned long hex4(const char *p) {
  return (unsigned long)(json_hexval(p[0]) << 12 | json_hexval(p[1]) << 8 | json_hexval(p[2]) << 4 | json_hexval(p[3]));
}

long json_string(const char *p, const char *end, char *out, size_t outsz) {
  size_t n = 0;
  p++;
  while (p < end && *p != '"') {
    char buf[4];
    size_t len;
    if (*p != '\\') {
      buf[0] = *p++;
      len = 1;
    } else if (p[1] == 'u') {
      unsigned long cp = hex4(p + 2);
      p += 6;
      if (cp >= 0xdc00 && cp <= 0xdfff) return -1;
      if (cp >= 0xd800 && cp <= 0xdbff) {
        if (end - p < 6 || p[0] != '\\' || p[1] != 'u') return -1;
        unsigned long lo = hex4(p + 2);
        if (lo < 0xdc00 || lo > 0xdfff) return -1;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        p += 6;
      }
      if (cp == 0) return -1;
      len = put_utf8(cp, buf);
    } else {
      const char *from = "\"\\/bfnrt";
      const char *to = "\"\\/\b\f\n\r\t";
      buf[0] = to[strchr(from, p[1]) - from];
      len = 1;
      p += 2;
    }
    if (n + len >= outsz) return -1;
    memcpy(out + n, buf, len);
    n += len;
  }
  out[n] = '\0';
  return (long)n;
}

size_t json_quote(const char *s, size_t len, char *out, size_t outsz) {
  static const char hex[] = "0123456789abcdef";
  size_t n = 0;
#define PUT(c)                          \
  do {                                  \
    if (n + 1 < outsz) out[n] = (c);    \
    n++;                                \
  } while (0)
  PUT('"');
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      PUT('\\');
      PUT((char)c);
    } else if (c == '\n') {
      PUT('\\');
      PUT('n');
    } else if (c < 0x20 || c == 0x7f) {
      PUT('\\');
      PUT('u');
      PUT('0');
      PUT('0');
      PUT(hex[c >> 4]);
      PUT(hex[c & 15]);
    } else if (c < 0x80) {
      PUT((char)c);
    } else {
      size_t seq = json_utf8_len((const unsigned char *)s + i, (const unsigned char *)s + len);
      if (seq == 0) {
        /* Not UTF-8 (a CNI_* value, or a message cut mid-sequence): U+REPLACEMENT CHARACTER keeps the output JSON. */
        for (const char *r = "\\ufffd"; *r; r++) PUT(*r);
        continue;
      }
      for (size_t k = 0; k < seq; k++) PUT(s[i + k]);
      i += seq - 1;
    }
  }
  PUT('"');
#undef PUT
  if (outsz > 0) out[n < outsz ? n : outsz - 1] = '\0';
  return n;
}
