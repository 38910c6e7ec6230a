/* stat_event.h — one trace event as C values: what the span model emits
 * (tracer/span_model.h), what the Chrome-trace writer prints
 * (tracer/trace_json.h) and what stat's summary reads.
 *
 * The tracer's pipeline hands these on: the span model emits each span,
 * instant, counter and metadata event as a struct stat_event; the JSON
 * writer turns it into one JSON object; stat_event_from_trace() turns
 * that object, read back by trace_reader, into the same values again
 * (what the summary reads of it), so stat_summary_add() gets the same
 * figures from a trace file or live from the model (export_opts.on_event)
 * with no JSON between. Times are ns since the recording's start, as the
 * file has them. Strings are borrowed for the duration of the call.
 */
#ifndef LOOPTRACE_STAT_EVENT_H
#define LOOPTRACE_STAT_EVENT_H

#include <stdint.h>

#include "trace_reader.h"

/* What a span is, from its cat (TRACE-FORMAT.md, "Spans"). */
enum stat_kind {
  STAT_KIND_OTHER,
  STAT_KIND_TICK,
  STAT_KIND_PHASE,
  STAT_KIND_WAIT,
  STAT_KIND_CALLBACK,
  STAT_KIND_SUBMIT,
  STAT_KIND_WORK,
};

enum stat_event_type {
  STAT_EV_NONE,         /* nothing the summary reads */
  STAT_EV_SPAN,         /* a complete span (Chrome's X): ts and dur */
  STAT_EV_BEGIN,        /* a span opens on its thread (B): ts */
  STAT_EV_END,          /* the innermost open span matching name and cat
                           ("" matches any) ends (E): ts */
  STAT_EV_PROCESS_NAME, /* name: the process's (the first one counts) */
  STAT_EV_THREAD_NAME,  /* name: thread (pid, tid)'s */
  STAT_EV_THREAD_SORT,  /* value: thread (pid, tid)'s sort index */
  STAT_EV_FACTS,        /* facts about the recording; later ones win */
  STAT_EV_DROPPED,      /* value: records lost; reason, or NULL */
  STAT_EV_COUNTER,      /* counter: the threadpool's (Chrome's C) */
  STAT_EV_TRIGGER,      /* trigger: a flight recorder fired (instant) */
};

/* A span's cut ends (args.cut): 0 when both were seen. */
#define STAT_CUT_START 1 /* it began before it could be seen */
#define STAT_CUT_END 2   /* it had not ended when it could no longer be */

/* What the figures read of a span's args. */
struct stat_span_args {
  const char* cb_kind; /* a callback's kind, or NULL */
  int has_tick;
  int64_t tick; /* the tick's number */
  int has_queue_wait;
  int64_t queue_wait_ns; /* a work span's queue wait, >= 0 */
  int cut;               /* STAT_CUT_* bits: cut by the recording's limits
                            (never complete) when not 0 */
  int after_poll;        /* a pending phase after poll */
  int has_task;
  uint64_t task;       /* the threadpool task (submit, work, completion) */
  const char* label;   /* submit and work spans: the task's label, or NULL */
  uint64_t label_id;   /* nonzero: label is this text whenever this id
                          comes again (a writer may cache its escaping) */
  uint64_t cb_kind_id; /* nonzero: cb_kind is this text whenever this id
                          comes again */
};

/* The threadpool's counters. */
struct stat_counter {
  uint64_t queued;
  uint64_t running;
};

/* What fired a flight recorder's dump. */
struct stat_trigger {
  const char* trigger; /* as the user wrote it */
  int has_value;
  int64_t value_ns; /* what was measured */
};

/* Facts about the recording (the `looptrace` metadata): each one is
 * there when its has_ flag is set or its string is not NULL. A writer
 * prints them in this order. */
struct stat_facts {
  /* Of the recording, at its start. */
  const char* looptrace_version;
  int has_trace_format; /* the file format's version goes here (the
                           writer's own: trace_json.c) */
  const char* clock;
  int has_clock_offset;
  uint64_t clock_offset_ns;
  const char* command;
  const char* source;
  const char* const* fallbacks; /* NULL-ended */
  /* Of a loop, when it starts. */
  const char* libuv_version;
  int has_threadpool_size;
  int64_t threadpool_size;
  const char* timestamps;
  /* Of a flight recorder's dump. */
  unsigned flight_dump; /* 0: none */
  const char* flight_trigger;
  int64_t flight_trigger_ns;
  int64_t flight_window_start_ns;
  int64_t flight_window_end_ns;
  double flight_seconds;
  double flight_after;
  const char* flight_window_cut;
  /* At the end. */
  int has_duration;
  int64_t duration_ns; /* >= 0 */
  int has_records;
  int64_t records;
  int has_drops;
  int64_t drops; /* >= 0 */
  const char* end_reason;
  const char* target_exit;
};

struct stat_event {
  enum stat_event_type type;
  int64_t pid;
  int64_t tid;
  int has_ts;
  int has_dur; /* STAT_EV_SPAN */
  int64_t ts_ns;
  int64_t dur_ns;      /* >= 0 */
  const char* name;    /* never NULL ("" when none) */
  uint64_t name_id;    /* nonzero: name is this text whenever this id
                          comes again (labels; a writer may cache) */
  const char* cat;     /* spans: the cat list; never NULL */
  uint64_t cat_id;     /* nonzero: cat is this text whenever this id
                          comes again */
  enum stat_kind kind; /* spans: from cat */
  int has_args;        /* BEGIN/END: args were given (an END's replace its
                          BEGIN's) */
  struct stat_span_args args;
  uint64_t bind_id; /* spans: the flow's id (a task's), 0 when none */
  int flow_in;      /* a flow ends here */
  int flow_out;     /* a flow starts (or goes on) from here */
  struct stat_counter counter; /* STAT_EV_COUNTER */
  /* Spans and counters set none of what follows (span_model.c keeps
   * one event of each kind and clears only what it may set). */
  struct stat_facts facts;     /* STAT_EV_FACTS */
  int64_t value;               /* STAT_EV_THREAD_SORT, STAT_EV_DROPPED */
  const char* reason;          /* STAT_EV_DROPPED: why, or NULL */
  struct stat_trigger trigger; /* STAT_EV_TRIGGER */
};

/* Our kind of span from a cat list (comma-separated: the first of our
 * cats in it counts). */
enum stat_kind stat_kind_of_cat(const char* cat);

/* Fills *out from a trace event read from JSON; out->type is
 * STAT_EV_NONE for events the summary does not read. Strings point into
 * ev (valid during the reader's callback). */
void stat_event_from_trace(const struct trace_event* ev,
                           struct stat_event* out);

#endif /* LOOPTRACE_STAT_EVENT_H */
