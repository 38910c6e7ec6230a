/* looprt_trace.h — the binary record stream from looprt to looptrace.
 *
 * This header is the contract between the runtime (which writes records)
 * and the tracer (which reads them). It is the one place that defines the
 * record layout; both sides include it. The phases, the callback kinds and
 * the rest of the trace vocabulary are in looprt_vocab.h, included here.
 *
 * While a tracer is attached, every thread that produces events appends
 * fixed-size records to a thread-local buffer, and the runtime hands whole
 * batches to the tracer through one USDT probe:
 *
 *   looprt:flush(const struct lrt_record* records, long bytes,
 *                const struct lrt_ring_view* ring)
 *
 * `ring` is the thread ring the records come from (0 for labels and the
 * pool snapshot, which come from elsewhere); a ring is also announced by a
 * hit with no records when its thread introduces itself, so that a tracer
 * knows where each thread's unflushed records are should the process die
 * before it hands them over (struct lrt_ring_view).
 *
 * A batch holds records of one thread, oldest first. Batches of different
 * threads arrive in no particular order; a reader orders a thread's events
 * by the batches of that thread. Timestamps are CLOCK_MONOTONIC
 * nanoseconds, the clock bpf_ktime_get_ns() uses.
 *
 * Label records (LRT_REC_LABEL) are delivered before any record that uses
 * their id: the runtime fires them synchronously when a label is first
 * used in a tracing session, and fires the whole table again when a new
 * tracer attaches. A session is announced (labels, LRT_REC_POOL, and each
 * thread and loop introducing itself) when it starts, about 20 ms later
 * (the kernel raises a probe's semaphore before it plants the probe, so
 * the first announcement may reach nobody) and every 500 ms while it
 * lasts (a tracer attaching just as another detaches starts no new
 * session). Readers take repeated announcements as they come; only the
 * first LRT_REC_POOL a reader sees sets its counters.
 */
#ifndef LOOPRT_TRACE_H
#define LOOPRT_TRACE_H

#include <stdint.h>

#include "looprt_vocab.h"

/* Bumped whenever the layout or the meaning of a field changes. Carried in
 * LRT_REC_LOOP_START so that a reader can refuse what it does not know.
 * 2: batches of up to 2048 records (1: up to 256; a reader of format 1
 * would read only the first 256 records of a longer batch, so it refuses
 * format 2 instead). A reader of format 2 reads format 1 too. */
#define LRT_TRACE_VERSION 2
/* The oldest format this header's readers still read. */
#define LRT_TRACE_VERSION_OLDEST 1

/* Whether a reader built with this header reads trace format `version`. */
#define LRT_TRACE_VERSION_KNOWN(version) \
  ((version) >= LRT_TRACE_VERSION_OLDEST && (version) <= LRT_TRACE_VERSION)

/* The most records one flush probe hit carries: a thread's ring flushed
 * from its high-water mark goes in one hit, where each costs the program a
 * uprobe (about a microsecond). 256 in format 1. */
#define LRT_BATCH_MAX_RECORDS 2048

/* The most records a thread's ring holds (struct lrt_ring_view). */
#define LRT_RING_MAX_RECORDS 4096

enum lrt_record_type {
  /* A thread says what it is. kind: enum lrt_thread_role; id: index of the
   * worker (1, 2, ...) or the loop id; arg: 0. Sent once per session per
   * thread, before the thread's other records, with the ts of the record
   * it precedes (so a thread's records stay in time order, LRT_REC_WAIT
   * apart). */
  LRT_REC_THREAD = 1,
  /* A chunk of a label's text. label: the id; kind: chunk index in the low
   * 7 bits, LRT_LABEL_LAST set on the final chunk; text: up to 16 bytes,
   * NUL-padded. */
  LRT_REC_LABEL = 2,
  /* A loop starts running (lrt_run) or is seen for the first time in a
   * session. id: loop id; arg: LRT_LOOP_INFO(uv_version, pool size, trace
   * version), with the clock (enum lrt_clock) in its top byte. */
  LRT_REC_LOOP_START = 3,
  /* lrt_run returns. id: loop id. */
  LRT_REC_LOOP_STOP = 4,
  /* A tick (one pass of libuv's loop) begins or ends. id: tick number;
   * arg of TICK_BEGIN: 0 or LRT_BEGUN_EARLIER (the tick was in progress
   * when the session began, or began unseen). */
  LRT_REC_TICK_BEGIN = 5,
  LRT_REC_TICK_END = 6,
  /* A phase begins; the previous phase of the same tick ends at the same
   * instant, and the last phase ends at LRT_REC_TICK_END. kind: enum
   * lrt_phase; id: tick number; arg: 0 or LRT_BEGUN_EARLIER. */
  LRT_REC_PHASE = 7,
  /* Time the loop spent blocked in the kernel during the current poll
   * phase. ts: when the wait began; arg: its length in ns; id: tick. It
   * is sent after the wait, so it may follow records with later ts. */
  LRT_REC_WAIT = 8,
  /* A callback dispatched by the runtime begins or ends. kind: enum
   * lrt_callback_kind; label: label id; id: task id for completions of
   * threadpool work, 0 otherwise. */
  LRT_REC_CALLBACK_BEGIN = 9,
  LRT_REC_CALLBACK_END = 10,
  /* Threadpool work is submitted (loop thread). kind: callback kind of its
   * completion (work, fs, dns, crypto); label; id: task id (unique within
   * the process, never reused); arg: ns the submit call took. */
  LRT_REC_WORK_SUBMIT = 11,
  /* A worker begins or ends running a task. id: task id; label. */
  LRT_REC_WORK_START = 12,
  LRT_REC_WORK_END = 13,
  /* Threadpool state when the session is announced, so that counters
   * are right from a reader's first event. id: tasks queued; arg: tasks
   * running. */
  LRT_REC_POOL = 14,
  /* This many records of this thread were lost. id: count; kind: enum
   * lrt_lost_reason. */
  LRT_REC_LOST = 15,
  /* The thread exited, seen by the tracer as it did (tracer/record.bpf.c:
   * the process died, or the thread ended, while it had a ring): the last
   * moment of the thread anybody saw. ts: then. Added in version 1;
   * readers that do not know it skip it. */
  LRT_REC_EXIT = 16,
  LRT_REC_TYPE_MAX = 17
};

