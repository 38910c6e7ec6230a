/* test-tracer-export.c — the exporter and its JSON writer, fed with
 * record streams built by hand (no BPF, no runtime). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "export.h"
#include "json_writer.h"
#include "span_model.h"
#include "test-tracer.h"
#include "test.h"

#define LOOP 100
#define WORKER 101
#define WORKER2 102
#define START 1000 /* ns: ts 0 of the recording */

enum { L_TIMER = 1, L_PBKDF2, L_READ, L_PARSE, L_WRITE };

/* An exporter of process LOOP (its name and command need escaping), its
 * recording begun at START, holding records for `window_ns` and writing
 * to `path` (created or emptied). The caller closes *fd after
 * export_free(). */
static struct exporter* exporter_to(const char* path, uint64_t window_ns,
                                    int all_phases, int* fd) {
  struct exporter* ex = NULL;
  struct export_opts opts;
  *fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(*fd, 0);
  memset(&opts, 0, sizeof(opts));
  opts.fd = *fd;
  opts.pid = LOOP;
  opts.process_name = "test \"proc\"";
  opts.command = "test --arg \x01";
  opts.start_ns = START;
  opts.window_ns = window_ns;
  opts.all_phases = all_phases;
  ASSERT_EQ(export_new(&ex, &opts), 0);
  return ex;
}

/* Exports `n` records to `path`, one batch per run of one thread's
 * records, in the order given, and finishes the trace (reason
 * "duration"): the recording ends at its last record. */
static struct export_stats export_to(const char* path,
                                     const struct lrt_record* r, int n,
                                     uint64_t window, int all_phases) {
  struct export_stats st;
  int fd;
  struct exporter* ex = exporter_to(path, window, all_phases, &fd);
  int i = 0;
  while (i < n) {
    int j = i;
    while (j < n && r[j].tid == r[i].tid && j - i < LRT_BATCH_MAX_RECORDS)
      j++;
    ASSERT_EQ(export_records(ex, r + i, (size_t) (j - i)), 0);
    ASSERT_EQ(export_advance(ex, r[j - 1].ts), 0);
    i = j;
  }
  ASSERT_EQ(export_finish(ex, 0, "duration"), 0);
  export_stats(ex, &st);
  export_free(ex);
  close(fd);
  return st;
}

/* The spans of `cat` named `name` (NULL: any), in time order. */
static int find(const struct tt_trace* t, const char* cat, const char* name,
                const struct tt_span** out, int max) {
  int i;
  int n = 0;
  for (i = 0; i < t->nspans; i++)
    if (strcmp(t->spans[i].cat, cat) == 0 &&
        (name == NULL || strcmp(t->spans[i].name, name) == 0) && n < max)
      out[n++] = &t->spans[i];
  return n;
}

/* A session's announcement, its snapshot counting `running` tasks
 * running on workers (and none queued). */
static void session_running(struct tt_stream* s, uint64_t running) {
  tt_add(s, 1050, LOOP, LRT_REC_THREAD, LRT_THREAD_LOOP, 0, 1, 0);
  tt_add(s, 1051, LOOP, LRT_REC_LOOP_START, 0, 0, 1,
         LRT_LOOP_INFO(0x012c02, 4, LRT_TRACE_VERSION));
  tt_add(s, 1052, LOOP, LRT_REC_POOL, 0, 0, 0, running);
  tt_add_label(s, LOOP, L_TIMER, "setTimeout", 10);
  tt_add_label(s, LOOP, L_PBKDF2, "pbkdf2", 6);
  tt_add_label(s, LOOP, L_READ, "socket read", 11);
  tt_add_label(s, LOOP, L_PARSE, "parse", 5);
  tt_add_label(s, LOOP, L_WRITE, "write", 5);
}

static void session(struct tt_stream* s) {
  session_running(s, 0);
}

/* A tick with every kind of span, and a task handed to a worker. */
static void busy_tick(struct tt_stream* loop, struct tt_stream* worker) {
  /* Before the first tick: the end of a callback that began before the
   * recording (ignored), then a whole one (a top-level span). */
  tt_add(loop, 1090, LOOP, LRT_REC_CALLBACK_END, LRT_CB_READ, 0, 0, 0);
  tt_add(loop, 1100, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_READ, L_READ, 0, 0);
  tt_add(loop, 1200, LOOP, LRT_REC_CALLBACK_END, LRT_CB_READ, 0, 0, 0);
  tt_add(loop, 2000, LOOP, LRT_REC_TICK_BEGIN, 0, 0, 1, 0);
  tt_add(loop, 2100, LOOP, LRT_REC_PHASE, LRT_PHASE_TIMERS, 0, 1, 0);
  tt_add(loop, 2200, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_TIMER, L_TIMER, 0, 0);
  tt_add(loop, 2300, LOOP, LRT_REC_CALLBACK_END, LRT_CB_TIMER, 0, 0, 0);
  tt_add(loop, 2400, LOOP, LRT_REC_PHASE, LRT_PHASE_PENDING, 0, 1, 0);
  tt_add(loop, 2500, LOOP, LRT_REC_PHASE, LRT_PHASE_IDLE, 0, 1, 0);
  tt_add(loop, 2600, LOOP, LRT_REC_PHASE, LRT_PHASE_PREPARE, 0, 1, 0);
  tt_add(loop, 2700, LOOP, LRT_REC_PHASE, LRT_PHASE_POLL, 0, 1, 0);
  tt_add(loop, 9000, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_READ, L_READ, 0, 0);
  tt_add(loop, 9100, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_USER, L_PARSE, 0, 0);
  tt_add(loop, 9200, LOOP, LRT_REC_CALLBACK_END, LRT_CB_USER, 0, 0, 0);
  tt_add(loop, 9300, LOOP, LRT_REC_WORK_SUBMIT, LRT_CB_CRYPTO, L_PBKDF2, 7,
         200);
  tt_add(loop, 9600, LOOP, LRT_REC_CALLBACK_END, LRT_CB_READ, 0, 0, 0);
  /* The wait is reported after the callbacks that followed it. */
  tt_add(loop, 2800, LOOP, LRT_REC_WAIT, 0, 0, 1, 6000);
  tt_add(loop, 9700, LOOP, LRT_REC_PHASE, LRT_PHASE_PENDING, 0, 1, 0);
  tt_add(loop, 9750, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_WRITE, L_WRITE, 0, 0);
  tt_add(loop, 9800, LOOP, LRT_REC_CALLBACK_END, LRT_CB_WRITE, 0, 0, 0);
  tt_add(loop, 9900, LOOP, LRT_REC_PHASE, LRT_PHASE_CHECK, 0, 1, 0);
  tt_add(loop, 9950, LOOP, LRT_REC_PHASE, LRT_PHASE_CLOSE, 0, 1, 0);
  tt_add(loop, 10000, LOOP, LRT_REC_TICK_END, 0, 0, 1, 0);
  /* The task on the worker. */
  tt_add(worker, 1060, WORKER, LRT_REC_THREAD, LRT_THREAD_WORKER, 0, 1, 0);
  tt_add(worker, 9400, WORKER, LRT_REC_WORK_START, LRT_CB_CRYPTO, L_PBKDF2, 7,
         0);
  tt_add(worker, 50000, WORKER, LRT_REC_WORK_END, LRT_CB_CRYPTO, L_PBKDF2, 7,
         0);
  /* Its completion in the next tick. */
  tt_add(loop, 60000, LOOP, LRT_REC_TICK_BEGIN, 0, 0, 2, 0);
  tt_add(loop, 60050, LOOP, LRT_REC_PHASE, LRT_PHASE_TIMERS, 0, 2, 0);
  tt_add(loop, 60100, LOOP, LRT_REC_PHASE, LRT_PHASE_POLL, 0, 2, 0);
  tt_add(loop, 60200, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_CRYPTO, L_PBKDF2, 7,
         0);
  tt_add(loop, 60300, LOOP, LRT_REC_CALLBACK_END, LRT_CB_CRYPTO, 0, 7, 0);
  tt_add(loop, 61000, LOOP, LRT_REC_TICK_END, 0, 0, 2, 0);
}

