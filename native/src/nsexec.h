#ifndef TSDHCP_NSEXEC_H
#define TSDHCP_NSEXEC_H
#include "operr.h"

/* Runs fn(arg) with the calling thread inside the network namespace at `path`, then returns the thread to the
 * namespace it started in. Refuses anything that is not a network namespace before calling setns. Aborts the
 * process if the thread cannot return: later work on a thread stuck in a pod netns would silently go wrong.
 * Must not be called on the JS thread. Returns 0, or -1 with `e` filled. */
int ns_run(const char *path, int (*fn)(void *arg, struct op_error *e), void *arg, struct op_error *e);

#endif
