/* rt_fidelity — small looprt programs whose traces the runtime's fidelity
 * tests (tests/test-runtime-fidelity.c) check against what the program
 * itself counted. Usage: rt_fidelity MODE COUNTS_FILE
 *
 *   handles  plain libuv idle, prepare, check and timer handles started
 *            from every phase; each callback is a user span labelled
 *            "PHASE<-ORIGIN", PHASE being where libuv runs it.
 *   early    a short pool task submitted from main before lrt_run().
 *   attach   ticks that each run a 30 ms timer callback, until SIGTERM:
 *            a tracer attaching (-p) lands mid-tick.
 *   longtask one pool task, labelled "longtask", that runs until the
 *            program gets SIGUSR2; "ready" once it runs. A 10 ms interval
 *            keeps the loop ticking meanwhile; the program ends after
 *            the task's completion.
 *   abort, segv, kill, exit
 *            prints "ready", then on SIGUSR1 runs immediates, each a
 *            span, and the last one dies: abort() (the program has a
 *            SIGABRT handler of its own, which says "own handler ran"),
 *            a write through NULL, SIGKILL to itself, _exit(0). segv and
 *            exit run a pool task first: those programs have threads
 *            (pool workers, looprt's flusher), the others have one.
 *
 * COUNTS_FILE gets one line per label, "COUNT LABEL", of the callbacks the
 * program ran; written as they run (dying modes) or at the end.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "looprt.h"

#define MAX_LABELS 64
#define ROUNDS 20

static lrt_loop_t loop;
static const char* counts_path;
static const char* labels[MAX_LABELS];
static long counts[MAX_LABELS];
static int nlabels;
static volatile sig_atomic_t stop_requested;

static void write_counts(void) {
  FILE* f = fopen(counts_path, "w");
  int i;
  if (f == NULL)
    exit(2);
  for (i = 0; i < nlabels; i++)
    fprintf(f, "%ld %s\n", counts[i], labels[i]);
  fclose(f);
}

static void count(const char* label) {
  int i;
  for (i = 0; i < nlabels && strcmp(labels[i], label) != 0; i++)
    ;
  if (i == nlabels && nlabels < MAX_LABELS)
    labels[nlabels++] = label;
  if (i < MAX_LABELS)
    counts[i]++;
}

static void check(int r, const char* what) {
  if (r != 0) {
    fprintf(stderr, "rt_fidelity: %s: %s\n", what, uv_strerror(r));
    exit(2);
  }
}

static void busy_ms(int ms) {
  struct timespec a;
  struct timespec b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  do
    clock_gettime(CLOCK_MONOTONIC, &b);
  while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}

/* ------------------------------------------------------------------------
 * handles: one plain handle of each kind per start, freed once it ran.
 */

struct plain {
  union {
    uv_handle_t handle;
    uv_idle_t idle;
    uv_prepare_t prepare;
    uv_check_t check;
    uv_timer_t timer;
  } u;
  const char* label;
};

static void plain_free(uv_handle_t* h) {
  free(h->data);
}

static void plain_ran(uv_handle_t* h) {
  struct plain* p = h->data;
  lrt_span_begin(&loop, p->label);
  count(p->label);
  lrt_span_end(&loop);
  uv_close(h, plain_free);
}

static void idle_cb(uv_idle_t* h) {
  uv_idle_stop(h);
  plain_ran((uv_handle_t*) h);
}

static void prepare_cb(uv_prepare_t* h) {
  uv_prepare_stop(h);
  plain_ran((uv_handle_t*) h);
}

static void check_cb(uv_check_t* h) {
  uv_check_stop(h);
  plain_ran((uv_handle_t*) h);
}

static void timer_cb(uv_timer_t* h) {
  plain_ran((uv_handle_t*) h);
}

static struct plain* plain_new(const char* label) {
  struct plain* p = calloc(1, sizeof(*p));
  if (p == NULL)
    exit(2);
  p->label = label;
  p->u.handle.data = p;
  return p;
}

