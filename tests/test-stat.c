/* test-stat.c — `looptrace stat` on traces whose figures were worked out
 * by hand (tests/fixtures/stat/README.md has the arithmetic).
 */
#include <math.h>
#include <unistd.h>

#include "test-stat.h"
#include "test.h"

#define ASSERT_SHARE(root, path, expected)   \
  do {                                       \
    double v_ = jnum(root, path);            \
    ASSERT_DOUBLE_GE(v_, (expected) -1e-9);  \
    ASSERT_DOUBLE_LE(v_, (expected) + 1e-9); \
  } while (0)

/* The keys of a JSON object, comma-separated, in order. */
static const char* keys(const cJSON* obj) {
  static char buf[512];
  const cJSON* it;
  buf[0] = '\0';
  ASSERT(cJSON_IsObject(obj));
  cJSON_ArrayForEach(it, obj) {
    if (buf[0] != '\0')
      strcat(buf, ",");
    strcat(buf, it->string);
  }
  return buf;
}

/* threads.json: 5 ticks, 5 pbkdf2 tasks on 4 workers, the fifth queued
 * until the first worker was free. */
TEST_IMPL(stat_threads_figures) {
  cJSON* j = stat_json(stat_fixture("threads.json"));

  ASSERT_EQ(jns(j, "recording_us"), 2500000);
  /* 1 - Σwait / Σtick = 1 - 2030 / 2410 */
  ASSERT_SHARE(j, "loop_utilization", 380.0 / 2410.0);

  ASSERT_EQ(jnum(j, "ticks.count"), 5);
  ASSERT_SHARE(j, "ticks.per_s", 2000.0);
  ASSERT_EQ(jns(j, "ticks.p50_us"), 300000);
  ASSERT_EQ(jns(j, "ticks.p99_us"), 1050000);
  ASSERT_EQ(jns(j, "ticks.max_us"), 1050000);

  /* Every phase present, in libuv 1.44's order. */
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "phases")), 4);
  ASSERT_STR_EQ(jstr(j, "phases[0].name"), "timers");
  ASSERT_STR_EQ(jstr(j, "phases[1].name"), "poll");
  ASSERT_STR_EQ(jstr(j, "phases[2].name"), "check");
  ASSERT_STR_EQ(jstr(j, "phases[3].name"), "close");
  ASSERT_EQ(jnum(j, "phases[1].count"), 4);
  ASSERT_EQ(jns(j, "phases[1].total_us"), 2280000);
  ASSERT_SHARE(j, "phases[1].share", 2280.0 / 2410.0);
  ASSERT_SHARE(j, "phases[0].share", 20.0 / 2410.0);
  ASSERT_EQ(jns(j, "phases[1].p50_us"), 200000);
  ASSERT_EQ(jns(j, "phases[1].p99_us"), 1050000);
  ASSERT_EQ(jns(j, "phases[1].max_us"), 1050000);

  /* Most total time first; main's self time excludes its 5 submits. */
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "callbacks")), 4);
  ASSERT_STR_EQ(jstr(j, "callbacks[0].name"), "pbkdf2");
  ASSERT_STR_EQ(jstr(j, "callbacks[0].kind"), "crypto");
  ASSERT_EQ(jnum(j, "callbacks[0].count"), 5);
  ASSERT_EQ(jns(j, "callbacks[0].total_us"), 125000);
  ASSERT_EQ(jns(j, "callbacks[0].self_us"), 125000);
  ASSERT_STR_EQ(jstr(j, "callbacks[1].name"), "main");
  ASSERT_STR_EQ(jstr(j, "callbacks[1].kind"), "timer");
  ASSERT_EQ(jns(j, "callbacks[1].total_us"), 18000);
  ASSERT_EQ(jns(j, "callbacks[1].self_us"), 13000);
  ASSERT_STR_EQ(jstr(j, "callbacks[2].name"), "setImmediate");
  ASSERT_STR_EQ(jstr(j, "callbacks[3].name"), "onclose");

  /* The threadpool: 4 at once at most, the fifth task waited longest. */
  ASSERT_EQ(jnum(j, "threadpool.tasks"), 5);
  ASSERT_EQ(jnum(j, "threadpool.peak_concurrency"), 4);
  ASSERT_EQ(jns(j, "threadpool.queue_wait_us.p50"), 1500);
  ASSERT_EQ(jns(j, "threadpool.queue_wait_us.p99"), 974000);
  ASSERT_EQ(jns(j, "threadpool.queue_wait_us.max"), 974000);
  ASSERT_EQ(jns(j, "threadpool.run_us.p50"), 1100000);
  ASSERT_EQ(jns(j, "threadpool.run_us.p99"), 1995000);
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "threadpool.workers")), 4);
  ASSERT_STR_EQ(jstr(j, "threadpool.workers[0].name"), "worker 1");
  ASSERT_EQ(jnum(j, "threadpool.workers[0].tid"), 4243);
  ASSERT_EQ(jnum(j, "threadpool.workers[0].tasks"), 2);
  ASSERT_EQ(jns(j, "threadpool.workers[0].busy_us"), 2080000);
  ASSERT_SHARE(j, "threadpool.workers[0].busy_share", 2080.0 / 2500.0);
  ASSERT_STR_EQ(jstr(j, "threadpool.workers[3].name"), "worker 4");
  ASSERT_SHARE(j, "threadpool.workers[3].busy_share", 1995.0 / 2500.0);

  /* What blocked the loop is busy time (the tick minus its wait): tick 4
   * (200 of 300), then 3 (100 of 1050), 2 (50), 1 (20), 5 (10). */
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "longest_ticks")), 5);
  ASSERT_EQ(jnum(j, "longest_ticks[0].tick"), 4);
  ASSERT_EQ(jns(j, "longest_ticks[0].ts_us"), 2100000);
  ASSERT_EQ(jns(j, "longest_ticks[0].dur_us"), 300000);
  ASSERT_EQ(jns(j, "longest_ticks[0].busy_us"), 200000);
  ASSERT_STR_EQ(jstr(j, "longest_ticks[0].callbacks[1].name"), "setImmediate");
  ASSERT_STR_EQ(jstr(j, "longest_ticks[0].callbacks[1].kind"), "immediate");
  ASSERT_EQ(jnum(j, "longest_ticks[1].tick"), 3);
  ASSERT_EQ(jns(j, "longest_ticks[1].dur_us"), 1050000);
  ASSERT_EQ(jns(j, "longest_ticks[1].busy_us"), 100000);
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "longest_ticks[1].callbacks")), 2);
  ASSERT_EQ(jns(j, "longest_ticks[1].callbacks[0].dur_us"), 30000);
  ASSERT_EQ(jns(j, "longest_ticks[1].callbacks[1].dur_us"), 10000);
  ASSERT_EQ(jnum(j, "longest_ticks[2].tick"), 2);
  ASSERT_EQ(jnum(j, "longest_ticks[3].tick"), 1);
  ASSERT_STR_EQ(jstr(j, "longest_ticks[3].callbacks[0].name"), "main");
  ASSERT_EQ(jnum(j, "longest_ticks[4].tick"), 5);
  ASSERT_EQ(jnum(j, "ticks.cut"), 0);

  ASSERT_EQ(jnum(j, "drops"), 0);
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "warnings")), 0);
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "missing")), 0);
  cJSON_Delete(j);
  return 0;
}

