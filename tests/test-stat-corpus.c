/* test-stat-corpus.c — the fuzz corpus replayed through the loader and
 * the summary (the fuzz target's own check: no crash, no sanitizer report
 * under make check, and the same summary however the input is split), and
 * the benchmark script in its smoke mode.
 */
#include <unistd.h>

#include "fuzz/stat_fuzz.h"
#include "lib/files.h"
#include "test-stat.h"
#include "test.h"

TEST_IMPL_TIMEOUT(stat_fuzz_corpus, 300) {
  int files = test_replay_corpus("tests/fixtures/stat/corpus", stat_fuzz_check,
                                 "the summary depends on the read size");
  /* The corpus is there: seeds plus what the fuzzer kept. */
  ASSERT_GE(files, 20);
  return 0;
}

TEST_IMPL_TIMEOUT(stat_bench_smoke, 120) {
  char cmd[8192];
  char out_path[] = "/tmp/looptrace-bench-XXXXXX";
  char* out;
  int status;
  const char* mbps;
  const char* rss;
  /* XXX: Debian's `time` package is not in the Makefile's DEB_PACKAGES
   * (Priority: optional), so a fresh machine may lack it. */
  if (access("/usr/bin/time", X_OK) != 0)
    TEST_SKIP("/usr/bin/time is missing (apt-get install time)");
  test_mkstemp(out_path, 0);
  snprintf(cmd, sizeof(cmd), "bash '%s/tests/bench-stat.sh' --smoke > '%s'",
           test_src_dir(), out_path);
  status = system(cmd);
  out = test_slurp(out_path, NULL);
  unlink(out_path);
  if (status != 0)
    TEST_FAIL_("bench-stat.sh --smoke: status %d, output:\n%s", status, out);
  mbps = strstr(out, "stat_mb_per_s: ");
  rss = strstr(out, "stat_peak_rss_mb: ");
  ASSERT_NOT_NULL(mbps);
  ASSERT_NOT_NULL(rss);
  /* Figures, not a timing assertion: only that they were measured. */
  ASSERT_GT(atof(mbps + strlen("stat_mb_per_s: ")), 0);
  ASSERT_GT(atof(rss + strlen("stat_peak_rss_mb: ")), 0);
  ASSERT_NOT_NULL(strstr(out, "trace_events: "));
  free(out);
  return 0;
}
