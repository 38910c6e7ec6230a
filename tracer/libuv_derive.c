/* libuv_derive.c — raw libuv probe records to the looprt record stream.
 *
 * Landmarks, for libuv 1.45+ (uv_run: pending, idle, prepare, poll,
 * pending again, check, close, timers) and 1.44 (timers first):
 *
 *   uv__run_timers entry        timers begin (1.44: a tick begins)
 *   uv__run_timers return       1.45+: the tick ends; 1.44: pending begins
 *   uv__run_idle/prepare entry  idle/prepare begin
 *   uv__io_poll entry, return   poll begins; the second pending begins
 *   uv__run_check entry, return check begins; close begins
 *
 * In 1.45+ the next tick's pending begins where the previous tick ended;
 * that tick is opened only when something shows that the loop went on
 * (a landmark or a callback), so a loop that stops leaves no empty tick.
 */
#include "libuv_derive.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "containers.h"

#define MAX_FRAMES 16
#define MAX_LABELS 4096
#define MAX_TASKS (1u << 20)
#define MAX_THREADS 4096
#define SYM_CACHE 256

enum { ST_UNKNOWN, ST_IN_TICK, ST_BETWEEN, ST_OUT };

/* An open work or done call on a thread. */
struct frame {
  uint64_t task;
  uint16_t label;
  uint8_t kind; /* callback kind */
  uint8_t pool; /* a pool task (else a synchronous call) */
};

struct thread {
  uint64_t tid; /* the key of uvd.threads */
  uint8_t role; /* 0, LRT_THREAD_LOOP or LRT_THREAD_WORKER */
  uint8_t state;
  uint8_t in_poll;
  uint8_t nwork;
  uint8_t ndone;
  uint8_t begun_earlier; /* the next phase opens a tick begun unseen */
  uint64_t tick;
  uint64_t between_ts;
  uint64_t qw_w; /* the uv_queue_work waiting for its slot record */
  uint64_t qw_cb;
  uint64_t last_qw; /* its w, to skip the uv__work_submit it makes */
  struct frame work[MAX_FRAMES];
  struct frame done[MAX_FRAMES];
};

struct task {
  uint64_t w; /* the key of uvd.tasks: the uv_work_t's address */
  uint64_t id;
  uint16_t label;
  uint8_t kind;
};

struct sym_entry {
  uint64_t addr;
  uint16_t label;
  uint8_t kind;
};

struct uvd {
  struct uvd_config cfg;
  uint64_t bias;
  struct lrt_record* out;
  size_t out_len;
  size_t out_cap;
  struct u64map threads;    /* struct thread by tid */
  struct u64map tasks;      /* struct task by w */
  char* labels[MAX_LABELS]; /* id -> text; [0] unused */
  unsigned nlabels;
  struct sym_entry syms[SYM_CACHE];
  unsigned nsyms;
  uint64_t next_task;
  unsigned loops;
  unsigned workers;
};

/* ------------------------------------------------------------------------
 * Names
 */

static const char* const fs_names[] = {
    "custom",  "open",     "close",   "read",      "write",     "sendfile",
    "stat",    "lstat",    "fstat",   "ftruncate", "utime",     "futime",
    "access",  "chmod",    "fchmod",  "fsync",     "fdatasync", "unlink",
    "rmdir",   "mkdir",    "mkdtemp", "rename",    "scandir",   "link",
    "symlink", "readlink", "chown",   "fchown",    "realpath",  "copyfile",
    "lchown",  "opendir",  "readdir", "closedir",  "statfs",    "mkstemp",
    "lutime",
};

const char* uvd_fs_label(int fs_type) {
  static char buf[32];
  if (fs_type >= 0 &&
      (size_t) fs_type < sizeof(fs_names) / sizeof(fs_names[0])) {
    snprintf(buf, sizeof(buf), "fs.%s", fs_names[fs_type]);
    return buf;
  }
  return "fs";
}

/* Node's job classes, by a piece of the mangled name of their
 * DoThreadPoolWork. */
