/* flight.c — the flight recorder (flight.h): a ring of the latest
 * records, a watcher that fires triggers on them, and dumps of the window
 * around a trigger through a fresh exporter.
 *
 * The ring holds records in the order they arrived (each thread's in its
 * own order; threads interleaved by batch). Records leave it from the
 * oldest end: once they are older than SECONDS (plus a margin, as batches
 * arrive up to ~100 ms late), or early when the ring is full. Labels,
 * thread intros and loop facts are kept outside it, per label and per
 * thread, and so are the threadpool's counts, carried forward from the
 * runtime's last snapshot over the records that left the ring.
 */
#include "flight.h"

#include "containers.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Batches reach us up to ~100 ms after their first record (the runtime
 * holds records at most that long): records are kept this much longer
 * than SECONDS, so that a trigger seen late still has its whole window. */
#define EVICT_MARGIN_NS (250 * 1000 * 1000ull)
/* A dump is written this long after its window ends: the runtime's
 * records of the window have arrived by then. */
#define SETTLE_NS (200 * 1000 * 1000ull)
/* Callbacks nest at most this deep for the watcher (deeper ones are not
 * measured). */
#define WATCH_DEPTH 64
/* Callbacks open at a window's start that a dump replays, per thread
 * (deeper nesting: none of the thread's is replayed). */
#define START_DEPTH 8
/* Tasks in flight the queue trigger follows, direct-mapped by task id. */
#define TASK_SLOTS 16384
/* Records handed to the dump's exporter at a time, and in one step of
 * writing a dump (the polling loop takes a step every turn, so that it
 * keeps consuming the BPF ring buffer while a big dump is written). */
#define REPLAY_CHUNK 4096
#define REPLAY_STEP 65536
#define LABEL_CHUNKS ((LRT_LABEL_MAX_LEN + LRT_LABEL_CHUNK) / LRT_LABEL_CHUNK)
#define LABEL_IDS 65536
#define MAX_THREADS 4096

enum { NS_PER_S = 1000000000 };

/* The kind of an LRT_REC_LOST record the recorder makes for records the
 * BPF ring buffer dropped: replayed as export_dropped(). */
#define RING_LOST 0xff
/* Ring buffer drops are noticed up to this long after the loss
 * (record.c checks every 100 ms): a dump says those noticed this long
 * after its window too, as they may be of records in it. */
#define DROP_NOTICE_NS (100 * 1000 * 1000ull)

/* A label's latest announcement, chunk by chunk. */
struct flabel {
  uint8_t n;
  struct lrt_record chunk[LABEL_CHUNKS];
};

/* A callback or task in progress at some moment. */
struct fopen {
  uint64_t id;
  uint16_t label;
  uint8_t kind;
};

/* What a thread has in progress at some moment (start_apply()): the tick
 * and phase, the callbacks open in it, the task it runs. */
struct fstart {
  uint8_t tick_open;
  uint8_t phase;    /* 0 if none */
  uint8_t depth;    /* callbacks open */
  uint8_t overflow; /* deeper than START_DEPTH: none is replayed */
  uint8_t work_open;
  uint64_t tick;
  struct fopen cb[START_DEPTH];
  struct fopen work;
};

/* What is known of one thread: its intro and loop facts for dumps, and
 * the watcher's state of its tick and callbacks. */
struct fthread {
  uint32_t tid;
  uint8_t has_intro;
  uint8_t has_loop;
  uint8_t seen;           /* it has records in the window being dumped */
  struct fstart at_head;  /* in progress where the ring starts */
  struct fstart at_start; /* and at the start of the window being dumped */
  uint8_t tick_open;
  struct lrt_record intro; /* LRT_REC_THREAD */
  struct lrt_record loop;  /* LRT_REC_LOOP_START */
  uint64_t tick_id;
  uint64_t tick_ts;
  uint64_t tick_wait; /* ns the open tick spent blocked for I/O */
  uint32_t depth;     /* open callbacks */
  uint32_t overflow;  /* open beyond WATCH_DEPTH */
  uint64_t cb_ts[WATCH_DEPTH];
};

struct ftask {
  uint64_t id; /* 0: free */
  uint64_t submit_ts;
  uint64_t start_ts;
};

/* A dump being written, in steps. */
struct writing {
  int on;
  struct exporter* ex;
  int fd;
  char path[4096];
  char tmp[4096 + 32];
  uint64_t ws; /* its window */
  uint64_t we;
  uint64_t fed_ts; /* the latest record handed over */
  size_t pos;      /* the ring's next record to hand over (from head) */
  size_t end;      /* where the ring ended when writing began */
  const char* end_reason;
  int at_stop; /* written as the recording stops (flight_finish) */
};

/* Triggers marked in a dump beyond the one that made it. */
#define MAX_MORE 32

/* A trigger that fired. */
struct fired {
  const char* trigger; /* a spec of opts, or a static string */
  uint64_t ts;
  uint64_t value_ns;
  int has_value;
};

/* The dump to write: the trigger that made it, and the ones that fired
 * in its window after it. */
struct pending {
  int on;
  struct fired first;
  struct fired more[MAX_MORE];
  int nmore;
};