/* The exact shape of TRACE-FORMAT.md, "The summary as JSON". */
TEST_IMPL(stat_json_shape) {
  cJSON* j = stat_json(stat_fixture("threads.json"));
  ASSERT_STR_EQ(keys(j),
                "recording_us,loop_utilization,ticks,phases,callbacks,"
                "threadpool,longest_ticks,drops,warnings,missing");
  ASSERT_STR_EQ(keys(jget(j, "ticks")), "count,cut,per_s,p50_us,p99_us,max_us");
  ASSERT_STR_EQ(keys(jget(j, "phases[0]")),
                "name,count,total_us,share,p50_us,p99_us,max_us");
  ASSERT_STR_EQ(keys(jget(j, "callbacks[0]")),
                "name,kind,count,total_us,self_us");
  ASSERT_STR_EQ(keys(jget(j, "threadpool")),
                "tasks,queue_wait_us,run_us,peak_concurrency,workers");
  ASSERT_STR_EQ(keys(jget(j, "threadpool.queue_wait_us")), "p50,p99,max");
  ASSERT_STR_EQ(keys(jget(j, "threadpool.run_us")), "p50,p99");
  ASSERT_STR_EQ(keys(jget(j, "threadpool.workers[0]")),
                "name,tid,tasks,busy_us,busy_share");
  ASSERT_STR_EQ(keys(jget(j, "longest_ticks[0]")),
                "tick,ts_us,dur_us,busy_us,callbacks");
  ASSERT_STR_EQ(keys(jget(j, "longest_ticks[0].callbacks[0]")),
                "name,kind,dur_us");
  ASSERT(cJSON_IsArray(jget(j, "warnings")));
  ASSERT(cJSON_IsArray(jget(j, "missing")));
  cJSON_Delete(j);
  return 0;
}

