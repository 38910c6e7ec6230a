/* phases.c — where each tick and each phase of it begins and ends.
 *
 * libuv runs an iteration of its loop as (1.44, src/unix/core.c):
 *
 *   timers, pending, idle, prepare, poll, [pending again, up to 8 times,
 *   if poll's callbacks queued any], check, close
 *
 * and offers no hook between phases. So while a tracer listens, looprt
 * puts sentinels of its own where libuv will run them first or last in a
 * phase, and timestamps the phase boundaries from their callbacks. Only
 * positions that libuv never takes from us are used:
 *
 * - pending queue: libuv only ever appends to it, so its head is stable.
 *   `pending_begin` sits at the head; when it runs, the next entry is our
 *   `pending_end`, whose neighbour is the head of the list libuv is
 *   running, so `pending_end` moves itself to that list's tail: it then
 *   runs last in the phase.
 * - idle, prepare and check handles: uv_*_start() inserts at the head and
 *   a run moves each handle to the tail in order, so a tail stays the
 *   tail: `idle_end`, `prepare_end`, `check_end` mark phase ends.
 *   (`idle_end`, `prepare_end` and `check_begin` are queued for a tick's
 *   run only, without uv_*_start()'s bookkeeping.)
 * - closing handles: uv_close() pushes at the head; `close_end` is put at
 *   the tail when the check phase ends (nothing runs between check and
 *   close), so it runs last.
 *
 * A phase then begins where the previous one ended. Every sentinel run
 * costs the loop a callback and a timestamp, so where a phase would run
 * nothing but looprt's own (no pending entry but ours, no idle handle but
 * the immediates', whose callback does nothing, no prepare handle), the
 * sentinel before it marks its begin and end as well, with one timestamp:
 * it lasts 0 ns, and what libuv does there counts in the next phase.
 * A tick of immediates runs three sentinels, not seven.
 *
 * Two boundaries need
 * the head of a queue that libuv's users can also take:
 * - check begins at `check_begin`, moved to the head of the check handles
 *   as poll begins; a plain libuv check handle started later (by a poll
 *   callback) runs before it. When the check handles are looprt's own
 *   only, check begins where the first callback we dispatch in it does
 *   (catch_up), or at `check_end`.
 * - the pending run after poll is bracketed by `after_poll`, put at the
 *   head of the pending queue by the first callback we dispatch in poll;
 *   pending callbacks queued by plain libuv I/O callbacks when none of
 *   ours ran in poll run without it.
 * So each callback we see begin between poll and check also asks libuv
 * where it is (catch_up): uv__io_poll parks its event array past the last
 * watcher while it dispatches, and uv__run_check moves the check handles,
 * `check_end` the last of them, to a list of its own. A callback outside
 * poll's dispatch runs in the pending run after it; one after the check
 * handles moved runs in check. Either boundary is then marked where that
 * callback begins: what ran unseen before it counts in the phase before.
 *
 * A tracer that attaches mid-tick sees the tick from its first record
 * on: the tick, and the phase when the callback's kind or libuv's state
 * tells it, begin there marked LRT_BEGUN_EARLIER.
 *
 * The time poll spent blocked in the kernel comes from libuv's
 * UV_METRICS_IDLE_TIME (turned on for the loop by the first session):
 * exact in length; it ends where the first callback we dispatched in poll
 * began, or where poll ended. Our own timestamps cannot give it: the poll
 * phase also holds libuv's epoll_ctl calls, its timeout's computation and
 * the I/O callbacks before ours. uv_metrics_idle_time() takes a mutex
 * (about 90 instructions), and only poll adds to the idle time, so the
 * reading taken as a poll's wait is sent serves as the next poll's start.
 *
 * The sentinels exist only while traced: with no tracer attached the loop
 * runs exactly as plain libuv (they are never queued). Loop thread only.
 */
#include <string.h>

#include "events.h"
#include "internal.h"
#include "uvqueue.h"

