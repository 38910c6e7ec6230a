/* test-export-corpus.c — the exporter's fuzz corpus replayed through the
 * fuzz target's own check (tracer/fuzz/export_fuzz.h): records in, a trace
 * out that is one JSON array of events with a "ph", no crash and no
 * sanitizer report under make check.
 */
#include "fuzz/export_fuzz.h"
#include "lib/files.h"
#include "test.h"

TEST_IMPL_TIMEOUT(export_fuzz_corpus, 300) {
  int files =
      test_replay_corpus("tests/fixtures/export/corpus", export_fuzz_check,
                         "the trace is not valid JSON events");
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
    data = test_slurp(path, &len);
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
