/* files.c — the helpers of files.h. No tests here. */
#include "lib/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "test.h"

char* test_read_file(const char* path, size_t* len) {
  size_t n = 0;
  size_t cap = 4096;
  char* buf = malloc(cap + 1);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || buf == NULL) {
    int err = fd < 0 ? errno : ENOMEM;
    if (fd >= 0)
      close(fd);
    free(buf);
    errno = err;
    return NULL;
  }
  for (;;) {
    ssize_t r;
    if (n == cap) {
      char* grown = realloc(buf, cap * 2 + 1);
      ASSERT_NOT_NULL(grown);
      buf = grown;
      cap *= 2;
    }
    r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    n += (size_t) r;
  }
  close(fd);
  buf[n] = '\0';
  if (len != NULL)
    *len = n;
  return buf;
}

char* test_slurp(const char* path, size_t* len) {
  char* buf = test_read_file(path, len);
  if (buf == NULL)
    TEST_FAIL_("cannot read %s: %s", path, strerror(errno));
  return buf;
}

void test_mkstemp(char* tmpl, int suffix_len) {
  int fd = mkstemps(tmpl, suffix_len);
  if (fd < 0)
    TEST_FAIL_("cannot create %s: %s", tmpl, strerror(errno));
  close(fd);
}

int test_replay_corpus(const char* dir, test_corpus_check check,
                       const char* edom) {
  char path[8192];
  struct dirent* e;
  DIR* d;
  int files = 0;

  snprintf(path, sizeof(path), "%s/%s", test_src_dir(), dir);
  d = opendir(path);
  if (d == NULL)
    TEST_FAIL_("cannot open %s: %s", path, strerror(errno));
  while ((e = readdir(d)) != NULL) {
    size_t len;
    char* data;
    int rc;
    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof(path), "%s/%s/%s", test_src_dir(), dir, e->d_name);
    data = test_slurp(path, &len);
    rc = check((const unsigned char*) data, len);
    if (rc != 0)
      TEST_FAIL_("corpus/%s: %s", e->d_name,
                 rc == -EDOM ? edom : strerror(-rc));
    free(data);
    files++;
  }
  closedir(d);
  return files;
}