TEST_IMPL(tracer_export_tick) {
  struct tt_stream all = {0};
  struct tt_stream loop = {0};
  struct tt_stream worker = {0};
  const char* path = tt_tmp(".json");
  const struct tt_span* s[16];
  struct tt_trace t;
  int i;

  session(&loop);
  busy_tick(&loop, &worker);
  /* The worker's batch arrives first: the exporter must still see the
   * submit before the start. */
  for (i = 0; i < worker.n; i++)
    *tt_add(&all, 0, 0, 0, 0, 0, 0, 0) = worker.r[i];
  for (i = 0; i < loop.n; i++)
    *tt_add(&all, 0, 0, 0, 0, 0, 0, 0) = loop.r[i];
  export_to(path, all.r, all.n, EXPORT_WINDOW_NS, 0);
  tt_load(path, &t);
  tt_check(&t);

  /* It ends with the last record, not when the tracer stopped. */
  ASSERT_EQ(t.duration_ns, 61000 - START);
  ASSERT_STR_EQ(t.end_reason, "duration");
  ASSERT_EQ(t.uv_version, 0x012c02);
  ASSERT_STR_EQ(tt_thread_name(&t, LOOP), "event loop");
  ASSERT_STR_EQ(tt_thread_name(&t, WORKER), "worker 1");

  ASSERT_EQ(find(&t, "tick", NULL, s, 16), 2);
  ASSERT_EQ(s[0]->ts, 2000 - START);
  ASSERT_EQ(s[0]->dur, 8000);
  /* Empty phases under 1 µs are left out; poll and pending-after-poll
   * are written. */
  ASSERT_EQ(find(&t, "phase", NULL, s, 16), 4);
  ASSERT_STR_EQ(s[0]->name, "timers");
  ASSERT_STR_EQ(s[1]->name, "poll");
  ASSERT_EQ(s[1]->ts, 2700 - START);
  ASSERT_EQ(s[1]->dur, 7000);
  ASSERT_STR_EQ(s[2]->name, "pending");
  ASSERT(tt_has_flag(s[2], "after_poll"));
  ASSERT_STR_EQ(s[3]->name, "poll"); /* tick 2's timers: empty, 50 ns */
  ASSERT_EQ(find(&t, "wait", NULL, s, 16), 1);
  ASSERT_EQ(s[0]->ts, 2800 - START);
  ASSERT_EQ(s[0]->dur, 6000);
  ASSERT_STR_EQ(t.spans[s[0]->parent].name, "poll");

  /* The partial tick's whole callback is a top-level span. */
  ASSERT_EQ(find(&t, "callback", "socket read", s, 16), 2);
  ASSERT_EQ(s[0]->ts, 1100 - START);
  ASSERT_EQ(s[0]->parent, -1);
  ASSERT_STR_EQ(t.spans[s[1]->parent].name, "poll");
  ASSERT_EQ(find(&t, "callback", "parse", s, 16), 1);
  ASSERT_STR_EQ(t.spans[s[0]->parent].name, "socket read");
  ASSERT_EQ(find(&t, "callback", "write", s, 16), 1);
  ASSERT_STR_EQ(t.spans[s[0]->parent].name, "pending");

  /* The flow: submit → work → completion. */
  ASSERT_EQ(find(&t, "submit", NULL, s, 16), 1);
  ASSERT_STR_EQ(t.spans[s[0]->parent].name, "socket read");
  ASSERT_EQ(s[0]->dur, 200);
  ASSERT_EQ(tt_arg_num(s[0], "task"), 7);
  ASSERT(tt_has_flag(s[0], "flow_out"));
  ASSERT_EQ(find(&t, "work", "pbkdf2", s, 16), 1);
  ASSERT_EQ(s[0]->tid, WORKER);
  ASSERT(tt_has_flag(s[0], "flow_in"));
  ASSERT(tt_has_flag(s[0], "flow_out"));
  ASSERT_DOUBLE_GE(tt_arg_num(s[0], "queue_wait_us"), 0.0999);
  ASSERT_DOUBLE_LE(tt_arg_num(s[0], "queue_wait_us"), 0.1001);
  ASSERT_EQ(find(&t, "callback", "pbkdf2", s, 16), 1);
  ASSERT(tt_has_flag(s[0], "flow_in"));
  ASSERT_EQ(tt_arg_num(s[0], "task"), 7);
  tt_free(&t);
  unlink(path);

  /* --all-phases keeps the empty ones. */
  export_to(path, all.r, all.n, EXPORT_WINDOW_NS, 1);
  tt_load(path, &t);
  tt_check(&t);
  ASSERT_EQ(find(&t, "phase", NULL, s, 16), 10);
  tt_free(&t);
  unlink(path);
  free(all.r);
  free(loop.r);
  free(worker.r);
  return 0;
}

/* The threadpool counter follows submit, start, end and cancellation. */
TEST_IMPL(tracer_export_counters) {
  struct tt_stream loop = {0};
  struct tt_stream worker = {0};
  struct tt_stream all = {0};
  const char* path = tt_tmp(".json");
  struct tt_trace t;
  const cJSON* ev;
  char seen[256] = "";
  int i;

  session(&loop);
  busy_tick(&loop, &worker);
  /* Task 8 is submitted and cancelled: its completion comes unstarted. */
  tt_add(&loop, 62000, LOOP, LRT_REC_TICK_BEGIN, 0, 0, 3, 0);
  tt_add(&loop, 62100, LOOP, LRT_REC_PHASE, LRT_PHASE_POLL, 0, 3, 0);
  tt_add(&loop, 62200, LOOP, LRT_REC_WORK_SUBMIT, LRT_CB_WORK, 0, 8, 10);
  tt_add(&loop, 62300, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_WORK, 0, 8, 0);
  tt_add(&loop, 62400, LOOP, LRT_REC_CALLBACK_END, LRT_CB_WORK, 0, 8, 0);
  tt_add(&loop, 62500, LOOP, LRT_REC_TICK_END, 0, 0, 3, 0);
  for (i = 0; i < loop.n; i++)
    *tt_add(&all, 0, 0, 0, 0, 0, 0, 0) = loop.r[i];
  for (i = 0; i < worker.n; i++)
    *tt_add(&all, 0, 0, 0, 0, 0, 0, 0) = worker.r[i];
  export_to(path, all.r, all.n, EXPORT_WINDOW_NS, 0);
  tt_load(path, &t);
  tt_check(&t);
  cJSON_ArrayForEach(ev, t.root) {
    const cJSON* args = cJSON_GetObjectItem(ev, "args");
    char step[32];
    if (strcmp(cJSON_GetObjectItem(ev, "ph")->valuestring, "C") != 0)
      continue;
    /* Each carries the thread whose event moved it. */
    snprintf(step, sizeof(step), "%g/%g@%g ",
             cJSON_GetObjectItem(args, "queued")->valuedouble,
             cJSON_GetObjectItem(args, "running")->valuedouble,
             cJSON_GetObjectItem(ev, "tid")->valuedouble - LOOP);
    strncat(seen, step, sizeof(seen) - strlen(seen) - 1);
  }
  /* POOL, submit 7, start 7, end 7, submit 8, cancel 8. */
  ASSERT_STR_EQ(seen, "0/0@0 1/0@0 0/1@1 0/0@1 1/0@0 0/0@0 ");
  /* The cancelled task's completion has a flow from its submit. */
  {
    const struct tt_span* s[4];
    ASSERT_EQ(find(&t, "callback", "work", s, 4), 1);
    ASSERT(tt_has_flag(s[0], "flow_in"));
  }
  tt_free(&t);
  unlink(path);
  free(all.r);
  free(loop.r);
  free(worker.r);
  return 0;
}

/* A task submitted before the recording: its worker span starts the flow,
 * without a queue wait; so does one that started before (cut at its
 * start). */