/* The text a person reads: units per value, aligned columns, names. */
TEST_IMPL(stat_text_report) {
  struct stat_run r;
  const char* argv[] = {"stat", stat_fixture("threads.json"), NULL};
  stat_run(&r, argv);
  ASSERT_EQ(r.status, 0);
  ASSERT_STR_EQ(r.err, "");
  ASSERT_NOT_NULL(strstr(r.out, ": threads\n"));
  ASSERT_NOT_NULL(strstr(r.out, "  command     build/examples/threads\n"));
  ASSERT_NOT_NULL(strstr(r.out,
                         "recorded    2.50 ms, 51 events, libuv "
                         "1.44.2, threadpool size 4\n"));
  ASSERT_NOT_NULL(strstr(r.out, "utilization 15.8%"));
  ASSERT_NOT_NULL(strstr(r.out,
                         "ticks       5, 2000.0/s; p50 300.0 µs, "
                         "p99 1.05 ms, max 1.05 ms\n"));
  /* Columns line up although "µ" takes two bytes. */
  ASSERT_NOT_NULL(strstr(r.out,
                         "phase   count    total  share       p50      p99"
                         "      max\n"
                         "timers      1  20.0 µs   0.8%   20.0 µs  20.0 µs"
                         "  20.0 µs\n"
                         "poll        4  2.28 ms  94.6%  200.0 µs  1.05 ms"
                         "  1.05 ms\n"));
  ASSERT_NOT_NULL(strstr(r.out,
                         "main          timer          1   18.0 µs   13.0 µs"
                         "\n"));
  ASSERT_NOT_NULL(strstr(r.out, "threadpool  5 tasks, peak concurrency 4\n"));
  ASSERT_NOT_NULL(strstr(r.out, "  queue wait   1.5 µs  974.0 µs  974.0 µs\n"));
  ASSERT_NOT_NULL(strstr(r.out, "  worker 1  4243      2   2.08 ms  83.2%\n"));
  ASSERT_NOT_NULL(strstr(r.out,
                         "   3  1.05 ms  100.0 µs   1.05 ms  pbkdf2        "
                         "    30.0 µs  crypto\n"
                         "                                   pbkdf2        "
                         "    10.0 µs  crypto\n"));
  ASSERT_NOT_NULL(strstr(r.out, "\ndrops       0\n"));
  stat_run_free(&r);
  return 0;
}

/* The same recording as B/E pairs in the object form, the way other
 * producers write spans: the same figures, except what only looptrace's
 * metadata says (recording length falls back to the spans' extent). */
