/* threadpool.c — work on libuv's threadpool, traced at four moments:
 * submitted (loop thread), started and finished (worker), and the
 * completion callback (loop thread). fs.c, dns.c and crypto.c submit
 * through lrt__work_submit() with their own completion kind.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "events.h"
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
  atomic_store_explicit(counter,
                        atomic_load_explicit(counter, memory_order_relaxed) + 1,
                        memory_order_relaxed);
}

void lrt__pool_loop_open(struct lrt__loop_private* p) {
  pthread_mutex_lock(&counts_lock);
  p->next_open = open_loops;
  open_loops = p;
  pthread_mutex_unlock(&counts_lock);
}

static void queue_free(struct lrt__loop_private* p);

void lrt__pool_loop_close(struct lrt__loop_private* p) {
  struct lrt__loop_private** pp;
  queue_free(p);
  pthread_mutex_lock(&counts_lock);
  for (pp = &open_loops; *pp != NULL; pp = &(*pp)->next_open)
    if (*pp == p) {
      *pp = p->next_open;
      closed_submitted +=
          atomic_load_explicit(&p->tasks_submitted, memory_order_relaxed);
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
 * registers for it, traced or not. Untraced, a task asks LRT_TRACING()
 * four times (submit, the worker's start and end, completion) and runs 12
 * instructions more than in a build without probes (callgrind, `workloads
 * pool 40000`; 22 with three more guards, 58 with the traced parts
 * inline). */

/* The pool counters move after a record's timestamp is taken, so that a
 * session's snapshot (trace.c) and the records agree on which side of it
 * each move falls. And a session is started, its snapshot taken, before
 * that timestamp: otherwise a session begun by another thread between the
 * two (the loop's, as it records the submit of the very task a worker
 * starts) counted the task where its record said it was not, and the
 * pool's counters stayed one off for the whole recording (4 runs in 240 of
 * tracer_record_threads at load 4-7). */

/* `w`'s label id, looked up once, as it was submitted, while traced (a
 * label lives as long as its task: looprt.h). */
static inline uint16_t work_label_id(const lrt_work_t* w) {
  return w->label_id != 0 ? w->label_id : lrt__label_id(w->label);
}

/* A worker begins `w`: counts it started; returns when (ns). */
static __attribute__((noinline)) uint64_t trace_work_start(lrt_work_t* w) {
  uint64_t start;
  lrt__session_get();
  if (lrt__thread_role() != LRT_THREAD_WORKER)
    lrt__thread_set_role(LRT_THREAD_WORKER,
                         atomic_fetch_add(&next_worker_index, 1));
  start = lrt__now();
  count(&counts()->started);
  lrt__ev_work_start((uint8_t) w->kind, w->label, work_label_id(w), w->task_id,
                     start, w->submit_ts != 0 ? start - w->submit_ts : 0);
  return start;
}

/* A worker finished `w`, begun at `start` (0: before tracing began):
 * counts it finished. */
static __attribute__((noinline)) void trace_work_end(lrt_work_t* w,
                                                     uint64_t start) {
  uint64_t end;
  lrt__session_get();
  end = lrt__now();
  count(&counts()->finished);
  lrt__ev_work_end((uint8_t) w->kind, w->label, work_label_id(w), w->task_id,
                   end, start != 0 ? end - start : 0);
}

/* `work` was queued; its submit_ts is when lrt__work_submit() began. */
static __attribute__((noinline)) void trace_work_submit(lrt_work_t* work) {
  lrt__phases_sync(work->loop, work->submit_ts);
  lrt__ev_work_submit((uint8_t) work->kind, work->label, work_label_id(work),
                      work->task_id, work->submit_ts,
                      lrt__now() - work->submit_ts);
}

/* `w`'s completion callback is about to run. */
static __attribute__((noinline)) void trace_work_done(lrt_work_t* w,
                                                      int status) {
  lrt__ev_work_done(w->label, w->task_id, status);
  lrt__trace_callback_begin(w->loop, (uint8_t) w->kind, w->label,
                            work_label_id(w), w->task_id);
}

/* `w` ended on the calling worker, begun at `start` (0: untraced). */
static inline void work_ended(lrt_work_t* w, uint64_t start) {
  if (LRT_TRACING())
    trace_work_end(w, start);
  else
    count(&counts()->finished);
}

/* Runs `w` on the calling worker, traced from its start. */
static __attribute__((noinline)) void work_run_traced(lrt_work_t* w) {
  uint64_t start = trace_work_start(w);
  w->work(w);
  work_ended(w, start);
}