static const struct {
  const char* piece;
  const char* label;
  uint8_t kind;
} jobs[] = {
    {"PBKDF2Traits", "pbkdf2", LRT_CB_CRYPTO},
    {"ScryptTraits", "scrypt", LRT_CB_CRYPTO},
    {"RandomBytesTraits", "randomBytes", LRT_CB_CRYPTO},
    {"RandomPrimeTraits", "generatePrime", LRT_CB_CRYPTO},
    {"CheckPrimeTraits", "checkPrime", LRT_CB_CRYPTO},
    {"HKDFTraits", "hkdf", LRT_CB_CRYPTO},
    {"HashTraits", "digest", LRT_CB_CRYPTO},
    {"SignTraits", "sign", LRT_CB_CRYPTO},
    {"CipherTraits", "cipher", LRT_CB_CRYPTO},
    {"KeyGen", "generateKey", LRT_CB_CRYPTO},
    {"KeyExport", "exportKey", LRT_CB_CRYPTO},
    {"DeriveBits", "deriveBits", LRT_CB_CRYPTO},
    {"BrotliEncoderContext", "brotli", LRT_CB_WORK},
    {"BrotliDecoderContext", "brotli", LRT_CB_WORK},
    {"ZlibContext", "zlib", LRT_CB_WORK},
    {"uvwasi", "wasi", LRT_CB_WORK},
};

const char* uvd_job_label(const char* symbol, uint8_t* kind) {
  size_t i;
  for (i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
    if (strstr(symbol, jobs[i].piece) != NULL) {
      *kind = jobs[i].kind;
      return jobs[i].label;
    }
  }
  return NULL;
}

/* ------------------------------------------------------------------------
 * Output
 */

static struct lrt_record* push(struct uvd* d, uint64_t ts, uint32_t tid,
                               uint8_t type) {
  struct lrt_record* r;
  if (array_reserve(&d->out, &d->out_cap, d->out_len + 1, sizeof(*d->out)))
    return NULL;
  r = &d->out[d->out_len++];
  memset(r, 0, sizeof(*r));
  r->ts = ts;
  r->tid = tid;
  r->type = type;
  return r;
}

static void put(struct uvd* d, uint64_t ts, uint32_t tid, uint8_t type,
                uint8_t kind, uint16_t label, uint64_t id, uint64_t arg) {
  struct lrt_record* r = push(d, ts, tid, type);
  if (r == NULL)
    return;
  r->kind = kind;
  r->label = label;
  r->id = id;
  r->arg = arg;
}

/* The id of label `text`, announced (LRT_REC_LABEL chunks) the first
 * time; 0 when the table is full. */
static uint16_t label_id(struct uvd* d, const char* text, uint64_t ts) {
  size_t len = strlen(text);
  unsigned i;
  unsigned chunk;
  if (len > LRT_LABEL_MAX_LEN)
    len = LRT_LABEL_MAX_LEN;
  for (i = 1; i <= d->nlabels; i++) {
    if (strncmp(d->labels[i], text, len) == 0 && d->labels[i][len] == '\0')
      return (uint16_t) i;
  }
  if (d->nlabels + 1 >= MAX_LABELS)
    return 0;
  d->labels[i] = strndup(text, len);
  if (d->labels[i] == NULL)
    return 0;
  d->nlabels = i;
  for (chunk = 0; chunk * LRT_LABEL_CHUNK < len || chunk == 0; chunk++) {
    size_t at = chunk * LRT_LABEL_CHUNK;
    size_t n = len - at < LRT_LABEL_CHUNK ? len - at : LRT_LABEL_CHUNK;
    struct lrt_record* r = push(d, ts, 1, LRT_REC_LABEL);
    if (r == NULL)
      break;
    r->label = (uint16_t) i;
    r->kind = (uint8_t) chunk;
    if (at + n >= len)
      r->kind |= LRT_LABEL_LAST;
    memcpy(r->text, text + at, n);
  }
  return (uint16_t) i;
}

/* ------------------------------------------------------------------------
 * Threads
 */

/* The thread `tid`, made on first sight (NULL past MAX_THREADS or out of
 * memory). The pointer is valid until the next thread_get(). */
static struct thread* thread_get(struct uvd* d, uint32_t tid) {
  struct thread* t = u64map_find(&d->threads, tid);
  int added;
  if (t != NULL)
    return t;
  if (d->threads.len >= MAX_THREADS)
    return NULL;
  t = u64map_insert(&d->threads, tid, &added);
  if (t != NULL && added)
    t->state = d->cfg.from_start ? ST_OUT : ST_UNKNOWN;
  return t;
}

