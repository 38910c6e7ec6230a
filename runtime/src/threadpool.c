/* threadpool.c — work on libuv's threadpool, traced at four moments:
 * submitted (loop thread), started and finished (worker), and the
 * completion callback (loop thread). fs.c, dns.c and crypto.c submit
 * through lrt__work_submit() with their own completion kind.
 */
#include <pthread.h>
#include <stdlib.h>

#include "internal.h"

/* Task ids are unique in the process and never reused, so that trace
 * flows never collide: the loop's id above a count of the loop's tasks.
 * They stay below 2^53 (exact in JSON) for the first 8191 loops. */
#define TASK_ID_LOOP_SHIFT 40

/* Workers are numbered in the order they first run a task (while
 * traced). */
static _Atomic uint64_t next_worker_index = 1;

/* How many tasks are queued and running, for the snapshot a tracing
 * session starts with, counted so that no task pays for an atomic
 * read-modify-write or a cache line shared between threads:
 * - submitted: each loop's count of its tasks (which also numbers them),
 *   written by the loop's thread alone; loops are listed here while open,
 *   and a closed loop's count is kept in closed_submitted;
 * - started and finished: counters of each thread that runs tasks,
 *   written by that thread alone and never freed (pool threads live as
 *   long as the process; an ended thread's counts still count).
 * The snapshot adds them all up. */
struct pool_counts {
  _Atomic uint64_t started;
  _Atomic uint64_t finished;
  struct pool_counts* next;
};

static pthread_mutex_t counts_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lrt__loop_private* open_loops;
static uint64_t closed_submitted;
static struct pool_counts* all_counts;
/* Shared by threads whose own could not be allocated; they may then
 * miscount, nothing worse. */
static struct pool_counts spare_counts;
static __thread struct pool_counts* my_counts
    __attribute__((tls_model("initial-exec")));

/* The calling thread's first task: its counters. */
static __attribute__((noinline)) struct pool_counts* counts_register(void) {
  struct pool_counts* c = calloc(1, sizeof(*c));
  if (c == NULL)
    return my_counts = &spare_counts;
  pthread_mutex_lock(&counts_lock);
  c->next = all_counts;
  all_counts = c;
  pthread_mutex_unlock(&counts_lock);
  return my_counts = c;
}

static inline struct pool_counts* counts(void) {
  struct pool_counts* c = my_counts;
  return c != NULL ? c : counts_register();
}

/* Adds one to a counter only this thread writes: a plain load and store. */
static inline void count(_Atomic uint64_t* counter) {
  atomic_store_explicit(
      counter, atomic_load_explicit(counter, memory_order_relaxed) + 1,
      memory_order_relaxed);
}

void lrt__pool_loop_open(struct lrt__loop_private* p) {
  pthread_mutex_lock(&counts_lock);
  p->next_open = open_loops;
  open_loops = p;
  pthread_mutex_unlock(&counts_lock);
}

void lrt__pool_loop_close(struct lrt__loop_private* p) {
  struct lrt__loop_private** pp;
  pthread_mutex_lock(&counts_lock);
  for (pp = &open_loops; *pp != NULL; pp = &(*pp)->next_open)
    if (*pp == p) {
      *pp = p->next_open;
      closed_submitted += atomic_load_explicit(&p->tasks_submitted,
                                               memory_order_relaxed);
      break;
    }
  pthread_mutex_unlock(&counts_lock);
}

void lrt__pool_snapshot(uint64_t* queued, uint64_t* running) {
  struct lrt__loop_private* loop;
  struct pool_counts* c;
  uint64_t submitted = 0;
  uint64_t started = 0;
  uint64_t finished = 0;
  pthread_mutex_lock(&counts_lock);
  for (c = all_counts; c != NULL; c = c->next) {
    finished += atomic_load_explicit(&c->finished, memory_order_relaxed);
    started += atomic_load_explicit(&c->started, memory_order_relaxed);
  }
  submitted = closed_submitted;
  for (loop = open_loops; loop != NULL; loop = loop->next_open)
    submitted +=
        atomic_load_explicit(&loop->tasks_submitted, memory_order_relaxed);
  pthread_mutex_unlock(&counts_lock);
  *queued = submitted > started ? submitted - started : 0;
  *running = started > finished ? started - finished : 0;
}

void lrt__pool_after_fork(void) {
  pthread_mutex_init(&counts_lock, NULL);
}

/* The traced parts of a task are functions of their own: inlined, the
 * code that runs only while traced made every task save and restore
 * registers for it, traced or not. Untraced, a task now runs 35
 * instructions more than in a build without probes (58 before), most of
 * them the guards' loads and branches (callgrind, make bench). */

/* The pool counters move after a record's timestamp is taken, so that a
 * session's snapshot (trace.c) and the records agree on which side of it
 * each move falls. */

