/* record.h — what other commands share of `record` (record.c): finding
 * or starting the target, loading and attaching the BPF programs (looprt
 * or libuv), polling, exporting and ending exactly as `record` does, with
 * the trace going to a caller's file descriptor instead of a file, or
 * only as events to a callback (`looptrace top`, top.c).
 */
#ifndef LOOPTRACE_RECORD_H
#define LOOPTRACE_RECORD_H

#include <stdint.h>
#include <sys/types.h>

struct stat_event;

struct record_tap {
  int fd; /* the trace is written here (not closed, never truncated);
             -1: no file, the events go to `event` only */
  /* Receives every trace event as the exporter's model emits it
   * (export_opts.on_event), or NULL. */
  void (*event)(const struct stat_event* ev, void* arg);
  /* Called after each poll round (every ~10 ms), once what the exporter
   * could write is in `fd`; now_ns is CLOCK_MONOTONIC. Returns 0 to go
   * on, 1 to end the recording (as -d would) or a negative errno. */
  int (*step)(void* arg, uint64_t now_ns);
  /* Called once the trace is complete in `fd`, before a started program
   * is waited for; `end_reason` as in the trace's facts. */
  void (*end)(void* arg, const char* end_reason);
  void* arg;
};

/* Traces `pid` (or starts `cmd`, NULL-terminated, when pid is 0) as
 * `looptrace record` does, into tap->fd, with no progress line. Messages
 * go to stderr. Returns the exit status `record` would (0 on success). */
int record_tap_run(pid_t pid, char** cmd, int verbose,
                   const struct record_tap* tap);

#endif /* LOOPTRACE_RECORD_H */