/* Runs `w` on the calling worker. Untraced at its start, it still asks at
 * its end: a task that was running when tracing began ends in the trace
 * (a long task is what a user attaches to find). */
static void work_run(lrt_work_t* w) {
  if (LRT_TRACING()) {
    work_run_traced(w);
    return;
  }
  count(&counts()->started);
  w->work(w);
  work_ended(w, 0);
}

/* ------------------------------------------------------------------------
 * The hand-off.
 *
 * A loop queues its tasks itself, in submission order, and lends them to
 * libuv's pool through runners: a runner is one uv_queue_work() request
 * that, on a pool thread, takes the loop's queued tasks one after another
 * until none is left. A loop starts a runner only when fewer runners are
 * free to take a task than tasks wait, and never more runners than the
 * pool has threads. A burst of submissions thus costs libuv one request
 * and at most one wake-up of a sleeping worker. uv_queue_work() per task
 * cost a request and a condition signal each, and with loop and worker on
 * one CPU the worker emptied libuv's queue and slept again every few
 * tasks (make bench, 2026-11-29: 1.47-1.75 times raw libuv's CPU time on
 * a million tiny tasks; 0.6-0.8 now).
 *
 * Each task's completion is handed back as soon as it ends, through the
 * loop's own eventfd, and runs in the poll phase as libuv's completions
 * do; a runner's last task rides on the runner's return instead, which
 * wakes the loop anyway.
 */

enum work_state { WORK_IDLE = 0, WORK_QUEUED, WORK_RUNNING };

struct runner {
  uv_work_t req;
  struct lrt__work_queue* q;
  struct runner* next_free;
};

struct lrt__work_queue {
  pthread_mutex_t lock;
  lrt_work_t* head; /* oldest queued task */
  lrt_work_t* tail;
  uint64_t queued;           /* tasks in the queue */
  unsigned runners;          /* runners started that have not finished taking */
  unsigned busy;             /* of those, running a task now */
  unsigned max_runners;      /* the pool's threads */
  _Atomic(lrt_work_t*) done; /* ended tasks, newest first */
  int efd;                   /* an eventfd: `done` has tasks */
  uv_poll_t poll;            /* the loop's watch on efd */
  struct runner* free_runners; /* loop thread only */
};

/* Wakes the loop to take its ended tasks. Not uv_async_send(): its
 * receiver spins (997 times, then sched_yield(), over and over) while a
 * sender is between its two steps, which is long when the sender was
 * preempted there by the loop it woke, on the loop's CPU. */
static void wake_loop(struct lrt__work_queue* q) {
  uint64_t one = 1;
  ssize_t r;
  do
    r = write(q->efd, &one, sizeof(one));
  while (r < 0 && errno == EINTR);
}

/* Hands `w` back to its loop with `status`; wakes the loop if `wake`
 * (else the caller's runner returning does). */
static void work_finished(struct lrt__work_queue* q, lrt_work_t* w, int status,
                          int wake) {
  lrt_work_t* old = atomic_load_explicit(&q->done, memory_order_relaxed);
  w->status = status;
  do
    w->next = old;
  while (!atomic_compare_exchange_weak_explicit(
      &q->done, &old, w, memory_order_release, memory_order_relaxed));
  /* Whoever made the list non-empty wakes the loop. */
  if (old == NULL && wake)
    wake_loop(q);
}

/* Takes the oldest queued task off the queue. Called with q->lock held. */
static lrt_work_t* queue_take(struct lrt__work_queue* q) {
  lrt_work_t* w = q->head;
  if (w == NULL)
    return NULL;
  q->head = w->next;
  if (q->head != NULL)
    q->head->prev = NULL;
  else
    q->tail = NULL;
  q->queued--;
  return w;
}

/* Takes `w`, queued, off the queue. Called with q->lock held. */
static void queue_unlink(struct lrt__work_queue* q, lrt_work_t* w) {
  if (w->prev != NULL)
    w->prev->next = w->next;
  else
    q->head = w->next;
  if (w->next != NULL)
    w->next->prev = w->prev;
  else
    q->tail = w->prev;
  w->state = WORK_IDLE;
  q->queued--;
}

