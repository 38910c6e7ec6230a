/* test-span-model.c — the span model (tracer/span_model.h) fed records
 * by hand, its events checked as C values with no JSON between; then the
 * same events through the JSON writer and back through trace_reader and
 * stat_event_from_trace(): what stat reads of them is what the model
 * emitted; and export.h's tap (export_opts.on_event) gives stat's summary
 * the same figures as the trace file does. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "export.h"
#include "labels.h"
#include "span_model.h"
#include "stat_event.h"
#include "stat_report.h"
#include "stat_summary.h"
#include "test-tracer.h"
#include "test.h"
#include "trace_json.h"
#include "trace_reader.h"

#define PID 500
#define LOOP 500
#define WORKER 501
#define START 1000000 /* ns: ts 0 */
#define MAX_EVENTS 64

enum { L_TIMER = 1, L_HASH };

/* An event kept with copies of its strings. */
struct kept {
  struct stat_event ev;
  char name[64];
  char cat[16];
  char cb_kind[16];
  char label[64];
  char reason[64];
};

struct events {
  struct kept e[MAX_EVENTS];
  int n;
};

static void copy(char* dst, size_t size, const char** src) {
  if (*src == NULL)
    return;
  snprintf(dst, size, "%s", *src);
  *src = dst;
}

static void keep(const struct stat_event* ev, void* arg) {
  struct events* es = arg;
  struct kept* k;
  ASSERT_LT(es->n, MAX_EVENTS);
  k = &es->e[es->n++];
  k->ev = *ev;
  copy(k->name, sizeof(k->name), &k->ev.name);
  copy(k->cat, sizeof(k->cat), &k->ev.cat);
  copy(k->cb_kind, sizeof(k->cb_kind), &k->ev.args.cb_kind);
  copy(k->label, sizeof(k->label), &k->ev.args.label);
  copy(k->reason, sizeof(k->reason), &k->ev.reason);
  memset(&k->ev.facts, 0, sizeof(k->ev.facts)); /* not kept */
}

/* The records of a tick with a timer, a task handed to a worker and its
 * completion in the next tick, and a tick left open. */
static void recording(struct tt_stream* s) {
  tt_add_label(s, LOOP, L_TIMER, "setTimeout", 10);
  tt_add_label(s, LOOP, L_HASH, "hash", 4);
  tt_add(s, START + 10, LOOP, LRT_REC_THREAD, LRT_THREAD_LOOP, 0, 1, 0);
  tt_add(s, START + 20, WORKER, LRT_REC_THREAD, LRT_THREAD_WORKER, 0, 1, 0);
  tt_add(s, START + 1000, LOOP, LRT_REC_TICK_BEGIN, 0, 0, 1, 0);
  tt_add(s, START + 1100, LOOP, LRT_REC_PHASE, LRT_PHASE_TIMERS, 0, 1, 0);
  tt_add(s, START + 1200, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_TIMER, L_TIMER,
         0, 0);
  tt_add(s, START + 1300, LOOP, LRT_REC_WORK_SUBMIT, LRT_CB_WORK, L_HASH, 9,
         50);
  tt_add(s, START + 5200, LOOP, LRT_REC_CALLBACK_END, LRT_CB_TIMER, 0, 0, 0);
  tt_add(s, START + 5300, LOOP, LRT_REC_PHASE, LRT_PHASE_POLL, 0, 1, 0);
  tt_add(s, START + 6000, WORKER, LRT_REC_WORK_START, LRT_CB_WORK, L_HASH, 9,
         0);
  tt_add(s, START + 9000, WORKER, LRT_REC_WORK_END, LRT_CB_WORK, L_HASH, 9, 0);
  tt_add(s, START + 9500, LOOP, LRT_REC_TICK_END, 0, 0, 1, 0);
  tt_add(s, START + 10000, LOOP, LRT_REC_TICK_BEGIN, 0, 0, 2, 0);
  tt_add(s, START + 10100, LOOP, LRT_REC_PHASE, LRT_PHASE_POLL, 0, 2, 0);
  tt_add(s, START + 10200, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_WORK, L_HASH, 9,
         0);
  tt_add(s, START + 10400, LOOP, LRT_REC_CALLBACK_END, LRT_CB_WORK, 0, 9, 0);
  tt_add(s, START + 10500, LOOP, LRT_REC_LOST, 0, 0, 3, 0);
  tt_add(s, START + 11000, LOOP, LRT_REC_TICK_BEGIN, 0, 0, 3, 0);
}