TEST_IMPL(tracer_export_flow_without_submit) {
  struct tt_stream s = {0};
  const char* path = tt_tmp(".json");
  const struct tt_span* found[4];
  struct tt_trace t;
  int i;

  session_running(&s, 1);
  tt_add(&s, 1500, WORKER2, LRT_REC_WORK_END, 0, L_PBKDF2, 3, 0);
  tt_add(&s, 1600, WORKER, LRT_REC_WORK_START, 0, L_PBKDF2, 4, 0);
  tt_add(&s, 5000, WORKER, LRT_REC_WORK_END, 0, L_PBKDF2, 4, 0);
  tt_add(&s, 6000, LOOP, LRT_REC_TICK_BEGIN, 0, 0, 1, 0);
  tt_add(&s, 6100, LOOP, LRT_REC_PHASE, LRT_PHASE_POLL, 0, 1, 0);
  tt_add(&s, 6200, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_CRYPTO, L_PBKDF2, 3, 0);
  tt_add(&s, 6300, LOOP, LRT_REC_CALLBACK_END, LRT_CB_CRYPTO, 0, 3, 0);
  tt_add(&s, 6400, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_CRYPTO, L_PBKDF2, 4, 0);
  tt_add(&s, 6500, LOOP, LRT_REC_CALLBACK_END, LRT_CB_CRYPTO, 0, 4, 0);
  tt_add(&s, 7000, LOOP, LRT_REC_TICK_END, 0, 0, 1, 0);
  export_to(path, s.r, s.n, EXPORT_WINDOW_NS, 0);
  tt_load(path, &t);
  tt_check(&t);
  ASSERT_EQ(find(&t, "work", NULL, found, 4), 2); /* by thread */
  ASSERT_EQ(tt_arg_num(found[0], "task"), 4);
  ASSERT_STR_EQ(tt_cut(found[0]), "");
  ASSERT_EQ(tt_arg_num(found[1], "task"), 3);
  ASSERT_STR_EQ(tt_cut(found[1]), "start");
  for (i = 0; i < 2; i++) {
    ASSERT(!tt_has_flag(found[i], "flow_in"));
    ASSERT(tt_has_flag(found[i], "flow_out"));
    ASSERT_EQ(tt_arg_num(found[i], "queue_wait_us"), -1);
  }
  ASSERT_EQ(find(&t, "callback", "pbkdf2", found, 4), 2);
  ASSERT(tt_has_flag(found[0], "flow_in")); /* task 3: from its cut span */
  ASSERT(tt_has_flag(found[1], "flow_in")); /* task 4: from the worker */
  tt_free(&t);
  unlink(path);
  free(s.r);
  return 0;
}

/* A task running on a worker when the session began (its snapshot counts
 * it running) is a work span from the session's first record on, cut at
 * its start,
 * named and numbered as its end says, with no queue wait, its flow going
 * to its completion; the pool's counters count it once. An end whose
 * start was lost (the snapshot counted no more tasks, or the worker ran
 * one since) makes no span. */
TEST_IMPL(tracer_export_work_begun_earlier) {
  struct tt_stream s = {0};
  const char* path = tt_tmp(".json");
  const struct tt_span* found[4];
  struct tt_trace t;
  const cJSON* ev;
  char seen[256] = "";

  session_running(&s, 1);
  tt_add(&s, 3000, WORKER, LRT_REC_THREAD, LRT_THREAD_WORKER, 0, 1, 0);
  tt_add(&s, 3000, WORKER, LRT_REC_WORK_END, LRT_CB_CRYPTO, L_PBKDF2, 9, 0);
  tt_add(&s, 3500, WORKER2, LRT_REC_WORK_END, LRT_CB_CRYPTO, L_PBKDF2, 10, 0);
  tt_add(&s, 3600, WORKER, LRT_REC_WORK_START, LRT_CB_FS, L_READ, 11, 0);
  tt_add(&s, 4000, WORKER, LRT_REC_WORK_END, LRT_CB_FS, L_READ, 11, 0);
  tt_add(&s, 4500, WORKER, LRT_REC_WORK_END, LRT_CB_FS, L_READ, 12, 0);
  tt_add(&s, 5000, LOOP, LRT_REC_TICK_BEGIN, 0, 0, 1, 0);
  tt_add(&s, 5100, LOOP, LRT_REC_PHASE, LRT_PHASE_POLL, 0, 1, 0);
  tt_add(&s, 5200, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_CRYPTO, L_PBKDF2, 9, 0);
  tt_add(&s, 5300, LOOP, LRT_REC_CALLBACK_END, LRT_CB_CRYPTO, 0, 9, 0);
  tt_add(&s, 6000, LOOP, LRT_REC_TICK_END, 0, 0, 1, 0);
  export_to(path, s.r, s.n, EXPORT_WINDOW_NS, 0);
  tt_load(path, &t);
  tt_check(&t);
  ASSERT_EQ(find(&t, "work", NULL, found, 4), 2);
  ASSERT_EQ(found[0]->tid, WORKER);
  ASSERT_STR_EQ(tt_thread_name(&t, WORKER), "worker 1");
  ASSERT_STR_EQ(found[0]->name, "pbkdf2");
  ASSERT_EQ(tt_arg_num(found[0], "task"), 9);
  ASSERT_STR_EQ(tt_cut(found[0]), "start");
  ASSERT_EQ(found[0]->ts, 1050 - START); /* the first record */
  ASSERT_EQ(found[0]->ts + found[0]->dur, 3000 - START);
  ASSERT_EQ(tt_arg_num(found[0], "queue_wait_us"), -1);
  ASSERT(!tt_has_flag(found[0], "flow_in"));
  ASSERT(tt_has_flag(found[0], "flow_out"));
  ASSERT_EQ(tt_arg_num(found[1], "task"), 11);
  ASSERT_EQ(find(&t, "callback", "pbkdf2", found, 4), 1);
  ASSERT(tt_has_flag(found[0], "flow_in"));
  cJSON_ArrayForEach(ev, t.root) {
    const cJSON* args = cJSON_GetObjectItem(ev, "args");
    char step[32];
    if (strcmp(cJSON_GetObjectItem(ev, "ph")->valuestring, "C") != 0)
      continue;
    snprintf(step, sizeof(step), "%g@%g ",
             cJSON_GetObjectItem(args, "running")->valuedouble,
             cJSON_GetObjectItem(ev, "ts")->valuedouble * 1000);
    strncat(seen, step, sizeof(seen) - strlen(seen) - 1);
  }
  /* Running: the snapshot's task, which ends; then task 11, alone. */
  ASSERT_STR_EQ(seen, "1@52 0@2000 0@2500 1@2600 0@3000 0@3500 ");
  tt_free(&t);
  unlink(path);
  free(s.r);
  return 0;
}

/* Labels: assembled from chunks, escaped, named when unknown. */
TEST_IMPL(tracer_export_labels) {
  static const char long_label[] = "a label of forty bytes, in 3 chunks!!!";
  static const char nasty[] =
      "q\"b\\n\n\x01\xff|\xc0\x80|\xed\xa0\x80|\xe2\x82";
  struct tt_stream s = {0};
  const char* path = tt_tmp(".json");
  const struct tt_span* found[8];
  struct tt_trace t;

  session(&s);
  tt_add_label(&s, LOOP, 20, long_label, sizeof(long_label) - 1);
  tt_add_label(&s, LOOP, 21, nasty, sizeof(nasty) - 1);
  tt_add(&s, 2000, LOOP, LRT_REC_TICK_BEGIN, 0, 0, 1, 0);
  tt_add(&s, 2100, LOOP, LRT_REC_PHASE, LRT_PHASE_TIMERS, 0, 1, 0);
  tt_add(&s, 2200, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_TIMER, 20, 0, 0);
  tt_add(&s, 2300, LOOP, LRT_REC_CALLBACK_END, LRT_CB_TIMER, 0, 0, 0);
  tt_add(&s, 2400, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_TIMER, 21, 0, 0);
  tt_add(&s, 2500, LOOP, LRT_REC_CALLBACK_END, LRT_CB_TIMER, 0, 0, 0);
  tt_add(&s, 2600, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_TIMER, 999, 0, 0);
  tt_add(&s, 2700, LOOP, LRT_REC_CALLBACK_END, LRT_CB_TIMER, 0, 0, 0);
  tt_add(&s, 2800, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_INTERVAL, 0, 0, 0);
  tt_add(&s, 2900, LOOP, LRT_REC_CALLBACK_END, LRT_CB_INTERVAL, 0, 0, 0);
  tt_add(&s, 3000, LOOP, LRT_REC_TICK_END, 0, 0, 1, 0);
  export_to(path, s.r, s.n, 0, 0);
  tt_load(path, &t);
  tt_check(&t);
  ASSERT_EQ(find(&t, "callback", NULL, found, 8), 4);
  ASSERT_STR_EQ(found[0]->name, long_label);
  /* Control characters escaped; every invalid byte one U+FFFD. */
  ASSERT_STR_EQ(found[1]->name,
                "q\"b\\n\n\x01\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
                "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf"
                "\xbd");
  ASSERT_STR_EQ(found[2]->name, "label 999");
  ASSERT_STR_EQ(found[3]->name, "interval");
  /* The facts' strings too. */
  ASSERT_STR_EQ(
      cJSON_GetObjectItem(
          cJSON_GetObjectItem(cJSON_GetArrayItem(t.root, 0), "args"), "name")
          ->valuestring,
      "test \"proc\"");
  tt_free(&t);
  unlink(path);
  free(s.r);
  return 0;
}