/* A worker begins `w`: counts it started; returns when (ns). */
static __attribute__((noinline)) uint64_t trace_work_start(lrt_work_t* w) {
  uint64_t start;
  if (lrt__thread_role() != LRT_THREAD_WORKER)
    lrt__thread_set_role(LRT_THREAD_WORKER,
                         atomic_fetch_add(&next_worker_index, 1));
  start = lrt__now();
  count(&counts()->started);
  lrt__emit(LRT_REC_WORK_START, (uint8_t) w->kind, lrt__label_id(w->label),
            start, w->task_id, 0);
  LRT_PROBE3(work__start, w->task_id, w->label,
             w->submit_ts != 0 ? start - w->submit_ts : 0);
  return start;
}

/* A worker finished `w`, begun at `start` (0: before tracing began):
 * counts it finished. */
static __attribute__((noinline)) void trace_work_end(lrt_work_t* w,
                                                     uint64_t start) {
  uint64_t end = lrt__now();
  count(&counts()->finished);
  lrt__emit(LRT_REC_WORK_END, (uint8_t) w->kind, lrt__label_id(w->label),
            end, w->task_id, 0);
  LRT_PROBE3(work__end, w->task_id, w->label, start != 0 ? end - start : 0);
}

/* `work` was queued; its submit_ts is when lrt__work_submit() began. */
static __attribute__((noinline)) void trace_work_submit(lrt_work_t* work) {
  lrt__phases_sync(work->loop, work->submit_ts);
  lrt__emit(LRT_REC_WORK_SUBMIT, (uint8_t) work->kind,
            lrt__label_id(work->label), work->submit_ts, work->task_id,
            lrt__now() - work->submit_ts);
  LRT_PROBE2(work__submit, work->task_id, work->label);
}

/* `w`'s completion callback is about to run. */
static __attribute__((noinline)) void trace_work_done(lrt_work_t* w,
                                                      int status) {
  LRT_PROBE3(work__done, w->task_id, w->label, status);
  lrt__trace_callback_begin(w->loop, (uint8_t) w->kind, w->label,
                            w->task_id);
}

static void work_cb(uv_work_t* req) {
  lrt_work_t* w = container_of(req, lrt_work_t, req);
  uint64_t start = 0;

  if (LRT_TRACING())
    start = trace_work_start(w);
  else
    count(&counts()->started);

  w->work(w);

  if (LRT_TRACING())
    trace_work_end(w, start);
  else
    count(&counts()->finished);
}

static void after_work_cb(uv_work_t* req, int status) {
  lrt_work_t* w = container_of(req, lrt_work_t, req);
  lrt_loop_t* loop = w->loop;

  loop->priv->work_in_flight--;
  if (status == UV_ECANCELED) {
    /* It never ran, but it left the queue. */
    struct pool_counts* c = counts();
    count(&c->started);
    count(&c->finished);
  }
  if (LRT_TRACING())
    trace_work_done(w, status);
  w->done(w, status); /* may free w */
  lrt__callback_end(loop);
}

int lrt__work_submit(lrt_loop_t* loop, lrt_work_t* work, lrt_work_fn fn,
                     lrt_work_done_cb done, const char* label, uint8_t kind) {
  uint64_t submit_ts = 0;
  int r;

  if (loop == NULL || loop->priv == NULL || work == NULL || fn == NULL ||
      done == NULL)
    return UV_EINVAL;
  if (LRT_TRACING())
    submit_ts = lrt__now();
  work->loop = loop;
  work->work = fn;
  work->done = done;
  work->label = label;
  work->kind = kind;
  work->submit_ts = submit_ts;
  /* Numbered before it is queued: the worker reads the id. The loop's
   * count of its tasks gives the number and, once queued, counts it
   * submitted (a task that failed to queue used its number nowhere). */
  work->task_id =
      ((uint64_t) loop->priv->id << TASK_ID_LOOP_SHIFT) |
      (atomic_load_explicit(&loop->priv->tasks_submitted,
                            memory_order_relaxed) +
       1);
  r = uv_queue_work(&loop->uv, &work->req, work_cb, after_work_cb);
  if (r != 0)
    return r;
  count(&loop->priv->tasks_submitted);
  loop->priv->work_in_flight++;
  /* The task may run already, but `work` is the loop thread's until its
   * completion callback. */
  if (LRT_TRACING() && work->submit_ts != 0)
    trace_work_submit(work);
  return 0;
}

int lrt_work_submit(lrt_loop_t* loop, lrt_work_t* work, lrt_work_fn fn,
                    lrt_work_done_cb done, const char* label) {
  return lrt__work_submit(loop, work, fn, done,
                          label != NULL ? label : "work", LRT_CB_WORK);
}

int lrt_work_cancel(lrt_work_t* work) {
  if (work == NULL || work->loop == NULL)
    return UV_EINVAL;
  return uv_cancel((uv_req_t*) &work->req);
}
