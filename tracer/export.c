/* export.c — the tracer's pipeline put together: records in, trace
 * events out (tracer/README.md has the picture).
 *
 *   export_records()   source records: labels (labels.h) at once, the
 *                      rest checked and queued in the ordering
 *   export_advance()   ordering.h gives them back in time order up to
 *                      now - window, to the span model (span_model.h)
 *   the model emits    each event to on_event() here, which hands it to
 *                      the JSON writer (trace_json.h) and the caller's
 *                      tap (export_opts.on_event)
 *
 * This file drives the stages one after the other, like uv_run drives
 * libuv's phases: no stage calls back into one before it. It also owns
 * what belongs to the recording as a whole: the facts at its start and
 * end, the records the tracer itself dropped, the bounds on what waits.
 */
#include "export.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "labels.h"
#include "looprt_vocab.h"
#include "looptrace_version.h"
#include "ordering.h"
#include "span_model.h"
#include "trace_json.h"

struct exporter {
  struct export_opts opts;
  int finished;
  int fatal;            /* stop handling records: see export_records */
  int error;            /* the first negative errno of ingest or the
                           span model */
  char target_exit[64]; /* how the process ended, "" when not known */
  struct labels labels;
  struct ordering ordering;
  struct span_model* model;
  struct trace_json json;
  int has_json;        /* opts.fd >= 0 */
  uint64_t next_sweep; /* when idle threads are looked for next */
  uint64_t seen_ts;    /* the last moment a record received shows */
  uint64_t events;     /* events emitted */
  /* Records the tracer itself dropped, not emitted yet: by reason. */
  uint64_t pending_drops[DROP_REASONS];
  uint64_t pending_drop_ts;
  struct export_stats stats; /* records, own drops and invalid */
  /* The thread whose records are being queued, within one call of
   * export_records(): admitted to the model once, then counted in one
   * go (run_end()). */
  struct {
    struct span_thread* thread; /* NULL: none */
    uint32_t tid;
    size_t uncounted; /* records queued after the first */
  } run;
};

static uint64_t max_u64(uint64_t a, uint64_t b) {
  return a > b ? a : b;
}

static uint64_t min_u64(uint64_t a, uint64_t b) {
  return a < b ? a : b;
}

/* ns since the start of the recording. */
static uint64_t rel(const struct exporter* ex, uint64_t ts) {
  return ts > ex->opts.start_ns ? ts - ex->opts.start_ns : 0;
}

/* The first error of any stage, or 0 (the model's is in ex->error). A
 * loop over records checks ex->error only, and this once a batch: the
 * writer does nothing after a failed write. */
static int pipeline_error(const struct exporter* ex) {
  if (ex->error != 0)
    return ex->error;
  return ex->has_json ? trace_json_error(&ex->json) : 0;
}

/* Where every event goes when there is no tap: the writer. */
static void on_event_json(const struct stat_event* ev, void* arg) {
  struct exporter* ex = arg;
  ex->events++;
  trace_json_write(&ex->json, ev);
}

/* Where every event goes: the writer, then the caller's tap. */
static void on_event(const struct stat_event* ev, void* arg) {
  struct exporter* ex = arg;
  ex->events++;
  if (ex->has_json)
    trace_json_write(&ex->json, ev);
  if (ex->opts.on_event != NULL)
    ex->opts.on_event(ev, ex->opts.on_event_arg);
}

/* An event of the process as a whole. */
static void process_event(const struct exporter* ex, struct stat_event* ev,
                          enum stat_event_type type, const char* name) {
  memset(ev, 0, sizeof(*ev));
  ev->type = type;
  ev->pid = ex->opts.pid;
  ev->tid = ex->opts.pid;
  ev->name = name;
  ev->cat = "";
}

/* ------------------------------------------------------------------------
 * The recording's facts
 */