/* Starts one plain idle, prepare, check and 0 ms timer; `origin` is the
 * phase (or callback) starting them. The labels must be literals. */
#define START_ALL(origin)                        \
  do {                                           \
    uv_loop_t* uv = lrt_uv_loop(&loop);          \
    struct plain* p;                             \
    p = plain_new("idle<-" origin);              \
    uv_idle_init(uv, &p->u.idle);                \
    uv_idle_start(&p->u.idle, idle_cb);          \
    p = plain_new("prepare<-" origin);           \
    uv_prepare_init(uv, &p->u.prepare);          \
    uv_prepare_start(&p->u.prepare, prepare_cb); \
    p = plain_new("check<-" origin);             \
    uv_check_init(uv, &p->u.check);              \
    uv_check_start(&p->u.check, check_cb);       \
    p = plain_new("timers<-" origin);            \
    uv_timer_init(uv, &p->u.timer);              \
    uv_timer_start(&p->u.timer, timer_cb, 0, 0); \
  } while (0)

static lrt_timer_t tick_timer;
static lrt_immediate_t imm;
static lrt_work_t work;
static uv_async_t async;
static uv_idle_t origin_idle;
static uv_prepare_t origin_prepare;
static uv_check_t origin_check;
static uv_timer_t doomed;
static int rounds;

static void origin_idle_cb(uv_idle_t* h) {
  uv_idle_stop(h);
  START_ALL("idle");
}

static void origin_prepare_cb(uv_prepare_t* h) {
  uv_prepare_stop(h);
  START_ALL("prepare");
}

static void origin_check_cb(uv_check_t* h) {
  uv_check_stop(h);
  START_ALL("check");
}

static void doomed_close_cb(uv_handle_t* h) {
  START_ALL("close");
}

/* Plain, and without a span: looprt sees nothing of it. */
static void async_cb(uv_async_t* h) {
  START_ALL("async");
}

static void work_fn(lrt_work_t* w) {
  uv_async_send(&async);
}

static void work_done(lrt_work_t* w, int status) {
  count("work");
  START_ALL("poll");
}

static void imm_cb(lrt_immediate_t* i) {
  count("immediate");
  START_ALL("immediate");
}

static void tick_cb(lrt_timer_t* t) {
  uv_loop_t* uv = lrt_uv_loop(&loop);
  count("timer");
  START_ALL("timers");
  uv_idle_start(&origin_idle, origin_idle_cb);
  uv_prepare_start(&origin_prepare, origin_prepare_cb);
  uv_check_start(&origin_check, origin_check_cb);
  uv_timer_init(uv, &doomed);
  uv_close((uv_handle_t*) &doomed, doomed_close_cb);
  check(lrt_immediate(&loop, &imm, imm_cb, "immediate"), "immediate");
  check(lrt_work_submit(&loop, &work, work_fn, work_done, "work"), "work");
  if (++rounds == ROUNDS) {
    lrt_timer_clear(t);
    uv_close((uv_handle_t*) &async, NULL);
  }
}

static void run_handles(void) {
  uv_loop_t* uv = lrt_uv_loop(&loop);
  check(uv_async_init(uv, &async, async_cb), "async");
  uv_idle_init(uv, &origin_idle);
  uv_prepare_init(uv, &origin_prepare);
  uv_check_init(uv, &origin_check);
  check(lrt_interval(&loop, &tick_timer, 15, tick_cb, "timer"), "interval");
  lrt_run(&loop);
}

/* ------------------------------------------------------------------------
 * early, attach
 */

static void short_task(lrt_work_t* w) {
}

static void short_done(lrt_work_t* w, int status) {
  count("early");
}

static void run_early(void) {
  check(lrt_work_submit(&loop, &work, short_task, short_done, "early"), "work");
  busy_ms(3);
  lrt_run(&loop);
}

static void on_term(int sig) {
  stop_requested = 1;
}

static void busy_cb(lrt_timer_t* t) {
  lrt_span_begin(&loop, "inner");
  busy_ms(30);
  lrt_span_end(&loop);
  count("busy");
  if (stop_requested)
    lrt_timer_clear(t);
}

