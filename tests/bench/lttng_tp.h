/* lttng_tp.h — LTTng-UST tracepoints for looprt's per-event probes, for
 * vs_lttng_ratio only (the runtime itself has no LTTng code).
 *
 * One event per USDT probe of runtime/PROBES.md, same name, same
 * arguments. Strings (kind, label, phase) are recorded as their address,
 * not copied: looptrace's records carry small ids for them, and giving
 * LTTng the cheaper field keeps the comparison in LTTng's favour.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER looprt

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./lttng_tp.h"

#if !defined(BENCH_LTTNG_TP_H) || \
    defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define BENCH_LTTNG_TP_H

#include <stdint.h>

#include <lttng/tracepoint.h>

#define U64(name) lttng_ust_field_integer(uint64_t, name, name)
#define PTR(name) lttng_ust_field_integer_hex(uintptr_t, name, (uintptr_t) name)

LTTNG_UST_TRACEPOINT_EVENT(looprt, loop__start,
                           LTTNG_UST_TP_ARGS(uint64_t, loop_id, uint64_t,
                                             uv_version, uint64_t, pool_size),
                           LTTNG_UST_TP_FIELDS(U64(loop_id) U64(uv_version)
                                                   U64(pool_size)))

LTTNG_UST_TRACEPOINT_EVENT(looprt, loop__stop,
                           LTTNG_UST_TP_ARGS(uint64_t, loop_id),
                           LTTNG_UST_TP_FIELDS(U64(loop_id)))

LTTNG_UST_TRACEPOINT_EVENT(looprt, tick__begin,
                           LTTNG_UST_TP_ARGS(uint64_t, loop_id, uint64_t, tick),
                           LTTNG_UST_TP_FIELDS(U64(loop_id) U64(tick)))

LTTNG_UST_TRACEPOINT_EVENT(looprt, tick__end,
                           LTTNG_UST_TP_ARGS(uint64_t, loop_id, uint64_t, tick,
                                             uint64_t, duration_ns),
                           LTTNG_UST_TP_FIELDS(U64(loop_id) U64(tick)
                                                   U64(duration_ns)))

LTTNG_UST_TRACEPOINT_EVENT(looprt, phase__begin,
                           LTTNG_UST_TP_ARGS(uint64_t, loop_id, uint64_t, tick,
                                             const char*, phase, uint64_t,
                                             phase_id),
                           LTTNG_UST_TP_FIELDS(U64(loop_id) U64(tick) PTR(phase)
                                                   U64(phase_id)))

LTTNG_UST_TRACEPOINT_EVENT(looprt, phase__end,
                           LTTNG_UST_TP_ARGS(uint64_t, loop_id, uint64_t, tick,
                                             const char*, phase, uint64_t,
                                             phase_id, uint64_t, duration_ns),
                           LTTNG_UST_TP_FIELDS(U64(loop_id) U64(tick) PTR(phase)
                                                   U64(phase_id)
                                                       U64(duration_ns)))

LTTNG_UST_TRACEPOINT_EVENT(looprt, poll__wait,
                           LTTNG_UST_TP_ARGS(uint64_t, loop_id, uint64_t, tick,
                                             uint64_t, blocked_ns),
                           LTTNG_UST_TP_FIELDS(U64(loop_id) U64(tick)
                                                   U64(blocked_ns)))

LTTNG_UST_TRACEPOINT_EVENT(looprt, callback__begin,
                           LTTNG_UST_TP_ARGS(const char*, kind, const char*,
                                             label, uint64_t, task_id),
                           LTTNG_UST_TP_FIELDS(PTR(kind) PTR(label)
                                                   U64(task_id)))

LTTNG_UST_TRACEPOINT_EVENT(looprt, callback__end,
                           LTTNG_UST_TP_ARGS(const char*, kind, const char*,
                                             label, uint64_t, task_id, uint64_t,
                                             duration_ns),
                           LTTNG_UST_TP_FIELDS(PTR(kind) PTR(label) U64(task_id)
                                                   U64(duration_ns)))

LTTNG_UST_TRACEPOINT_EVENT(looprt, work__submit,
                           LTTNG_UST_TP_ARGS(uint64_t, task_id, const char*,
                                             label),
                           LTTNG_UST_TP_FIELDS(U64(task_id) PTR(label)))

LTTNG_UST_TRACEPOINT_EVENT(looprt, work__start,
                           LTTNG_UST_TP_ARGS(uint64_t, task_id, const char*,
                                             label, uint64_t, queue_wait_ns),
                           LTTNG_UST_TP_FIELDS(U64(task_id) PTR(label)
                                                   U64(queue_wait_ns)))

LTTNG_UST_TRACEPOINT_EVENT(looprt, work__end,
                           LTTNG_UST_TP_ARGS(uint64_t, task_id, const char*,
                                             label, uint64_t, run_ns),
                           LTTNG_UST_TP_FIELDS(U64(task_id) PTR(label)
                                                   U64(run_ns)))

LTTNG_UST_TRACEPOINT_EVENT(
    looprt, work__done,
    LTTNG_UST_TP_ARGS(uint64_t, task_id, const char*, label, int64_t, status),
    LTTNG_UST_TP_FIELDS(U64(task_id) PTR(label)
                            lttng_ust_field_integer(int64_t, status, status)))

/* The batch probe. The bench never enables it: with LTTng the runtime's
 * buffers are emptied for nobody. */
LTTNG_UST_TRACEPOINT_EVENT(
    looprt, flush,
    LTTNG_UST_TP_ARGS(const void*, records, int64_t, bytes, const void*, ring),
    LTTNG_UST_TP_FIELDS(PTR(records) lttng_ust_field_integer(int64_t, bytes,
                                                             bytes) PTR(ring)))

#endif /* BENCH_LTTNG_TP_H */

#include <lttng/tracepoint-event.h>