/* A loop thread introduces itself before its first record. */
static void ensure_loop(struct uvd* d, struct thread* t, uint64_t ts) {
  if (t->role != 0)
    return;
  t->role = LRT_THREAD_LOOP;
  d->loops++;
  put(d, ts, t->tid, LRT_REC_THREAD, LRT_THREAD_LOOP, 0, d->loops, 0);
  put(d, ts, t->tid, LRT_REC_LOOP_START, 0, 0, d->loops,
      LRT_LOOP_INFO(d->cfg.uv_version, d->cfg.pool_size, LRT_TRACE_VERSION));
}

static void ensure_worker(struct uvd* d, struct thread* t, uint64_t ts) {
  if (t->role != 0)
    return;
  t->role = LRT_THREAD_WORKER;
  d->workers++;
  put(d, ts, t->tid, LRT_REC_THREAD, LRT_THREAD_WORKER, 0, d->workers, 0);
}

/* ------------------------------------------------------------------------
 * The phase machine
 */

static int v145(const struct uvd* d) {
  return d->cfg.uv_version >= LRT_UV_TIMERS_LAST;
}

static void phase(struct uvd* d, struct thread* t, uint64_t ts, uint8_t p) {
  put(d, ts, t->tid, LRT_REC_PHASE, p, 0, t->tick,
      t->begun_earlier ? LRT_BEGUN_EARLIER : 0);
  t->begun_earlier = 0;
}

static void tick_begin(struct uvd* d, struct thread* t, uint64_t ts) {
  t->tick++;
  t->state = ST_IN_TICK;
  put(d, ts, t->tid, LRT_REC_TICK_BEGIN, 0, 0, t->tick, 0);
}

static void tick_end(struct uvd* d, struct thread* t, uint64_t ts) {
  put(d, ts, t->tid, LRT_REC_TICK_END, 0, 0, t->tick, 0);
  t->state = ST_OUT;
  t->in_poll = 0;
}

/* Before a phase begins: opens the tick that began where the previous
 * one ended (1.45+), or, on first sight, takes the running tick as one
 * whose start was not seen. */
static void ensure_tick(struct uvd* d, struct thread* t, uint64_t ts) {
  ensure_loop(d, t, ts);
  if (t->state == ST_BETWEEN) {
    tick_begin(d, t, t->between_ts);
    phase(d, t, t->between_ts, LRT_PHASE_PENDING);
  } else if (t->state == ST_UNKNOWN) {
    /* No TICK_BEGIN: the first phase record opens the tick, marked as
     * begun before the probes were in. */
    t->tick++;
    t->state = ST_IN_TICK;
    t->begun_earlier = 1;
  } else if (t->state == ST_OUT) {
    tick_begin(d, t, ts);
  }
}

/* Before a callback, task or call on a loop thread: a 1.45+ loop that went
 * on after a tick is in the next tick's pending phase. Outside uv_run, or
 * before the first landmark, it stands outside any tick. */
static void ensure_context(struct uvd* d, struct thread* t, uint64_t ts) {
  ensure_loop(d, t, ts);
  if (t->state == ST_BETWEEN)
    ensure_tick(d, t, ts);
}

static void timers_begin(struct uvd* d, struct thread* t, uint64_t ts) {
  ensure_loop(d, t, ts);
  if (v145(d)) {
    /* Before the loop (UV_RUN_DEFAULT runs timers once first) or after
     * close: a tick of its own, or the end of the current one. */
    if (t->state == ST_BETWEEN || t->state == ST_OUT)
      tick_begin(d, t, ts);
    else if (t->state == ST_UNKNOWN)
      ensure_tick(d, t, ts);
  } else {
    if (t->state == ST_IN_TICK)
      tick_end(d, t, ts);
    if (t->state == ST_UNKNOWN)
      t->state = ST_OUT;
    tick_begin(d, t, ts);
  }
  phase(d, t, ts, LRT_PHASE_TIMERS);
}

static void timers_end(struct uvd* d, struct thread* t, uint64_t ts) {
  if (v145(d)) {
    if (t->state == ST_IN_TICK)
      tick_end(d, t, ts);
    t->state = ST_BETWEEN;
    t->between_ts = ts;
  } else if (t->state == ST_IN_TICK) {
    phase(d, t, ts, LRT_PHASE_PENDING);
  }
}