/* What is open at the end is written as ending there, incomplete; drops
 * are instants and add up in the final facts. */
TEST_IMPL(tracer_export_incomplete_and_drops) {
  struct tt_stream s = {0};
  const char* path = tt_tmp(".json");
  const struct tt_span* found[8];
  struct export_stats st;
  struct tt_trace t;
  struct exporter* ex;
  int fd;

  session(&s);
  tt_add(&s, 2000, LOOP, LRT_REC_TICK_BEGIN, 0, 0, 1, 0);
  tt_add(&s, 2100, LOOP, LRT_REC_PHASE, LRT_PHASE_POLL, 0, 1, 0);
  tt_add(&s, 2200, LOOP, LRT_REC_LOST, 0, 0, 5, 0);
  tt_add(&s, 2300, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_READ, L_READ, 0, 0);
  tt_add(&s, 2400, WORKER, LRT_REC_WORK_START, 0, L_PBKDF2, 9, 0);

  ex = exporter_to(path, EXPORT_WINDOW_NS, 0, &fd);
  ASSERT_EQ(export_records(ex, s.r, (size_t) s.n - 1), 0);
  ASSERT_EQ(export_records(ex, s.r + s.n - 1, 1), 0); /* the worker's */
  export_dropped(ex, 3000, 3);
  ASSERT_EQ(export_finish(ex, 0, "signal"), 0);
  ASSERT_EQ(export_finish(ex, 0, "signal"), -EINVAL);
  export_stats(ex, &st);
  export_free(ex);
  close(fd);
  ASSERT_EQ(st.drops, 8);
  ASSERT_EQ(st.records, s.n);

  tt_load(path, &t);
  tt_check(&t);
  ASSERT_EQ(t.drops, 8);
  ASSERT_STR_EQ(t.end_reason, "signal");
  /* Nothing past the last record (2400, not 5000). */
  ASSERT_EQ(t.duration_ns, 2400 - START);
  ASSERT_EQ(find(&t, "tick", NULL, found, 8), 1);
  ASSERT_EQ(found[0]->ts + found[0]->dur, 2400 - START);
  ASSERT_STR_EQ(tt_cut(found[0]), "end");
  ASSERT_EQ(find(&t, "callback", NULL, found, 8), 1);
  ASSERT_STR_EQ(tt_cut(found[0]), "end");
  ASSERT_GE(found[0]->ts + found[0]->dur, 2400 - START - 2); /* see
                                                                printed_dur */
  ASSERT_EQ(find(&t, "work", NULL, found, 8), 1);
  ASSERT_STR_EQ(tt_cut(found[0]), "end");
  ASSERT_EQ(found[0]->ts + found[0]->dur, 2400 - START);
  tt_free(&t);
  unlink(path);
  free(s.r);
  return 0;
}

/* A runtime speaking a newer trace format is refused; the oldest one
 * still read is read. */
TEST_IMPL(tracer_export_version) {
  struct tt_stream s = {0};
  struct exporter* ex = NULL;
  struct export_opts opts;
  struct export_stats st;
  memset(&opts, 0, sizeof(opts));
  opts.fd = -1;
  opts.pid = 1;
  tt_add(&s, 2000, LOOP, LRT_REC_LOOP_START, 0, 0, 1,
         LRT_LOOP_INFO(0x012c02, 4, LRT_TRACE_VERSION + 1));
  ASSERT_EQ(export_new(&ex, &opts), 0);
  ASSERT_EQ(export_records(ex, s.r, 1), -EPROTONOSUPPORT);
  export_stats(ex, &st);
  ASSERT_EQ(st.trace_version, LRT_TRACE_VERSION + 1);
  export_free(ex);
  ex = NULL;
  s.n = 0;
  tt_add(&s, 2000, LOOP, LRT_REC_LOOP_START, 0, 0, 1,
         LRT_LOOP_INFO(0x012c02, 4, LRT_TRACE_VERSION_OLDEST));
  ASSERT_EQ(export_new(&ex, &opts), 0);
  ASSERT_EQ(export_records(ex, s.r, 1), 0);
  export_free(ex);
  free(s.r);
  return 0;
}

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* Whatever comes in, the file is valid JSON, spans nest and lie inside
 * the recording. */
TEST_IMPL(tracer_export_garbage) {
  struct tt_stream s = {0};
  const char* path = tt_tmp(".json");
  struct tt_trace t;
  uint64_t ts = START;
  int round;
  int i;
  for (round = 0; round < 4; round++) {
    s.n = 0;
    for (i = 0; i < 50000; i++) {
      uint64_t r = rng();
      struct lrt_record* rec;
      ts += r % 3000;
      /* Mostly in order; now and then anywhere in the first 18 min. */
      rec = tt_add(&s, (r >> 60) == 0 ? START + rng() % (1ull << 40) : ts,
                   100 + (uint32_t) (r >> 20) % 4,
                   (uint8_t) ((r >> 8) % (LRT_REC_TYPE_MAX + 2)),
                   (uint8_t) (r >> 16), (uint16_t) ((r >> 24) % 6),
                   (r >> 32) % 8, (r >> 40) % 5000);
      if (rec->type == LRT_REC_LABEL) {
        uint64_t x = rng();
        memcpy(rec->text, &x, 8);
        x = rng();
        memcpy(rec->text + 8, &x, 8);
      }
      if (rec->type == LRT_REC_LOOP_START)
        rec->arg =
            LRT_LOOP_INFO(rng() & 0xffffff, rng() & 0xffff, LRT_TRACE_VERSION);
    }
    export_to(path, s.r, s.n, round % 2 ? EXPORT_WINDOW_NS : 0, round > 1);
    tt_load(path, &t); /* nesting is checked here */
    for (i = 0; i < t.nspans; i++) {
      ASSERT_GE(t.spans[i].ts, 0);
      ASSERT_LE(t.spans[i].ts + t.spans[i].dur, t.duration_ns);
    }
    tt_free(&t);
  }
  unlink(path);
  free(s.r);
  return 0;
}

/* Memory stays flat however long the recording: what the exporter holds
 * after 400k ticks (one window of records queued, the largest tick, the
 * tasks in flight) does not grow over the next 800k. */