static void runner_work(uv_work_t* req) {
  struct runner* rn = container_of(req, struct runner, req);
  struct lrt__work_queue* q = rn->q;
  lrt_work_t* w;
  lrt_work_t* ended = NULL;

  pthread_mutex_lock(&q->lock);
  for (;;) {
    w = queue_take(q);
    if (ended != NULL) {
      /* With none left, the runner's return carries the completion. */
      work_finished(q, ended, 0, w != NULL);
      ended = NULL;
    }
    if (w == NULL)
      break;
    w->state = WORK_RUNNING;
    q->busy++;
    pthread_mutex_unlock(&q->lock);
    work_run(w);
    ended = w;
    pthread_mutex_lock(&q->lock);
    q->busy--;
  }
  q->runners--;
  pthread_mutex_unlock(&q->lock);
}

static void done_take(struct lrt__work_queue* q);

/* The runner's request is back on the loop thread: keep it for the next. */
static void runner_after(uv_work_t* req, int status) {
  struct runner* rn = container_of(req, struct runner, req);
  rn->next_free = rn->q->free_runners;
  rn->q->free_runners = rn;
  done_take(rn->q);
}

/* Queues a runner on libuv's pool. Loop thread. */
static int runner_start(lrt_loop_t* loop, struct lrt__work_queue* q) {
  struct runner* rn = q->free_runners;
  if (rn != NULL) {
    q->free_runners = rn->next_free;
  } else {
    rn = malloc(sizeof(*rn));
    if (rn == NULL)
      return UV_ENOMEM;
    rn->q = q;
  }
  return uv_queue_work(&loop->uv, &rn->req, runner_work, runner_after);
}

/* `w`'s completion: the loop's part of the task. */
static void work_done(lrt_loop_t* loop, lrt_work_t* w) {
  int status = w->status;
  w->state = WORK_IDLE;
  if (--loop->priv->work_in_flight == 0)
    uv_unref((uv_handle_t*) &loop->priv->work_queue->poll);
  if (status == UV_ECANCELED) {
    /* It never ran, but it left the queue. */
    struct pool_counts* c = counts();
    count(&c->started);
    count(&c->finished);
  }
  /* As LRT__RUN_CALLBACK, with the task's own begin; w->done may free w */
  if (LRT_TRACING()) {
    trace_work_done(w, status);
    w->done(w, status);
    lrt__callback_end(loop);
  } else {
    w->done(w, status);
  }
}

/* Runs the completions of ended tasks, oldest first. Loop thread. */
static void done_take(struct lrt__work_queue* q) {
  lrt_work_t* list =
      atomic_exchange_explicit(&q->done, NULL, memory_order_acquire);
  lrt_work_t* oldest = NULL;
  lrt_work_t* next;

  while (list != NULL) { /* newest first: reverse it */
    next = list->next;
    list->next = oldest;
    oldest = list;
    list = next;
  }
  for (; oldest != NULL; oldest = next) {
    next = oldest->next;
    work_done(oldest->loop, oldest);
  }
}

