/* workloads.c — the looprt programs that `make bench` times
 * (tests/bench/run.sh drives them).
 *
 *   workloads immediates N        a chain of N immediates: each callback
 *                                 sets the next, so one runs per tick
 *   workloads timers N            a timer storm: 10,000 timers, each set
 *                                 again for 1 ms when it fires, N fires in
 *                                 all
 *   workloads pool N [WINDOW]     N tiny threadpool tasks, submitted from
 *                                 the loop's first tick all at once, or
 *                                 WINDOW at a time (each completion then
 *                                 submits the next)
 *   workloads mixed SECONDS       all three at once, for SECONDS (a busy
 *                                 loop for the tracer's memory test)
 *   workloads spans RATE SECONDS  user spans at RATE records per second,
 *                                 paced every millisecond (the collector
 *                                 test)
 *
 * The same source is built three times (tests/bench/build.mk): against
 * build/liblooprt.so.0, against a runtime compiled with -DLOOPRT_NO_PROBES,
 * and against a runtime whose probes are LTTng-UST tracepoints.
 *
 * Output, on stdout, one `name: value` per line:
 *   wall_ns   how long lrt_run() took;
 *   cpu_ns    CPU time of the whole process (every thread: loop, workers,
 *             the runtime's flusher) over the same interval, which is what
 *             tracing costs the program even when its loop waits;
 *   n         callbacks run (the workload's own count);
 *   switches  context switches of the process over the run (how the
 *             threadpool's threads took turns);
 *   span_records (spans only)   records the spans made;
 *   probe_hits (LTTng build only)   tracepoints the runtime hit.
 * Start-up and the loop's close are outside the interval.
 *
 * With BENCH_WARMUP_MS=MS in the environment, the loop first runs MS
 * milliseconds with nothing measured (a timer, and one pool task for the
 * pool workload), so that what a tracing session starts with (its
 * announcements, the flusher thread, each thread introducing itself)
 * happens before the interval. run.sh sets it for the per-event tracer
 * figures: a pool run lasts 150-200 ms, and the session's start would
 * otherwise fall inside it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "looprt.h"

#ifdef BENCH_LTTNG
uint64_t bench_probe_hits(void); /* lttng_tp.c */
#endif

#define TIMER_COUNT 10000
#define MIXED_POOL_WINDOW 8

static struct {
  lrt_loop_t loop;
  uint64_t n;           /* callbacks to run */
  uint64_t done;        /* callbacks run */
  uint64_t deadline_ns; /* mixed: when to stop setting more work */

  lrt_immediate_t immediate;

  lrt_timer_t* timers;
  uint64_t timers_set;

  lrt_work_t* works;
  uint64_t works_submitted;
  uint64_t window;      /* tasks in flight */
  lrt_immediate_t kick; /* submits the first tasks from the loop */

  lrt_timer_t pace;
  uint64_t rate;       /* spans: records per second */
  uint64_t span_start; /* ns */
  uint64_t span_end;   /* ns */
  uint64_t span_records;
} b;

static uint64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void check(int r, const char* what) {
  if (r != 0) {
    fprintf(stderr, "workloads: %s: %s\n", what, uv_strerror(r));
    exit(1);
  }
}

/* In `mixed`, work goes on until the deadline; otherwise until n. */
static int more(uint64_t count) {
  if (b.deadline_ns != 0)
    return clock_ns(CLOCK_MONOTONIC) < b.deadline_ns;
  return count < b.n;
}

/* ------------------------------------------------------------------------
 * A chain of immediates.
 */

static void immediate_cb(lrt_immediate_t* imm) {
  b.done++;
  if (more(b.done))
    check(lrt_immediate(&b.loop, imm, immediate_cb, "chain"), "immediate");
}

static void start_immediates(void) {
  check(lrt_immediate(&b.loop, &b.immediate, immediate_cb, "chain"),
        "immediate");
}

/* ------------------------------------------------------------------------
 * A timer storm: every timer is set again as it fires (0 ms is 1 ms, so
 * in a later tick), until n have fired.
 */

static void timer_cb(lrt_timer_t* t) {
  b.done++;
  if (more(b.timers_set)) {
    b.timers_set++;
    check(lrt_timeout(&b.loop, t, 0, timer_cb, "storm"), "timeout");
  }
}

static void start_timers(uint64_t count) {
  uint64_t i;
  b.timers = calloc(count, sizeof(*b.timers));
  if (b.timers == NULL)
    check(UV_ENOMEM, "timers");
  for (i = 0; i < count; i++) {
    b.timers_set++;
    check(lrt_timeout(&b.loop, &b.timers[i], 0, timer_cb, "storm"), "timeout");
  }
}

/* ------------------------------------------------------------------------
 * Tiny threadpool tasks.
 */

static void task_fn(lrt_work_t* w) {
  /* Tiny on purpose: the cost under test is the handoff. */
}

static void task_done(lrt_work_t* w, int status) {
  b.done++;
  if (more(b.works_submitted)) {
    b.works_submitted++;
    check(lrt_work_submit(&b.loop, w, task_fn, task_done, "tiny"), "work");
  }
}

/* From the loop's first tick, so that the submissions are timed too
 * (workers would run tasks submitted before the clock starts). */
static void kick_pool(lrt_immediate_t* kick) {
  uint64_t i;
  for (i = 0; i < b.window; i++) {
    b.works_submitted++;
    check(lrt_work_submit(&b.loop, &b.works[i], task_fn, task_done, "tiny"),
          "work");
  }
}

