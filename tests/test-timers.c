/* test-timers.c — timeouts and intervals. */
#include "looprt.h"
#include "test.h"

static char order[64];
static int norder;

static void record(lrt_timer_t* t) {
  order[norder++] = *(const char*) t->data;
}

TEST_IMPL(timer_same_due_run_in_set_order) {
  lrt_loop_t loop;
  lrt_timer_t t[5];
  const char* names = "abcde";
  int i;

  norder = 0;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  for (i = 0; i < 5; i++) {
    t[i].data = (void*) &names[i];
    ASSERT_EQ(lrt_timeout(&loop, &t[i], 10, record, NULL), 0);
  }
  ASSERT_EQ(lrt_run(&loop), 0);
  order[norder] = '\0';
  ASSERT_STR_EQ(order, "abcde");
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}

TEST_IMPL(timer_earlier_due_first) {
  lrt_loop_t loop;
  lrt_timer_t late, early;

  norder = 0;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  late.data = "L";
  early.data = "E";
  ASSERT_EQ(lrt_timeout(&loop, &late, 30, record, NULL), 0);
  ASSERT_EQ(lrt_timeout(&loop, &early, 5, record, NULL), 0);
  ASSERT_EQ(lrt_run(&loop), 0);
  order[norder] = '\0';
  ASSERT_STR_EQ(order, "EL");
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}

/* A 0 ms timer set from a timer callback runs in a later tick: a chain of
 * them cannot starve the loop. */
static lrt_timer_t chain_timer;
static int chain_runs;
static uint64_t chain_ticks[3];

static void chain_cb(lrt_timer_t* t) {
  lrt_loop_t* loop = t->data;
  chain_ticks[chain_runs] = uv_now(lrt_uv_loop(loop));
  if (++chain_runs < 3)
    ASSERT_EQ(lrt_timeout(loop, &chain_timer, 0, chain_cb, NULL), 0);
}

TEST_IMPL(timer_zero_from_timer_runs_later) {
  lrt_loop_t loop;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  chain_timer.data = &loop;
  ASSERT_EQ(lrt_timeout(&loop, &chain_timer, 0, chain_cb, NULL), 0);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(chain_runs, 3);
  /* Each ran at least 1 ms after the previous (Node's 0 means 1). */
  ASSERT_GE(chain_ticks[1], chain_ticks[0] + 1);
  ASSERT_GE(chain_ticks[2], chain_ticks[1] + 1);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}

TEST_IMPL(timer_clear) {
  lrt_loop_t loop;
  lrt_timer_t kept, cleared;

  norder = 0;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  kept.data = "k";
  cleared.data = "c";
  ASSERT_EQ(lrt_timeout(&loop, &cleared, 5, record, NULL), 0);
  ASSERT_EQ(lrt_timeout(&loop, &kept, 10, record, NULL), 0);
  ASSERT(lrt_timer_active(&cleared));
  lrt_timer_clear(&cleared);
  ASSERT(!lrt_timer_active(&cleared));
  lrt_timer_clear(&cleared); /* twice is harmless */
  ASSERT_EQ(lrt_run(&loop), 0);
  order[norder] = '\0';
  ASSERT_STR_EQ(order, "k");
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}

/* Lateness on a loaded machine: a test of a schedule runs it up to
 * TIMING_TRIES times and passes if one run is on time; a wrong schedule
 * is late every time (its lateness is its own, not the machine's). At
 * load 11-12 (make check of a fresh clone; make test here) runs came
 * 26-42 ms after their slots. */
#define TIMING_TRIES 3
#define LATE_MS 40

/* `at` (ms) is on `slot` (ms): never before it; returns 0, or -1 with
 * `why` saying how late, past LATE_MS. */
static int on_time(uint64_t at, int64_t slot, const char* what, char* why,
                   size_t len) {
  ASSERT_GE((int64_t) at, slot - 1);
  if ((int64_t) at <= slot + LATE_MS)
    return 0;
  snprintf(why, len, "%s came %" PRId64 " ms after its slot", what,
           (int64_t) at - slot);
  return -1;
}

/* Runs `try` (0 if on time, or -1 saying why not) until it is on time;
 * fails the test after TIMING_TRIES tries. */
