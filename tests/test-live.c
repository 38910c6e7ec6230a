/* test-live.c — the windows of `looptrace top` and --metrics (live.h):
 * a span's time is shared by overlap, the span is counted once, in the
 * window it ends in, with its tick; the histograms count what the
 * windows count.
 */
#include "live.h"
#include "stat_summary.h"
#include "test.h"

#define MS (1000 * 1000ll)

static void span(struct live* l, int64_t tid, const char* cat, const char* name,
                 int64_t ts_ms, int64_t end_ms) {
  struct stat_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = STAT_EV_SPAN;
  ev.pid = 1;
  ev.tid = tid;
  ev.has_ts = ev.has_dur = 1;
  ev.ts_ns = ts_ms * MS;
  ev.dur_ns = (end_ms - ts_ms) * MS;
  ev.name = name;
  ev.cat = cat;
  ev.kind = stat_kind_of_cat(cat);
  if (ev.kind == STAT_KIND_CALLBACK)
    ev.args.cb_kind = "timer";
  ASSERT_EQ(live_add(l, &ev), 0);
}

static const struct stat_phase* phase(const struct stat_figures* f,
                                      const char* name) {
  size_t i;
  for (i = 0; i < f->nphases; i++)
    if (strcmp(f->phases[i].name, name) == 0)
      return &f->phases[i];
  return NULL;
}

/* A loop tick from 0.5 s to 1.5 s that waits in poll from 0.6 s to
 * 1.4 s, with a 20 ms timer before, and a 400 ms task on a worker from
 * 0.8 s: windows of 1 s from 0. */
static void straddling(struct live* l) {
  span(l, 10, "tick", "tick", 500, 1500);
  span(l, 10, "phase", "timers", 510, 540);
  span(l, 10, "callback", "next round", 515, 535);
  span(l, 10, "phase", "poll", 550, 1450);
  span(l, 10, "wait", "wait", 600, 1400);
  span(l, 20, "work", "pbkdf2", 800, 1200);
}

TEST_IMPL(live_time_shared_by_overlap) {
  struct live* l;
  const struct stat_figures* f;
  ASSERT_EQ(live_new(&l, 1000 * MS), 0);
  live_start(l, 0);
  straddling(l);

  /* [0, 1 s): half the tick (500 ms) and 400 ms of its wait: 20% busy;
   * nothing ended inside, so nothing is counted there. */
  ASSERT_EQ(live_close(l, INT64_MAX, STAT_SORT_TOTAL, &f), 0);
  ASSERT_EQ(f->recording_ns, 1000 * MS);
  ASSERT(f->has_utilization);
  ASSERT_DOUBLE_GE(f->utilization, 0.2 - 1e-9);
  ASSERT_DOUBLE_LE(f->utilization, 0.2 + 1e-9);
  ASSERT_EQ(f->ticks, 0);
  ASSERT_EQ(f->tasks, 0);
  ASSERT_EQ(f->callback_count, 0);
  ASSERT_EQ(phase(f, "poll")->total_ns, 450 * MS);
  ASSERT_EQ(phase(f, "poll")->count, 0);
  /* The worker was busy from 0.8 s: 20% of this window. */
  ASSERT_EQ(f->nworkers, 1);
  ASSERT_EQ(f->workers[0].busy_ns, 200 * MS);
  ASSERT_EQ(live_next(l), 0);

  /* [1 s, 2 s): the other half, and every span counted once, the timer
   * with its tick although it ended in the first window. */
  ASSERT_EQ(live_close(l, INT64_MAX, STAT_SORT_TOTAL, &f), 0);
  ASSERT_DOUBLE_GE(f->utilization, 0.2 - 1e-9);
  ASSERT_DOUBLE_LE(f->utilization, 0.2 + 1e-9);
  ASSERT_EQ(f->ticks, 1);
  ASSERT_EQ(f->tick_dur.max, 1000 * MS);
  ASSERT_EQ(f->tasks, 1);
  ASSERT_EQ(f->callback_count, 1);
  ASSERT_EQ(phase(f, "poll")->count, 1);
  ASSERT_EQ(phase(f, "poll")->total_ns, 450 * MS);
  ASSERT_EQ(phase(f, "timers")->count, 1);
  ASSERT_EQ(phase(f, "timers")->total_ns, 0);
  ASSERT_EQ(f->workers[0].busy_ns, 200 * MS);
  /* The longest tick keeps what ran inside it: busy 1 s - 0.8 s. */
  ASSERT_EQ(f->nlongest, 1);
  ASSERT_EQ(f->longest[0].busy_ns, 200 * MS);
  ASSERT_EQ(f->longest[0].ncallbacks, 1);
  ASSERT_STR_EQ(f->longest[0].callbacks[0].name, "next round");
  /* The histograms count the same spans: a 1 s tick is in le=1s. */
  ASSERT_EQ(f->tick_buckets.count, 1);
  ASSERT_EQ(f->tick_buckets.n[9], 1);
  ASSERT_EQ(f->nkinds, 1);
  ASSERT_STR_EQ(f->kinds[0].name, "pbkdf2");
  ASSERT_EQ(f->kinds[0].tasks, 1);
  ASSERT_EQ(f->kinds[0].run.n[8], 1); /* 400 ms: le=0.5s */
  ASSERT_EQ(live_next(l), 0);
  live_free(l);
  return 0;
}

