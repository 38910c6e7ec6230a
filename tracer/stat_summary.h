/* stat_summary.h — the summary figures of a trace, computed while it
 * streams by (TRACE-FORMAT.md, "Summary figures").
 *
 *   struct stat_summary* s;
 *   const struct stat_figures* f;
 *   stat_summary_new(&s);
 *   trace_reader_init(&r, stat_summary_event, s);  ... feed, end ...
 *     (or stat_summary_add(s, &event) per event from a live source)
 *   stat_summary_finish(s, &r, &f);
 *   ... stat_report_json(f) / stat_report_text(f, ...) ...
 *   stat_summary_free(s);
 *
 * What grows with the trace: the durations percentiles need (ticks, each
 * phase, task run time and queue wait: 4 or 8 bytes each, stat_values.h),
 * two 8-byte times per threadpool task (peak concurrency), one entry per
 * distinct callback (name, kind) and per thread. Everything else is
 * bounded: open spans per thread (TRACE_MAX_DEPTH), the longest ticks and
 * their callbacks, the phase names (STAT_MAX_PHASES).
 */
#ifndef LOOPTRACE_STAT_SUMMARY_H
#define LOOPTRACE_STAT_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "stat_event.h"
#include "trace_reader.h"

#define STAT_TOP_CALLBACKS 10 /* callbacks listed, most total time first */
#define STAT_LONGEST_TICKS 5  /* ticks listed, most busy first */
#define STAT_TICK_CALLBACKS 5 /* callbacks listed per tick, longest first */
#define STAT_MAX_THREADS 65536
#define STAT_MAX_PHASES 64 /* distinct phase names */
#define STAT_MAX_KINDS 64  /* distinct task labels; more are "other" */
#define STAT_NBUCKETS 11   /* histogram bounds (stat_bucket_le_ns) */

/* The upper bounds (inclusive, ns) of the histogram buckets every
 * duration is counted in: 10 µs, 100 µs, 500 µs, 1 ms, 5 ms, 10 ms,
 * 50 ms, 100 ms, 500 ms, 1 s, 5 s. */
extern const uint64_t stat_bucket_le_ns[STAT_NBUCKETS];

/* Durations counted by bucket, as Prometheus' histograms want them.
 * Like percentiles, only complete spans enter one. */
struct stat_buckets {
  uint64_t n[STAT_NBUCKETS + 1]; /* per bucket, not cumulative; the last
                                    one is past the largest bound */
  uint64_t count;
  uint64_t sum_ns; /* saturating */
};

/* How the callbacks table and the longest ticks are ranked
 * (stat_summary_sort). */
enum stat_sort {
  STAT_SORT_TOTAL, /* callbacks by total time, ticks by busy time */
  STAT_SORT_SELF,  /* callbacks by self time, ticks by busy time */
  STAT_SORT_COUNT, /* callbacks by calls, ticks by busy time */
  STAT_SORT_WALL,  /* callbacks by total time, ticks by wall time */
};

/* Nearest-rank percentiles of a set of durations, in ns. Only complete
 * spans enter one: a span cut by the recording's limits never does. */
struct stat_pcts {
  int ok; /* 0: the set was empty (or all cut), the rest is meaningless */
  uint64_t p50;
  uint64_t p99;
  uint64_t max;
};

struct stat_phase {
  const char* name;
  uint64_t count;
  uint64_t total_ns;
  int has_share; /* share is known (there is tick time) */
  double share;  /* total / Σ tick dur */
  struct stat_pcts dur;
  struct stat_buckets buckets;
};

struct stat_callback {
  const char* name;
  const char* kind; /* NULL when the spans had none */
  uint64_t count;
  uint64_t total_ns;
  uint64_t self_ns; /* total minus the time of the spans nested in them */
};

struct stat_worker {
  const char* name; /* thread_name, or NULL */
  int64_t tid;
  uint64_t tasks;
  uint64_t busy_ns;
  int has_share; /* busy_share is known (recording length is) */
  double busy_share;
};

/* The tasks of one label (the `work` span's name). */
struct stat_task_kind {
  const char* name; /* NULL: the labels past STAT_MAX_KINDS */
  uint64_t tasks;   /* cut ones included */
  struct stat_buckets run;
  struct stat_buckets queue_wait;
};

struct stat_tick_callback {
  const char* name;
  const char* kind; /* or NULL */
  uint64_t dur_ns;
};

/* A tick that blocked the loop. Cut ticks are never listed. */
struct stat_tick {
  int has_number;
  int64_t number; /* args.tick */
  int64_t ts_ns;
  uint64_t dur_ns;  /* wall time */
  uint64_t busy_ns; /* dur minus the wait spans inside: what blocked */
  size_t ncallbacks;
  struct stat_tick_callback callbacks[STAT_TICK_CALLBACKS];
};

