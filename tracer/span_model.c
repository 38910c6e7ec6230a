/* span_model.c — see span_model.h. */
#include "span_model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "containers.h"
#include "export.h" /* the bounds: EXPORT_SPANS_MAX, ... */
#include "looprt_vocab.h"

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
  SPAN_SKIP = 16,     /* not emitted */
  SPAN_CUT_START = 32 /* began before it could be seen */
};

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

enum task_flag {
  TASK_SUBMITTED = 1, /* its submit was recorded */
  TASK_STARTED = 2,   /* its start on a worker was recorded */
};

/* What is known of a task in flight (in span_model.tasks); removed when
 * its completion is emitted. */
struct task {
  uint64_t id; /* the key */
  uint64_t submit_ts;
  uint32_t flags;
};

struct span_thread {
  uint32_t tid;
  uint8_t role;  /* enum lrt_thread_role, 0 while unknown */
  uint8_t named; /* its thread_name was emitted */
  size_t coming; /* records admitted, not handled yet */
  /* Loop threads: the group being built and its open spans. */
  struct span* group;
  uint32_t group_len;
  size_t group_cap;
  int32_t* stack;
  uint32_t depth;
  size_t stack_cap;
  uint32_t overflow; /* begins ignored beyond TRACE_MAX_DEPTH */
  uint32_t seq;
  uint64_t last_ts;  /* the last moment its records handled show */
  uint64_t floor;    /* where the last emitted top-level span ended */
  int32_t tick;      /* index of the open tick span, -1 */
  int32_t last_poll; /* index of the open tick's latest poll phase, -1 */
  /* Worker threads: the task running. */
  uint8_t worked; /* it showed a task's start or end */
  int work_open;
  uint8_t work_cut; /* SPAN_CUT_START: it began before it was seen */
  uint16_t work_label;
  uint64_t work_ts;
  uint64_t work_task;
};

/* An entry of span_model.index. */
struct thread_ref {
  uint64_t tid; /* the key */
  struct span_thread* t;
};