/* A span that arrives after the window it ended in was shown is counted
 * in the next window shown, with none of its time. */
TEST_IMPL(live_late_span_counted_once) {
  struct live* l;
  const struct stat_figures* f;
  ASSERT_EQ(live_new(&l, 1000 * MS), 0);
  live_start(l, 0);
  span(l, 10, "tick", "tick", 100, 200);
  ASSERT_EQ(live_close(l, INT64_MAX, STAT_SORT_TOTAL, &f), 0);
  ASSERT_EQ(f->ticks, 1);
  ASSERT_EQ(live_next(l), 0);
  span(l, 10, "tick", "tick", 300, 900); /* late */
  span(l, 10, "tick", "tick", 1100, 1200);
  ASSERT_EQ(live_close(l, INT64_MAX, STAT_SORT_TOTAL, &f), 0);
  ASSERT_EQ(f->ticks, 2);
  ASSERT_EQ(f->tick_dur.max, 600 * MS);
  ASSERT_EQ(live_next(l), 0);
  live_free(l);
  return 0;
}

/* A new interval applies from the next window; the last window of a
 * recording ends where the trace does. */
TEST_IMPL(live_interval_change_and_end) {
  struct live* l;
  const struct stat_figures* f;
  ASSERT_EQ(live_new(&l, 1000 * MS), 0);
  live_start(l, 0);
  live_set_interval(l, 2000 * MS);
  ASSERT_EQ(live_window_end(l), 1000 * MS);
  ASSERT_EQ(live_close(l, INT64_MAX, STAT_SORT_TOTAL, &f), 0);
  ASSERT_EQ(live_next(l), 0);
  ASSERT_EQ(live_window_end(l), 3000 * MS);
  span(l, 10, "tick", "tick", 1100, 1600);
  ASSERT_EQ(live_seen(l), 1600 * MS);
  ASSERT_EQ(live_close(l, live_seen(l), STAT_SORT_TOTAL, &f), 0);
  ASSERT_EQ(f->recording_ns, 600 * MS);
  ASSERT_DOUBLE_GE(f->ticks_per_s, 1 / 0.6 - 1e-9);
  ASSERT_DOUBLE_LE(f->ticks_per_s, 1 / 0.6 + 1e-9);
  live_free(l);
  return 0;
}

/* s ranks the callbacks by total time, self time or calls. */
TEST_IMPL(live_sort_callbacks) {
  struct live* l;
  const struct stat_figures* f;
  ASSERT_EQ(live_new(&l, 1000 * MS), 0);
  live_start(l, 0);
  span(l, 10, "tick", "tick", 100, 300);
  span(l, 10, "callback", "long", 110, 200); /* 90 ms, 10 ms self */
  span(l, 10, "callback", "inner", 115, 195);
  span(l, 10, "callback", "short", 210, 211);
  span(l, 10, "callback", "short", 220, 221);
  span(l, 10, "callback", "short", 230, 231);
  ASSERT_EQ(live_close(l, INT64_MAX, STAT_SORT_COUNT, &f), 0);
  ASSERT_STR_EQ(f->callbacks[0].name, "short");
  live_free(l);
  ASSERT_EQ(live_new(&l, 1000 * MS), 0);
  live_start(l, 0);
  span(l, 10, "tick", "tick", 100, 300);
  span(l, 10, "callback", "long", 110, 200);
  span(l, 10, "callback", "inner", 115, 195);
  ASSERT_EQ(live_close(l, INT64_MAX, STAT_SORT_SELF, &f), 0);
  ASSERT_STR_EQ(f->callbacks[0].name, "inner");
  ASSERT_EQ(f->sort, STAT_SORT_SELF);
  live_free(l);
  return 0;
}