TEST_IMPL(tracer_export_bounded_memory) {
  struct tt_stream loop = {0};
  struct tt_stream worker = {0};
  struct export_stats st;
  uint64_t clock = START;
  uint64_t memory[3];
  int round;
  int fd;
  int i;
  struct exporter* ex = exporter_to("/dev/null", EXPORT_WINDOW_NS, 0, &fd);
  session(&loop);
  ASSERT_EQ(export_records(ex, loop.r, (size_t) loop.n), 0);
  for (round = 0; round < 3; round++) {
    for (i = 0; i < 400000; i++) {
      uint64_t task = (uint64_t) round * 1000000 + (uint64_t) i + 1;
      uint64_t t = clock;
      loop.n = 0;
      worker.n = 0;
      tt_add(&loop, t + 100, LOOP, LRT_REC_TICK_BEGIN, 0, 0, task, 0);
      tt_add(&loop, t + 200, LOOP, LRT_REC_PHASE, LRT_PHASE_POLL, 0, task, 0);
      tt_add(&loop, t + 300, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_READ, 0, 0,
             0);
      tt_add(&loop, t + 400, LOOP, LRT_REC_WORK_SUBMIT, LRT_CB_WORK, 0, task,
             50);
      tt_add(&loop, t + 500, LOOP, LRT_REC_CALLBACK_END, LRT_CB_READ, 0, 0, 0);
      tt_add(&loop, t + 600, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_WORK, 0, task,
             0);
      tt_add(&loop, t + 700, LOOP, LRT_REC_CALLBACK_END, LRT_CB_WORK, 0, task,
             0);
      tt_add(&loop, t + 800, LOOP, LRT_REC_TICK_END, 0, 0, task, 0);
      tt_add(&worker, t + 450, WORKER, LRT_REC_WORK_START, 0, 0, task, 0);
      tt_add(&worker, t + 550, WORKER, LRT_REC_WORK_END, 0, 0, task, 0);
      ASSERT_EQ(export_records(ex, loop.r, (size_t) loop.n), 0);
      ASSERT_EQ(export_records(ex, worker.r, (size_t) worker.n), 0);
      ASSERT_EQ(export_advance(ex, t + 800), 0);
      clock += 10000; /* a tick every 10 µs: 1M records/s */
    }
    export_stats(ex, &st);
    memory[round] = st.memory;
  }
  ASSERT_UINT_EQ(memory[2], memory[0]);
  ASSERT_UINT_LE(memory[0], 16 << 20); /* 100 ms of records is 3.2 MB */
  ASSERT_EQ(export_finish(ex, clock, "duration"), 0);
  export_free(ex);
  close(fd);
  free(loop.r);
  free(worker.r);
  return 0;
}

/* ------------------------------------------------------------------------
 * json_writer
 */

TEST_IMPL(tracer_json_numbers) {
  char buf[64];
  char* end;
  end = jw_fmt_us(buf, 0);
  *end = '\0';
  ASSERT_STR_EQ(buf, "0.000");
  end = jw_fmt_us(buf, 1);
  *end = '\0';
  ASSERT_STR_EQ(buf, "0.001");
  end = jw_fmt_us(buf, 1234567);
  *end = '\0';
  ASSERT_STR_EQ(buf, "1234.567");
  end = jw_fmt_us(buf, 10000000);
  *end = '\0';
  ASSERT_STR_EQ(buf, "10000.000");
  end = jw_fmt_u64(buf, UINT64_MAX);
  *end = '\0';
  ASSERT_STR_EQ(buf, "18446744073709551615");
  end = jw_fmt_u64(buf, 9);
  *end = '\0';
  ASSERT_STR_EQ(buf, "9");
  end = jw_fmt_u64(buf, 10);
  *end = '\0';
  ASSERT_STR_EQ(buf, "10");
  end = jw_fmt_u64(buf, 100);
  *end = '\0';
  ASSERT_STR_EQ(buf, "100");
  return 0;
}

static const char* escaped(const char* s, size_t n) {
  static char buf[1024];
  *jw_fmt_string(buf, s, n) = '\0';
  return buf;
}

