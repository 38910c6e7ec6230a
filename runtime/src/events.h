/* events.h — each traced event once: the record it appends to the
 * calling thread's ring (looprt_trace.h, trace.c) together with the probe
 * it fires (probes.h, PROBES.md), so that an event site is one call.
 *
 * Call only when LRT_TRACING(): the guard stays at the event site, so an
 * untraced site is still a load and a branch. `ts` is the event's time
 * (lrt__now()); `loop` a loop's id; `tick` the tick number; `label_id`
 * the label's lrt__label_id(), which the probe's `label` string names.
 */
#ifndef LOOPRT_EVENTS_H
#define LOOPRT_EVENTS_H

#include "internal.h"

static inline void lrt__ev_loop_start(uint32_t loop, uint64_t ts,
                                      uint32_t uv_version, int pool) {
  LRT_PROBE3(loop__start, loop, uv_version, pool);
  lrt__emit(LRT_REC_LOOP_START, 0, 0, ts, loop,
            LRT_LOOP_INFO_SET_CLOCK(
                LRT_LOOP_INFO(uv_version, pool, LRT_TRACE_VERSION),
                lrt__clock_kind()));
}

static inline void lrt__ev_loop_stop(uint32_t loop, uint64_t ts) {
  LRT_PROBE1(loop__stop, loop);
  lrt__emit(LRT_REC_LOOP_STOP, 0, 0, ts, loop, 0);
}

/* `flags`: 0 or LRT_BEGUN_EARLIER. */
static inline void lrt__ev_tick_begin(uint32_t loop, uint64_t tick, uint64_t ts,
                                      uint64_t flags) {
  LRT_PROBE2(tick__begin, loop, tick);
  lrt__emit(LRT_REC_TICK_BEGIN, 0, 0, ts, tick, flags);
}

static inline void lrt__ev_tick_end(uint32_t loop, uint64_t tick, uint64_t ts,
                                    uint64_t dur) {
  LRT_PROBE3(tick__end, loop, tick, dur);
  lrt__emit(LRT_REC_TICK_END, 0, 0, ts, tick, 0);
}

/* `flags`: 0 or LRT_BEGUN_EARLIER. */
static inline void lrt__ev_phase_begin(uint32_t loop, uint64_t tick,
                                       uint8_t phase, uint64_t ts,
                                       uint64_t flags) {
  LRT_PROBE4(phase__begin, loop, tick, lrt_phase_name(phase), phase);
  lrt__emit(LRT_REC_PHASE, phase, 0, ts, tick, flags);
}

/* A probe only: in the record stream the next phase (or the tick's end)
 * ends a phase. */
static inline void lrt__ev_phase_end(uint32_t loop, uint64_t tick,
                                     uint8_t phase, uint64_t dur) {
  LRT_PROBE5(phase__end, loop, tick, lrt_phase_name(phase), phase, dur);
}

/* Poll blocked `blocked` ns from `begin` on. */
static inline void lrt__ev_wait(uint32_t loop, uint64_t tick, uint64_t begin,
                                uint64_t blocked) {
  LRT_PROBE3(poll__wait, loop, tick, blocked);
  lrt__emit(LRT_REC_WAIT, 0, 0, begin, tick, blocked);
}

static inline __attribute__((always_inline)) void lrt__ev_callback_begin(
    uint8_t kind, const char* label, uint16_t label_id, uint64_t task,
    uint64_t ts) {
  LRT_PROBE3(callback__begin, lrt_callback_kind_name(kind), label, task);
  lrt__emit(LRT_REC_CALLBACK_BEGIN, kind, label_id, ts, task, 0);
}

/* `kind` 0: a callback too deeply nested to be remembered; then only
 * the record goes. */
static inline __attribute__((always_inline)) void lrt__ev_callback_end(
    uint8_t kind, const char* label, uint64_t task, uint64_t ts, uint64_t dur) {
  if (kind != 0)
    LRT_PROBE4(callback__end, lrt_callback_kind_name(kind), label, task, dur);
  lrt__emit(LRT_REC_CALLBACK_END, kind, 0, ts, task, 0);
}

/* `ts`: when the submit began; `took`: how long it took. */
static inline void lrt__ev_work_submit(uint8_t kind, const char* label,
                                       uint16_t label_id, uint64_t task,
                                       uint64_t ts, uint64_t took) {
  LRT_PROBE2(work__submit, task, label);
  lrt__emit(LRT_REC_WORK_SUBMIT, kind, label_id, ts, task, took);
}

/* `queued`: ns since the submit, 0 if unknown. */
static inline void lrt__ev_work_start(uint8_t kind, const char* label,
                                      uint16_t label_id, uint64_t task,
                                      uint64_t ts, uint64_t queued) {
  LRT_PROBE3(work__start, task, label, queued);
  lrt__emit(LRT_REC_WORK_START, kind, label_id, ts, task, 0);
}

/* `ran`: ns since the start, 0 if unknown. */
static inline void lrt__ev_work_end(uint8_t kind, const char* label,
                                    uint16_t label_id, uint64_t task,
                                    uint64_t ts, uint64_t ran) {
  LRT_PROBE3(work__end, task, label, ran);
  lrt__emit(LRT_REC_WORK_END, kind, label_id, ts, task, 0);
}

/* A probe only: the completion's callback span is the record. */
static inline void lrt__ev_work_done(const char* label, uint64_t task,
                                     int status) {
  LRT_PROBE3(work__done, task, label, status);
}

#endif /* LOOPRT_EVENTS_H */
