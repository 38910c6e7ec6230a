/* internal.h — what the runtime's files share and do not export.
 *
 * Naming: lrt_ public (looprt.h), lrt__ internal across files, statics
 * unprefixed.
 */
#ifndef LOOPRT_INTERNAL_H
#define LOOPRT_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "looprt.h"
#include "looprt_trace.h"
#include "probes.h"

#define container_of(ptr, type, member) \
  ((type*) ((char*) (ptr) -offsetof(type, member)))

/* A pending-queue entry of libuv's (uv__io_t) that runs our callback in
 * the pending phase. phases.c uses three of them as sentinels. */
struct lrt__pending {
  uv__io_t io;
  int queued;
};

/* How looptrace sees a loop: the sentinels that mark phase boundaries
 * (phases.c) and the stack of open callback spans (spans.c). */
struct lrt__phases {
  uint32_t session;  /* tracing session these sentinels serve, 0: none */
  int in_tick;       /* a tick began and has not ended */
  uint64_t tick;     /* number of the current (or last) tick */
  uint8_t phase;     /* enum lrt_phase now running, 0 outside ticks */
  uint64_t tick_ts;  /* when the tick began, ns */
  uint64_t phase_ts; /* when the phase began, ns */
  int past_poll;     /* poll began in this tick */

  /* Poll: where the wait went. */
  uint64_t idle_time_at_poll; /* uv_metrics_idle_time() as poll began */
  uint64_t idle_time_after;   /* ... as the last poll's wait was sent */
  uint64_t first_io_ts;       /* first callback we dispatched in poll */
  int may_block;              /* poll began seen: its wait is known */
  int wait_sent;
  int idle_time_after_known; /* idle_time_after is the idle time now */
  int metrics_on;

  struct lrt__pending pending_begin; /* head of the pending queue */
  struct lrt__pending pending_end;   /* moved to the tail of the run */
  struct lrt__pending after_poll;    /* pending runs again after poll */
  uv_idle_t idle_end;                /* tail of the idle handles */
  uv_prepare_t prepare_end;          /* tail of the prepare handles */
  uv_check_t check_begin;            /* head of the check handles */
  uv_check_t check_end;              /* tail of the check handles */
  uv_idle_t close_end;               /* tail of the closing handles */
  uv_timer_t flush_timer; /* hands records over when the loop sleeps */
  unsigned callbacks_since_poll;
  int idle_end_queued;
  int prepare_end_queued;
  int check_begin_queued;
  int close_end_queued;
  int timers_last; /* libuv >= 1.45: timers end the iteration */
};

/* How deep the runtime remembers the callbacks it dispatches (kind, label
 * and start for the end's probe, spans.c). Deeper callbacks still get
 * both records, with kind 0 at the end; it limits no trace, whose depth
 * limit is TRACE_MAX_DEPTH (looprt_vocab.h): what the runtime remembers,
 * under a tick and a phase, is within it. */
#define LRT_SPAN_STACK 32
_Static_assert(LRT_SPAN_STACK + 2 <= TRACE_MAX_DEPTH, "span stack depth");

struct lrt__span {
  uint64_t ts;
  const char* label;
  uint64_t task;
  uint8_t kind;
};

struct lrt__loop_private {
  uint32_t id; /* small number, unique in the process */

  /* timers.c: a binary min-heap on (due, seq) driven by one uv timer. */
  uv_timer_t timer;
  lrt_timer_t** heap;
  size_t heap_len;
  size_t heap_cap;
  uint64_t timer_seq;

  /* immediates.c: a FIFO run by a check handle; an idle handle keeps the
   * poll from blocking while it is not empty. */
  uv_check_t immediate_check;
  uv_idle_t immediate_idle;
  lrt_immediate_t* imm_head;
  lrt_immediate_t* imm_tail;
  uint64_t imm_seq;

  /* threadpool.c */
  uint64_t work_in_flight;
  _Atomic uint64_t tasks_submitted;    /* also the low bits of task ids */
  struct lrt__loop_private* next_open; /* threadpool.c's list of loops */
  struct lrt__work_queue* work_queue;  /* made on the first task */