TEST_IMPL(tracer_json_strings) {
  ASSERT_STR_EQ(escaped("", 0), "\"\"");
  ASSERT_STR_EQ(escaped("plain", 5), "\"plain\"");
  ASSERT_STR_EQ(escaped("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
  ASSERT_STR_EQ(escaped("\n\r\t\b\f\x01\x1f\x7f", 8),
                "\"\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\"");
  ASSERT_STR_EQ(escaped("\0x", 2), "\"\\u0000x\"");
  /* Valid UTF-8 passes: 2, 3 and 4 bytes. */
  ASSERT_STR_EQ(escaped("\xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80", 9),
                "\"\xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80\"");
  /* Invalid: stray continuation, overlong, surrogate, above U+10FFFF,
   * cut short, 0xff. */
  ASSERT_STR_EQ(escaped("\x80", 1), "\"\\ufffd\"");
  ASSERT_STR_EQ(escaped("\xc1\xbf", 2), "\"\\ufffd\\ufffd\"");
  ASSERT_STR_EQ(escaped("\xe0\x80\xaf", 3), "\"\\ufffd\\ufffd\\ufffd\"");
  ASSERT_STR_EQ(escaped("\xed\xa0\x80", 3), "\"\\ufffd\\ufffd\\ufffd\"");
  ASSERT_STR_EQ(escaped("\xf4\x90\x80\x80", 4),
                "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
  ASSERT_STR_EQ(escaped("\xe2\x9c", 2), "\"\\ufffd\\ufffd\"");
  ASSERT_STR_EQ(escaped("a\xff"
                        "b",
                        3),
                "\"a\\ufffdb\"");
  /* The bound holds for the worst input. */
  {
    char in[100];
    char out[JW_ESCAPED_MAX(100) + 1];
    memset(in, 1, sizeof(in));
    ASSERT_EQ(jw_fmt_string(out, in, sizeof(in)) - out, JW_ESCAPED_MAX(100));
  }
  return 0;
}

/* Output larger than the buffer, and a write error that sticks. */
TEST_IMPL(tracer_json_writer_io) {
  const char* path = tt_tmp(".out");
  struct json_writer w;
  char* big = malloc(3 * JW_BUFFER_SIZE);
  size_t len;
  char* back;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int i;
  ASSERT_NOT_NULL(big);
  ASSERT_GE(fd, 0);
  for (i = 0; i < 3 * JW_BUFFER_SIZE; i++)
    big[i] = (char) ('a' + i % 26);
  ASSERT_EQ(jw_init(&w, fd), 0);
  JW_LIT(&w, "[");
  jw_raw(&w, big, 3 * JW_BUFFER_SIZE);
  jw_string(&w, big, JW_BUFFER_SIZE);
  jw_u64(&w, 42);
  ASSERT_EQ(jw_flush(&w), 0);
  ASSERT_EQ(w.total, 1 + 3 * JW_BUFFER_SIZE + JW_BUFFER_SIZE + 2 + 2);
  jw_free(&w);
  close(fd);
  back = test_slurp(path, &len);
  ASSERT_NOT_NULL(back);
  ASSERT_EQ(len, 1 + 3 * JW_BUFFER_SIZE + JW_BUFFER_SIZE + 2 + 2);
  ASSERT_MEM_EQ(back + 1, big, 3 * JW_BUFFER_SIZE);
  ASSERT_STR_EQ(back + len - 2, "42");
  free(back);
  unlink(path);

  /* A full disk: /dev/full. */
  fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    ASSERT_EQ(jw_init(&w, fd), 0);
    jw_raw(&w, big, 2 * JW_BUFFER_SIZE);
    ASSERT_EQ(jw_error(&w), -ENOSPC);
    jw_u64(&w, 1);
    ASSERT_EQ(jw_flush(&w), -ENOSPC);
    jw_free(&w);
    close(fd);
  }
  free(big);
  return 0;
}

/* Threads are named and sorted: loops first in the order seen, workers
 * in the order they first ran a task. */
TEST_IMPL(tracer_export_thread_names) {
  struct tt_stream s = {0};
  const char* path = tt_tmp(".json");
  struct tt_trace t;
  const cJSON* ev;
  char seen[256] = "";
  tt_add(&s, 2000, 200, LRT_REC_THREAD, LRT_THREAD_OTHER, 0, 0, 0);
  tt_add(&s, 2001, 201, LRT_REC_THREAD, LRT_THREAD_WORKER, 0, 1, 0);
  tt_add(&s, 2002, 202, LRT_REC_THREAD, LRT_THREAD_WORKER, 0, 2, 0);
  tt_add(&s, 2010, 300, LRT_REC_THREAD, LRT_THREAD_LOOP, 0, 1, 0);
  tt_add(&s, 2020, 200, LRT_REC_THREAD, LRT_THREAD_LOOP, 0, 2, 0);
  tt_add(&s, 2030, 202, LRT_REC_WORK_START, 0, 0, 1, 0);
  tt_add(&s, 2040, 201, LRT_REC_WORK_START, 0, 0, 2, 0);
  tt_add(&s, 2050, 202, LRT_REC_WORK_END, 0, 0, 1, 0);
  tt_add(&s, 2060, 201, LRT_REC_WORK_END, 0, 0, 2, 0);
  /* Records of the other role on a thread are ignored. */
  tt_add(&s, 2070, 201, LRT_REC_TICK_BEGIN, 0, 0, 1, 0);
  tt_add(&s, 2080, 300, LRT_REC_WORK_START, 0, 0, 3, 0);
  export_to(path, s.r, s.n, EXPORT_WINDOW_NS, 0);
  tt_load(path, &t);
  tt_check(&t);
  cJSON_ArrayForEach(ev, t.root) {
    const char* name = cJSON_GetObjectItem(ev, "name")->valuestring;
    const cJSON* args = cJSON_GetObjectItem(ev, "args");
    char step[64];
    if (strcmp(name, "thread_name") == 0)
      snprintf(step, sizeof(step), "%g=%s,",
               cJSON_GetObjectItem(ev, "tid")->valuedouble,
               cJSON_GetObjectItem(args, "name")->valuestring);
    else if (strcmp(name, "thread_sort_index") == 0)
      snprintf(step, sizeof(step), "%g ",
               cJSON_GetObjectItem(args, "sort_index")->valuedouble);
    else
      continue;
    strncat(seen, step, sizeof(seen) - strlen(seen) - 1);
  }
  ASSERT_STR_EQ(seen,
                "300=event loop,0 200=event loop 2,1 202=worker 1,101 "
                "201=worker 2,102 ");
  ASSERT_EQ(t.nspans, 2);
  tt_free(&t);
  unlink(path);
  free(s.r);
  return 0;
}

/* A label announced after records that use it (as when a tracer attaches
 * and has the runtime announce its labels again) still names them; one
 * that never comes is "label N" after a while. */
TEST_IMPL(tracer_export_late_label) {
  struct tt_stream s = {0};
  struct tt_stream label = {0};
  const char* path = tt_tmp(".json");
  const struct tt_span* found[4];
  struct exporter* ex;
  struct export_stats st;
  struct tt_trace t;
  const uint64_t ms = 1000000;
  int fd;

  tt_add(&s, 2000, LOOP, LRT_REC_TICK_BEGIN, 0, 0, 1, 0);
  tt_add(&s, 2100, LOOP, LRT_REC_PHASE, LRT_PHASE_TIMERS, 0, 1, 0);
  tt_add(&s, 2200, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_TIMER, 30, 0, 0);
  tt_add(&s, 2300, LOOP, LRT_REC_CALLBACK_END, LRT_CB_TIMER, 0, 0, 0);
  tt_add(&s, 2400, LOOP, LRT_REC_TICK_END, 0, 0, 1, 0);
  tt_add(&s, 3000, LOOP, LRT_REC_TICK_BEGIN, 0, 0, 2, 0);
  tt_add(&s, 3100, LOOP, LRT_REC_PHASE, LRT_PHASE_TIMERS, 0, 2, 0);
  tt_add(&s, 3200, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_TIMER, 31, 0, 0);
  tt_add(&s, 3300, LOOP, LRT_REC_CALLBACK_END, LRT_CB_TIMER, 0, 0, 0);
  tt_add(&s, 3400, LOOP, LRT_REC_TICK_END, 0, 0, 2, 0);
  tt_add_label(&label, LOOP, 30, "late", 4);

  ex = exporter_to(path, EXPORT_WINDOW_NS, 0, &fd);
  ASSERT_EQ(export_records(ex, s.r, (size_t) s.n), 0);
  /* Past the window, but label 30 may still come: nothing written. */
  ASSERT_EQ(export_advance(ex, 2000 + EXPORT_WINDOW_NS + 50 * ms), 0);
  export_stats(ex, &st);
  ASSERT_EQ(st.events, 4); /* the head of the file, the loop's name */
  ASSERT_EQ(export_records(ex, label.r, (size_t) label.n), 0);
  ASSERT_EQ(export_advance(ex, 2000 + EXPORT_WINDOW_NS + 60 * ms), 0);
  export_stats(ex, &st);
  ASSERT_EQ(st.events, 7); /* tick 1: tick, timers, callback */
  /* Label 31 never comes: its tick is written after the wait. */
  ASSERT_EQ(export_advance(ex, 3000 + EXPORT_WINDOW_NS + 500 * ms), 0);
  export_stats(ex, &st);
  ASSERT_EQ(st.events, 7);
  ASSERT_EQ(export_advance(ex, 3300 + EXPORT_WINDOW_NS + EXPORT_LABEL_WAIT_NS),
            0);
  export_stats(ex, &st);
  ASSERT_EQ(st.events, 10);
  ASSERT_EQ(export_finish(ex, 5000, "duration"), 0);
  export_free(ex);
  close(fd);

  tt_load(path, &t);
  tt_check(&t);
  ASSERT_EQ(find(&t, "callback", NULL, found, 4), 2);
  ASSERT_STR_EQ(found[0]->name, "late");
  ASSERT_STR_EQ(found[1]->name, "label 31");
  tt_free(&t);
  unlink(path);
  free(s.r);
  free(label.r);
  return 0;
}

/* The `dropped` instants of a trace: their records summed, and the
 * reason of the last one. */
static int64_t dropped_records(const struct tt_trace* t, const char** reason) {
  const cJSON* ev;
  int64_t sum = 0;
  cJSON_ArrayForEach(ev, t->root) {
    const cJSON* name = cJSON_GetObjectItem(ev, "name");
    const cJSON* args = cJSON_GetObjectItem(ev, "args");
    const cJSON* why = cJSON_GetObjectItem(args, "reason");
    if (!cJSON_IsString(name) || strcmp(name->valuestring, "dropped") != 0)
      continue;
    sum += (int64_t) cJSON_GetObjectItem(args, "records")->valuedouble;
    if (reason != NULL)
      *reason = cJSON_IsString(why) ? why->valuestring : NULL;
  }
  return sum;
}

/* A LOST record says why records were lost; a forged count (about
 * 1e19) is refused, never printed or added. */
TEST_IMPL(tracer_export_lost_reasons) {
  const char* path = tt_tmp(".json");
  struct tt_stream s = {0};
  struct export_stats st;
  struct tt_trace t;
  const char* reason = NULL;
  char* text;

  session(&s);
  tt_add(&s, 2000, LOOP, LRT_REC_LOST, 0, 0, 5, 0);
  tt_add(&s, 2100, LOOP, LRT_REC_LOST, 0, 0, 10000000000000000000ull, 0);
  tt_add(&s, 2200, LOOP, LRT_REC_LOST, 0, 0, UINT64_MAX, 0);
  tt_add(&s, 2300, LOOP, LRT_REC_LOST, 1, 0, 4, 0);
  st = export_to(path, s.r, s.n, 0, 0);
  ASSERT_EQ(st.drops, 9);
  ASSERT_GE(st.invalid, 2);
  tt_load(path, &t);
  tt_check(&t);
  ASSERT_EQ(t.drops, 9);
  ASSERT_EQ(dropped_records(&t, &reason), 9);
  ASSERT_NOT_NULL(reason);
  ASSERT_STR_EQ(reason, "buffered at exit (process killed)");
  tt_free(&t);
  text = test_slurp(path, NULL);
  ASSERT_NULL(strstr(text, "\"reason\":\"\""));
  ASSERT_NOT_NULL(strstr(text, "\"reason\":\"runtime buffer full\""));
  ASSERT_NULL(strstr(text, "1000000000000000"));
  ASSERT_NULL(strstr(text, "18446744073709551615"));
  free(text);
  unlink(path);
  free(s.r);
  return 0;
}

/* Every reason a `dropped` instant gives is one of the vocabulary's
 * (TRACE_DROP_MAP, which the viewer's vocab.js is made from): the
 * runtime's two, the ring buffer's and what was left in it at the stop. */
TEST_IMPL(tracer_export_drop_reasons_vocab) {
  static const char* const vocab[] = {
#define XX(name, text) text,
      TRACE_DROP_MAP(XX)
#undef XX
  };
  const char* path = tt_tmp(".json");
  struct tt_stream s = {0};
  struct exporter* ex;
  struct tt_trace t;
  const cJSON* ev;
  unsigned seen = 0;
  size_t i;
  int fd;

  session(&s);
  tt_add(&s, 2000, LOOP, LRT_REC_LOST, LRT_LOST_FULL, 0, 3, 0);
  tt_add(&s, 2100, LOOP, LRT_REC_LOST, LRT_LOST_AT_EXIT, 0, 4, 0);
  ex = exporter_to(path, 0, 0, &fd);
  ASSERT_EQ(export_records(ex, s.r, (size_t) s.n), 0);
  export_dropped(ex, 2200, 5);
  export_dropped_left(ex, 2300, 6);
  ASSERT_EQ(export_finish(ex, 3000, "duration"), 0);
  export_free(ex);
  close(fd);

  tt_load(path, &t);
  cJSON_ArrayForEach(ev, t.root) {
    const cJSON* name = cJSON_GetObjectItem(ev, "name");
    const cJSON* why =
        cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "args"), "reason");
    if (!cJSON_IsString(name) || strcmp(name->valuestring, "dropped") != 0)
      continue;
    ASSERT(cJSON_IsString(why));
    for (i = 0; i < sizeof(vocab) / sizeof(vocab[0]); i++)
      if (strcmp(why->valuestring, vocab[i]) == 0)
        break;
    ASSERT_LT(i, sizeof(vocab) / sizeof(vocab[0]));
    seen |= 1u << i;
  }
  ASSERT_EQ(seen, (1u << DROP_RUNTIME_FULL) | (1u << DROP_AT_EXIT) |
                      (1u << DROP_RING_FULL) | (1u << DROP_LEFT_IN_RING));
  ASSERT_EQ(dropped_records(&t, NULL), 18);
  tt_free(&t);
  unlink(path);
  free(s.r);
  return 0;
}

