/* export.h — turns looprt records into the trace file.
 *
 * The exporter reads the record stream of runtime/include/looprt_trace.h
 * and writes Chrome Trace Event JSON exactly as tracer/TRACE-FORMAT.md
 * describes, as the records come:
 *
 *   struct exporter* ex;
 *   export_new(&ex, &opts);                    header written
 *   export_records(ex, batch, n); ...           as batches arrive
 *   export_advance(ex, now_ns); ...             now and then
 *   export_finish(ex, end_ns, "signal");        open spans, facts, "]"
 *   export_free(ex);
 *
 * Batches of one thread arrive in order, batches of different threads in
 * any order. The exporter queues records per thread and handles them in
 * timestamp order across threads once they are `window_ns` old (so a
 * task's submit is seen before its start on a worker, and counters move
 * in time order); a loop thread's spans are then held for one tick and
 * written parent before child in (ts, -dur) order.
 *
 * Memory is bounded whatever the target sends and however long the
 * recording, by the limits below: at most EXPORT_QUEUE_MAX records wait
 * to be ordered (past that the oldest are handled at once, window or
 * not), at most EXPORT_SPANS_MAX spans of unfinished ticks are held (past
 * that the largest tick is written, cut, and goes on as a new span cut
 * at its start), at most EXPORT_THREADS_MAX threads are known at once
 * (records of more are dropped and counted; a thread that holds nothing
 * and said nothing for EXPORT_IDLE_NS is forgotten), at most
 * EXPORT_TASKS_MAX tasks in flight are followed (flows of more are not
 * drawn), and labels are at most 65535 of at most 127 bytes. That is at
 * most about 3 MB of records, 7 MB of spans, 2 MB of threads (each with
 * a few buffers of its own while it is busy), 3 MB of tasks and 56 MB of
 * labels in the worst case (a few KB in practice), plus the JSON
 * writer's buffer: under 75 MB, besides the ring buffer (record.c,
 * --ring-size, 16 MB by default).
 */
#ifndef LOOPTRACE_EXPORT_H
#define LOOPTRACE_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "looprt_trace.h"

/* How long records wait to be ordered across threads by default. The
 * runtime flushes a thread's records at most ~20 ms after writing them. */
#define EXPORT_WINDOW_NS (100 * 1000 * 1000ull)

/* Records stamped later than this past the moment they are received
 * (CLOCK_MONOTONIC, the records' clock) or before opts->start_ns are
 * refused (counted as invalid). */
#define EXPORT_FUTURE_NS (50 * 1000 * 1000ull)

/* The bounds on what the exporter holds (see above). */
#define EXPORT_QUEUE_MAX (64 * 1024)
#define EXPORT_SPANS_MAX (128 * 1024)
#define EXPORT_THREADS_MAX 4096
#define EXPORT_TASKS_MAX (64 * 1024)
#define EXPORT_IDLE_NS (2000 * 1000 * 1000ull)

/* How much longer a record naming a label not announced yet waits for
 * it; after that the label is written as "label N". */
#define EXPORT_LABEL_WAIT_NS (1000 * 1000 * 1000ull)

struct stat_event;

/* Receives each trace event as the span model emits it (the events the
 * trace file holds, in its order: tracer/stat_event.h); `ev` and its
 * strings are valid during the call only. */
typedef void (*export_event_cb)(const struct stat_event* ev, void* arg);

struct export_opts {
  int fd;                       /* the trace file, open for writing; -1
                                   for none (events go to on_event only) */
  pid_t pid;                    /* the traced process */
  const char* process_name;     /* its name (comm) */
  const char* command;          /* its command line, or NULL */
  uint64_t start_ns;            /* CLOCK_MONOTONIC ns that is ts 0 */
  uint64_t window_ns;           /* see above; 0 handles records at once */
  int all_phases;               /* keep empty sub-microsecond phases */
  int gzip;                     /* write gzip (json_writer.h), not plain JSON */
  const char* source;           /* "looprt" (NULL) or "libuv" */
  const char* const* fallbacks; /* what could not be seen; NULL-ended */
  const char* libuv_version;    /* as the source knows it, or NULL (the
                                   loop's record says it): span_model.h */
  export_event_cb on_event;     /* a tap on the events, or NULL */
  void* on_event_arg;
};

