/* export_bench.c — build/bench/export_bench: times the exporter on a
 * synthetic recording, for tests/bench/run.sh (not part of looptrace).
 *
 *   export_bench N [-o FILE] [--all-phases]
 *
 * Builds about N synthetic records of a busy loop (ticks with phases,
 * timers, I/O and nested callbacks, threadpool tasks on four workers),
 * then times the exporter turning them into a trace written to FILE
 * (default /dev/null), with the same cross-thread ordering as a
 * recording. Prints "export_events_per_s: N" and the details on stdout;
 * exits 0, or 1 after one line on stderr (2 for a usage error).
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "containers.h"
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
  if (array_reserve(&s->r, &s->cap, s->len + 1, sizeof(*s->r)) != 0)
    return NULL;
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

/* The session's start, then ticks until there are about `records`
 * records in `streams` (the loop's, then the workers'). Returns 0 or
 * -ENOMEM. */
static int build(struct stream* streams, uint64_t records, uint64_t* clock) {
  struct stream* loop = &streams[0];
  uint64_t total;
  uint64_t tick;
  size_t i;
  if (add(loop, *clock += 100, BENCH_LOOP_TID, LRT_REC_THREAD, LRT_THREAD_LOOP,
          0, 1, 0) == NULL ||
      add(loop, *clock += 100, BENCH_LOOP_TID, LRT_REC_LOOP_START, 0, 0, 1,
          LRT_LOOP_INFO(0x012c02, BENCH_WORKERS, LRT_TRACE_VERSION)) == NULL ||
      add(loop, *clock += 100, BENCH_LOOP_TID, LRT_REC_POOL, 0, 0, 0, 0) ==
          NULL ||
      add_label(loop, *clock, L_TIMER, "setTimeout") != 0 ||
      add_label(loop, *clock, L_PBKDF2, "pbkdf2") != 0 ||
      add_label(loop, *clock, L_READ, "socket \"echo\" read") != 0 ||
      add_label(loop, *clock, L_PARSE, "parse request \xe2\x9c\x93") != 0 ||
      add_label(loop, *clock, L_IMMEDIATE, "setImmediate") != 0)
    return -ENOMEM;
  for (i = 0; i < BENCH_WORKERS; i++)
    if (add(&streams[1 + i], *clock, (uint32_t) (BENCH_LOOP_TID + 1 + i),
            LRT_REC_THREAD, LRT_THREAD_WORKER, 0, i + 1, 0) == NULL)
      return -ENOMEM;
  for (tick = 1;; tick++) {
    total = 0;
    for (i = 0; i < 1 + BENCH_WORKERS; i++)
      total += streams[i].len;
    if (total >= records)
      return 0;
    if (add_tick(loop, streams + 1, tick, clock) != 0)
      return -ENOMEM;
  }
}

/* Feeds `streams` to `ex` the way the ring buffer would: each thread's in
 * order, oldest batch first. Returns 0 or the exporter's negative errno. */
static int feed(struct exporter* ex, struct stream* streams) {
  for (;;) {
    struct stream* next = NULL;
    size_t n;
    size_t i;
    int err;
    for (i = 0; i < 1 + BENCH_WORKERS; i++) {
      struct stream* s = &streams[i];
      if (s->fed < s->len &&
          (next == NULL || s->r[s->fed].ts < next->r[next->fed].ts))
        next = s;
    }
    if (next == NULL)
      return 0;
    n = next->len - next->fed;
    if (n > BENCH_BATCH)
      n = BENCH_BATCH;
    err = export_records(ex, next->r + next->fed, n);
    if (err == 0)
      err = export_advance(ex, next->r[next->fed + n - 1].ts);
    if (err != 0)
      return err;
    next->fed += n;
  }
}

static void print_figures(const struct exporter* ex, uint64_t elapsed_ns) {
  struct export_stats st;
  double seconds = (double) elapsed_ns / 1e9;
  export_stats(ex, &st);
  printf("export_events_per_s: %.0f\n", (double) st.events / seconds);
  printf("export_records_per_s: %.0f\n", (double) st.records / seconds);
  printf("export_mb_per_s: %.1f\n", (double) st.bytes / seconds / 1e6);
  printf("records: %" PRIu64 "\nevents: %" PRIu64 "\nbytes: %" PRIu64
         "\nseconds: %.3f\n",
         st.records, st.events, st.bytes, seconds);
}

/* Runs the benchmark (see the top of the file). Returns 0, or a negative
 * errno after printing one line to stderr. */
static int export_bench(const char* output, uint64_t records, int all_phases) {
  struct stream streams[1 + BENCH_WORKERS];
  struct exporter* ex = NULL;
  struct export_opts opts;
  uint64_t clock = 1000000000ull;
  uint64_t t0;
  size_t i;
  int fd;
  int err;

  memset(streams, 0, sizeof(streams));
  fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    err = -errno;
    fprintf(stderr, "export_bench: cannot write %s: %s\n", output,
            strerror(errno));
    return err;
  }
  memset(&opts, 0, sizeof(opts));
  opts.fd = fd;
  opts.pid = BENCH_PID;
  opts.process_name = "bench";
  opts.command = "export_bench";
  opts.start_ns = clock;
  opts.window_ns = EXPORT_WINDOW_NS;
  opts.all_phases = all_phases;
  err = build(streams, records, &clock);
  t0 = now_ns();
  err = err ?: export_new(&ex, &opts);
  err = err ?: feed(ex, streams);
  err = err ?: export_finish(ex, clock, "duration");
  if (err == 0)
    print_figures(ex, now_ns() - t0);
  else
    fprintf(stderr, "export_bench: %s\n", strerror(-err));
  export_free(ex);
  for (i = 0; i < 1 + BENCH_WORKERS; i++)
    free(streams[i].r);
  close(fd);
  return err;
}

int main(int argc, char** argv) {
  const char* output = "/dev/null";
  unsigned long long records = 0;
  int all_phases = 0;
  char* end;
  int i;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
      output = argv[++i];
    } else if (strcmp(argv[i], "--all-phases") == 0) {
      all_phases = 1;
    } else if (records == 0 && argv[i][0] >= '1' && argv[i][0] <= '9') {
      errno = 0;
      records = strtoull(argv[i], &end, 10);
      if (errno != 0 || *end != '\0')
        records = 0;
      if (records == 0)
        break;
    } else {
      records = 0;
      break;
    }
  }
  if (records == 0) {
    fprintf(stderr, "usage: export_bench RECORDS [-o FILE] [--all-phases]\n");
    return 2;
  }
  return export_bench(output, records, all_phases) == 0 ? 0 : 1;
}