/* A task submitted from main before lrt_run: the loop thread's batch
 * holds the submit after records stamped later (its introduction), and
 * the worker's batch with the start comes first. The flow and the queue
 * wait are whole all the same. */
TEST_IMPL(tracer_export_submit_stamped_early) {
  struct tt_stream all = {0};
  const char* path = tt_tmp(".json");
  const struct tt_span* s[4];
  struct tt_trace t;
  tt_add(&all, 1100, WORKER, LRT_REC_THREAD, LRT_THREAD_WORKER, 0, 1, 0);
  tt_add(&all, 3000, WORKER, LRT_REC_WORK_START, 0, 0, 7, 0);
  tt_add(&all, 3500, WORKER, LRT_REC_WORK_END, 0, 0, 7, 0);
  tt_add(&all, 5000, LOOP, LRT_REC_THREAD, LRT_THREAD_LOOP, 0, 1, 0);
  tt_add(&all, 5000, LOOP, LRT_REC_LOOP_START, 0, 0, 1,
         LRT_LOOP_INFO(0x012c02, 4, LRT_TRACE_VERSION));
  tt_add(&all, 2000, LOOP, LRT_REC_WORK_SUBMIT, LRT_CB_WORK, 0, 7, 100);
  tt_add(&all, 6000, LOOP, LRT_REC_TICK_BEGIN, 0, 0, 1, 0);
  tt_add(&all, 6100, LOOP, LRT_REC_PHASE, LRT_PHASE_POLL, 0, 1, 0);
  tt_add(&all, 6200, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_WORK, 0, 7, 0);
  tt_add(&all, 6300, LOOP, LRT_REC_CALLBACK_END, LRT_CB_WORK, 0, 7, 0);
  tt_add(&all, 6400, LOOP, LRT_REC_TICK_END, 0, 0, 1, 0);
  export_to(path, all.r, all.n, EXPORT_WINDOW_NS, 0);
  tt_load(path, &t);
  tt_check(&t);
  ASSERT_EQ(find(&t, "work", NULL, s, 4), 1);
  ASSERT(tt_has_flag(s[0], "flow_in"));
  ASSERT_DOUBLE_GE(tt_arg_num(s[0], "queue_wait_us"), 0.9995);
  ASSERT_DOUBLE_LE(tt_arg_num(s[0], "queue_wait_us"), 1.0005);
  ASSERT_EQ(find(&t, "callback", NULL, s, 4), 1);
  ASSERT(tt_has_flag(s[0], "flow_in"));
  tt_free(&t);
  unlink(path);
  free(all.r);
  return 0;
}

/* The tick in progress when the session began: the runtime says so
 * (LRT_BEGUN_EARLIER), or only a phase of it is seen. Either way it is
 * a tick cut at its start, with its callbacks inside. */
TEST_IMPL(tracer_export_begun_earlier) {
  struct tt_stream s = {0};
  const char* path = tt_tmp(".json");
  const struct tt_span* found[8];
  struct tt_trace t;
  session(&s);
  tt_add(&s, 2000, LOOP, LRT_REC_TICK_BEGIN, 0, 0, 41, LRT_BEGUN_EARLIER);
  tt_add(&s, 2000, LOOP, LRT_REC_PHASE, LRT_PHASE_POLL, 0, 41,
         LRT_BEGUN_EARLIER);
  tt_add(&s, 2100, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_READ, L_READ, 0, 0);
  tt_add(&s, 2200, LOOP, LRT_REC_CALLBACK_END, LRT_CB_READ, 0, 0, 0);
  tt_add(&s, 2300, LOOP, LRT_REC_PHASE, LRT_PHASE_CHECK, 0, 41, 0);
  tt_add(&s, 2400, LOOP, LRT_REC_TICK_END, 0, 0, 41, 0);
  /* Another loop whose tick is seen from its check phase on. */
  tt_add(&s, 2500, LOOP + 5, LRT_REC_THREAD, LRT_THREAD_LOOP, 0, 2, 0);
  tt_add(&s, 2600, LOOP + 5, LRT_REC_PHASE, LRT_PHASE_CHECK, 0, 9, 0);
  tt_add(&s, 2700, LOOP + 5, LRT_REC_TICK_END, 0, 0, 9, 0);
  export_to(path, s.r, s.n, EXPORT_WINDOW_NS, 1);
  tt_load(path, &t);
  tt_check(&t);
  ASSERT_EQ(find(&t, "tick", NULL, found, 8), 2);
  ASSERT_STR_EQ(tt_cut(found[0]), "start");
  ASSERT_STR_EQ(tt_cut(found[1]), "start");
  ASSERT_EQ(find(&t, "phase", "poll", found, 8), 1);
  ASSERT_STR_EQ(tt_cut(found[0]), "start");
  ASSERT_EQ(find(&t, "phase", "check", found, 8), 2);
  ASSERT_STR_EQ(tt_cut(found[0]), "");
  ASSERT_EQ(find(&t, "callback", NULL, found, 8), 1);
  ASSERT_STR_EQ(t.spans[found[0]->parent].name, "poll");
  tt_free(&t);
  unlink(path);
  free(s.r);
  return 0;
}

/* ------------------------------------------------------------------------
 * Bounds: whatever the target sends, the exporter holds a bounded amount
 * (export.h), drops and counts what it cannot hold, and stalls on
 * nothing.
 */

/* One record stamped 2^63 does not hold back the records after it. */
TEST_IMPL(tracer_export_future_record) {
  const char* path = tt_tmp(".json");
  struct tt_stream s = {0};
  const struct tt_span* found[64];
  struct export_stats st;
  struct tt_trace t;
  uint64_t tick;

  session(&s);
  tt_add(&s, 1ull << 63, LOOP, LRT_REC_TICK_BEGIN, 0, 0, 1, 0);
  for (tick = 2; tick < 40; tick++) {
    uint64_t ts = START + tick * 1000000;
    tt_add(&s, ts, LOOP, LRT_REC_TICK_BEGIN, 0, 0, tick, 0);
    tt_add(&s, ts + 100, LOOP, LRT_REC_PHASE, LRT_PHASE_POLL, 0, tick, 0);
    tt_add(&s, ts + 200, LOOP, LRT_REC_TICK_END, 0, 0, tick, 0);
  }
  st = export_to(path, s.r, s.n, EXPORT_WINDOW_NS, 0);
  ASSERT_GE(st.invalid, 1);
  tt_load(path, &t);
  tt_check(&t);
  ASSERT_EQ(find(&t, "tick", NULL, found, 64), 38);
  ASSERT_LE(t.duration_ns, 40 * 1000000);
  tt_free(&t);
  unlink(path);
  free(s.r);
  return 0;
}

