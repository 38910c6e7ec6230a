/* export.c — looprt records to Chrome Trace Event JSON.
 *
 * The JSON field names of the trace file are spelled here and nowhere
 * else in the tracer; tracer/TRACE-FORMAT.md is what this file writes.
 *
 * Three stages, all driven by the caller's thread:
 * 1. Ingest (export_records): labels are assembled at once (they always
 *    arrive before their first use); other records are appended to their
 *    thread's queue.
 * 2. Order (advance): queues are merged by timestamp (a heap of threads
 *    keyed by their oldest record), up to a watermark, so that records of
 *    different threads are handled in time order. A thread's own order
 *    is kept as it came.
 * 3. Build and write (handle): a loop thread's spans are collected in a
 *    "group" (one tick, or one top-level callback outside ticks) with a
 *    stack of open spans; when the group's outermost span closes, the
 *    group is sorted by (ts, -dur, depth) and written, each span clamped
 *    into its parent so that nesting is exact. Worker spans, counters and
 *    instants are written as they happen.
 */
#include "export.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "containers.h"
#include "json_writer.h"
#include "trace_names.h"
#include "looptrace_version.h"

enum span_type {
  SPAN_TICK = 1,
  SPAN_PHASE,
  SPAN_WAIT,
  SPAN_CALLBACK,
  SPAN_SUBMIT,
};

enum span_flag {
  SPAN_OPEN = 1,
  SPAN_CUT_END = 2,    /* had not ended when it could no longer be seen */
  SPAN_AFTER_POLL = 4, /* a pending phase after poll */
  SPAN_HAS_CHILD = 8,
  SPAN_SKIP = 16,     /* not written */
  SPAN_CUT_START = 32 /* began before it could be seen */
};

/* Spans nest at most this deep on a thread; deeper begins are counted as
 * invalid and their ends skipped. Perfetto stops at 512. */
#define MAX_DEPTH 500

/* The most bytes one event takes: a label escaped twice (name and args)
 * and the fixed parts. */
#define MAX_EVENT (2 * JW_ESCAPED_MAX(LABEL_TEXT_MAX) + 512)

/* Labels come in chunks of LRT_LABEL_CHUNK bytes, indexed in 7 bits, but
 * are at most LRT_LABEL_MAX_LEN bytes long. */
#define LABEL_CHUNKS ((LRT_LABEL_MAX_LEN + LRT_LABEL_CHUNK) / LRT_LABEL_CHUNK)
#define LABEL_TEXT_MAX (LABEL_CHUNKS * LRT_LABEL_CHUNK)
#define LABEL_IDS 65536

struct span {
  uint64_t ts;    /* absolute ns */
  uint64_t end;   /* absolute ns, once closed */
  uint64_t id;    /* tick number (tick, phase) or task id */
  uint32_t seq;   /* creation order within the group */
  int32_t parent; /* index in the group, -1 at top level */
  uint16_t label; /* callbacks and submits */
  uint16_t depth; /* 0 at top level */
  uint8_t type;   /* enum span_type */
  uint8_t kind;   /* phase or callback kind */
  uint8_t flags;  /* enum span_flag */
};

struct label {
  char* json; /* escaped and quoted; NULL until complete */
  size_t json_len;
  uint32_t chunks;           /* chunks received of the one in progress */
  char text[LABEL_TEXT_MAX]; /* being assembled */
};

enum task_flag {
  TASK_SUBMITTED = 1, /* its submit was recorded */
  TASK_STARTED = 2,   /* its start on a worker was recorded */
};

/* What is known of a task in flight (in exporter.tasks); removed when
 * its completion is written. */
struct task {
  uint64_t id; /* the key */
  uint64_t submit_ts;
  uint32_t flags;
};

/* A record waiting in its thread's queue, with its place in the merge
 * across threads: the earliest ts of it and of the records after it in
 * the queue (bounded by REORDER_MAX), so that a record stamped earlier
 * than the ones before it on its thread (the thread's order is kept)
 * still comes before other threads' later records. */
struct queued {
  struct lrt_record r;
  uint64_t key;
};

/* How far back in a thread's queue an early record pulls the keys. */
#define REORDER_MAX 1024

struct thread {
  uint32_t tid;
  uint8_t role;  /* enum lrt_thread_role, 0 while unknown */
  uint8_t named; /* its thread_name was written */
  uint8_t ids_len;
  char ids[48]; /* ,"pid":P,"tid":T */
  /* Records waiting to be handled: a ring of q_cap (a power of 2). */
  struct queued* q;
  uint32_t q_head;
  uint32_t q_len;
  uint32_t q_cap;
  int32_t heap_pos; /* in exporter.heap, -1 when the queue is empty */
  /* Loop threads: the group being built and its open spans. */
  struct span* group;
  uint32_t group_len;
  size_t group_cap;
  int32_t* stack;
  uint32_t depth;
  size_t stack_cap;
  uint32_t overflow; /* begins ignored beyond MAX_DEPTH */
  uint32_t seq;
  uint64_t last_ts;  /* the last moment its records handled show */
  uint64_t floor;    /* where the last written top-level span ended */
  int32_t tick;      /* index of the open tick span, -1 */
  int32_t last_poll; /* index of the open tick's latest poll phase, -1 */
  /* Worker threads: the task running. */
  int work_open;
  uint16_t work_label;
  uint64_t work_ts;
  uint64_t work_task;
};

/* Why records were lost, as the `dropped` instant says it: the reasons
 * of LRT_REC_LOST's kind (looprt_trace.h), then the tracer's own. */
enum drop_reason {
  DROP_RUNTIME_FULL = 0, /* LRT_REC_LOST kind 0 */
  DROP_AT_EXIT = 1,      /* LRT_REC_LOST kind 1 */
  DROP_RING_FULL,
  DROP_TOO_MANY_THREADS,
  DROP_REASONS
};

static const char* const drop_reasons[DROP_REASONS] = {
    [DROP_RUNTIME_FULL] = "runtime buffer full",
    [DROP_AT_EXIT] = "buffered at exit (process killed)",
    [DROP_RING_FULL] = "ring buffer full",
    [DROP_TOO_MANY_THREADS] = "too many threads at once",
};

/* A LRT_REC_LOST record counting more is forged or corrupt: a thread's
 * buffer cannot lose that much between two flushes. */
#define LOST_MAX (1ull << 32)

/* A forgotten thread: it was named, in this role. */
struct thread_memo {
  uint32_t tid; /* 0: empty */
  uint8_t role;
};

#define MEMO_SIZE 4096 /* a power of 2 */

struct exporter {
  struct json_writer w;
  pid_t pid;
  uint64_t start_ns;
  uint64_t window_ns;
  int all_phases;
  int finished;
  int fatal;            /* stop handling records: see export_records */
  char target_exit[64]; /* how the process ended, "" when not known */
  /* What is held, against the bounds of export.h. */
  size_t queued_records; /* in all threads' queues */
  size_t held_spans;     /* in all loop threads' groups */
  uint64_t next_sweep;   /* when idle threads are looked for next */
  uint64_t forgot_floor; /* where spans of the threads forgotten ended */
  /* Records the tracer itself dropped, not written yet: by reason. */
  uint64_t pending_drops[DROP_REASONS];
  uint64_t pending_drop_ts;
  /* The roles of threads forgotten while idle, so that one coming back
   * keeps its name: direct-mapped by tid. */
  struct thread_memo* memo;
  uint64_t seen_ts; /* the last moment a record received shows */
  char pid_ids[48]; /* ,"pid":P,"tid":P */
  size_t pid_ids_len;
  struct export_stats stats;
  /* Threads: all of them, and an index by tid (of struct thread_ref). */
  struct thread** threads;
  size_t nthreads;
  size_t threads_cap;
  struct u64map index;
  struct thread* last;
  unsigned loops;   /* loop threads named so far */
  unsigned workers; /* worker threads named so far */
  /* Ordering: threads with queued records, a min-heap by the key of
   * their oldest record. */
  struct heap heap;
  /* Tasks in flight (struct task by id). */
  struct u64map tasks;
  /* Threadpool counters, and when the runtime's last snapshot of them
   * (LRT_REC_POOL) was taken. */
  uint64_t queued;
  uint64_t running;
  uint64_t pool_ts;
  /* Labels by id, allocated when first seen. */
  struct label** labels;
  /* Scratch for writing a group. */
  uint32_t* order;
  uint64_t* ends;   /* of the enclosing spans while writing */
  uint32_t* opened; /* their indexes */
  double* sums;     /* their printed ts + dur, as a consumer adds them */
  size_t order_cap;
  size_t ends_cap;
  size_t opened_cap;
  size_t sums_cap;
};

