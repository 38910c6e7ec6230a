/* flight_target — a looprt program for the flight recorder's tests
 * (tests/test-tracer-flight.c): thousands of ~1 ms ticks, with rare slow
 * ones when asked.
 *
 *   flight_target [--seconds S] [--slow-at S1,S2,...] [--slow-ms MS]
 *                 [--queue-at S] [--task-ms MS] [--flood N]
 *
 *   --seconds S    run S seconds, then exit (default 5)
 *   --slow-at ...  at these times (seconds since the loop started), one
 *                  timer callback ("slow") keeps the loop busy --slow-ms
 *                  (default 80), making one long tick
 *   --queue-at S   at S, a task ("blocker") holds the threadpool's only
 *                  worker (UV_THREADPOOL_SIZE=1) for 100 ms while a second
 *                  ("queued") waits behind it
 *   --task-ms MS   the blocker runs MS ms instead
 *   --flood N      also N user spans per tick, in a chain of immediates
 *                  (one tick after another, as fast as the loop turns)
 *
 * A 1 ms interval ("beat") runs all along. On stdout: "ready" once the
 * loop runs, and "slow N T" just before slow tick N starts (T: its
 * CLOCK_MONOTONIC ns).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "looprt.h"

#define MAX_SLOW 16

static struct {
  lrt_loop_t loop;
  lrt_timer_t beat;
  lrt_timer_t end;
  lrt_timer_t slow[MAX_SLOW];
  lrt_timer_t queue;
  lrt_immediate_t flood;
  lrt_work_t blocker;
  lrt_work_t queued;
  double slow_at[MAX_SLOW];
  int nslow;
  int slow_done;
  uint64_t slow_ms;
  uint64_t task_ms;
  unsigned flood_spans;
  int stopping;
} app;

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void beat_cb(lrt_timer_t* t) {
  (void) t;
}

static void slow_cb(lrt_timer_t* t) {
  uint64_t until;
  (void) t;
  printf("slow %d %llu\n", ++app.slow_done, (unsigned long long) mono_ns());
  fflush(stdout);
  until = mono_ns() + app.slow_ms * 1000000u;
  while (mono_ns() < until)
    ;
}

static void block_fn(lrt_work_t* w) {
  (void) w;
  usleep((useconds_t) (app.task_ms * 1000));
}

static void nothing_fn(lrt_work_t* w) {
  (void) w;
}

static void done_cb(lrt_work_t* w, int status) {
  (void) w;
  (void) status;
}

static void queue_cb(lrt_timer_t* t) {
  (void) t;
  lrt_work_submit(&app.loop, &app.blocker, block_fn, done_cb, "blocker");
  lrt_work_submit(&app.loop, &app.queued, nothing_fn, done_cb, "queued");
}

static void flood_cb(lrt_immediate_t* im) {
  unsigned i;
  for (i = 0; i < app.flood_spans; i++) {
    lrt_span_begin(&app.loop, "flood");
    lrt_span_end(&app.loop);
  }
  if (!app.stopping)
    lrt_immediate(&app.loop, im, flood_cb, "flood");
}

static void end_cb(lrt_timer_t* t) {
  (void) t;
  app.stopping = 1;
  lrt_timer_clear(&app.beat);
}

static void usage(void) {
  fprintf(stderr,
          "usage: flight_target [--seconds S] [--slow-at S1,S2,...] "
          "[--slow-ms MS] [--queue-at S] [--task-ms MS] [--flood N]\n");
  exit(2);
}

static void parse_slow_at(char* list) {
  char* save = NULL;
  char* tok;
  for (tok = strtok_r(list, ",", &save); tok != NULL;
       tok = strtok_r(NULL, ",", &save)) {
    if (app.nslow == MAX_SLOW)
      usage();
    app.slow_at[app.nslow++] = strtod(tok, NULL);
  }
}

int main(int argc, char** argv) {
  double seconds = 5;
  double queue_at = -1;
  int i;

  app.slow_ms = 80;
  app.task_ms = 100;
  for (i = 1; i < argc; i++) {
    if (i + 1 >= argc)
      usage();
    if (strcmp(argv[i], "--seconds") == 0)
      seconds = strtod(argv[++i], NULL);
    else if (strcmp(argv[i], "--slow-at") == 0)
      parse_slow_at(argv[++i]);
    else if (strcmp(argv[i], "--slow-ms") == 0)
      app.slow_ms = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--queue-at") == 0)
      queue_at = strtod(argv[++i], NULL);
    else if (strcmp(argv[i], "--task-ms") == 0)
      app.task_ms = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--flood") == 0)
      app.flood_spans = (unsigned) strtoul(argv[++i], NULL, 10);
    else
      usage();
  }
  if (lrt_loop_init(&app.loop) != 0)
    return 1;
  lrt_interval(&app.loop, &app.beat, 1, beat_cb, "beat");
  lrt_timeout(&app.loop, &app.end, (uint64_t) (seconds * 1000), end_cb, "end");
  for (i = 0; i < app.nslow; i++)
    lrt_timeout(&app.loop, &app.slow[i], (uint64_t) (app.slow_at[i] * 1000),
                slow_cb, "slow");
  if (queue_at >= 0)
    lrt_timeout(&app.loop, &app.queue, (uint64_t) (queue_at * 1000), queue_cb,
                "queue");
  if (app.flood_spans > 0)
    lrt_immediate(&app.loop, &app.flood, flood_cb, "flood");
  printf("ready\n");
  fflush(stdout);
  if (lrt_run(&app.loop) != 0)
    return 1;
  lrt_loop_close(&app.loop);
  return 0;
}
