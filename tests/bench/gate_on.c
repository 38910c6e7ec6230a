/* gate_on.c — for build/bench/gated/workloads: the runtime's event sites
 * on for the whole run, as if looptrace were attached (its batch probe's
 * semaphore raised, the per-event probes' not), with no tracer (the flush
 * probe fires into nothing); with BENCH_GATE=off in the environment
 * they stay off, so that the same program gives both sides. What the
 * runtime itself does per record, counted by callgrind in `make bench`
 * (attached_instr_per_event_*). At exit it prints, on stderr, the
 * records the runtime wrote: `gate_on: records: N`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The batch probe's semaphore (runtime/src/trace.c). */
extern volatile unsigned short lrt__semaphore_flush;

/* runtime/src/trace.c (internal.h). */
uint64_t lrt__records_written(void);

__attribute__((constructor)) static void gate_on(void) {
  const char* gate = getenv("BENCH_GATE");
  if (gate == NULL || strcmp(gate, "off") != 0)
    lrt__semaphore_flush = 1;
}

__attribute__((destructor)) static void gate_report(void) {
  fprintf(stderr, "gate_on: records: %llu\n",
          (unsigned long long) lrt__records_written());
}