/* An entry of exporter.index. */
struct thread_ref {
  uint64_t tid; /* the key */
  struct thread* t;
};

/* ------------------------------------------------------------------------
 * Small helpers
 */

static uint64_t max_u64(uint64_t a, uint64_t b) {
  return a > b ? a : b;
}

static uint64_t min_u64(uint64_t a, uint64_t b) {
  return a < b ? a : b;
}

static void set_error(struct exporter* ex, int err) {
  if (ex->w.error == 0)
    ex->w.error = err;
}

#define PUT(p, lit) \
  (memcpy((p), (lit), sizeof(lit) - 1), (p) += sizeof(lit) - 1)

static char* put(char* p, const char* s, size_t n) {
  memcpy(p, s, n);
  return p + n;
}

/* The "cut" arg of a span whose ends were not seen (`flags` of enum
 * span_flag), after a comma if `comma`. */
static char* put_cut(char* p, unsigned flags, int comma) {
  unsigned cut = flags & (SPAN_CUT_START | SPAN_CUT_END);
  if (cut == 0)
    return p;
  if (comma)
    *p++ = ',';
  if (cut == SPAN_CUT_START)
    PUT(p, "\"cut\":\"start\"");
  else if (cut == SPAN_CUT_END)
    PUT(p, "\"cut\":\"end\"");
  else
    PUT(p, "\"cut\":\"both\"");
  return p;
}

/* ns since the start of the recording. */
static uint64_t rel(const struct exporter* ex, uint64_t ts) {
  return ts > ex->start_ns ? ts - ex->start_ns : 0;
}

/* Starts an event of at most MAX_EVENT bytes; NULL after a write error. */
static char* event_begin(struct exporter* ex) {
  char* p = jw_reserve(&ex->w, MAX_EVENT + 2);
  if (p == NULL)
    return NULL;
  if (ex->stats.events > 0)
    PUT(p, ",\n");
  ex->stats.events++;
  return p;
}

static void event_end(struct exporter* ex, char* p) {
  *p++ = '}';
  jw_commit(&ex->w, p);
}

static char* put_ids(char* p, const char* ids, size_t len) {
  return put(p, ids, len);
}

/* ------------------------------------------------------------------------
 * Names
 */

static int is_completion(unsigned kind) {
  return kind == LRT_CB_WORK || kind == LRT_CB_FS || kind == LRT_CB_DNS ||
         kind == LRT_CB_CRYPTO;
}

/* The JSON string naming label `id` ("label N" when unknown, `fallback`
 * for label 0) at `p`; returns the end. */
static char* put_label(const struct exporter* ex, char* p, uint16_t id,
                       const char* fallback) {
  const struct label* l = ex->labels[id];
  if (id == 0)
    return jw_fmt_string(p, fallback, strlen(fallback));
  if (l != NULL && l->json != NULL)
    return put(p, l->json, l->json_len);
  PUT(p, "\"label ");
  p = jw_fmt_u64(p, id);
  *p++ = '"';
  return p;
}

static const char* kind_name(unsigned kind) {
  const char* name = lrt_callback_kind_name(kind);
  return name != NULL ? name : "unknown";
}

static const char* phase_name(unsigned phase) {
  const char* name = lrt_phase_name(phase);
  return name != NULL ? name : "unknown";
}

static void label_chunk(struct exporter* ex, const struct lrt_record* r) {
  unsigned chunk = r->kind & ~LRT_LABEL_LAST;
  struct label* l;
  size_t len;
  char* json;
  if (r->label == 0 || chunk >= LABEL_CHUNKS) {
    ex->stats.invalid++;
    return;
  }
  l = ex->labels[r->label];
  if (l == NULL) {
    l = calloc(1, sizeof(*l));
    if (l == NULL) {
      set_error(ex, -ENOMEM);
      return;
    }
    ex->labels[r->label] = l;
  }
  if (chunk == 0)
    l->chunks = 0;
  memcpy(l->text + chunk * LRT_LABEL_CHUNK, r->text, LRT_LABEL_CHUNK);
  l->chunks |= 1u << chunk;
  if (!(r->kind & LRT_LABEL_LAST))
    return;
  /* Complete only if every chunk up to this one came. */
  if (l->chunks == (2u << chunk) - 1) {
    len = chunk * LRT_LABEL_CHUNK +
          strnlen(l->text + chunk * LRT_LABEL_CHUNK, LRT_LABEL_CHUNK);
    json = malloc(JW_ESCAPED_MAX(len));
    if (json == NULL) {
      set_error(ex, -ENOMEM);
      return;
    }
    free(l->json);
    l->json = json;
    l->json_len = (size_t) (jw_fmt_string(json, l->text, len) - json);
  } else {
    ex->stats.invalid++;
  }
  l->chunks = 0;
}

/* ------------------------------------------------------------------------
 * Metadata, counters and instants
 */

/* {"name":NAME,"ph":"M","pid":P,"tid":T,"args":{ — the start of a
 * metadata event; the caller adds the args and "}". */
static char* meta_begin(struct exporter* ex, const char* name, const char* ids,
                        size_t ids_len) {
  char* p = event_begin(ex);
  if (p == NULL)
    return NULL;
  PUT(p, "{\"name\":\"");
  p = put(p, name, strlen(name));
  PUT(p, "\",\"ph\":\"M\"");
  p = put_ids(p, ids, ids_len);
  PUT(p, ",\"args\":{");
  return p;
}

static void name_thread(struct exporter* ex, struct thread* t, const char* name,
                        unsigned number, unsigned sort_index) {
  char* p = meta_begin(ex, "thread_name", t->ids, t->ids_len);
  if (p == NULL)
    return;
  PUT(p, "\"name\":\"");
  p = put(p, name, strlen(name));
  if (number > 1 || t->role == LRT_THREAD_WORKER) {
    *p++ = ' ';
    p = jw_fmt_u64(p, number);
  }
  PUT(p, "\"}");
  event_end(ex, p);
  p = meta_begin(ex, "thread_sort_index", t->ids, t->ids_len);
  if (p == NULL)
    return;
  PUT(p, "\"sort_index\":");
  p = jw_fmt_u64(p, sort_index);
  *p++ = '}';
  event_end(ex, p);
  t->named = 1;
}

/* A loop thread is named when first seen as one. */
static void ensure_loop(struct exporter* ex, struct thread* t) {
  if (t->role == 0 || t->role == LRT_THREAD_OTHER)
    t->role = LRT_THREAD_LOOP;
  if (t->named || t->role != LRT_THREAD_LOOP)
    return;
  ex->loops++;
  name_thread(ex, t, "event loop", ex->loops, ex->loops - 1);
}

/* Workers are numbered in the order they first run a task. */
static void ensure_worker(struct exporter* ex, struct thread* t) {
  if (t->role == 0 || t->role == LRT_THREAD_OTHER)
    t->role = LRT_THREAD_WORKER;
  if (t->named || t->role != LRT_THREAD_WORKER)
    return;
  ex->workers++;
  name_thread(ex, t, "worker", ex->workers, 100 + ex->workers);
}

static void write_counter(struct exporter* ex, uint64_t ts, uint32_t tid) {
  char* p = event_begin(ex);
  if (p == NULL)
    return;
  PUT(p, "{\"name\":\"threadpool\",\"ph\":\"C\",\"ts\":");
  p = jw_fmt_us(p, rel(ex, ts));
  PUT(p, ",\"pid\":");
  p = jw_fmt_u64(p, (uint64_t) ex->pid);
  PUT(p, ",\"tid\":");
  p = jw_fmt_u64(p, tid);
  PUT(p, ",\"args\":{\"queued\":");
  p = jw_fmt_u64(p, ex->queued);
  PUT(p, ",\"running\":");
  p = jw_fmt_u64(p, ex->running);
  *p++ = '}';
  event_end(ex, p);
}

/* Moves the threadpool counters by (dq, dr) for an event at `ts` and
 * writes them. Events older than the runtime's snapshot are counted in it
 * already (a task submitted while the session started). */
static void pool_change(struct exporter* ex, uint64_t ts, uint32_t tid, int dq,
                        int dr) {
  if (ts < ex->pool_ts)
    return;
  if (dq > 0 || ex->queued > 0)
    ex->queued += (uint64_t) (int64_t) dq;
  if (dr > 0 || ex->running > 0)
    ex->running += (uint64_t) (int64_t) dr;
  write_counter(ex, ts, tid);
}

