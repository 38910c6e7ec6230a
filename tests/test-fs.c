/* test-fs.c — file read, write and stat on the pool. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/files.h"
#include "looprt.h"
#include "test.h"

static int calls;

static void count(lrt_fs_t* req) {
  calls++;
}

static char* temp_path(void) {
  static char path[64];
  snprintf(path, sizeof(path), "/tmp/looprt-test-XXXXXX");
  test_mkstemp(path, 0);
  return path;
}

TEST_IMPL(fs_write_read_stat) {
  static const char text[] = "hello, looprt\n";
  lrt_loop_t loop;
  lrt_fs_t w, r, s;
  char* path = temp_path();

  ASSERT_EQ(lrt_loop_init(&loop), 0);
  calls = 0;
  ASSERT_EQ(
      lrt_fs_write_file(&loop, &w, path, text, sizeof(text) - 1, count, NULL),
      0);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(calls, 1);
  ASSERT_EQ(w.result, (ssize_t) sizeof(text) - 1);

  ASSERT_EQ(lrt_fs_read_file(&loop, &r, path, count, NULL), 0);
  ASSERT_EQ(lrt_fs_stat(&loop, &s, path, count, "stat it"), 0);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(calls, 3);
  ASSERT_EQ(r.result, (ssize_t) sizeof(text) - 1);
  ASSERT_EQ(r.len, sizeof(text) - 1);
  ASSERT_STR_EQ(r.buf, text);
  ASSERT_EQ(s.result, 0);
  ASSERT_EQ(s.stat.st_size, sizeof(text) - 1);
  ASSERT(S_ISREG(s.stat.st_mode));
  lrt_fs_cleanup(&r);
  ASSERT_NULL(r.buf);
  unlink(path);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}

/* A file bigger than one read, and an empty one. */
TEST_IMPL(fs_read_large_and_empty) {
  lrt_loop_t loop;
  lrt_fs_t r, e;
  char* path = temp_path();
  char empty_path[80];
  size_t size = 3 * 1024 * 1024 + 17;
  char* data = malloc(size);
  size_t i;
  FILE* f;

  for (i = 0; i < size; i++)
    data[i] = (char) ('a' + i % 26);
  f = fopen(path, "w");
  ASSERT_NOT_NULL(f);
  ASSERT_EQ(fwrite(data, 1, size, f), size);
  fclose(f);
  snprintf(empty_path, sizeof(empty_path), "%s-empty", path);
  f = fopen(empty_path, "w");
  fclose(f);

  ASSERT_EQ(lrt_loop_init(&loop), 0);
  ASSERT_EQ(lrt_fs_read_file(&loop, &r, path, count, NULL), 0);
  ASSERT_EQ(lrt_fs_read_file(&loop, &e, empty_path, count, NULL), 0);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(r.result, (ssize_t) size);
  ASSERT_MEM_EQ(r.buf, data, size);
  ASSERT_EQ(e.result, 0);
  ASSERT_STR_EQ(e.buf, "");
  lrt_fs_cleanup(&r);
  lrt_fs_cleanup(&e);
  unlink(path);
  unlink(empty_path);
  free(data);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}

TEST_IMPL(fs_missing_file_enoent) {
  lrt_loop_t loop;
  lrt_fs_t r, s;
  calls = 0;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  ASSERT_EQ(lrt_fs_read_file(&loop, &r, "/nonexistent/looprt", count, NULL), 0);
  ASSERT_EQ(lrt_fs_stat(&loop, &s, "/nonexistent/looprt", count, NULL), 0);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(calls, 2);
  ASSERT_EQ(r.result, UV_ENOENT);
  ASSERT_NULL(r.buf);
  ASSERT_EQ(s.result, UV_ENOENT);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}

static void never(lrt_fs_t* req) {
  TEST_FAIL_("callback of a failed call ran");
}

TEST_IMPL(fs_bad_arguments) {
  lrt_loop_t loop;
  lrt_fs_t req;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  ASSERT_EQ(lrt_fs_read_file(&loop, &req, NULL, never, NULL), UV_EINVAL);
  ASSERT_EQ(lrt_fs_read_file(&loop, &req, "/etc/hostname", NULL, NULL),
            UV_EINVAL);
  ASSERT_EQ(lrt_fs_write_file(&loop, &req, "/tmp/x", NULL, 5, never, NULL),
            UV_EINVAL);
  ASSERT_EQ(lrt_fs_stat(NULL, &req, "/", never, NULL), UV_EINVAL);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}
