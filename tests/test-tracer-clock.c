/* test-tracer-clock.c — the times in a trace are CLOCK_MONOTONIC's, to the
 * microsecond, however the runtime reads them (runtime/src/clock.c), and
 * records of different threads stay in the order they happened. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-tracer.h"
#include "test.h"

#define CLOCK_SPANS test_build_path("tests/progs/clock_spans")

/* How far a converted time may stray from CLOCK_MONOTONIC, ns. */
#define TOLERANCE_NS 1000
/* A span whose readings (a, b) leave less than this outside it (b - a -
 * its duration) brackets its begin and end tightly enough to measure the
 * error both ways; looser ones (the program was preempted between a
 * reading and the span) still bound it. */
#define TIGHT_NS 2000

/* Records clock_spans for `seconds` with `env`; loads the trace. */
static void record(const char* seconds, char** env, struct tt_trace* t) {
  const char* path = tt_tmp(".json");
  char* argv[] = {
      (char*) LOOPTRACE,   "record",        "-q", "-o", (char*) path, "--",
      (char*) CLOCK_SPANS, (char*) seconds, NULL};
  char* output;
  int status = tt_run(argv, env, 60000, &output);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    TEST_FAIL_("looptrace record failed (status %d): %s", status, output);
  free(output);
  tt_load(path, t);
  unlink(path);
  tt_check(t);
  ASSERT_EQ(t->drops, 0);
}

/* The clock the runtime should have chosen here (clock.c's rule). */
static const char* expected_clock(void) {
  char* src = test_read_file(
      "/sys/devices/system/clocksource/clocksource0/current_clocksource", NULL);
  char* cpu = test_read_file("/proc/cpuinfo", NULL);
  int tsc = src != NULL && strncmp(src, "tsc\n", 4) == 0 && cpu != NULL &&
            strstr(cpu, " constant_tsc") != NULL &&
            strstr(cpu, " nonstop_tsc") != NULL;
#if !defined(__x86_64__) && !defined(__i386__)
  tsc = 0;
#endif
  free(src);
  free(cpu);
  return tsc ? "tsc" : "clock_gettime";
}

/* Every "clock span" lies within its own readings [a, b], which the next
 * span's label carries. Sets the largest error seen on tightly bracketed
 * spans (ns), how many those were, and how many spans were checked. */
static void check_spans(const struct tt_trace* t, int64_t* worst, int* tight,
                        int* total) {
  int64_t offset = (int64_t) tt_fact(t, "clock_offset_ns")->valuedouble;
  const struct tt_span* prev = NULL;
  int i;

  *worst = 0;
  *tight = 0;
  *total = 0;
  for (i = 0; i < t->nspans; i++) {
    const struct tt_span* s = &t->spans[i];
    char what[8];
    long long a;
    long long b;
    if (sscanf(s->name, "clock %7s a=%lld b=%lld", what, &a, &b) != 3 ||
        (strcmp(what, "span") != 0 && strcmp(what, "end") != 0))
      continue;
    if (prev != NULL) {
      int64_t begin = offset + prev->ts;
      int64_t finish = offset + prev->ts + prev->dur;
      ASSERT_GE(begin, a - TOLERANCE_NS);
      ASSERT_LE(finish, b + TOLERANCE_NS);
      (*total)++;
      if ((b - a) - prev->dur < TIGHT_NS) {
        int64_t e1 = begin < a ? a - begin : 0;
        int64_t e2 = finish > b ? finish - b : 0;
        (*tight)++;
        if (e1 > *worst)
          *worst = e1;
        if (e2 > *worst)
          *worst = e2;
      }
    }
    prev = s;
  }
}

struct moment {
  double task;
  int kind; /* 0 submit, 1 work, 2 completion */
  const struct tt_span* s;
};

static int moment_cmp(const void* x, const void* y) {
  const struct moment* a = x;
  const struct moment* b = y;
  if (a->task != b->task)
    return a->task < b->task ? -1 : 1;
  return a->kind - b->kind;
}

