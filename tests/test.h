/* test.h — what every C test includes.
 *
 *   TEST_IMPL(timer_order) { ...; ASSERT_EQ(a, b); return 0; }
 *
 * A test returns 0 on success; a failed ASSERT prints the expression and
 * both values and exits the test's process with status 1. The runner
 * (tests/runner.c) forks each test with a timeout, so a test may leak,
 * block or crash without taking the others down.
 *
 * Helpers tests of several areas share are in lib/files.h; those of the
 * tracer's and stat's tests in test-tracer.h and test-stat.h.
 *
 * TEST_SKIP(reason) ends the test as skipped. TEST_SKIP_NO_BPF(reason) is
 * for tests that need BPF privilege: with LOOPTRACE_REQUIRE_BPF=1 in the
 * environment it fails instead.
 */
#ifndef LOOPTRACE_TEST_H
#define LOOPTRACE_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*test_fn)(void);

struct test_entry {
  const char* name;
  test_fn fn;
  int timeout_s;
  struct test_entry* next;
};

void test__register(struct test_entry* entry);

#define TEST_DEFAULT_TIMEOUT 60

/* TEST_IMPL_TIMEOUT(name, seconds): a test with its own time limit. */
#define TEST_IMPL_TIMEOUT(name, seconds)                                     \
  static int test_##name(void);                                              \
  static struct test_entry test_entry_##name = {#name, test_##name, seconds, \
                                                NULL};                       \
  __attribute__((constructor)) static void test_register_##name(void) {      \
    test__register(&test_entry_##name);                                      \
  }                                                                          \
  static int test_##name(void)

#define TEST_IMPL(name) TEST_IMPL_TIMEOUT(name, TEST_DEFAULT_TIMEOUT)

/* Exit status that means "skipped" (automake's convention). */
#define TEST_EXIT_SKIP 77

#define TEST_SKIP(...)    \
  do {                    \
    printf("skip: ");     \
    printf(__VA_ARGS__);  \
    printf("\n");         \
    fflush(stdout);       \
    exit(TEST_EXIT_SKIP); \
  } while (0)

#define TEST_SKIP_NO_BPF(...)                                                  \
  do {                                                                         \
    const char* req_ = getenv("LOOPTRACE_REQUIRE_BPF");                        \
    if (req_ != NULL && strcmp(req_, "1") == 0) {                              \
      fprintf(stderr,                                                          \
              "%s:%d: BPF required (LOOPTRACE_REQUIRE_BPF=1) but: ", __FILE__, \
              __LINE__);                                                       \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
      exit(1);                                                                 \
    }                                                                          \
    TEST_SKIP(__VA_ARGS__);                                                    \
  } while (0)

#define TEST_FAIL_(...)                             \
  do {                                              \
    fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__);                   \
    fprintf(stderr, "\n");                          \
    fflush(stderr);                                 \
    exit(1);                                        \
  } while (0)

#define ASSERT(expr)                             \
  do {                                           \
    if (!(expr))                                 \
      TEST_FAIL_("assertion failed: %s", #expr); \
  } while (0)

#define ASSERT_BASE_(a, op, b, type, fmt)                                    \
  do {                                                                       \
    type a_ = (type) (a);                                                    \
    type b_ = (type) (b);                                                    \
    if (!(a_ op b_))                                                         \
      TEST_FAIL_("assertion failed: %s %s %s (" fmt " %s " fmt ")", #a, #op, \
                 #b, a_, #op, b_);                                           \
  } while (0)

#define ASSERT_EQ(a, b) ASSERT_BASE_(a, ==, b, int64_t, "%" PRId64)
#define ASSERT_NE(a, b) ASSERT_BASE_(a, !=, b, int64_t, "%" PRId64)
#define ASSERT_LT(a, b) ASSERT_BASE_(a, <, b, int64_t, "%" PRId64)
#define ASSERT_LE(a, b) ASSERT_BASE_(a, <=, b, int64_t, "%" PRId64)
#define ASSERT_GT(a, b) ASSERT_BASE_(a, >, b, int64_t, "%" PRId64)
#define ASSERT_GE(a, b) ASSERT_BASE_(a, >=, b, int64_t, "%" PRId64)

#define ASSERT_UINT_EQ(a, b) ASSERT_BASE_(a, ==, b, uint64_t, "%" PRIu64)
#define ASSERT_UINT_LE(a, b) ASSERT_BASE_(a, <=, b, uint64_t, "%" PRIu64)
#define ASSERT_UINT_GE(a, b) ASSERT_BASE_(a, >=, b, uint64_t, "%" PRIu64)

#define ASSERT_DOUBLE_LE(a, b) ASSERT_BASE_(a, <=, b, double, "%g")
#define ASSERT_DOUBLE_GE(a, b) ASSERT_BASE_(a, >=, b, double, "%g")

#define ASSERT_NULL(a) ASSERT_BASE_(a, ==, NULL, const void*, "%p")
#define ASSERT_NOT_NULL(a) ASSERT_BASE_(a, !=, NULL, const void*, "%p")

#define ASSERT_STR_EQ(a, b)                                               \
  do {                                                                    \
    const char* a_ = (a);                                                 \
    const char* b_ = (b);                                                 \
    if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                  \
      TEST_FAIL_("assertion failed: %s == %s (\"%s\" == \"%s\")", #a, #b, \
                 a_ ? a_ : "(null)", b_ ? b_ : "(null)");                 \
  } while (0)

#define ASSERT_MEM_EQ(a, b, n)                                     \
  do {                                                             \
    if (memcmp((a), (b), (n)) != 0)                                \
      TEST_FAIL_(                                                  \
          "assertion failed: %s and %s differ in their first %zu " \
          "bytes",                                                 \
          #a, #b, (size_t) (n));                                   \
  } while (0)

/* Where things are: the build directory (LOOPTRACE_BUILD, absolute) and
 * the source tree (LOOPTRACE_SRC). The runner sets both. */
const char* test_build_dir(void);
const char* test_src_dir(void);

/* A path under the build directory, in a static buffer per call site's
 * use: the result is valid until the next call. */
const char* test_build_path(const char* rel);

#endif /* LOOPTRACE_TEST_H */
