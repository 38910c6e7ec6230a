/* stat_values.h — durations kept for percentiles, compactly.
 *
 * Percentiles need every value, so this is what grows with the trace:
 * 4 bytes per value while all of them fit in 32 bits of nanoseconds
 * (4.29 s), 8 bytes per value once one does not.
 */
#ifndef LOOPTRACE_STAT_VALUES_H
#define LOOPTRACE_STAT_VALUES_H

#include <stddef.h>
#include <stdint.h>

struct stat_values {
  uint32_t* v32; /* the values while all fit in 32 bits, else NULL */
  uint64_t* v64; /* the values once one did not */
  size_t n;      /* how many */
  size_t cap;    /* room in whichever array is in use */
  uint64_t max;  /* the largest value (0 when n == 0) */
  uint64_t sum;  /* their sum, saturating at UINT64_MAX */
};

/* Zeroes `v`: an empty set. Does not allocate. */
void stat_values_init(struct stat_values* v);

/* Frees the values; `v` is empty again afterwards. */
void stat_values_free(struct stat_values* v);

/* Adds one value (ns). Returns 0 or -ENOMEM (then `v` is unchanged). */
int stat_values_add(struct stat_values* v, uint64_t ns);

/* The nearest-rank percentile: the value at rank ceil(pct/100 * n) on the
 * sorted values (TRACE-FORMAT.md, "Summary figures"), 1 <= pct <= 100.
 * Reorders the values in place (no allocation). Returns 0, or -ENOENT when
 * `v` is empty. */
int stat_values_pct(struct stat_values* v, unsigned pct, uint64_t* out);

#endif /* LOOPTRACE_STAT_VALUES_H */