static void landmark(struct uvd* d, struct thread* t, uint64_t ts, uint8_t lm) {
  struct frame* f;
  if (t->role == LRT_THREAD_WORKER && lm != UVS_LM_WORK_RET &&
      lm != UVS_LM_DONE_RET)
    return;
  switch (lm) {
  case UVS_LM_RUN:
    ensure_loop(d, t, ts);
    if (t->state == ST_IN_TICK)
      break; /* uv_run called from a callback: one tick goes on */
    t->state = v145(d) ? ST_BETWEEN : ST_OUT;
    t->between_ts = ts;
    break;
  case UVS_LM_RUN_RET:
    if (t->state == ST_IN_TICK)
      tick_end(d, t, ts);
    t->state = ST_OUT;
    break;
  case UVS_LM_TIMERS:
    timers_begin(d, t, ts);
    break;
  case UVS_LM_TIMERS_RET:
    timers_end(d, t, ts);
    break;
  case UVS_LM_IDLE:
  case UVS_LM_PREPARE:
  case UVS_LM_POLL:
  case UVS_LM_POLL_RET:
  case UVS_LM_CHECK:
  case UVS_LM_CHECK_RET: {
    static const uint8_t phases[UVS_LM_MAX] = {
        [UVS_LM_IDLE] = LRT_PHASE_IDLE,   [UVS_LM_PREPARE] = LRT_PHASE_PREPARE,
        [UVS_LM_POLL] = LRT_PHASE_POLL,   [UVS_LM_POLL_RET] = LRT_PHASE_PENDING,
        [UVS_LM_CHECK] = LRT_PHASE_CHECK, [UVS_LM_CHECK_RET] = LRT_PHASE_CLOSE,
    };
    ensure_tick(d, t, ts);
    phase(d, t, ts, phases[lm]);
    t->in_poll = lm == UVS_LM_POLL;
    break;
  }
  case UVS_LM_WORK_RET:
    if (t->nwork == 0)
      break; /* its start was not seen */
    f = &t->work[--t->nwork];
    if (f->pool)
      put(d, ts, t->tid, LRT_REC_WORK_END, 0, f->label, f->task, 0);
    else
      put(d, ts, t->tid, LRT_REC_CALLBACK_END, f->kind, f->label, 0, 0);
    break;
  case UVS_LM_DONE_RET:
    if (t->ndone == 0)
      break;
    f = &t->done[--t->ndone];
    put(d, ts, t->tid, LRT_REC_CALLBACK_END, f->kind, f->label, f->task, 0);
    break;
  default:
    break;
  }
}

/* ------------------------------------------------------------------------
 * Tasks
 */

static struct task* task_find(struct uvd* d, uint64_t w) {
  return u64map_find(&d->tasks, w);
}

static void task_remove(struct uvd* d, struct task* tk) {
  u64map_remove(&d->tasks, tk);
}

/* The task of `w`, added if new, with a new id either way; NULL for w 0,
 * past MAX_TASKS or out of memory. */
static struct task* task_add(struct uvd* d, uint64_t w) {
  struct task* tk = task_find(d, w);
  if (tk == NULL && d->tasks.len >= MAX_TASKS)
    return NULL;
  if (tk == NULL)
    tk = u64map_insert(&d->tasks, w, NULL);
  if (tk == NULL)
    return NULL;
  tk->id = ++d->next_task;
  return tk;
}

/* The label and callback kind of a function at runtime address `addr`
 * that is not one of libuv's own: a node job class, else its symbol. */
static uint16_t sym_label(struct uvd* d, uint64_t addr, uint64_t ts,
                          uint8_t* kind) {
  char name[LRT_LABEL_MAX_LEN + 1];
  char text[LRT_LABEL_MAX_LEN + 1];
  const char* job;
  unsigned i;
  for (i = 0; i < d->nsyms; i++) {
    if (d->syms[i].addr == addr) {
      *kind = d->syms[i].kind;
      return d->syms[i].label;
    }
  }
  name[0] = '\0';
  if (d->cfg.symbolize != NULL && addr != 0)
    d->cfg.symbolize(d->cfg.symbolize_ctx, addr - d->bias, name, sizeof(name));
  *kind = LRT_CB_WORK;
  job = name[0] != '\0' ? uvd_job_label(name, kind) : NULL;
  if (job != NULL)
    snprintf(text, sizeof(text), "%s", job);
  else if (name[0] != '\0')
    snprintf(text, sizeof(text), "work: %s", name);
  else
    snprintf(text, sizeof(text), "work");
  if (d->nsyms < SYM_CACHE) {
    d->syms[d->nsyms].addr = addr;
    d->syms[d->nsyms].kind = *kind;
    d->syms[d->nsyms].label = label_id(d, text, ts);
    return d->syms[d->nsyms++].label;
  }
  return label_id(d, text, ts);
}