TEST_IMPL(stat_begin_end_pairs) {
  cJSON* j = stat_json(stat_fixture("threads-be.json"));
  ASSERT_EQ(jns(j, "recording_us"), 2410000);
  ASSERT_SHARE(j, "loop_utilization", 380.0 / 2410.0);
  ASSERT_EQ(jnum(j, "ticks.count"), 5);
  ASSERT_EQ(jns(j, "ticks.p50_us"), 300000);
  ASSERT_EQ(jns(j, "ticks.p99_us"), 1050000);
  ASSERT_EQ(jnum(j, "phases[1].count"), 4);
  ASSERT_EQ(jns(j, "phases[1].p50_us"), 200000);
  ASSERT_EQ(jns(j, "callbacks[1].self_us"), 13000);
  ASSERT_EQ(jnum(j, "threadpool.peak_concurrency"), 4);
  ASSERT_EQ(jns(j, "threadpool.queue_wait_us.max"), 974000);
  ASSERT_STR_EQ(jstr(j, "threadpool.workers[0].name"), "worker 1");
  ASSERT_EQ(jnum(j, "longest_ticks[0].tick"), 4);
  ASSERT_EQ(jns(j, "longest_ticks[0].busy_us"), 200000);
  ASSERT_EQ(jns(j, "longest_ticks[1].callbacks[0].dur_us"), 30000);
  ASSERT_STR_EQ(jstr(j, "longest_ticks[3].callbacks[0].name"), "main");
  /* No looptrace metadata: drops are unknown, and said so. */
  ASSERT(jnull(j, "drops"));
  ASSERT(jhas_line(j, "missing", "drops: "));
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "missing")), 1);
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "warnings")), 0);
  cJSON_Delete(j);
  return 0;
}

/* A real trace from `node --trace-events-enabled` (object form, X spans
 * and B/E pairs in node's cats, async b/e): only the recording length can
 * be computed; every other figure is null or empty and `missing` says
 * why. */
TEST_IMPL(stat_node_trace) {
  cJSON* j = stat_json(stat_fixture("node-trace-events.json"));
  struct stat_run r;
  const char* argv[] = {"stat", stat_fixture("node-trace-events.json"), NULL};
  ASSERT_EQ(jns(j, "recording_us"), 23036000);
  ASSERT(jnull(j, "loop_utilization"));
  ASSERT(jnull(j, "ticks"));
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "phases")), 0);
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "callbacks")), 0);
  ASSERT(jnull(j, "threadpool"));
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "longest_ticks")), 0);
  ASSERT(jnull(j, "drops"));
  ASSERT(jhas_line(j, "missing", "loop_utilization: no spans with cat"));
  ASSERT(jhas_line(j, "missing", "ticks: no spans with cat \"tick\""));
  ASSERT(jhas_line(j, "missing", "phases: "));
  ASSERT(jhas_line(j, "missing", "callbacks: "));
  ASSERT(jhas_line(j, "missing", "threadpool: no spans with cat \"work\""));
  ASSERT(jhas_line(j, "missing", "longest_ticks: "));
  ASSERT(jhas_line(j, "missing", "drops: "));
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "warnings")), 0);
  cJSON_Delete(j);

  /* The text says the same. */
  stat_run(&r, argv);
  ASSERT_EQ(r.status, 0);
  ASSERT_NOT_NULL(strstr(r.out, "  recorded    23.04 ms, 84 events\n"));
  ASSERT_NOT_NULL(strstr(r.out, "ticks       none found\n"));
  ASSERT_NOT_NULL(strstr(r.out,
                         "not in this trace (figure: why):\n"
                         "  loop_utilization: no spans with cat \"tick\"\n"
                         "  ticks: no spans with cat \"tick\"\n"));
  stat_run_free(&r);
  return 0;
}

/* Our own trace wrapped in the object form, with other members before and
 * after the events (holding brackets and quotes in strings): the same. */
