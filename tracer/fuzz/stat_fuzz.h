/* stat_fuzz.h — the harness shared by the fuzz target (fuzz_stat.c) and
 * the corpus replay test (tests/test-stat-corpus.c): run a trace held in
 * memory through the loader, the summary and both reports, and check that
 * how the input is split into reads changes nothing.
 *
 * Header-only (static functions) so the test runner, which links only
 * the tracer's .c files, can use it without a build rule of its own.
 */
#ifndef LOOPTRACE_STAT_FUZZ_H
#define LOOPTRACE_STAT_FUZZ_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stat_report.h"
#include "stat_summary.h"
#include "trace_reader.h"

/* Summarizes data[0..size) fed in pieces of `chunk` bytes (0: at once),
 * the way `looptrace stat` does. *out gets a malloc'd string the caller
 * frees: the JSON summary followed by the text one, or "error: ..." when
 * stat would refuse the input. Returns 0 or -ENOMEM. */
static int stat_fuzz_run(const unsigned char* data, size_t size, size_t chunk,
                         char** out) {
  struct trace_reader r;
  struct stat_summary* s = NULL;
  const struct stat_figures* f;
  cJSON* json = NULL;
  char* text = NULL;
  char* report = NULL;
  size_t report_len = 0;
  FILE* mem;
  size_t off = 0;
  int rc = 0;

  *out = NULL;
  if (stat_summary_new(&s) != 0)
    return -ENOMEM;
  trace_reader_init(&r, stat_summary_event, s);
  if (chunk == 0)
    chunk = size > 0 ? size : 1;
  while (off < size && rc == 0) {
    size_t n = size - off < chunk ? size - off : chunk;
    rc = trace_reader_feed(&r, data + off, n);
    off += n;
  }
  if (rc == 0)
    rc = trace_reader_end(&r);
  if (rc == -ENOMEM)
    goto out;
  if ((rc < 0 && !(rc == -EINVAL && r.events > 0)) || r.events == 0) {
    rc = asprintf(out, "error: %s (events %llu)", r.error,
                  (unsigned long long) r.events) < 0
             ? -ENOMEM
             : 0;
    goto out;
  }
  if ((rc = stat_summary_finish(s, &r, &f)) != 0)
    goto out;
  json = stat_report_json(f);
  text = json != NULL ? cJSON_PrintUnformatted(json) : NULL;
  mem = open_memstream(&report, &report_len);
  if (text == NULL || mem == NULL) {
    if (mem != NULL)
      fclose(mem);
    rc = -ENOMEM;
    goto out;
  }
  fprintf(mem, "%s\n", text);
  stat_report_text(f, "fuzz.json", mem);
  fclose(mem);
  *out = report;
  report = NULL;
  rc = 0;

out:
  free(report);
  free(text);
  cJSON_Delete(json);
  trace_reader_close(&r);
  stat_summary_free(s);
  return rc;
}

/* Runs the input whole and split at every byte and into odd-sized reads;
 * the summaries must be the same. Returns 0, -ENOMEM, or -EDOM when they
 * differ (and prints both to stderr). */
static int stat_fuzz_check(const unsigned char* data, size_t size) {
  static const size_t chunks[] = {1, 7, 4093};
  char* whole = NULL;
  size_t i;
  int rc = stat_fuzz_run(data, size, 0, &whole);
  if (rc != 0)
    return rc;
  for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]) && rc == 0; i++) {
    char* split = NULL;
    if (chunks[i] >= size)
      continue;
    rc = stat_fuzz_run(data, size, chunks[i], &split);
    if (rc == 0 && strcmp(whole, split) != 0) {
      fprintf(stderr,
              "stat_fuzz: reads of %zu bytes change the summary\n"
              "--- whole:\n%s\n--- split:\n%s\n",
              chunks[i], whole, split);
      rc = -EDOM;
    }
    free(split);
  }
  free(whole);
  return rc;
}

#endif /* LOOPTRACE_STAT_FUZZ_H */
