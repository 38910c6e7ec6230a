/* maxrss.c — run a command and report its peak memory.
 *
 *   maxrss FILE CMD [ARGS...]
 *
 * Runs CMD, waits for it and writes "maxrss_kb: N" (the child's peak
 * resident set, from wait4()) to FILE. Exits with CMD's status. SIGINT and
 * SIGTERM are passed on to CMD, so that a tracer under it can be stopped
 * like one run directly.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child;

static void forward(int signum) {
  if (child > 0)
    kill(child, signum);
}

int main(int argc, char** argv) {
  struct rusage ru;
  struct sigaction sa;
  int status;
  FILE* out;
  pid_t pid;

  if (argc < 3) {
    fprintf(stderr, "usage: maxrss FILE CMD [ARGS...]\n");
    return 2;
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = forward;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  pid = fork();
  if (pid < 0) {
    perror("maxrss: fork");
    return 1;
  }
  if (pid == 0) {
    execvp(argv[2], argv + 2);
    fprintf(stderr, "maxrss: cannot run %s: %s\n", argv[2], strerror(errno));
    _exit(127);
  }
  child = pid;
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      perror("maxrss: wait4");
      return 1;
    }
  }
  out = fopen(argv[1], "w");
  if (out == NULL) {
    perror("maxrss: output");
    return 1;
  }
  fprintf(out, "maxrss_kb: %ld\n", ru.ru_maxrss);
  fclose(out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