static void write_dropped(struct exporter* ex, uint64_t ts, uint64_t count,
                          unsigned reason) {
  char* p = event_begin(ex);
  if (p == NULL)
    return;
  PUT(p,
      "{\"name\":\"dropped\",\"cat\":\"looptrace\",\"ph\":\"i\","
      "\"s\":\"p\",\"ts\":");
  p = jw_fmt_us(p, rel(ex, ts));
  p = put_ids(p, ex->pid_ids, ex->pid_ids_len);
  PUT(p, ",\"args\":{\"records\":");
  p = jw_fmt_u64(p, count);
  if (reason < DROP_REASONS) {
    PUT(p, ",\"reason\":\"");
    p = put(p, drop_reasons[reason], strlen(drop_reasons[reason]));
    *p++ = '"';
  }
  *p++ = '}';
  event_end(ex, p);
}

static void write_loop_facts(struct exporter* ex, uint64_t info) {
  uint32_t v = LRT_LOOP_INFO_UV_VERSION(info);
  char* p = meta_begin(ex, "looptrace", ex->pid_ids, ex->pid_ids_len);
  if (p == NULL)
    return;
  PUT(p, "\"libuv_version\":\"");
  p = jw_fmt_u64(p, (v >> 16) & 0xff);
  *p++ = '.';
  p = jw_fmt_u64(p, (v >> 8) & 0xff);
  *p++ = '.';
  p = jw_fmt_u64(p, v & 0xff);
  PUT(p, "\",\"threadpool_size\":");
  p = jw_fmt_u64(p, LRT_LOOP_INFO_POOL_SIZE(info));
  if (LRT_LOOP_INFO_CLOCK(info) == LRT_CLOCK_TSC)
    PUT(p, ",\"timestamps\":\"tsc\"");
  else if (LRT_LOOP_INFO_CLOCK(info) == LRT_CLOCK_GETTIME)
    PUT(p, ",\"timestamps\":\"clock_gettime\"");
  *p++ = '}';
  event_end(ex, p);
}

/* ------------------------------------------------------------------------
 * Tasks
 */

static struct task* task_find(struct exporter* ex, uint64_t id) {
  return u64map_find(&ex->tasks, id);
}

/* The task `id`, added if new; NULL for id 0 or when out of memory. */
static struct task* task_get(struct exporter* ex, uint64_t id) {
  struct task* tk = task_find(ex, id);
  if (tk != NULL || id == 0)
    return tk;
  if (ex->tasks.len >= EXPORT_TASKS_MAX) {
    ex->stats.invalid++; /* its flow is not drawn */
    return NULL;
  }
  tk = u64map_insert(&ex->tasks, id, NULL);
  if (tk == NULL)
    set_error(ex, -ENOMEM);
  return tk;
}

static void task_remove(struct exporter* ex, struct task* tk) {
  u64map_remove(&ex->tasks, tk);
}

/* ------------------------------------------------------------------------
 * Spans of a loop thread
 */

/* The duration to print for a span of [ts, end) ns under an enclosing
 * span whose printed end, summed as a consumer would, is `parent_sum`
 * (+inf at top level); sets *sum to its own.
 *
 * Consumers that add ts and dur in binary floating point (Chrome
 * DevTools' trace engine does) can find 19.100 + 6.600 > 25.700, so a
 * span would seem to overlap the one starting where it ends, or to end
 * after its parent ending at the same nanosecond, and be dropped. Such a
 * span is written 1 ns shorter (2 ns if its parent was). (double) n /
 * 1000.0 is exactly the double a parser reads from n printed with three
 * decimals. */
static uint64_t printed_dur(const struct exporter* ex, uint64_t ts,
                            uint64_t end, double parent_sum, double* sum) {
  uint64_t start = rel(ex, ts);
  uint64_t dur = end - ts;
  double exact_end = (double) (start + dur) / 1000.0;
  *sum = (double) start / 1000.0 + (double) dur / 1000.0;
  /* Twice at most: a parent may be 1 ns shorter already. */
  while (dur > 0 && (*sum > exact_end || *sum > parent_sum)) {
    dur--;
    *sum = (double) start / 1000.0 + (double) dur / 1000.0;
  }
  return dur;
}

static void write_span(struct exporter* ex, struct thread* t,
                       const struct span* s, uint64_t dur) {
  char* p = event_begin(ex);
  int flow_in = 0;
  if (p == NULL)
    return;
  PUT(p, "{\"name\":");
  switch (s->type) {
  case SPAN_TICK:
    PUT(p, "\"" TRACE_CAT_TICK "\",\"cat\":\"" TRACE_CAT_TICK "\"");
    break;
  case SPAN_PHASE:
    *p++ = '"';
    p = put(p, phase_name(s->kind), strlen(phase_name(s->kind)));
    PUT(p, "\",\"cat\":\"" TRACE_CAT_PHASE "\"");
    break;
  case SPAN_WAIT:
    PUT(p, "\"" TRACE_CAT_WAIT "\",\"cat\":\"" TRACE_CAT_WAIT "\"");
    break;
  case SPAN_CALLBACK:
    p = put_label(ex, p, s->label, kind_name(s->kind));
    PUT(p, ",\"cat\":\"" TRACE_CAT_CALLBACK "\"");
    break;
  case SPAN_SUBMIT:
    PUT(p, "\"" TRACE_CAT_SUBMIT "\",\"cat\":\"" TRACE_CAT_SUBMIT "\"");
    break;
  }
  PUT(p, ",\"ph\":\"X\",\"ts\":");
  p = jw_fmt_us(p, rel(ex, s->ts));
  PUT(p, ",\"dur\":");
  p = jw_fmt_us(p, dur);
  p = put_ids(p, t->ids, t->ids_len);
  switch (s->type) {
  case SPAN_TICK:
  case SPAN_PHASE:
    PUT(p, ",\"args\":{\"tick\":");
    p = jw_fmt_u64(p, s->id);
    if (s->flags & SPAN_AFTER_POLL)
      PUT(p, ",\"after_poll\":true");
    break;
  case SPAN_WAIT:
    PUT(p, ",\"args\":{");
    break;
  case SPAN_CALLBACK:
    if (s->id != 0 && is_completion(s->kind)) {
      struct task* tk = task_find(ex, s->id);
      if (tk != NULL) {
        flow_in = (tk->flags & (TASK_SUBMITTED | TASK_STARTED)) != 0;
        task_remove(ex, tk);
      }
    }
    if (flow_in) {
      PUT(p, ",\"bind_id\":");
      p = jw_fmt_u64(p, s->id);
      PUT(p, ",\"flow_in\":true");
    }
    PUT(p, ",\"args\":{\"kind\":\"");
    p = put(p, kind_name(s->kind), strlen(kind_name(s->kind)));
    *p++ = '"';
    if (s->id != 0 && is_completion(s->kind)) {
      PUT(p, ",\"task\":");
      p = jw_fmt_u64(p, s->id);
    }
    break;
  case SPAN_SUBMIT:
    PUT(p, ",\"bind_id\":");
    p = jw_fmt_u64(p, s->id);
    PUT(p, ",\"flow_out\":true,\"args\":{\"task\":");
    p = jw_fmt_u64(p, s->id);
    PUT(p, ",\"label\":");
    p = put_label(ex, p, s->label, kind_name(s->kind));
    break;
  }
  p = put_cut(p, s->flags, s->type != SPAN_WAIT);
  PUT(p, "}");
  event_end(ex, p);
}

/* Whether span `a` is written before span `b`: by start, then longest
 * first, then outermost first, then in the order they were made. */
static int span_before(const struct span* a, const struct span* b) {
  uint64_t da;
  uint64_t db;
  if (a->ts != b->ts)
    return a->ts < b->ts;
  da = a->end - a->ts;
  db = b->end - b->ts;
  if (da != db)
    return da > db;
  if (a->depth != b->depth)
    return a->depth < b->depth;
  return a->seq < b->seq;
}

static const struct span* sort_group;

static int span_cmp(const void* x, const void* y) {
  const struct span* a = &sort_group[*(const uint32_t*) x];
  const struct span* b = &sort_group[*(const uint32_t*) y];
  if (span_before(a, b))
    return -1;
  return span_before(b, a) ? 1 : 0;
}

/* A phase left out of the trace: empty and shorter than 1 µs. */
static int skip_phase(const struct exporter* ex, const struct span* s) {
  return s->type == SPAN_PHASE && !ex->all_phases &&
         s->kind != LRT_PHASE_POLL && !(s->flags & SPAN_HAS_CHILD) &&
         s->end - s->ts < 1000;
}