/* Feeds the records in order, as the ordering would hand them on. */
static void run_model(struct events* es) {
  struct tt_stream s = {0};
  struct labels labels;
  struct span_model_opts o;
  struct span_model* m;
  struct span_thread* t;
  int i;
  recording(&s);
  ASSERT_EQ(labels_init(&labels), 0);
  memset(&o, 0, sizeof(o));
  o.pid = PID;
  o.start_ns = START;
  o.labels = &labels;
  o.emit = keep;
  o.emit_arg = es;
  ASSERT_EQ(span_model_new(&m, &o), 0);
  for (i = 0; i < s.n; i++) {
    if (s.r[i].type == LRT_REC_LABEL) {
      ASSERT_EQ(labels_chunk(&labels, &s.r[i]), 0);
      continue;
    }
    ASSERT_EQ(span_model_admit(m, s.r[i].tid, &t), 0);
    span_model_record(m, t, &s.r[i]);
  }
  span_model_finish(m, START + 12000);
  ASSERT_EQ(span_model_error(m), 0);
  span_model_free(m);
  labels_free(&labels);
  free(s.r);
}

/* A printed duration: the model may shorten a span by 1 or 2 ns so that
 * a consumer adding ts and dur as doubles sees it end in time. */
#define ASSERT_DUR(ev, ns)            \
  do {                                \
    ASSERT_LE((ev)->dur_ns, (ns));    \
    ASSERT_GE((ev)->dur_ns, (ns) -2); \
  } while (0)

/* The first span event named `name` on `tid`. */
static const struct stat_event* span(const struct events* es, int64_t tid,
                                     const char* name) {
  int i;
  for (i = 0; i < es->n; i++) {
    const struct stat_event* ev = &es->e[i].ev;
    if (ev->type == STAT_EV_SPAN && ev->tid == tid &&
        strcmp(ev->name, name) == 0)
      return ev;
  }
  TEST_FAIL_("no span %s on %" PRId64, name, tid);
}

