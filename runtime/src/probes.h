/* probes.h — looprt's USDT probes (provider "looprt"; runtime/PROBES.md).
 *
 * Two semaphores, side by side in lrt__semaphores (trace.c): one shared
 * by every per-event probe, one for the batch probe (flush). The kernel
 * adds one to a probe's semaphore for every site of it attached. One
 * 32-bit load of both tells an event site whether anybody listens,
 * whatever they attached to; with nobody attached it costs exactly that
 * (LRT_TRACING()). While something listens, a per-event probe's
 * arguments are computed only when a per-event probe is attached
 * (LRT_PROBEn): looptrace attaches the batch probe alone, and computing
 * them (phase and kind names, durations, registers kept across the
 * record's call) was a sixth of a record's instructions.
 *
 * Building with -DLOOPRT_NO_PROBES leaves the probes and the semaphores
 * out entirely; `make bench` compares such a build with the normal one.
 */
#ifndef LOOPRT_PROBES_H
#define LOOPRT_PROBES_H

#ifndef LOOPRT_NO_PROBES

#include <stdint.h>

#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

/* In .probes, where tools expect USDT semaphores; defined in trace.c.
 * Hidden, so that code in the shared library reaches them with one
 * PC-relative load instead of going through the GOT. */
union lrt__semaphores {
  volatile uint32_t any; /* both, for LRT_TRACING() */
  struct {
    volatile unsigned short events; /* the per-event probes' */
    volatile unsigned short flush;  /* the batch probe's */
  } s;
};
extern union lrt__semaphores lrt__semaphores
    __attribute__((visibility("hidden")));
/* The same two, by name, for the probes' notes (trace.c aliases them). */
extern volatile unsigned short lrt__semaphore_events
    __attribute__((visibility("hidden")));
extern volatile unsigned short lrt__semaphore_flush
    __attribute__((visibility("hidden")));

/* sys/sdt.h names a probe's semaphore provider_name_semaphore. */
#define looprt_loop__start_semaphore lrt__semaphore_events
#define looprt_loop__stop_semaphore lrt__semaphore_events
#define looprt_tick__begin_semaphore lrt__semaphore_events
#define looprt_tick__end_semaphore lrt__semaphore_events
#define looprt_phase__begin_semaphore lrt__semaphore_events
#define looprt_phase__end_semaphore lrt__semaphore_events
#define looprt_poll__wait_semaphore lrt__semaphore_events
#define looprt_callback__begin_semaphore lrt__semaphore_events
#define looprt_callback__end_semaphore lrt__semaphore_events
#define looprt_work__submit_semaphore lrt__semaphore_events
#define looprt_work__start_semaphore lrt__semaphore_events
#define looprt_work__end_semaphore lrt__semaphore_events
#define looprt_work__done_semaphore lrt__semaphore_events
#define looprt_flush_semaphore lrt__semaphore_flush

#define LRT_TRACING() __builtin_expect(lrt__semaphores.any != 0, 0)

/* How many probe sites are attached: the semaphores' sum. */
#define LRT_LISTENERS() \
  ((unsigned short) (lrt__semaphores.s.events + lrt__semaphores.s.flush))

/* A per-event probe: fired, its arguments computed, only when one is
 * attached. Call only when LRT_TRACING(). */
#define LRT_EVENT_PROBES() __builtin_expect(lrt__semaphores.s.events != 0, 0)
#define LRT_PROBE1(name, a)         \
  do {                              \
    if (LRT_EVENT_PROBES())         \
      STAP_PROBE1(looprt, name, a); \
  } while (0)
#define LRT_PROBE2(name, a, b)         \
  do {                                 \
    if (LRT_EVENT_PROBES())            \
      STAP_PROBE2(looprt, name, a, b); \
  } while (0)
#define LRT_PROBE3(name, a, b, c)         \
  do {                                    \
    if (LRT_EVENT_PROBES())               \
      STAP_PROBE3(looprt, name, a, b, c); \
  } while (0)
#define LRT_PROBE4(name, a, b, c, d)         \
  do {                                       \
    if (LRT_EVENT_PROBES())                  \
      STAP_PROBE4(looprt, name, a, b, c, d); \
  } while (0)
#define LRT_PROBE5(name, a, b, c, d, e)         \
  do {                                          \
    if (LRT_EVENT_PROBES())                     \
      STAP_PROBE5(looprt, name, a, b, c, d, e); \
  } while (0)

/* The batch probe (trace.c), always fired. */
#define LRT_PROBE_FLUSH(records, bytes, ring) \
  STAP_PROBE3(looprt, flush, records, bytes, ring)

#else /* LOOPRT_NO_PROBES */

#define LRT_TRACING() 0
#define LRT_LISTENERS() 0
#define LRT_PROBE1(name, a) ((void) 0)
#define LRT_PROBE2(name, a, b) ((void) 0)
#define LRT_PROBE3(name, a, b, c) ((void) 0)
#define LRT_PROBE4(name, a, b, c, d) ((void) 0)
#define LRT_PROBE5(name, a, b, c, d, e) ((void) 0)
#define LRT_PROBE_FLUSH(records, bytes, ring) ((void) 0)

#endif /* LOOPRT_NO_PROBES */

#endif /* LOOPRT_PROBES_H */
