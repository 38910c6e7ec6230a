/* probes.h — looprt's USDT probes (provider "looprt"; runtime/PROBES.md).
 *
 * Every probe is guarded by one shared semaphore, lrt__semaphore: each
 * probe's note names the same address, and the kernel adds one to it for
 * every attached probe site. So one load and one branch tell an event site
 * whether anybody listens, whatever they attached to; with nobody
 * attached it costs exactly that (LRT_TRACING()).
 *
 * Building with -DLOOPRT_NO_PROBES leaves the probes and the semaphore
 * out entirely; `make bench` compares such a build with the normal one.
 */
#ifndef LOOPRT_PROBES_H
#define LOOPRT_PROBES_H

#ifndef LOOPRT_NO_PROBES

#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

/* In .probes, where tools expect USDT semaphores; defined in trace.c.
 * Hidden, so that code in the shared library reaches it with one
 * PC-relative load instead of going through the GOT. */
extern volatile unsigned short lrt__semaphore
    __attribute__((visibility("hidden")));

/* sys/sdt.h names a probe's semaphore provider_name_semaphore; all of ours
 * are the shared one. */
#define looprt_loop__start_semaphore lrt__semaphore
#define looprt_loop__stop_semaphore lrt__semaphore
#define looprt_tick__begin_semaphore lrt__semaphore
#define looprt_tick__end_semaphore lrt__semaphore
#define looprt_phase__begin_semaphore lrt__semaphore
#define looprt_phase__end_semaphore lrt__semaphore
#define looprt_poll__wait_semaphore lrt__semaphore
#define looprt_callback__begin_semaphore lrt__semaphore
#define looprt_callback__end_semaphore lrt__semaphore
#define looprt_work__submit_semaphore lrt__semaphore
#define looprt_work__start_semaphore lrt__semaphore
#define looprt_work__end_semaphore lrt__semaphore
#define looprt_work__done_semaphore lrt__semaphore
#define looprt_flush_semaphore lrt__semaphore

#define LRT_TRACING() __builtin_expect(lrt__semaphore != 0, 0)

/* How many probe sites are attached: the semaphore's value. */
#define LRT_LISTENERS() lrt__semaphore

#define LRT_PROBE1(name, a) STAP_PROBE1(looprt, name, a)
#define LRT_PROBE2(name, a, b) STAP_PROBE2(looprt, name, a, b)
#define LRT_PROBE3(name, a, b, c) STAP_PROBE3(looprt, name, a, b, c)
#define LRT_PROBE4(name, a, b, c, d) STAP_PROBE4(looprt, name, a, b, c, d)
#define LRT_PROBE5(name, a, b, c, d, e) STAP_PROBE5(looprt, name, a, b, c, d, e)

#else /* LOOPRT_NO_PROBES */

#define LRT_TRACING() 0
#define LRT_LISTENERS() 0
#define LRT_PROBE1(name, a) ((void) 0)
#define LRT_PROBE2(name, a, b) ((void) 0)
#define LRT_PROBE3(name, a, b, c) ((void) 0)
#define LRT_PROBE4(name, a, b, c, d) ((void) 0)
#define LRT_PROBE5(name, a, b, c, d, e) ((void) 0)

#endif /* LOOPRT_NO_PROBES */

#endif /* LOOPRT_PROBES_H */
