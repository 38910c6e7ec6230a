/* stat_summary.c — the summary figures, computed while a trace streams by.
 *
 * Spans reach us two ways: `X` events (ts and dur on one event; ours are
 * written parent first, in (ts, -dur) order per thread) and `B`/`E` pairs
 * (other producers; children end before their parents). Both go through
 * span_figures() for the per-kind figures. Nesting, which callback self
 * time and the callbacks of each tick need, comes from a stack of open
 * spans per thread: for `X` a span's parent is the innermost open span
 * that contains it; for `B`/`E` it is the `B` below it.
 */
#include "stat_summary.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "containers.h"
#include "stat_event.h"
#include "stat_values.h"
#include "looprt_trace.h"

/* One callback group: (name, kind). */
struct group {
  const char* name; /* in the key of its entry in group_ids */
  const char* kind; /* the same; NULL: none */
  uint64_t count;
  uint64_t total_ns;
  uint64_t self_ns;
};

/* A tick and the longest callbacks seen inside it. */
struct tick_cb {
  size_t group;
  uint64_t dur_ns;
  int64_t ts_ns;
};

struct tick_rec {
  int has_number;
  int64_t number;
  int cut; /* cut by the recording's limits: never ranked */
  int64_t ts_ns;
  uint64_t dur_ns;
  uint64_t wait_ns; /* Σ dur of the wait spans inside */
  uint64_t busy_ns; /* dur - wait, set when the tick closes */
  size_t ncb;
  struct tick_cb cb[STAT_TICK_CALLBACKS];
};

/* A span that may still have spans nested in it. */
struct open_span {
  enum stat_kind kind;
  int64_t ts_ns;
  int64_t end_ns;       /* X: ts + dur; B: set when the E arrives */
  uint64_t children_ns; /* Σ dur of the spans directly inside */
  size_t group;         /* STAT_KIND_CALLBACK: its group */
  struct tick_rec tick; /* STAT_KIND_TICK */
  /* B only: what the E needs to make the span. */
  char* name;
  char* cat;
  int has_args;
  struct stat_span_args args; /* args.cb_kind is cb_kind */
  char* cb_kind;
};

struct span_stack {
  struct open_span* v;
  size_t n;
  size_t cap;
};

struct thread {
  int64_t pid;
  int64_t tid;
  char* name;
  int has_sort;
  int64_t sort;
  struct span_stack x; /* open X spans of the loop kinds */
  struct span_stack b; /* open B events */
  int has_last;
  int64_t last_ts_ns; /* the last X span's ts, to notice disorder */
  uint64_t tasks;
  uint64_t busy_ns;
  uint64_t first_task; /* order of the thread's first task, from 1 */
};

struct phase_acc {
  char* name;
  uint64_t count;
  uint64_t total_ns;      /* cut spans included */
  struct stat_values dur; /* complete spans only */
  struct stat_buckets buckets;
};

/* The tasks of one label. */
struct kind_acc {
  char* name; /* NULL: the labels past STAT_MAX_KINDS */
  uint64_t tasks;
  struct stat_buckets run;
  struct stat_buckets queue_wait;
};

struct i64vec {
  int64_t* v;
  size_t n;
  size_t cap;
};

/* A growable list of lines (warnings, missing). */
struct lines {
  char** v;
  size_t n;
  size_t cap;
};

/* An entry of thread_ids: a thread found by its (pid, tid). */
struct thread_id {
  uint64_t key; /* thread_key() */
  struct thread* thread;
};

/* An entry of group_ids: a callback group found by its (name, kind). */
struct group_id {
  struct strmap_key key; /* group_id_key() */
  size_t group;          /* its index in groups */
};

struct stat_summary {
  struct thread** threads; /* in the order they came */
  size_t nthreads;
  size_t threads_cap;
  struct u64map thread_ids;

  struct group* groups; /* in the order they came */
  size_t ngroups;
  size_t groups_cap;
  struct strmap group_ids;

  struct phase_acc phases[STAT_MAX_PHASES];
  size_t nphases;

  uint64_t ticks;              /* cut ones included */
  struct stat_values tick_dur; /* complete ticks only */
  struct stat_buckets tick_buckets;
  uint64_t tick_sum_ns;
  uint64_t wait_sum_ns;
  struct stat_cut cut;

  uint64_t tasks;
  uint64_t task_seq;
  struct stat_values run;        /* complete work spans only */
  struct stat_values queue_wait; /* complete work spans only */
  struct i64vec task_start;
  struct i64vec task_end;
  struct kind_acc kinds[STAT_MAX_KINDS];
  size_t nkinds;
  struct kind_acc other_kind; /* labels past STAT_MAX_KINDS */

  uint64_t callback_count;
  enum stat_sort sort;
  struct tick_rec longest[STAT_LONGEST_TICKS]; /* by busy time */
  size_t nlongest;
  struct tick_rec longest_wall[STAT_LONGEST_TICKS]; /* by wall time */
  size_t nlongest_wall;

  int has_window; /* stat_summary_window() */
  int64_t win_from_ns;
  int64_t win_to_ns;

  int have_span;
  int64_t min_ts_ns;
  int64_t max_end_ns;

  /* Facts from metadata events. */
  char* process_name;
  char* command;
  char* libuv_version;
  int has_threadpool_size;
  int64_t threadpool_size;
  int has_duration;
  int64_t duration_ns;
  int has_drops_meta;
  int64_t drops_meta;
  int looptrace_meta; /* a `looptrace` metadata event was seen */
  uint64_t drops_instants;
  int has_drop_instant;

  /* Events that did not fit, reported as warnings. */
  uint64_t no_time;     /* X/B/E without the times they need */
  uint64_t unmatched_e; /* E with no open B */
  uint64_t unended_b;   /* B never closed */
  uint64_t too_deep;    /* spans past TRACE_MAX_DEPTH */
  uint64_t no_thread;   /* events of threads past STAT_MAX_THREADS */
  uint64_t wide_thread; /* events whose pid or tid is no 32-bit number */
  uint64_t no_phase;    /* phase spans past STAT_MAX_PHASES names */
  int disorder;         /* some thread's spans are not in time order */
  int64_t disorder_tid;

  uint64_t added; /* events given */
  int failed;     /* an allocation failed: the figures are not trustworthy */
  int finished;
  struct stat_figures fig;
  struct stat_phase* fig_phases;
  struct stat_callback* fig_callbacks;
  struct stat_worker* fig_workers;
  struct stat_task_kind* fig_kinds;
  struct lines warnings;
  struct lines missing;
};

const uint64_t stat_bucket_le_ns[STAT_NBUCKETS] = {
    10000,    100000,    500000,    1000000,    5000000,   10000000,
    50000000, 100000000, 500000000, 1000000000, 5000000000};

