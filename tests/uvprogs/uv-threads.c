/* uv-threads.c — a plain libuv program (no looprt), linked statically
 * with Debian's libuv_a.a (libuv 1.44: timers run first in a tick), for
 * the libuv source's tests: five uv_queue_work tasks on the default pool
 * of four, a uv_fs_stat issued with them, a zero timer and a check
 * handle.
 *
 *   uv-threads [--wait]    (--wait: start on SIGUSR2, after "ready PID")
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#define TASKS 5

static uv_loop_t* loop;
static uv_work_t works[TASKS];
static unsigned long results[TASKS];
static uv_fs_t stat_req;
static uv_timer_t timer;
static uv_check_t check;
static uv_signal_t go;
static int left;
static const char* self;

/* About 100 ms of arithmetic on a worker. */
static void busy_work(uv_work_t* req) {
  unsigned long* out = req->data;
  unsigned long x = (unsigned long) (out - results) + 1;
  long i;
  for (i = 0; i < 60000000; i++)
    x = x * 6364136223846793005ul + 1442695040888963407ul;
  *out = x;
}

static void finish(const char* what) {
  printf("%s done\n", what);
  if (--left == 0) {
    uv_check_stop(&check);
    uv_close((uv_handle_t*) &check, NULL);
    uv_close((uv_handle_t*) &timer, NULL);
    printf("done\n");
  }
  fflush(stdout);
}

static void after_busy(uv_work_t* req, int status) {
  char what[32];
  snprintf(what, sizeof(what), "work %d%s", (int) (req - works) + 1,
           status != 0 ? " (failed)" : "");
  finish(what);
}

static void after_stat(uv_fs_t* req) {
  finish(req->result == 0 ? "stat" : "stat (failed)");
  uv_fs_req_cleanup(req);
}

static void on_timer(uv_timer_t* t) {
  (void) t;
  printf("timer\n");
}

static void on_check(uv_check_t* c) {
  (void) c;
}

static void run(void) {
  int i;
  left = TASKS + 1;
  uv_timer_start(&timer, on_timer, 0, 0);
  uv_check_start(&check, on_check);
  for (i = 0; i < TASKS; i++) {
    works[i].data = &results[i];
    uv_queue_work(loop, &works[i], busy_work, after_busy);
  }
  uv_fs_stat(loop, &stat_req, self, after_stat);
}

static void on_go(uv_signal_t* s, int signum) {
  (void) signum;
  uv_close((uv_handle_t*) s, NULL);
  run();
}

static void on_start(uv_timer_t* t) {
  (void) t;
  run();
}

int main(int argc, char** argv) {
  loop = uv_default_loop();
  self = argv[0];
  uv_timer_init(loop, &timer);
  uv_check_init(loop, &check);
  if (argc > 1 && strcmp(argv[1], "--wait") == 0) {
    uv_signal_init(loop, &go);
    uv_signal_start(&go, on_go, SIGUSR2);
    printf("ready %d\n", (int) getpid());
    fflush(stdout);
  } else {
    uv_timer_start(&timer, on_start, 200, 0);
  }
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  return 0;
}