/* The process name and the facts known at the start. */
static void emit_head(struct exporter* ex) {
  const struct export_opts* o = &ex->opts;
  struct stat_event ev;
  process_event(ex, &ev, STAT_EV_PROCESS_NAME,
                o->process_name != NULL ? o->process_name : "");
  on_event(&ev, ex);
  process_event(ex, &ev, STAT_EV_FACTS, TRACE_META_EVENT);
  ev.facts.looptrace_version = LOOPTRACE_VERSION;
  ev.facts.has_trace_format = 1;
  ev.facts.clock = "CLOCK_MONOTONIC";
  ev.facts.has_clock_offset = 1;
  ev.facts.clock_offset_ns = o->start_ns;
  ev.facts.command = o->command;
  ev.facts.source = o->source != NULL ? o->source : TRACE_SOURCE_LOOPRT;
  ev.facts.fallbacks = o->fallbacks;
  on_event(&ev, ex);
}

/* The facts known at the end. */
static void emit_tail(struct exporter* ex, uint64_t end_ns,
                      const char* end_reason) {
  struct export_stats st;
  struct stat_event ev;
  export_stats(ex, &st);
  process_event(ex, &ev, STAT_EV_FACTS, TRACE_META_EVENT);
  ev.facts.has_duration = 1;
  ev.facts.duration_ns = (int64_t) (end_ns - ex->opts.start_ns);
  ev.facts.has_records = 1;
  ev.facts.records = (int64_t) st.records;
  ev.facts.has_drops = 1;
  ev.facts.drops = (int64_t) st.drops;
  ev.facts.end_reason = end_reason;
  if (ex->target_exit[0] != '\0')
    ev.facts.target_exit = ex->target_exit;
  on_event(&ev, ex);
}

/* ------------------------------------------------------------------------
 * Sources: checking and queueing the records received
 */

/* CLOCK_MONOTONIC now, the clock of the records. */
static uint64_t mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

/* The last moment record `r` shows: its ts, or for a wait or a submit
 * (reported once over) the end of what it measured. */
static uint64_t observed_at(const struct lrt_record* r) {
  if (r->type != LRT_REC_WAIT && r->type != LRT_REC_WORK_SUBMIT)
    return r->ts;
  return r->arg > UINT64_MAX - r->ts ? UINT64_MAX : r->ts + r->arg;
}

/* Whether record `r` lies in the recording: not before its start, nor
 * later than `limit` (now, and a little). Records are stamped with this
 * machine's CLOCK_MONOTONIC: anything else is forged or corrupt, and
 * would stall its thread's queue or stretch the recording. */
static int in_recording(const struct exporter* ex, const struct lrt_record* r,
                        uint64_t limit) {
  uint64_t last = observed_at(r);
  if (last < ex->opts.start_ns ||
      (r->type != LRT_REC_WAIT && r->ts < ex->opts.start_ns))
    return 0;
  return last <= limit;
}

/* Counts a record the tracer itself dropped (emitted with the next
 * export_advance()). */
static void drop_own(struct exporter* ex, uint64_t ts, unsigned reason) {
  ex->stats.drops++;
  ex->pending_drops[reason]++;
  ex->pending_drop_ts = max_u64(ex->pending_drop_ts, ts);
}

/* Emits the `dropped` instants of the records the tracer dropped. */
static void emit_own_drops(struct exporter* ex) {
  unsigned i;
  for (i = 0; i < DROP_REASONS; i++) {
    if (ex->pending_drops[i] == 0)
      continue;
    span_model_dropped(ex->model, ex->pending_drop_ts, ex->pending_drops[i], i);
    ex->pending_drops[i] = 0;
  }
}

/* Whether record `r` names a label not announced yet, that may still
 * come: the runtime announces labels before their first use, but when a
 * tracer attaches, its first announcement can fire before the probe is in
 * place (the kernel raises the semaphore first), and the runtime
 * announces the whole table once more one flush interval later, after
 * records that use them. */
