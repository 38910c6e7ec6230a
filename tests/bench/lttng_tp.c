/* lttng_tp.c — the LTTng build's tracepoint provider (lttng_tp.h), its hit
 * counter, and the switch that keeps the runtime's event sites on
 * (lttng_probes.h says why). */
#include <stdatomic.h>
#include <stdint.h>

#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "lttng_tp.h"

_Atomic uint64_t bench__probe_hits;

/* The batch probe's semaphore (runtime/src/trace.c). */
extern volatile unsigned short lrt__semaphore_flush;

uint64_t bench_probe_hits(void) {
  return atomic_load(&bench__probe_hits);
}

/* As if a tracer were attached for the whole run. */
__attribute__((constructor)) static void gate_on(void) {
  lrt__semaphore_flush = 1;
}