/* Each task's submit (loop thread) comes before its work (a worker), and
 * its work ends before its completion begins (loop thread). Returns how
 * many tasks were seen whole. */
static int check_task_order(const struct tt_trace* t) {
  struct moment* m = calloc((size_t) t->nspans + 1, sizeof(*m));
  int n = 0;
  int whole = 0;
  int i;

  ASSERT_NOT_NULL(m);
  for (i = 0; i < t->nspans; i++) {
    const struct tt_span* s = &t->spans[i];
    int kind = strcmp(s->cat, "submit") == 0     ? 0
               : strcmp(s->cat, "work") == 0     ? 1
               : strcmp(s->cat, "callback") == 0 ? 2
                                                 : -1;
    if (kind < 0 || tt_arg_num(s, "task") <= 0)
      continue;
    m[n].task = tt_arg_num(s, "task");
    m[n].kind = kind;
    m[n].s = s;
    n++;
  }
  qsort(m, (size_t) n, sizeof(*m), moment_cmp);
  for (i = 0; i + 2 < n; i++) {
    const struct tt_span* sub = m[i].s;
    const struct tt_span* work = m[i + 1].s;
    const struct tt_span* done = m[i + 2].s;
    if (m[i].kind != 0 || m[i + 1].kind != 1 || m[i + 2].kind != 2 ||
        m[i + 1].task != m[i].task || m[i + 2].task != m[i].task)
      continue;
    ASSERT(work->tid != sub->tid);
    ASSERT_LE(sub->ts, work->ts);
    ASSERT_GE(done->ts, work->ts + work->dur);
    whole++;
  }
  free(m);
  return whole;
}

/* 3 s of spans every 2 ms: each within 1 µs of the program's own
 * clock_gettime() readings around it, on the runtime's own clock. */
TEST_IMPL(tracer_clock_agrees_with_monotonic) {
  char pool[] = "UV_THREADPOOL_SIZE=2";
  char* env[] = {pool, NULL};
  struct tt_trace t;
  const cJSON* ts_kind;
  int64_t worst;
  int tight;
  int total;
  int tasks;

  tt_require_bpf();
  record("3", env, &t);
  ts_kind = tt_fact(&t, "timestamps");
  ASSERT(cJSON_IsString(ts_kind));
  ASSERT_STR_EQ(ts_kind->valuestring, expected_clock());
  check_spans(&t, &worst, &tight, &total);
  /* 2 ms apart for 3 s: 1500 if the machine is quiet. */
  ASSERT_GE(total, 200);
  ASSERT_GE(tight, 50);
  ASSERT_LE(worst, TOLERANCE_NS);
  tasks = check_task_order(&t);
  ASSERT_GE(tasks, total);
  fprintf(stderr,
          "clock %s: %d spans (%d tightly bracketed), worst error "
          "%lld ns; %d tasks in order\n",
          ts_kind->valuestring, total, tight, (long long) worst, tasks);
  tt_free(&t);
  return 0;
}

/* LOOPRT_CLOCK=clock_gettime makes the runtime call clock_gettime(), and
 * the trace says so. */
TEST_IMPL(tracer_clock_gettime_forced) {
  char pool[] = "UV_THREADPOOL_SIZE=2";
  char force[] = "LOOPRT_CLOCK=clock_gettime";
  char* env[] = {pool, force, NULL};
  struct tt_trace t;
  const cJSON* ts_kind;
  int64_t worst;
  int tight;
  int total;

  tt_require_bpf();
  record("1", env, &t);
  ts_kind = tt_fact(&t, "timestamps");
  ASSERT(cJSON_IsString(ts_kind));
  ASSERT_STR_EQ(ts_kind->valuestring, "clock_gettime");
  check_spans(&t, &worst, &tight, &total);
  ASSERT_GE(total, 50);
  ASSERT_LE(worst, TOLERANCE_NS);
  check_task_order(&t);
  tt_free(&t);
  return 0;
}