static void pending_begin_cb(uv_loop_t* uv, uv__io_t* w, unsigned events);
static void pending_end_cb(uv_loop_t* uv, uv__io_t* w, unsigned events);
static void after_poll_cb(uv_loop_t* uv, uv__io_t* w, unsigned events);
static void idle_end_cb(uv_idle_t* handle);
static void prepare_end_cb(uv_prepare_t* handle);
static void pending_over(lrt_loop_t* loop, uint64_t ts);
static void check_begin_cb(uv_check_t* handle);
static void check_end_cb(uv_check_t* handle);
static void close_end_cb(uv_handle_t* handle);
static void flush_timer_cb(uv_timer_t* handle);

/* How soon buffered records leave when a single-threaded loop sleeps. */
#define FLUSH_TIMER_MS 20

static lrt_loop_t* loop_of_uv(uv_loop_t* uv) {
  return container_of(uv, lrt_loop_t, uv);
}

static struct lrt__phases* phases_of(lrt_loop_t* loop) {
  return &loop->priv->phases;
}

/* ------------------------------------------------------------------------
 * Events.
 */

/* A tick begins at `ts`; `flags` 0 or LRT_BEGUN_EARLIER. */
static void tick_begin(lrt_loop_t* loop, uint64_t ts, uint64_t flags) {
  struct lrt__phases* p = phases_of(loop);
  p->in_tick = 1;
  p->tick++;
  p->tick_ts = ts;
  p->phase = 0;
  p->past_poll = 0;
  lrt__ev_tick_begin(loop->priv->id, p->tick, ts, flags);
}

static void phase_end(lrt_loop_t* loop, uint64_t ts) {
  struct lrt__phases* p = phases_of(loop);
  if (p->phase != 0)
    lrt__ev_phase_end(loop->priv->id, p->tick, p->phase, ts - p->phase_ts);
  p->phase = 0;
}

/* `phase` begins at `ts`; the phase before it (if any) ends there.
 * `flags`: 0 or LRT_BEGUN_EARLIER. */
static void phase_begin_as(lrt_loop_t* loop, uint8_t phase, uint64_t ts,
                           uint64_t flags) {
  struct lrt__phases* p = phases_of(loop);
  if (!p->in_tick)
    return;
  phase_end(loop, ts);
  p->phase = phase;
  p->phase_ts = ts;
  if (phase == LRT_PHASE_POLL)
    p->past_poll = 1;
  lrt__ev_phase_begin(loop->priv->id, p->tick, phase, ts, flags);
}

static void phase_begin(lrt_loop_t* loop, uint8_t phase, uint64_t ts) {
  phase_begin_as(loop, phase, ts, 0);
}

static void tick_end(lrt_loop_t* loop, uint64_t ts) {
  struct lrt__phases* p = phases_of(loop);
  if (!p->in_tick)
    return;
  phase_end(loop, ts);
  p->in_tick = 0;
  lrt__ev_tick_end(loop->priv->id, p->tick, ts, ts - p->tick_ts);
}

/* Sends the poll's wait, once per poll; `poll_end` is when poll's I/O
 * callbacks ended (or the first later boundary we saw). */
static void send_wait(lrt_loop_t* loop, uint64_t poll_end) {
  struct lrt__phases* p = phases_of(loop);
  uint64_t blocked;
  uint64_t end;
  uint64_t begin;

  if (p->wait_sent || p->phase != LRT_PHASE_POLL)
    return;
  p->wait_sent = 1;
  if (!p->may_block)
    return;
  /* Only called after uv__io_poll() returned, or (a signal's callback)
   * as it returns: its next addition to the idle time is in the next
   * poll, after prepare_end_cb. */
  p->idle_time_after = uv_metrics_idle_time(&loop->uv);
  p->idle_time_after_known = 1;
  blocked = p->idle_time_after - p->idle_time_at_poll;
  if (blocked == 0)
    return;
  end = p->first_io_ts != 0 ? p->first_io_ts : poll_end;
  if (blocked > end - p->phase_ts)
    blocked = end - p->phase_ts;
  begin = end - blocked;
  lrt__ev_wait(loop->priv->id, p->tick, begin, blocked);
}

