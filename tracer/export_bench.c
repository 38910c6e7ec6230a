/* export_bench.c — time the exporter on a synthetic recording. */
#include "export_bench.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "export.h"

#define BENCH_WORKERS 4
#define BENCH_PID 4000
#define BENCH_LOOP_TID 4000
#define BENCH_BATCH 256

/* Records of one thread, in order. */
struct stream {
  struct lrt_record* r;
  size_t len;
  size_t cap;
  size_t fed;
};

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static struct lrt_record* add(struct stream* s, uint64_t ts, uint32_t tid,
                              uint8_t type, uint8_t kind, uint16_t label,
                              uint64_t id, uint64_t arg) {
  struct lrt_record* r;
  if (s->len == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 4096;
    struct lrt_record* grown = realloc(s->r, cap * sizeof(*grown));
    if (grown == NULL)
      return NULL;
    s->r = grown;
    s->cap = cap;
  }
  r = &s->r[s->len++];
  memset(r, 0, sizeof(*r));
  r->ts = ts;
  r->tid = tid;
  r->type = type;
  r->kind = kind;
  r->label = label;
  r->id = id;
  r->arg = arg;
  return r;
}

static int add_label(struct stream* s, uint64_t ts, uint16_t id,
                     const char* text) {
  size_t len = strlen(text);
  size_t chunk;
  for (chunk = 0; chunk * LRT_LABEL_CHUNK < len || chunk == 0; chunk++) {
    size_t n = len - chunk * LRT_LABEL_CHUNK;
    int last = n <= LRT_LABEL_CHUNK;
    struct lrt_record* r =
        add(s, ts, BENCH_LOOP_TID, LRT_REC_LABEL,
            (uint8_t) (chunk | (last ? LRT_LABEL_LAST : 0)), id, 0, 0);
    if (r == NULL)
      return -ENOMEM;
    memcpy(r->text, text + chunk * LRT_LABEL_CHUNK, last ? n : LRT_LABEL_CHUNK);
    if (last)
      break;
  }
  return 0;
}

enum { L_TIMER = 1, L_PBKDF2, L_READ, L_PARSE, L_IMMEDIATE };

/* One tick of a busy loop, and the task it submits on a worker. */
static int add_tick(struct stream* loop, struct stream* workers, uint64_t tick,
                    uint64_t* clock) {
  const uint32_t L = BENCH_LOOP_TID;
  uint64_t t = *clock;
  uint64_t poll_begin;
  struct stream* w = &workers[tick % BENCH_WORKERS];
  uint32_t wtid = (uint32_t) (BENCH_LOOP_TID + 1 + tick % BENCH_WORKERS);
  int ok = 1;
#define STEP(type, kind, label, id, arg) \
  ok &= add(loop, t += 200, L, (type), (kind), (label), (id), (arg)) != NULL
  STEP(LRT_REC_TICK_BEGIN, 0, 0, tick, 0);
  STEP(LRT_REC_PHASE, LRT_PHASE_TIMERS, 0, tick, 0);
  STEP(LRT_REC_CALLBACK_BEGIN, LRT_CB_TIMER, L_TIMER, 0, 0);
  STEP(LRT_REC_CALLBACK_END, LRT_CB_TIMER, L_TIMER, 0, 0);
  STEP(LRT_REC_PHASE, LRT_PHASE_PENDING, 0, tick, 0);
  STEP(LRT_REC_PHASE, LRT_PHASE_IDLE, 0, tick, 0);
  STEP(LRT_REC_PHASE, LRT_PHASE_PREPARE, 0, tick, 0);
  STEP(LRT_REC_PHASE, LRT_PHASE_POLL, 0, tick, 0);
  poll_begin = t;
  t += 5000; /* blocked */
  if (tick > 2)
    STEP(LRT_REC_CALLBACK_BEGIN, LRT_CB_CRYPTO, L_PBKDF2, tick - 2, 0);
  if (tick > 2)
    STEP(LRT_REC_CALLBACK_END, LRT_CB_CRYPTO, L_PBKDF2, tick - 2, 0);
  STEP(LRT_REC_CALLBACK_BEGIN, LRT_CB_READ, L_READ, 0, 0);
  STEP(LRT_REC_CALLBACK_BEGIN, LRT_CB_USER, L_PARSE, 0, 0);
  STEP(LRT_REC_CALLBACK_END, LRT_CB_USER, L_PARSE, 0, 0);
  ok &= add(loop, t += 200, L, LRT_REC_WORK_SUBMIT, LRT_CB_CRYPTO, L_PBKDF2,
            tick, 150) != NULL;
  ok &=
      add(w, t + 1000, wtid, LRT_REC_WORK_START, 0, L_PBKDF2, tick, 0) != NULL;
  ok &= add(w, t + 9000, wtid, LRT_REC_WORK_END, 0, L_PBKDF2, tick, 0) != NULL;
  STEP(LRT_REC_CALLBACK_END, LRT_CB_READ, L_READ, 0, 0);
  /* The wait is reported after the callbacks that followed it. */
  ok &= add(loop, poll_begin + 100, L, LRT_REC_WAIT, 0, 0, tick, 4800) != NULL;
  STEP(LRT_REC_PHASE, LRT_PHASE_CHECK, 0, tick, 0);
  STEP(LRT_REC_CALLBACK_BEGIN, LRT_CB_IMMEDIATE, L_IMMEDIATE, 0, 0);
  STEP(LRT_REC_CALLBACK_END, LRT_CB_IMMEDIATE, L_IMMEDIATE, 0, 0);
  STEP(LRT_REC_PHASE, LRT_PHASE_CLOSE, 0, tick, 0);
  STEP(LRT_REC_TICK_END, 0, 0, tick, 0);
#undef STEP
  *clock = t;
  return ok ? 0 : -ENOMEM;
}