/* A span left out: it began at the very moment its enclosing span was
 * cut, so it would seem to lie after it. */
static int skip_empty_cut(const struct span* s) {
  return (s->flags & SPAN_CUT_END) && s->depth > 0 && s->end == s->ts;
}

/* Marks wait `w` to be left out if it overlaps another span of its poll
 * phase: the loop cannot run a callback while blocked, so records were
 * lost around it. */
static void check_wait(struct exporter* ex, struct thread* t, uint32_t w) {
  struct span* wait = &t->group[w];
  uint32_t i;
  for (i = 0; i < t->group_len; i++) {
    const struct span* c = &t->group[i];
    if (i == w || c->parent != wait->parent || (c->flags & SPAN_SKIP))
      continue;
    if (c->ts < wait->end && wait->ts < c->end) {
      wait->flags |= SPAN_SKIP;
      ex->stats.invalid++;
      return;
    }
  }
}

/* Writes the thread's group (its spans are all closed) and empties it. */
static void flush_group(struct exporter* ex, struct thread* t) {
  uint32_t n = t->group_len;
  uint32_t i;
  uint32_t sp = 0;
  uint64_t dur;
  if (n == 0)
    return;
  if (array_reserve(&ex->order, &ex->order_cap, n, sizeof(*ex->order)) != 0 ||
      array_reserve(&ex->ends, &ex->ends_cap, n, sizeof(*ex->ends)) != 0 ||
      array_reserve(&ex->opened, &ex->opened_cap, n, sizeof(*ex->opened)) !=
          0 ||
      array_reserve(&ex->sums, &ex->sums_cap, n, sizeof(*ex->sums)) != 0) {
    set_error(ex, -ENOMEM);
    ex->held_spans -= t->group_len;
    t->group_len = 0;
    return;
  }
  for (i = 0; i < n; i++) {
    ex->order[i] = i;
    if (t->group[i].type == SPAN_WAIT)
      check_wait(ex, t, i);
  }
  if (n <= 32) {
    /* Groups come nearly sorted: insertion sort. */
    for (i = 1; i < n; i++) {
      uint32_t x = ex->order[i];
      uint32_t j = i;
      while (j > 0 && span_before(&t->group[x], &t->group[ex->order[j - 1]])) {
        ex->order[j] = ex->order[j - 1];
        j--;
      }
      ex->order[j] = x;
    }
  } else {
    sort_group = t->group;
    qsort(ex->order, n, sizeof(*ex->order), span_cmp);
  }
  /* Walk in order with the ends of the enclosing spans: a span that
   * outlives its parent is cut at the parent's end. */
  for (i = 0; i < n; i++) {
    struct span* s = &t->group[ex->order[i]];
    if (skip_phase(ex, s) || skip_empty_cut(s))
      continue;
    while (sp > 0 && ex->ends[sp - 1] <= s->ts)
      sp--;
    /* A wait belongs right in its poll phase; when records were lost
     * around it, a callback may seem to cover it: leave it out. */
    if (s->flags & SPAN_SKIP)
      continue;
    if (s->type == SPAN_WAIT &&
        (sp == 0 || ex->opened[sp - 1] != (uint32_t) s->parent)) {
      ex->stats.invalid++;
      continue;
    }
    if (sp > 0 && s->end > ex->ends[sp - 1])
      s->end = ex->ends[sp - 1];
    dur = printed_dur(ex, s->ts, s->end, sp > 0 ? ex->sums[sp - 1] : HUGE_VAL,
                      &ex->sums[sp]);
    ex->opened[sp] = ex->order[i];
    ex->ends[sp++] = s->end;
    t->floor = max_u64(t->floor, s->end);
    write_span(ex, t, s, dur);
  }
  ex->held_spans -= t->group_len;
  t->group_len = 0;
  t->seq = 0;
  t->tick = -1;
  t->last_poll = -1;
}

/* The innermost open span, or -1. */
static int32_t top(const struct thread* t) {
  return t->depth > 0 ? t->stack[t->depth - 1] : -1;
}

/* Adds a span under `parent` (an index or -1) to the group, open and on
 * the stack if `open`; returns its index or -1. It starts no earlier
 * than its parent nor the recording. */
static int32_t add_span(struct exporter* ex, struct thread* t, int32_t parent,
                        uint8_t type, uint8_t kind, uint16_t label, uint64_t id,
                        uint64_t ts, int open) {
  struct span* s;
  if (t->depth >= MAX_DEPTH) {
    ex->stats.invalid++;
    if (open)
      t->overflow++;
    return -1;
  }
  if (array_reserve(&t->group, &t->group_cap, t->group_len + 1, sizeof(*s)) !=
          0 ||
      array_reserve(&t->stack, &t->stack_cap, t->depth + 1,
                    sizeof(*t->stack)) != 0) {
    set_error(ex, -ENOMEM);
    return -1;
  }
  /* Spans of a thread never overlap the ones already written, even if
   * timestamps went back. */
  ts = max_u64(ts, max_u64(ex->start_ns, t->floor));
  if (parent >= 0) {
    ts = max_u64(ts, t->group[parent].ts);
    t->group[parent].flags |= SPAN_HAS_CHILD;
  }
  s = &t->group[t->group_len];
  s->ts = ts;
  s->end = ts;
  s->id = id;
  s->seq = t->seq++;
  s->parent = parent;
  s->label = label;
  s->depth = parent >= 0 ? (uint16_t) (t->group[parent].depth + 1) : 0;
  s->type = type;
  s->kind = kind;
  s->flags = open ? SPAN_OPEN : 0;
  if (open)
    t->stack[t->depth++] = (int32_t) t->group_len;
  ex->held_spans++;
  return (int32_t) t->group_len++;
}

/* Closes the innermost open span at `ts`. */
static void close_top(struct thread* t, uint64_t ts, uint8_t flags) {
  struct span* s = &t->group[t->stack[--t->depth]];
  s->end = max_u64(ts, s->ts);
  s->flags = (uint8_t) ((s->flags & ~SPAN_OPEN) | flags);
}

/* Closes every open span at `ts` and writes the group. */
static void close_all(struct exporter* ex, struct thread* t, uint64_t ts,
                      uint8_t flags) {
  while (t->depth > 0)
    close_top(t, ts, flags);
  t->overflow = 0;
  flush_group(ex, t);
}

/* Closes the spans above the open tick: a phase ends normally, anything
 * else (its end was lost) is incomplete. */
static void close_to_tick(struct thread* t, uint64_t ts) {
  while (t->depth > 1) {
    const struct span* s = &t->group[t->stack[t->depth - 1]];
    close_top(t, ts, s->type == SPAN_PHASE ? 0 : SPAN_CUT_END);
  }
}

/* Writes the group of thread `t` now, though spans are open (a tick that
 * does not end, or too many spans held): they are cut at `ts` and go on
 * as new spans cut at their start, nested as before. */
static void split_group(struct exporter* ex, struct thread* t, uint64_t ts) {
  struct {
    uint64_t id;
    uint16_t label;
    uint8_t type;
    uint8_t kind;
    uint8_t flags;
    uint8_t poll;
  } open[MAX_DEPTH];
  uint32_t n = t->depth;
  uint32_t overflow = t->overflow;
  int32_t parent = -1;
  uint32_t i;
  for (i = 0; i < n; i++) {
    const struct span* s = &t->group[t->stack[i]];
    open[i].id = s->id;
    open[i].label = s->label;
    open[i].type = s->type;
    open[i].kind = s->kind;
    open[i].flags = s->flags & SPAN_AFTER_POLL;
    open[i].poll = t->stack[i] == t->last_poll;
  }
  close_all(ex, t, ts, SPAN_CUT_END);
  t->overflow = overflow;
  for (i = 0; i < n; i++) {
    parent = add_span(ex, t, parent, open[i].type, open[i].kind, open[i].label,
                      open[i].id, ts, 1);
    if (parent < 0)
      return;
    t->group[parent].flags |= SPAN_CUT_START | open[i].flags;
    if (open[i].type == SPAN_TICK)
      t->tick = parent;
    if (open[i].poll)
      t->last_poll = parent;
  }
}

/* Keeps the spans held within EXPORT_SPANS_MAX: the largest group is
 * written, cut, at its thread's last moment seen. */