TEST_IMPL(stat_object_form) {
  size_t len;
  char* body = test_slurp(stat_fixture("threads.json"), &len);
  char* text;
  cJSON* j;
  ASSERT_GT(asprintf(&text,
                     "{\"otherData\":{\"note\":\"a ] and a } and \\\" and "
                     "[{\"},\"displayTimeUnit\":\"ms\",\n"
                     "\"traceEvents\":%s,\"metadata\":[[[{}]]]}",
                     body),
            0);
  j = stat_json_of(text, strlen(text));
  ASSERT_EQ(jnum(j, "ticks.count"), 5);
  ASSERT_EQ(jnum(j, "threadpool.peak_concurrency"), 4);
  ASSERT_EQ(jns(j, "recording_us"), 2500000);
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "warnings")), 0);
  cJSON_Delete(j);
  free(text);
  free(body);
  return 0;
}

/* From libuv 1.45 timers run last in a tick; phases follow the version
 * the trace names. Unknown phase names come after the known ones. */
TEST_IMPL(stat_phase_order_libuv_145) {
  static const char trace[] =
      "[{\"name\":\"looptrace\",\"ph\":\"M\",\"pid\":1,\"tid\":1,"
      "\"args\":{\"libuv_version\":\"1.46.0\"}},\n"
      "{\"name\":\"tick\",\"cat\":\"tick\",\"ph\":\"X\",\"ts\":0,\"dur\":10,"
      "\"pid\":1,\"tid\":1,\"args\":{\"tick\":1}},\n"
      "{\"name\":\"custom\",\"cat\":\"phase\",\"ph\":\"X\",\"ts\":0,\"dur\":1,"
      "\"pid\":1,\"tid\":1},\n"
      "{\"name\":\"poll\",\"cat\":\"phase\",\"ph\":\"X\",\"ts\":1,\"dur\":4,"
      "\"pid\":1,\"tid\":1},\n"
      "{\"name\":\"timers\",\"cat\":\"phase\",\"ph\":\"X\",\"ts\":6,\"dur\":2,"
      "\"pid\":1,\"tid\":1},\n"
      "{\"name\":\"pending\",\"cat\":\"phase\",\"ph\":\"X\",\"ts\":8,\"dur\":1,"
      "\"pid\":1,\"tid\":1,\"args\":{\"after_poll\":true}}]";
  cJSON* j = stat_json_of(trace, sizeof(trace) - 1);
  ASSERT_STR_EQ(jstr(j, "phases[0].name"), "pending");
  ASSERT_STR_EQ(jstr(j, "phases[1].name"), "poll");
  ASSERT_STR_EQ(jstr(j, "phases[2].name"), "timers");
  ASSERT_STR_EQ(jstr(j, "phases[3].name"), "custom");
  ASSERT_SHARE(j, "phases[1].share", 0.4);
  /* No wait spans: never blocked. */
  ASSERT_SHARE(j, "loop_utilization", 1.0);
  /* looptrace metadata without drops and no dropped instants: none. */
  ASSERT_EQ(jnum(j, "drops"), 0);
  cJSON_Delete(j);
  return 0;
}

/* Drops: the final metadata's count wins; a recording cut short before it
 * counts the `dropped` instants seen. */
