/* version.c — what the runtime says about itself and its threadpool. */
#include <stdlib.h>

#include "looprt.h"
#include "looptrace_version.h"

/* libuv's limit on UV_THREADPOOL_SIZE (src/threadpool.c). */
#define LIBUV_MAX_THREADPOOL_SIZE 1024
#define LIBUV_DEFAULT_THREADPOOL_SIZE 4

const char* lrt_version(void) {
  return LOOPTRACE_VERSION;
}

int lrt_threadpool_size(void) {
  /* libuv's rule, read the same way: atoi() of the variable, 0 means 1,
   * and anything above the maximum (including negative numbers, which it
   * reads as huge unsigned values) means the maximum. */
  const char* val = getenv("UV_THREADPOOL_SIZE");
  unsigned int n = LIBUV_DEFAULT_THREADPOOL_SIZE;
  if (val != NULL)
    n = (unsigned int) atoi(val);
  if (n == 0)
    n = 1;
  if (n > LIBUV_MAX_THREADPOOL_SIZE)
    n = LIBUV_MAX_THREADPOOL_SIZE;
  return (int) n;
}
