/* See json.h. Validation runs once over the whole input; the lookups afterwards trust it and stay simple. */
#include "json.h"

#include <string.h>

#include "json_text.h"

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
          if (json_hexval(p[i]) < 0) return fail(s, p, "bad \\u escape");
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