int export_bench(const char* output, uint64_t records, int all_phases) {
  struct stream streams[1 + BENCH_WORKERS];
  struct stream* loop = &streams[0];
  struct exporter* ex = NULL;
  struct export_opts opts;
  struct export_stats st;
  uint64_t clock = 1000000000ull;
  uint64_t start_ns = clock;
  uint64_t total = 0;
  uint64_t tick;
  uint64_t t0;
  uint64_t t1;
  double seconds;
  size_t i;
  int fd;
  int err = -ENOMEM;

  memset(streams, 0, sizeof(streams));
  fd = open(output ? output : "/dev/null",
            O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    err = -errno;
    fprintf(stderr, "looptrace: cannot write %s: %s\n",
            output ? output : "/dev/null", strerror(errno));
    return err;
  }

  /* The session's start, then ticks until there are enough records. */
  if (add(loop, clock += 100, BENCH_LOOP_TID, LRT_REC_THREAD, LRT_THREAD_LOOP,
          0, 1, 0) == NULL ||
      add(loop, clock += 100, BENCH_LOOP_TID, LRT_REC_LOOP_START, 0, 0, 1,
          LRT_LOOP_INFO(0x012c02, BENCH_WORKERS, LRT_TRACE_VERSION)) == NULL ||
      add(loop, clock += 100, BENCH_LOOP_TID, LRT_REC_POOL, 0, 0, 0, 0) ==
          NULL ||
      add_label(loop, clock, L_TIMER, "setTimeout") != 0 ||
      add_label(loop, clock, L_PBKDF2, "pbkdf2") != 0 ||
      add_label(loop, clock, L_READ, "socket \"echo\" read") != 0 ||
      add_label(loop, clock, L_PARSE, "parse request \xe2\x9c\x93") != 0 ||
      add_label(loop, clock, L_IMMEDIATE, "setImmediate") != 0)
    goto oom;
  for (i = 0; i < BENCH_WORKERS; i++)
    if (add(&streams[1 + i], clock, (uint32_t) (BENCH_LOOP_TID + 1 + i),
            LRT_REC_THREAD, LRT_THREAD_WORKER, 0, i + 1, 0) == NULL)
      goto oom;
  for (tick = 1;; tick++) {
    total = 0;
    for (i = 0; i < 1 + BENCH_WORKERS; i++)
      total += streams[i].len;
    if (total >= records)
      break;
    if (add_tick(loop, streams + 1, tick, &clock) != 0)
      goto oom;
  }

  memset(&opts, 0, sizeof(opts));
  opts.fd = fd;
  opts.pid = BENCH_PID;
  opts.process_name = "bench";
  opts.command = "looptrace record --bench-export";
  opts.start_ns = start_ns;
  opts.window_ns = EXPORT_WINDOW_NS;
  opts.all_phases = all_phases;

  /* Feed batches the way the ring buffer would: each thread's in order,
   * oldest batch first. */
  t0 = now_ns();
  err = export_new(&ex, &opts);
  if (err != 0)
    goto fail;
  for (;;) {
    struct stream* next = NULL;
    size_t n;
    for (i = 0; i < 1 + BENCH_WORKERS; i++) {
      struct stream* s = &streams[i];
      if (s->fed < s->len &&
          (next == NULL || s->r[s->fed].ts < next->r[next->fed].ts))
        next = s;
    }
    if (next == NULL)
      break;
    n = next->len - next->fed;
    if (n > BENCH_BATCH)
      n = BENCH_BATCH;
    err = export_records(ex, next->r + next->fed, n);
    if (err == 0)
      err = export_advance(ex, next->r[next->fed + n - 1].ts);
    if (err != 0)
      goto fail;
    next->fed += n;
  }
  err = export_finish(ex, clock, "duration");
  if (err != 0)
    goto fail;
  t1 = now_ns();
  export_stats(ex, &st);
  seconds = (double) (t1 - t0) / 1e9;
  printf("export_events_per_s: %.0f\n", (double) st.events / seconds);
  printf("export_records_per_s: %.0f\n", (double) st.records / seconds);
  printf("export_mb_per_s: %.1f\n", (double) st.bytes / seconds / 1e6);
  printf("records: %" PRIu64 "\nevents: %" PRIu64 "\nbytes: %" PRIu64
         "\nseconds: %.3f\n",
         st.records, st.events, st.bytes, seconds);
  err = 0;
  goto cleanup;

oom:
  err = -ENOMEM;
fail:
  fprintf(stderr, "looptrace: bench: %s\n", strerror(-err));
cleanup:
  export_free(ex);
  for (i = 0; i < 1 + BENCH_WORKERS; i++)
    free(streams[i].r);
  close(fd);
  return err;
}
