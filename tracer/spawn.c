/* spawn.c — start a looprt program held until the tracer attaches. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int spawn_pidfd_open(pid_t pid) {
  int fd = (int) syscall(SYS_pidfd_open, pid, 0);
  return fd < 0 ? -errno : fd;
}

int spawn_start(struct spawn* s, char* const* argv) {
  int sv[2];
  int errpipe[2];
  int child_errno = 0;
  ssize_t n;
  s->pid = -1;
  s->pidfd = -1;
  s->sync_fd = -1;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return -errno;
  if (pipe2(errpipe, O_CLOEXEC) != 0) {
    int err = -errno;
    close(sv[0]);
    close(sv[1]);
    return err;
  }
  s->pid = fork();
  if (s->pid < 0) {
    int err = -errno;
    close(sv[0]);
    close(sv[1]);
    close(errpipe[0]);
    close(errpipe[1]);
    return err;
  }
  if (s->pid == 0) {
    /* The child: keep its end of the socket across exec, say where it
     * is, run the program. On failure, tell the parent why. */
    char fd_text[16];
    sigset_t none;
    int e;
    close(sv[0]);
    close(errpipe[0]);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    snprintf(fd_text, sizeof(fd_text), "%d", sv[1]);
    if (fcntl(sv[1], F_SETFD, 0) == 0 &&
        setenv(SPAWN_SYNC_ENV, fd_text, 1) == 0)
      execvp(argv[0], argv);
    e = errno;
    if (write(errpipe[1], &e, sizeof(e)) < 0)
      _exit(127);
    _exit(127);
  }
  close(sv[1]);
  close(errpipe[1]);
  s->sync_fd = sv[0];
  /* The pipe closes without a word when exec succeeds. */
  do
    n = read(errpipe[0], &child_errno, sizeof(child_errno));
  while (n < 0 && errno == EINTR);
  close(errpipe[0]);
  if (n == (ssize_t) sizeof(child_errno)) {
    spawn_close(s);
    while (waitpid(s->pid, NULL, 0) < 0 && errno == EINTR)
      ;
    return -child_errno;
  }
  s->pidfd = spawn_pidfd_open(s->pid);
  if (s->pidfd < 0) {
    int err = s->pidfd;
    s->pidfd = -1;
    return err;
  }
  return 0;
}

int spawn_start_held(struct spawn* s, char* const* argv, int exe_fd) {
  extern char** environ;
  int sv[2];
  s->pid = -1;
  s->pidfd = -1;
  s->sync_fd = -1;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return -errno;
  s->pid = fork();
  if (s->pid < 0) {
    int err = -errno;
    close(sv[0]);
    close(sv[1]);
    return err;
  }
  if (s->pid == 0) {
    /* The child: wait for the word (or the tracer's end closing), then
     * run the very file the tracer opened. */
    sigset_t none;
    char c;
    close(sv[0]);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    while (read(sv[1], &c, 1) < 0 && errno == EINTR)
      ;
    close(sv[1]);
    syscall(SYS_execveat, exe_fd, "", argv, environ, AT_EMPTY_PATH);
    _exit(127);
  }
  close(sv[1]);
  s->sync_fd = sv[0];
  s->pidfd = spawn_pidfd_open(s->pid);
  if (s->pidfd < 0) {
    int err = s->pidfd;
    s->pidfd = -1;
    return err;
  }
  return 0;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int spawn_wait_ready(struct spawn* s, int timeout_ms, int* status) {
  int64_t deadline = now_ms() + timeout_ms;
  *status = 0;
  for (;;) {
    struct pollfd fds[2] = {{s->sync_fd, POLLIN, 0}, {s->pidfd, POLLIN, 0}};
    int64_t left = deadline - now_ms();
    char c;
    ssize_t n;
    int r;
    if (left <= 0)
      return -ETIMEDOUT;
    r = poll(fds, 2, (int) left);
    if (r < 0)
      return -errno;
    if (fds[0].revents != 0) {
      n = read(s->sync_fd, &c, 1);
      if (n == 1 && c == 'R')
        return 0;
      if (n < 0 && errno == EINTR)
        continue;
      if (n == 1)
        continue; /* not ours to understand */
    }
    if (fds[1].revents != 0 || fds[0].revents != 0) {
      /* Exited, or closed the socket without a word: a program closes
       * its descriptors as it exits, so give it a moment to be gone. */
      struct pollfd exit_fd = {s->pidfd, POLLIN, 0};
      poll(&exit_fd, 1, 1000);
      if (waitpid(s->pid, status, WNOHANG) == s->pid)
        s->pid = -1;
      return -ECHILD;
    }
  }
}

void spawn_release(struct spawn* s, int go) {
  if (s->sync_fd < 0)
    return;
  if (go) {
    ssize_t n;
    do
      n = write(s->sync_fd, "G", 1);
    while (n < 0 && errno == EINTR);
  }
  close(s->sync_fd);
  s->sync_fd = -1;
}

void spawn_close(struct spawn* s) {
  spawn_release(s, 0);
  if (s->pidfd >= 0)
    close(s->pidfd);
  s->pidfd = -1;
}