/* ------------------------------------------------------------------------
 * Placing sentinels.
 */

static void pending_init(struct lrt__pending* s, uv__io_cb cb) {
  memset(s, 0, sizeof(*s));
  s->io.cb = cb;
  s->io.fd = -1;
  uvq_init(s->io.pending_queue);
  uvq_init(s->io.watcher_queue);
}

static void pending_push_head(lrt_loop_t* loop, struct lrt__pending* s) {
  if (s->queued)
    return;
  s->queued = 1;
  uvq_insert_head(loop->uv.pending_queue, s->io.pending_queue);
}

static void pending_unqueue(struct lrt__pending* s) {
  if (!s->queued)
    return;
  s->queued = 0;
  uvq_remove(s->io.pending_queue);
}

/* The idle, prepare and check sentinels are queued and unqueued without
 * uv_*_start/stop's bookkeeping (uv__run_idle, uv__run_prepare and
 * uv__run_check run what is queued, active or not), and each leaves its
 * queue as it runs: `q` is the handle's queue node, `*queued` says
 * whether it is in `list`. */
static void sentinel_queue(void** list, void** q, int* queued, int at_head) {
  if (*queued)
    uvq_remove(q);
  *queued = 1;
  if (at_head)
    uvq_insert_head(list, q);
  else
    uvq_insert_tail(list, q);
}

static void sentinel_unqueue(void** q, int* queued) {
  if (!*queued)
    return;
  *queued = 0;
  uvq_remove(q);
}

/* Whether `list` holds nothing but `q` (queued or not). */
static int holds_only(void** list, void** q) {
  void** first = uvq_next(list);
  return first == list || (first == q && uvq_next(q) == list);
}

/* Whether the check handles hold only looprt's own: the sentinels and
 * the immediates' handle. */
static int check_holds_only_ours(lrt_loop_t* loop) {
  struct lrt__phases* p = phases_of(loop);
  void** list = loop->uv.check_handles;
  void** q;
  for (q = uvq_next(list); q != list; q = uvq_next(q))
    if (q != p->check_begin.queue && q != p->check_end.queue &&
        q != loop->priv->immediate_check.queue)
      return 0;
  return 1;
}

/* Next tick's pending phase: pending_begin first, pending_end behind it. */
static void place_pending(lrt_loop_t* loop) {
  struct lrt__phases* p = phases_of(loop);
  if (p->pending_begin.queued || p->pending_end.queued)
    return;
  pending_push_head(loop, &p->pending_end);
  pending_push_head(loop, &p->pending_begin);
}

/* Whether libuv is dispatching poll's I/O callbacks: uv__io_poll parks
 * its event array in the slot past the last watcher meanwhile (unix
 * linux-core.c, epoll.c, linux.c; uv__platform_invalidate_fd reads it). */
static int in_poll_dispatch(uv_loop_t* uv) {
  return uv->watchers != NULL && uv->watchers[uv->nwatchers] != NULL;
}

/* Whether uv__run_check has begun: it moves the check handles, whose tail
 * check_end is from poll's start on, to a list of its own. */
static int check_run_started(struct lrt__phases* p, uv_loop_t* uv) {
  return uvq_next(p->check_end.queue) != (void**) uv->check_handles;
}

/* The phase a callback of `kind` runs in when only libuv runs it; 0 when
 * more than one is possible. */
static uint8_t phase_of_kind(lrt_loop_t* loop, uint8_t kind) {
  if (in_poll_dispatch(&loop->uv))
    return LRT_PHASE_POLL;
  switch (kind) {
  case LRT_CB_TIMER:
  case LRT_CB_INTERVAL:
    return LRT_PHASE_TIMERS;
  case LRT_CB_IMMEDIATE:
    return LRT_PHASE_CHECK;
  case LRT_CB_CLOSE:
    return LRT_PHASE_CLOSE;
  default:
    return 0;
  }
}

/* The session's first record on this loop comes at `ts`, inside lrt_run:
 * the tick in progress, and its phase when a callback of `kind` tells it,
 * begin there, marked as begun before the session. */
