/* test-export-corpus.c — the exporter's fuzz corpus replayed through the
 * fuzz target's own check (tracer/fuzz/export_fuzz.h): records in, a trace
 * out that is one JSON array of events with a "ph", no crash and no
 * sanitizer report under make check.
 */
#include <dirent.h>
#include <errno.h>

#include "fuzz/export_fuzz.h"
#include "test-stat.h"
#include "test.h"

TEST_IMPL_TIMEOUT(export_fuzz_corpus, 300) {
  char dir[4096];
  char path[8192];
  struct dirent* e;
  DIR* d;
  int files = 0;

  snprintf(dir, sizeof(dir), "%s/tests/fixtures/export/corpus", test_src_dir());
  d = opendir(dir);
  ASSERT_NOT_NULL(d);
  while ((e = readdir(d)) != NULL) {
    size_t len;
    char* data;
    int rc;
    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    data = stat_slurp(path, &len);
    rc = export_fuzz_check((const unsigned char*) data, len);
    if (rc != 0)
      TEST_FAIL_(
          "corpus/%s: %s", e->d_name,
          rc == -EDOM ? "the trace is not valid JSON events" : strerror(-rc));
    free(data);
    files++;
  }
  closedir(d);
  /* The seeds of make-seeds.py are there, and what the fuzzer kept. */
  ASSERT_GE(files, 7);
  return 0;
}

/* The seed recording (make-seeds.py) comes out as the trace of what it
 * holds, under each batching: the harness exports, not just survives. */
TEST_IMPL(export_fuzz_seed_recording) {
  static const char* const seeds[] = {
      "seed-recording", "seed-recording-batch1", "seed-recording-nowindow",
      "seed-recording-allphases", "seed-recording-gzip"};
  char path[8192];
  size_t i;
  for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
    size_t len;
    size_t out_len = 0;
    char* out = NULL;
    char* data;
    snprintf(path, sizeof(path), "%s/tests/fixtures/export/corpus/%s",
             test_src_dir(), seeds[i]);
    data = stat_slurp(path, &len);
    ASSERT_EQ(export_fuzz_run((const unsigned char*) data, len, &out, &out_len),
              0);
    ASSERT_EQ(export_fuzz_valid(out, out_len), 0);
    if (strstr(out, "\"setTimeout\"") == NULL ||
        strstr(out, "\"pbkdf2 \xe2\x9c\x93 a label longer than one chunk\"") ==
            NULL ||
        strstr(out, "\"ph\":\"X\"") == NULL)
      TEST_FAIL_("%s: the trace lacks the recording's spans:\n%.2000s",
                 seeds[i], out);
    free(out);
    free(data);
  }
  return 0;
}