TEST_IMPL(span_model_events) {
  static struct events es;
  const struct stat_event* ev;
  int i;
  int thread_names = 0;
  int dropped = 0;
  run_model(&es);
  for (i = 0; i < es.n; i++) {
    if (es.e[i].ev.type == STAT_EV_THREAD_NAME)
      thread_names++;
    if (es.e[i].ev.type == STAT_EV_DROPPED) {
      ASSERT_EQ(es.e[i].ev.value, 3);
      ASSERT_STR_EQ(es.e[i].ev.reason, "runtime buffer full");
      dropped++;
    }
  }
  ASSERT_EQ(thread_names, 2);
  ASSERT_EQ(dropped, 1);

  /* The first tick, its timer phase and the callback in it, in ns since
   * the start. */
  ev = span(&es, LOOP, "tick");
  ASSERT_EQ(ev->kind, STAT_KIND_TICK);
  ASSERT_EQ(ev->ts_ns, 1000);
  ASSERT_DUR(ev, 8500);
  ASSERT_EQ(ev->args.tick, 1);
  ASSERT_EQ(ev->args.cut, 0);
  ev = span(&es, LOOP, "timers");
  ASSERT_EQ(ev->kind, STAT_KIND_PHASE);
  ASSERT_EQ(ev->ts_ns, 1100);
  ASSERT_DUR(ev, 4200);
  ev = span(&es, LOOP, "setTimeout");
  ASSERT_EQ(ev->kind, STAT_KIND_CALLBACK);
  ASSERT_STR_EQ(ev->args.cb_kind, "timer");
  ASSERT_DUR(ev, 4000);
  ASSERT_NE(ev->name_id, 0);

  /* The task: submitted, run on the worker after 4.7 µs in the queue,
   * completed in the next tick; one flow through the three. */
  ev = span(&es, LOOP, "submit");
  ASSERT_EQ(ev->kind, STAT_KIND_SUBMIT);
  ASSERT_UINT_EQ(ev->bind_id, 9);
  ASSERT_EQ(ev->flow_out, 1);
  ASSERT_STR_EQ(ev->args.label, "hash");
  ev = span(&es, WORKER, "hash");
  ASSERT_EQ(ev->kind, STAT_KIND_WORK);
  ASSERT_EQ(ev->ts_ns, 6000);
  ASSERT_DUR(ev, 3000);
  ASSERT_EQ(ev->flow_in, 1);
  ASSERT_EQ(ev->args.has_queue_wait, 1);
  ASSERT_EQ(ev->args.queue_wait_ns, 4700);
  ev = span(&es, LOOP, "hash");
  ASSERT_EQ(ev->kind, STAT_KIND_CALLBACK);
  ASSERT_STR_EQ(ev->args.cb_kind, "work");
  ASSERT_EQ(ev->flow_in, 1);
  ASSERT_UINT_EQ(ev->args.task, 9);

  /* The third tick never ended: cut at the end given to finish. */
  for (i = es.n - 1; i >= 0; i--)
    if (es.e[i].ev.type == STAT_EV_SPAN && strcmp(es.e[i].ev.name, "tick") == 0)
      break;
  ASSERT_GE(i, 0);
  ASSERT_EQ(es.e[i].ev.args.tick, 3);
  ASSERT_EQ(es.e[i].ev.args.cut, STAT_CUT_END);
  ASSERT_EQ(es.e[i].ev.ts_ns + es.e[i].ev.dur_ns, 12000);
  return 0;
}

/* ------------------------------------------------------------------------
 * The same events through JSON and back
 */

struct readback {
  const struct events* model;
  int i; /* the model's event the next one read should be */
  int spans;
};

static int compare(const struct trace_event* tev, void* arg) {
  struct readback* rb = arg;
  struct stat_event got;
  const struct stat_event* want;
  stat_event_from_trace(tev, &got);
  ASSERT_LT(rb->i, rb->model->n);
  want = &rb->model->e[rb->i++].ev;
  ASSERT_EQ(got.type, want->type);
  ASSERT_EQ(got.pid, want->pid);
  ASSERT_EQ(got.tid, want->tid);
  ASSERT_EQ(got.value, want->value);
  if (got.type != STAT_EV_THREAD_SORT)
    ASSERT_STR_EQ(got.name, want->name);
  if (got.type == STAT_EV_COUNTER) {
    ASSERT_UINT_EQ(got.counter.queued, want->counter.queued);
    ASSERT_UINT_EQ(got.counter.running, want->counter.running);
  }
  if (got.type == STAT_EV_DROPPED)
    ASSERT_STR_EQ(got.reason, want->reason);
  if (got.type != STAT_EV_SPAN)
    return 0;
  rb->spans++;
  ASSERT_EQ(got.ts_ns, want->ts_ns);
  ASSERT_EQ(got.dur_ns, want->dur_ns);
  ASSERT_EQ(got.kind, want->kind);
  ASSERT_EQ(got.args.cut, want->args.cut);
  ASSERT_EQ(got.args.has_tick, want->args.has_tick);
  ASSERT_EQ(got.args.tick, want->args.tick);
  ASSERT_EQ(got.args.has_queue_wait, want->args.has_queue_wait);
  ASSERT_EQ(got.args.queue_wait_ns, want->args.queue_wait_ns);
  ASSERT_EQ(got.args.cb_kind != NULL, want->args.cb_kind != NULL);
  if (got.args.cb_kind != NULL)
    ASSERT_STR_EQ(got.args.cb_kind, want->args.cb_kind);
  return 0;
}