/* The label and callback kind of libuv's work function `fn`. */
static uint16_t fn_label(struct uvd* d, unsigned fn, uint8_t fs_type,
                         uint64_t ts, uint8_t* kind) {
  switch (fn) {
  case UVS_FN_FS:
    *kind = LRT_CB_FS;
    return label_id(d, uvd_fs_label(fs_type), ts);
  case UVS_FN_GETADDRINFO:
    *kind = LRT_CB_DNS;
    return label_id(d, "dns.lookup", ts);
  case UVS_FN_GETNAMEINFO:
    *kind = LRT_CB_DNS;
    return label_id(d, "dns.lookupService", ts);
  case UVS_FN_RANDOM:
    *kind = LRT_CB_WORK;
    return label_id(d, "random", ts);
  default:
    *kind = LRT_CB_WORK;
    return label_id(d, "work", ts);
  }
}

static void submit(struct uvd* d, struct thread* t, uint64_t ts, uint64_t w,
                   uint16_t label, uint8_t kind) {
  struct task* tk = task_add(d, w);
  if (tk == NULL)
    return;
  tk->label = label;
  tk->kind = kind;
  ensure_context(d, t, ts);
  put(d, ts, t->tid, LRT_REC_WORK_SUBMIT, kind, label, tk->id, 0);
}

/* uv__work_submit(loop, w, kind, work, done). */
static void on_submit(struct uvd* d, struct thread* t,
                      const struct lrt_record* r) {
  uint64_t work = r->arg - d->bias;
  uint16_t label = 0;
  uint8_t kind = LRT_CB_WORK;
  unsigned fn;
  if (t->role == LRT_THREAD_WORKER)
    return;
  if (r->id == t->last_qw) {
    t->last_qw = 0; /* made by uv_queue_work: counted there */
    return;
  }
  for (fn = 1; fn < UVS_FN_MAX; fn++) {
    if (d->cfg.work_fn[fn] != 0 && d->cfg.work_fn[fn] == work)
      break;
  }
  if (fn < UVS_FN_MAX)
    label = fn_label(d, fn, r->kind, r->ts, &kind);
  else
    label = sym_label(d, r->arg, r->ts, &kind);
  submit(d, t, r->ts, r->id, label, kind);
}

/* uv_queue_work(loop, req, work_cb, after): the slot record that follows
 * says which node job it is. */
static void on_queue_slot(struct uvd* d, struct thread* t,
                          const struct lrt_record* r) {
  uint64_t addr = t->qw_cb;
  uint16_t label;
  uint8_t kind;
  if (t->role == LRT_THREAD_WORKER || t->qw_w != r->id || r->id == 0)
    return;
  if (d->cfg.tpw_lambda != 0 && addr - d->bias == d->cfg.tpw_lambda &&
      r->arg != 0)
    addr = r->arg;
  label = sym_label(d, addr, r->ts, &kind);
  t->last_qw = r->id;
  t->qw_w = 0;
  submit(d, t, r->ts, r->id, label, kind);
}

static void push_frame(struct frame* stack, uint8_t* n, uint64_t task,
                       uint16_t label, uint8_t kind, uint8_t pool) {
  if (*n == MAX_FRAMES) {
    /* Returns were missed: forget the oldest frames. */
    memmove(stack, stack + MAX_FRAMES / 2, (MAX_FRAMES / 2) * sizeof(*stack));
    *n = MAX_FRAMES / 2;
  }
  stack[*n].task = task;
  stack[*n].label = label;
  stack[*n].kind = kind;
  stack[*n].pool = pool;
  (*n)++;
}

/* A work function entered: a pool task on a worker (called from libuv's
 * worker()), else a synchronous call on the thread that made it. */
