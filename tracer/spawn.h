/* spawn.h — start a program for `looptrace record -- CMD` and hold it at
 * the start of its runtime until the tracer has attached.
 *
 * The handshake (runtime/PROBES.md): the child inherits one end of a
 * socketpair as fd N and LOOPTRACE_SYNC_FD=N in its environment. looprt's
 * library constructor writes 'R' to it and blocks reading one byte; the
 * tracer attaches and writes 'G' (or just closes its end: the program
 * then runs untraced).
 */
#ifndef LOOPTRACE_SPAWN_H
#define LOOPTRACE_SPAWN_H

#include <sys/types.h>

#define SPAWN_SYNC_ENV "LOOPTRACE_SYNC_FD"

struct spawn {
  pid_t pid;   /* the child */
  int pidfd;   /* readable once it exits */
  int sync_fd; /* our end of the socketpair, -1 once released */
};

/* Starts argv[0] (looked up in PATH) with the handshake set up. Returns
 * 0, or a negative errno: the exec's (the child is then reaped) or a
 * system call's. */
int spawn_start(struct spawn* s, char* const* argv);

/* Starts argv[0] from the open executable `exe_fd` (execveat(2), so the
 * file run is the one the tracer inspected), held before the exec until
 * spawn_release(): a program with no looprt runtime (a stock libuv
 * program) is attached to before it runs. Returns 0 or a negative errno;
 * an exec that fails after the release shows as exit status 127. */
int spawn_start_held(struct spawn* s, char* const* argv, int exe_fd);

/* Waits up to `timeout_ms` for the runtime's 'R'. Returns 0 when it came;
 * -ETIMEDOUT; -ECHILD when the program exited first (its wait status in
 * *status) or closed the socket; or another negative errno. */
int spawn_wait_ready(struct spawn* s, int timeout_ms, int* status);

/* Lets the program go on: traced ('G') if `go`, else untraced. Closes
 * the socket; a no-op the second time. */
void spawn_release(struct spawn* s, int go);

/* Closes what spawn_start() opened; does not wait for the child. */
void spawn_close(struct spawn* s);

/* pidfd_open(2): an fd that polls readable when `pid` exits, or a
 * negative errno. */
int spawn_pidfd_open(pid_t pid);

#endif /* LOOPTRACE_SPAWN_H */