static void begin_mid_tick(lrt_loop_t* loop, uint8_t kind, uint64_t ts) {
  uint8_t phase = phase_of_kind(loop, kind);
  if (phase == 0)
    return; /* XXX: which tick part runs is unknown (looprt.h). */
  tick_begin(loop, ts, LRT_BEGUN_EARLIER);
  phase_begin_as(loop, phase, ts, LRT_BEGUN_EARLIER);
  /* After poll's pending run, the next pending run is the next tick's. */
  if (phase != LRT_PHASE_POLL)
    place_pending(loop);
}

static void arm(lrt_loop_t* loop, uint8_t kind, uint64_t ts) {
  struct lrt__phases* p = phases_of(loop);
  uv_loop_t* uv = &loop->uv;

  if (!p->metrics_on) {
    /* libuv has no way back: the flag stays on after the session. */
    uv_loop_configure(uv, UV_METRICS_IDLE_TIME);
    p->metrics_on = 1;
  }
  p->in_tick = 0;
  p->phase = 0;
  /* A poll under way began unseen: its wait is not known. */
  p->may_block = 0;
  p->idle_time_after_known = 0;
  lrt__spans_reset(loop);
  sentinel_queue(uv->prepare_handles, p->prepare_end.queue,
                 &p->prepare_end_queued, 0);
  sentinel_queue(uv->check_handles, p->check_begin.queue,
                 &p->check_begin_queued, 1);
  uv_check_start(&p->check_end, check_end_cb);
  uvq_move_to_tail(uv->check_handles, p->check_end.queue);
  if (loop->priv->running)
    begin_mid_tick(loop, kind, ts);
}

static void disarm(lrt_loop_t* loop) {
  struct lrt__phases* p = phases_of(loop);
  /* A loop that flushes for its program also ends the session. */
  lrt__loop_flush(1, lrt__now());
  sentinel_unqueue(p->prepare_end.queue, &p->prepare_end_queued);
  sentinel_unqueue(p->check_begin.queue, &p->check_begin_queued);
  uv_check_stop(&p->check_end);
  sentinel_unqueue(p->idle_end.queue, &p->idle_end_queued);
  uv_timer_stop(&p->flush_timer);
  /* Queued pending sentinels and close_end run once more and do nothing;
   * unqueuing them here could pull them out of a run in progress. */
  p->in_tick = 0;
  p->phase = 0;
}

static void send_loop_start(lrt_loop_t* loop, uint64_t ts) {
  lrt__thread_set_role(LRT_THREAD_LOOP, loop->priv->id);
  lrt__ev_loop_start(loop->priv->id, ts, uv_version(), lrt_threadpool_size());
}

/* sync_for() when the loop's sentinels may not serve the current
 * session. */
static __attribute__((noinline)) void resync(lrt_loop_t* loop, uint8_t kind,
                                             uint64_t ts) {
  struct lrt__phases* p = phases_of(loop);
  uint32_t s = LRT_TRACING() ? lrt__session_get() : 0;
  int first;

  if (s == p->session)
    return;
  if (s == 0) {
    disarm(loop);
    p->session = 0;
    return;
  }
  /* A first session arms the sentinels; a later one (another tracer
   * attached) only needs the loop to introduce itself again. */
  first = p->session == 0;
  p->session = s;
  send_loop_start(loop, ts);
  if (first)
    arm(loop, kind, ts);
}

/* lrt__phases_sync() for a record about a callback of `kind` (0: none).
 * Inline: it runs at every phase boundary and callback, and nearly always
 * finds the session it served last time. */
static inline void sync_for(lrt_loop_t* loop, uint8_t kind, uint64_t ts) {
  uint32_t s = phases_of(loop)->session;
  if (__builtin_expect(
          s != 0 && LRT_TRACING() &&
              s == atomic_load_explicit(&lrt__session, memory_order_acquire),
          1))
    return;
  resync(loop, kind, ts);
}

void lrt__phases_sync(lrt_loop_t* loop, uint64_t ts) {
  sync_for(loop, 0, ts);
}