/* Spans cut by the recording's limits (args.cut, or the legacy
 * args.incomplete), by kind. They count in counts and sums, never in a
 * percentile nor among the longest ticks. */
struct stat_cut {
  uint64_t ticks;
  uint64_t phases;
  uint64_t callbacks;
  uint64_t tasks; /* work spans */
};

/* Every figure `looptrace stat` shows. A has_* flag at 0 means the figure
 * could not be computed from the file (null in JSON); `missing` says why.
 * Strings belong to the summary and live until stat_summary_free(). */
struct stat_figures {
  /* About the recording, when the file says. */
  const char* process_name;
  const char* command;
  const char* libuv_version;
  int has_threadpool_size;
  int64_t threadpool_size;
  uint64_t events; /* events read */

  int has_recording;
  uint64_t recording_ns;
  int has_utilization;
  double utilization;

  uint64_t ticks; /* 0: no tick spans, the tick figures are null; cut
                     ticks included (cut.ticks of them) */
  int has_ticks_per_s;
  double ticks_per_s;
  struct stat_pcts tick_dur;
  struct stat_buckets tick_buckets;

  size_t nphases; /* in libuv's order */
  const struct stat_phase* phases;

  size_t ncallbacks; /* at most STAT_TOP_CALLBACKS */
  const struct stat_callback* callbacks;
  uint64_t callback_count; /* every callback span, cut ones included */
  enum stat_sort sort;     /* how callbacks and longest are ranked */

  uint64_t tasks; /* 0: no work spans, the threadpool is null */
  struct stat_pcts queue_wait;
  struct stat_pcts run;
  uint64_t peak_concurrency;
  size_t nworkers; /* sorted by thread_sort_index, then first task */
  const struct stat_worker* workers;
  size_t nkinds; /* task labels, most tasks first; the last one may be
                    the "other" labels (name NULL) */
  const struct stat_task_kind* kinds;

  size_t nlongest; /* most busy (or wall, by sort) first, then earliest */
  struct stat_tick longest[STAT_LONGEST_TICKS];

  struct stat_cut cut;

  int has_drops;
  uint64_t drops;

  size_t nwarnings; /* things the reader should know, one line each */
  char** warnings;
  size_t nmissing; /* "figure: why it is null or empty" */
  char** missing;
};

struct stat_summary;

/* Allocates an empty summary into *out. Returns 0 or -ENOMEM. The caller
 * frees it with stat_summary_free(). */
int stat_summary_new(struct stat_summary** out);

/* Adds one event (stat_event.h), from a file or a live source. Returns 0
 * or -ENOMEM (the summary is then unusable but safe to free). Events
 * that do not fit what a figure needs are counted and reported by
 * finish. */
int stat_summary_add(struct stat_summary* s, const struct stat_event* ev);

/* Makes the summary one of a window of time [from_ns, to_ns) of a live
 * trace (tracer/live.h): the recording length is to - from, and the
 * time figures (utilization, phase totals and shares, worker busy time)
 * take of each span only the part inside the window. Counts, durations
 * and rankings still take whole spans: the caller gives each span to the
 * one window that counts it (stat_summary_add) and its parts to the
 * others (stat_summary_add_time). Call before adding spans; the window
 * may be set again later (live.c widens an open-ended one when it
 * closes it). */
void stat_summary_window(struct stat_summary* s, int64_t from_ns,
                         int64_t to_ns);

/* Adds only the time of a span (STAT_EV_SPAN) inside the window: its
 * count, duration and nesting belong to another window's summary.
 * Returns 0 or -ENOMEM. */
int stat_summary_add_time(struct stat_summary* s, const struct stat_event* ev);

/* Ranks the callbacks and the longest ticks by `sort` (default
 * STAT_SORT_TOTAL). Call before finish. */
void stat_summary_sort(struct stat_summary* s, enum stat_sort sort);

/* Adds one event read from JSON; a trace_event_cb, `arg` is the summary.
 * stat_event_from_trace() then stat_summary_add(). */
int stat_summary_event(const struct trace_event* ev, void* arg);

/* Computes the figures once every event was added. `r` is the reader
 * that read them (for its counts and whether the file was cut short); it
 * may be NULL. *out points into the summary and is valid until
 * stat_summary_free(); calling finish again returns the same figures.
 * Returns 0 or -ENOMEM. */
int stat_summary_finish(struct stat_summary* s, const struct trace_reader* r,
                        const struct stat_figures** out);

/* Frees the summary and everything its figures point to. NULL is fine. */
void stat_summary_free(struct stat_summary* s);

#endif /* LOOPTRACE_STAT_SUMMARY_H */
