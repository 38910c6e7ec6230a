/* export_bench.h — how fast the exporter writes a trace
 * (`looptrace record --bench-export N`). */
#ifndef LOOPTRACE_EXPORT_BENCH_H
#define LOOPTRACE_EXPORT_BENCH_H

#include <stdint.h>

/* Builds about `records` synthetic records of a busy loop (ticks with
 * phases, timers, I/O and nested callbacks, threadpool tasks on four
 * workers), then times the exporter turning them into a trace written to
 * `output` (NULL: /dev/null), with the same cross-thread ordering as a
 * recording. Prints "export_events_per_s: N" and the details on stdout.
 * Returns 0, or a negative errno after printing one line to stderr. */
int export_bench(const char* output, uint64_t records, int all_phases);

#endif /* LOOPTRACE_EXPORT_BENCH_H */