static int label_pending(const struct exporter* ex,
                         const struct lrt_record* r) {
  if (r->label == 0)
    return 0;
  if (r->type != LRT_REC_CALLBACK_BEGIN && r->type != LRT_REC_WORK_SUBMIT &&
      r->type != LRT_REC_WORK_START)
    return 0;
  return labels_text(&ex->labels, r->label, NULL) == NULL;
}

/* Hands queued records to the model (at most `max`), oldest first across
 * threads, while the oldest is older than `limit`; one naming a label not
 * known yet waits up to EXPORT_LABEL_WAIT_NS more for it (and everything
 * after it waits too: the order is global). */
static void handle_until(struct exporter* ex, uint64_t limit, size_t max) {
  const struct queued* run;
  void* thread;
  size_t n;
  size_t i;
  if (pipeline_error(ex) != 0)
    return;
  while (max > 0 && !ex->fatal && ex->error == 0 &&
         (run = ordering_run(&ex->ordering, limit, max, &n, &thread)) != NULL) {
    for (i = 0; i < n && ex->error == 0; i++) {
      const struct lrt_record* r = &run[i].r;
      if (limit != UINT64_MAX && label_pending(ex, r) &&
          r->ts + EXPORT_LABEL_WAIT_NS >= limit)
        break;
      span_model_record(ex->model, thread, r);
    }
    if (i > 0)
      ordering_take(&ex->ordering, i);
    if (i < n)
      return;
    max -= n;
  }
}

/* Tells the model of the records of the run not counted yet, and ends
 * it: before the model handles records, and before the call returns. */
static void run_end(struct exporter* ex) {
  if (ex->run.uncounted > 0)
    span_model_admit_more(ex->model, ex->run.thread, ex->run.uncounted);
  ex->run.uncounted = 0;
  ex->run.thread = NULL;
}

/* The model's thread of record `r`: looked up once for a run of records
 * of one thread. Returns 0, or span_model_admit()'s error. */
static int admit(struct exporter* ex, const struct lrt_record* r) {
  struct span_thread* thread;
  int rc;
  if (ex->run.thread != NULL && ex->run.tid == r->tid) {
    ex->run.uncounted++;
    return 0;
  }
  run_end(ex);
  rc = span_model_admit(ex->model, r->tid, &thread);
  if (rc == 0) {
    ex->run.thread = thread;
    ex->run.tid = r->tid;
  }
  return rc;
}

/* Takes one record (not a label). Returns 0, or -EPROTONOSUPPORT for a
 * loop of a trace format this looptrace does not read. */
static int ingest(struct exporter* ex, const struct lrt_record* r,
                  uint64_t limit) {
  int rc;
  if (r->type == LRT_REC_LOOP_START &&
      !LRT_TRACE_VERSION_KNOWN(LRT_LOOP_INFO_TRACE_VERSION(r->arg))) {
    ex->stats.trace_version = LRT_LOOP_INFO_TRACE_VERSION(r->arg);
    ex->fatal = 1;
    return -EPROTONOSUPPORT;
  }
  if (r->tid == 0 || r->type == 0 || r->type >= LRT_REC_TYPE_MAX ||
      !in_recording(ex, r, limit)) {
    ex->stats.invalid++;
    return 0;
  }
  ex->seen_ts = max_u64(ex->seen_ts, observed_at(r));
  rc = admit(ex, r);
  if (rc == -ENOSPC) {
    drop_own(ex, r->ts, DROP_TOO_MANY_THREADS);
    return 0;
  }
  if (rc == 0)
    rc = ordering_push(&ex->ordering, r, ex->run.thread);
  if (rc != 0) {
    ex->error = rc;
    return 0;
  }
  /* Over the bound, the oldest records are handled now, whatever the
   * window: the order across threads may suffer, memory does not. */
  if (ex->ordering.len > EXPORT_QUEUE_MAX) {
    run_end(ex);
    handle_until(ex, UINT64_MAX, EXPORT_QUEUE_MAX / 8);
  }
  return 0;
}

