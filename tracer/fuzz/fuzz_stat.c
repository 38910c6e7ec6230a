/* fuzz_stat.c — libFuzzer target for the trace loader and the summary
 * behind `looptrace stat` (make fuzz). Any crash, sanitizer report or
 * summary that depends on how the input was split is a finding. */
#include <stdint.h>
#include <stdlib.h>

#include "stat_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int rc = stat_fuzz_check(data, size);
  if (rc == -EDOM)
    abort();
  return 0;
}