/* Whether the sentinels still serve a listening tracer (as of `ts`, the
 * time of the records they are about to send). When not, they stop
 * themselves and the loop is plain libuv again. */
static inline int still_traced(lrt_loop_t* loop, uint64_t ts) {
  sync_for(loop, 0, ts);
  return phases_of(loop)->session != 0;
}

/* ------------------------------------------------------------------------
 * Sentinel callbacks, in the order libuv runs them (1.44).
 */

/* The last closing handle: the close phase (and, for libuv < 1.45, the
 * tick) ends. */
static void close_end_cb(uv_handle_t* handle) {
  struct lrt__phases* p = container_of(handle, struct lrt__phases, close_end);
  lrt_loop_t* loop = loop_of_uv(handle->loop);
  uv_loop_t* uv = handle->loop;
  uint64_t ts;

  p->close_end_queued = 0;
  ts = lrt__now();
  if (!still_traced(loop, ts))
    return;
  if (p->timers_last) {
    phase_begin(loop, LRT_PHASE_TIMERS, ts);
  } else {
    tick_end(loop, ts);
    /* libuv checks exactly this right after the close phase. */
    if (!uv_loop_alive(uv) || uv->stop_flag != 0)
      return;
    tick_begin(loop, ts, 0);
    phase_begin(loop, LRT_PHASE_TIMERS, ts);
  }
  place_pending(loop);
}

/* First in the pending phase: timers (or the previous tick) ended. */
static void pending_begin_cb(uv_loop_t* uv, uv__io_t* w, unsigned events) {
  struct lrt__phases* p = container_of(w, struct lrt__phases, pending_begin.io);
  lrt_loop_t* loop = loop_of_uv(uv);
  uint64_t ts;

  p->pending_begin.queued = 0;
  ts = lrt__now();
  if (!still_traced(loop, ts))
    return;
  if (p->timers_last || (p->in_tick && p->phase != LRT_PHASE_TIMERS)) {
    /* Before 1.45, only a tick begun mid-way (begin_mid_tick) has not
     * seen close_end: the next began unseen, after its close phase. */
    tick_end(loop, ts);
    tick_begin(loop, ts, p->timers_last ? 0 : LRT_BEGUN_EARLIER);
  }
  phase_begin(loop, LRT_PHASE_PENDING, ts);
  /* pending_end is now first in the list libuv is running; its neighbour
   * is that list's head. Move it to the tail so it runs last; or, when
   * nothing else is to run, pending is over as it begins. */
  if (p->pending_end.queued) {
    void** q = p->pending_end.io.pending_queue;
    void** head = uvq_prev(q);
    if (uvq_next(q) == head) {
      pending_unqueue(&p->pending_end);
      pending_over(loop, ts);
    } else {
      uvq_move_to_tail(head, q);
    }
  }
}

/* Poll begins at `ts`: the last moment before it that looprt sees. */
static void poll_begin(lrt_loop_t* loop, uint64_t ts) {
  struct lrt__phases* p = phases_of(loop);
  uv_loop_t* uv = &loop->uv;

  /* A single-threaded program's loop hands its records over itself
   * (trace.c): now if it is time, and, should poll sleep with records
   * still buffered, from a timer soon after. */
  if (lrt__loop_flush(0, ts) && p->callbacks_since_poll != 0 &&
      !uv_is_active((uv_handle_t*) &p->flush_timer))
    uv_timer_start(&p->flush_timer, flush_timer_cb, FLUSH_TIMER_MS, 0);
  /* Only the program's own activity arms the timer: the tick it wakes
   * buffers records too, and must not arm it again. */
  p->callbacks_since_poll = 0;
  phase_begin(loop, LRT_PHASE_POLL, ts);
  /* The idle time is read at every poll: uv_backend_timeout() read here
   * is not the timeout uv_run() polls with (on the first tick of the
   * threads example it read 0 here and poll then slept 60-120 ms, which
   * the trace showed as busy). */
  p->may_block = 1;
  p->idle_time_at_poll =
      p->idle_time_after_known ? p->idle_time_after : uv_metrics_idle_time(uv);
  p->idle_time_after_known = 0;
  p->first_io_ts = 0;
  p->wait_sent = 0;
  /* check_begin must run first in check: put it at the head now, the last
   * moment before poll. Not when only looprt's own check handles are
   * there: then check begins where the first callback of ours in it
   * does, or at check_end. */
  if (check_holds_only_ours(loop))
    sentinel_unqueue(p->check_begin.queue, &p->check_begin_queued);
  else
    sentinel_queue(uv->check_handles, p->check_begin.queue,
                   &p->check_begin_queued, 1);
  uvq_move_to_tail(uv->check_handles, p->check_end.queue);
}

