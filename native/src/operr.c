#include <errno.h>
#include <stddef.h>

#include "operr.h"

int op_fail_with(struct op_error *e, const char *syscall, int errnum) {
  e->errnum = errnum;
  e->syscall = syscall;
  e->reason = NULL;
  return -1;
}

int op_fail(struct op_error *e, const char *syscall) { return op_fail_with(e, syscall, errno); }