/* Threads that come and go (each runs a loop for a few ticks, as
 * short-lived threads with a loop of their own do) are forgotten once
 * idle: memory stays flat over 30000 of them. */
TEST_IMPL(tracer_export_thread_churn) {
  const char* path = tt_tmp(".json");
  struct tt_stream s = {0};
  struct export_stats st;
  struct exporter* ex;
  uint64_t memory[3];
  uint64_t clock = START + 1000;
  uint32_t tid = 1000;
  int fd;
  int round;
  int i;

  ex = exporter_to(path, EXPORT_WINDOW_NS, 0, &fd);
  for (round = 0; round < 3; round++) {
    for (i = 0; i < 10000; i++, tid++, clock += 1000000) {
      s.n = 0;
      tt_add(&s, clock, tid, LRT_REC_THREAD, LRT_THREAD_LOOP, 0, tid, 0);
      tt_add(&s, clock + 10, tid, LRT_REC_TICK_BEGIN, 0, 0, 1, 0);
      tt_add(&s, clock + 20, tid, LRT_REC_PHASE, LRT_PHASE_POLL, 0, 1, 0);
      tt_add(&s, clock + 30, tid, LRT_REC_TICK_END, 0, 0, 1, 0);
      ASSERT_EQ(export_records(ex, s.r, (size_t) s.n), 0);
      ASSERT_EQ(export_advance(ex, clock + 30), 0);
    }
    export_stats(ex, &st);
    memory[round] = st.memory;
  }
  ASSERT_UINT_LE(memory[2], memory[0] + memory[0] / 10);
  ASSERT_UINT_LE(memory[0], 16 << 20);
  ASSERT_EQ(st.drops, 0);
  ASSERT_EQ(export_finish(ex, 0, "duration"), 0);
  export_free(ex);
  close(fd);
  unlink(path);
  free(s.r);
  return 0;
}

/* A new thread id per record, faster than threads could go idle: past
 * EXPORT_THREADS_MAX at once their records are dropped and counted,
 * with a reason. */
TEST_IMPL(tracer_export_tid_flood) {
  const char* path = tt_tmp(".json");
  struct tt_stream s = {0};
  struct export_stats st;
  struct exporter* ex;
  struct tt_trace t;
  int fd;
  int i;
  char* text;

  ex = exporter_to(path, EXPORT_WINDOW_NS, 0, &fd);
  for (i = 0; i < 3 * EXPORT_THREADS_MAX; i++) {
    s.n = 0;
    tt_add(&s, START + 1000 + (uint64_t) i, 5000 + (uint32_t) i,
           LRT_REC_WORK_START, 0, 0, (uint64_t) i + 1, 0);
    ASSERT_EQ(export_records(ex, s.r, 1), 0);
  }
  ASSERT_EQ(export_advance(ex, START + 1000 + 3 * EXPORT_THREADS_MAX), 0);
  export_stats(ex, &st);
  ASSERT_EQ(st.drops, 2 * EXPORT_THREADS_MAX);
  ASSERT_UINT_LE(st.memory, 32 << 20);
  ASSERT_EQ(export_finish(ex, 0, "duration"), 0);
  export_free(ex);
  close(fd);
  tt_load(path, &t);
  tt_check(&t);
  ASSERT_EQ(t.drops, 2 * EXPORT_THREADS_MAX);
  tt_free(&t);
  text = test_slurp(path, NULL);
  ASSERT_NOT_NULL(strstr(text, "\"reason\":\"too many threads at once\""));
  free(text);
  unlink(path);
  free(s.r);
  return 0;
}

/* A tick that never ends, with callbacks in it forever: the spans held
 * stay bounded; the tick is written in pieces cut at their ends and
 * starts, every callback in its phase. */
TEST_IMPL(tracer_export_endless_tick) {
  const char* path = tt_tmp(".json");
  struct tt_stream s = {0};
  struct export_stats st;
  struct exporter* ex;
  struct tt_trace t;
  uint64_t clock = START + 1000;
  uint64_t peak = 0;
  int callbacks = 0;
  int cut_ticks = 0;
  int fd;
  int i;

  ex = exporter_to(path, EXPORT_WINDOW_NS, 0, &fd);
  session(&s);
  tt_add(&s, clock, LOOP, LRT_REC_TICK_BEGIN, 0, 0, 1, 0);
  tt_add(&s, clock + 10, LOOP, LRT_REC_PHASE, LRT_PHASE_POLL, 0, 1, 0);
  ASSERT_EQ(export_records(ex, s.r, (size_t) s.n), 0);
  for (i = 0; i < 3 * EXPORT_SPANS_MAX; i++) {
    clock += 100;
    s.n = 0;
    tt_add(&s, clock, LOOP, LRT_REC_CALLBACK_BEGIN, LRT_CB_READ, L_READ, 0, 0);
    tt_add(&s, clock + 50, LOOP, LRT_REC_CALLBACK_END, LRT_CB_READ, 0, 0, 0);
    ASSERT_EQ(export_records(ex, s.r, 2), 0);
    if (i % 1024 == 0) {
      ASSERT_EQ(export_advance(ex, clock), 0);
      export_stats(ex, &st);
      if (st.memory > peak)
        peak = st.memory;
    }
  }
  ASSERT_EQ(export_finish(ex, 0, "duration"), 0);
  export_free(ex);
  close(fd);
  ASSERT_UINT_LE(peak, 48 << 20);
  tt_load(path, &t);
  tt_check(&t);
  for (i = 0; i < t.nspans; i++) {
    const struct tt_span* sp = &t.spans[i];
    if (strcmp(sp->cat, "callback") == 0) {
      callbacks++;
      ASSERT(sp->parent >= 0);
      ASSERT_STR_EQ(t.spans[sp->parent].name, "poll");
    }
    if (strcmp(sp->cat, "tick") == 0 && tt_cut(sp)[0] != '\0')
      cut_ticks++;
  }
  ASSERT_EQ(callbacks, 3 * EXPORT_SPANS_MAX);
  ASSERT_GE(cut_ticks, 3);
  tt_free(&t);
  unlink(path);
  free(s.r);
  return 0;
}

/* A flood of one thread's records that nothing lets the window pass:
 * the records waiting stay within EXPORT_QUEUE_MAX. */
TEST_IMPL(tracer_export_queue_bound) {
  const char* path = tt_tmp(".json");
  struct tt_stream s = {0};
  struct export_stats st;
  struct exporter* ex;
  uint64_t clock = START + 1000;
  int fd;
  int i;

  ex = exporter_to(path, EXPORT_WINDOW_NS, 0, &fd);
  for (i = 0; i < 4 * EXPORT_QUEUE_MAX / 3; i++) {
    s.n = 0;
    tt_add(&s, clock, LOOP, LRT_REC_TICK_BEGIN, 0, 0, (uint64_t) i + 1, 0);
    tt_add(&s, clock + 1, LOOP, LRT_REC_PHASE, LRT_PHASE_POLL, 0,
           (uint64_t) i + 1, 0);
    tt_add(&s, clock + 2, LOOP, LRT_REC_TICK_END, 0, 0, (uint64_t) i + 1, 0);
    clock += 3;
    ASSERT_EQ(export_records(ex, s.r, 3), 0);
  }
  export_stats(ex, &st);
  ASSERT_UINT_LE(st.memory, (EXPORT_QUEUE_MAX * 48) + (8 << 20));
  ASSERT_EQ(export_finish(ex, 0, "duration"), 0);
  export_free(ex);
  close(fd);
  unlink(path);
  free(s.r);
  return 0;
}