TEST_IMPL(span_model_json_round_trip) {
  static struct events es;
  struct readback rb = {&es, 0, 0};
  struct trace_reader r;
  struct trace_json tj;
  const char* path = tt_tmp(".json");
  size_t len;
  char* text;
  int fd;
  int i;
  run_model(&es);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(trace_json_init(&tj, fd, 0), 0);
  for (i = 0; i < es.n; i++)
    trace_json_write(&tj, &es.e[i].ev);
  ASSERT_EQ(trace_json_finish(&tj), 0);
  ASSERT_UINT_EQ(tj.events, (uint64_t) es.n);
  trace_json_free(&tj);
  close(fd);
  text = test_slurp(path, &len);
  ASSERT_EQ(trace_reader_init(&r, compare, &rb), 0);
  ASSERT_EQ(trace_reader_feed(&r, text, len), 0);
  ASSERT_EQ(trace_reader_end(&r), 0);
  trace_reader_close(&r);
  ASSERT_EQ(rb.i, es.n);
  ASSERT_GE(rb.spans, 9);
  free(text);
  unlink(path);
  return 0;
}

/* ------------------------------------------------------------------------
 * The tap: a live consumer gets the same figures with no JSON
 */

static void tap(const struct stat_event* ev, void* arg) {
  ASSERT_EQ(stat_summary_add(arg, ev), 0);
}

/* Exports the recording through export.h: to `fd` (or none) and the tap
 * (or none). */
static void export_recording(int fd, struct stat_summary* live) {
  struct tt_stream s = {0};
  struct export_opts o;
  struct exporter* ex;
  memset(&o, 0, sizeof(o));
  o.fd = fd;
  o.pid = PID;
  o.process_name = "tapped";
  o.start_ns = START;
  o.on_event = live != NULL ? tap : NULL;
  o.on_event_arg = live;
  recording(&s);
  ASSERT_EQ(export_new(&ex, &o), 0);
  ASSERT_EQ(export_records(ex, s.r, (size_t) s.n), 0);
  ASSERT_EQ(export_finish(ex, 0, "duration"), 0);
  export_free(ex);
  free(s.r);
}

/* The summary's figures as stat --json prints them. */
static char* figures(struct stat_summary* sum) {
  const struct stat_figures* f;
  cJSON* json;
  char* text;
  ASSERT_EQ(stat_summary_finish(sum, NULL, &f), 0);
  json = stat_report_json(f);
  ASSERT_NOT_NULL(json);
  text = cJSON_PrintUnformatted(json);
  cJSON_Delete(json);
  stat_summary_free(sum);
  return text;
}

TEST_IMPL(span_model_tap_same_figures) {
  struct stat_summary* live;
  struct stat_summary* read;
  struct trace_reader r;
  const char* path = tt_tmp(".json");
  char* live_text;
  char* read_text;
  char* file;
  size_t len;
  int fd;

  /* Live: no file at all, the events straight into stat's summary. */
  ASSERT_EQ(stat_summary_new(&live), 0);
  export_recording(-1, live);
  live_text = figures(live);

  /* From the file, as `looptrace stat` reads it. */
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  export_recording(fd, NULL);
  close(fd);
  file = test_slurp(path, &len);
  ASSERT_EQ(stat_summary_new(&read), 0);
  ASSERT_EQ(trace_reader_init(&r, stat_summary_event, read), 0);
  ASSERT_EQ(trace_reader_feed(&r, file, len), 0);
  ASSERT_EQ(trace_reader_end(&r), 0);
  trace_reader_close(&r);
  read_text = figures(read);

  /* Three ticks (two cut), the task's 4.7 µs in the queue, the records
   * lost: the live figures are the recording's. */
  ASSERT_NOT_NULL(strstr(live_text, "\"ticks\":{\"count\":3,\"cut\":2"));
  ASSERT_NOT_NULL(strstr(live_text, "\"queue_wait_us\":{\"p50\":4.7"));
  ASSERT_NOT_NULL(strstr(live_text, "\"drops\":3"));
  ASSERT_STR_EQ(live_text, read_text);
  free(live_text);
  free(read_text);
  free(file);
  unlink(path);
  return 0;
}
