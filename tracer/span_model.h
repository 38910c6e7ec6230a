/* span_model.h — what the ordered records mean: ticks, phases, callbacks,
 * threadpool tasks and their flows, counters, cut spans and drops.
 *
 * The third stage of the tracer's pipeline (tracer/README.md). It takes
 * the records of runtime/include/looprt_trace.h in time order (from
 * tracer/ordering.h) and emits each trace event once it is final, as a
 * struct stat_event (tracer/stat_event.h), to the `emit` function it was
 * given: it knows nothing of JSON or files, and what it emits never
 * changes after.
 *
 * A loop thread's spans are collected in a "group" (one tick, or one
 * top-level callback outside ticks) with a stack of open spans; when the
 * group's outermost span closes, it is sorted by (ts, -dur, depth) and
 * emitted parent before child, each span clamped into its parent so that
 * nesting is exact (and its printed duration shortened by a nanosecond
 * or two where a consumer adding ts and dur in floating point would see
 * it overlap: see printed_dur()). Worker spans, counters and instants are
 * emitted as they happen. Thread names and sort indexes are emitted the
 * first time a thread shows its role.
 *
 * Bounds (export.h): at most EXPORT_SPANS_MAX spans are held (past that
 * the largest group is emitted cut), EXPORT_THREADS_MAX threads known at
 * once, EXPORT_TASKS_MAX tasks in flight followed.
 */
#ifndef LOOPTRACE_SPAN_MODEL_H
#define LOOPTRACE_SPAN_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "labels.h"
#include "looprt_trace.h"
#include "stat_event.h"

/* Why records were lost, as the `dropped` instant says it
 * (TRACE_DROP_MAP): the reasons of LRT_REC_LOST's kind, then the
 * tracer's own. */
enum drop_reason {
#define XX(name, text) DROP_##name,
  TRACE_DROP_MAP(XX)
#undef XX
      DROP_REASONS
};
_Static_assert((int) DROP_RUNTIME_FULL == (int) LRT_LOST_FULL &&
                   (int) DROP_AT_EXIT == (int) LRT_LOST_AT_EXIT,
               "LRT_REC_LOST's kinds are the first drop reasons");

/* Receives each event the model emits; `ev` and its strings are valid
 * during the call only. */
typedef void (*span_model_emit_cb)(const struct stat_event* ev, void* arg);

struct span_model_opts {
  pid_t pid;                   /* the traced process */
  uint64_t start_ns;           /* CLOCK_MONOTONIC ns that is ts 0 */
  int all_phases;              /* keep empty sub-microsecond phases */
  const struct labels* labels; /* names of callbacks and tasks */
  const char* libuv_version;   /* the libuv version as the source knows it
                                  ("1.44 (guessed)"; copied), or NULL: the
                                  loop's record gives it */
  span_model_emit_cb emit;
  void* emit_arg;
  int* error; /* also set to span_model_error() when not NULL */
};

struct span_model_stats {
  uint64_t invalid; /* records ignored as malformed or out of place */
  uint64_t drops;   /* records lost, as LRT_REC_LOST records said */
  uint64_t memory;  /* bytes held */
};

struct span_model;
struct span_thread; /* a thread the model knows */

/* Creates an empty model. Returns 0 and sets *out, or -ENOMEM. The
 * labels are borrowed for the model's life. Emits nothing yet. */
int span_model_new(struct span_model** out, const struct span_model_opts* opts);

/* Makes thread `tid` known as one of its records is queued to be
 * ordered, and keeps it known (*thread stays valid) until
 * span_model_record() has that record. Returns 0 and sets *thread,
 * -ENOSPC when EXPORT_THREADS_MAX threads are known already (the record
 * should be dropped: span_model_dropped(DROP_TOO_MANY_THREADS)), or
 * -ENOMEM. */
int span_model_admit(struct span_model* m, uint32_t tid,
                     struct span_thread** thread);

/* As span_model_admit() for `n` more records of `thread` (given by it,
 * and kept known since: its records are still coming). */
void span_model_admit_more(struct span_model* m, struct span_thread* thread,
                           size_t n);

/* Takes the next record in time order (never LRT_REC_LABEL; admitted by
 * span_model_admit(), which gave `thread` for r->tid: the thread is
 * looked up once a record) and emits what it completes. */
void span_model_record(struct span_model* m, struct span_thread* thread,
                       const struct lrt_record* r);

/* Emits a `dropped` instant: `count` records lost at `ts_ns` for `reason`
 * (enum drop_reason, or DROP_REASONS for none said). */
void span_model_dropped(struct span_model* m, uint64_t ts_ns, uint64_t count,
                        unsigned reason);

/* Forgets the threads that hold nothing, have no record coming and said
 * nothing since `cutoff` (a thread seen again keeps its name). */
void span_model_sweep(struct span_model* m, uint64_t cutoff);

/* Emits every span still open as ending at `end_ns`, cut at its end. */
void span_model_finish(struct span_model* m, uint64_t end_ns);

/* 0, or -ENOMEM once memory ran out (events were lost then). */
int span_model_error(const struct span_model* m);

void span_model_stats(const struct span_model* m, struct span_model_stats* st);

/* Frees the model; NULL is fine. */
void span_model_free(struct span_model* m);

#endif /* LOOPTRACE_SPAN_MODEL_H */
