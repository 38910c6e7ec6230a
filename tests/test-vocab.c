/* test-vocab.c — facts of runtime/include/looprt_vocab.h that more than
 * one part relies on: the libuv version text the exporter writes reads
 * back as the same version, and the nesting limit is one: the exporter's
 * deepest output is what stat takes without calling it too deep.
 */
#include <fcntl.h>
#include <unistd.h>

#include "export.h"
#include "test-stat.h"
#include "test-tracer.h"
#include "test.h"

#define LOOP 100
#define START 1000 /* ns: ts 0 of the recording */

TEST_IMPL(vocab_uv_version_text) {
  static const uint32_t versions[] = {
      LRT_UV_VERSION(1, 44, 2), LRT_UV_TIMERS_LAST, LRT_UV_VERSION(0, 9, 0),
      LRT_UV_VERSION(10, 100, 7), LRT_UV_VERSION(255, 255, 255)};
  char text[LRT_UV_VERSION_LEN];
  size_t i;

  ASSERT_EQ(lrt_uv_version_format(LRT_UV_VERSION(1, 44, 2), text) - text, 6);
  ASSERT_STR_EQ(text, "1.44.2");
  ASSERT_EQ(lrt_uv_version_format(LRT_UV_VERSION(255, 255, 255), text) - text,
            LRT_UV_VERSION_LEN - 1);
  for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
    lrt_uv_version_format(versions[i], text);
    ASSERT_EQ(lrt_uv_version_parse(text), versions[i]);
  }
  /* As `looptrace stat` reads a trace's libuv_version. */
  ASSERT_EQ(lrt_uv_version_parse("1.45"), LRT_UV_TIMERS_LAST);
  ASSERT_EQ(lrt_uv_version_parse("1.46.0-dev"), LRT_UV_VERSION(1, 46, 0));
  ASSERT_EQ(lrt_uv_version_parse("1.44.300"), 0);
  ASSERT_EQ(lrt_uv_version_parse("v1.45.0"), 0);
  ASSERT_EQ(lrt_uv_version_parse("1"), 0);
  ASSERT_EQ(lrt_uv_version_parse(""), 0);
  ASSERT_EQ(lrt_uv_version_parse(NULL), 0);
  return 0;
}

/* Exports `s` as one thread's batches; returns the exporter's figures. */
static struct export_stats export_stream(const char* path,
                                         const struct tt_stream* s) {
  struct exporter* ex = NULL;
  struct export_opts opts;
  struct export_stats st;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int i;
  ASSERT_GE(fd, 0);
  memset(&opts, 0, sizeof(opts));
  opts.fd = fd;
  opts.pid = LOOP;
  opts.process_name = "deep";
  opts.start_ns = START;
  ASSERT_EQ(export_new(&ex, &opts), 0);
  for (i = 0; i < s->n; i += LRT_BATCH_MAX_RECORDS) {
    int n = s->n - i < LRT_BATCH_MAX_RECORDS ? s->n - i : LRT_BATCH_MAX_RECORDS;
    ASSERT_EQ(export_records(ex, s->r + i, (size_t) n), 0);
  }
  ASSERT_EQ(export_finish(ex, 0, "duration"), 0);
  export_stats(ex, &st);
  export_free(ex);
  close(fd);
  return st;
}

/* How deep the spans of a loaded trace nest (a top-level span is 1). */
static int deepest(const struct tt_trace* t) {
  int max = 0;
  int i;
  for (i = 0; i < t->nspans; i++) {
    int depth = 1;
    int p;
    for (p = t->spans[i].parent; p >= 0; p = t->spans[p].parent)
      depth++;
    if (depth > max)
      max = depth;
  }
  return max;
}

TEST_IMPL(vocab_depth_limit_is_one) {
  const int extra = 10;
  const int callbacks = TRACE_MAX_DEPTH + extra;
  struct tt_stream s = {0};
  struct export_stats st;
  struct tt_trace t;
  const char* path = tt_tmp(".json");
  uint64_t ts = START + 100;
  cJSON* summary;
  int i;

  tt_add(&s, ts++, LOOP, LRT_REC_THREAD, LRT_THREAD_LOOP, 0, 1, 0);
  tt_add(&s, ts++, LOOP, LRT_REC_LOOP_START, 0, 0, 1,
         LRT_LOOP_INFO(LRT_UV_VERSION(1, 44, 2), 4, LRT_TRACE_VERSION));
  tt_add(&s, ts++, LOOP, LRT_REC_TICK_BEGIN, 0, 0, 1, 0);
  tt_add(&s, ts++, LOOP, LRT_REC_PHASE, LRT_PHASE_POLL, 0, 1, 0);
  for (i = 0; i < callbacks; i++)
    tt_add(&s, ts++, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_USER, 0, 0, 0);
  for (i = 0; i < callbacks; i++)
    tt_add(&s, ts++, LOOP, LRT_REC_CALLBACK_END, LRT_CB_USER, 0, 0, 0);
  tt_add(&s, ts++, LOOP, LRT_REC_TICK_END, 0, 0, 1, 0);
  st = export_stream(path, &s);

  /* The exporter keeps spans down to the limit and no deeper. */
  tt_load(path, &t);
  ASSERT_EQ(deepest(&t), TRACE_MAX_DEPTH);
  ASSERT_EQ(st.invalid, callbacks - (TRACE_MAX_DEPTH - 2));
  tt_free(&t);

  /* stat nests all of it: nothing is "too deep". */
  summary = stat_json(path);
  ASSERT_EQ(jnum(summary, "callbacks[0].count"), TRACE_MAX_DEPTH - 2);
  ASSERT(!jhas_line(summary, "warnings", "deeper"));
  ASSERT_EQ(cJSON_GetArraySize(jget(summary, "warnings")), 0);
  cJSON_Delete(summary);
  free(s.r);
  return 0;
}
