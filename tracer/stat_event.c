/* stat_event.c — a trace event from JSON as the summary reads it (see
 * stat_event.h). Every decision about what the JSON means for the figures
 * (which cat is which kind, which args count, what marks a span cut) is
 * made here, once. */
#include "stat_event.h"

#include <string.h>

#include "looprt_vocab.h"

/* The cats of TRACE-FORMAT.md, "Spans". */
static const char* const kind_cat[] = {
    [STAT_KIND_TICK] = TRACE_CAT_TICK,
    [STAT_KIND_PHASE] = TRACE_CAT_PHASE,
    [STAT_KIND_WAIT] = TRACE_CAT_WAIT,
    [STAT_KIND_CALLBACK] = TRACE_CAT_CALLBACK,
    [STAT_KIND_SUBMIT] = TRACE_CAT_SUBMIT,
    [STAT_KIND_WORK] = TRACE_CAT_WORK,
};
#define NKINDS (sizeof(kind_cat) / sizeof(kind_cat[0]))

enum stat_kind stat_kind_of_cat(const char* cat) {
  const char* p;
  size_t k;
  for (k = 1; k < NKINDS; k++)
    if (strcmp(cat, kind_cat[k]) == 0)
      return (enum stat_kind) k;
  if (strchr(cat, ',') == NULL)
    return STAT_KIND_OTHER;
  for (p = cat; *p != '\0';) {
    size_t n = strcspn(p, ",");
    for (k = 1; k < NKINDS; k++)
      if (strlen(kind_cat[k]) == n && memcmp(p, kind_cat[k], n) == 0)
        return (enum stat_kind) k;
    p += n;
    if (*p == ',')
      p++;
  }
  return STAT_KIND_OTHER;
}

/* How a span was cut by the recording's limits (TRACE-FORMAT.md,
 * "Spans"), as STAT_CUT_* bits: args.cut names the cut end(s) ("end",
 * "start", "both"); a legacy `"incomplete": true` is a cut end. */
static int span_cut(const struct trace_event* ev) {
  const char* cut;
  int incomplete;
  if (trace_arg_str(ev, TRACE_ARG_CUT, &cut) == 0) {
    if (strcmp(cut, TRACE_CUT_END) == 0)
      return STAT_CUT_END;
    if (strcmp(cut, TRACE_CUT_START) == 0)
      return STAT_CUT_START;
    if (strcmp(cut, TRACE_CUT_BOTH) == 0)
      return STAT_CUT_START | STAT_CUT_END;
  }
  if (trace_arg_bool(ev, TRACE_ARG_INCOMPLETE, &incomplete) == 0 && incomplete)
    return STAT_CUT_END;
  return 0;
}

static void span_args(const struct trace_event* ev, struct stat_span_args* a) {
  const char* kind;
  int64_t qw;
  memset(a, 0, sizeof(*a));
  if (trace_arg_str(ev, TRACE_ARG_KIND, &kind) == 0 && kind[0] != '\0')
    a->cb_kind = kind;
  a->has_tick = trace_arg_int(ev, TRACE_ARG_TICK, &a->tick) == 0;
  if (trace_arg_us(ev, TRACE_ARG_QUEUE_WAIT_US, &qw) == 0 && qw >= 0) {
    a->has_queue_wait = 1;
    a->queue_wait_ns = qw;
  }
  a->cut = span_cut(ev);
}

static void facts(const struct trace_event* ev, struct stat_facts* f) {
  int64_t v;
  if (trace_arg_us(ev, TRACE_META_DURATION_US, &v) == 0 && v >= 0) {
    f->has_duration = 1;
    f->duration_ns = v;
  }
  if (trace_arg_int(ev, TRACE_META_DROPS, &v) == 0 && v >= 0) {
    f->has_drops = 1;
    f->drops = v;
  }
  if (trace_arg_int(ev, TRACE_META_THREADPOOL_SIZE, &v) == 0) {
    f->has_threadpool_size = 1;
    f->threadpool_size = v;
  }
  if (trace_arg_str(ev, TRACE_META_LIBUV_VERSION, &f->libuv_version) != 0)
    f->libuv_version = NULL;
  if (trace_arg_str(ev, TRACE_META_COMMAND, &f->command) != 0)
    f->command = NULL;
}