/* ---------------------------------------------------------------------- */
/* Small helpers. */

static uint64_t sat_add(uint64_t a, uint64_t b) {
  return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

static void buckets_add(struct stat_buckets* b, uint64_t ns) {
  size_t i = 0;
  while (i < STAT_NBUCKETS && ns > stat_bucket_le_ns[i])
    i++;
  b->n[i]++;
  b->count++;
  b->sum_ns = sat_add(b->sum_ns, ns);
}

static int i64vec_push(struct i64vec* a, int64_t x) {
  if (array_reserve(&a->v, &a->cap, a->n + 1, sizeof(*a->v)) != 0)
    return -ENOMEM;
  a->v[a->n++] = x;
  return 0;
}

__attribute__((format(printf, 2, 3))) static int lines_add(struct lines* l,
                                                           const char* fmt,
                                                           ...) {
  va_list ap;
  char* s;
  int n;
  if (array_reserve(&l->v, &l->cap, l->n + 1, sizeof(*l->v)) != 0)
    return -ENOMEM;
  va_start(ap, fmt);
  n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0)
    return -ENOMEM;
  l->v[l->n++] = s;
  return 0;
}

static void lines_free(struct lines* l) {
  size_t i;
  for (i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof(*l));
}

/* Replaces *dst with a copy of src. Returns 0 or -ENOMEM. */
static int set_str(char** dst, const char* src) {
  char* s = strdup(src);
  if (s == NULL)
    return -ENOMEM;
  free(*dst);
  *dst = s;
  return 0;
}

static int is_loop_kind(enum stat_kind k) {
  return k == STAT_KIND_TICK || k == STAT_KIND_PHASE || k == STAT_KIND_WAIT ||
         k == STAT_KIND_CALLBACK || k == STAT_KIND_SUBMIT;
}

/* ---------------------------------------------------------------------- */
/* Threads. */

/* The key of thread (pid, tid) in thread_ids, 0 when there is none
 * (either is not in (-2^31, 2^31)): the two as 32-bit numbers side by
 * side, so one key is one thread. The pid's top bit is flipped so that
 * (0, 0), the events of a trace that gives neither, is not 0 (a free
 * slot); that is why pid -2^31 has no key. Linux's pids and tids stay
 * below 2^22 (PID_MAX_LIMIT), and trace viewers read them as 32-bit
 * numbers. */
static uint64_t thread_key(int64_t pid, int64_t tid) {
  if (pid <= INT32_MIN || pid > INT32_MAX || tid <= INT32_MIN ||
      tid > INT32_MAX)
    return 0;
  return ((uint64_t) (uint32_t) pid << 32 | (uint32_t) tid) ^ (1ull << 63);
}

/* The thread (pid, tid), created on first use. Sets *out to NULL when
 * there are already STAT_MAX_THREADS or it has no key. Returns 0 or
 * -ENOMEM. */
