/* keeper.c — a child that holds the tracer's probes while it exits. */
#include "keeper.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The kinds of file whose release waits for a grace period. */
static int is_probe(int dir, const char* name) {
  char target[64];
  ssize_t n = readlinkat(dir, name, target, sizeof(target) - 1);
  if (n <= 0)
    return 0;
  target[n] = '\0';
  return strcmp(target, "anon_inode:bpf_link") == 0 ||
         strcmp(target, "anon_inode:[perf_event]") == 0;
}

/* The descriptor a /proc/self/fd entry names, or -1. */
static int fd_of(const char* name) {
  int fd = 0;
  if (*name < '0' || *name > '9')
    return -1;
  while (*name >= '0' && *name <= '9')
    fd = fd * 10 + (*name++ - '0');
  return fd;
}

static int in_set(const struct keeper_fds* set, int fd) {
  int i;
  for (i = 0; set != NULL && i < set->count; i++)
    if (set->fd[i] == fd)
      return 1;
  return 0;
}

void keeper_probe_fds(struct keeper_fds* set, const struct keeper_fds* except) {
  DIR* d = opendir("/proc/self/fd");
  struct dirent* e;
  set->count = 0;
  if (d == NULL)
    return;
  while ((e = readdir(d)) != NULL && set->count < KEEPER_FDS_MAX) {
    int fd = fd_of(e->d_name);
    if (fd >= 0 && fd != dirfd(d) && !in_set(except, fd) &&
        is_probe(dirfd(d), e->d_name))
      set->fd[set->count++] = fd;
  }
  closedir(d);
}

/* In the child: closes every descriptor but the probes, `wait_fd` and
 * `keep`. Only system calls (the parent has threads; nothing here may
 * take a lock). */
static void keep_probes_only(int wait_fd, int keep) {
  char buf[4096];
  int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  long n;
  if (dir < 0)
    return;
  while ((n = syscall(SYS_getdents64, dir, buf, sizeof(buf))) > 0) {
    long pos = 0;
    while (pos < n) {
      struct dirent64* d = (struct dirent64*) (buf + pos);
      int fd = fd_of(d->d_name);
      pos += d->d_reclen;
      if (fd >= 0 && fd != dir && fd != wait_fd && fd != keep &&
          !is_probe(dir, d->d_name))
        close(fd);
    }
  }
  close(dir);
}

/* The keeper: holds the probes and `keep` until the tracer closes
 * `wait_fd` (or exits), then exits, which releases them; a byte on
 * `wait_fd` lets `first` go before. */
static void keeper_main(int wait_fd, int keep, const struct keeper_fds* first) {
  char c;
  ssize_t n;
  int i;
  signal(SIGINT, SIG_IGN); /* ^C reaches the whole process group */
  signal(SIGTERM, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  keep_probes_only(wait_fd, keep);
  while ((n = read(wait_fd, &c, 1)) != 0) {
    if (n < 0 && errno != EINTR)
      break;
    for (i = 0; n == 1 && first != NULL && i < first->count; i++)
      close(first->fd[i]);
  }
  _exit(0);
}

void keeper_start(struct keeper* k, int keep, const struct keeper_fds* first) {
  int p[2];
  k->pipe = -1;
  k->pid = -1;
  if (pipe2(p, O_CLOEXEC) != 0)
    return;
  k->pid = fork();
  if (k->pid == 0) {
    close(p[1]);
    keeper_main(p[0], keep, first);
  }
  close(p[0]);
  if (k->pid < 0)
    close(p[1]);
  else
    k->pipe = p[1];
}

void keeper_release_first(const struct keeper* k) {
  char c = 1;
  if (k->pipe >= 0)
    while (write(k->pipe, &c, 1) < 0 && errno == EINTR)
      ;
}

/* Waits for the keeper (it exits once the kernel let its probes go). */
static void* reap_main(void* arg) {
  pid_t pid = (pid_t) (intptr_t) arg;
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
  return NULL;
}

void keeper_release(struct keeper* k) {
  pthread_attr_t attr;
  pthread_t thread;
  sigset_t all;
  sigset_t old;
  int started;
  if (k->pipe < 0)
    return;
  close(k->pipe);
  k->pipe = -1;
  /* The tracer may wait on for a program it started: the keeper is
   * reaped as it exits, not left a zombie meanwhile. The reaper takes no
   * signal meant for the tracer. */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  started =
      pthread_create(&thread, &attr, reap_main, (void*) (intptr_t) k->pid) == 0;
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (!started)
    waitpid(k->pid, NULL, WNOHANG);
  k->pid = -1;
}