/* Idle ended at `ts`: prepare begins; and poll, when no prepare handle
 * but prepare_end is queued (nothing runs between them). */
static void idle_over(lrt_loop_t* loop, uint64_t ts) {
  struct lrt__phases* p = phases_of(loop);
  uv_loop_t* uv = &loop->uv;

  phase_begin(loop, LRT_PHASE_PREPARE, ts);
  if (holds_only(uv->prepare_handles, p->prepare_end.queue)) {
    sentinel_unqueue(p->prepare_end.queue, &p->prepare_end_queued);
    poll_begin(loop, ts);
  } else if (!p->prepare_end_queued) {
    /* At the tail, where uv_prepare_start() never puts a handle. */
    sentinel_queue(uv->prepare_handles, p->prepare_end.queue,
                   &p->prepare_end_queued, 0);
  }
}

/* Pending ended at `ts`: idle begins; and prepare, when no idle handle
 * but looprt's own (the immediates', whose callback does nothing) is
 * queued. */
static void pending_over(lrt_loop_t* loop, uint64_t ts) {
  struct lrt__phases* p = phases_of(loop);
  uv_loop_t* uv = &loop->uv;

  phase_begin(loop, LRT_PHASE_IDLE, ts);
  if (holds_only(uv->idle_handles, loop->priv->immediate_idle.queue)) {
    idle_over(loop, ts);
    return;
  }
  /* Only now: an idle handle in the queue keeps poll from blocking, and
   * idle_end leaves the queue as soon as it has run. */
  sentinel_queue(uv->idle_handles, p->idle_end.queue, &p->idle_end_queued, 0);
}

/* Last in the pending phase: idle begins. */
static void pending_end_cb(uv_loop_t* uv, uv__io_t* w, unsigned events) {
  struct lrt__phases* p = container_of(w, struct lrt__phases, pending_end.io);
  lrt_loop_t* loop = loop_of_uv(uv);
  uint64_t ts;

  p->pending_end.queued = 0;
  ts = lrt__now();
  if (!still_traced(loop, ts))
    return;
  pending_over(loop, ts);
}

/* Last idle handle: prepare begins. */
static void idle_end_cb(uv_idle_t* handle) {
  struct lrt__phases* p = container_of(handle, struct lrt__phases, idle_end);
  lrt_loop_t* loop = loop_of_uv(handle->loop);
  uint64_t ts = lrt__now();
  sentinel_unqueue(p->idle_end.queue, &p->idle_end_queued);
  if (!still_traced(loop, ts))
    return;
  idle_over(loop, ts);
}

/* Last prepare handle: poll begins. */
static void prepare_end_cb(uv_prepare_t* handle) {
  struct lrt__phases* p = container_of(handle, struct lrt__phases, prepare_end);
  lrt_loop_t* loop = loop_of_uv(handle->loop);
  uint64_t ts = lrt__now();
  sentinel_unqueue(p->prepare_end.queue, &p->prepare_end_queued);
  if (!still_traced(loop, ts))
    return;
  poll_begin(loop, ts);
}

/* First in the pending run after poll: poll ended. */
static void after_poll_cb(uv_loop_t* uv, uv__io_t* w, unsigned events) {
  struct lrt__phases* p = container_of(w, struct lrt__phases, after_poll.io);
  lrt_loop_t* loop = loop_of_uv(uv);
  uint64_t ts;

  p->after_poll.queued = 0;
  ts = lrt__now();
  if (!still_traced(loop, ts))
    return;
  /* Not if catch_up() saw the run begin, nor for an after_poll left
   * queued by libuv's limit of 8 runs (then it runs in the next tick). */
  if (p->phase != LRT_PHASE_POLL)
    return;
  send_wait(loop, ts);
  phase_begin(loop, LRT_PHASE_PENDING, ts);
}

