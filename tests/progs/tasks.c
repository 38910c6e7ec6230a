/* tasks.c — a looprt program for the tracer's tests, written against
 * looprt.h only.
 *
 *   tasks [N] [--exit CODE | --abort]
 *       submits N (default 6) short pool tasks from main, before lrt_run
 *       (the README's pattern), runs them and a few timer ticks, then
 *       ends: returns 0, exits with CODE, or calls abort().
 *   tasks --churn SECONDS
 *       for SECONDS, starts short-lived threads one after another, each
 *       running a loop of its own for a few ticks.
 *
 * It prints how many completions it counted ("tasks: N done").
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "looprt.h"

#define MAX_TASKS 64

static lrt_loop_t loop;
static lrt_work_t works[MAX_TASKS];
static lrt_timer_t timer;
static int done;
static int ticks;
static int exit_code = -1;
static int do_abort;

static void spin_us(long us) {
  struct timespec a;
  struct timespec b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  do
    clock_gettime(CLOCK_MONOTONIC, &b);
  while ((b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000 <
         us);
}

static void work_fn(lrt_work_t* w) {
  (void) w;
  spin_us(200);
}

static void work_done(lrt_work_t* w, int status) {
  (void) w;
  (void) status;
  done++;
}

static void on_timer(lrt_timer_t* t) {
  if (++ticks < 5) {
    lrt_timeout(&loop, t, 2, on_timer, "tick timer");
    return;
  }
  printf("tasks: %d done\n", done);
  fflush(stdout);
  if (do_abort)
    abort();
  if (exit_code >= 0)
    exit(exit_code);
}

/* --churn: each thread runs a loop of its own for a few ticks. */
struct churner {
  lrt_loop_t loop;
  lrt_timer_t timer;
  int ticks;
};

static void churn_timer(lrt_timer_t* t) {
  struct churner* c = t->data;
  if (++c->ticks < 3)
    lrt_timeout(&c->loop, t, 1, churn_timer, "churn tick");
}

static void* churn_thread(void* arg) {
  struct churner c;
  (void) arg;
  memset(&c, 0, sizeof(c));
  if (lrt_loop_init(&c.loop) != 0)
    return NULL;
  c.timer.data = &c;
  lrt_timeout(&c.loop, &c.timer, 1, churn_timer, "churn tick");
  lrt_run(&c.loop);
  lrt_loop_close(&c.loop);
  return NULL;
}

static int churn(double seconds) {
  struct timespec a;
  struct timespec b;
  long threads = 0;
  clock_gettime(CLOCK_MONOTONIC, &a);
  printf("tasks: churning\n");
  fflush(stdout);
  do {
    pthread_t th;
    if (pthread_create(&th, NULL, churn_thread, NULL) != 0)
      return 1;
    pthread_join(th, NULL);
    threads++;
    clock_gettime(CLOCK_MONOTONIC, &b);
  } while ((double) (b.tv_sec - a.tv_sec) +
               (double) (b.tv_nsec - a.tv_nsec) / 1e9 <
           seconds);
  printf("tasks: %ld threads\n", threads);
  return 0;
}

int main(int argc, char** argv) {
  int n = 6;
  int i;
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--exit") == 0 && i + 1 < argc)
      exit_code = atoi(argv[++i]);
    else if (strcmp(argv[i], "--abort") == 0)
      do_abort = 1;
    else if (strcmp(argv[i], "--churn") == 0 && i + 1 < argc)
      return churn(atof(argv[++i]));
    else
      n = atoi(argv[i]);
  }
  if (n < 0 || n > MAX_TASKS)
    n = MAX_TASKS;
  if (lrt_loop_init(&loop) != 0)
    return 1;
  for (i = 0; i < n; i++)
    lrt_work_submit(&loop, &works[i], work_fn, work_done, "short task");
  lrt_timeout(&loop, &timer, 2, on_timer, "tick timer");
  lrt_run(&loop);
  lrt_loop_close(&loop);
  return done == n ? 0 : 1;
}