TEST_IMPL(stat_drops) {
  static const char cut[] =
      "[{\"name\":\"looptrace\",\"ph\":\"M\",\"pid\":1,\"tid\":1,"
      "\"args\":{\"trace_format\":1}},\n"
      "{\"name\":\"tick\",\"cat\":\"tick\",\"ph\":\"X\",\"ts\":0,\"dur\":10,"
      "\"pid\":1,\"tid\":1},\n"
      "{\"name\":\"dropped\",\"cat\":\"looptrace\",\"ph\":\"i\",\"s\":\"p\","
      "\"ts\":3,\"pid\":1,\"tid\":1,\"args\":{\"records\":17}},\n"
      "{\"name\":\"dropped\",\"cat\":\"looptrace\",\"ph\":\"i\",\"s\":\"p\","
      "\"ts\":4,\"pid\":1,\"tid\":1,\"args\":{\"records\":3}},\n";
  static const char final[] =
      "{\"name\":\"looptrace\",\"ph\":\"M\",\"pid\":1,\"tid\":1,"
      "\"args\":{\"drops\":25,\"duration_us\":12}}]";
  char whole[sizeof(cut) + sizeof(final)];
  cJSON* j = stat_json_of(cut, sizeof(cut) - 1);
  char* out;
  ASSERT_EQ(jnum(j, "drops"), 20);
  ASSERT(jhas_line(j, "warnings", "file ends without ']'"));
  cJSON_Delete(j);
  out = stat_text_of(cut, sizeof(cut) - 1);
  ASSERT_NOT_NULL(strstr(out, "drops       20 records lost"));
  free(out);

  snprintf(whole, sizeof(whole), "%s%s", cut, final);
  j = stat_json_of(whole, strlen(whole));
  ASSERT_EQ(jnum(j, "drops"), 25);
  ASSERT_EQ(jns(j, "recording_us"), 12000);
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "warnings")), 0);
  cJSON_Delete(j);
  return 0;
}

/* Usage errors exit 2 with a hint; --help exits 0. */
TEST_IMPL(stat_usage) {
  struct stat_run r;
  const char* none[] = {"stat", NULL};
  const char* two[] = {"stat", "a.json", "b.json", NULL};
  const char* bad[] = {"stat", "--frobnicate", "a.json", NULL};
  const char* help[] = {"stat", "--help", NULL};
  stat_run(&r, none);
  ASSERT_EQ(r.status, 2);
  ASSERT_NOT_NULL(strstr(r.err, "which trace?"));
  stat_run_free(&r);
  stat_run(&r, two);
  ASSERT_EQ(r.status, 2);
  ASSERT_NOT_NULL(strstr(r.err, "one FILE only"));
  stat_run_free(&r);
  stat_run(&r, bad);
  ASSERT_EQ(r.status, 2);
  ASSERT_NOT_NULL(strstr(r.err, "frobnicate"));
  stat_run_free(&r);
  stat_run(&r, help);
  ASSERT_EQ(r.status, 0);
  ASSERT_NOT_NULL(strstr(r.out, "--json"));
  stat_run_free(&r);
  return 0;
}

/* cut.json (tests/fixtures/stat/README.md): ticks 1 and 4 are cut (at
 * attach and at the end), and so are a phase in each, a callback and a
 * task (the legacy "incomplete"). Counted, summed, never in a percentile
 * and never among the longest ticks; those rank by busy time. */