/* Why records were lost: kind of LRT_REC_LOST. */
enum lrt_lost_reason {
  LRT_LOST_FULL = 0,   /* runtime buffer full */
  LRT_LOST_AT_EXIT = 1 /* records still buffered when the process died */
};

enum lrt_thread_role {
  LRT_THREAD_LOOP = 1,
  LRT_THREAD_WORKER = 2,
  LRT_THREAD_OTHER = 3
};

/* In the arg of LRT_REC_TICK_BEGIN and LRT_REC_PHASE: this span began
 * before the session; ts is the first moment the session saw. (The
 * tracer's flight recorder also sets it in the arg of the
 * LRT_REC_CALLBACK_BEGIN and LRT_REC_WORK_START it replays at a dump's
 * window start; the runtime never does.) */
#define LRT_BEGUN_EARLIER 1

#define LRT_LABEL_LAST 0x80
#define LRT_LABEL_CHUNK 16
#define LRT_LABEL_MAX_LEN 127 /* longer labels are cut */

/* Packing of LRT_REC_LOOP_START's arg. */
#define LRT_LOOP_INFO(uv_version, pool_size, trace_version)               \
  (((uint64_t) (uv_version) << 32) | ((uint64_t) (trace_version) << 16) | \
   (uint64_t) (pool_size))
#define LRT_LOOP_INFO_UV_VERSION(arg) ((uint32_t) ((arg) >> 32) & 0xffffff)
#define LRT_LOOP_INFO_TRACE_VERSION(arg) ((uint16_t) ((arg) >> 16))
#define LRT_LOOP_INFO_POOL_SIZE(arg) ((uint16_t) (arg))

/* How the runtime reads the time of its records, in bits 56-63 of the same
 * arg (0: a runtime that does not say, which called clock_gettime()).
 * Either way every ts is CLOCK_MONOTONIC ns. */
enum lrt_clock {
  LRT_CLOCK_GETTIME = 1, /* clock_gettime(CLOCK_MONOTONIC) */
  LRT_CLOCK_TSC = 2      /* the TSC, converted to CLOCK_MONOTONIC ns with a
                            calibration the runtime keeps (clock.c) */
};
#define LRT_LOOP_INFO_SET_CLOCK(info, clock) \
  ((info) | ((uint64_t) (clock) << 56))
#define LRT_LOOP_INFO_CLOCK(arg) ((uint8_t) ((arg) >> 56))

/* One event: 32 bytes, naturally aligned, no padding. */
struct lrt_record {
  uint64_t ts;    /* CLOCK_MONOTONIC ns */
  uint32_t tid;   /* OS thread id of the thread it happened on */
  uint8_t type;   /* enum lrt_record_type */
  uint8_t kind;   /* phase, callback kind, thread role or label chunk */
  uint16_t label; /* label id, 0 for none */
  union {
    struct {
      uint64_t id;  /* tick, task, loop or worker number; see the type */
      uint64_t arg; /* type-specific */
    };
    char text[LRT_LABEL_CHUNK]; /* LRT_REC_LABEL */
  };
};

_Static_assert(sizeof(struct lrt_record) == 32, "record layout");

/* The start of a thread's record ring in the traced process, as a reader
 * of that process's memory sees it (the tracer's hand-over when the
 * process dies: tracer/record.bpf.c). The records from `tail` to `head`
 * (indexes modulo `size`) have not been handed over yet; `lost` records
 * did not fit and have not been reported yet. The owner thread writes
 * head and lost, whoever flushes writes tail. */
struct lrt_ring_view {
  uint64_t head;    /* next record to write */
  uint64_t tail;    /* next record to hand over */
  uint64_t lost;    /* records that did not fit, not yet reported */
  uint64_t records; /* address of the first of `size` records */
  uint32_t size;    /* a power of two */
  uint32_t tid;     /* the owner thread */
};

_Static_assert(sizeof(struct lrt_ring_view) == 40, "ring view layout");

#endif /* LOOPRT_TRACE_H */
