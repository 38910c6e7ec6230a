/* clock_spans.c — a program whose trace can be checked against the clock
 * (tests/test-tracer-clock.c).
 *
 *   clock_spans SECONDS
 *
 * Every 2 ms for SECONDS it reads CLOCK_MONOTONIC (a) just before it
 * records a user span and again just after (b), and submits two tiny pool
 * tasks (label "clock task"), so that records come from several threads.
 * Each span's label carries the previous span's readings, "clock span
 * a=A b=B" (0 for the first); the last span is "clock end a=A b=B". A
 * span's times in the trace must lie within [a, b] of its own readings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "looprt.h"

#define TASKS_PER_TICK 2
#define MAX_TASKS 64

static lrt_loop_t loop;
static lrt_timer_t timer;
static uint64_t end_ns;
static uint64_t last_a;
static uint64_t last_b;
static lrt_work_t tasks[MAX_TASKS];
static int tasks_free[MAX_TASKS];
static char label[96];

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void task_run(lrt_work_t* w) {
  /* A few hundred ns of work, so that start and end differ. */
  volatile unsigned x = 0;
  unsigned i;
  for (i = 0; i < 200; i++)
    x += i;
}

static void task_done(lrt_work_t* w, int status) {
  tasks_free[w - tasks] = 1;
}

static void submit_tasks(void) {
  int i;
  int n = 0;
  for (i = 0; i < MAX_TASKS && n < TASKS_PER_TICK; i++) {
    if (!tasks_free[i])
      continue;
    tasks_free[i] = 0;
    if (lrt_work_submit(&loop, &tasks[i], task_run, task_done, "clock task") !=
        0) {
      fprintf(stderr, "clock_spans: lrt_work_submit failed\n");
      exit(1);
    }
    n++;
  }
}

static void tick(lrt_timer_t* t) {
  int last = mono_ns() >= end_ns;
  uint64_t a;
  /* The label is made before `a` is read, so that only the span lies
   * between the two readings. */
  snprintf(label, sizeof(label), "clock %s a=%llu b=%llu",
           last ? "end" : "span", (unsigned long long) last_a,
           (unsigned long long) last_b);
  a = mono_ns();
  lrt_span_begin(&loop, label);
  lrt_span_end(&loop);
  last_b = mono_ns();
  last_a = a;
  if (last) {
    lrt_timer_clear(t);
    return;
  }
  submit_tasks();
}

int main(int argc, char** argv) {
  int i;
  if (argc != 2 || atof(argv[1]) <= 0) {
    fprintf(stderr, "usage: clock_spans SECONDS\n");
    return 2;
  }
  for (i = 0; i < MAX_TASKS; i++)
    tasks_free[i] = 1;
  if (lrt_loop_init(&loop) != 0)
    return 1;
  end_ns = mono_ns() + (uint64_t) (atof(argv[1]) * 1e9);
  if (lrt_interval(&loop, &timer, 2, tick, "clock tick") != 0)
    return 1;
  if (lrt_run(&loop) != 0)
    return 1;
  return lrt_loop_close(&loop) != 0;
}