static void bound_spans(struct exporter* ex) {
  struct thread* big = NULL;
  size_t i;
  for (i = 0; i < ex->nthreads; i++)
    if (big == NULL || ex->threads[i]->group_len > big->group_len)
      big = ex->threads[i];
  if (big != NULL && big->group_len > 0)
    split_group(ex, big, big->last_ts);
}

static void tick_begin(struct exporter* ex, struct thread* t,
                       const struct lrt_record* r) {
  if (t->depth > 0)
    close_all(ex, t, r->ts, SPAN_CUT_END);
  t->tick = add_span(ex, t, -1, SPAN_TICK, 0, 0, r->id, r->ts, 1);
  t->last_poll = -1;
  /* Running when the session began: ts is when the runtime first saw it
   * (LRT_BEGUN_EARLIER). */
  if (t->tick >= 0 && (r->arg & LRT_BEGUN_EARLIER))
    t->group[t->tick].flags |= SPAN_CUT_START;
}

static void tick_end(struct exporter* ex, struct thread* t,
                     const struct lrt_record* r) {
  if (t->tick < 0)
    return;
  if (t->group[t->tick].id != r->id) {
    /* Not this tick's end: the records between were lost. */
    close_all(ex, t, r->ts, SPAN_CUT_END);
    return;
  }
  close_to_tick(t, r->ts);
  close_top(t, r->ts, 0);
  flush_group(ex, t);
}

static void phase_begin(struct exporter* ex, struct thread* t,
                        const struct lrt_record* r) {
  int32_t i;
  uint8_t flags = 0;
  if (r->kind == 0 || r->kind >= LRT_PHASE_MAX) {
    ex->stats.invalid++;
    return;
  }
  if (t->tick < 0 || t->group[t->tick].id != r->id) {
    /* The phase of a tick whose begin was not seen (records were lost,
     * or the tick was running when the recording began): the tick is
     * written from here, cut at its start. */
    tick_begin(ex, t, r);
    if (t->tick < 0)
      return;
    t->group[t->tick].flags |= SPAN_CUT_START;
  }
  close_to_tick(t, r->ts);
  if (r->kind == LRT_PHASE_PENDING && t->last_poll >= 0)
    flags = SPAN_AFTER_POLL;
  if (r->arg & LRT_BEGUN_EARLIER)
    flags |= SPAN_CUT_START;
  i = add_span(ex, t, t->tick, SPAN_PHASE, r->kind, 0, t->group[t->tick].id,
               r->ts, 1);
  if (i < 0)
    return;
  t->group[i].flags |= flags;
  if (r->kind == LRT_PHASE_POLL)
    t->last_poll = i;
}

/* The wait goes into the tick's latest poll phase, inside its bounds. */
static void wait_span(struct exporter* ex, struct thread* t,
                      const struct lrt_record* r) {
  struct span* poll;
  uint64_t begin;
  uint64_t end;
  int32_t i;
  if (t->tick < 0 || t->last_poll < 0)
    return;
  poll = &t->group[t->last_poll];
  begin = max_u64(r->ts, poll->ts);
  end = r->arg > UINT64_MAX - r->ts ? UINT64_MAX : r->ts + r->arg;
  if (!(poll->flags & SPAN_OPEN))
    end = min_u64(end, poll->end);
  if (end <= begin)
    return;
  i = add_span(ex, t, t->last_poll, SPAN_WAIT, 0, 0, 0, begin, 0);
  if (i >= 0)
    t->group[i].end = end;
}

static void callback_begin(struct exporter* ex, struct thread* t,
                           const struct lrt_record* r) {
  /* The completion of a task that never started: it was cancelled, and
   * left the queue. */
  if (r->id != 0 && is_completion(r->kind)) {
    struct task* tk = task_find(ex, r->id);
    if (tk != NULL &&
        (tk->flags & (TASK_SUBMITTED | TASK_STARTED)) == TASK_SUBMITTED) {
      pool_change(ex, r->ts, t->tid, -1, 0);
    }
  }
  /* Inside a tick, callbacks run in a phase; with none open its record
   * was lost, and the callback is left out with it. */
  if (t->depth > 0 && t->group[top(t)].type == SPAN_TICK) {
    ex->stats.invalid++;
    t->overflow++;
    return;
  }
  add_span(ex, t, top(t), SPAN_CALLBACK, r->kind, r->label, r->id, r->ts, 1);
}

static void callback_end(struct exporter* ex, struct thread* t,
                         const struct lrt_record* r) {
  if (t->overflow > 0) {
    t->overflow--;
    return;
  }
  /* An end without its begin (the callback began before the recording)
   * is ignored. */
  if (t->depth == 0 || t->group[top(t)].type != SPAN_CALLBACK)
    return;
  close_top(t, r->ts, 0);
  if (t->depth == 0)
    flush_group(ex, t);
}

static void submit(struct exporter* ex, struct thread* t,
                   const struct lrt_record* r) {
  struct task* tk;
  int32_t i;
  uint64_t end;
  pool_change(ex, r->ts, t->tid, 1, 0);
  /* Inside a tick but in no phase: as for callbacks, a phase record was
   * lost. */
  if (r->id == 0 || (t->depth > 0 && t->group[top(t)].type == SPAN_TICK)) {
    ex->stats.invalid++;
    return;
  }
  i = add_span(ex, t, top(t), SPAN_SUBMIT, r->kind, r->label, r->id, r->ts, 0);
  if (i < 0)
    return;
  end = r->arg > UINT64_MAX - r->ts ? UINT64_MAX : r->ts + r->arg;
  t->group[i].end = max_u64(end, t->group[i].ts);
  /* The flow starts here: the worker's span and the completion say so. */
  tk = task_get(ex, r->id);
  if (tk != NULL) {
    tk->flags |= TASK_SUBMITTED;
    tk->submit_ts = r->ts;
  }
  if (t->depth == 0)
    flush_group(ex, t);
}

/* ------------------------------------------------------------------------
 * Worker threads
 */

static void write_work(struct exporter* ex, struct thread* t, uint64_t end,
                       unsigned cut) {
  struct task* tk = task_find(ex, t->work_task);
  uint64_t ts = max_u64(t->work_ts, max_u64(ex->start_ns, t->floor));
  char* p = event_begin(ex);
  double sum;
  uint64_t dur;
  if (p == NULL)
    return;
  end = max_u64(end, ts);
  t->floor = end;
  dur = printed_dur(ex, ts, end, HUGE_VAL, &sum);
  PUT(p, "{\"name\":");
  p = put_label(ex, p, t->work_label, "work");
  PUT(p, ",\"cat\":\"" TRACE_CAT_WORK "\",\"ph\":\"X\",\"ts\":");
  p = jw_fmt_us(p, rel(ex, ts));
  PUT(p, ",\"dur\":");
  p = jw_fmt_us(p, dur);
  p = put_ids(p, t->ids, t->ids_len);
  PUT(p, ",\"bind_id\":");
  p = jw_fmt_u64(p, t->work_task);
  if (tk != NULL && (tk->flags & TASK_SUBMITTED))
    PUT(p, ",\"flow_in\":true");
  PUT(p, ",\"flow_out\":true,\"args\":{\"task\":");
  p = jw_fmt_u64(p, t->work_task);
  PUT(p, ",\"label\":");
  p = put_label(ex, p, t->work_label, "work");
  if (tk != NULL && (tk->flags & TASK_SUBMITTED) &&
      t->work_ts >= tk->submit_ts) {
    PUT(p, ",\"queue_wait_us\":");
    p = jw_fmt_us(p, t->work_ts - tk->submit_ts);
  }
  p = put_cut(p, cut, 1);
  PUT(p, "}");
  event_end(ex, p);
}

static void work_start(struct exporter* ex, struct thread* t,
                       const struct lrt_record* r) {
  struct task* tk;
  ensure_worker(ex, t);
  if (t->work_open)
    write_work(ex, t, r->ts, SPAN_CUT_END);
  t->work_open = r->id != 0;
  t->work_ts = r->ts;
  t->work_task = r->id;
  t->work_label = r->label;
  tk = task_get(ex, r->id);
  if (tk != NULL)
    tk->flags |= TASK_STARTED;
  pool_change(ex, r->ts, t->tid, -1, 1);
}

static void work_end(struct exporter* ex, struct thread* t,
                     const struct lrt_record* r) {
  pool_change(ex, r->ts, t->tid, 0, -1);
  /* A task that started before the recording has no span. */
  if (!t->work_open)
    return;
  write_work(ex, t, r->ts, 0);
  t->work_open = 0;
}

/* ------------------------------------------------------------------------
 * Threads and ordering
 */

