/* Outcome of a syscall sequence run off the JS thread: which call failed and why. */
#ifndef TSDHCP_OPERR_H
#define TSDHCP_OPERR_H

/* Not an errno: the path is not a network namespace (reported to JS as code 'ENOTNS'). */
#define OPERR_NOTNS (-1)

struct op_error {
  int errnum;          /* errno value, OPERR_NOTNS, or 0 for success */
  const char *syscall; /* the call that failed, for err.syscall */
  const char *reason;  /* overrides the errno's text in the message when set */
};

/* Record errno for `syscall` and return -1, so callers can `return op_fail(e, "bind");`. */
int op_fail(struct op_error *e, const char *syscall);
int op_fail_with(struct op_error *e, const char *syscall, int errnum);

#endif