static const char* const drop_reasons[DROP_REASONS] = {
#define XX(name, text) [DROP_##name] = text,
    TRACE_DROP_MAP(XX)
#undef XX
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

struct span_model {
  struct span_model_opts o; /* o.libuv_version: NULL (copied below) */
  char libuv_version[32];   /* opts', or "": the loop's record says it */
  int error;                /* -ENOMEM once memory ran out */
  size_t held_spans;        /* in all loop threads' groups */
  uint64_t forgot_floor;    /* where spans of the threads forgotten ended */
  /* The roles of threads forgotten while idle, so that one coming back
   * keeps its name: direct-mapped by tid. */
  struct thread_memo* memo;
  struct span_model_stats stats;
  /* Threads: all of them in the order first seen, and an index by tid. */
  struct span_thread** threads;
  size_t nthreads;
  size_t threads_cap;
  struct u64map index;
  struct span_thread* recent[64]; /* direct-mapped by tid: a record's thread
                                is found without hashing */
  unsigned loops;                 /* loop threads named so far */
  unsigned workers;               /* worker threads named so far */
  /* Tasks in flight (struct task by id). */
  struct u64map tasks;
  /* Threadpool counters, and when the runtime's last snapshot of them
   * (LRT_REC_POOL) was taken. */
  uint64_t queued;
  uint64_t running;
  uint64_t pool_ts;
  /* How many of the tasks that snapshot counted running may still end
   * unseen begun (begun_before()). */
  uint64_t running_unseen;
  uint64_t first_ts; /* the earliest moment the records show, 0 before */
  /* Scratch for emitting a group. */
  uint32_t* order;
  uint64_t* ends;   /* of the enclosing spans while emitting */
  uint32_t* opened; /* their indexes */
  double* sums;     /* their printed ts + dur, as a consumer adds them */
  size_t order_cap;
  size_t ends_cap;
  size_t opened_cap;
  size_t sums_cap;
  char unknown[32];             /* "label N" */
  struct stat_event span_ev;    /* span_event() */
  struct stat_event counter_ev; /* emit_counter() */
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

static void set_error(struct span_model* m, int err) {
  if (m->error == 0)
    m->error = err;
  if (m->o.error != NULL && *m->o.error == 0)
    *m->o.error = err;
}

/* ns since the start of the recording. */
static uint64_t rel(const struct span_model* m, uint64_t ts) {
  return ts > m->o.start_ns ? ts - m->o.start_ns : 0;
}

/* A vocabulary name the model emits and its fixed name_id (stat_event.h:
 * a writer may keep it escaped). The ids are below LABELS_NAME_ID_MIN, so
 * never a label's. */
struct vocab_name {
  const char* text;
  uint64_t id;
};

#define NAME_ID_UNKNOWN 1
#define NAME_ID_CAT(stat_kind) (8 + (stat_kind))
#define NAME_ID_PHASE(phase) (16 + (phase))
#define NAME_ID_KIND(kind) (32 + (kind))
#define NAME_ID_THREADPOOL 64
_Static_assert(STAT_KIND_WORK < 8 && LRT_PHASE_MAX <= 16 &&
                   LRT_CB_KIND_MAX <= 32 &&
                   NAME_ID_THREADPOOL < LABELS_NAME_ID_MIN,
               "fixed name ids apart, below the labels'");

static struct vocab_name kind_name(unsigned kind) {
  const char* name = lrt_callback_kind_name(kind);
  if (name == NULL)
    return (struct vocab_name){"unknown", NAME_ID_UNKNOWN};
  return (struct vocab_name){name, NAME_ID_KIND(kind)};
}

static struct vocab_name phase_name(unsigned phase) {
  const char* name = lrt_phase_name(phase);
  if (name == NULL)
    return (struct vocab_name){"unknown", NAME_ID_UNKNOWN};
  return (struct vocab_name){name, NAME_ID_PHASE(phase)};
}

/* The name of label `id`: its text, `fallback` for label 0, "label N"
 * while unknown; *name_id as labels_text() says (the fallback's for label
 * 0, 0 for "label N"). */
static const char* label_name(struct span_model* m, uint16_t id,
                              struct vocab_name fallback, uint64_t* name_id) {
  const char* text;
  *name_id = 0;
  if (id == 0) {
    *name_id = fallback.id;
    return fallback.text;
  }
  text = labels_text(m->o.labels, id, name_id);
  if (text != NULL)
    return text;
  snprintf(m->unknown, sizeof(m->unknown), "label %u", (unsigned) id);
  return m->unknown;
}

/* ------------------------------------------------------------------------
 * Events that are not spans
 */

/* An event of thread `tid` (the process's own for instants and facts). */
static void event_init(const struct span_model* m, struct stat_event* ev,
                       enum stat_event_type type, uint32_t tid) {
  memset(ev, 0, sizeof(*ev));
  ev->type = type;
  ev->pid = m->o.pid;
  ev->tid = tid;
  ev->name = "";
  ev->cat = "";
}

/* A span of thread `tid`, to fill: m->span_ev, made once by
 * span_model_new(), with what a span may set cleared. A span sets none
 * of the counter's fields nor any from `facts` on (stat_event.h): those
 * stay zero without a memset of the whole event for each span. */
static struct stat_event* span_event(struct span_model* m, uint32_t tid) {
  struct stat_event* ev = &m->span_ev;
  ev->tid = tid;
  ev->ts_ns = 0;
  ev->dur_ns = 0;
  ev->name = "";
  ev->name_id = 0;
  ev->cat = "";
  ev->cat_id = 0;
  ev->kind = STAT_KIND_OTHER;
  memset(&ev->args, 0, sizeof(ev->args));
  ev->bind_id = 0;
  ev->flow_in = 0;
  ev->flow_out = 0;
  return ev;
}

static void emit(struct span_model* m, const struct stat_event* ev) {
  m->o.emit(ev, m->o.emit_arg);
}

static void name_thread(struct span_model* m, struct span_thread* t,
                        const char* name, unsigned number,
                        unsigned sort_index) {
  struct stat_event ev;
  char text[32];
  if (number > 1 || t->role == LRT_THREAD_WORKER)
    snprintf(text, sizeof(text), "%s %u", name, number);
  else
    snprintf(text, sizeof(text), "%s", name);
  event_init(m, &ev, STAT_EV_THREAD_NAME, t->tid);
  ev.name = text;
  emit(m, &ev);
  event_init(m, &ev, STAT_EV_THREAD_SORT, t->tid);
  ev.value = sort_index;
  emit(m, &ev);
  t->named = 1;
}

/* A loop thread is named when first seen as one. */
static void ensure_loop(struct span_model* m, struct span_thread* t) {
  if (t->role == 0 || t->role == LRT_THREAD_OTHER)
    t->role = LRT_THREAD_LOOP;
  if (t->named || t->role != LRT_THREAD_LOOP)
    return;
  m->loops++;
  name_thread(m, t, "event loop", m->loops, m->loops - 1);
}

/* Workers are numbered in the order they first run a task. */
static void ensure_worker(struct span_model* m, struct span_thread* t) {
  if (t->role == 0 || t->role == LRT_THREAD_OTHER)
    t->role = LRT_THREAD_WORKER;
  if (t->named || t->role != LRT_THREAD_WORKER)
    return;
  m->workers++;
  name_thread(m, t, "worker", m->workers, 100 + m->workers);
}

/* Emits the threadpool's counters at `ts` on thread `tid`, in
 * m->counter_ev (made once by span_model_new(): only these change). */
static void emit_counter(struct span_model* m, uint64_t ts, uint32_t tid) {
  struct stat_event* ev = &m->counter_ev;
  ev->tid = tid;
  ev->ts_ns = (int64_t) rel(m, ts);
  ev->counter.queued = m->queued;
  ev->counter.running = m->running;
  emit(m, ev);
}

/* Moves the threadpool counters by (dq, dr) for an event at `ts` and
 * emits them. Events older than the runtime's snapshot are counted in it
 * already (a task submitted while the session started). */
static void pool_change(struct span_model* m, uint64_t ts, uint32_t tid, int dq,
                        int dr) {
  if (ts < m->pool_ts)
    return;
  if (dq > 0 || m->queued > 0)
    m->queued += (uint64_t) (int64_t) dq;
  if (dr > 0 || m->running > 0)
    m->running += (uint64_t) (int64_t) dr;
  emit_counter(m, ts, tid);
}

void span_model_dropped(struct span_model* m, uint64_t ts_ns, uint64_t count,
                        unsigned reason) {
  struct stat_event ev;
  event_init(m, &ev, STAT_EV_DROPPED, (uint32_t) m->o.pid);
  ev.name = TRACE_INSTANT_DROPPED;
  ev.cat = TRACE_INSTANT_CAT;
  ev.has_ts = 1;
  ev.ts_ns = (int64_t) rel(m, ts_ns);
  ev.value = (int64_t) count;
  ev.reason = reason < DROP_REASONS ? drop_reasons[reason] : NULL;
  emit(m, &ev);
}

static void emit_loop_facts(struct span_model* m, uint64_t info) {
  struct stat_event ev;
  char version[LRT_UV_VERSION_LEN];
  lrt_uv_version_format(LRT_LOOP_INFO_UV_VERSION(info), version);
  event_init(m, &ev, STAT_EV_FACTS, (uint32_t) m->o.pid);
  ev.name = TRACE_META_EVENT;
  ev.facts.libuv_version =
      m->libuv_version[0] != '\0' ? m->libuv_version : version;
  ev.facts.has_threadpool_size = 1;
  ev.facts.threadpool_size = LRT_LOOP_INFO_POOL_SIZE(info);
  if (LRT_LOOP_INFO_CLOCK(info) == LRT_CLOCK_TSC)
    ev.facts.timestamps = TRACE_TIMESTAMPS_TSC;
  else if (LRT_LOOP_INFO_CLOCK(info) == LRT_CLOCK_GETTIME)
    ev.facts.timestamps = TRACE_TIMESTAMPS_GETTIME;
  emit(m, &ev);
}

/* ------------------------------------------------------------------------
 * Tasks
 */

static struct task* task_find(struct span_model* m, uint64_t id) {
  return u64map_find(&m->tasks, id);
}

/* The task `id`, added if new; NULL for id 0 or when out of memory. */
static struct task* task_get(struct span_model* m, uint64_t id) {
  struct task* tk = task_find(m, id);
  if (tk != NULL || id == 0)
    return tk;
  if (m->tasks.len >= EXPORT_TASKS_MAX) {
    m->stats.invalid++; /* its flow is not drawn */
    return NULL;
  }
  tk = u64map_insert(&m->tasks, id, NULL);
  if (tk == NULL)
    set_error(m, -ENOMEM);
  return tk;
}

/* ------------------------------------------------------------------------
 * Spans of a loop thread
 */

/* The duration of a span of [ts, end) ns as emitted, under an enclosing
 * span whose printed end, summed as a consumer would, is `parent_sum`
 * (+inf at top level); sets *sum to its own.
 *
 * Consumers that add ts and dur in binary floating point (Chrome
 * DevTools' trace engine does) can find 19.100 + 6.600 > 25.700, so a
 * span would seem to overlap the one starting where it ends, or to end
 * after its parent ending at the same nanosecond, and be dropped. Such a
 * span is emitted 1 ns shorter (2 ns if its parent was). (double) n /
 * 1000.0 is exactly the double a parser reads from n printed with three
 * decimals. */
static uint64_t printed_dur(const struct span_model* m, uint64_t ts,
                            uint64_t end, double parent_sum, double* sum) {
  uint64_t start = rel(m, ts);
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

/* The STAT_CUT_* bits of span flags. */
static int cut_bits(unsigned flags) {
  return ((flags & SPAN_CUT_START) ? STAT_CUT_START : 0) |
         ((flags & SPAN_CUT_END) ? STAT_CUT_END : 0);
}

/* A completion callback's args and flow: its task's flow ends here, and
 * the task is forgotten. */
static void callback_event(struct span_model* m, const struct span* s,
                           struct stat_event* ev) {
  struct task* tk;
  struct vocab_name kind = kind_name(s->kind);
  ev->name = label_name(m, s->label, kind, &ev->name_id);
  ev->args.cb_kind = kind.text;
  ev->args.cb_kind_id = kind.id;
  if (s->id == 0 || !lrt_callback_kind_is_completion(s->kind))
    return;
  tk = task_find(m, s->id);
  if (tk != NULL) {
    ev->flow_in = (tk->flags & (TASK_SUBMITTED | TASK_STARTED)) != 0;
    u64map_remove(&m->tasks, tk);
  }
  if (ev->flow_in)
    ev->bind_id = s->id;
  ev->args.has_task = 1;
  ev->args.task = s->id;
}

/* Emits span `s` of thread `t`, `dur` long as printed. */
static void emit_span(struct span_model* m, const struct span_thread* t,
                      const struct span* s, uint64_t dur) {
  static const char* const cats[] = {
      [SPAN_TICK] = TRACE_CAT_TICK,     [SPAN_PHASE] = TRACE_CAT_PHASE,
      [SPAN_WAIT] = TRACE_CAT_WAIT,     [SPAN_CALLBACK] = TRACE_CAT_CALLBACK,
      [SPAN_SUBMIT] = TRACE_CAT_SUBMIT,
  };
  static const enum stat_kind kinds[] = {
      [SPAN_TICK] = STAT_KIND_TICK,     [SPAN_PHASE] = STAT_KIND_PHASE,
      [SPAN_WAIT] = STAT_KIND_WAIT,     [SPAN_CALLBACK] = STAT_KIND_CALLBACK,
      [SPAN_SUBMIT] = STAT_KIND_SUBMIT,
  };
  struct stat_event* ev = span_event(m, t->tid);
  ev->ts_ns = (int64_t) rel(m, s->ts);
  ev->dur_ns = (int64_t) dur;
  ev->cat = cats[s->type];
  ev->kind = kinds[s->type];
  ev->cat_id = NAME_ID_CAT(ev->kind);
  ev->args.cut = cut_bits(s->flags);
  switch (s->type) {
  case SPAN_TICK:
  case SPAN_PHASE:
    if (s->type == SPAN_TICK) {
      ev->name = TRACE_CAT_TICK;
      ev->name_id = ev->cat_id;
    } else {
      struct vocab_name phase = phase_name(s->kind);
      ev->name = phase.text;
      ev->name_id = phase.id;
    }
    ev->args.has_tick = 1;
    ev->args.tick = (int64_t) s->id;
    ev->args.after_poll = (s->flags & SPAN_AFTER_POLL) != 0;
    break;
  case SPAN_WAIT:
    ev->name = TRACE_CAT_WAIT;
    ev->name_id = ev->cat_id;
    break;
  case SPAN_CALLBACK:
    callback_event(m, s, ev);
    break;
  case SPAN_SUBMIT:
    ev->name = TRACE_CAT_SUBMIT;
    ev->name_id = ev->cat_id;
    ev->bind_id = s->id;
    ev->flow_out = 1;
    ev->args.has_task = 1;
    ev->args.task = s->id;
    ev->args.label =
        label_name(m, s->label, kind_name(s->kind), &ev->args.label_id);
    break;
  }
  emit(m, ev);
}

/* Whether span `a` is emitted before span `b`: by start, then longest
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

static int span_cmp(const void* x, const void* y, void* group) {
  const struct span* a = &((const struct span*) group)[*(const uint32_t*) x];
  const struct span* b = &((const struct span*) group)[*(const uint32_t*) y];
  if (span_before(a, b))
    return -1;
  return span_before(b, a) ? 1 : 0;
}

/* A phase left out of the trace: empty and shorter than 1 µs. */
static int skip_phase(const struct span_model* m, const struct span* s) {
  return s->type == SPAN_PHASE && !m->o.all_phases &&
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
static void check_wait(struct span_model* m, struct span_thread* t,
                       uint32_t w) {
  struct span* wait = &t->group[w];
  uint32_t i;
  for (i = 0; i < t->group_len; i++) {
    const struct span* c = &t->group[i];
    if (i == w || c->parent != wait->parent || (c->flags & SPAN_SKIP))
      continue;
    if (c->ts < wait->end && wait->ts < c->end) {
      wait->flags |= SPAN_SKIP;
      m->stats.invalid++;
      return;
    }
  }
}

/* Sorts the group's indexes into m->order, in the order of emission. */
static void sort_group(struct span_model* m, struct span_thread* t) {
  uint32_t n = t->group_len;
  uint32_t i;
  for (i = 0; i < n; i++) {
    m->order[i] = i;
    if (t->group[i].type == SPAN_WAIT)
      check_wait(m, t, i);
  }
  if (n > 32) {
    qsort_r(m->order, n, sizeof(*m->order), span_cmp, t->group);
    return;
  }
  /* Groups come nearly sorted: insertion sort. */
  for (i = 1; i < n; i++) {
    uint32_t x = m->order[i];
    uint32_t j = i;
    while (j > 0 && span_before(&t->group[x], &t->group[m->order[j - 1]])) {
      m->order[j] = m->order[j - 1];
      j--;
    }
    m->order[j] = x;
  }
}

/* Emits the sorted group, walking it with the ends of the enclosing
 * spans: a span that outlives its parent is cut at the parent's end. */
static void emit_sorted(struct span_model* m, struct span_thread* t) {
  uint32_t sp = 0;
  uint32_t i;
  for (i = 0; i < t->group_len; i++) {
    struct span* s = &t->group[m->order[i]];
    uint64_t dur;
    if (skip_phase(m, s) || skip_empty_cut(s))
      continue;
    while (sp > 0 && m->ends[sp - 1] <= s->ts)
      sp--;
    /* A wait belongs right in its poll phase; when records were lost
     * around it, a callback may seem to cover it: leave it out. */
    if (s->flags & SPAN_SKIP)
      continue;
    if (s->type == SPAN_WAIT &&
        (sp == 0 || m->opened[sp - 1] != (uint32_t) s->parent)) {
      m->stats.invalid++;
      continue;
    }
    if (sp > 0 && s->end > m->ends[sp - 1])
      s->end = m->ends[sp - 1];
    dur = printed_dur(m, s->ts, s->end, sp > 0 ? m->sums[sp - 1] : HUGE_VAL,
                      &m->sums[sp]);
    m->opened[sp] = m->order[i];
    m->ends[sp++] = s->end;
    t->floor = max_u64(t->floor, s->end);
    emit_span(m, t, s, dur);
  }
}

/* Emits the thread's group (its spans are all closed) and empties it. */
static void flush_group(struct span_model* m, struct span_thread* t) {
  size_t n = t->group_len;
  if (n == 0)
    return;
  if (array_reserve(&m->order, &m->order_cap, n, sizeof(*m->order)) == 0 &&
      array_reserve(&m->ends, &m->ends_cap, n, sizeof(*m->ends)) == 0 &&
      array_reserve(&m->opened, &m->opened_cap, n, sizeof(*m->opened)) == 0 &&
      array_reserve(&m->sums, &m->sums_cap, n, sizeof(*m->sums)) == 0) {
    sort_group(m, t);
    emit_sorted(m, t);
  } else {
    set_error(m, -ENOMEM);
  }
  m->held_spans -= t->group_len;
  t->group_len = 0;
  t->seq = 0;
  t->tick = -1;
  t->last_poll = -1;
}

/* The innermost open span, or -1. */
static int32_t top(const struct span_thread* t) {
  return t->depth > 0 ? t->stack[t->depth - 1] : -1;
}

/* Adds a span under `parent` (an index or -1) to the group, open and on
 * the stack if `open`; returns its index or -1. It starts no earlier
 * than its parent nor the recording. */
static int32_t add_span(struct span_model* m, struct span_thread* t,
                        int32_t parent, uint8_t type, uint8_t kind,
                        uint16_t label, uint64_t id, uint64_t ts, int open) {
  struct span* s;
  if (t->depth >= TRACE_MAX_DEPTH) {
    m->stats.invalid++;
    if (open)
      t->overflow++;
    return -1;
  }
  if (array_reserve(&t->group, &t->group_cap, t->group_len + 1, sizeof(*s)) !=
          0 ||
      array_reserve(&t->stack, &t->stack_cap, t->depth + 1,
                    sizeof(*t->stack)) != 0) {
    set_error(m, -ENOMEM);
    return -1;
  }
  /* Spans of a thread never overlap the ones already emitted, even if
   * timestamps went back. */
  ts = max_u64(ts, max_u64(m->o.start_ns, t->floor));
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
  m->held_spans++;
  return (int32_t) t->group_len++;
}

/* Closes the innermost open span at `ts`. */
static void close_top(struct span_thread* t, uint64_t ts, uint8_t flags) {
  struct span* s = &t->group[t->stack[--t->depth]];
  s->end = max_u64(ts, s->ts);
  s->flags = (uint8_t) ((s->flags & ~SPAN_OPEN) | flags);
}

/* Closes every open span at `ts` and emits the group. */
static void close_all(struct span_model* m, struct span_thread* t, uint64_t ts,
                      uint8_t flags) {
  while (t->depth > 0)
    close_top(t, ts, flags);
  t->overflow = 0;
  flush_group(m, t);
}

/* Closes the spans above the open tick: a phase ends normally, anything
 * else (its end was lost) is incomplete. */
static void close_to_tick(struct span_thread* t, uint64_t ts) {
  while (t->depth > 1) {
    const struct span* s = &t->group[t->stack[t->depth - 1]];
    close_top(t, ts, s->type == SPAN_PHASE ? 0 : SPAN_CUT_END);
  }
}

/* Emits the group of thread `t` now, though spans are open (a tick that
 * does not end, or too many spans held): they are cut at `ts` and go on
 * as new spans cut at their start, nested as before. */
static void split_group(struct span_model* m, struct span_thread* t,
                        uint64_t ts) {
  struct {
    uint64_t id;
    uint16_t label;
    uint8_t type;
    uint8_t kind;
    uint8_t flags;
    uint8_t poll;
  } open[TRACE_MAX_DEPTH];
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
  close_all(m, t, ts, SPAN_CUT_END);
  t->overflow = overflow;
  for (i = 0; i < n; i++) {
    parent = add_span(m, t, parent, open[i].type, open[i].kind, open[i].label,
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
 * emitted, cut, at its thread's last moment seen. */
static void bound_spans(struct span_model* m) {
  struct span_thread* big = NULL;
  size_t i;
  for (i = 0; i < m->nthreads; i++)
    if (big == NULL || m->threads[i]->group_len > big->group_len)
      big = m->threads[i];
  if (big != NULL && big->group_len > 0)
    split_group(m, big, big->last_ts);
}

static void tick_begin(struct span_model* m, struct span_thread* t,
                       const struct lrt_record* r) {
  if (t->depth > 0)
    close_all(m, t, r->ts, SPAN_CUT_END);
  t->tick = add_span(m, t, -1, SPAN_TICK, 0, 0, r->id, r->ts, 1);
  t->last_poll = -1;
  /* Running when the session began: ts is when the runtime first saw it
   * (LRT_BEGUN_EARLIER). */
  if (t->tick >= 0 && (r->arg & LRT_BEGUN_EARLIER))
    t->group[t->tick].flags |= SPAN_CUT_START;
}

static void tick_end(struct span_model* m, struct span_thread* t,
                     const struct lrt_record* r) {
  if (t->tick < 0)
    return;
  if (t->group[t->tick].id != r->id) {
    /* Not this tick's end: the records between were lost. */
    close_all(m, t, r->ts, SPAN_CUT_END);
    return;
  }
  close_to_tick(t, r->ts);
  close_top(t, r->ts, 0);
  flush_group(m, t);
}

static void phase_begin(struct span_model* m, struct span_thread* t,
                        const struct lrt_record* r) {
  int32_t i;
  uint8_t flags = 0;
  if (r->kind == 0 || r->kind >= LRT_PHASE_MAX) {
    m->stats.invalid++;
    return;
  }
  if (t->tick < 0 || t->group[t->tick].id != r->id) {
    /* The phase of a tick whose begin was not seen (records were lost,
     * or the tick was running when the recording began): the tick is
     * emitted from here, cut at its start. */
    tick_begin(m, t, r);
    if (t->tick < 0)
      return;
    t->group[t->tick].flags |= SPAN_CUT_START;
  }
  close_to_tick(t, r->ts);
  if (r->kind == LRT_PHASE_PENDING && t->last_poll >= 0)
    flags = SPAN_AFTER_POLL;
  if (r->arg & LRT_BEGUN_EARLIER)
    flags |= SPAN_CUT_START;
  i = add_span(m, t, t->tick, SPAN_PHASE, r->kind, 0, t->group[t->tick].id,
               r->ts, 1);
  if (i < 0)
    return;
  t->group[i].flags |= flags;
  if (r->kind == LRT_PHASE_POLL)
    t->last_poll = i;
}

/* The wait goes into the tick's latest poll phase, inside its bounds. */
static void wait_span(struct span_model* m, struct span_thread* t,
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
  i = add_span(m, t, t->last_poll, SPAN_WAIT, 0, 0, 0, begin, 0);
  if (i >= 0)
    t->group[i].end = end;
}

static void callback_begin(struct span_model* m, struct span_thread* t,
                           const struct lrt_record* r) {
  int32_t i;
  /* The completion of a task that never started: it was cancelled, and
   * left the queue. */
  if (r->id != 0 && lrt_callback_kind_is_completion(r->kind)) {
    struct task* tk = task_find(m, r->id);
    if (tk != NULL &&
        (tk->flags & (TASK_SUBMITTED | TASK_STARTED)) == TASK_SUBMITTED) {
      pool_change(m, r->ts, t->tid, -1, 0);
    }
  }
  /* Inside a tick, callbacks run in a phase; with none open its record
   * was lost, and the callback is left out with it. */
  if (t->depth > 0 && t->group[top(t)].type == SPAN_TICK) {
    m->stats.invalid++;
    t->overflow++;
    return;
  }
  i = add_span(m, t, top(t), SPAN_CALLBACK, r->kind, r->label, r->id, r->ts, 1);
  /* Running when the window began (a flight dump, flight.c). */
  if (i >= 0 && (r->arg & LRT_BEGUN_EARLIER))
    t->group[i].flags |= SPAN_CUT_START;
}

static void callback_end(struct span_model* m, struct span_thread* t,
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
    flush_group(m, t);
}

static void submit(struct span_model* m, struct span_thread* t,
                   const struct lrt_record* r) {
  struct task* tk;
  int32_t i;
  uint64_t end;
  pool_change(m, r->ts, t->tid, 1, 0);
  /* Inside a tick but in no phase: as for callbacks, a phase record was
   * lost. */
  if (r->id == 0 || (t->depth > 0 && t->group[top(t)].type == SPAN_TICK)) {
    m->stats.invalid++;
    return;
  }
  i = add_span(m, t, top(t), SPAN_SUBMIT, r->kind, r->label, r->id, r->ts, 0);
  if (i < 0)
    return;
  end = r->arg > UINT64_MAX - r->ts ? UINT64_MAX : r->ts + r->arg;
  t->group[i].end = max_u64(end, t->group[i].ts);
  /* The flow starts here: the worker's span and the completion say so. */
  tk = task_get(m, r->id);
  if (tk != NULL) {
    tk->flags |= TASK_SUBMITTED;
    tk->submit_ts = r->ts;
  }
  if (t->depth == 0)
    flush_group(m, t);
}

/* ------------------------------------------------------------------------
 * Worker threads
 */

/* Emits the span of the task running on worker `t`, ending at `end`. */
static void emit_work(struct span_model* m, struct span_thread* t, uint64_t end,
                      unsigned cut) {
  struct task* tk = task_find(m, t->work_task);
  uint64_t ts = max_u64(t->work_ts, max_u64(m->o.start_ns, t->floor));
  struct stat_event* ev;
  double sum;
  end = max_u64(end, ts);
  t->floor = end;
  ev = span_event(m, t->tid);
  ev->ts_ns = (int64_t) rel(m, ts);
  ev->dur_ns = (int64_t) printed_dur(m, ts, end, HUGE_VAL, &sum);
  ev->cat = TRACE_CAT_WORK;
  ev->kind = STAT_KIND_WORK;
  ev->cat_id = NAME_ID_CAT(STAT_KIND_WORK);
  ev->name =
      label_name(m, t->work_label,
                 (struct vocab_name){TRACE_CAT_WORK, ev->cat_id}, &ev->name_id);
  ev->bind_id = t->work_task;
  ev->flow_in = tk != NULL && (tk->flags & TASK_SUBMITTED);
  ev->flow_out = 1;
  ev->args.has_task = 1;
  ev->args.task = t->work_task;
  ev->args.label = ev->name;
  ev->args.label_id = ev->name_id;
  /* Begun unseen, it waited in the queue for as long as nobody knows. */
  if (ev->flow_in && !(cut & SPAN_CUT_START) && t->work_ts >= tk->submit_ts) {
    ev->args.has_queue_wait = 1;
    ev->args.queue_wait_ns = (int64_t) (t->work_ts - tk->submit_ts);
  }
  ev->args.cut = cut_bits(cut);
  emit(m, ev);
}

/* Worker `t` runs the task of record `r` from `ts` on; `cut` is
 * SPAN_CUT_START if it began earlier. */
static void work_begin(struct span_model* m, struct span_thread* t,
                       const struct lrt_record* r, uint64_t ts, uint8_t cut) {
  struct task* tk;
  ensure_worker(m, t);
  t->worked = 1;
  t->work_open = r->id != 0;
  t->work_cut = cut;
  t->work_ts = ts;
  t->work_task = r->id;
  t->work_label = r->label;
  tk = task_get(m, r->id);
  if (tk != NULL)
    tk->flags |= TASK_STARTED;
}

/* Whether the task ending in record `r` on worker `t`, its start unseen,
 * was running when the session began, so from before its first record
 * (m->first_ts): the runtime's snapshot (LRT_REC_POOL) counted it
 * running, and it is the first task the worker shows (the runtime
 * records the start of a task begun while traced, so only a loss hides
 * it; a worker runs one task at a time). Counts it off the snapshot's. */
static int begun_before(struct span_model* m, const struct span_thread* t,
                        const struct lrt_record* r) {
  if (r->id == 0 || t->worked || m->running_unseen == 0 || r->ts < m->pool_ts)
    return 0;
  m->running_unseen--;
  return 1;
}

static void work_start(struct span_model* m, struct span_thread* t,
                       const struct lrt_record* r) {
  /* Running when the window began (a flight dump, flight.c): counted in
   * the pool's counts there already. */
  uint8_t cut = (r->arg & LRT_BEGUN_EARLIER) ? SPAN_CUT_START : 0;
  if (t->work_open)
    emit_work(m, t, r->ts, SPAN_CUT_END | t->work_cut);
  work_begin(m, t, r, r->ts, cut);
  if (!cut)
    pool_change(m, r->ts, t->tid, -1, 1);
}

static void work_end(struct span_model* m, struct span_thread* t,
                     const struct lrt_record* r) {
  pool_change(m, r->ts, t->tid, 0, -1);
  /* A task running when the session began runs from the first moment
   * the recording saw on (TRACE-FORMAT.md, "Cut spans"); one whose start
   * was lost has no span. */
  if (!t->work_open && begun_before(m, t, r))
    work_begin(m, t, r, m->first_ts, SPAN_CUT_START);
  t->worked = 1;
  if (!t->work_open)
    return;
  emit_work(m, t, r->ts, t->work_cut);
  t->work_open = 0;
}

/* ------------------------------------------------------------------------
 * Threads
 */

static uint32_t tid_hash(uint32_t tid) {
  return tid * 2654435761u;
}

static struct thread_memo* memo_slot(struct span_model* m, uint32_t tid) {
  return &m->memo[(tid_hash(tid) >> 16) & (MEMO_SIZE - 1)];
}

static void thread_free(struct span_thread* t) {
  free(t->group);
  free(t->stack);
  free(t);
}

static struct span_thread* thread_new(struct span_model* m, uint32_t tid) {
  struct span_thread* t = calloc(1, sizeof(*t));
  struct thread_memo* memo = memo_slot(m, tid);
  if (t == NULL)
    return NULL;
  t->tid = tid;
  t->tick = -1;
  t->last_poll = -1;
  /* A thread forgotten while idle and seen again keeps its role and name
   * (unless another took its memo since). */
  if (memo->tid == tid) {
    t->role = memo->role;
    t->named = 1;
  }
  /* Its spans never overlap what a thread of the same tid, forgotten,
   * had emitted. */
  t->floor = m->forgot_floor;
  return t;
}

/* The thread `tid`, made on first sight; NULL when out of memory, or
 * when EXPORT_THREADS_MAX are known already (*full is set then). */
static struct span_thread* thread_get(struct span_model* m, uint32_t tid,
                                      int* full) {
  struct thread_ref* ref;
  struct span_thread* t;
  struct span_thread** recent = &m->recent[tid % 64];
  if (*recent != NULL && (*recent)->tid == tid)
    return *recent;
  ref = u64map_find(&m->index, tid);
  if (ref != NULL)
    return *recent = ref->t;
  if (m->nthreads >= EXPORT_THREADS_MAX) {
    *full = 1;
    return NULL;
  }
  if (array_reserve(&m->threads, &m->threads_cap, m->nthreads + 1,
                    sizeof(*m->threads)) != 0)
    return NULL;
  t = thread_new(m, tid);
  if (t == NULL)
    return NULL;
  ref = u64map_insert(&m->index, tid, NULL);
  if (ref == NULL) {
    thread_free(t);
    return NULL;
  }
  ref->t = t;
  m->threads[m->nthreads++] = t;
  return *recent = t;
}

/* Whether thread `t` holds nothing and said nothing since `cutoff`. */
static int thread_idle(const struct span_thread* t, uint64_t cutoff) {
  return t->coming == 0 && t->depth == 0 && t->group_len == 0 &&
         !t->work_open && t->overflow == 0 && t->last_ts < cutoff;
}

/* Forgets thread `t` (idle), keeping its role if it was named. */
static void thread_forget(struct span_model* m, struct span_thread* t) {
  u64map_remove(&m->index, u64map_find(&m->index, t->tid));
  m->forgot_floor = max_u64(m->forgot_floor, max_u64(t->floor, t->last_ts));
  if (t->named) {
    struct thread_memo* memo = memo_slot(m, t->tid);
    memo->tid = t->tid;
    memo->role = t->role;
  }
  thread_free(t);
}

void span_model_sweep(struct span_model* m, uint64_t cutoff) {
  size_t kept = 0;
  size_t i;
  for (i = 0; i < m->nthreads; i++) {
    struct span_thread* t = m->threads[i];
    if (thread_idle(t, cutoff)) {
      thread_forget(m, t);
      continue;
    }
    /* Give back the buffers of quiet ones, so that what is held follows
     * what is going on, not how many threads there ever were. */
    if (t->group_len == 0 && t->group_cap > 1024) {
      free(t->group);
      t->group = NULL;
      t->group_cap = 0;
    }
    m->threads[kept++] = t;
  }
  m->nthreads = kept;
  memset(m->recent, 0, sizeof(m->recent));
}

int span_model_admit(struct span_model* m, uint32_t tid,
                     struct span_thread** thread) {
  int full = 0;
  struct span_thread* t = thread_get(m, tid, &full);
  if (t == NULL)
    return full ? -ENOSPC : -ENOMEM;
  t->coming++;
  *thread = t;
  return 0;
}

void span_model_admit_more(struct span_model* m, struct span_thread* thread,
                           size_t n) {
  thread->coming += n;
}

/* ------------------------------------------------------------------------
 * Records
 */

/* The last moment record `r` shows: its ts, or for a wait or a submit
 * (reported once over) the end of what it measured. */
static uint64_t observed_at(const struct lrt_record* r) {
  if (r->type != LRT_REC_WAIT && r->type != LRT_REC_WORK_SUBMIT)
    return r->ts;
  return r->arg > UINT64_MAX - r->ts ? UINT64_MAX : r->ts + r->arg;
}

/* A thread is a loop or a worker, never both: its spans could not nest.
 * Records of the other role are ignored. */
static int wrong_role(const struct span_thread* t, const struct lrt_record* r) {
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

/* Records about the thread or the process rather than a span. */
static void thread_record(struct span_model* m, struct span_thread* t,
                          const struct lrt_record* r) {
  switch (r->type) {
  case LRT_REC_THREAD:
    if (r->kind >= LRT_THREAD_LOOP && r->kind <= LRT_THREAD_OTHER && !t->named)
      t->role = r->kind;
    if (t->role == LRT_THREAD_LOOP)
      ensure_loop(m, t);
    break;
  case LRT_REC_LOOP_START:
    ensure_loop(m, t);
    emit_loop_facts(m, r->arg);
    break;
  case LRT_REC_LOOP_STOP:
    if (t->depth > 0)
      close_all(m, t, r->ts, SPAN_CUT_END);
    break;
  case LRT_REC_POOL:
    /* The runtime repeats it every announcement; from then on the
     * counters follow the records, so only the first one counts. */
    if (m->pool_ts != 0)
      break;
    m->queued = r->id;
    m->running = r->arg;
    m->running_unseen = r->arg;
    m->pool_ts = r->ts;
    emit_counter(m, r->ts, t->tid);
    break;
  case LRT_REC_LOST:
    if (r->id == 0 || r->id > LOST_MAX) {
      m->stats.invalid++;
      break;
    }
    m->stats.drops += r->id;
    span_model_dropped(m, r->ts, r->id,
                       r->kind <= DROP_AT_EXIT ? r->kind : DROP_REASONS);
    break;
  case LRT_REC_EXIT: /* only a moment seen */
    break;
  default:
    m->stats.invalid++;
  }
}

void span_model_record(struct span_model* m, struct span_thread* t,
                       const struct lrt_record* r) {
  if (t->coming > 0)
    t->coming--;
  if (wrong_role(t, r)) {
    m->stats.invalid++;
    return;
  }
  if (m->held_spans >= EXPORT_SPANS_MAX)
    bound_spans(m);
  t->last_ts = max_u64(t->last_ts, observed_at(r));
  /* A wait is stamped when it began, maybe before the session. (The
   * snapshot, sent as it is taken, may come before records stamped
   * earlier.) */
  if ((r->ts < m->first_ts || m->first_ts == 0) && r->type != LRT_REC_WAIT)
    m->first_ts = r->ts;
  switch (r->type) {
  case LRT_REC_TICK_BEGIN:
    ensure_loop(m, t);
    tick_begin(m, t, r);
    break;
  case LRT_REC_TICK_END:
    tick_end(m, t, r);
    break;
  case LRT_REC_PHASE:
    phase_begin(m, t, r);
    break;
  case LRT_REC_WAIT:
    wait_span(m, t, r);
    break;
  case LRT_REC_CALLBACK_BEGIN:
    ensure_loop(m, t);
    callback_begin(m, t, r);
    break;
  case LRT_REC_CALLBACK_END:
    callback_end(m, t, r);
    break;
  case LRT_REC_WORK_SUBMIT:
    ensure_loop(m, t);
    submit(m, t, r);
    break;
  case LRT_REC_WORK_START:
    work_start(m, t, r);
    break;
  case LRT_REC_WORK_END:
    work_end(m, t, r);
    break;
  default:
    thread_record(m, t, r);
  }
}

/* ------------------------------------------------------------------------
 * The model
 */

int span_model_new(struct span_model** out,
                   const struct span_model_opts* opts) {
  struct span_model* m = calloc(1, sizeof(*m));
  if (m == NULL)
    return -ENOMEM;
  m->o = *opts;
  m->o.libuv_version = NULL;
  if (opts->libuv_version != NULL)
    snprintf(m->libuv_version, sizeof(m->libuv_version), "%s",
             opts->libuv_version);
  event_init(m, &m->span_ev, STAT_EV_SPAN, 0);
  m->span_ev.has_ts = 1;
  m->span_ev.has_dur = 1;
  m->span_ev.has_args = 1;
  event_init(m, &m->counter_ev, STAT_EV_COUNTER, 0);
  m->counter_ev.name = TRACE_COUNTER_THREADPOOL;
  m->counter_ev.name_id = NAME_ID_THREADPOOL;
  m->counter_ev.has_ts = 1;
  u64map_init(&m->index, sizeof(struct thread_ref));
  u64map_init(&m->tasks, sizeof(struct task));
  m->memo = calloc(MEMO_SIZE, sizeof(*m->memo));
  if (m->memo == NULL) {
    free(m);
    return -ENOMEM;
  }
  *out = m;
  return 0;
}

void span_model_finish(struct span_model* m, uint64_t end_ns) {
  size_t i;
  for (i = 0; i < m->nthreads; i++) {
    struct span_thread* t = m->threads[i];
    if (t->depth > 0)
      close_all(m, t, end_ns, SPAN_CUT_END);
    if (t->work_open) {
      emit_work(m, t, end_ns, SPAN_CUT_END | t->work_cut);
      t->work_open = 0;
    }
  }
}

int span_model_error(const struct span_model* m) {
  return m->error;
}

void span_model_stats(const struct span_model* m, struct span_model_stats* st) {
  uint64_t b =
      sizeof(*m) + MEMO_SIZE * sizeof(*m->memo) + u64map_bytes(&m->tasks) +
      u64map_bytes(&m->index) + m->threads_cap * sizeof(*m->threads) +
      m->order_cap * sizeof(*m->order) + m->ends_cap * sizeof(*m->ends) +
      m->opened_cap * sizeof(*m->opened) + m->sums_cap * sizeof(*m->sums);
  size_t i;
  for (i = 0; i < m->nthreads; i++) {
    const struct span_thread* t = m->threads[i];
    b += sizeof(*t) + t->group_cap * sizeof(*t->group) +
         t->stack_cap * sizeof(*t->stack);
  }
  *st = m->stats;
  st->memory = b;
}

void span_model_free(struct span_model* m) {
  size_t i;
  if (m == NULL)
    return;
  for (i = 0; i < m->nthreads; i++)
    thread_free(m->threads[i]);
  free(m->threads);
  free(m->memo);
  u64map_free(&m->index);
  u64map_free(&m->tasks);
  free(m->order);
  free(m->ends);
  free(m->opened);
  free(m->sums);
  free(m);
}