  /* tcp.c: one read buffer serves every stream of the loop, since a
   * read callback consumes its data before the next read. */
  char* read_buf;

  int running; /* lrt_run() is in uv_run() */

  /* While traced. */
  struct lrt__phases phases;
  struct lrt__span spans[LRT_SPAN_STACK];
  int span_depth;
};

/* ------------------------------------------------------------------------
 * trace.c: the transport: thread buffers of records, labels, sessions,
 * the batch probe. It knows records, not loops or phases; what each event
 * records and which probe it fires is events.h's.
 */

/* The current tracing session: 0 when no tracer is attached. */
extern _Atomic uint32_t lrt__session;

/* Starts a session if none runs. Returns the current session. */
uint32_t lrt__session_start(void);

/* The current session, starting one if none runs. Call only when
 * LRT_TRACING(). Inline: the sentinels ask at every phase boundary. */
static inline uint32_t lrt__session_get(void) {
  uint32_t s = atomic_load_explicit(&lrt__session, memory_order_acquire);
  return __builtin_expect(s != 0, 1) ? s : lrt__session_start();
}

/* A thread's ring of records: 4096 records (128 KiB), flushed from the
 * high-water mark on. */
#define LRT__RING_RECORDS 4096 /* a power of two */
#define LRT__RING_HIGH_WATER (LRT__RING_RECORDS / 2)

/* Remembers which label id a caller's string pointer had. */
struct lrt__label_cache_entry {
  const char* ptr;  /* the caller's string */
  const char* text; /* the interned text it matched */
  uint16_t id;
  uint8_t fixed; /* ptr is in read-only memory: its text cannot change */
};
#define LRT__LABEL_CACHE_SIZE 256 /* a power of two */

/* The start of a thread's ring (trace.c's struct ring): what the inline
 * parts of lrt__emit() and lrt__label_id() read and write. */
struct lrt__ring_head {
  _Atomic uint64_t head;   /* next record to write; the owner's */
  _Atomic uint64_t tail;   /* next record to flush */
  uint64_t lost;           /* records the owner could not buffer */
  struct lrt_record* recs; /* LRT__RING_RECORDS of them */
  uint32_t size;
  uint32_t tid;
  uint32_t session; /* last session the owner introduced itself in */
  struct lrt__label_cache_entry* label_cache; /* LRT__LABEL_CACHE_SIZE */
};

/* The calling thread's ring, NULL until it first records. */
extern __thread struct lrt__ring_head* lrt__tls_ring
    __attribute__((tls_model("initial-exec")));

/* lrt__emit() when the ring cannot take the record as it is: no ring
 * yet, a new session, records lost, or the high-water mark reached. */
void lrt__emit_slow(uint8_t type, uint8_t kind, uint16_t label, uint64_t ts,
                    uint64_t id, uint64_t arg);

/* Appends a record for the calling thread. Call only when LRT_TRACING().
 * Starts a session if none is running. Inline: the path of nearly every
 * record is the record's stores and the head's release (the thread's
 * ring is introduced in the running session, has lost nothing, and
 * stays below its high-water mark with this record). */