static struct thread* thread_new(struct exporter* ex, uint32_t tid) {
  struct thread* t = calloc(1, sizeof(*t));
  char* p;
  if (t == NULL)
    return NULL;
  t->tid = tid;
  t->heap_pos = -1;
  t->tick = -1;
  t->last_poll = -1;
  p = t->ids;
  PUT(p, ",\"pid\":");
  p = jw_fmt_u64(p, (uint64_t) ex->pid);
  PUT(p, ",\"tid\":");
  p = jw_fmt_u64(p, tid);
  t->ids_len = (uint8_t) (p - t->ids);
  return t;
}

static uint32_t tid_hash(uint32_t tid) {
  return tid * 2654435761u;
}

static struct thread_memo* memo_slot(struct exporter* ex, uint32_t tid) {
  return &ex->memo[(tid_hash(tid) >> 16) & (MEMO_SIZE - 1)];
}

/* A thread forgotten while idle and seen again keeps its role and name
 * (unless another took its memo since). */
static void memo_recall(struct exporter* ex, struct thread* t) {
  struct thread_memo* m = memo_slot(ex, t->tid);
  if (m->tid == t->tid) {
    t->role = m->role;
    t->named = 1;
  }
}

static void thread_free(struct thread* t) {
  free(t->q);
  free(t->group);
  free(t->stack);
  free(t);
}

/* Whether thread `t` holds nothing and said nothing since `cutoff`. */
static int thread_idle(const struct thread* t, uint64_t cutoff) {
  return t->q_len == 0 && t->depth == 0 && t->group_len == 0 && !t->work_open &&
         t->overflow == 0 && t->last_ts < cutoff;
}

/* Forgets the threads idle since `cutoff` (exited ones, mostly), and
 * gives back the buffers of quiet ones, so that what is held follows
 * what is going on, not how many threads there ever were. */
static void sweep_threads(struct exporter* ex, uint64_t cutoff) {
  size_t kept = 0;
  size_t i;
  for (i = 0; i < ex->nthreads; i++) {
    struct thread* t = ex->threads[i];
    if (thread_idle(t, cutoff)) {
      u64map_remove(&ex->index, u64map_find(&ex->index, t->tid));
      ex->forgot_floor =
          max_u64(ex->forgot_floor, max_u64(t->floor, t->last_ts));
      if (t->named) {
        struct thread_memo* m = memo_slot(ex, t->tid);
        m->tid = t->tid;
        m->role = t->role;
      }
      thread_free(t);
      continue;
    }
    if (t->q_len == 0 && t->q_cap > 256) {
      free(t->q);
      t->q = NULL;
      t->q_cap = 0;
      t->q_head = 0;
    }
    if (t->group_len == 0 && t->group_cap > 1024) {
      free(t->group);
      t->group = NULL;
      t->group_cap = 0;
    }
    ex->threads[kept++] = t;
  }
  ex->nthreads = kept;
  ex->last = NULL;
}

/* The thread `tid`, made on first sight; NULL when out of memory, or
 * when EXPORT_THREADS_MAX are known already (*full is set then). */
static struct thread* thread_get(struct exporter* ex, uint32_t tid, int* full) {
  struct thread_ref* ref;
  struct thread* t;
  if (ex->last != NULL && ex->last->tid == tid)
    return ex->last;
  ref = u64map_find(&ex->index, tid);
  if (ref != NULL)
    return ex->last = ref->t;
  if (ex->nthreads >= EXPORT_THREADS_MAX) {
    *full = 1;
    return NULL;
  }
  if (array_reserve(&ex->threads, &ex->threads_cap, ex->nthreads + 1,
                    sizeof(*ex->threads)) != 0)
    return NULL;
  t = thread_new(ex, tid);
  if (t == NULL)
    return NULL;
  ref = u64map_insert(&ex->index, tid, NULL);
  if (ref == NULL) {
    thread_free(t);
    return NULL;
  }
  ref->t = t;
  memo_recall(ex, t);
  /* Its spans never overlap what a thread of the same tid, forgotten,
   * had written. */
  t->floor = ex->forgot_floor;
  ex->threads[ex->nthreads++] = t;
  return ex->last = t;
}

/* Counts a record the tracer itself dropped (written with the next
 * export_advance()). */
static void drop_own(struct exporter* ex, uint64_t ts, unsigned reason) {
  ex->stats.drops++;
  ex->pending_drops[reason]++;
  ex->pending_drop_ts = max_u64(ex->pending_drop_ts, ts);
}

/* Writes the `dropped` instants of the records the tracer dropped. */
static void write_own_drops(struct exporter* ex) {
  unsigned i;
  for (i = 0; i < DROP_REASONS; i++) {
    if (ex->pending_drops[i] == 0)
      continue;
    write_dropped(ex, ex->pending_drop_ts, ex->pending_drops[i], i);
    ex->pending_drops[i] = 0;
  }
}

/* The last moment record `r` shows: its ts, or for a wait or a submit
 * (reported once over) the end of what it measured. */
static uint64_t observed_at(const struct lrt_record* r) {
  if (r->type != LRT_REC_WAIT && r->type != LRT_REC_WORK_SUBMIT)
    return r->ts;
  return r->arg > UINT64_MAX - r->ts ? UINT64_MAX : r->ts + r->arg;
}

/* CLOCK_MONOTONIC now, the clock of the records. */
static uint64_t mono_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

/* Whether record `r` lies in the recording: not before its start, nor
 * later than `limit` (now, and a little). Records are stamped with this
 * machine's CLOCK_MONOTONIC: anything else is forged or corrupt, and
 * would stall its thread's queue or stretch the recording. */
static int in_recording(const struct exporter* ex, const struct lrt_record* r,
                        uint64_t limit) {
  uint64_t last = observed_at(r);
  if (last < ex->start_ns || (r->type != LRT_REC_WAIT && r->ts < ex->start_ns))
    return 0;
  return last <= limit;
}

/* A thread is a loop or a worker, never both: its spans could not nest.
 * Records of the other role are ignored. */
static int wrong_role(const struct thread* t, const struct lrt_record* r) {
  switch (r->type) {
  case LRT_REC_WORK_START:
  case LRT_REC_WORK_END:
    return t->role == LRT_THREAD_LOOP;
  case LRT_REC_THREAD:
  case LRT_REC_POOL:
  case LRT_REC_LOST:
  case LRT_REC_EXIT:
    return 0;
  default:
    return t->role == LRT_THREAD_WORKER;
  }
}

static void handle(struct exporter* ex, struct thread* t,
                   const struct lrt_record* r) {
  if (wrong_role(t, r)) {
    ex->stats.invalid++;
    return;
  }
  if (ex->held_spans >= EXPORT_SPANS_MAX)
    bound_spans(ex);
  t->last_ts = max_u64(t->last_ts, observed_at(r));
  switch (r->type) {
  case LRT_REC_THREAD:
    if (r->kind >= LRT_THREAD_LOOP && r->kind <= LRT_THREAD_OTHER && !t->named)
      t->role = r->kind;
    if (t->role == LRT_THREAD_LOOP)
      ensure_loop(ex, t);
    break;
  case LRT_REC_LOOP_START:
    ensure_loop(ex, t);
    write_loop_facts(ex, r->arg);
    break;
  case LRT_REC_LOOP_STOP:
    if (t->depth > 0)
      close_all(ex, t, r->ts, SPAN_CUT_END);
    break;
  case LRT_REC_TICK_BEGIN:
    ensure_loop(ex, t);
    tick_begin(ex, t, r);
    break;
  case LRT_REC_TICK_END:
    tick_end(ex, t, r);
    break;
  case LRT_REC_PHASE:
    phase_begin(ex, t, r);
    break;
  case LRT_REC_WAIT:
    wait_span(ex, t, r);
    break;
  case LRT_REC_CALLBACK_BEGIN:
    ensure_loop(ex, t);
    callback_begin(ex, t, r);
    break;
  case LRT_REC_CALLBACK_END:
    callback_end(ex, t, r);
    break;
  case LRT_REC_WORK_SUBMIT:
    ensure_loop(ex, t);
    submit(ex, t, r);
    break;
  case LRT_REC_WORK_START:
    work_start(ex, t, r);
    break;
  case LRT_REC_WORK_END:
    work_end(ex, t, r);
    break;
  case LRT_REC_POOL:
    /* The runtime repeats it every announcement; from then on the
     * counters follow the records, so only the first one counts. */
    if (ex->pool_ts != 0)
      break;
    ex->queued = r->id;
    ex->running = r->arg;
    ex->pool_ts = r->ts;
    write_counter(ex, r->ts, t->tid);
    break;
  case LRT_REC_LOST:
    if (r->id == 0 || r->id > LOST_MAX) {
      ex->stats.invalid++;
      break;
    }
    ex->stats.drops += r->id;
    write_dropped(ex, r->ts, r->id, r->kind <= DROP_AT_EXIT ? r->kind : ~0u);
    break;
  case LRT_REC_EXIT: /* only a moment seen */
    break;
  default:
    ex->stats.invalid++;
  }
}