static void start_pool(uint64_t count) {
  b.window = count;
  b.works = calloc(count, sizeof(*b.works));
  if (b.works == NULL)
    check(UV_ENOMEM, "works");
  check(lrt_immediate(&b.loop, &b.kick, kick_pool, "start"), "immediate");
}

/* ------------------------------------------------------------------------
 * Paced spans: each millisecond, as many span begin/end pairs (two
 * records each pair) as keep the total on RATE records per second. A
 * generator that cannot keep up simply falls behind; the driver compares
 * span_records with what was asked for.
 */

static void pace_cb(lrt_timer_t* t) {
  uint64_t now = clock_ns(CLOCK_MONOTONIC);
  uint64_t due;
  uint64_t limit;

  if (now >= b.span_end) {
    now = b.span_end;
    lrt_timer_clear(t);
  }
  due = (uint64_t) ((double) b.rate * (double) (now - b.span_start) / 1e9);
  /* Never more than 10 ms' worth at once, so that a generator that fell
   * behind still lets its loop turn. */
  limit = b.span_records + b.rate / 100 + 2;
  if (due > limit)
    due = limit;
  while (b.span_records < due) {
    lrt_span_begin(&b.loop, "span");
    lrt_span_end(&b.loop);
    b.span_records += 2;
  }
  b.done++;
}

/* ------------------------------------------------------------------------
 * Warm-up (BENCH_WARMUP_MS).
 */

static void warm_task_fn(lrt_work_t* w) {
}

static void warm_task_done(lrt_work_t* w, int status) {
}

static void warm_timer_cb(lrt_timer_t* t) {
}

static void warm_up(const char* name) {
  const char* env = getenv("BENCH_WARMUP_MS");
  long ms = env != NULL ? strtol(env, NULL, 10) : 0;
  lrt_timer_t timer;
  lrt_work_t work;

  if (ms <= 0)
    return;
  if (strcmp(name, "pool") == 0)
    check(lrt_work_submit(&b.loop, &work, warm_task_fn, warm_task_done,
                          "warm-up"),
          "work");
  check(lrt_timeout(&b.loop, &timer, (uint64_t) ms, warm_timer_cb, "warm-up"),
        "timeout");
  check(lrt_run(&b.loop), "run");
}

/* ------------------------------------------------------------------------
 */

static void usage(void) {
  fprintf(stderr,
          "usage: workloads immediates|timers N\n"
          "       workloads pool N [WINDOW]\n"
          "       workloads mixed SECONDS\n"
          "       workloads spans RATE SECONDS\n");
  exit(2);
}

int main(int argc, char** argv) {
  const char* name;
  uint64_t wall0;
  uint64_t cpu0;
  uint64_t wall1;
  uint64_t cpu1;
  struct rusage ru0;
  struct rusage ru1;

  if (argc < 3)
    usage();
  name = argv[1];
  check(lrt_loop_init(&b.loop), "loop init");
  warm_up(name);

  /* Everything is set before the clocks start: the interval is the loop
   * running the work. */
  if (strcmp(name, "immediates") == 0) {
    b.n = strtoull(argv[2], NULL, 10);
    start_immediates();
  } else if (strcmp(name, "timers") == 0) {
    b.n = strtoull(argv[2], NULL, 10);
    start_timers(b.n < TIMER_COUNT ? b.n : TIMER_COUNT);
  } else if (strcmp(name, "pool") == 0) {
    uint64_t window;
    b.n = strtoull(argv[2], NULL, 10);
    window = argc > 3 ? strtoull(argv[3], NULL, 10) : b.n;
    start_pool(b.n < window ? b.n : window);
  } else if (strcmp(name, "mixed") == 0) {
    b.deadline_ns =
        clock_ns(CLOCK_MONOTONIC) + (uint64_t) (strtod(argv[2], NULL) * 1e9);
    start_immediates();
    start_timers(100);
    start_pool(MIXED_POOL_WINDOW);
  } else if (strcmp(name, "spans") == 0 && argc >= 4) {
    b.rate = strtoull(argv[2], NULL, 10);
    b.span_start = clock_ns(CLOCK_MONOTONIC);
    b.span_end = b.span_start + (uint64_t) (strtod(argv[3], NULL) * 1e9);
    check(lrt_interval(&b.loop, &b.pace, 1, pace_cb, "pace"), "interval");
  } else {
    usage();
  }
  if (b.n == 0 && b.deadline_ns == 0 && b.rate == 0)
    usage();

  getrusage(RUSAGE_SELF, &ru0);
  wall0 = clock_ns(CLOCK_MONOTONIC);
  cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  check(lrt_run(&b.loop), "run");
  wall1 = clock_ns(CLOCK_MONOTONIC);
  cpu1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  getrusage(RUSAGE_SELF, &ru1);

  printf("workload: %s\n", name);
  printf("wall_ns: %llu\n", (unsigned long long) (wall1 - wall0));
  printf("cpu_ns: %llu\n", (unsigned long long) (cpu1 - cpu0));
  printf("n: %llu\n", (unsigned long long) b.done);
  printf("switches: %ld\n",
         (ru1.ru_nvcsw + ru1.ru_nivcsw) - (ru0.ru_nvcsw + ru0.ru_nivcsw));
  if (b.rate != 0)
    printf("span_records: %llu\n", (unsigned long long) b.span_records);
#ifdef BENCH_LTTNG
  printf("probe_hits: %llu\n", (unsigned long long) bench_probe_hits());
#endif
  fflush(stdout);
  check(lrt_loop_close(&b.loop), "loop close");
  free(b.timers);
  free(b.works);
  return 0;
}
