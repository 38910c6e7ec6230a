/* runner.c — runs every test of the project, each in its own process.
 *
 *   build/tests/runner [-j N] [-l] [PATTERN...]
 *
 * Tests are the C tests linked into this binary (TEST_IMPL in
 * tests/test-*.c) and the script tests found in the source tree:
 * tests/NAME.test.sh (bash) and tests/browser/NAME.test.mjs (node). A script
 * passes with exit 0 and skips with exit 77 (the reason is the last line
 * starting with "skip: "); a line "# timeout: N" in its first lines sets
 * its time limit, SCRIPT_DEFAULT_TIMEOUT without one. PATTERNs select
 * tests whose name contains one of them.
 * What the tests share lives in tests/lib/: test.sh, which every script
 * test sources first, and files.c, linked in here.
 *
 * The run ends with the line "N passed, N failed, N skipped" and exits 1
 * if any test failed.
 */
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef TEST_SRC_DIR
#error "TEST_SRC_DIR must name the source tree"
#endif

static struct test_entry* registered;

void test__register(struct test_entry* entry) {
  entry->next = registered;
  registered = entry;
}

enum test_type { TEST_C, TEST_SH, TEST_NODE };

struct test {
  char name[128];
  enum test_type type;
  test_fn fn;
  char path[PATH_MAX]; /* scripts */
  int timeout_s;
  /* While running. */
  pid_t pid;
  double started;
  char out_path[64];
};

static char build_dir[PATH_MAX];
static char src_dir[PATH_MAX];

const char* test_build_dir(void) {
  return build_dir;
}

const char* test_src_dir(void) {
  return src_dir;
}

