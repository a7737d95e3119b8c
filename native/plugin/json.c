/* See json.h. Validation runs once over the whole input; the lookups afterwards trust it and stay simple. */
#include "json.h"

#include <string.h>

struct scan {
  const char *start;
  const char *end;
  const char *why;
  const char *at;
};

static const char *fail(struct scan *s, const char *p, const char *why) {
  if (!s->why) {
    s->why = why;
    s->at = p;
  }
  return NULL;
}

static const char *ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

static int hexval(char c) {
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

static const char *string(struct scan *s, const char *p) {
  p++; /* the opening quote */
  while (p < s->end) {
    unsigned char c = (unsigned char)*p;
    if (c == '"') return p + 1;
    if (c < 0x20) return fail(s, p, "control character in a string");
    if (c == '\\') {
      if (p + 1 >= s->end) break;
      char e = p[1];
      if (e == 'u') {
        if (s->end - p < 6) break;
        for (int i = 2; i < 6; i++)
          if (hexval(p[i]) < 0) return fail(s, p, "bad \\u escape");
        p += 6;
      } else if (e != '\0' && strchr("\"\\/bfnrt", e)) {
        p += 2;
      } else {
        return fail(s, p, "bad escape");
      }
      continue;
    }
    size_t n = json_utf8_len((const unsigned char *)p, (const unsigned char *)s->end);
    if (n == 0) return fail(s, p, "invalid UTF-8");
    p += n;
  }
  return fail(s, p, "unterminated string");
}

static const char *digits(const char *p, const char *end) {
  while (p < end && *p >= '0' && *p <= '9') p++;
  return p;
}

static const char *number(struct scan *s, const char *p) {
  const char *q = p;
  if (q < s->end && *q == '-') q++;
  if (q < s->end && *q == '0') {
    q++;
  } else if (q < s->end && *q >= '1' && *q <= '9') {
    q = digits(q, s->end);
  } else {
    return fail(s, p, "bad number");
  }
  if (q < s->end && *q == '.') {
    const char *f = digits(q + 1, s->end);
    if (f == q + 1) return fail(s, q, "bad number");
    q = f;
  }
  if (q < s->end && (*q == 'e' || *q == 'E')) {
    q++;
    if (q < s->end && (*q == '+' || *q == '-')) q++;
    const char *x = digits(q, s->end);
    if (x == q) return fail(s, q, "bad number");
    q = x;
  }
  return q;
}

static const char *literal(struct scan *s, const char *p, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(s->end - p) < n || memcmp(p, word, n) != 0) return fail(s, p, "unexpected character");
  return p + n;
}

static const char *value(struct scan *s, const char *p, int depth);

static const char *container(struct scan *s, const char *p, int depth, char close) {
  if (depth >= JSON_MAX_DEPTH) return fail(s, p, "nested too deeply");
  p = ws(p + 1, s->end);
  if (p < s->end && *p == close) return p + 1;
  for (;;) {
    if (close == '}') {
      if (p >= s->end || *p != '"') return fail(s, p, p >= s->end ? "unexpected end" : "expected a member name");
      if (!(p = string(s, p))) return NULL;
      p = ws(p, s->end);
      if (p >= s->end || *p != ':') return fail(s, p, p >= s->end ? "unexpected end" : "expected ':'");
      p = ws(p + 1, s->end);
    }
    if (!(p = value(s, p, depth + 1))) return NULL;
    p = ws(p, s->end);
    if (p >= s->end) return fail(s, p, "unexpected end");
    if (*p == close) return p + 1;
    if (*p != ',') return fail(s, p, "expected ',' or the end of the container");
    p = ws(p + 1, s->end);
  }
}

static const char *value(struct scan *s, const char *p, int depth) {
  if (p >= s->end) return fail(s, p, "unexpected end");
  switch (*p) {
    case '{':
      return container(s, p, depth, '}');
    case '[':
      return container(s, p, depth, ']');
    case '"':
      return string(s, p);
    case 't':
      return literal(s, p, "true");
    case 'f':
      return literal(s, p, "false");
    case 'n':
      return literal(s, p, "null");
    default:
      return number(s, p);
  }
}

int json_validate(const char *p, const char *end, const char **why, size_t *at) {
  struct scan s = {p, end, NULL, NULL};
  const char *q = value(&s, ws(p, end), 0);
  if (q) {
    q = ws(q, end);
    if (q != end) fail(&s, q, "unexpected data after the value");
  }
  if (!s.why) return 0;
  *why = s.why;
  *at = (size_t)(s.at - s.start);
  return -1;
}

/* The scanner below runs only over validated input: it needs no bound checks beyond `end`. */
const char *json_skip(const char *p, const char *end) {
  struct scan s = {p, end, NULL, NULL};
  return value(&s, p, 0);
}

const char *json_member(const char *obj, const char *end, const char *key) {
  const char *found = NULL;
  char name[256];
  const char *p = ws(obj + 1, end);
  if (p >= end || *p != '"') return NULL;
  for (;;) {
    long n = json_string(p, end, name, sizeof name);
    p = ws(json_skip(p, end), end) + 1; /* past ':' */
    p = ws(p, end);
    if (n >= 0 && strcmp(name, key) == 0) found = p;
    p = ws(json_skip(p, end), end);
    if (p >= end || *p != ',') return found;
    p = ws(p + 1, end);
  }
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
  return (unsigned long)(hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 | hexval(p[3]));
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
