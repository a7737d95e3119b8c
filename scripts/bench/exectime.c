/* The benchmark's exec timer: runs a program N times, one after the other, each with FILE on stdin and its stdout
 * read through a pipe (as a runtime reads a CNI plugin's answer), and prints each run's time from posix_spawn to
 * the reaped exit, in microseconds, one per line. A timer in C costs the measurement a few microseconds per run;
 * spawning from Node costs milliseconds, more than the plugin itself (scripts/bench/scenarios.ts).
 * Usage: exectime N FILE PROGRAM [ARG...]; the environment is passed on as it is. Exit 1 when a run fails or
 * exits non-zero. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* One run; its time in microseconds, or -1 (with a message on stderr). */
static long long run_once(const char *file, char **argv) {
  int in = open(file, O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    fprintf(stderr, "exectime: %s: %s\n", file, strerror(errno));
    return -1;
  }
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    fprintf(stderr, "exectime: pipe: %s\n", strerror(errno));
    close(in);
    return -1;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  long long start = now_us();
  pid_t pid;
  int err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in);
  close(out[1]);
  if (err != 0) {
    fprintf(stderr, "exectime: %s: %s\n", argv[0], strerror(err));
    close(out[0]);
    return -1;
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
  }
  close(out[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      fprintf(stderr, "exectime: waitpid: %s\n", strerror(errno));
      return -1;
    }
  }
  long long took = now_us() - start;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "exectime: %s: status %d\n", argv[0], status);
    return -1;
  }
  return took;
}

int main(int argc, char **argv) {
  char *end;
  long runs = argc >= 4 ? strtol(argv[1], &end, 10) : 0;
  if (argc < 4 || *end != '\0' || runs < 1 || runs > 100000) {
    fprintf(stderr, "usage: exectime N FILE PROGRAM [ARG...]\n");
    return 2;
  }
  for (long i = 0; i < runs; i++) {
    long long us = run_once(argv[2], argv + 3);
    if (us < 0) return 1;
    printf("%lld\n", us);
  }
  return 0;
}