TEST_IMPL(stat_cut_spans) {
  cJSON* j = stat_json(stat_fixture("cut.json"));

  ASSERT_EQ(jnum(j, "ticks.count"), 4);
  ASSERT_EQ(jnum(j, "ticks.cut"), 2);
  /* Complete ticks 2 and 3 only: 50, 100. */
  ASSERT_EQ(jns(j, "ticks.p50_us"), 50000);
  ASSERT_EQ(jns(j, "ticks.p99_us"), 100000);
  ASSERT_EQ(jns(j, "ticks.max_us"), 100000);
  /* Sums keep what was seen of the cut spans. */
  ASSERT_SHARE(j, "loop_utilization", 1.0 - 198.0 / 400.0);
  ASSERT_STR_EQ(jstr(j, "phases[0].name"), "timers");
  ASSERT_EQ(jnum(j, "phases[0].count"), 2);
  ASSERT_EQ(jns(j, "phases[0].total_us"), 180000);
  ASSERT_EQ(jns(j, "phases[0].max_us"), 30000);
  ASSERT_EQ(jns(j, "phases[1].p50_us"), 20000);
  ASSERT_EQ(jns(j, "phases[1].max_us"), 100000);
  ASSERT_EQ(jns(j, "callbacks[0].total_us"), 149000);
  /* The task cut at its end is in the count, not in the run times; it
   * did start, so its queue wait is known. */
  ASSERT_EQ(jnum(j, "threadpool.tasks"), 2);
  ASSERT_EQ(jns(j, "threadpool.queue_wait_us.max"), 25000);
  ASSERT_EQ(jns(j, "threadpool.run_us.p99"), 20000);
  ASSERT_EQ(jns(j, "threadpool.workers[0].busy_us"), 290000);

  /* Tick 2 (busy 32 of 50) blocked the loop more than tick 3 (busy 10 of
   * 100, 90 of it waiting); the cut ticks 4 (150) and 1 are not listed. */
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "longest_ticks")), 2);
  ASSERT_EQ(jnum(j, "longest_ticks[0].tick"), 2);
  ASSERT_EQ(jns(j, "longest_ticks[0].busy_us"), 32000);
  ASSERT_EQ(jns(j, "longest_ticks[0].dur_us"), 50000);
  ASSERT_STR_EQ(jstr(j, "longest_ticks[0].callbacks[0].name"), "处理请求");
  ASSERT_EQ(jnum(j, "longest_ticks[1].tick"), 3);
  ASSERT_EQ(jns(j, "longest_ticks[1].busy_us"), 10000);
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "warnings")), 0);
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "missing")), 0);
  cJSON_Delete(j);
  return 0;
}

/* The text of cut.json: how many were cut, the busy ranking, and columns
 * that line up with CJK (two columns each), combining accents (none) and
 * a long CJK name cut between characters. */
TEST_IMPL(stat_cut_text_utf8) {
  struct stat_run r;
  const char* argv[] = {"stat", stat_fixture("cut.json"), NULL};
  stat_run(&r, argv);
  ASSERT_EQ(r.status, 0);
  ASSERT_STR_EQ(r.err, "");
  ASSERT_NOT_NULL(strstr(r.out, "cut.json: 服务器\n"));
  ASSERT_NOT_NULL(strstr(r.out,
                         "ticks       4 (2 cut), 10000.0/s; p50 50.0 µs, "
                         "p99 100.0 µs, max 100.0 µs\n"));
  ASSERT_NOT_NULL(strstr(
      r.out,
      "callback                         kind   count     total      self\n"
      "数据库查询结果处理回调函数非常…  timer      1  149.0 µs  149.0 µs\n"
      "处理请求                         timer      1   28.0 µs   28.0 µs\n"
      "re\xcc\x81sume\xcc\x81                           read       1    9.0 µs"
      "    9.0 µs\n"
      "onread                           read       1    8.0 µs    8.0 µs\n"));
  ASSERT_NOT_NULL(strstr(
      r.out,
      "longest busy ticks (what blocked the loop: the tick minus its wait)\n"
      "tick        at     busy      wall  callbacks inside      dur  kind\n"
      "   2  100.0 µs  32.0 µs   50.0 µs  处理请求          28.0 µs  timer\n"
      "   3  150.0 µs  10.0 µs  100.0 µs  re\xcc\x81sume\xcc\x81             "
      "9.0 µs  read\n\n"));
  ASSERT_NOT_NULL(strstr(r.out,
                         "cut         2 ticks, 2 phases, 1 callback, 1 task "
                         "cut by the recording's limits\n"));
  stat_run_free(&r);
  return 0;
}

/* Names that are not clean UTF-8: a C1 control (U+009B is a terminal's
 * CSI) and bytes that are no UTF-8 at all (0xff, a sequence cut short) become
 * '?', one column each. */