/* Metadata (ph M): the names and facts the summary shows. */
static void metadata(const struct trace_event* ev, struct stat_event* out) {
  if (strcmp(ev->name, TRACE_META_EVENT) == 0) {
    out->type = STAT_EV_FACTS;
    facts(ev, &out->facts);
  } else if (strcmp(ev->name, TRACE_CHROME_PROCESS_NAME) == 0) {
    if (trace_arg_str(ev, "name", &out->name) == 0)
      out->type = STAT_EV_PROCESS_NAME;
  } else if (strcmp(ev->name, TRACE_CHROME_THREAD_NAME) == 0) {
    if (trace_arg_str(ev, "name", &out->name) == 0)
      out->type = STAT_EV_THREAD_NAME;
  } else if (strcmp(ev->name, TRACE_CHROME_THREAD_SORT_INDEX) == 0) {
    if (trace_arg_int(ev, "sort_index", &out->value) == 0)
      out->type = STAT_EV_THREAD_SORT;
  }
}

/* Our instants: records lost (`dropped`) and a flight recorder's
 * `trigger`. */
static void instant(const struct trace_event* ev, struct stat_event* out) {
  int64_t v;
  if (strstr(ev->cat, TRACE_INSTANT_CAT) == NULL)
    return;
  if (strcmp(ev->name, TRACE_INSTANT_DROPPED) == 0 &&
      trace_arg_int(ev, TRACE_ARG_RECORDS, &out->value) == 0 &&
      out->value >= 0) {
    out->type = STAT_EV_DROPPED;
    if (trace_arg_str(ev, TRACE_ARG_REASON, &out->reason) != 0)
      out->reason = NULL;
  } else if (strcmp(ev->name, TRACE_INSTANT_TRIGGER) == 0 &&
             trace_arg_str(ev, TRACE_ARG_TRIGGER, &out->trigger.trigger) == 0) {
    out->type = STAT_EV_TRIGGER;
    if (trace_arg_us(ev, TRACE_ARG_VALUE_US, &v) == 0) {
      out->trigger.has_value = 1;
      out->trigger.value_ns = v;
    }
  }
}

/* The threadpool's counters. */
static void counter(const struct trace_event* ev, struct stat_event* out) {
  int64_t queued;
  int64_t running;
  if (strcmp(ev->name, TRACE_COUNTER_THREADPOOL) == 0 &&
      trace_arg_int(ev, TRACE_COUNTER_QUEUED, &queued) == 0 && queued >= 0 &&
      trace_arg_int(ev, TRACE_COUNTER_RUNNING, &running) == 0 && running >= 0) {
    out->type = STAT_EV_COUNTER;
    out->counter.queued = (uint64_t) queued;
    out->counter.running = (uint64_t) running;
  }
}

void stat_event_from_trace(const struct trace_event* ev,
                           struct stat_event* out) {
  memset(out, 0, sizeof(*out));
  out->pid = ev->pid;
  out->tid = ev->tid;
  out->has_ts = (ev->has & TRACE_HAS_TS) != 0;
  out->has_dur = (ev->has & TRACE_HAS_DUR) != 0;
  out->ts_ns = ev->ts_ns;
  out->dur_ns = ev->dur_ns;
  out->name = ev->name;
  out->cat = ev->cat;
  switch (ev->ph) {
  case 'X':
  case 'B':
  case 'E':
    out->type = ev->ph == 'X'   ? STAT_EV_SPAN
                : ev->ph == 'B' ? STAT_EV_BEGIN
                                : STAT_EV_END;
    out->kind = stat_kind_of_cat(ev->cat);
    out->has_args = ev->args != NULL;
    span_args(ev, &out->args);
    break;
  case 'M':
    metadata(ev, out);
    break;
  case 'i':
  case 'I':
    instant(ev, out);
    break;
  case 'C':
    counter(ev, out);
    break;
  }
}