static uint64_t head_ts(const struct thread* t) {
  return t->q[t->q_head].key;
}

/* Appends `r` to the thread's ring (which has room) with its merge key.
 * A wait is reported after the records that followed its start; its
 * key is its end, so that it pulls nothing earlier. */
static void enqueue_keyed(struct thread* t, const struct lrt_record* r) {
  uint32_t mask = t->q_cap - 1;
  uint32_t i = (t->q_head + t->q_len) & mask;
  uint64_t key = r->type == LRT_REC_WAIT ? observed_at(r) : r->ts;
  uint32_t back;
  t->q[i].r = *r;
  t->q[i].key = key;
  for (back = 0; back < t->q_len && back < REORDER_MAX; back++) {
    i = (i - 1) & mask;
    if (t->q[i].key <= key)
      break;
    t->q[i].key = key;
  }
  t->q_len++;
}

static int enqueue(struct exporter* ex, struct thread* t,
                   const struct lrt_record* r) {
  if (t->q_len == t->q_cap) {
    /* Grow the ring, unrolling it. */
    uint32_t cap = t->q_cap ? t->q_cap * 2 : 16;
    struct queued* q = malloc((size_t) cap * sizeof(*q));
    uint32_t i;
    if (q == NULL)
      return -ENOMEM;
    for (i = 0; i < t->q_len; i++)
      q[i] = t->q[(t->q_head + i) & (t->q_cap - 1)];
    free(t->q);
    t->q = q;
    t->q_cap = cap;
    t->q_head = 0;
  }
  enqueue_keyed(t, r);
  if (t->q_len == 1)
    return heap_push(&ex->heap, t, head_ts(t));
  if (head_ts(t) == r->ts && t->heap_pos >= 0) /* its head came earlier */
    heap_update(&ex->heap, (size_t) t->heap_pos, head_ts(t));
  return 0;
}

/* Whether record `r` names a label not announced yet, that may still
 * come: the runtime announces labels before their first use, but when a
 * tracer attaches, its first announcement can fire before the probe is in
 * place (the kernel raises the semaphore first), and the runtime
 * announces the whole table once more one flush interval later, after
 * records that use them. */
static int label_pending(const struct exporter* ex,
                         const struct lrt_record* r) {
  const struct label* l;
  if (r->label == 0)
    return 0;
  if (r->type != LRT_REC_CALLBACK_BEGIN && r->type != LRT_REC_WORK_SUBMIT &&
      r->type != LRT_REC_WORK_START)
    return 0;
  l = ex->labels[r->label];
  return l == NULL || l->json == NULL;
}

/* Handles queued records (at most `max`), oldest first across threads,
 * while the oldest is older than `limit`; one naming a label not known yet
 * waits up to EXPORT_LABEL_WAIT_NS more for it (and everything after it waits
 * too: the order is global). */
static void handle_until(struct exporter* ex, uint64_t limit, size_t max) {
  while (ex->heap.len > 0 && !ex->fatal && ex->w.error == 0 && max > 0) {
    struct thread* t = heap_top(&ex->heap, NULL);
    /* Handle this thread's records up to the next thread's oldest. */
    uint64_t next =
        min_u64(heap_key_at(&ex->heap, 1), heap_key_at(&ex->heap, 2));
    if (head_ts(t) >= limit)
      break;
    do {
      struct lrt_record* r = &t->q[t->q_head].r;
      if (limit != UINT64_MAX && label_pending(ex, r) &&
          r->ts + EXPORT_LABEL_WAIT_NS >= limit)
        return;
      handle(ex, t, r);
      t->q_head = (t->q_head + 1) & (t->q_cap - 1);
      t->q_len--;
      ex->queued_records--;
      max--;
    } while (t->q_len > 0 && head_ts(t) < limit && head_ts(t) <= next &&
             max > 0);
    if (t->q_len == 0)
      heap_pop(&ex->heap);
    else
      heap_update(&ex->heap, 0, head_ts(t));
  }
}

/* ------------------------------------------------------------------------
 * The API
 */

int export_new(struct exporter** out, const struct export_opts* opts) {
  struct exporter* ex = calloc(1, sizeof(*ex));
  char* p;
  int err = -ENOMEM;
  if (ex == NULL)
    return -ENOMEM;
  ex->pid = opts->pid;
  ex->start_ns = opts->start_ns;
  ex->window_ns = opts->window_ns;
  ex->all_phases = opts->all_phases;
  p = ex->pid_ids;
  PUT(p, ",\"pid\":");
  p = jw_fmt_u64(p, (uint64_t) ex->pid);
  PUT(p, ",\"tid\":");
  p = jw_fmt_u64(p, (uint64_t) ex->pid);
  ex->pid_ids_len = (size_t) (p - ex->pid_ids);
  u64map_init(&ex->index, sizeof(struct thread_ref));
  u64map_init(&ex->tasks, sizeof(struct task));
  heap_init(&ex->heap, offsetof(struct thread, heap_pos));
  ex->labels = calloc(LABEL_IDS, sizeof(*ex->labels));
  ex->memo = calloc(MEMO_SIZE, sizeof(*ex->memo));
  if (ex->labels == NULL || ex->memo == NULL)
    goto cleanup;
  err = opts->gzip ? jw_init_gzip(&ex->w, opts->fd) : jw_init(&ex->w, opts->fd);
  if (err != 0)
    goto cleanup;

  JW_LIT(&ex->w, "[\n");
  p = meta_begin(ex, "process_name", ex->pid_ids, ex->pid_ids_len);
  if (p != NULL) {
    const char* name = opts->process_name ? opts->process_name : "";
    jw_commit(&ex->w, put(p, "\"name\":", 7));
    jw_string(&ex->w, name, strlen(name));
    JW_LIT(&ex->w, "}}");
  }
  p = meta_begin(ex, "looptrace", ex->pid_ids, ex->pid_ids_len);
  if (p != NULL) {
    PUT(p, "\"looptrace_version\":\"" LOOPTRACE_VERSION
           "\","
           "\"trace_format\":1,\"clock\":\"CLOCK_MONOTONIC\","
           "\"clock_offset_ns\":");
    p = jw_fmt_u64(p, opts->start_ns);
    jw_commit(&ex->w, p);
    if (opts->command != NULL) {
      JW_LIT(&ex->w, ",\"command\":");
      jw_string(&ex->w, opts->command, strlen(opts->command));
    }
    JW_LIT(&ex->w, ",\"source\":");
    p = (char*) (opts->source != NULL ? opts->source : "looprt");
    jw_string(&ex->w, p, strlen(p));
    if (opts->fallbacks != NULL && opts->fallbacks[0] != NULL) {
      size_t i;
      JW_LIT(&ex->w, ",\"fallbacks\":[");
      for (i = 0; opts->fallbacks[i] != NULL; i++) {
        if (i > 0)
          JW_LIT(&ex->w, ",");
        jw_string(&ex->w, opts->fallbacks[i], strlen(opts->fallbacks[i]));
      }
      JW_LIT(&ex->w, "]");
    }
    JW_LIT(&ex->w, "}}");
  }
  err = jw_error(&ex->w);
  if (err != 0)
    goto cleanup;
  *out = ex;
  return 0;

cleanup:
  export_free(ex);
  return err;
}