TEST_IMPL(stat_text_bad_utf8) {
  static const char trace[] =
      "[{\"ph\":\"X\",\"cat\":\"callback\",\"name\":\"a\\u009b2Jb\","
      "\"ts\":0,\"dur\":1,\"pid\":1,\"tid\":1,\"args\":{\"kind\":\"k\"}},\n"
      "{\"ph\":\"X\",\"cat\":\"callback\",\"name\":\"x\xff\xe4\xb8y\","
      "\"ts\":1,\"dur\":1,\"pid\":1,\"tid\":1,\"args\":{\"kind\":\"k\"}}]";
  char* out = stat_text_of(trace, sizeof(trace) - 1);
  ASSERT_NULL(strstr(out, "\xc2\x9b"));
  ASSERT_NOT_NULL(strstr(out, "a?2Jb     k"));
  ASSERT_NOT_NULL(strstr(out, "x???y     k"));
  free(out);
  return 0;
}

/* B/E pairs: a cut marked on the E (or the B) counts as on the span; when
 * every tick is cut the tick percentiles are null and `missing` says
 * why; so is a run time whose every task is cut. */
TEST_IMPL(stat_cut_begin_end) {
  static const char trace[] =
      "[{\"ph\":\"B\",\"cat\":\"tick\",\"name\":\"tick\",\"ts\":0,\"pid\":1,"
      "\"tid\":1,\"args\":{\"tick\":1}},\n"
      "{\"ph\":\"B\",\"cat\":\"phase\",\"name\":\"poll\",\"ts\":0,\"pid\":1,"
      "\"tid\":1},\n"
      "{\"ph\":\"E\",\"cat\":\"phase\",\"name\":\"poll\",\"ts\":5,\"pid\":1,"
      "\"tid\":1},\n"
      "{\"ph\":\"E\",\"cat\":\"tick\",\"name\":\"tick\",\"ts\":9,\"pid\":1,"
      "\"tid\":1,\"args\":{\"cut\":\"end\"}},\n"
      "{\"ph\":\"B\",\"cat\":\"work\",\"name\":\"w\",\"ts\":1,\"pid\":1,"
      "\"tid\":2,\"args\":{\"cut\":\"start\"}},\n"
      "{\"ph\":\"B\",\"cat\":\"phase\",\"name\":\"check\",\"ts\":2,"
      "\"pid\":1,\"tid\":2,\"args\":{\"incomplete\":true}},\n"
      "{\"ph\":\"E\",\"ts\":3,\"pid\":1,\"tid\":2},\n"
      "{\"ph\":\"E\",\"ts\":4,\"pid\":1,\"tid\":2}]";
  cJSON* j = stat_json_of(trace, sizeof(trace) - 1);
  ASSERT_EQ(jnum(j, "ticks.count"), 1);
  ASSERT_EQ(jnum(j, "ticks.cut"), 1);
  ASSERT(jnull(j, "ticks.p50_us"));
  ASSERT(jnull(j, "ticks.max_us"));
  ASSERT_STR_EQ(jstr(j, "phases[0].name"), "poll");
  ASSERT_EQ(jns(j, "phases[0].p50_us"), 5000);
  ASSERT_STR_EQ(jstr(j, "phases[1].name"), "check");
  ASSERT_EQ(jns(j, "phases[1].total_us"), 1000);
  ASSERT(jnull(j, "phases[1].p50_us"));
  ASSERT(jnull(j, "phases[1].max_us"));
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "longest_ticks")), 0);
  ASSERT_EQ(jnum(j, "threadpool.tasks"), 1);
  ASSERT(jnull(j, "threadpool.run_us.p50"));
  ASSERT(jnull(j, "threadpool.run_us.p99"));
  ASSERT(jhas_line(j, "missing",
                   "ticks.p50_us, p99_us, max_us: every tick is cut"));
  ASSERT(jhas_line(j, "missing",
                   "phases.p50_us, p99_us, max_us of check: every span is "
                   "cut"));
  ASSERT(jhas_line(j, "missing", "threadpool.run_us: every work span is cut"));
  cJSON_Delete(j);
  return 0;
}
