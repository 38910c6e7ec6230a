/* fuzz_export.c — libFuzzer target for the exporter: records in, JSON out
 * (make fuzz-export). Any crash, sanitizer report, hang, unbounded memory
 * or trace that is not valid JSON is a finding. */
#include <stdint.h>
#include <stdlib.h>

#include "export_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int rc = export_fuzz_check(data, size);
  if (rc == -EDOM)
    abort();
  return 0;
}