static void done_cb(uv_poll_t* poll, int status, int events) {
  struct lrt__work_queue* q = container_of(poll, struct lrt__work_queue, poll);
  uint64_t n;
  /* Read first: a wake that comes after is for tasks not taken below. */
  if (read(q->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
    return;
  done_take(q);
}

/* The loop's queue, made on its first task. */
static struct lrt__work_queue* work_queue(lrt_loop_t* loop) {
  struct lrt__work_queue* q = loop->priv->work_queue;
  if (q != NULL)
    return q;
  q = calloc(1, sizeof(*q));
  if (q == NULL)
    return NULL;
  q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (q->efd < 0) {
    free(q);
    return NULL;
  }
  if (uv_poll_init(&loop->uv, &q->poll, q->efd) != 0 ||
      uv_poll_start(&q->poll, UV_READABLE, done_cb) != 0) {
    close(q->efd);
    free(q);
    return NULL;
  }
  uv_unref((uv_handle_t*) &q->poll);
  pthread_mutex_init(&q->lock, NULL);
  q->max_runners = (unsigned) lrt_threadpool_size();
  return loop->priv->work_queue = q;
}

static void queue_free(struct lrt__loop_private* p) {
  struct lrt__work_queue* q = p->work_queue;
  struct runner* rn;
  if (q == NULL)
    return;
  while ((rn = q->free_runners) != NULL) {
    q->free_runners = rn->next_free;
    free(rn);
  }
  close(q->efd);
  pthread_mutex_destroy(&q->lock);
  free(q);
  p->work_queue = NULL;
}

/* Queues `work`; starts a runner if no free one will take it. Returns 0 or
 * UV_ENOMEM. Loop thread. Inline in both of submit()'s copies. */
static inline __attribute__((always_inline)) int queue_put(
    lrt_loop_t* loop, struct lrt__work_queue* q, lrt_work_t* work) {
  int start;
  int r;

  pthread_mutex_lock(&q->lock);
  work->state = WORK_QUEUED;
  work->next = NULL;
  work->prev = q->tail;
  if (q->tail != NULL)
    q->tail->next = work;
  else
    q->head = work;
  q->tail = work;
  q->queued++;
  start = q->runners < q->max_runners && q->runners - q->busy < q->queued;
  if (start)
    q->runners++;
  pthread_mutex_unlock(&q->lock);
  if (!start)
    return 0;
  r = runner_start(loop, q);
  if (r == 0)
    return 0;
  /* No runner: take the task back unless a running one will take it. */
  pthread_mutex_lock(&q->lock);
  q->runners--;
  if (q->runners == 0 && work->state == WORK_QUEUED)
    queue_unlink(q, work);
  else
    r = 0;
  pthread_mutex_unlock(&q->lock);
  return r;
}

/* Numbers `work`, whose fields are set, and queues it on `q`. Inline: one
 * copy each for the traced and the untraced submit, so that the untraced
 * one asks LRT_TRACING() once. */
static inline __attribute__((always_inline)) int submit(
    struct lrt__work_queue* q, lrt_work_t* work) {
  lrt_loop_t* loop = work->loop;
  int r;
  /* Numbered before it is queued: the worker reads the id. The loop's
   * count of its tasks gives the number and, once queued, counts it
   * submitted (a task that failed to queue used its number nowhere). */
  work->task_id = ((uint64_t) loop->priv->id << TASK_ID_LOOP_SHIFT) |
                  (atomic_load_explicit(&loop->priv->tasks_submitted,
                                        memory_order_relaxed) +
                   1);
  r = queue_put(loop, q, work);
  if (r != 0)
    return r;
  count(&loop->priv->tasks_submitted);
  if (loop->priv->work_in_flight++ == 0)
    uv_ref((uv_handle_t*) &q->poll);
  return 0;
}

/* submit(), traced. The task may run already when it returns, but `work`
 * is the loop thread's until its completion callback. */
static __attribute__((noinline)) int submit_traced(struct lrt__work_queue* q,
                                                   lrt_work_t* work) {
  int r;
  lrt__session_get();
  /* Set before the task is queued: the worker reads them. */
  work->submit_ts = lrt__now();
  work->label_id = lrt__label_id(work->label);
  r = submit(q, work);
  if (r == 0 && LRT_TRACING()) /* tracing may have stopped meanwhile */
    trace_work_submit(work);
  return r;
}

int lrt__work_submit(lrt_loop_t* loop, lrt_work_t* work, lrt_work_fn fn,
                     lrt_work_done_cb done, const char* label, uint8_t kind) {
  struct lrt__work_queue* q;

  if (loop == NULL || loop->priv == NULL || work == NULL || fn == NULL ||
      done == NULL)
    return UV_EINVAL;
  q = work_queue(loop);
  if (q == NULL)
    return UV_ENOMEM;
  work->loop = loop;
  work->work = fn;
  work->done = done;
  work->label = label;
  work->kind = kind;
  if (LRT_TRACING())
    return submit_traced(q, work);
  work->submit_ts = 0;
  work->label_id = 0;
  return submit(q, work);
}

int lrt_work_submit(lrt_loop_t* loop, lrt_work_t* work, lrt_work_fn fn,
                    lrt_work_done_cb done, const char* label) {
  return lrt__work_submit(loop, work, fn, done, label != NULL ? label : "work",
                          LRT_CB_WORK);
}

int lrt_work_cancel(lrt_work_t* work) {
  struct lrt__work_queue* q;
  int r = UV_EBUSY;

  if (work == NULL || work->loop == NULL || work->loop->priv == NULL)
    return UV_EINVAL;
  q = work->loop->priv->work_queue;
  if (q == NULL)
    return UV_EINVAL;
  pthread_mutex_lock(&q->lock);
  if (work->state == WORK_QUEUED) {
    queue_unlink(q, work);
    r = 0;
  }
  pthread_mutex_unlock(&q->lock);
  if (r == 0)
    work_finished(q, work, UV_ECANCELED, 1);
  return r;
}