static void one_on_time(int (*try)(char* why, size_t len)) {
  char why[96];
  int i;
  for (i = 0; i < TIMING_TRIES; i++)
    if (try(why, sizeof(why)) == 0)
      return;
  TEST_FAIL_("in each of %d tries; the last: %s", TIMING_TRIES, why);
}

/* An interval keeps to its schedule even when each callback makes it
 * late: run k is due at start + k * period. */
#define PERIOD_MS 20
#define RUNS 25
static uint64_t interval_at[RUNS];
static int interval_runs;

static void interval_cb(lrt_timer_t* t) {
  struct timespec busy = {0, 3 * 1000000}; /* 3 ms of work each time */
  interval_at[interval_runs] = uv_hrtime() / 1000000;
  nanosleep(&busy, NULL);
  if (++interval_runs == RUNS)
    lrt_timer_clear(t);
}

static int drift_try(char* why, size_t len) {
  lrt_loop_t loop;
  lrt_timer_t t;
  int64_t start;
  char what[16];
  int k;

  interval_runs = 0;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  start = (int64_t) (uv_hrtime() / 1000000);
  ASSERT_EQ(lrt_interval(&loop, &t, PERIOD_MS, interval_cb, NULL), 0);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(interval_runs, RUNS);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  /* Each run takes 3 ms: rescheduling from the run (libuv's repeat)
   * would make run 25 come 72 ms after its slot. Keeping to the schedule,
   * lateness does not add up: it stays what the machine's noise makes
   * it. */
  for (k = 0; k < RUNS; k++) {
    snprintf(what, sizeof(what), "run %d", k + 1);
    if (on_time(interval_at[k], start + (int64_t) (k + 1) * PERIOD_MS, what,
                why, len) != 0)
      return -1;
  }
  return 0;
}

TEST_IMPL(interval_does_not_drift) {
  one_on_time(drift_try);
  return 0;
}

/* Slots missed while the loop was busy are dropped: one late run, then
 * back on the schedule (as Go's time.Ticker). */
#define SKIP_PERIOD_MS 100
static int skip_runs;
static uint64_t skip_at[4];

static void skip_cb(lrt_timer_t* t) {
  skip_at[skip_runs] = uv_hrtime() / 1000000;
  if (skip_runs == 0) {
    /* Run 0 is at 100; being busy until 360 misses the slots 200, 300. */
    struct timespec busy = {0, 260 * 1000000};
    nanosleep(&busy, NULL);
  }
  if (++skip_runs == 4)
    lrt_timer_clear(t);
}

static int skip_try(char* why, size_t len) {
  lrt_loop_t loop;
  lrt_timer_t t;
  int64_t start;
  skip_runs = 0;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  start = (int64_t) (uv_hrtime() / 1000000);
  ASSERT_EQ(lrt_interval(&loop, &t, SKIP_PERIOD_MS, skip_cb, NULL), 0);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(skip_runs, 4);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  /* Kept to the schedule, runs 2 and 3 are on the slots 400 and 500.
   * Catching up would put run 2 at ~360 with run 1 (before its slot);
   * rescheduling from the late run would put them at 460 and 560. */
  if (on_time(skip_at[2], start + 400, "run 2", why, len) != 0 ||
      on_time(skip_at[3], start + 500, "run 3", why, len) != 0)
    return -1;
  return 0;
}

TEST_IMPL(interval_drops_missed_runs) {
  one_on_time(skip_try);
  return 0;
}

static void never(lrt_timer_t* t) {
  TEST_FAIL_("a failed call's callback ran");
}

TEST_IMPL(timer_bad_arguments) {
  lrt_loop_t loop;
  lrt_timer_t t;
  ASSERT_EQ(lrt_loop_init(&loop), 0);
  ASSERT_EQ(lrt_timeout(&loop, &t, 1, NULL, NULL), UV_EINVAL);
  ASSERT_EQ(lrt_timeout(NULL, &t, 1, never, NULL), UV_EINVAL);
  ASSERT_EQ(lrt_timeout(&loop, NULL, 1, never, NULL), UV_EINVAL);
  ASSERT_EQ(lrt_interval(&loop, &t, 0, never, NULL), UV_EINVAL);
  ASSERT_EQ(lrt_run(&loop), 0);
  ASSERT_EQ(lrt_loop_close(&loop), 0);
  return 0;
}
