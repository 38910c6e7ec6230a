/* timers.c — timeouts and intervals.
 *
 * All of a loop's timers live in one binary min-heap ordered by (due,
 * seq), and one libuv timer fires for the earliest. Ordering by seq makes
 * timers due at the same time run in the order they were set. Due times
 * are in loop milliseconds (uv_now(), refreshed when a timer is set and
 * when timers run); like Node, a 0 ms timer is a 1 ms timer, so a timer
 * set from a timer callback always runs in a later tick.
 */
#include <stdlib.h>

#include "internal.h"

static void timer_cb(uv_timer_t* handle);

static int before(const lrt_timer_t* a, const lrt_timer_t* b) {
  return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_set(struct lrt__loop_private* p, size_t i, lrt_timer_t* t) {
  p->heap[i] = t;
  t->heap_index = i;
}

static void sift_up(struct lrt__loop_private* p, size_t i) {
  lrt_timer_t* t = p->heap[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!before(t, p->heap[parent]))
      break;
    heap_set(p, i, p->heap[parent]);
    i = parent;
  }
  heap_set(p, i, t);
}

static void sift_down(struct lrt__loop_private* p, size_t i) {
  lrt_timer_t* t = p->heap[i];
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= p->heap_len)
      break;
    if (child + 1 < p->heap_len && before(p->heap[child + 1], p->heap[child]))
      child++;
    if (!before(p->heap[child], t))
      break;
    heap_set(p, i, p->heap[child]);
    i = child;
  }
  heap_set(p, i, t);
}

static int heap_push(struct lrt__loop_private* p, lrt_timer_t* t) {
  if (p->heap_len == p->heap_cap) {
    size_t cap = p->heap_cap ? p->heap_cap * 2 : 64;
    lrt_timer_t** heap = realloc(p->heap, cap * sizeof(*heap));
    if (heap == NULL)
      return UV_ENOMEM;
    p->heap = heap;
    p->heap_cap = cap;
  }
  heap_set(p, p->heap_len++, t);
  sift_up(p, t->heap_index);
  return 0;
}

static void heap_remove(struct lrt__loop_private* p, lrt_timer_t* t) {
  size_t i = t->heap_index;
  lrt_timer_t* last = p->heap[--p->heap_len];
  if (last != t) {
    heap_set(p, i, last);
    if (i > 0 && before(last, p->heap[(i - 1) / 2]))
      sift_up(p, i);
    else
      sift_down(p, i);
  }
}

/* Points the libuv timer at the earliest of our timers. The loop's clock
 * is read first: libuv computes the poll timeout from the time cached when
 * the iteration began, so after a long callback a timer would otherwise
 * fire late by that callback's length. Anything already due runs in the
 * next tick (1 ms), never again in this timers phase. */
static void rearm(lrt_loop_t* loop) {
  struct lrt__loop_private* p = loop->priv;
  uint64_t now;
  uint64_t due;

  if (p->heap_len == 0) {
    uv_timer_stop(&p->timer);
    return;
  }
  uv_update_time(&loop->uv);
  now = uv_now(&loop->uv);
  due = p->heap[0]->due;
  uv_timer_start(&p->timer, timer_cb, due > now ? due - now : 1, 0);
}

static void timer_cb(uv_timer_t* handle) {
  struct lrt__loop_private* p =
      container_of(handle, struct lrt__loop_private, timer);
  lrt_loop_t* loop = container_of(handle->loop, lrt_loop_t, uv);
  uint64_t now;

  /* Run what is due by the clock now (other handles' timer callbacks may
   * have taken time). Timers set from these callbacks are due at now + 1
   * at the earliest, so this loop ends. */
  uv_update_time(&loop->uv);
  now = uv_now(&loop->uv);
  while (p->heap_len > 0 && p->heap[0]->due <= now) {
    lrt_timer_t* t = p->heap[0];

    heap_remove(p, t);
    if (t->period != 0) {
      /* Keep to the schedule: the next run is due a whole number of
       * periods after the first. Slots already past are dropped (this run
       * is the one late run). */
      t->due += t->period;
      if (t->due <= now)
        t->due += ((now - t->due) / t->period + 1) * t->period;
      t->seq = p->timer_seq++;
      heap_push(p, t); /* cannot fail: it was in the heap a moment ago */
    } else {
      t->active = 0;
    }
    /* t->cb may clear, reset or free t */
    LRT__RUN_CALLBACK(loop, t->period != 0 ? LRT_CB_INTERVAL : LRT_CB_TIMER,
                      t->label, t->cb(t));
  }
  rearm(loop);
}

static int timer_set(lrt_loop_t* loop, lrt_timer_t* timer, uint64_t ms,
                     uint64_t period, lrt_timer_cb cb, const char* label) {
  struct lrt__loop_private* p;
  int r;

  if (loop == NULL || loop->priv == NULL || timer == NULL || cb == NULL)
    return UV_EINVAL;
  p = loop->priv;
  if (timer->active && timer->loop == loop)
    lrt_timer_clear(timer);
  timer->loop = loop;
  timer->cb = cb;
  timer->label = label;
  timer->period = period;
  /* From now, not from when the tick began. */
  uv_update_time(&loop->uv);
  timer->due = uv_now(&loop->uv) + (ms > 0 ? ms : 1);
  timer->seq = p->timer_seq++;
  r = heap_push(p, timer);
  if (r != 0)
    return r;
  timer->active = 1;
  if (p->heap[0] == timer)
    rearm(loop);
  return 0;
}

int lrt_timeout(lrt_loop_t* loop, lrt_timer_t* timer, uint64_t ms,
                lrt_timer_cb cb, const char* label) {
  return timer_set(loop, timer, ms, 0, cb,
                   label != NULL ? label : "setTimeout");
}

int lrt_interval(lrt_loop_t* loop, lrt_timer_t* timer, uint64_t ms,
                 lrt_timer_cb cb, const char* label) {
  if (ms == 0)
    return UV_EINVAL;
  return timer_set(loop, timer, ms, ms, cb,
                   label != NULL ? label : "setInterval");
}

void lrt_timer_clear(lrt_timer_t* timer) {
  struct lrt__loop_private* p;
  if (timer == NULL || !timer->active)
    return;
  p = timer->loop->priv;
  heap_remove(p, timer);
  timer->active = 0;
  if (p->heap_len == 0)
    uv_timer_stop(&p->timer);
  /* Otherwise the libuv timer may fire early for a cleared timer; it then
   * finds nothing due and re-arms. */
}

int lrt_timer_active(const lrt_timer_t* timer) {
  return timer != NULL && timer->active;
}

int lrt__timers_init(lrt_loop_t* loop) {
  return uv_timer_init(&loop->uv, &loop->priv->timer);
}

void lrt__timers_close(lrt_loop_t* loop) {
  struct lrt__loop_private* p = loop->priv;
  while (p->heap_len > 0)
    lrt_timer_clear(p->heap[0]);
  free(p->heap);
  p->heap = NULL;
  p->heap_cap = 0;
}