/* ------------------------------------------------------------------------
 * The API
 */

static int make_stages(struct exporter* ex) {
  struct span_model_opts mo;
  int err = labels_init(&ex->labels);
  if (err != 0)
    return err;
  ordering_init(&ex->ordering);
  memset(&mo, 0, sizeof(mo));
  mo.pid = ex->opts.pid;
  mo.start_ns = ex->opts.start_ns;
  mo.all_phases = ex->opts.all_phases;
  mo.labels = &ex->labels;
  mo.libuv_version = ex->opts.libuv_version;
  mo.emit =
      ex->opts.fd >= 0 && ex->opts.on_event == NULL ? on_event_json : on_event;
  mo.emit_arg = ex;
  mo.error = &ex->error;
  err = span_model_new(&ex->model, &mo);
  if (err != 0 || ex->opts.fd < 0)
    return err;
  err = trace_json_init(&ex->json, ex->opts.fd, ex->opts.gzip);
  ex->has_json = err == 0;
  return err;
}

int export_new(struct exporter** out, const struct export_opts* opts) {
  struct exporter* ex = calloc(1, sizeof(*ex));
  int err;
  if (ex == NULL)
    return -ENOMEM;
  ex->opts = *opts;
  err = make_stages(ex);
  if (err == 0) {
    emit_head(ex);
    err = pipeline_error(ex);
  }
  /* The strings are read here only. */
  ex->opts.process_name = NULL;
  ex->opts.command = NULL;
  ex->opts.source = NULL;
  ex->opts.fallbacks = NULL;
  ex->opts.libuv_version = NULL;
  if (err != 0) {
    export_free(ex);
    return err;
  }
  *out = ex;
  return 0;
}

int export_records(struct exporter* ex, const struct lrt_record* records,
                   size_t n) {
  uint64_t limit = mono_now() + EXPORT_FUTURE_NS;
  size_t i;
  if (ex->fatal)
    return -EPROTONOSUPPORT;
  if (pipeline_error(ex) != 0)
    return pipeline_error(ex);
  for (i = 0; i < n && ex->error == 0; i++) {
    const struct lrt_record* r = &records[i];
    int rc;
    ex->stats.records++;
    if (r->type == LRT_REC_LABEL) {
      rc = labels_chunk(&ex->labels, r);
      if (rc > 0)
        ex->stats.invalid++;
      else if (rc < 0)
        ex->error = rc;
      continue;
    }
    if (ingest(ex, r, limit) != 0) {
      run_end(ex);
      return -EPROTONOSUPPORT;
    }
  }
  run_end(ex);
  if (ex->opts.window_ns == 0)
    handle_until(ex, UINT64_MAX, SIZE_MAX);
  return pipeline_error(ex);
}

int export_advance(struct exporter* ex, uint64_t now_ns) {
  uint64_t window = ex->opts.window_ns;
  emit_own_drops(ex);
  if (now_ns >= ex->next_sweep) {
    if (now_ns > EXPORT_IDLE_NS + window) {
      span_model_sweep(ex->model, now_ns - EXPORT_IDLE_NS - window);
      ordering_sweep(&ex->ordering, now_ns - EXPORT_IDLE_NS - window);
    }
    ex->next_sweep = now_ns + EXPORT_IDLE_NS / 4;
  }
  if (now_ns > window)
    handle_until(ex, now_ns - window, SIZE_MAX);
  return pipeline_error(ex);
}

/* Counts `count` records lost outside the runtime for `reason` (enum
 * drop_reason), noticed at `ts_ns`, and emits their `dropped` instant. */
static void dropped(struct exporter* ex, uint64_t ts_ns, uint64_t count,
                    unsigned reason) {
  if (count == 0)
    return;
  ex->stats.drops += count;
  /* Noticed now, lost before the last record seen at the latest. */
  span_model_dropped(ex->model,
                     min_u64(ts_ns, max_u64(ex->seen_ts, ex->opts.start_ns)),
                     count, reason);
}