int export_records(struct exporter* ex, const struct lrt_record* records,
                   size_t n) {
  uint64_t limit = mono_now() + EXPORT_FUTURE_NS;
  int full;
  size_t i;
  if (ex->fatal)
    return -EPROTONOSUPPORT;
  for (i = 0; i < n && ex->w.error == 0; i++) {
    const struct lrt_record* r = &records[i];
    struct thread* t;
    ex->stats.records++;
    if (r->type == LRT_REC_LABEL) {
      label_chunk(ex, r);
      continue;
    }
    if (r->type == LRT_REC_LOOP_START &&
        LRT_LOOP_INFO_TRACE_VERSION(r->arg) != LRT_TRACE_VERSION) {
      ex->stats.trace_version = LRT_LOOP_INFO_TRACE_VERSION(r->arg);
      ex->fatal = 1;
      return -EPROTONOSUPPORT;
    }
    if (r->tid == 0 || r->type == 0 || r->type >= LRT_REC_TYPE_MAX ||
        !in_recording(ex, r, limit)) {
      ex->stats.invalid++;
      continue;
    }
    ex->seen_ts = max_u64(ex->seen_ts, observed_at(r));
    full = 0;
    t = thread_get(ex, r->tid, &full);
    if (t == NULL && full) {
      drop_own(ex, r->ts, DROP_TOO_MANY_THREADS);
      continue;
    }
    if (t == NULL) {
      set_error(ex, -ENOMEM);
      break;
    }
    if (enqueue(ex, t, r) != 0) {
      set_error(ex, -ENOMEM);
      break;
    }
    /* Over the bound, the oldest records are handled now, whatever the
     * window: the order across threads may suffer, memory does not. */
    if (++ex->queued_records > EXPORT_QUEUE_MAX)
      handle_until(ex, UINT64_MAX, EXPORT_QUEUE_MAX / 8);
  }
  if (ex->window_ns == 0)
    handle_until(ex, UINT64_MAX, SIZE_MAX);
  return jw_error(&ex->w);
}

int export_advance(struct exporter* ex, uint64_t now_ns) {
  write_own_drops(ex);
  if (now_ns >= ex->next_sweep) {
    if (now_ns > EXPORT_IDLE_NS + ex->window_ns)
      sweep_threads(ex, now_ns - EXPORT_IDLE_NS - ex->window_ns);
    ex->next_sweep = now_ns + EXPORT_IDLE_NS / 4;
  }
  if (now_ns > ex->window_ns)
    handle_until(ex, now_ns - ex->window_ns, SIZE_MAX);
  return jw_error(&ex->w);
}

void export_dropped(struct exporter* ex, uint64_t ts_ns, uint64_t count) {
  if (count == 0)
    return;
  ex->stats.drops += count;
  /* Noticed now, lost before the last record seen at the latest. */
  write_dropped(ex, min_u64(ts_ns, max_u64(ex->seen_ts, ex->start_ns)), count,
                DROP_RING_FULL);
}

void export_trigger(struct exporter* ex, const struct export_trigger* t) {
  char* p = event_begin(ex);
  if (p == NULL)
    return;
  PUT(p,
      "{\"name\":\"trigger\",\"cat\":\"looptrace\",\"ph\":\"i\","
      "\"s\":\"g\",\"ts\":");
  p = jw_fmt_us(p, rel(ex, t->ts_ns));
  p = put_ids(p, ex->pid_ids, ex->pid_ids_len);
  PUT(p, ",\"args\":{\"trigger\":");
  p = jw_fmt_string(p, t->trigger, strnlen(t->trigger, 64));
  if (t->has_value) {
    PUT(p, ",\"value_us\":");
    p = jw_fmt_us(p, t->value_ns);
  }
  *p++ = '}';
  event_end(ex, p);
  if (t->dump == 0)
    return;
  p = meta_begin(ex, "looptrace", ex->pid_ids, ex->pid_ids_len);
  if (p == NULL)
    return;
  PUT(p, "\"flight_dump\":");
  p = jw_fmt_u64(p, t->dump);
  PUT(p, ",\"flight_trigger\":");
  p = jw_fmt_string(p, t->trigger, strnlen(t->trigger, 64));
  PUT(p, ",\"flight_trigger_us\":");
  p = jw_fmt_us(p, rel(ex, t->ts_ns));
  PUT(p, ",\"flight_window_start_us\":");
  p = jw_fmt_us(p, rel(ex, t->window_start_ns));
  PUT(p, ",\"flight_window_end_us\":");
  p = jw_fmt_us(p, rel(ex, t->window_end_ns));
  PUT(p, ",\"flight_seconds\":");
  p += snprintf(p, 32, "%.15g", t->seconds);
  PUT(p, ",\"flight_after\":");
  p += snprintf(p, 32, "%.15g", t->after);
  if (t->window_cut != NULL) {
    PUT(p, ",\"flight_window_cut\":");
    p = jw_fmt_string(p, t->window_cut, strnlen(t->window_cut, 64));
  }
  *p++ = '}';
  event_end(ex, p);
}

int export_flush(struct exporter* ex) {
  return jw_flush(&ex->w);
}

int export_finish(struct exporter* ex, uint64_t end_ns,
                  const char* end_reason) {
  size_t i;
  char* p;
  if (ex->finished)
    return -EINVAL;
  ex->finished = 1;
  if (!ex->fatal)
    handle_until(ex, UINT64_MAX, SIZE_MAX);
  write_own_drops(ex);
  /* The recording ends at the last moment seen: what happened after the
   * last record received (or the moment the caller vouches for) is not
   * known. The spans still open end there too (a thread blocked in poll
   * or busy in a task says nothing meanwhile; its records are flushed
   * within 20 ms of being written). */
  end_ns = max_u64(max_u64(ex->seen_ts, end_ns), ex->start_ns);
  for (i = 0; i < ex->nthreads; i++) {
    struct thread* t = ex->threads[i];
    if (t->depth > 0)
      close_all(ex, t, end_ns, SPAN_CUT_END);
    if (t->work_open) {
      write_work(ex, t, end_ns, SPAN_CUT_END);
      t->work_open = 0;
    }
  }
  p = meta_begin(ex, "looptrace", ex->pid_ids, ex->pid_ids_len);
  if (p != NULL) {
    PUT(p, "\"duration_us\":");
    p = jw_fmt_us(p, end_ns - ex->start_ns);
    PUT(p, ",\"records\":");
    p = jw_fmt_u64(p, ex->stats.records);
    PUT(p, ",\"drops\":");
    p = jw_fmt_u64(p, ex->stats.drops);
    PUT(p, ",\"end_reason\":");
    jw_commit(&ex->w, p);
    jw_string(&ex->w, end_reason, strlen(end_reason));
    if (ex->target_exit[0] != '\0') {
      JW_LIT(&ex->w, ",\"target_exit\":");
      jw_string(&ex->w, ex->target_exit, strlen(ex->target_exit));
    }
    JW_LIT(&ex->w, "}}");
  }
  JW_LIT(&ex->w, "\n]\n");
  return jw_finish(&ex->w);
}

void export_target_exit(struct exporter* ex, const char* text) {
  snprintf(ex->target_exit, sizeof(ex->target_exit), "%s", text);
}

void export_stats(const struct exporter* ex, struct export_stats* stats) {
  size_t i;
  uint64_t m = sizeof(*ex) + JW_BUFFER_SIZE + LABEL_IDS * sizeof(*ex->labels) +
               MEMO_SIZE * sizeof(*ex->memo) + u64map_bytes(&ex->tasks) +
               u64map_bytes(&ex->index) + heap_bytes(&ex->heap) +
               ex->threads_cap * sizeof(struct thread*) +
               (uint64_t) ex->order_cap * sizeof(*ex->order) +
               (uint64_t) ex->ends_cap * sizeof(*ex->ends) +
               (uint64_t) ex->opened_cap * sizeof(*ex->opened) +
               (uint64_t) ex->sums_cap * sizeof(*ex->sums);
  for (i = 0; i < ex->nthreads; i++) {
    const struct thread* t = ex->threads[i];
    m += sizeof(*t) + (uint64_t) t->q_cap * sizeof(*t->q) +
         (uint64_t) t->group_cap * sizeof(*t->group) +
         (uint64_t) t->stack_cap * sizeof(*t->stack);
  }
  for (i = 0; i < LABEL_IDS; i++)
    if (ex->labels[i] != NULL)
      m += sizeof(struct label) + ex->labels[i]->json_len;
  *stats = ex->stats;
  stats->bytes = ex->w.total;
  stats->memory = m;
}

void export_free(struct exporter* ex) {
  size_t i;
  if (ex == NULL)
    return;
  for (i = 0; i < ex->nthreads; i++)
    thread_free(ex->threads[i]);
  free(ex->memo);
  if (ex->labels != NULL) {
    for (i = 0; i < LABEL_IDS; i++) {
      if (ex->labels[i] != NULL)
        free(ex->labels[i]->json);
      free(ex->labels[i]);
    }
  }
  free(ex->labels);
  free(ex->threads);
  u64map_free(&ex->index);
  heap_free(&ex->heap);
  u64map_free(&ex->tasks);
  free(ex->order);
  free(ex->ends);
  free(ex->opened);
  free(ex->sums);
  jw_free(&ex->w);
  free(ex);
}