const char* test_build_path(const char* rel) {
  static char bufs[8][PATH_MAX];
  static unsigned next;
  char* buf = bufs[next++ % 8];
  snprintf(buf, PATH_MAX, "%s/%s", build_dir, rel);
  return buf;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int name_cmp(const void* a, const void* b) {
  const struct test* x = a;
  const struct test* y = b;
  return strcmp(x->name, y->name);
}

/* A script's time limit without a "timeout:" line. A limit catches a hang,
 * it does not judge speed: at load 16-17 here, browser tests that take
 * 7-10 s on a quiet machine ran past 60 s (viewer-formats,
 * viewer-summary). */
#define SCRIPT_DEFAULT_TIMEOUT 180

/* A script's time limit: "# timeout: N" in its first 20 lines. */
static int script_timeout(const char* path) {
  char line[256];
  int timeout = SCRIPT_DEFAULT_TIMEOUT;
  int n = 0;
  FILE* f = fopen(path, "r");
  if (f == NULL)
    return timeout;
  while (n++ < 20 && fgets(line, sizeof(line), f) != NULL) {
    const char* p = strstr(line, "timeout:");
    if (p != NULL && (line[0] == '#' || strncmp(line, "//", 2) == 0)) {
      timeout = atoi(p + strlen("timeout:"));
      break;
    }
  }
  fclose(f);
  return timeout > 0 ? timeout : SCRIPT_DEFAULT_TIMEOUT;
}

static int has_suffix(const char* s, const char* suffix) {
  size_t n = strlen(s);
  size_t m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Appends the scripts of `dir` ending in `suffix` to tests. */
static int add_scripts(struct test** tests, int* count, const char* dir,
                       const char* suffix, enum test_type type) {
  struct dirent* e;
  DIR* d = opendir(dir);
  if (d == NULL)
    return 0;
  while ((e = readdir(d)) != NULL) {
    struct test* t;
    if (!has_suffix(e->d_name, suffix))
      continue;
    *tests = realloc(*tests, (*count + 1) * sizeof(**tests));
    if (*tests == NULL)
      return -1;
    t = &(*tests)[(*count)++];
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%.*s",
             (int) (strlen(e->d_name) - strlen(suffix)), e->d_name);
    snprintf(t->path, sizeof(t->path), "%s/%s", dir, e->d_name);
    t->type = type;
    t->timeout_s = script_timeout(t->path);
  }
  closedir(d);
  return 0;
}

static int matches(const char* name, int npat, char** pat) {
  int i;
  if (npat == 0)
    return 1;
  for (i = 0; i < npat; i++)
    if (strstr(name, pat[i]) != NULL)
      return 1;
  return 0;
}

static void start_test(struct test* t) {
  int fd;
  snprintf(t->out_path, sizeof(t->out_path), "/tmp/looptrace-test-XXXXXX");
  fd = mkstemp(t->out_path);
  if (fd < 0) {
    perror("runner: mkstemp");
    exit(2);
  }
  fflush(stdout);
  fflush(stderr);
  t->started = now_s();
  t->pid = fork();
  if (t->pid < 0) {
    perror("runner: fork");
    exit(2);
  }
  if (t->pid == 0) {
    /* Its own session: when the test ends, whatever it left running is
     * found by session id and killed, even in other process groups. */
    setsid();
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    if (t->type == TEST_C) {
      int r = t->fn();
      fflush(stdout);
      fflush(stderr);
      _exit(r);
    }
    if (t->type == TEST_SH)
      execlp("bash", "bash", t->path, (char*) NULL);
    else
      execlp("node", "node", t->path, (char*) NULL);
    fprintf(stderr, "runner: cannot run %s: %s\n", t->path, strerror(errno));
    _exit(1);
  }
  close(fd);
}

/* Kills every process of session `sid` (a test and what it started). */
static void kill_session(pid_t sid) {
  struct dirent* e;
  DIR* d = opendir("/proc");
  if (d == NULL)
    return;
  while ((e = readdir(d)) != NULL) {
    char path[64];
    char buf[512];
    const char* after_comm;
    pid_t pid = (pid_t) atoi(e->d_name);
    int session = 0;
    FILE* f;
    if (pid <= 0)
      continue;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
    f = fopen(path, "r");
    if (f == NULL)
      continue;
    if (fgets(buf, sizeof(buf), f) != NULL &&
        (after_comm = strrchr(buf, ')')) != NULL &&
        sscanf(after_comm + 1, " %*c %*d %*d %d", &session) == 1 &&
        session == sid)
      kill(pid, SIGKILL);
    fclose(f);
  }
  closedir(d);
}

/* Prints the last `max_lines` lines of the test's output, indented. */
static void print_output(const struct test* t, int max_lines) {
  char* buf;
  long size;
  long i;
  int lines = 0;
  FILE* f = fopen(t->out_path, "r");
  if (f == NULL)
    return;
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc(size + 1);
  if (buf == NULL || fread(buf, 1, size, f) != (size_t) size) {
    free(buf);
    fclose(f);
    return;
  }
  buf[size] = '\0';
  fclose(f);
  for (i = size - 1; i > 0; i--)
    if (buf[i - 1] == '\n' && ++lines >= max_lines)
      break;
  if (i < 0)
    i = 0;
  {
    char* line = buf + i;
    char* nl;
    while (*line != '\0') {
      nl = strchr(line, '\n');
      if (nl != NULL)
        *nl = '\0';
      printf("    | %s\n", line);
      if (nl == NULL)
        break;
      line = nl + 1;
    }
  }
  free(buf);
}

/* The reason a test gave for skipping: its last "skip: " line. */
static void skip_reason(const struct test* t, char* reason, size_t size) {
  char line[512];
  FILE* f = fopen(t->out_path, "r");
  snprintf(reason, size, "(no reason given)");
  if (f == NULL)
    return;
  while (fgets(line, sizeof(line), f) != NULL) {
    char* p = strstr(line, "skip: ");
    if (p != NULL) {
      p[strcspn(p, "\n")] = '\0';
      snprintf(reason, size, "%s", p + strlen("skip: "));
    }
  }
  fclose(f);
}

enum outcome { PASSED, FAILED, SKIPPED };

static enum outcome finish_test(struct test* t, int status, int timed_out) {
  double elapsed = now_s() - t->started;
  enum outcome result;
  char reason[512];

  /* Whatever the test left running goes with it. */
  kill_session(t->pid);

  if (timed_out) {
    printf("FAIL  %-40s timed out after %ds\n", t->name, t->timeout_s);
    print_output(t, 40);
    result = FAILED;
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    printf("ok    %-40s %.2fs\n", t->name, elapsed);
    result = PASSED;
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == TEST_EXIT_SKIP) {
    skip_reason(t, reason, sizeof(reason));
    printf("skip  %-40s %s\n", t->name, reason);
    result = SKIPPED;
  } else {
    if (WIFSIGNALED(status))
      printf("FAIL  %-40s killed by signal %d (%s)\n", t->name,
             WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
      printf("FAIL  %-40s exit status %d\n", t->name, WEXITSTATUS(status));
    print_output(t, 60);
    result = FAILED;
  }
  fflush(stdout);
  unlink(t->out_path);
  return result;
}

static void usage(void) {
  fprintf(stderr,
          "usage: runner [-j JOBS] [-l] [PATTERN...]\n"
          "  -j JOBS  run this many tests at once (default 1)\n"
          "  -l       list the tests and exit\n");
}

int main(int argc, char** argv) {
  struct test* tests = NULL;
  struct test** running;
  struct test_entry* e;
  char self[PATH_MAX];
  char dir[PATH_MAX];
  int count = 0;
  int jobs = 1;
  int list = 0;
  int opt;
  int i;
  int next;
  int nrunning;
  int counts[3] = {0, 0, 0};

  while ((opt = getopt(argc, argv, "j:lh")) != -1) {
    switch (opt) {
    case 'j':
      jobs = atoi(optarg);
      if (jobs < 1)
        jobs = 1;
      break;
    case 'l':
      list = 1;
      break;
    default:
      usage();
      return 2;
    }
  }

  /* The runner lives in BUILD/tests/; tests find everything from there. */
  if (getenv("LOOPTRACE_BUILD") != NULL) {
    if (realpath(getenv("LOOPTRACE_BUILD"), build_dir) == NULL) {
      fprintf(stderr, "runner: LOOPTRACE_BUILD: %s\n", strerror(errno));
      return 2;
    }
  } else {
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n < 0) {
      perror("runner: /proc/self/exe");
      return 2;
    }
    self[n] = '\0';
    snprintf(build_dir, sizeof(build_dir), "%s", self);
    *strrchr(build_dir, '/') = '\0'; /* BUILD/tests */
    *strrchr(build_dir, '/') = '\0'; /* BUILD */
  }
  if (realpath(getenv("LOOPTRACE_SRC") ? getenv("LOOPTRACE_SRC") : TEST_SRC_DIR,
               src_dir) == NULL) {
    fprintf(stderr, "runner: source tree: %s\n", strerror(errno));
    return 2;
  }
  setenv("LOOPTRACE_BUILD", build_dir, 1);
  setenv("LOOPTRACE_SRC", src_dir, 1);

  for (e = registered; e != NULL; e = e->next) {
    tests = realloc(tests, (count + 1) * sizeof(*tests));
    if (tests == NULL)
      return 2;
    memset(&tests[count], 0, sizeof(tests[count]));
    snprintf(tests[count].name, sizeof(tests[count].name), "%s", e->name);
    tests[count].type = TEST_C;
    tests[count].fn = e->fn;
    tests[count].timeout_s = e->timeout_s;
    count++;
  }
  snprintf(dir, sizeof(dir), "%s/tests", src_dir);
  if (add_scripts(&tests, &count, dir, ".test.sh", TEST_SH) != 0)
    return 2;
  snprintf(dir, sizeof(dir), "%s/tests/browser", src_dir);
  if (add_scripts(&tests, &count, dir, ".test.mjs", TEST_NODE) != 0)
    return 2;
  qsort(tests, count, sizeof(*tests), name_cmp);

  /* Keep only the selected tests. */
  next = 0;
  for (i = 0; i < count; i++)
    if (matches(tests[i].name, argc - optind, argv + optind))
      tests[next++] = tests[i];
  count = next;

  if (list) {
    for (i = 0; i < count; i++)
      printf("%s\n", tests[i].name);
    return 0;
  }

  /* Tests kill their own process groups; the runner ignores stray SIGPIPE
   * from children's pipes. */
  signal(SIGPIPE, SIG_IGN);

  running = calloc(jobs, sizeof(*running));
  if (running == NULL)
    return 2;
  next = 0;
  nrunning = 0;
  while (next < count || nrunning > 0) {
    int slot;
    while (nrunning < jobs && next < count) {
      for (slot = 0; running[slot] != NULL; slot++)
        ;
      running[slot] = &tests[next++];
      start_test(running[slot]);
      nrunning++;
    }
    for (slot = 0; slot < jobs; slot++) {
      struct test* t = running[slot];
      int status;
      pid_t r;
      if (t == NULL)
        continue;
      r = waitpid(t->pid, &status, WNOHANG);
      if (r == t->pid) {
        counts[finish_test(t, status, 0)]++;
      } else if (now_s() - t->started > t->timeout_s) {
        kill_session(t->pid);
        waitpid(t->pid, &status, 0);
        counts[finish_test(t, status, 1)]++;
      } else {
        continue;
      }
      running[slot] = NULL;
      nrunning--;
    }
    usleep(2000);
  }

  printf("%d passed, %d failed, %d skipped\n", counts[PASSED], counts[FAILED],
         counts[SKIPPED]);
  free(running);
  free(tests);
  return counts[FAILED] > 0 ? 1 : 0;
}