/* First check handle: poll (or the pending run after it) ended. */
static void check_begin_cb(uv_check_t* handle) {
  lrt_loop_t* loop = loop_of_uv(handle->loop);
  struct lrt__phases* p = phases_of(loop);
  uint64_t ts;

  sentinel_unqueue(p->check_begin.queue, &p->check_begin_queued);
  ts = lrt__now();
  if (!still_traced(loop, ts))
    return;
  if (p->phase == LRT_PHASE_CHECK)
    return; /* catch_up() saw it begin */
  send_wait(loop, ts);
  phase_begin(loop, LRT_PHASE_CHECK, ts);
}

/* Last check handle: close begins. close_end goes to the tail of the
 * closing handles, where nothing can get behind it before the close phase
 * runs them. */
static void check_end_cb(uv_check_t* handle) {
  struct lrt__phases* p = container_of(handle, struct lrt__phases, check_end);
  lrt_loop_t* loop = loop_of_uv(handle->loop);
  uv_loop_t* uv = handle->loop;
  uv_handle_t** tail;
  uint64_t ts = lrt__now();

  if (!still_traced(loop, ts))
    return;
  if (p->phase == LRT_PHASE_POLL ||
      (p->phase == LRT_PHASE_PENDING && p->past_poll)) {
    /* check_begin was not queued, and no callback of ours ran in check:
     * it ran nothing but looprt's own. */
    send_wait(loop, ts);
    phase_begin(loop, LRT_PHASE_CHECK, ts);
  }
  phase_begin(loop, LRT_PHASE_CLOSE, ts);
  if (p->close_end_queued)
    return;
  uv_idle_init(uv, &p->close_end);
  uv_close((uv_handle_t*) &p->close_end, close_end_cb);
  p->close_end_queued = 1;
  /* uv_close() pushed it at the head; move it to the tail. */
  uv->closing_handles = p->close_end.next_closing;
  tail = &uv->closing_handles;
  while (*tail != NULL)
    tail = &(*tail)->next_closing;
  *tail = (uv_handle_t*) &p->close_end;
  p->close_end.next_closing = NULL;
}

static void flush_timer_cb(uv_timer_t* handle) {
  lrt__loop_flush(1, lrt__now());
}

/* ------------------------------------------------------------------------
 * Called from the rest of the runtime.
 */

/* A callback of `kind` begins at `ts` in a tick: when libuv passed a
 * boundary that no sentinel could mark, the phase moves on there. */
static void catch_up(lrt_loop_t* loop, uint8_t kind, uint64_t ts) {
  struct lrt__phases* p = phases_of(loop);
  uv_loop_t* uv = &loop->uv;

  /* phase_of_kind(loop, kind) == LRT_PHASE_TIMERS, its cheap tests
   * first: most callbacks are not timers, or run in the timers phase. */
  if (p->phase != LRT_PHASE_TIMERS &&
      (kind == LRT_CB_TIMER || kind == LRT_CB_INTERVAL) &&
      !in_poll_dispatch(uv)) {
    /* Only after begin_mid_tick(): close_end was not queued. */
    if (!p->timers_last) {
      tick_end(loop, ts);
      tick_begin(loop, ts, LRT_BEGUN_EARLIER);
    }
    phase_begin_as(loop, LRT_PHASE_TIMERS, ts, LRT_BEGUN_EARLIER);
    place_pending(loop);
    return;
  }
  if (p->phase != LRT_PHASE_POLL &&
      !(p->phase == LRT_PHASE_PENDING && p->past_poll))
    return;
  if (check_run_started(p, uv)) {
    send_wait(loop, ts);
    phase_begin(loop, LRT_PHASE_CHECK, ts);
  } else if (p->phase == LRT_PHASE_POLL && !in_poll_dispatch(uv)) {
    send_wait(loop, ts);
    phase_begin(loop, LRT_PHASE_PENDING, ts);
  }
}