static void on_work(struct uvd* d, struct thread* t,
                    const struct lrt_record* r) {
  uint64_t ret = r->arg - d->bias;
  int pool = ret >= d->cfg.worker_lo && ret < d->cfg.worker_hi;
  struct task* tk = task_find(d, r->id);
  uint16_t label;
  uint8_t kind;
  if (pool && t->role != LRT_THREAD_LOOP) {
    ensure_worker(d, t, r->ts);
    if (tk == NULL) {
      /* Submitted before the probes were in. */
      label = fn_label(d, r->label, r->kind, r->ts, &kind);
      tk = task_add(d, r->id);
      if (tk == NULL)
        return;
      tk->label = label;
      tk->kind = kind;
    }
    put(d, r->ts, t->tid, LRT_REC_WORK_START, 0, tk->label, tk->id, 0);
    push_frame(t->work, &t->nwork, tk->id, tk->label, tk->kind, 1);
    return;
  }
  if (t->role == LRT_THREAD_WORKER)
    return;
  {
    char text[64];
    uint16_t base = fn_label(d, r->label, r->kind, r->ts, &kind);
    snprintf(text, sizeof(text), "%s (sync)",
             base != 0 && d->labels[base] ? d->labels[base] : "work");
    label = label_id(d, text, r->ts);
  }
  ensure_context(d, t, r->ts);
  put(d, r->ts, t->tid, LRT_REC_CALLBACK_BEGIN, kind, label, 0, 0);
  push_frame(t->work, &t->nwork, 0, label, kind, 0);
}

/* A done function entered: the task's completion callback. */
static void on_done(struct uvd* d, struct thread* t,
                    const struct lrt_record* r) {
  struct task* tk = task_find(d, r->id);
  uint64_t id = 0;
  uint16_t label;
  uint8_t kind;
  if (t->role == LRT_THREAD_WORKER)
    return;
  if (tk != NULL) {
    id = tk->id;
    label = tk->label;
    kind = tk->kind;
    task_remove(d, tk);
  } else {
    label = fn_label(d, r->label, r->kind, r->ts, &kind);
  }
  ensure_context(d, t, r->ts);
  put(d, r->ts, t->tid, LRT_REC_CALLBACK_BEGIN, kind, label, id, 0);
  push_frame(t->done, &t->ndone, id, label, kind, 0);
}

/* ------------------------------------------------------------------------
 * The API
 */

int uvd_new(struct uvd** out, const struct uvd_config* config) {
  struct uvd* d = calloc(1, sizeof(*d));
  if (d == NULL)
    return -ENOMEM;
  d->cfg = *config;
  u64map_init(&d->threads, sizeof(struct thread));
  u64map_init(&d->tasks, sizeof(struct task));
  if (d->cfg.pool_size == 0)
    d->cfg.pool_size = 4;
  *out = d;
  return 0;
}

void uvd_main_loop(struct uvd* d, uint32_t tid, uint64_t ts) {
  struct thread* t = thread_get(d, tid);
  if (t != NULL)
    ensure_loop(d, t, ts);
}

void uvd_set_bias(struct uvd* d, uint64_t bias) {
  d->bias = bias;
}

void uvd_feed(struct uvd* d, const struct lrt_record* r) {
  struct thread* t;
  if (r->tid == 0)
    return;
  t = thread_get(d, r->tid);
  if (t == NULL)
    return;
  switch (r->type) {
  case UVS_LANDMARK:
    if (r->kind > 0 && r->kind < UVS_LM_MAX)
      landmark(d, t, r->ts, r->kind);
    break;
  case UVS_SUBMIT:
    on_submit(d, t, r);
    break;
  case UVS_QUEUE_WORK:
    t->qw_w = r->id;
    t->qw_cb = r->arg;
    break;
  case UVS_QUEUE_SLOT:
    on_queue_slot(d, t, r);
    break;
  case UVS_WORK_START:
    on_work(d, t, r);
    break;
  case UVS_DONE:
    on_done(d, t, r);
    break;
  case UVS_WAIT:
    if (t->role == LRT_THREAD_LOOP && t->state == ST_IN_TICK && t->in_poll)
      put(d, r->ts, t->tid, LRT_REC_WAIT, 0, 0, t->tick, r->arg);
    break;
  default:
    break;
  }
}

size_t uvd_take(struct uvd* d, const struct lrt_record** out) {
  size_t n = d->out_len;
  *out = d->out;
  d->out_len = 0;
  return n;
}

void uvd_free(struct uvd* d) {
  unsigned i;
  if (d == NULL)
    return;
  for (i = 1; i <= d->nlabels; i++)
    free(d->labels[i]);
  u64map_free(&d->threads);
  u64map_free(&d->tasks);
  free(d->out);
  free(d);
}
