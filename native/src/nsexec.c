#include "nsexec.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <unistd.h>

static int open_netns(const char *path, struct op_error *e) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return op_fail(e, "open");
  struct statfs sfs;
  if (fstatfs(fd, &sfs) < 0) {
    op_fail(e, "fstatfs");
    close(fd);
    return -1;
  }
  /* nsfs also holds mnt, pid, user... namespaces: ask the kind too, so setns never sees a wrong file. */
  if (sfs.f_type != NSFS_MAGIC || ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
    op_fail_with(e, "setns", OPERR_NOTNS);
    close(fd);
    return -1;
  }
  return fd;
}

int ns_run(const char *path, int (*fn)(void *arg, struct op_error *e), void *arg, struct op_error *e) {
  int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) return op_fail(e, "open");
  int target = open_netns(path, e);
  if (target < 0) {
    close(home);
    return -1;
  }
  int rc;
  if (setns(target, CLONE_NEWNET) < 0) {
    rc = op_fail(e, "setns");
  } else {
    rc = fn(arg, e);
    if (setns(home, CLONE_NEWNET) < 0) {
      fprintf(stderr, "ts-dhcp: cannot return a thread from netns %s: errno %d\n", path, errno);
      abort();
    }
  }
  close(target);
  close(home);
  return rc;
}