void lrt__phases_callback_slow(lrt_loop_t* loop, uint8_t kind, uint64_t ts) {
  struct lrt__phases* p = phases_of(loop);

  sync_for(loop, kind, ts);
  if (p->session == 0)
    return;
  p->callbacks_since_poll++;
  /* The timers phase's callbacks (a storm of timers) have nothing to
   * catch up with: the phase is where they run. */
  if (p->phase == LRT_PHASE_TIMERS)
    return;
  if (p->in_tick)
    catch_up(loop, kind, ts);
  if (p->phase != LRT_PHASE_POLL)
    return;
  if (p->first_io_ts == 0)
    p->first_io_ts = ts;
  /* Poll's timeout is computed already, so a pending entry now cannot
   * keep it from blocking; it makes libuv run the pending queue right
   * after poll, with after_poll first. */
  pending_push_head(loop, &p->after_poll);
}

int lrt__phases_init(lrt_loop_t* loop) {
  struct lrt__phases* p = phases_of(loop);
  uv_loop_t* uv = &loop->uv;

  memset(p, 0, sizeof(*p));
  p->timers_last = uv_version() >= LRT_UV_TIMERS_LAST;
  pending_init(&p->pending_begin, pending_begin_cb);
  pending_init(&p->pending_end, pending_end_cb);
  pending_init(&p->after_poll, after_poll_cb);
  uv_idle_init(uv, &p->idle_end);
  /* What uv_*_start() would set. */
  p->idle_end.idle_cb = idle_end_cb;
  uv_prepare_init(uv, &p->prepare_end);
  p->prepare_end.prepare_cb = prepare_end_cb;
  uv_check_init(uv, &p->check_begin);
  p->check_begin.check_cb = check_begin_cb;
  uv_check_init(uv, &p->check_end);
  uv_timer_init(uv, &p->flush_timer);
  /* They never keep the loop alive. */
  uv_unref((uv_handle_t*) &p->idle_end);
  uv_unref((uv_handle_t*) &p->prepare_end);
  uv_unref((uv_handle_t*) &p->check_begin);
  uv_unref((uv_handle_t*) &p->check_end);
  uv_unref((uv_handle_t*) &p->flush_timer);
  return 0;
}

/* Takes the sentinels off libuv's queues and closes their handles; the
 * caller runs the loop to finish the closes. */
void lrt__phases_close(lrt_loop_t* loop) {
  struct lrt__phases* p = phases_of(loop);
  disarm(loop);
  p->session = 0;
  pending_unqueue(&p->pending_begin);
  pending_unqueue(&p->pending_end);
  pending_unqueue(&p->after_poll);
  uv_close((uv_handle_t*) &p->idle_end, NULL);
  uv_close((uv_handle_t*) &p->prepare_end, NULL);
  uv_close((uv_handle_t*) &p->check_begin, NULL);
  uv_close((uv_handle_t*) &p->check_end, NULL);
  uv_close((uv_handle_t*) &p->flush_timer, NULL);
}

void lrt__phases_run_begin(lrt_loop_t* loop) {
  struct lrt__phases* p = phases_of(loop);
  uv_loop_t* uv = &loop->uv;
  uint64_t ts = lrt__now();

  lrt__phases_sync(loop, ts);
  if (p->session == 0 || p->in_tick)
    return;
  /* uv_run() starts an iteration only for a live loop not told to stop. */
  if (!uv_loop_alive(uv) || uv->stop_flag != 0)
    return;
  /* libuv 1.45+ runs timers once before its first iteration. */
  tick_begin(loop, ts, 0);
  phase_begin(loop, LRT_PHASE_TIMERS, ts);
  place_pending(loop);
}

void lrt__phases_run_end(lrt_loop_t* loop) {
  struct lrt__phases* p = phases_of(loop);
  if (p->session == 0)
    return;
  tick_end(loop, lrt__now());
}
