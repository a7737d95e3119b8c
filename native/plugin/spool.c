/* See spool.h. Written so that a reader never sees half a record: an exclusive temp file of a fresh random name
 * (O_EXCL|O_NOFOLLOW, so a planted file or symlink is refused), fsync, rename over the record, fsync of the
 * directory. */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json_text.h"
#include "sha256.h"

#define FAIL(...)                         \
  do {                                    \
    snprintf(err, errsz, __VA_ARGS__);    \
    return -1;                            \
  } while (0)

/* mkdir -p with 0700 for what it creates (as fs.mkdir({recursive, mode: 0o700})). */
static int make_dirs(char *path, char *err, size_t errsz) {
  for (char *p = path + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char saved = *p;
    *p = '\0';
    int r = mkdir(path, 0700);
    int e = errno;
    *p = saved;
    if (r != 0 && e != EEXIST) FAIL("mkdir %.*s: %s", (int)(p - path), path, strerror(e));
    if (saved == '\0') return 0;
  }
}

static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static int fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int r = fsync(fd);
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

int spool_release(const char *state_dir, const char *container_id, const char *network, const char *if_name, char *err, size_t errsz) {
  char dir[PATH_MAX];
  char file[PATH_MAX + 64];
  char tmp[PATH_MAX + 96];
  if (snprintf(dir, sizeof dir, "%s/spool", state_dir) >= (int)sizeof dir) FAIL("%s: path too long", state_dir);
  if (make_dirs(dir, err, errsz) != 0) return -1;

  size_t keylen = strlen(container_id) + strlen(network) + strlen(if_name) + 2;
  char *key = malloc(keylen + 1);
  if (!key) FAIL("out of memory");
  snprintf(key, keylen + 1, "%s/%s/%s", container_id, network, if_name);
  unsigned char digest[32];
  sha256(key, keylen, digest);
  free(key);
  char hex[33];
  for (int i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  snprintf(file, sizeof file, "%s/%s.json", dir, hex);
  /* The daemon's housekeeping removes ".<name>.<pid>.<random>.tmp" files a killed writer left (common/spool.ts). */
  unsigned char rnd[6] = {0};
  if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t)sizeof rnd) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    memcpy(rnd, &t.tv_nsec, sizeof rnd < sizeof t.tv_nsec ? sizeof rnd : sizeof t.tv_nsec);
  }
  if (snprintf(tmp, sizeof tmp, "%s/.%s.json.%ld.%02x%02x%02x%02x%02x%02x.tmp", dir, hex, (long)getpid(), rnd[0], rnd[1], rnd[2], rnd[3],
               rnd[4], rnd[5]) >= (int)sizeof tmp)
    FAIL("%s: path too long", dir);

  struct timespec now;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &now);
  gmtime_r(&now.tv_sec, &tm);
  char at[64];
  snprintf(at, sizeof at, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
           tm.tm_sec, now.tv_nsec / 1000000);

  const char *fields[3] = {container_id, network, if_name};
  size_t quoted[3];
  size_t need = 96 + strlen(at);
  for (int i = 0; i < 3; i++) need += (quoted[i] = json_quote(fields[i], strlen(fields[i]), NULL, 0));
  char *record = malloc(need);
  if (!record) FAIL("out of memory");
  size_t n = (size_t)snprintf(record, need, "{\"version\":1,\"containerId\":");
  n += json_quote(container_id, strlen(container_id), record + n, need - n);
  n += (size_t)snprintf(record + n, need - n, ",\"network\":");
  n += json_quote(network, strlen(network), record + n, need - n);
  n += (size_t)snprintf(record + n, need - n, ",\"ifName\":");
  n += json_quote(if_name, strlen(if_name), record + n, need - n);
  n += (size_t)snprintf(record + n, need - n, ",\"at\":\"%s\"}\n", at);

  int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = open(tmp, flags, 0600);
  if (fd < 0) {
    int e = errno;
    free(record);
    FAIL("open %s: %s", tmp, strerror(e));
  }
  const char *step = "write";
  int ok = write_all(fd, record, n) == 0 && (step = "fsync", fsync(fd) == 0);
  int e = errno;
  free(record);
  if (close(fd) != 0 && ok) {
    ok = 0;
    e = errno;
    step = "close";
  }
  if (ok && rename(tmp, file) != 0) {
    ok = 0;
    e = errno;
    step = "rename";
  }
  if (!ok) {
    unlink(tmp);
    FAIL("%s %s: %s", step, tmp, strerror(e));
  }
  if (fsync_dir(dir) != 0) FAIL("fsync %s: %s", dir, strerror(errno));
  return 0;
}