struct export_stats {
  uint64_t records;       /* records received from the runtime */
  uint64_t events;        /* trace events emitted (written, with a file) */
  uint64_t bytes;         /* bytes of JSON produced */
  uint64_t drops;         /* records lost: ring buffer + runtime */
  uint64_t invalid;       /* records ignored as malformed or stamped
                             outside the recording */
  uint64_t memory;        /* bytes the exporter holds in buffers */
  unsigned trace_version; /* set when export_records() refused one */
};

struct exporter;

/* Creates an exporter and writes the head of the file (the `[`, the
 * process name and the first facts). Returns 0 and sets *out, or a
 * negative errno (nothing to free then). The exporter does not own
 * opts->fd; the strings are read during this call only. */
int export_new(struct exporter** out, const struct export_opts* opts);

/* Takes `n` records of one batch. Returns 0; -EPROTONOSUPPORT when a loop
 * reports a trace format this looptrace does not read (the version is in
 * export_stats().trace_version; the recording should stop); or the
 * writer's negative errno once a write failed. */
int export_records(struct exporter* ex, const struct lrt_record* records,
                   size_t n);

/* Writes what the records received so far allow, up to the records
 * older than now_ns - window_ns. Returns 0 or the writer's negative
 * errno. */
int export_advance(struct exporter* ex, uint64_t now_ns);

/* Notes `count` records lost outside the runtime (the ring buffer was
 * full), noticed at `ts_ns`: written as a `dropped` instant. */
void export_dropped(struct exporter* ex, uint64_t ts_ns, uint64_t count);

/* Notes `count` records that were still in the ring buffer, unread, when
 * the recording stopped at `ts_ns`: a `dropped` instant whose reason is
 * "left in the ring at stop". */
void export_dropped_left(struct exporter* ex, uint64_t ts_ns, uint64_t count);

/* Notes how the traced process ended ("exited with status 3", "killed by
 * SIGABRT"), written as `target_exit` in the final facts. The text is
 * copied (at most 63 bytes). */
void export_target_exit(struct exporter* ex, const char* text);

/* Writes buffered JSON to the file. Returns 0 or a negative errno. */
int export_flush(struct exporter* ex);

/* Ends the file: handles every queued record, writes the spans still
 * open as ending at the last moment observed, marked "cut":"end", the
 * final facts (`duration_us` up to that moment; `end_reason` is
 * "duration", "signal" or "target-exited"), and `]`, then flushes. The
 * last moment observed is the last one the records received show, or
 * `end_ns` if later: pass 0 unless the caller itself knows the target
 * was observed until then (a flight recorder's window end), never the
 * time the recording stopped. Returns 0 or a negative errno. Call once. */
int export_finish(struct exporter* ex, uint64_t end_ns, const char* end_reason);

/* A flight recorder's dump (tracer/flight.h): what fired it and the
 * window of time the file holds. */
struct export_trigger {
  const char* trigger; /* as the user wrote it: "tick>50ms", "SIGUSR1" */
  uint64_t ts_ns;      /* when it fired */
  uint64_t value_ns;   /* what was measured (has_value) */
  int has_value;
  unsigned dump;            /* 1 for the first dump of a recording, ...;
                               0 for a further trigger in the same dump */
  uint64_t window_start_ns; /* the first moment the window holds */
  uint64_t window_end_ns;   /* its last */
  double seconds;           /* the window asked for before the trigger */
  double after;             /* and after it */
  const char* window_cut;   /* why it starts later than `seconds` before
                               the trigger, or NULL */
};

/* Writes the trigger instant and, unless t->dump is 0, the dump's facts
 * (a `looptrace` metadata event: the window fields are read then only). */
void export_trigger(struct exporter* ex, const struct export_trigger* t);

void export_stats(const struct exporter* ex, struct export_stats* stats);

/* Frees the exporter; NULL is fine. Does not close the file. */
void export_free(struct exporter* ex);

#endif /* LOOPTRACE_EXPORT_H */
