/* threadpool.c — work on libuv's threadpool, traced at four moments:
 * submitted (loop thread), started and finished (worker), and the
 * completion callback (loop thread). fs.c, dns.c and crypto.c submit
 * through lrt__work_submit() with their own completion kind.
 */
#include "internal.h"

/* Task ids are unique in the process and never reused, so that trace
 * flows never collide. */
static _Atomic uint64_t next_task_id = 1;

/* Workers are numbered in the order they first run a task. */
static _Atomic uint64_t next_worker_index = 1;

/* The pool counters change after the record's timestamp is taken, so
 * that a session's snapshot (trace.c) and the records agree on which
 * side of it each task's moves fall. */
static void work_cb(uv_work_t* req) {
  lrt_work_t* w = container_of(req, lrt_work_t, req);
  uint64_t start = 0;

  if (LRT_TRACING()) {
    if (lrt__thread_role() != LRT_THREAD_WORKER)
      lrt__thread_set_role(LRT_THREAD_WORKER,
                           atomic_fetch_add(&next_worker_index, 1));
    start = lrt__now();
  }
  atomic_fetch_add_explicit(&lrt__pool_started, 1, memory_order_relaxed);
  if (start != 0) {
    lrt__emit(LRT_REC_WORK_START, (uint8_t) w->kind, lrt__label_id(w->label),
              start, w->task_id, 0);
    LRT_PROBE3(work__start, w->task_id, w->label,
               w->submit_ts != 0 ? start - w->submit_ts : 0);
  }

  w->work(w);

  if (LRT_TRACING()) {
    uint64_t end = lrt__now();
    atomic_fetch_add_explicit(&lrt__pool_finished, 1, memory_order_relaxed);
    lrt__emit(LRT_REC_WORK_END, (uint8_t) w->kind, lrt__label_id(w->label),
              end, w->task_id, 0);
    LRT_PROBE3(work__end, w->task_id, w->label, start != 0 ? end - start : 0);
  } else {
    atomic_fetch_add_explicit(&lrt__pool_finished, 1, memory_order_relaxed);
  }
}

static void after_work_cb(uv_work_t* req, int status) {
  lrt_work_t* w = container_of(req, lrt_work_t, req);
  lrt_loop_t* loop = w->loop;

  loop->priv->work_in_flight--;
  if (status == UV_ECANCELED) {
    /* It never ran, but it left the queue. */
    atomic_fetch_add_explicit(&lrt__pool_started, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&lrt__pool_finished, 1, memory_order_relaxed);
  }
  if (LRT_TRACING())
    LRT_PROBE3(work__done, w->task_id, w->label, status);
  lrt__callback_begin(loop, (uint8_t) w->kind, w->label, w->task_id);
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
  work->task_id = atomic_fetch_add_explicit(&next_task_id, 1,
                                            memory_order_relaxed);
  atomic_fetch_add_explicit(&lrt__pool_submitted, 1, memory_order_relaxed);
  r = uv_queue_work(&loop->uv, &work->req, work_cb, after_work_cb);
  if (r != 0) {
    atomic_fetch_sub_explicit(&lrt__pool_submitted, 1, memory_order_relaxed);
    return r;
  }
  loop->priv->work_in_flight++;
  if (submit_ts != 0) {
    lrt__phases_sync(loop);
    lrt__emit(LRT_REC_WORK_SUBMIT, kind, lrt__label_id(label), submit_ts,
              work->task_id, lrt__now() - submit_ts);
    LRT_PROBE2(work__submit, work->task_id, label);
  }
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