static void run_attach(void) {
  signal(SIGTERM, on_term);
  check(lrt_interval(&loop, &tick_timer, 1, busy_cb, "busy"), "interval");
  printf("ready\n");
  fflush(stdout);
  lrt_run(&loop);
}

/* ------------------------------------------------------------------------
 * longtask
 */

static volatile sig_atomic_t released;

static void on_release(int sig) {
  released = 1;
}

static void long_task(lrt_work_t* w) {
  static const char text[] = "ready\n";
  if (write(STDOUT_FILENO, text, sizeof(text) - 1) < 0)
    _exit(3);
  while (!released)
    usleep(1000);
}

static void long_done(lrt_work_t* w, int status) {
  count("longtask");
  lrt_timer_clear(&tick_timer);
}

static void tick_count_cb(lrt_timer_t* t) {
  count("tick");
}

static void run_longtask(void) {
  signal(SIGUSR2, on_release);
  check(lrt_interval(&loop, &tick_timer, 10, tick_count_cb, "tick"),
        "interval");
  check(lrt_work_submit(&loop, &work, long_task, long_done, "longtask"),
        "work");
  lrt_run(&loop);
}

/* ------------------------------------------------------------------------
 * Dying modes: 200 immediates, a tick apart; the last one dies.
 */

static const char* death;
static int* volatile nowhere; /* NULL */
static int deaths_left = 200;

static void die(void) {
  if (strcmp(death, "abort") == 0)
    abort();
  if (strcmp(death, "segv") == 0)
    *nowhere = 1;
  if (strcmp(death, "kill") == 0)
    kill(getpid(), SIGKILL);
  _exit(0);
}

static void dying_cb(lrt_immediate_t* i) {
  count("dying");
  write_counts();
  if (--deaths_left == 0)
    die();
  busy_ms(1);
  check(lrt_immediate(&loop, i, dying_cb, "dying"), "immediate");
}

static lrt_signal_t go;

static void start_dying(lrt_signal_t* sig, int signum) {
  lrt_signal_stop(sig);
  lrt_timer_clear(&tick_timer);
  check(lrt_immediate(&loop, &imm, dying_cb, "dying"), "immediate");
}

static void own_abort_handler(int sig) {
  static const char text[] = "own handler ran\n";
  if (write(STDOUT_FILENO, text, sizeof(text) - 1) < 0)
    _exit(3);
}

static void never_cb(lrt_timer_t* t) {
}

/* Before the tracer attaches: not counted. */
static void uncounted_done(lrt_work_t* w, int status) {
}

static void run_dying(const char* how) {
  death = how;
  if (strcmp(how, "segv") == 0 || strcmp(how, "exit") == 0)
    check(lrt_work_submit(&loop, &work, short_task, uncounted_done, "pool"),
          "work");
  if (strcmp(how, "abort") == 0)
    signal(SIGABRT, own_abort_handler);
  check(lrt_signal_start(&loop, &go, SIGUSR1, start_dying, "go"), "signal");
  /* Keeps the loop alive until the signal. */
  check(lrt_timeout(&loop, &tick_timer, 60000, never_cb, "idle"), "timeout");
  printf("ready\n");
  fflush(stdout);
  lrt_run(&loop);
}

int main(int argc, char** argv) {
  const char* mode;
  if (argc != 3) {
    fprintf(stderr, "usage: rt_fidelity MODE COUNTS_FILE\n");
    return 2;
  }
  mode = argv[1];
  counts_path = argv[2];
  check(lrt_loop_init(&loop), "loop");
  if (strcmp(mode, "handles") == 0)
    run_handles();
  else if (strcmp(mode, "early") == 0)
    run_early();
  else if (strcmp(mode, "attach") == 0)
    run_attach();
  else if (strcmp(mode, "longtask") == 0)
    run_longtask();
  else
    run_dying(mode);
  write_counts();
  check(lrt_loop_close(&loop), "close");
  return 0;
}