static int thread_get(struct stat_summary* s, const struct stat_event* ev,
                      struct thread** out) {
  uint64_t key = thread_key(ev->pid, ev->tid);
  struct thread_id* id;
  struct thread* t;
  int added;

  *out = NULL;
  if (key == 0) {
    s->wide_thread++;
    return 0;
  }
  id = u64map_find(&s->thread_ids, key);
  if (id != NULL) {
    *out = id->thread;
    return 0;
  }
  if (s->nthreads >= STAT_MAX_THREADS) {
    s->no_thread++;
    return 0;
  }
  if (array_reserve(&s->threads, &s->threads_cap, s->nthreads + 1,
                    sizeof(*s->threads)) != 0 ||
      (t = calloc(1, sizeof(*t))) == NULL)
    return -ENOMEM;
  id = u64map_insert(&s->thread_ids, key, &added);
  if (id == NULL) {
    free(t);
    return -ENOMEM;
  }
  t->pid = ev->pid;
  t->tid = ev->tid;
  id->thread = t;
  s->threads[s->nthreads++] = t;
  *out = t;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Callback groups. */

/* The key of group (name, kind) in group_ids: the name, then, when there
 * is a kind, a NUL and the kind. A name has no NUL in it, so one key is
 * one group. Returns its length, or 0 and sets *key to NULL out of
 * memory; free *key when it is not `buf`. */
static size_t group_id_key(const char* name, const char* kind, char* buf,
                           size_t size, char** key) {
  size_t nlen = strlen(name);
  size_t len = kind != NULL ? nlen + 1 + strlen(kind) : nlen;
  *key = len < size ? buf : malloc(len + 1);
  if (*key == NULL)
    return 0;
  memcpy(*key, name, nlen);
  if (kind != NULL) {
    (*key)[nlen] = '\0';
    memcpy(*key + nlen + 1, kind, len - nlen - 1);
  }
  return len;
}

/* The group of (name, kind), created on first use; kind may be NULL.
 * Returns 0 and sets *out, or -ENOMEM. */
static int group_get(struct stat_summary* s, const char* name, const char* kind,
                     size_t* out) {
  char buf[256];
  char* key;
  size_t len = group_id_key(name, kind, buf, sizeof(buf), &key);
  struct group_id* id = NULL;
  int added = 0;

  if (key != NULL && array_reserve(&s->groups, &s->groups_cap, s->ngroups + 1,
                                   sizeof(*s->groups)) == 0)
    id = strmap_insert(&s->group_ids, key, len, &added);
  if (key != buf)
    free(key);
  if (id == NULL)
    return -ENOMEM;
  if (added) {
    struct group* g = &s->groups[s->ngroups];
    memset(g, 0, sizeof(*g));
    g->name = id->key.s;
    g->kind = kind != NULL ? id->key.s + strlen(name) + 1 : NULL;
    id->group = s->ngroups++;
  }
  *out = id->group;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Ticks: the callbacks inside each, and the longest ones. */

/* a before b in "longest first" order: longer, then earlier. */
static int longer(uint64_t dur_a, int64_t ts_a, uint64_t dur_b, int64_t ts_b) {
  return dur_a > dur_b || (dur_a == dur_b && ts_a < ts_b);
}

static void tick_add_callback(struct tick_rec* t, size_t group, uint64_t dur_ns,
                              int64_t ts_ns) {
  size_t i;
  if (t->ncb == STAT_TICK_CALLBACKS &&
      !longer(dur_ns, ts_ns, t->cb[t->ncb - 1].dur_ns, t->cb[t->ncb - 1].ts_ns))
    return;
  i = t->ncb < STAT_TICK_CALLBACKS ? t->ncb++ : t->ncb - 1;
  while (i > 0 &&
         longer(dur_ns, ts_ns, t->cb[i - 1].dur_ns, t->cb[i - 1].ts_ns)) {
    t->cb[i] = t->cb[i - 1];
    i--;
  }
  t->cb[i].group = group;
  t->cb[i].dur_ns = dur_ns;
  t->cb[i].ts_ns = ts_ns;
}

/* A tick's rank in a list of the longest: its busy or its wall time. */
static uint64_t tick_key(const struct tick_rec* t, int wall) {
  return wall ? t->dur_ns : t->busy_ns;
}

/* Offers a closed tick to one list of the longest (v, *n). */
static void longest_insert(struct tick_rec* v, size_t* n, int wall,
                           const struct tick_rec* t) {
  size_t i;
  if (*n == STAT_LONGEST_TICKS &&
      !longer(tick_key(t, wall), t->ts_ns, tick_key(&v[*n - 1], wall),
              v[*n - 1].ts_ns))
    return;
  i = *n < STAT_LONGEST_TICKS ? (*n)++ : *n - 1;
  while (i > 0 && longer(tick_key(t, wall), t->ts_ns, tick_key(&v[i - 1], wall),
                         v[i - 1].ts_ns)) {
    v[i] = v[i - 1];
    i--;
  }
  v[i] = *t;
}

/* Offers a closed tick to the longest ticks; a cut one never is. */
static void longest_offer(struct stat_summary* s, const struct tick_rec* t) {
  if (t->cut)
    return;
  longest_insert(s->longest, &s->nlongest, 0, t);
  longest_insert(s->longest_wall, &s->nlongest_wall, 1, t);
}

/* The innermost open tick of a stack, or NULL. */
static struct tick_rec* stack_tick(struct span_stack* st) {
  size_t i = st->n;
  while (i-- > 0)
    if (st->v[i].kind == STAT_KIND_TICK)
      return &st->v[i].tick;
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* Spans. */

static int stack_push(struct span_stack* st, const struct open_span* e) {
  if (array_reserve(&st->v, &st->cap, st->n + 1, sizeof(*st->v)) != 0)
    return -ENOMEM;
  st->v[st->n++] = *e;
  return 0;
}

static void open_span_free(struct open_span* e) {
  free(e->name);
  free(e->cat);
  free(e->cb_kind);
  e->name = NULL;
  e->cat = NULL;
  e->cb_kind = NULL;
}

/* A span is over: no more spans can nest in it. */
static void span_close(struct stat_summary* s, struct open_span* e) {
  uint64_t dur = (uint64_t) (e->end_ns - e->ts_ns);
  if (e->kind == STAT_KIND_CALLBACK) {
    uint64_t child = e->children_ns < dur ? e->children_ns : dur;
    struct group* g = &s->groups[e->group];
    g->self_ns = sat_add(g->self_ns, dur - child);
  } else if (e->kind == STAT_KIND_TICK) {
    e->tick.ts_ns = e->ts_ns;
    e->tick.dur_ns = dur;
    e->tick.busy_ns = dur - (e->tick.wait_ns < dur ? e->tick.wait_ns : dur);
    longest_offer(s, &e->tick);
  }
  open_span_free(e);
}

static int phase_get(struct stat_summary* s, const char* name,
                     struct phase_acc** out) {
  size_t i;
  *out = NULL;
  for (i = 0; i < s->nphases; i++)
    if (strcmp(s->phases[i].name, name) == 0) {
      *out = &s->phases[i];
      return 0;
    }
  if (s->nphases == STAT_MAX_PHASES) {
    s->no_phase++;
    return 0;
  }
  s->phases[s->nphases].name = strdup(name);
  if (s->phases[s->nphases].name == NULL)
    return -ENOMEM;
  s->phases[s->nphases].count = 0;
  s->phases[s->nphases].total_ns = 0;
  memset(&s->phases[s->nphases].buckets, 0, sizeof(struct stat_buckets));
  stat_values_init(&s->phases[s->nphases].dur);
  *out = &s->phases[s->nphases++];
  return 0;
}

/* The part of a span [ts, end) inside the window, or all of it when
 * there is none. */
static uint64_t span_time(const struct stat_summary* s, int64_t ts,
                          int64_t end) {
  if (s->has_window) {
    ts = ts > s->win_from_ns ? ts : s->win_from_ns;
    end = end < s->win_to_ns ? end : s->win_to_ns;
  }
  return end > ts ? (uint64_t) (end - ts) : 0;
}

/* The tasks of a label, created on first use; past STAT_MAX_KINDS
 * labels, the "other" ones. Returns NULL when out of memory. */
static struct kind_acc* kind_get(struct stat_summary* s, const char* name) {
  size_t i;
  for (i = 0; i < s->nkinds; i++)
    if (strcmp(s->kinds[i].name, name) == 0)
      return &s->kinds[i];
  if (s->nkinds == STAT_MAX_KINDS)
    return &s->other_kind;
  memset(&s->kinds[i], 0, sizeof(s->kinds[i]));
  s->kinds[i].name = strdup(name);
  if (s->kinds[i].name == NULL)
    return NULL;
  s->nkinds++;
  return &s->kinds[i];
}

/* The time figures of a span: what of it lies inside the window. */
static int span_time_figures(struct stat_summary* s,
                             const struct stat_event* ev, struct thread* t) {
  uint64_t in = span_time(s, ev->ts_ns, ev->ts_ns + ev->dur_ns);
  struct phase_acc* ph;
  switch (ev->kind) {
  case STAT_KIND_TICK:
    s->tick_sum_ns = sat_add(s->tick_sum_ns, in);
    return 0;
  case STAT_KIND_PHASE:
    if (phase_get(s, ev->name, &ph) != 0)
      return -ENOMEM;
    if (ph != NULL)
      ph->total_ns = sat_add(ph->total_ns, in);
    return 0;
  case STAT_KIND_WAIT:
    s->wait_sum_ns = sat_add(s->wait_sum_ns, in);
    return 0;
  case STAT_KIND_WORK:
    if (t != NULL)
      t->busy_ns = sat_add(t->busy_ns, in);
    return 0;
  default:
    return 0;
  }
}

/* Counts one more span in *count; a cut one also in *ncut, and only a
 * complete one gets its `dur` into the histogram `b` and the
 * percentiles `v`. Returns 0 or -ENOMEM. */
static int duration_add(struct stat_buckets* b, struct stat_values* v,
                        uint64_t* count, uint64_t* ncut, int cut,
                        uint64_t dur) {
  (*count)++;
  if (cut) {
    (*ncut)++;
    return 0;
  }
  buckets_add(b, dur);
  return stat_values_add(v, dur);
}

/* The figures of one span (ev->ts_ns, ev->dur_ns valid) of kind k on
 * thread t (NULL if untracked). A cut span counts in counts and sums
 * (what was seen of it) but never in a percentile. Sets *group for
 * callbacks. */
static int span_figures(struct stat_summary* s, const struct stat_event* ev,
                        struct thread* t, size_t* group) {
  int64_t end = ev->ts_ns + ev->dur_ns;
  uint64_t dur = (uint64_t) ev->dur_ns;
  int cut = ev->args.cut;
  struct phase_acc* ph;
  struct kind_acc* kind;

  if (!s->have_span || ev->ts_ns < s->min_ts_ns)
    s->min_ts_ns = ev->ts_ns;
  if (!s->have_span || end > s->max_end_ns)
    s->max_end_ns = end;
  s->have_span = 1;
  if (span_time_figures(s, ev, t) != 0)
    return -ENOMEM;

  switch (ev->kind) {
  case STAT_KIND_TICK:
    return duration_add(&s->tick_buckets, &s->tick_dur, &s->ticks,
                        &s->cut.ticks, cut, dur);
  case STAT_KIND_PHASE:
    if (phase_get(s, ev->name, &ph) != 0)
      return -ENOMEM;
    if (ph == NULL)
      return 0;
    return duration_add(&ph->buckets, &ph->dur, &ph->count, &s->cut.phases, cut,
                        dur);
  case STAT_KIND_CALLBACK:
    if (group_get(s, ev->name, ev->args.cb_kind, group) != 0)
      return -ENOMEM;
    s->callback_count++;
    s->groups[*group].count++;
    s->groups[*group].total_ns = sat_add(s->groups[*group].total_ns, dur);
    s->cut.callbacks += cut != 0;
    return 0;
  case STAT_KIND_WORK:
    s->tasks++;
    s->cut.tasks += cut != 0;
    if (t != NULL && t->tasks++ == 0)
      t->first_task = ++s->task_seq;
    kind = kind_get(s, ev->name);
    if (kind == NULL)
      return -ENOMEM;
    kind->tasks++;
    if (!cut)
      buckets_add(&kind->run, dur);
    /* A task cut at its end still waited what it says; one cut at its
     * start has no queue wait. */
    if (ev->args.has_queue_wait)
      buckets_add(&kind->queue_wait, (uint64_t) ev->args.queue_wait_ns);
    if (ev->args.has_queue_wait &&
        stat_values_add(&s->queue_wait, (uint64_t) ev->args.queue_wait_ns) != 0)
      return -ENOMEM;
    if ((!cut && stat_values_add(&s->run, dur) != 0) ||
        i64vec_push(&s->task_start, ev->ts_ns) != 0 ||
        /* A zero-length task still runs at its instant. */
        i64vec_push(&s->task_end, end > ev->ts_ns ? end : ev->ts_ns + 1) != 0)
      return -ENOMEM;
    return 0;
  default:
    return 0;
  }
}

static void tick_start(const struct stat_span_args* a, struct tick_rec* t) {
  t->has_number = a->has_tick;
  t->number = a->tick;
  t->cut = a->cut;
}

/* A span of kind k, of dur_ns, just nested under the open spans `st`:
 * what the innermost open tick keeps of it. */
static void tick_add_child(struct span_stack* st, enum stat_kind k,
                           size_t group, uint64_t dur_ns, int64_t ts_ns) {
  struct tick_rec* tick = stack_tick(st);
  if (tick == NULL)
    return;
  if (k == STAT_KIND_CALLBACK)
    tick_add_callback(tick, group, dur_ns, ts_ns);
  else if (k == STAT_KIND_WAIT)
    tick->wait_ns = sat_add(tick->wait_ns, dur_ns);
}

/* An X span of a loop kind: find its parent among the open spans of its
 * thread, then open it. */
static int span_nest_x(struct stat_summary* s, struct thread* t,
                       const struct stat_event* ev, size_t group) {
  enum stat_kind k = ev->kind;
  int64_t end = ev->ts_ns + ev->dur_ns;
  struct open_span e;

  if (t->has_last && ev->ts_ns < t->last_ts_ns && !s->disorder) {
    s->disorder = 1;
    s->disorder_tid = t->tid;
  }
  t->has_last = 1;
  t->last_ts_ns = ev->ts_ns;

  while (t->x.n > 0) {
    struct open_span* top = &t->x.v[t->x.n - 1];
    if (top->ts_ns <= ev->ts_ns && end <= top->end_ns)
      break;
    span_close(s, top);
    t->x.n--;
  }
  if (t->x.n > 0) {
    struct open_span* parent = &t->x.v[t->x.n - 1];
    parent->children_ns = sat_add(parent->children_ns, (uint64_t) ev->dur_ns);
  }
  tick_add_child(&t->x, k, group, (uint64_t) ev->dur_ns, ev->ts_ns);
  if (t->x.n >= TRACE_MAX_DEPTH) {
    s->too_deep++;
    return 0;
  }
  memset(&e, 0, sizeof(e));
  e.kind = k;
  e.ts_ns = ev->ts_ns;
  e.end_ns = end;
  e.group = group;
  if (k == STAT_KIND_TICK)
    tick_start(&ev->args, &e.tick);
  return stack_push(&t->x, &e);
}

static int on_complete(struct stat_summary* s, const struct stat_event* ev) {
  enum stat_kind k = ev->kind;
  struct thread* t = NULL;
  size_t group = 0;

  if (!ev->has_ts || !ev->has_dur) {
    s->no_time++;
    return 0;
  }
  if ((k == STAT_KIND_WORK || is_loop_kind(k)) && thread_get(s, ev, &t) != 0)
    return -ENOMEM;
  if (span_figures(s, ev, t, &group) != 0)
    return -ENOMEM;
  if (t != NULL && is_loop_kind(k))
    return span_nest_x(s, t, ev, group);
  return 0;
}

/* The thread of a B or E event, in *out; NULL when the event is left
 * out: it has no ts (counted in no_time) or its thread is not tracked.
 * Returns 0 or -ENOMEM. */
static int be_thread(struct stat_summary* s, const struct stat_event* ev,
                     struct thread** out) {
  *out = NULL;
  if (!ev->has_ts) {
    s->no_time++;
    return 0;
  }
  return thread_get(s, ev, out);
}

static int on_begin(struct stat_summary* s, const struct stat_event* ev) {
  struct open_span e;
  struct thread* t;

  if (be_thread(s, ev, &t) != 0)
    return -ENOMEM;
  if (t == NULL)
    return 0;
  if (t->b.n >= TRACE_MAX_DEPTH) {
    s->too_deep++;
    return 0;
  }
  memset(&e, 0, sizeof(e));
  e.kind = ev->kind;
  e.ts_ns = ev->ts_ns;
  e.name = strdup(ev->name);
  e.cat = strdup(ev->cat);
  e.has_args = ev->has_args;
  e.args = ev->args;
  e.args.cb_kind = NULL;
  if (ev->args.cb_kind != NULL)
    e.args.cb_kind = e.cb_kind = strdup(ev->args.cb_kind);
  if (e.name == NULL || e.cat == NULL ||
      (ev->args.cb_kind != NULL && e.cb_kind == NULL) ||
      stack_push(&t->b, &e) != 0) {
    open_span_free(&e);
    return -ENOMEM;
  }
  return 0;
}

/* An E closes the innermost open B whose name and cat match those it
 * gives (Perfetto's rule); B events above that one never ended. */
static int on_end(struct stat_summary* s, const struct stat_event* ev) {
  struct thread* t;
  struct open_span e;
  struct stat_event span;
  size_t i;
  size_t group = 0;
  int rc;

  if (be_thread(s, ev, &t) != 0)
    return -ENOMEM;
  if (t == NULL)
    return 0;
  for (i = t->b.n; i-- > 0;) {
    const struct open_span* b = &t->b.v[i];
    if ((ev->name[0] == '\0' || strcmp(ev->name, b->name) == 0) &&
        (ev->cat[0] == '\0' || strcmp(ev->cat, b->cat) == 0))
      break;
  }
  if (i == (size_t) -1 || ev->ts_ns < t->b.v[i].ts_ns) {
    s->unmatched_e++;
    return 0;
  }
  while (t->b.n > i + 1) {
    s->unended_b++;
    open_span_free(&t->b.v[--t->b.n]);
  }
  e = t->b.v[--t->b.n];

  memset(&span, 0, sizeof(span));
  span.type = STAT_EV_SPAN;
  span.pid = ev->pid;
  span.tid = ev->tid;
  span.has_ts = span.has_dur = 1;
  span.name = e.name;
  span.cat = e.cat;
  span.kind = e.kind;
  span.ts_ns = e.ts_ns;
  span.dur_ns = ev->ts_ns - e.ts_ns;
  /* When both carry args, the E's win; cut when either says so. */
  span.args = ev->has_args ? ev->args : e.args;
  span.args.cut = ev->args.cut || e.args.cut;
  e.end_ns = ev->ts_ns;

  rc = span_figures(s, &span, e.kind == STAT_KIND_WORK ? t : NULL, &group);
  if (rc == 0 && is_loop_kind(e.kind)) {
    if (t->b.n > 0) {
      struct open_span* parent = &t->b.v[t->b.n - 1];
      parent->children_ns =
          sat_add(parent->children_ns, (uint64_t) span.dur_ns);
    }
    tick_add_child(&t->b, e.kind, group, (uint64_t) span.dur_ns, span.ts_ns);
    e.group = group;
    if (e.kind == STAT_KIND_TICK)
      tick_start(&span.args, &e.tick);
    span_close(s, &e);
  } else {
    open_span_free(&e);
  }
  return rc;
}

/* ---------------------------------------------------------------------- */
/* Metadata and instants. */

/* Merges facts about the recording: a later one wins. */
static int on_facts(struct stat_summary* s, const struct stat_facts* f) {
  s->looptrace_meta = 1;
  if (f->has_duration) {
    s->has_duration = 1;
    s->duration_ns = f->duration_ns;
  }
  if (f->has_drops) {
    s->has_drops_meta = 1;
    s->drops_meta = f->drops;
  }
  if (f->has_threadpool_size) {
    s->has_threadpool_size = 1;
    s->threadpool_size = f->threadpool_size;
  }
  if (f->libuv_version != NULL &&
      set_str(&s->libuv_version, f->libuv_version) != 0)
    return -ENOMEM;
  if (f->command != NULL && set_str(&s->command, f->command) != 0)
    return -ENOMEM;
  return 0;
}

/* A thread's name or sort index. */
static int on_thread_fact(struct stat_summary* s, const struct stat_event* ev) {
  struct thread* t;
  if (thread_get(s, ev, &t) != 0)
    return -ENOMEM;
  if (t == NULL)
    return 0;
  if (ev->type == STAT_EV_THREAD_NAME)
    return set_str(&t->name, ev->name);
  t->has_sort = 1;
  t->sort = ev->value;
  return 0;
}

int stat_summary_add(struct stat_summary* s, const struct stat_event* ev) {
  int rc = 0;
  if (s->failed)
    return s->failed;
  s->added++;
  switch (ev->type) {
  case STAT_EV_SPAN:
    rc = on_complete(s, ev);
    break;
  case STAT_EV_BEGIN:
    rc = on_begin(s, ev);
    break;
  case STAT_EV_END:
    rc = on_end(s, ev);
    break;
  case STAT_EV_PROCESS_NAME:
    if (s->process_name == NULL)
      rc = set_str(&s->process_name, ev->name);
    break;
  case STAT_EV_THREAD_NAME:
  case STAT_EV_THREAD_SORT:
    rc = on_thread_fact(s, ev);
    break;
  case STAT_EV_FACTS:
    rc = on_facts(s, &ev->facts);
    break;
  case STAT_EV_DROPPED:
    s->has_drop_instant = 1;
    s->drops_instants = sat_add(s->drops_instants, (uint64_t) ev->value);
    break;
  case STAT_EV_NONE:
  case STAT_EV_COUNTER:
  case STAT_EV_TRIGGER:
    break;
  }
  if (rc != 0)
    s->failed = rc;
  return rc;
}

void stat_summary_window(struct stat_summary* s, int64_t from_ns,
                         int64_t to_ns) {
  s->has_window = 1;
  s->win_from_ns = from_ns;
  s->win_to_ns = to_ns > from_ns ? to_ns : from_ns;
}

int stat_summary_add_time(struct stat_summary* s, const struct stat_event* ev) {
  struct thread* t = NULL;
  int rc;
  if (s->failed)
    return s->failed;
  if (ev->type != STAT_EV_SPAN || !ev->has_ts || !ev->has_dur)
    return 0;
  if (ev->kind == STAT_KIND_WORK && thread_get(s, ev, &t) != 0)
    return s->failed = -ENOMEM;
  rc = span_time_figures(s, ev, t);
  if (rc != 0)
    s->failed = rc;
  return rc;
}

void stat_summary_sort(struct stat_summary* s, enum stat_sort sort) {
  s->sort = sort;
}

int stat_summary_event(const struct trace_event* ev, void* arg) {
  struct stat_event se;
  stat_event_from_trace(ev, &se);
  return stat_summary_add(arg, &se);
}

/* ---------------------------------------------------------------------- */
/* The figures. */

int stat_summary_new(struct stat_summary** out) {
  struct stat_summary* s = calloc(1, sizeof(*s));
  if (s == NULL)
    return -ENOMEM;
  u64map_init(&s->thread_ids, sizeof(struct thread_id));
  strmap_init(&s->group_ids, sizeof(struct group_id));
  *out = s;
  return 0;
}

static int pcts(struct stat_values* v, struct stat_pcts* out) {
  memset(out, 0, sizeof(*out));
  if (v->n == 0)
    return 0;
  out->ok = 1;
  stat_values_pct(v, 50, &out->p50);
  stat_values_pct(v, 99, &out->p99);
  out->max = v->max;
  return 0;
}

static int cmp_i64(const void* a, const void* b) {
  int64_t x = *(const int64_t*) a;
  int64_t y = *(const int64_t*) b;
  return x < y ? -1 : x > y;
}

/* The most work spans open at one instant. Spans are [start, end): one
 * ending where another starts does not overlap it. */
static uint64_t peak_concurrency(struct stat_summary* s) {
  int64_t* start = s->task_start.v;
  int64_t* end = s->task_end.v;
  size_t n = s->task_start.n;
  size_t i = 0;
  size_t j = 0;
  uint64_t cur = 0;
  uint64_t peak = 0;
  if (n == 0)
    return 0;
  qsort(start, n, sizeof(*start), cmp_i64);
  qsort(end, n, sizeof(*end), cmp_i64);
  while (i < n) {
    if (start[i] < end[j]) {
      if (++cur > peak)
        peak = cur;
      i++;
    } else {
      cur--;
      j++;
    }
  }
  return peak;
}

/* Where a phase goes in libuv's order for its version (looprt_trace.h
 * holds the order); names we do not know come after ours. */
static size_t phase_rank(const char* name, uint32_t uv_version) {
  uint8_t order[LRT_PHASE_MAX];
  size_t n = (size_t) lrt_phase_order(uv_version, order);
  size_t i;
  for (i = 0; i < n; i++)
    if (strcmp(name, lrt_phase_name(order[i])) == 0)
      return i;
  return n;
}

static int phase_figures(struct stat_summary* s) {
  struct stat_figures* f = &s->fig;
  uint32_t uv_version = lrt_uv_version_parse(s->libuv_version);
  size_t i;
  size_t n = 0;
  size_t rank;

  if (s->nphases == 0)
    return 0;
  s->fig_phases = calloc(s->nphases, sizeof(*s->fig_phases));
  if (s->fig_phases == NULL)
    return -ENOMEM;
  /* A stable selection by rank: few names, so quadratic is fine. */
  for (rank = 0; rank <= LRT_PHASE_MAX; rank++)
    for (i = 0; i < s->nphases; i++) {
      struct phase_acc* p = &s->phases[i];
      struct stat_phase* out;
      if (phase_rank(p->name, uv_version) != rank)
        continue;
      out = &s->fig_phases[n++];
      out->name = p->name;
      out->count = p->count;
      out->total_ns = p->total_ns;
      if (s->tick_sum_ns > 0) {
        out->has_share = 1;
        out->share = (double) p->total_ns / (double) s->tick_sum_ns;
      }
      pcts(&p->dur, &out->dur);
      out->buckets = p->buckets;
    }
  f->phases = s->fig_phases;
  f->nphases = n;
  return 0;
}

/* A group's rank by the summary's sort: total time, self time or
 * calls. */
static uint64_t group_key(const struct group* g, enum stat_sort sort) {
  if (sort == STAT_SORT_SELF)
    return g->self_ns;
  if (sort == STAT_SORT_COUNT)
    return g->count;
  return g->total_ns;
}

/* Highest key first (arg: the enum stat_sort); ties by total time, name,
 * then kind, so output is stable. */
static int cmp_group(const void* a, const void* b, void* arg) {
  const struct group* x = a;
  const struct group* y = b;
  enum stat_sort sort = *(const enum stat_sort*) arg;
  uint64_t kx = group_key(x, sort);
  uint64_t ky = group_key(y, sort);
  int c;
  if (kx != ky)
    return kx > ky ? -1 : 1;
  if (x->total_ns != y->total_ns)
    return x->total_ns > y->total_ns ? -1 : 1;
  if ((c = strcmp(x->name, y->name)) != 0)
    return c;
  if (x->kind == NULL || y->kind == NULL)
    return (x->kind != NULL) - (y->kind != NULL);
  return strcmp(x->kind, y->kind);
}

static int callback_figures(struct stat_summary* s) {
  struct group* sorted;
  size_t n = s->ngroups < STAT_TOP_CALLBACKS ? s->ngroups : STAT_TOP_CALLBACKS;
  size_t i;

  if (s->ngroups == 0)
    return 0;
  /* Sort copies: the longest ticks refer to groups by index. */
  sorted = malloc(s->ngroups * sizeof(*sorted));
  s->fig_callbacks = calloc(n, sizeof(*s->fig_callbacks));
  if (sorted == NULL || s->fig_callbacks == NULL) {
    free(sorted);
    return -ENOMEM;
  }
  memcpy(sorted, s->groups, s->ngroups * sizeof(*sorted));
  qsort_r(sorted, s->ngroups, sizeof(*sorted), cmp_group, &s->sort);
  for (i = 0; i < n; i++) {
    s->fig_callbacks[i].name = sorted[i].name;
    s->fig_callbacks[i].kind = sorted[i].kind;
    s->fig_callbacks[i].count = sorted[i].count;
    s->fig_callbacks[i].total_ns = sorted[i].total_ns;
    s->fig_callbacks[i].self_ns = sorted[i].self_ns;
  }
  free(sorted);
  s->fig.callbacks = s->fig_callbacks;
  s->fig.ncallbacks = n;
  return 0;
}

/* Most tasks first, ties by name; the "other" labels last. */
static int cmp_kind(const void* a, const void* b) {
  const struct stat_task_kind* x = a;
  const struct stat_task_kind* y = b;
  if (x->tasks != y->tasks)
    return x->tasks > y->tasks ? -1 : 1;
  return strcmp(x->name, y->name);
}

static int kind_figures(struct stat_summary* s) {
  size_t n = s->nkinds + (s->other_kind.tasks > 0);
  size_t i;
  if (n == 0)
    return 0;
  s->fig_kinds = calloc(n, sizeof(*s->fig_kinds));
  if (s->fig_kinds == NULL)
    return -ENOMEM;
  for (i = 0; i < n; i++) {
    const struct kind_acc* k = i < s->nkinds ? &s->kinds[i] : &s->other_kind;
    s->fig_kinds[i].name = k->name;
    s->fig_kinds[i].tasks = k->tasks;
    s->fig_kinds[i].run = k->run;
    s->fig_kinds[i].queue_wait = k->queue_wait;
  }
  qsort(s->fig_kinds, s->nkinds, sizeof(*s->fig_kinds), cmp_kind);
  s->fig.kinds = s->fig_kinds;
  s->fig.nkinds = n;
  return 0;
}

/* Workers by thread_sort_index (those with one first), then by their
 * first task. */
static int cmp_worker(const void* a, const void* b) {
  const struct thread* x = *(struct thread* const*) a;
  const struct thread* y = *(struct thread* const*) b;
  if (x->has_sort != y->has_sort)
    return x->has_sort ? -1 : 1;
  if (x->has_sort && x->sort != y->sort)
    return x->sort < y->sort ? -1 : 1;
  return x->first_task < y->first_task ? -1 : x->first_task > y->first_task;
}

static int threadpool_figures(struct stat_summary* s) {
  struct stat_figures* f = &s->fig;
  struct thread** w;
  size_t nw = 0;
  size_t i;

  f->tasks = s->tasks;
  for (i = 0; i < s->nthreads && s->tasks == 0; i++)
    if (s->threads[i]->busy_ns > 0)
      break;
  /* No task, or (in a window) none ended but a worker spent time on
   * one. */
  if (s->tasks == 0 && i == s->nthreads)
    return 0;
  pcts(&s->queue_wait, &f->queue_wait);
  pcts(&s->run, &f->run);
  f->peak_concurrency = peak_concurrency(s);
  w = malloc((s->nthreads + 1) * sizeof(*w));
  s->fig_workers = calloc(s->nthreads + 1, sizeof(*s->fig_workers));
  if (w == NULL || s->fig_workers == NULL) {
    free(w);
    return -ENOMEM;
  }
  /* In a window, a worker may only have spent time on a task another
   * window counts. */
  for (i = 0; i < s->nthreads; i++)
    if (s->threads[i]->tasks > 0 || s->threads[i]->busy_ns > 0)
      w[nw++] = s->threads[i];
  qsort(w, nw, sizeof(*w), cmp_worker);
  for (i = 0; i < nw; i++) {
    struct stat_worker* out = &s->fig_workers[i];
    out->name = w[i]->name;
    out->tid = w[i]->tid;
    out->tasks = w[i]->tasks;
    out->busy_ns = w[i]->busy_ns;
    if (f->has_recording && f->recording_ns > 0) {
      out->has_share = 1;
      out->busy_share = (double) w[i]->busy_ns / (double) f->recording_ns;
    }
  }
  free(w);
  f->workers = s->fig_workers;
  f->nworkers = nw;
  return 0;
}

static void longest_figures(struct stat_summary* s) {
  struct stat_figures* f = &s->fig;
  int wall = s->sort == STAT_SORT_WALL;
  const struct tick_rec* v = wall ? s->longest_wall : s->longest;
  size_t n = wall ? s->nlongest_wall : s->nlongest;
  size_t i;
  size_t j;
  for (i = 0; i < n; i++) {
    const struct tick_rec* t = &v[i];
    struct stat_tick* out = &f->longest[i];
    out->has_number = t->has_number;
    out->number = t->number;
    out->ts_ns = t->ts_ns;
    out->dur_ns = t->dur_ns;
    out->busy_ns = t->busy_ns;
    out->ncallbacks = t->ncb;
    for (j = 0; j < t->ncb; j++) {
      out->callbacks[j].name = s->groups[t->cb[j].group].name;
      out->callbacks[j].kind = s->groups[t->cb[j].group].kind;
      out->callbacks[j].dur_ns = t->cb[j].dur_ns;
    }
  }
  f->nlongest = n;
}

/* Closes what is still open at the end of the file. */
static void close_all(struct stat_summary* s) {
  size_t i;
  for (i = 0; i < s->nthreads; i++) {
    struct thread* t = s->threads[i];
    while (t->x.n > 0)
      span_close(s, &t->x.v[--t->x.n]);
    while (t->b.n > 0) {
      s->unended_b++;
      open_span_free(&t->b.v[--t->b.n]);
    }
  }
}

/* How many events of one sort were skipped, and what they were. */
struct skipped {
  uint64_t n;
  const char* what;
};

/* Adds a warning "skipped N what" to `w` for each of the `len` sorts in
 * `v` with N > 0, in order. Returns 0 or -ENOMEM. */
static int skipped_warnings(struct lines* w, const struct skipped* v,
                            size_t len) {
  size_t i;
  int rc = 0;
  for (i = 0; i < len; i++)
    if (v[i].n > 0)
      rc |= lines_add(w, "skipped %" PRIu64 " %s", v[i].n, v[i].what);
  return rc;
}

static int read_warnings(struct stat_summary* s, const struct trace_reader* r) {
  struct lines* w = &s->warnings;
  int rc = 0;
  if (r == NULL)
    return 0;
  if (r->truncated && r->form == TRACE_FORM_ARRAY)
    rc |= lines_add(
        w,
        "file ends without ']' (recording cut short?); read %" PRIu64 " events",
        r->events);
  else if (r->truncated)
    rc |= lines_add(w,
                    "file ends inside the trace (recording cut short?); "
                    "read %" PRIu64 " events",
                    r->events);
  if (r->gzip_cut && !r->truncated)
    rc |= lines_add(w,
                    "gzip stream ends early (recording cut short?); read "
                    "%" PRIu64 " events",
                    r->events);
  if (r->error[0] != '\0')
    rc |= lines_add(w, "stopped reading: %s; read %" PRIu64 " events", r->error,
                    r->events);
  if (r->trailing_at != 0)
    rc |= lines_add(
        w, "ignored data after the end of the trace (byte %" PRIu64 ")",
        r->trailing_at);
  {
    const struct skipped skipped[] = {
        {r->not_objects, "elements of the events array that are not objects"},
        {r->bad_json, "events that are not valid JSON"},
        {r->bad_fields, "events with fields of the wrong type or out of range"},
    };
    rc |= skipped_warnings(w, skipped, sizeof(skipped) / sizeof(skipped[0]));
  }
  if (r->oversized > 0)
    rc |= lines_add(w, "skipped %" PRIu64 " events larger than %u MiB",
                    r->oversized, TRACE_READER_MAX_EVENT >> 20);
  return rc;
}

static int span_warnings(struct stat_summary* s) {
  const struct skipped skipped[] = {
      {s->no_time, "span events without ts or dur"},
      {s->unmatched_e, "'E' events that match no 'B'"},
      {s->unended_b, "'B' events that never end"},
  };
  struct lines* w = &s->warnings;
  int rc = skipped_warnings(w, skipped, sizeof(skipped) / sizeof(skipped[0]));
  if (s->too_deep > 0)
    rc |= lines_add(w,
                    "%" PRIu64
                    " spans nest deeper than %d: left out of "
                    "nesting",
                    s->too_deep, TRACE_MAX_DEPTH);
  if (s->no_thread > 0)
    rc |= lines_add(
        w, "more than %d threads: %" PRIu64 " events of the others left out",
        STAT_MAX_THREADS, s->no_thread);
  if (s->wide_thread > 0)
    rc |= lines_add(w,
                    "%" PRIu64
                    " events of threads whose pid or tid is not in "
                    "(-2^31, 2^31): left out",
                    s->wide_thread);
  if (s->no_phase > 0)
    rc |= lines_add(
        w, "more than %d phase names: %" PRIu64 " phase spans left out",
        STAT_MAX_PHASES, s->no_phase);
  if (s->disorder)
    rc |= lines_add(w,
                    "spans of thread %" PRId64
                    " are not in time order: callback self times and the "
                    "callbacks of the longest ticks may be off",
                    s->disorder_tid);
  return rc;
}

static int missing_figures(struct stat_summary* s) {
  struct stat_figures* f = &s->fig;
  struct lines* m = &s->missing;
  size_t i;
  int rc = 0;
  if (!f->has_recording)
    rc |= lines_add(m, "recording_us: no spans and no duration_us");
  if (f->ticks == 0) {
    rc |= lines_add(
        m, "loop_utilization: no spans with cat \"" TRACE_CAT_TICK "\"");
    rc |= lines_add(m, "ticks: no spans with cat \"" TRACE_CAT_TICK "\"");
  } else {
    if (!f->has_utilization)
      rc |= lines_add(m, "loop_utilization: the ticks last no time");
    if (!f->has_ticks_per_s)
      rc |= lines_add(m, "ticks.per_s: the recording length is unknown or 0");
    if (!f->tick_dur.ok)
      rc |= lines_add(m, "ticks.p50_us, p99_us, max_us: every tick is cut");
  }
  for (i = 0; i < f->nphases; i++)
    if (!f->phases[i].dur.ok)
      rc |= lines_add(m,
                      "phases.p50_us, p99_us, max_us of %s: every span is "
                      "cut",
                      f->phases[i].name);
  if (f->nphases == 0)
    rc |= lines_add(m, "phases: no spans with cat \"" TRACE_CAT_PHASE "\"");
  else if (s->tick_sum_ns == 0)
    rc |= lines_add(m, "phases.share: no tick time to share");
  if (f->ncallbacks == 0)
    rc |=
        lines_add(m, "callbacks: no spans with cat \"" TRACE_CAT_CALLBACK "\"");
  if (f->tasks == 0) {
    rc |= lines_add(m, "threadpool: no spans with cat \"" TRACE_CAT_WORK "\"");
  } else {
    if (!f->queue_wait.ok)
      rc |= lines_add(m,
                      "threadpool.queue_wait_us: no work span has "
                      "queue_wait_us");
    if (!f->run.ok)
      rc |= lines_add(m, "threadpool.run_us: every work span is cut");
    if (f->nworkers > 0 && !f->workers[0].has_share)
      rc |= lines_add(m,
                      "threadpool.workers.busy_share: the recording length "
                      "is unknown or 0");
  }
  if (f->ticks == 0)
    rc |=
        lines_add(m, "longest_ticks: no spans with cat \"" TRACE_CAT_TICK "\"");
  if (!f->has_drops)
    rc |=
        lines_add(m, "drops: not a looptrace recording (no \"" TRACE_META_EVENT
                     "\" metadata)");
  return rc;
}

int stat_summary_finish(struct stat_summary* s, const struct trace_reader* r,
                        const struct stat_figures** out) {
  struct stat_figures* f = &s->fig;

  if (s->failed)
    return s->failed;
  if (s->finished) {
    *out = f;
    return 0;
  }
  close_all(s);

  f->process_name = s->process_name;
  f->command = s->command;
  f->libuv_version = s->libuv_version;
  f->has_threadpool_size = s->has_threadpool_size;
  f->threadpool_size = s->threadpool_size;
  f->events = r != NULL ? r->events : s->added;

  if (s->has_window) {
    f->has_recording = 1;
    f->recording_ns = (uint64_t) (s->win_to_ns - s->win_from_ns);
  } else if (s->has_duration) {
    f->has_recording = 1;
    f->recording_ns = (uint64_t) s->duration_ns;
  } else if (s->have_span) {
    f->has_recording = 1;
    f->recording_ns = (uint64_t) (s->max_end_ns - s->min_ts_ns);
  }

  f->ticks = s->ticks;
  f->cut = s->cut;
  if (s->tick_sum_ns > 0) {
    double u = 1.0 - (double) s->wait_sum_ns / (double) s->tick_sum_ns;
    f->has_utilization = 1;
    f->utilization = u < 0 ? 0 : u;
  }
  if (f->ticks > 0 && f->has_recording && f->recording_ns > 0) {
    f->has_ticks_per_s = 1;
    f->ticks_per_s = (double) f->ticks / ((double) f->recording_ns / 1e9);
  }
  pcts(&s->tick_dur, &f->tick_dur);
  f->tick_buckets = s->tick_buckets;
  f->callback_count = s->callback_count;
  f->sort = s->sort;

  if (phase_figures(s) != 0 || callback_figures(s) != 0 ||
      threadpool_figures(s) != 0 || kind_figures(s) != 0)
    return s->failed = -ENOMEM;
  longest_figures(s);

  if (s->has_drops_meta) {
    f->has_drops = 1;
    f->drops = (uint64_t) s->drops_meta;
  } else if (s->looptrace_meta || s->has_drop_instant) {
    /* Cut short before the last metadata: the losses noted so far. */
    f->has_drops = 1;
    f->drops = s->drops_instants;
  }

  if (read_warnings(s, r) != 0 || span_warnings(s) != 0 ||
      missing_figures(s) != 0)
    return s->failed = -ENOMEM;
  f->warnings = s->warnings.v;
  f->nwarnings = s->warnings.n;
  f->missing = s->missing.v;
  f->nmissing = s->missing.n;
  s->finished = 1;
  *out = f;
  return 0;
}

void stat_summary_free(struct stat_summary* s) {
  size_t i;
  if (s == NULL)
    return;
  for (i = 0; i < s->nthreads; i++) {
    struct thread* t = s->threads[i];
    while (t->x.n > 0)
      open_span_free(&t->x.v[--t->x.n]);
    while (t->b.n > 0)
      open_span_free(&t->b.v[--t->b.n]);
    free(t->x.v);
    free(t->b.v);
    free(t->name);
    free(t);
  }
  free(s->threads);
  u64map_free(&s->thread_ids);
  free(s->groups);
  strmap_free(&s->group_ids);
  for (i = 0; i < s->nphases; i++) {
    free(s->phases[i].name);
    stat_values_free(&s->phases[i].dur);
  }
  stat_values_free(&s->tick_dur);
  stat_values_free(&s->run);
  stat_values_free(&s->queue_wait);
  free(s->task_start.v);
  free(s->task_end.v);
  for (i = 0; i < s->nkinds; i++)
    free(s->kinds[i].name);
  free(s->fig_kinds);
  free(s->process_name);
  free(s->command);
  free(s->libuv_version);
  free(s->fig_phases);
  free(s->fig_callbacks);
  free(s->fig_workers);
  lines_free(&s->warnings);
  lines_free(&s->missing);
  free(s);
}