struct flight {
  struct flight_opts opts;
  struct export_opts dump; /* process_name and command point below */
  char* process_name;
  char* command;
  char* output;
  uint64_t seconds_ns;
  uint64_t after_ns;
  /* The ring. */
  struct lrt_record* ring;
  size_t cap;
  size_t head;
  size_t len;
  uint64_t newest_ts;      /* the latest (plausible) record time */
  uint64_t evicted_ts;     /* the latest time of a record that left */
  uint64_t cap_evicted_ts; /* the same, for records that left early */
  uint64_t skipped_ts;     /* of a record past the pending dump's window
                              let go for want of room */
  uint64_t evicted_for_size;
  uint64_t records;
  /* Kept apart from the ring. */
  struct flabel** labels;
  struct fthread* threads; /* in order of first sight */
  size_t nthreads;
  size_t threads_cap;
  struct u64map places; /* struct place by tid + 1 */
  struct fthread* last;
  struct lrt_record pool; /* the counts where the ring starts */
  int has_pool;
  struct ftask* tasks; /* with a queue trigger only */
  /* Triggers and dumps. */
  struct pending pending;
  struct writing w;
  struct fired next; /* fired after the pending dump's window */
  int has_next;
  uint64_t last_end; /* of the last dump's window */
  unsigned dumps;
  unsigned trace_version;
  char last_path[4096];
  char last_trigger[48];
  char target_exit[96]; /* for a dump at the end, or "" */
  uint64_t left_count;  /* flight_dropped_left() */
  uint64_t left_ts;
};

/* ------------------------------------------------------------------------
 * Options
 */

enum {
  OPT_FLIGHT = 0x200,
  OPT_FLIGHT_SIZE,
  OPT_AFTER,
  OPT_TRIGGER,
  OPT_MAX_DUMPS,
};

static const struct argp_option options[] = {
    {"flight", OPT_FLIGHT, "SECONDS", 0,
     "Flight recorder: keep the last SECONDS of records in memory and write "
     "nothing until a trigger fires; then write the window around it to "
     "its own file (FILE-1.json, FILE-2.json, ...) and watch on",
     0},
    {"trigger", OPT_TRIGGER, "WHAT>DURATION", 0,
     "With --flight: dump when a tick, a callback or a task's queue wait "
     "lasts longer than DURATION (us, ms or s): tick>50ms, callback>10ms, "
     "queue>200ms. Repeatable; SIGUSR1 sent to looptrace always dumps",
     0},
    {"after", OPT_AFTER, "SECONDS", 0,
     "With --flight: keep recording this long after a trigger before "
     "writing (default 1)",
     0},
    {"flight-size", OPT_FLIGHT_SIZE, "BYTES", 0,
     "With --flight: the most memory the window takes, K, M and G suffixes "
     "(default 64M, 32 bytes a record); when it is full the oldest records "
     "go first and the window is shorter",
     0},
    {"max-dumps", OPT_MAX_DUMPS, "N", 0,
     "With --flight: stop after N dumps (default 10)", 0},
    {0},
};

void flight_opts_init(struct flight_opts* opts) {
  memset(opts, 0, sizeof(*opts));
  opts->size = FLIGHT_DEFAULT_SIZE;
  opts->after = FLIGHT_DEFAULT_AFTER;
  opts->max_dumps = FLIGHT_DEFAULT_MAX_DUMPS;
}

static int parse_seconds(const char* s, double max, double* out) {
  char* end;
  double v;
  errno = 0;
  v = strtod(s, &end);
  if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || v > max)
    return -EINVAL;
  *out = v;
  return 0;
}

static int parse_bytes(const char* s, uint64_t* out) {
  char* end;
  unsigned long long v;
  unsigned shift = 0;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno != 0 || end == s || s[0] == '-')
    return -EINVAL;
  if (*end == 'K' || *end == 'k')
    shift = 10;
  else if (*end == 'M' || *end == 'm')
    shift = 20;
  else if (*end == 'G' || *end == 'g')
    shift = 30;
  if (shift != 0)
    end++;
  if (*end != '\0' || v > (UINT64_MAX >> shift))
    return -EINVAL;
  *out = (uint64_t) v << shift;
  return 0;
}

int flight_parse_trigger(const char* text, struct flight_trigger* t) {
  static const struct {
    const char* name;
    int what;
  } kinds[] = {{"tick", FLIGHT_TICK},
               {"callback", FLIGHT_CALLBACK},
               {"queue", FLIGHT_QUEUE}};
  const char* gt = strchr(text, '>');
  char* end;
  double v;
  double unit;
  size_t i;
  if (gt == NULL || strlen(text) >= sizeof(t->spec))
    return -EINVAL;
  for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
    if ((size_t) (gt - text) == strlen(kinds[i].name) &&
        strncmp(text, kinds[i].name, (size_t) (gt - text)) == 0)
      break;
  if (i == sizeof(kinds) / sizeof(kinds[0]))
    return -EINVAL;
  errno = 0;
  v = strtod(gt + 1, &end);
  if (errno != 0 || end == gt + 1 || !(v >= 0))
    return -EINVAL;
  if (strcmp(end, "us") == 0)
    unit = 1e3;
  else if (strcmp(end, "ms") == 0)
    unit = 1e6;
  else if (strcmp(end, "s") == 0)
    unit = 1e9;
  else
    return -EINVAL;
  if (v * unit > 1e15) /* about 11 days */
    return -EINVAL;
  t->what = kinds[i].what;
  t->threshold_ns = (uint64_t) (v * unit + 0.5);
  snprintf(t->spec, sizeof(t->spec), "%s", text);
  return 0;
}