void export_dropped(struct exporter* ex, uint64_t ts_ns, uint64_t count) {
  dropped(ex, ts_ns, count, DROP_RING_FULL);
}

void export_dropped_left(struct exporter* ex, uint64_t ts_ns, uint64_t count) {
  dropped(ex, ts_ns, count, DROP_LEFT_IN_RING);
}

void export_trigger(struct exporter* ex, const struct export_trigger* t) {
  struct stat_event ev;
  process_event(ex, &ev, STAT_EV_TRIGGER, TRACE_INSTANT_TRIGGER);
  ev.cat = TRACE_INSTANT_CAT;
  ev.has_ts = 1;
  ev.ts_ns = (int64_t) rel(ex, t->ts_ns);
  ev.trigger.trigger = t->trigger;
  ev.trigger.has_value = t->has_value;
  ev.trigger.value_ns = (int64_t) t->value_ns;
  on_event(&ev, ex);
  if (t->dump == 0)
    return;
  process_event(ex, &ev, STAT_EV_FACTS, TRACE_META_EVENT);
  ev.facts.flight_dump = t->dump;
  ev.facts.flight_trigger = t->trigger;
  ev.facts.flight_trigger_ns = (int64_t) rel(ex, t->ts_ns);
  ev.facts.flight_window_start_ns = (int64_t) rel(ex, t->window_start_ns);
  ev.facts.flight_window_end_ns = (int64_t) rel(ex, t->window_end_ns);
  ev.facts.flight_seconds = t->seconds;
  ev.facts.flight_after = t->after;
  ev.facts.flight_window_cut = t->window_cut;
  on_event(&ev, ex);
}

int export_flush(struct exporter* ex) {
  return ex->has_json ? trace_json_flush(&ex->json) : 0;
}

int export_finish(struct exporter* ex, uint64_t end_ns,
                  const char* end_reason) {
  int err;
  if (ex->finished)
    return -EINVAL;
  ex->finished = 1;
  if (!ex->fatal)
    handle_until(ex, UINT64_MAX, SIZE_MAX);
  emit_own_drops(ex);
  /* The recording ends at the last moment seen: what happened after the
   * last record received (or the moment the caller vouches for) is not
   * known. The spans still open end there too (a thread blocked in poll
   * or busy in a task says nothing meanwhile; its records are flushed
   * within 20 ms of being written). */
  end_ns = max_u64(max_u64(ex->seen_ts, end_ns), ex->opts.start_ns);
  span_model_finish(ex->model, end_ns);
  emit_tail(ex, end_ns, end_reason);
  if (!ex->has_json)
    return pipeline_error(ex);
  err = trace_json_finish(&ex->json);
  return err != 0 ? err : pipeline_error(ex);
}

void export_target_exit(struct exporter* ex, const char* text) {
  snprintf(ex->target_exit, sizeof(ex->target_exit), "%s", text);
}

void export_stats(const struct exporter* ex, struct export_stats* stats) {
  struct span_model_stats ms;
  span_model_stats(ex->model, &ms);
  *stats = ex->stats;
  stats->drops += ms.drops;
  stats->invalid += ms.invalid;
  stats->events = ex->events;
  stats->bytes = ex->has_json ? trace_json_bytes(&ex->json) : 0;
  stats->memory = sizeof(*ex) + labels_bytes(&ex->labels) +
                  ordering_bytes(&ex->ordering) + ms.memory +
                  (ex->has_json ? trace_json_memory(&ex->json) : 0);
}

void export_free(struct exporter* ex) {
  if (ex == NULL)
    return;
  span_model_free(ex->model);
  ordering_free(&ex->ordering);
  labels_free(&ex->labels);
  if (ex->has_json)
    trace_json_free(&ex->json);
  free(ex);
}
