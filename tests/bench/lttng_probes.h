/* lttng_probes.h — looprt's probes as LTTng-UST tracepoints, for the
 * LTTng build of the benchmarks (tests/bench/build.mk force-includes this
 * into every runtime source with -include, and so replaces
 * runtime/src/probes.h, whose include guard it defines).
 *
 * What changes against the normal build:
 * - every LRT_PROBEn(name, ...) is lttng_ust_tracepoint(looprt, name, ...)
 *   (lttng_tp.h), counted in bench_probe_hits();
 * - the event sites' guard stays the semaphores, the batch probe's of
 *   which this build sets to 1 at start (lttng_tp.c): the runtime
 *   computes its events
 *   whether or not LTTng records them, exactly as when looptrace is
 *   attached, and keeps its own buffers (emptied for nobody).
 *
 * So a run with an LTTng session recording and one without differ only in
 * what the tracepoints cost: that difference, per hit, is LTTng's
 * per-event cost.
 */
#ifndef BENCH_LTTNG_PROBES_H
#define BENCH_LTTNG_PROBES_H

/* probes.h must not be read after this. */
#define LOOPRT_PROBES_H

#include <stdatomic.h>
#include <stdint.h>

#include "lttng_tp.h"

/* Defined in runtime/src/trace.c (as in probes.h); the batch probe's
 * set by lttng_tp.c. */
union lrt__semaphores {
  volatile uint32_t any;
  struct {
    volatile unsigned short events;
    volatile unsigned short flush;
  } s;
};
extern union lrt__semaphores lrt__semaphores;

#define LRT_TRACING() __builtin_expect(lrt__semaphores.any != 0, 0)
#define LRT_LISTENERS() \
  ((unsigned short) (lrt__semaphores.s.events + lrt__semaphores.s.flush))

/* Tracepoint hits so far (every thread), and the counter behind it. */
uint64_t bench_probe_hits(void);
extern _Atomic uint64_t bench__probe_hits;

/* Per-event probes are counted; batches (flush) are not events. */
#define BENCH_HIT(name, ...)                                                  \
  do {                                                                        \
    if (BENCH_COUNTS_##name)                                                  \
      atomic_fetch_add_explicit(&bench__probe_hits, 1, memory_order_relaxed); \
    lttng_ust_tracepoint(looprt, name, __VA_ARGS__);                          \
  } while (0)

#define BENCH_COUNTS_loop__start 1
#define BENCH_COUNTS_loop__stop 1
#define BENCH_COUNTS_tick__begin 1
#define BENCH_COUNTS_tick__end 1
#define BENCH_COUNTS_phase__begin 1
#define BENCH_COUNTS_phase__end 1
#define BENCH_COUNTS_poll__wait 1
#define BENCH_COUNTS_callback__begin 1
#define BENCH_COUNTS_callback__end 1
#define BENCH_COUNTS_work__submit 1
#define BENCH_COUNTS_work__start 1
#define BENCH_COUNTS_work__end 1
#define BENCH_COUNTS_work__done 1
#define BENCH_COUNTS_flush 0

#define LRT_PROBE1(name, a) BENCH_HIT(name, a)
#define LRT_PROBE2(name, a, b) BENCH_HIT(name, a, b)
#define LRT_PROBE3(name, a, b, c) BENCH_HIT(name, a, b, c)
#define LRT_PROBE4(name, a, b, c, d) BENCH_HIT(name, a, b, c, d)
#define LRT_PROBE5(name, a, b, c, d, e) BENCH_HIT(name, a, b, c, d, e)
#define LRT_PROBE_FLUSH(records, bytes, ring) \
  BENCH_HIT(flush, records, bytes, ring)

#endif /* BENCH_LTTNG_PROBES_H */