static inline void lrt__emit(uint8_t type, uint8_t kind, uint16_t label,
                             uint64_t ts, uint64_t id, uint64_t arg) {
  struct lrt__ring_head* r = lrt__tls_ring;
  if (__builtin_expect(r != NULL, 1)) {
    uint32_t s = atomic_load_explicit(&lrt__session, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (__builtin_expect(r->session == s && s != 0 && r->lost == 0 &&
                             head + 1 - tail < LRT__RING_HIGH_WATER,
                         1)) {
      struct lrt_record* rec = &r->recs[head & (LRT__RING_RECORDS - 1)];
      rec->ts = ts;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      {
        /* tid, type, kind and label in one store. */
        uint64_t word = (uint64_t) r->tid | (uint64_t) type << 32 |
                        (uint64_t) kind << 40 | (uint64_t) label << 48;
        _Static_assert(offsetof(struct lrt_record, tid) == 8 &&
                           offsetof(struct lrt_record, label) == 14,
                       "tid, type, kind, label: 8 bytes at 8");
        memcpy((char*) rec + 8, &word, sizeof(word));
      }
#else
      rec->tid = r->tid;
      rec->type = type;
      rec->kind = kind;
      rec->label = label;
#endif
      rec->id = id;
      rec->arg = arg;
      atomic_store_explicit(&r->head, head + 1, memory_order_release);
      return;
    }
  }
  lrt__emit_slow(type, kind, label, ts, id, arg);
}

/* lrt__label_id() in full. */
uint16_t lrt__label_id_slow(const char* label);

/* The id of `label` in this process's label table, announcing it to the
 * tracer first if it is new in this session. NULL gives 0. Inline for
 * the common case: a string literal the thread has used before. */
static inline uint16_t lrt__label_id(const char* label) {
  struct lrt__ring_head* r = lrt__tls_ring;
  if (__builtin_expect(r != NULL, 1)) {
    const struct lrt__label_cache_entry* e =
        &r->label_cache[((uintptr_t) label >> 3) & (LRT__LABEL_CACHE_SIZE - 1)];
    if (__builtin_expect(e->ptr == label && e->fixed && label != NULL, 1))
      return e->id;
  }
  return lrt__label_id_slow(label);
}

/* The calling thread's role in traces; announced in LRT_REC_THREAD. */
void lrt__thread_set_role(uint8_t role, uint64_t index);
uint8_t lrt__thread_role(void);

/* Hands every buffered record to the tracer now. */
void lrt__flush_all(void);

/* Records the process's threads have written so far (the bench counts
 * them: tests/bench/gate_on.c). */
uint64_t lrt__records_written(void);

/* lrt__flush_all() from a fatal signal's handler (fatal.c): async-signal
 * safe, waits on no lock for long, leaves alone a ring another thread is
 * flushing. */
void lrt__flush_fatal(void);

/* While a session runs, fatal signals hand the buffers over before the
 * program's own handler and the default action (fatal.c). Called with
 * the session lock held. */
void lrt__fatal_install(void);
void lrt__fatal_uninstall(void);

/* In a single-threaded program the loop flushes (trace.c): call before
 * each poll (`now` 0: when the flush interval has passed) and from the
 * timer it arms (`now` 1); `ts` is lrt__now(), which the caller has.
 * Returns whether the calling thread still has records buffered; 0 when
 * the program is not flushed by its loop. */
int lrt__loop_flush(int now, uint64_t ts);

/* Tasks queued and running in the pool now, for the snapshot a tracing
 * session starts with (threadpool.c). */
void lrt__pool_snapshot(uint64_t* queued, uint64_t* running);
void lrt__pool_after_fork(void);
/* A loop's submissions count from lrt_loop_init() to lrt_loop_close();
 * lrt__pool_loop_close() also frees the loop's task queue (its handle is
 * closed by then). */
void lrt__pool_loop_open(struct lrt__loop_private* p);
void lrt__pool_loop_close(struct lrt__loop_private* p);

/* ------------------------------------------------------------------------
 * spans.c: callback spans on the loop thread.
 */

/* A callback's span: its begin and its end. Call only when LRT_TRACING().
 * `label_id`: lrt__label_id(label) if the caller has it already, else 0.
 * An end whose begin was not recorded (tracing began inside the callback)
 * records nothing. */
void lrt__trace_callback_begin(lrt_loop_t* loop, uint8_t kind,
                               const char* label, uint16_t label_id,
                               uint64_t task);
void lrt__trace_callback_end(lrt_loop_t* loop);

/* Forgets the open spans (a session begins: their begins were not
 * recorded). */
void lrt__spans_reset(lrt_loop_t* loop);

/* Ends the innermost open span (a callback's, or lrt_span_begin()'s) if
 * still traced: tracing may have stopped since it began. */
static inline void lrt__callback_end(lrt_loop_t* loop) {
  if (LRT_TRACING())
    lrt__trace_callback_end(loop);
}

/* Runs the statement `call`, a callback of `kind` named `label`, on
 * `loop`'s thread: a callback span when traced, else `call` behind one
 * load and a branch. A callback that began untraced is not asked about at
 * its end, as there is no span to end: tracing that begins inside it
 * records from the next callback on. `loop`, `kind` and `label` are read
 * only when traced, before `call` (which may free what they came from). */
#define LRT__RUN_CALLBACK(loop, kind, label, call)                    \
  do {                                                                \
    if (LRT_TRACING()) {                                              \
      lrt_loop_t* lrt__cb_loop = (loop);                              \
      lrt__trace_callback_begin(lrt__cb_loop, (kind), (label), 0, 0); \
      call;                                                           \
      lrt__callback_end(lrt__cb_loop);                                \
    } else {                                                          \
      call;                                                           \
    }                                                                 \
  } while (0)

/* ------------------------------------------------------------------------
 * clock.c: the time of records.
 */

/* CLOCK_MONOTONIC in ns, the clock of every record: the TSC converted
 * where the TSC is invariant and the kernel keeps CLOCK_MONOTONIC with
 * it, clock_gettime() elsewhere. */
uint64_t lrt__now(void);

/* Which of the two lrt__now() uses in this process: enum lrt_clock. */
uint8_t lrt__clock_kind(void);

/* ------------------------------------------------------------------------
 * phases.c: ticks and phases.
 */

int lrt__phases_init(lrt_loop_t* loop);
void lrt__phases_close(lrt_loop_t* loop);

/* Makes sure the loop's sentinels serve the current session (arming or
 * disarming them). `ts`: the time of the record the caller sends next,
 * which what this sends must not follow. Loop thread only; call when
 * LRT_TRACING(). */
void lrt__phases_sync(lrt_loop_t* loop, uint64_t ts);

/* lrt_run() is about to call uv_run() / has returned from it. */
void lrt__phases_run_begin(lrt_loop_t* loop);
void lrt__phases_run_end(lrt_loop_t* loop);

/* lrt__phases_callback() in full. */
void lrt__phases_callback_slow(lrt_loop_t* loop, uint8_t kind, uint64_t ts);

/* A callback of `kind` is about to begin at `ts` (spans.c): syncs the
 * loop (lrt__phases_sync), moves the phase on to where libuv is, places
 * the poll wait and watches for pending callbacks after poll. Inline for
 * the common case: the loop serves the session already, and the callback
 * runs in a phase where nothing moves (any callback in timers; one not a
 * timer's in idle, prepare, check or close). */
static inline void lrt__phases_callback(lrt_loop_t* loop, uint8_t kind,
                                        uint64_t ts) {
  struct lrt__phases* p = &loop->priv->phases;
  uint32_t s = p->session;
  unsigned still = 1u << LRT_PHASE_TIMERS;
  if (kind != LRT_CB_TIMER && kind != LRT_CB_INTERVAL)
    still |= 1u << LRT_PHASE_IDLE | 1u << LRT_PHASE_PREPARE |
             1u << LRT_PHASE_CHECK | 1u << LRT_PHASE_CLOSE;
  if (__builtin_expect(
          s != 0 && LRT_TRACING() &&
              s == atomic_load_explicit(&lrt__session, memory_order_acquire) &&
              ((1u << p->phase) & still) != 0,
          1)) {
    p->callbacks_since_poll++;
    return;
  }
  lrt__phases_callback_slow(loop, kind, ts);
}

/* ------------------------------------------------------------------------
 * Other files.
 */

int lrt__timers_init(lrt_loop_t* loop);
void lrt__timers_close(lrt_loop_t* loop);
int lrt__immediates_init(lrt_loop_t* loop);

/* Submits work whose completion callback is of `kind` (threadpool.c). */
int lrt__work_submit(lrt_loop_t* loop, lrt_work_t* work, lrt_work_fn fn,
                     lrt_work_done_cb done, const char* label, uint8_t kind);

#endif /* LOOPRT_INTERNAL_H */
