/* keeper.c — a child that holds the tracer's probes while it exits. */
#include "keeper.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
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
      const char* p = d->d_name;
      int fd = 0;
      pos += d->d_reclen;
      if (*p < '0' || *p > '9')
        continue;
      while (*p >= '0' && *p <= '9')
        fd = fd * 10 + (*p++ - '0');
      if (fd != dir && fd != wait_fd && fd != keep && !is_probe(dir, d->d_name))
        close(fd);
    }
  }
  close(dir);
}

/* The keeper: holds the probes and `keep` until the tracer closes
 * `wait_fd` (or exits), then exits, which releases them. */
static void keeper_main(int wait_fd, int keep) {
  char c;
  signal(SIGINT, SIG_IGN); /* ^C reaches the whole process group */
  signal(SIGTERM, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  keep_probes_only(wait_fd, keep);
  while (read(wait_fd, &c, 1) < 0)
    ;
  _exit(0);
}

int keeper_start(int keep) {
  int p[2];
  pid_t pid;
  if (pipe2(p, O_CLOEXEC) != 0)
    return -1;
  pid = fork();
  if (pid == 0) {
    close(p[1]);
    keeper_main(p[0], keep);
  }
  close(p[0]);
  if (pid < 0) {
    close(p[1]);
    return -1;
  }
  return p[1];
}

void keeper_release(int keeper) {
  if (keeper >= 0)
    close(keeper);
}