static error_t parse_opt(int key, char* arg, struct argp_state* state) {
  struct flight_opts* o = state->input;
  double v;
  switch (key) {
  case OPT_FLIGHT:
    if (parse_seconds(arg, 86400, &o->seconds) != 0 || o->seconds <= 0)
      argp_error(state,
                 "--flight wants a number of seconds above 0 (at most "
                 "86400), not '%s'",
                 arg);
    break;
  case OPT_FLIGHT_SIZE:
    if (parse_bytes(arg, &o->size) != 0 || o->size < (1u << 20) ||
        o->size > (1ull << 40))
      argp_error(state, "--flight-size wants a size from 1M to 1024G, not '%s'",
                 arg);
    o->extras++;
    break;
  case OPT_AFTER:
    if (parse_seconds(arg, 3600, &v) != 0)
      argp_error(state,
                 "--after wants a number of seconds from 0 to 3600, not "
                 "'%s'",
                 arg);
    o->after = v;
    o->extras++;
    break;
  case OPT_TRIGGER:
    if (o->ntriggers == FLIGHT_MAX_TRIGGERS)
      argp_error(state, "at most %d --trigger options", FLIGHT_MAX_TRIGGERS);
    if (flight_parse_trigger(arg, &o->triggers[o->ntriggers]) != 0)
      argp_error(state,
                 "--trigger wants tick, callback or queue, '>' and a "
                 "duration with its unit (us, ms, s), e.g. tick>50ms; not "
                 "'%s'",
                 arg);
    o->ntriggers++;
    o->extras++;
    break;
  case OPT_MAX_DUMPS: {
    char* end;
    unsigned long n;
    errno = 0;
    n = strtoul(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' || n == 0 ||
        n > 1000000)
      argp_error(state, "--max-dumps wants a number from 1, not '%s'", arg);
    o->max_dumps = (unsigned) n;
    o->extras++;
    break;
  }
  case ARGP_KEY_END:
    if (o->seconds == 0 && o->extras > 0)
      argp_error(state,
                 "--trigger, --after, --flight-size and --max-dumps go with "
                 "--flight SECONDS");
    break;
  default:
    return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

const struct argp flight_argp = {options, parse_opt, NULL, NULL,
                                 NULL,    NULL,      NULL};

int flight_dump_path(const char* pattern, unsigned n, char* buf, size_t size) {
  static const char* const endings[] = {".json.gz", ".json"};
  const char* pct = strstr(pattern, "%d");
  size_t len = strlen(pattern);
  size_t i;
  int r;
  if (pct != NULL) {
    r = snprintf(buf, size, "%.*s%u%s", (int) (pct - pattern), pattern, n,
                 pct + 2);
    return r < 0 || (size_t) r >= size ? -ENAMETOOLONG : 0;
  }
  for (i = 0; i < sizeof(endings) / sizeof(endings[0]); i++) {
    size_t e = strlen(endings[i]);
    if (len > e && strcmp(pattern + len - e, endings[i]) == 0) {
      r = snprintf(buf, size, "%.*s-%u%s", (int) (len - e), pattern, n,
                   endings[i]);
      return r < 0 || (size_t) r >= size ? -ENAMETOOLONG : 0;
    }
  }
  r = snprintf(buf, size, "%s-%u", pattern, n);
  return r < 0 || (size_t) r >= size ? -ENAMETOOLONG : 0;
}

int flight_check_output(const char* pattern) {
  char path[4096];
  struct stat st;
  char* slash;
  int err = flight_dump_path(pattern, 1, path, sizeof(path));
  if (err != 0)
    return err;
  /* Dumps are files: not a device, a pipe or a directory. */
  if (stat(pattern, &st) == 0 && !S_ISREG(st.st_mode))
    return S_ISDIR(st.st_mode) ? -EISDIR : -ENOTSUP;
  slash = strrchr(path, '/');
  if (slash == path)
    slash[1] = '\0';
  else if (slash != NULL)
    *slash = '\0';
  else
    snprintf(path, sizeof(path), ".");
  return access(path, W_OK) == 0 ? 0 : -errno;
}

/* ------------------------------------------------------------------------
 * Threads, labels and the threadpool's counts
 */

static uint64_t max_u64(uint64_t a, uint64_t b) {
  return a > b ? a : b;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * NS_PER_S + (uint64_t) ts.tv_nsec;
}

/* Where thread `key - 1` sits in flight.threads. */
struct place {
  uint64_t key; /* tid + 1: tid 0 is a thread too */
  size_t at;
};

/* The thread `tid`, made on first sight; NULL beyond MAX_THREADS or when
 * out of memory (it is then not watched, and a dump does not name it). */
static struct fthread* thread_get(struct flight* fl, uint32_t tid) {
  struct place* p;
  if (fl->last != NULL && fl->last->tid == tid)
    return fl->last;
  p = u64map_find(&fl->places, (uint64_t) tid + 1);
  if (p != NULL)
    return fl->last = &fl->threads[p->at];
  if (fl->nthreads == MAX_THREADS ||
      array_reserve(&fl->threads, &fl->threads_cap, fl->nthreads + 1,
                    sizeof(*fl->threads)) != 0)
    return NULL;
  fl->last = NULL; /* the array may have moved */
  p = u64map_insert(&fl->places, (uint64_t) tid + 1, NULL);
  if (p == NULL)
    return NULL;
  p->at = fl->nthreads++;
  fl->last = &fl->threads[p->at];
  memset(fl->last, 0, sizeof(*fl->last));
  fl->last->tid = tid;
  return fl->last;
}

static void keep_label(struct flight* fl, const struct lrt_record* r) {
  unsigned chunk = r->kind & ~LRT_LABEL_LAST;
  struct flabel* l;
  if (chunk >= LABEL_CHUNKS)
    return;
  l = fl->labels[r->label];
  if (l == NULL) {
    l = calloc(1, sizeof(*l));
    if (l == NULL)
      return; /* the dump writes "label N" */
    fl->labels[r->label] = l;
  }
  if (chunk == 0)
    l->n = 0;
  if (l->n < LABEL_CHUNKS)
    l->chunk[l->n++] = *r;
}

/* Moves the threadpool counts in `pool` (a snapshot) by record `r`, as
 * the exporter would, when `r` is not older than the snapshot. */
static void pool_apply(struct lrt_record* pool, const struct lrt_record* r) {
  if (r->type == LRT_REC_POOL) {
    *pool = *r;
    return;
  }
  if (r->ts < pool->ts)
    return;
  if (r->type == LRT_REC_WORK_SUBMIT) {
    pool->id++;
  } else if (r->type == LRT_REC_WORK_START) {
    if (pool->id > 0)
      pool->id--;
    pool->arg++;
  } else if (r->type == LRT_REC_WORK_END && pool->arg > 0) {
    pool->arg--;
  }
}

/* ------------------------------------------------------------------------
 * What is in progress where the ring starts, and where a window starts
 */

static void start_push(struct fstart* st, const struct lrt_record* r) {
  if (st->depth == START_DEPTH) {
    st->overflow++;
    return;
  }
  st->cb[st->depth].id = r->id;
  st->cb[st->depth].label = r->label;
  st->cb[st->depth].kind = r->kind;
  st->depth++;
}

/* Moves `st`, a thread's state, over its record `r`, as the exporter
 * would see it. */
static void start_apply(struct fstart* st, const struct lrt_record* r) {
  switch (r->type) {
  case LRT_REC_TICK_BEGIN:
  case LRT_REC_PHASE:
    /* A phase says the tick is open: its begin may have been lost. */
    if (!st->tick_open || st->tick != r->id) {
      st->depth = 0;
      st->overflow = 0;
    }
    st->tick_open = 1;
    st->tick = r->id;
    st->phase =
        r->type == LRT_REC_PHASE && r->kind < LRT_PHASE_MAX ? r->kind : 0;
    break;
  case LRT_REC_TICK_END:
  case LRT_REC_LOOP_STOP:
    if (r->type == LRT_REC_LOOP_STOP || st->tick == r->id) {
      st->tick_open = 0;
      st->depth = 0;
      st->overflow = 0;
    }
    break;
  case LRT_REC_CALLBACK_BEGIN:
    start_push(st, r);
    break;
  case LRT_REC_CALLBACK_END:
    if (st->overflow > 0)
      st->overflow--;
    else if (st->depth > 0)
      st->depth--;
    break;
  case LRT_REC_WORK_START:
    st->work_open = r->id != 0;
    st->work.id = r->id;
    st->work.label = r->label;
    break;
  case LRT_REC_WORK_END:
    st->work_open = 0;
    break;
  case LRT_REC_LOST:
  case LRT_REC_EXIT:
    /* Begins or ends may be gone: nothing is known in progress. */
    memset(st, 0, sizeof(*st));
    break;
  }
}

/* Moves the state at `offset` in the fthread of record `r` (every
 * thread's for records the BPF ring buffer lost) over `r`. */
static void note_start(struct flight* fl, const struct lrt_record* r,
                       size_t offset) {
  struct fthread* t;
  size_t i;
  if (r->type == LRT_REC_THREAD || r->type == LRT_REC_LABEL ||
      r->type == LRT_REC_LOOP_START || r->type == LRT_REC_WAIT ||
      r->type == LRT_REC_WORK_SUBMIT || r->type == LRT_REC_POOL)
    return;
  if (r->type == LRT_REC_LOST && r->kind == RING_LOST) {
    for (i = 0; i < fl->nthreads; i++)
      start_apply((struct fstart*) ((char*) &fl->threads[i] + offset), r);
    return;
  }
  t = thread_get(fl, r->tid);
  if (t != NULL)
    start_apply((struct fstart*) ((char*) t + offset), r);
}

/* ------------------------------------------------------------------------
 * The ring
 */

static void evict(struct flight* fl, int early) {
  const struct lrt_record* r = &fl->ring[fl->head];
  /* A time from the future moves no window. */
  uint64_t ts = r->ts < fl->newest_ts ? r->ts : fl->newest_ts;
  if (r->type == LRT_REC_POOL || fl->has_pool) {
    pool_apply(&fl->pool, r);
    fl->has_pool = 1;
  }
  note_start(fl, r, offsetof(struct fthread, at_head));
  fl->evicted_ts = max_u64(fl->evicted_ts, ts);
  if (early) {
    fl->cap_evicted_ts = max_u64(fl->cap_evicted_ts, ts);
    fl->evicted_for_size++;
  }
  fl->head = fl->head + 1 == fl->cap ? 0 : fl->head + 1;
  fl->len--;
}

static void keep(struct flight* fl, const struct lrt_record* r) {
  if (fl->len == fl->cap) {
    /* While a dump waits to be written, a record past its window makes
     * no room: the window keeps what it holds, and the next one starts
     * after the records let go. */
    if (fl->w.on ||
        (fl->pending.on && r->ts > fl->pending.first.ts + fl->after_ns)) {
      if (fl->has_pool && r->type != LRT_REC_POOL)
        pool_apply(&fl->pool, r);
      fl->skipped_ts = max_u64(fl->skipped_ts,
                               r->ts < fl->newest_ts ? r->ts : fl->newest_ts);
      fl->evicted_for_size++;
      return;
    }
    evict(fl, 1);
  }
  fl->ring[(fl->head + fl->len) % fl->cap] = *r;
  fl->len++;
}

/* Lets go of the records older than the window (the pending dump's, or
 * the latest one). */
static void evict_old(struct flight* fl) {
  uint64_t from = fl->pending.on ? fl->pending.first.ts : fl->newest_ts;
  uint64_t keep_ns = fl->seconds_ns + EVICT_MARGIN_NS;
  if (from <= keep_ns || fl->w.on)
    return;
  while (fl->len > 0 && fl->ring[fl->head].ts < from - keep_ns)
    evict(fl, 0);
}

/* ------------------------------------------------------------------------
 * The watcher
 */

/* A trigger fired: it makes a dump, or is marked in the pending one if
 * it falls in its window. */
static void fire(struct flight* fl, const char* trigger, uint64_t ts,
                 uint64_t value_ns, int has_value) {
  struct pending* p = &fl->pending;
  struct fired f = {trigger, ts, value_ns, has_value};
  if (p->on) {
    if (ts <= p->first.ts + fl->after_ns) {
      if (!fl->w.on && ts + fl->seconds_ns >= p->first.ts &&
          p->nmore < MAX_MORE)
        p->more[p->nmore++] = f;
    } else if (!fl->has_next) {
      fl->next = f;
      fl->has_next = 1;
    }
    return;
  }
  if (fl->dumps >= fl->opts.max_dumps || (fl->dumps > 0 && ts <= fl->last_end))
    return;
  p->on = 1;
  p->first = f;
  p->nmore = 0;
}

/* Fires the first trigger of kind `what` that `ns` exceeds. */
static void measure(struct flight* fl, int what, uint64_t ns, uint64_t ts) {
  int i;
  for (i = 0; i < fl->opts.ntriggers; i++) {
    const struct flight_trigger* t = &fl->opts.triggers[i];
    if (t->what == what && ns > t->threshold_ns) {
      fire(fl, t->spec, ts, ns, 1);
      return;
    }
  }
}

static struct ftask* task_slot(struct flight* fl, uint64_t id) {
  uint64_t h = id ^ (id >> 32);
  h *= 0x9e3779b97f4a7c15ull;
  return &fl->tasks[(h >> 40) & (TASK_SLOTS - 1)];
}

/* A task's submit or start: its queue wait once both are known. A slot
 * taken by another task in flight is given to the newer one. */
static void watch_task(struct flight* fl, const struct lrt_record* r) {
  struct ftask* s;
  if (fl->tasks == NULL || r->id == 0)
    return;
  s = task_slot(fl, r->id);
  if (s->id != r->id) {
    s->id = r->id;
    s->submit_ts = 0;
    s->start_ts = 0;
  }
  if (r->type == LRT_REC_WORK_SUBMIT)
    s->submit_ts = r->ts;
  else
    s->start_ts = r->ts;
  if (s->submit_ts != 0 && s->start_ts != 0) {
    if (s->start_ts > s->submit_ts)
      measure(fl, FLIGHT_QUEUE, s->start_ts - s->submit_ts, s->start_ts);
    s->id = 0;
  }
}

static void watch(struct flight* fl, struct fthread* t,
                  const struct lrt_record* r) {
  size_t i;
  switch (r->type) {
  case LRT_REC_TICK_BEGIN:
    t->tick_open = 1;
    t->tick_id = r->id;
    t->tick_ts = r->ts;
    t->tick_wait = 0;
    t->depth = 0;
    t->overflow = 0;
    break;
  case LRT_REC_WAIT:
    if (t->tick_open && t->tick_id == r->id)
      t->tick_wait += r->arg < UINT32_MAX ? r->arg : UINT32_MAX;
    break;
  case LRT_REC_TICK_END:
    /* What blocked the loop: the tick less its waits for I/O. */
    if (t->tick_open && t->tick_id == r->id && r->ts > t->tick_ts &&
        r->ts - t->tick_ts > t->tick_wait)
      measure(fl, FLIGHT_TICK, r->ts - t->tick_ts - t->tick_wait, r->ts);
    t->tick_open = 0;
    t->depth = 0;
    t->overflow = 0;
    break;
  case LRT_REC_CALLBACK_BEGIN:
    if (t->depth < WATCH_DEPTH)
      t->cb_ts[t->depth++] = r->ts;
    else
      t->overflow++;
    break;
  case LRT_REC_CALLBACK_END:
    if (t->overflow > 0) {
      t->overflow--;
    } else if (t->depth > 0) {
      uint64_t begin = t->cb_ts[--t->depth];
      if (r->ts > begin)
        measure(fl, FLIGHT_CALLBACK, r->ts - begin, r->ts);
    }
    break;
  case LRT_REC_WORK_SUBMIT:
  case LRT_REC_WORK_START:
    watch_task(fl, r);
    break;
  case LRT_REC_LOST:
    /* Begins or ends may be gone: measure nothing across the gap. */
    for (i = 0; i < fl->nthreads; i++) {
      fl->threads[i].tick_open = 0;
      fl->threads[i].depth = 0;
      fl->threads[i].overflow = 0;
    }
    break;
  }
}

/* ------------------------------------------------------------------------
 * The API
 */

int flight_new(struct flight** out, const struct flight_opts* opts,
               const struct export_opts* dump, const char* output) {
  struct flight* fl = calloc(1, sizeof(*fl));
  if (fl == NULL)
    return -ENOMEM;
  fl->opts = *opts;
  fl->dump = *dump;
  fl->seconds_ns = (uint64_t) (opts->seconds * 1e9);
  fl->after_ns = (uint64_t) (opts->after * 1e9);
  fl->cap = opts->size / sizeof(struct lrt_record);
  /* Untouched pages cost nothing: the ring's memory grows as it fills. */
  fl->ring = malloc(fl->cap * sizeof(struct lrt_record));
  fl->labels = calloc(LABEL_IDS, sizeof(*fl->labels));
  u64map_init(&fl->places, sizeof(struct place));
  fl->output = strdup(output);
  fl->process_name = strdup(dump->process_name ? dump->process_name : "");
  fl->command = dump->command ? strdup(dump->command) : NULL;
  if (opts->ntriggers > 0) {
    int i;
    for (i = 0; i < opts->ntriggers; i++)
      if (opts->triggers[i].what == FLIGHT_QUEUE)
        fl->tasks = calloc(TASK_SLOTS, sizeof(*fl->tasks));
  }
  if (fl->ring == NULL || fl->labels == NULL || fl->output == NULL ||
      fl->process_name == NULL || (dump->command && fl->command == NULL)) {
    flight_free(fl);
    return -ENOMEM;
  }
  fl->w.fd = -1;
  fl->dump.process_name = fl->process_name;
  fl->dump.command = fl->command;
  *out = fl;
  return 0;
}

int flight_records(struct flight* fl, const struct lrt_record* records,
                   size_t n) {
  uint64_t horizon = now_ns() + NS_PER_S;
  size_t i;
  for (i = 0; i < n; i++) {
    const struct lrt_record* r = &records[i];
    struct fthread* t;
    fl->records++;
    if (r->type == LRT_REC_LABEL) {
      if (r->label != 0)
        keep_label(fl, r);
      continue;
    }
    if (r->tid == 0 || r->type == 0 || r->type >= LRT_REC_TYPE_MAX)
      continue;
    if (r->type == LRT_REC_LOOP_START &&
        !LRT_TRACE_VERSION_KNOWN(LRT_LOOP_INFO_TRACE_VERSION(r->arg))) {
      fl->trace_version = LRT_LOOP_INFO_TRACE_VERSION(r->arg);
      return -EPROTONOSUPPORT;
    }
    /* A time from the future (the target is not to be trusted) would
     * push every record out. */
    if (r->ts < horizon)
      fl->newest_ts = max_u64(fl->newest_ts, r->ts);
    t = thread_get(fl, r->tid);
    if (t != NULL) {
      if (r->type == LRT_REC_THREAD) {
        t->intro = *r;
        t->has_intro = 1;
      } else if (r->type == LRT_REC_LOOP_START) {
        t->loop = *r;
        t->has_loop = 1;
      }
      watch(fl, t, r);
    }
    keep(fl, r);
  }
  evict_old(fl);
  return 0;
}

void flight_dropped(struct flight* fl, uint64_t ts_ns, uint64_t pid,
                    uint64_t count) {
  struct lrt_record r;
  if (count == 0)
    return;
  memset(&r, 0, sizeof(r));
  r.ts = ts_ns;
  r.tid = (uint32_t) pid;
  r.type = LRT_REC_LOST;
  r.kind = RING_LOST;
  r.id = count;
  keep(fl, &r);
  watch(fl, NULL, &r);
}

void flight_dropped_left(struct flight* fl, uint64_t ts_ns, uint64_t count) {
  fl->left_count += count;
  fl->left_ts = ts_ns;
}

void flight_trigger(struct flight* fl, uint64_t ts_ns, const char* what) {
  fire(fl, what, ts_ns, 0, 0);
}

/* Records replayed at a dump's head, handed to the exporter 256 at a
 * time. */
struct head_batch {
  struct exporter* ex;
  struct lrt_record r[256];
  size_t n;
  int err;
};

static void head_put(struct head_batch* b, const struct lrt_record* rec) {
  if (b->err != 0)
    return;
  b->r[b->n++] = *rec;
  if (b->n == 256) {
    b->err = export_records(b->ex, b->r, b->n);
    b->n = 0;
  }
}

/* Goes over what the ring holds: before the window, the pool state and
 * what is in progress (note_start, from what was when the ring
 * started); inside it, which threads speak (t->seen). */
static void scan_ring(struct flight* fl, struct lrt_record* pool,
                      int* has_pool) {
  struct writing* w = &fl->w;
  size_t i;
  for (i = 0; i < fl->nthreads; i++) {
    fl->threads[i].seen = 0;
    fl->threads[i].at_start = fl->threads[i].at_head;
  }
  for (i = 0; i < fl->len; i++) {
    const struct lrt_record* r = &fl->ring[(fl->head + i) % fl->cap];
    if (r->ts < w->ws) {
      if (r->type == LRT_REC_POOL || *has_pool) {
        pool_apply(pool, r);
        *has_pool = 1;
      }
      note_start(fl, r, offsetof(struct fthread, at_start));
    } else if (r->ts <= w->we) {
      struct fthread* t = thread_get(fl, r->tid);
      if (t != NULL)
        t->seen = 1;
    }
  }
}

/* What thread `t` had in progress at the window's start `ws`, begun
 * there and marked as begun earlier (as the runtime says of a tick in
 * progress when a tracer attaches): its tick and phase, the callbacks
 * open in it, the task it ran. */
static void put_in_progress(struct head_batch* b, const struct fthread* t,
                            uint64_t ws) {
  const struct fstart* st = &t->at_start;
  struct lrt_record rec;
  uint8_t i;
  memset(&rec, 0, sizeof(rec));
  rec.ts = ws;
  rec.tid = t->tid;
  rec.arg = LRT_BEGUN_EARLIER;
  if (st->work_open) {
    rec.type = LRT_REC_WORK_START;
    rec.id = st->work.id;
    rec.label = st->work.label;
    head_put(b, &rec);
  }
  if (st->tick_open) {
    rec.type = LRT_REC_TICK_BEGIN;
    rec.id = st->tick;
    head_put(b, &rec);
    if (st->phase == 0)
      return; /* in a tick, callbacks run in a phase */
    rec.type = LRT_REC_PHASE;
    rec.kind = st->phase;
    head_put(b, &rec);
  }
  for (i = 0; i < st->depth && st->overflow == 0; i++) {
    rec.type = LRT_REC_CALLBACK_BEGIN;
    rec.kind = st->cb[i].kind;
    rec.label = st->cb[i].label;
    rec.id = st->cb[i].id;
    head_put(b, &rec);
  }
}

/* A thread's introduction at the window's start: its role, its loop and
 * what it had in progress there. */
static void put_thread_head(struct head_batch* b, struct fthread* t,
                            uint64_t ws) {
  if (!t->seen)
    return;
  if (t->has_intro) {
    t->intro.ts = ws;
    head_put(b, &t->intro);
  }
  if (t->has_loop) {
    t->loop.ts = ws;
    head_put(b, &t->loop);
  }
  put_in_progress(b, t, ws);
}

/* The start of a dump's records: what is kept apart (labels; the intros,
 * loop facts and tick in progress of the threads in the window; the
 * threadpool's counts where it starts), all at the window's start. */
static int replay_head(struct flight* fl) {
  struct head_batch b;
  struct lrt_record pool = fl->pool;
  int has_pool = fl->has_pool;
  size_t i;
  b.ex = fl->w.ex;
  b.n = 0;
  b.err = 0;
  scan_ring(fl, &pool, &has_pool);
  for (i = 0; i < LABEL_IDS; i++) {
    const struct flabel* l = fl->labels[i];
    size_t c;
    for (c = 0; l != NULL && c < l->n; c++)
      head_put(&b, &l->chunk[c]);
  }
  for (i = 0; i < fl->nthreads; i++)
    put_thread_head(&b, &fl->threads[i], fl->w.ws);
  if (has_pool) {
    pool.ts = fl->w.ws;
    head_put(&b, &pool);
  }
  if (b.err == 0 && b.n > 0)
    b.err = export_records(b.ex, b.r, b.n);
  return b.err;
}

/* Hands the exporter up to `max` more records of the ring (those in the
 * window), in the order they came. Returns 1 once all are, 0 while more
 * are left, or a negative errno. */
static int replay_step(struct flight* fl, size_t max) {
  struct writing* w = &fl->w;
  struct lrt_record batch[REPLAY_CHUNK];
  size_t n = 0;
  int err = 0;
  while (w->pos < w->end && max > 0 && err == 0) {
    struct lrt_record r = fl->ring[(fl->head + w->pos++) % fl->cap];
    max--;
    if (r.type == LRT_REC_LOST && r.kind == RING_LOST && r.ts > w->we &&
        r.ts - w->we <= DROP_NOTICE_NS) {
      export_dropped(w->ex, w->we, r.id);
      continue;
    }
    if (r.ts < w->ws || r.ts > w->we)
      continue;
    /* A wait or a submit call lasting past the window ends with it. */
    if ((r.type == LRT_REC_WAIT || r.type == LRT_REC_WORK_SUBMIT) &&
        r.arg > w->we - r.ts)
      r.arg = w->we - r.ts;
    w->fed_ts = max_u64(w->fed_ts, r.ts);
    if (r.type == LRT_REC_LOST && r.kind == RING_LOST) {
      export_dropped(w->ex, r.ts, r.id);
      continue;
    }
    batch[n++] = r;
    if (n == REPLAY_CHUNK) {
      err = export_records(w->ex, batch, n);
      if (err == 0)
        err = export_advance(w->ex, w->fed_ts);
      n = 0;
    }
  }
  if (err == 0 && n > 0)
    err = export_records(w->ex, batch, n);
  if (err == 0)
    err = export_advance(w->ex, w->fed_ts);
  if (err != 0)
    return err;
  return w->pos == w->end ? 1 : 0;
}

/* A new file beside `path` (never through a symlink), renamed into
 * place once the dump is whole: what was at `path` is replaced, never
 * written through or truncated. Returns its descriptor or a negative
 * errno. */
static int open_temp(const char* path, char* tmp, size_t size) {
  int i;
  for (i = 0; i < 100; i++) {
    int n = snprintf(tmp, size, "%s.tmp-%d-%d", path, (int) getpid(), i);
    int fd;
    if (n < 0 || (size_t) n >= size)
      return -ENAMETOOLONG;
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0 || errno != EEXIST)
      return fd >= 0 ? fd : -errno;
  }
  return -EEXIST;
}

static void set_trigger(struct export_trigger* t, const struct fired* f) {
  t->trigger = f->trigger;
  t->ts_ns = f->ts;
  t->value_ns = f->value_ns;
  t->has_value = f->has_value;
}

/* Gives up the dump being written: its file goes, the recorder watches
 * on. */
static void dump_abort(struct flight* fl) {
  struct writing* w = &fl->w;
  export_free(w->ex);
  w->ex = NULL;
  if (w->fd >= 0) {
    close(w->fd);
    unlink(w->tmp);
  }
  w->fd = -1;
  w->on = 0;
  fl->pending.on = 0;
  fl->has_next = 0;
}

/* Starts writing the pending dump, its window ending at `we`: the file,
 * its head, the trigger instants and what is kept apart. The ring's
 * records follow in steps (dump_step); until the dump is whole, none
 * leaves the ring. */
static int dump_begin(struct flight* fl, uint64_t we, const char* end_reason) {
  struct writing* w = &fl->w;
  struct export_trigger trig;
  struct export_opts eo = fl->dump;
  uint64_t nominal = fl->pending.first.ts > fl->seconds_ns
                         ? fl->pending.first.ts - fl->seconds_ns
                         : 0;
  int err;
  int i;

  memset(&trig, 0, sizeof(trig));
  w->ws = nominal;
  w->we = we;
  if (fl->evicted_ts >= w->ws) {
    w->ws = fl->evicted_ts + 1;
    if (fl->cap_evicted_ts >= nominal)
      trig.window_cut = "flight-size";
  }
  if (fl->dump.start_ns > w->ws) {
    w->ws = fl->dump.start_ns;
    trig.window_cut = "recording-start";
  }
  w->fed_ts = w->ws;
  w->pos = 0;
  w->end = fl->len;
  w->end_reason = end_reason;
  w->at_stop = 0;
  w->ex = NULL;
  w->fd = -1;
  err = flight_dump_path(fl->output, fl->dumps + 1, w->path, sizeof(w->path));
  if (err != 0)
    return err;
  w->fd = open_temp(w->path, w->tmp, sizeof(w->tmp));
  if (w->fd < 0) {
    err = w->fd;
    w->fd = -1;
    return err;
  }
  w->on = 1;
  eo.fd = w->fd;
  eo.start_ns = w->ws;
  eo.window_ns = EXPORT_WINDOW_NS;
  err = export_new(&w->ex, &eo);
  if (err != 0) {
    w->ex = NULL;
    return err;
  }
  set_trigger(&trig, &fl->pending.first);
  trig.dump = fl->dumps + 1;
  trig.window_start_ns = w->ws;
  trig.window_end_ns = we;
  trig.seconds = fl->opts.seconds;
  trig.after = fl->opts.after;
  export_trigger(w->ex, &trig);
  for (i = 0; i < fl->pending.nmore; i++) {
    if (fl->pending.more[i].ts < w->ws || fl->pending.more[i].ts > we)
      continue;
    set_trigger(&trig, &fl->pending.more[i]);
    trig.dump = 0;
    export_trigger(w->ex, &trig);
  }
  return replay_head(fl);
}

/* Ends the dump whose records are all handed over: its final facts, the
 * file put in place. A trigger that fired meanwhile is pending then. */
static int dump_end(struct flight* fl) {
  struct writing* w = &fl->w;
  int err = 0;
  /* The records still unread at the stop may be of the window. */
  if (w->at_stop)
    export_dropped_left(w->ex, fl->left_ts, fl->left_count);
  if (fl->target_exit[0] != '\0')
    export_target_exit(w->ex, fl->target_exit);
  err = export_finish(w->ex, w->we, w->end_reason);
  export_free(w->ex);
  w->ex = NULL;
  if (close(w->fd) != 0 && err == 0)
    err = -errno;
  w->fd = -1;
  if (err == 0 && rename(w->tmp, w->path) != 0)
    err = -errno;
  w->on = 0;
  if (err != 0) {
    unlink(w->tmp);
    fl->pending.on = 0;
    fl->has_next = 0;
    return err;
  }
  /* The next window starts after what was let go. */
  fl->evicted_ts = max_u64(fl->evicted_ts, fl->skipped_ts);
  fl->cap_evicted_ts = max_u64(fl->cap_evicted_ts, fl->skipped_ts);
  fl->dumps++;
  fl->last_end = w->we;
  snprintf(fl->last_path, sizeof(fl->last_path), "%s", w->path);
  snprintf(fl->last_trigger, sizeof(fl->last_trigger), "%s",
           fl->pending.first.trigger);
  fl->pending.on = 0;
  if (fl->has_next && fl->dumps < fl->opts.max_dumps) {
    fl->pending.on = 1;
    fl->pending.first = fl->next;
    fl->pending.nmore = 0;
  }
  fl->has_next = 0;
  evict_old(fl);
  return 0;
}

/* Writes up to `max` more records of the dump being written, and ends it
 * once all are. Returns 0 or a negative errno (the dump is given up). */
static int dump_step(struct flight* fl, size_t max) {
  int r = replay_step(fl, max);
  if (r == 1)
    return dump_end(fl);
  if (r < 0)
    dump_abort(fl);
  return r;
}

int flight_advance(struct flight* fl, uint64_t now) {
  int err = 0;
  if (fl->w.on) {
    err = dump_step(fl, REPLAY_STEP);
  } else if (fl->pending.on &&
             now >= fl->pending.first.ts + fl->after_ns + SETTLE_NS) {
    err = dump_begin(fl, fl->pending.first.ts + fl->after_ns, "flight-window");
    if (err == 0)
      err = dump_step(fl, REPLAY_STEP);
    else
      dump_abort(fl);
  }
  if (err != 0)
    return err;
  return !fl->w.on && !fl->pending.on && fl->dumps >= fl->opts.max_dumps ? 1
                                                                         : 0;
}

void flight_target_exit(struct flight* fl, const char* text) {
  snprintf(fl->target_exit, sizeof(fl->target_exit), "%s", text);
}

int flight_finish(struct flight* fl, uint64_t now, const char* end_reason) {
  int err = 0;
  fl->w.at_stop = 1;
  while (fl->w.on && err == 0)
    err = dump_step(fl, (size_t) -1);
  if (err == 0 && fl->pending.on) {
    uint64_t we = fl->pending.first.ts + fl->after_ns;
    if (now >= we)
      err = dump_begin(fl, we, "flight-window");
    else
      err = dump_begin(fl, now, end_reason);
    fl->w.at_stop = 1;
    while (err == 0 && fl->w.on)
      err = dump_step(fl, (size_t) -1);
    if (err != 0 && fl->w.on)
      dump_abort(fl);
  }
  return err;
}

void flight_stats(const struct flight* fl, struct flight_stats* st) {
  memset(st, 0, sizeof(*st));
  st->records = fl->records;
  st->held = fl->len;
  st->held_bytes = fl->len * sizeof(struct lrt_record);
  if (fl->len > 0 && fl->newest_ts > fl->ring[fl->head].ts)
    st->window_ns = fl->newest_ts - fl->ring[fl->head].ts;
  st->evicted_for_size = fl->evicted_for_size;
  st->dumps = fl->dumps;
  st->pending = fl->pending.on;
  st->trace_version = fl->trace_version;
  snprintf(st->last_path, sizeof(st->last_path), "%s", fl->last_path);
  snprintf(st->last_trigger, sizeof(st->last_trigger), "%s", fl->last_trigger);
}

void flight_free(struct flight* fl) {
  size_t i;
  if (fl == NULL)
    return;
  if (fl->w.on)
    dump_abort(fl);
  if (fl->labels != NULL)
    for (i = 0; i < LABEL_IDS; i++)
      free(fl->labels[i]);
  free(fl->labels);
  free(fl->ring);
  free(fl->threads);
  u64map_free(&fl->places);
  free(fl->tasks);
  free(fl->output);
  free(fl->process_name);
  free(fl->command);
  free(fl);
}
