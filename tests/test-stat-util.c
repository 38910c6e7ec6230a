/* test-stat-util.c — the helpers of test-stat.h. No tests here. */
#include "test-stat.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/files.h"
#include "test.h"

/* The number that starts the last line of `text`. */
static long last_line_num(const char* text) {
  const char* p = text + strlen(text);
  while (p > text && p[-1] == '\n')
    p--;
  while (p > text && p[-1] != '\n')
    p--;
  return atol(p);
}

/* looptrace runs under /usr/bin/time, which reports its peak memory: the
 * ru_maxrss of a child we fork would be at least our own (a fork copies
 * the memory that exec then leaves), and under ASan, late in a suite, a
 * test process holds 100 MB. */
void stat_run(struct stat_run* r, const char* const* argv) {
  char out_path[] = "/tmp/looptrace-stat-out-XXXXXX";
  char err_path[] = "/tmp/looptrace-stat-err-XXXXXX";
  char rss_path[] = "/tmp/looptrace-stat-rss-XXXXXX";
  const char* args[64] = {"/usr/bin/time", "-f", "%M", "-o", rss_path};
  int out_fd = mkstemp(out_path);
  int err_fd = mkstemp(err_path);
  char* rss;
  int status;
  size_t i;
  pid_t pid;

  ASSERT_GE(out_fd, 0);
  ASSERT_GE(err_fd, 0);
  test_mkstemp(rss_path, 0);
  args[5] = test_build_path("looptrace");
  for (i = 0; argv[i] != NULL && i < 57; i++)
    args[i + 6] = argv[i];
  args[i + 6] = NULL;
  fflush(stdout);
  fflush(stderr);
  pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    dup2(in, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    execv(args[0], (char* const*) args);
    _exit(127);
  }
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  rss = test_slurp(rss_path, NULL); /* "[Command exited ...\n]KB\n" */
  r->maxrss_kb = last_line_num(rss);
  free(rss);
  unlink(rss_path);
  close(out_fd);
  close(err_fd);
  r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r->out = test_slurp(out_path, NULL);
  r->err = test_slurp(err_path, NULL);
  unlink(out_path);
  unlink(err_path);
}

void stat_run_free(struct stat_run* r) {
  free(r->out);
  free(r->err);
}

cJSON* stat_json(const char* path) {
  struct stat_run r;
  const char* argv[] = {"stat", "--json", path, NULL};
  cJSON* json;
  stat_run(&r, argv);
  if (r.status != 0 || r.err[0] != '\0')
    TEST_FAIL_("looptrace stat --json %s: status %d, stderr: %s", path,
               r.status, r.err);
  json = cJSON_Parse(r.out);
  if (json == NULL)
    TEST_FAIL_("looptrace stat --json %s: not JSON: %s", path, r.out);
  stat_run_free(&r);
  return json;
}

cJSON* stat_json_of(const void* data, size_t len) {
  char* path = stat_temp(data, len);
  cJSON* j = stat_json(path);
  unlink(path);
  free(path);
  return j;
}

char* stat_text_of(const void* data, size_t len) {
  char* path = stat_temp(data, len);
  const char* argv[] = {"stat", path, NULL};
  struct stat_run r;
  stat_run(&r, argv);
  if (r.status != 0)
    TEST_FAIL_("looptrace stat %s: status %d, stderr: %s", path, r.status,
               r.err);
  unlink(path);
  free(path);
  free(r.err);
  return r.out;
}

const char* stat_fixture(const char* name) {
  static char bufs[8][4096];
  static unsigned next;
  char* buf = bufs[next++ % 8];
  snprintf(buf, 4096, "%s/tests/fixtures/stat/%s", test_src_dir(), name);
  return buf;
}

char* stat_temp(const void* data, size_t len) {
  char* path = strdup("/tmp/looptrace-stat-in-XXXXXX");
  int fd;
  const char* p = data;
  ASSERT_NOT_NULL(path);
  fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    ASSERT_GT(n, 0);
    p += n;
    len -= (size_t) n;
  }
  close(fd);
  return path;
}

const cJSON* jget(const cJSON* root, const char* path) {
  const cJSON* cur = root;
  const char* p = path;
  char key[128];
  while (*p != '\0' && cur != NULL) {
    size_t n = strcspn(p, ".[");
    if (n > 0) {
      snprintf(key, sizeof(key), "%.*s", (int) n, p);
      cur = cJSON_GetObjectItemCaseSensitive(cur, key);
      p += n;
    }
    if (*p == '[') {
      char* end;
      long i = strtol(p + 1, &end, 10);
      cur = cJSON_GetArrayItem(cur, (int) i);
      p = end + 1; /* past ']' */
    }
    if (*p == '.')
      p++;
  }
  return cur;
}

double jnum(const cJSON* root, const char* path) {
  const cJSON* it = jget(root, path);
  if (!cJSON_IsNumber(it))
    TEST_FAIL_("%s is not a number", path);
  return it->valuedouble;
}

int64_t jns(const cJSON* root, const char* path) {
  return llround(jnum(root, path) * 1000.0);
}

const char* jstr(const cJSON* root, const char* path) {
  const cJSON* it = jget(root, path);
  if (!cJSON_IsString(it))
    TEST_FAIL_("%s is not a string", path);
  return it->valuestring;
}

int jnull(const cJSON* root, const char* path) {
  return cJSON_IsNull(jget(root, path));
}

int jhas_line(const cJSON* root, const char* path, const char* needle) {
  const cJSON* arr = jget(root, path);
  const cJSON* it;
  cJSON_ArrayForEach(it, arr) {
    if (cJSON_IsString(it) && strstr(it->valuestring, needle) != NULL)
      return 1;
  }
  return 0;
}
