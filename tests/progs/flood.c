/* flood.c — a fake looprt target for the tracer's robustness tests.
 *
 * It has its own looprt:flush probe (with a semaphore, as the runtime's)
 * and, once a tracer attaches, fires it as fast as it can with batches of
 * well-formed records of the looprt trace format (looprt_trace.h), in one
 * of these shapes:
 *
 *   flood [ticks]   one loop thread: ticks with phases and callbacks
 *   flood tids      every batch from new thread ids (a worker task each)
 *   flood endless   one tick that never ends: callbacks forever
 *   flood future    one record stamped 2^63, then ticks
 *   flood version N ticks from a loop that speaks trace format N
 *
 * It prints "flood: ready" when it starts and runs until killed, and
 * "flood: untraced" each time the probe's semaphore falls back to 0 (the
 * last tracer's probe is gone). On SIGUSR1 it stops firing for good and
 * prints "flood: fired N": the records it handed to the probe while a
 * tracer was attached.
 *
 * `flood --hold SHAPE` fires only once it also gets SIGUSR2: the kernel
 * sets the semaphore before libbpf attaches the program, and on a loaded
 * machine the 50 ms it waits otherwise can be too short, so that records
 * counted as fired were never seen. A test that wants "fired" exact sends
 * SIGUSR2 once looptrace says it traces.
 */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "looprt_trace.h"

volatile unsigned short looprt_flush_semaphore
    __attribute__((section(".probes"), used)) = 0;

#define BATCH LRT_BATCH_MAX_RECORDS

enum shape { TICKS, TIDS, ENDLESS, FUTURE };

static struct lrt_record batch[BATCH];
static int len;
static uint32_t tid;
static uint64_t fired;
static volatile sig_atomic_t paused;
static volatile sig_atomic_t go = 1;

static void on_usr1(int signo) {
  (void) signo;
  paused = 1;
}

static void on_usr2(int signo) {
  (void) signo;
  go = 1;
}

static uint64_t now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static void flush(void) {
  if (len > 0)
    STAP_PROBE2(looprt, flush, batch, (long) (len * sizeof(batch[0])));
  if (looprt_flush_semaphore != 0)
    fired += (uint64_t) len;
  len = 0;
}

static void add(uint8_t type, uint8_t kind, uint64_t id, uint64_t arg) {
  struct lrt_record* r;
  if (len == BATCH)
    flush();
  r = &batch[len++];
  memset(r, 0, sizeof(*r));
  r->ts = now();
  r->tid = tid;
  r->type = type;
  r->kind = kind;
  r->id = id;
  r->arg = arg;
}

static void intro(unsigned version) {
  add(LRT_REC_THREAD, LRT_THREAD_LOOP, 1, 0);
  add(LRT_REC_LOOP_START, 0, 1, LRT_LOOP_INFO(0x012c02, 4, version));
  add(LRT_REC_POOL, 0, 0, 0);
}

static void tick(uint64_t n) {
  add(LRT_REC_TICK_BEGIN, 0, n, 0);
  add(LRT_REC_PHASE, LRT_PHASE_TIMERS, n, 0);
  add(LRT_REC_CALLBACK_BEGIN, LRT_CB_TIMER, 0, 0);
  add(LRT_REC_CALLBACK_END, LRT_CB_TIMER, 0, 0);
  add(LRT_REC_PHASE, LRT_PHASE_POLL, n, 0);
  add(LRT_REC_PHASE, LRT_PHASE_CHECK, n, 0);
  add(LRT_REC_CALLBACK_BEGIN, LRT_CB_IMMEDIATE, 0, 0);
  add(LRT_REC_CALLBACK_END, LRT_CB_IMMEDIATE, 0, 0);
  add(LRT_REC_TICK_END, 0, n, 0);
}

int main(int argc, char** argv) {
  const char* what;
  if (argc > 1 && strcmp(argv[1], "--hold") == 0) {
    go = 0;
    argv++;
    argc--;
  }
  what = argc > 1 ? argv[1] : "ticks";
  enum shape shape = TICKS;
  unsigned version = LRT_TRACE_VERSION;
  uint64_t n = 0;
  uint32_t task = 0;
  uint32_t round = 0;
  if (strcmp(what, "tids") == 0)
    shape = TIDS;
  else if (strcmp(what, "endless") == 0)
    shape = ENDLESS;
  else if (strcmp(what, "future") == 0)
    shape = FUTURE;
  else if (strcmp(what, "version") == 0 && argc > 2)
    version = (unsigned) atoi(argv[2]);
  else if (strcmp(what, "ticks") != 0) {
    fprintf(stderr,
            "usage: flood [--hold] [ticks|tids|endless|future|version N]\n");
    return 2;
  }
  tid = (uint32_t) getpid();
  signal(SIGUSR1, on_usr1);
  signal(SIGUSR2, on_usr2);
  printf("flood: ready\n");
  fflush(stdout);
  while (!paused) {
    while (looprt_flush_semaphore == 0 && !paused)
      usleep(1000);
    /* The kernel sets the semaphore just before it plants the probe, and
     * libbpf attaches the program just after: fire once both are done,
     * so that what is fired is what a tracer sees. */
    usleep(50000);
    while (!go && !paused)
      usleep(1000);
    intro(version);
    if (shape == FUTURE) {
      add(LRT_REC_TICK_BEGIN, 0, ++n, 0);
      batch[len - 1].ts = 1ull << 63;
    }
    if (shape == ENDLESS) {
      add(LRT_REC_TICK_BEGIN, 0, ++n, 0);
      add(LRT_REC_PHASE, LRT_PHASE_POLL, n, 0);
    }
    while (looprt_flush_semaphore != 0 && !paused) {
      /* As the runtime does, again and again: the first may fire before
       * the probe is in place. */
      if (++round % 4096 == 0 && shape != TIDS)
        intro(version);
      switch (shape) {
      case TIDS:
        /* Ten new threads a batch, one task each, whose ids never come
         * back. */
        tid = 0x40000000u + (task & 0x3fffffffu);
        add(LRT_REC_WORK_START, 0, ++task, 0);
        add(LRT_REC_WORK_END, 0, task, 0);
        if (task % 10 == 0)
          flush();
        break;
      case ENDLESS:
        add(LRT_REC_CALLBACK_BEGIN, LRT_CB_TIMER, 0, 0);
        add(LRT_REC_CALLBACK_END, LRT_CB_TIMER, 0, 0);
        break;
      default:
        tick(++n);
      }
    }
    flush();
    if (!paused) {
      printf("flood: untraced\n");
      fflush(stdout);
    }
  }
  printf("flood: fired %llu\n", (unsigned long long) fired);
  fflush(stdout);
  for (;;)
    pause();
}
