/* stat_event.h — one event as the summary of `looptrace stat` reads it.
 *
 * stat_summary_add() takes these, not JSON: a trace file's events are
 * turned into them by stat_event_from_trace() (the reader's callback,
 * stat_summary_event(), does it), and a live source (the tracer's own
 * model, spans as they open and close) can fill them directly and get the
 * same figures from the same arithmetic. Only what a figure needs is
 * here; strings are borrowed for the duration of the call.
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
  STAT_EV_DROPPED,      /* value: records lost */
};

/* What the figures read of a span's args. */
struct stat_span_args {
  const char* cb_kind; /* a callback's kind, or NULL */
  int has_tick;
  int64_t tick; /* the tick's number */
  int has_queue_wait;
  int64_t queue_wait_ns; /* a work span's queue wait, >= 0 */
  int cut;               /* cut by the recording's limits: never complete */
};

/* Facts about the recording (the `looptrace` metadata). */
struct stat_facts {
  int has_duration;
  int64_t duration_ns; /* >= 0 */
  int has_drops;
  int64_t drops; /* >= 0 */
  int has_threadpool_size;
  int64_t threadpool_size;
  const char* libuv_version; /* or NULL */
  const char* command;       /* or NULL */
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
  const char* cat;     /* spans: the cat list; never NULL */
  enum stat_kind kind; /* spans: from cat */
  int has_args;        /* BEGIN/END: args were given (an END's replace its
                          BEGIN's) */
  struct stat_span_args args;
  struct stat_facts facts; /* STAT_EV_FACTS */
  int64_t value;           /* STAT_EV_THREAD_SORT, STAT_EV_DROPPED */
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
