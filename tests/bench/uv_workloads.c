/* uv_workloads.c — the work of workloads.c and of build/examples/echo,
 * written on raw libuv, for runtime_vs_libuv_ratio.
 *
 *   uv_workloads immediates N   a chain of N "immediates": a FIFO run by a
 *                               check handle, an idle handle keeping poll
 *                               from blocking while it is not empty (what
 *                               Node does for setImmediate)
 *   uv_workloads timers N       10,000 uv_timer_t, each started again for
 *                               1 ms when it fires, N fires in all
 *   uv_workloads pool N [WINDOW]  N empty uv_queue_work() tasks, submitted
 *                               from the loop's first check phase all at
 *                               once, or WINDOW at a time
 *   uv_workloads echo           echo/main.c's server: 127.0.0.1, any port
 *                               (printed), until SIGINT or SIGTERM
 *
 * Output as workloads.c's (wall_ns, cpu_ns, n, switches); echo prints the
 * port the way build/examples/echo does.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <uv.h>

#define TIMER_COUNT 10000

struct immediate {
  struct immediate* next;
  void (*cb)(struct immediate* imm);
};

static struct {
  uv_loop_t loop;
  uint64_t n;
  uint64_t done;

  uv_check_t check;
  uv_idle_t idle;
  struct immediate* imm_head;
  struct immediate* imm_tail;
  struct immediate immediate;

  uv_timer_t* timers;
  uint64_t timers_set;

  uv_work_t* works;
  uint64_t works_submitted;
  uint64_t window;

  uv_tcp_t server;
  uv_signal_t sigint;
  uv_signal_t sigterm;
  char read_buf[64 * 1024];
} b;

static uint64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void check(int r, const char* what) {
  if (r != 0) {
    fprintf(stderr, "uv_workloads: %s: %s\n", what, uv_strerror(r));
    exit(1);
  }
}

/* ------------------------------------------------------------------------
 * Immediates: each check phase runs what was queued before it began.
 */

static void idle_cb(uv_idle_t* handle) {
}

static void set_immediate(struct immediate* imm,
                          void (*cb)(struct immediate* imm)) {
  imm->cb = cb;
  imm->next = NULL;
  if (b.imm_tail != NULL)
    b.imm_tail->next = imm;
  else
    b.imm_head = imm;
  b.imm_tail = imm;
  uv_idle_start(&b.idle, idle_cb);
}

static void check_cb(uv_check_t* handle) {
  struct immediate* last = b.imm_tail;
  struct immediate* imm;
  if (last == NULL)
    return;
  do {
    imm = b.imm_head;
    b.imm_head = imm->next;
    if (b.imm_head == NULL) {
      b.imm_tail = NULL;
      uv_idle_stop(&b.idle);
    }
    imm->cb(imm);
  } while (imm != last);
}

static void immediate_cb(struct immediate* imm) {
  if (++b.done < b.n)
    set_immediate(imm, immediate_cb);
}

static void start_immediates_queue(void) {
  uv_check_init(&b.loop, &b.check);
  uv_idle_init(&b.loop, &b.idle);
  uv_check_start(&b.check, check_cb);
  uv_unref((uv_handle_t*) &b.check);
}

static void start_immediates(void) {
  start_immediates_queue();
  set_immediate(&b.immediate, immediate_cb);
}

/* ------------------------------------------------------------------------
 * A timer storm.
 */

static void timer_cb(uv_timer_t* t) {
  b.done++;
  if (b.timers_set < b.n) {
    b.timers_set++;
    uv_timer_start(t, timer_cb, 1, 0);
  }
}

static void start_timers(uint64_t count) {
  uint64_t i;
  b.timers = calloc(count, sizeof(*b.timers));
  if (b.timers == NULL)
    check(UV_ENOMEM, "timers");
  for (i = 0; i < count; i++) {
    b.timers_set++;
    uv_timer_init(&b.loop, &b.timers[i]);
    uv_timer_start(&b.timers[i], timer_cb, 1, 0);
  }
}

/* ------------------------------------------------------------------------
 * Tiny threadpool tasks.
 */

static void task_fn(uv_work_t* w) {
}

static void task_done(uv_work_t* w, int status) {
  b.done++;
  if (b.works_submitted < b.n) {
    b.works_submitted++;
    check(uv_queue_work(&b.loop, w, task_fn, task_done), "work");
  }
}

/* From the loop, as workloads.c does. */
static void kick_pool(struct immediate* imm) {
  uint64_t i;
  for (i = 0; i < b.window; i++) {
    b.works_submitted++;
    check(uv_queue_work(&b.loop, &b.works[i], task_fn, task_done), "work");
  }
}

static void start_pool(uint64_t count) {
  b.window = count;
  b.works = calloc(count, sizeof(*b.works));
  if (b.works == NULL)
    check(UV_ENOMEM, "works");
  start_immediates_queue();
  set_immediate(&b.immediate, kick_pool);
}

/* ------------------------------------------------------------------------
 * Echo, as runtime/examples/echo.c: one read buffer for the loop, each
 * chunk copied into its own write.
 */

struct echo_write {
  uv_write_t req;
  char data[];
};

static void conn_closed(uv_handle_t* handle) {
  free(handle);
}

static void written(uv_write_t* req, int status) {
  if (status != 0 && !uv_is_closing((uv_handle_t*) req->handle))
    uv_close((uv_handle_t*) req->handle, conn_closed);
  free(req);
}

static void alloc_cb(uv_handle_t* handle, size_t size, uv_buf_t* buf) {
  *buf = uv_buf_init(b.read_buf, sizeof(b.read_buf));
}

static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  struct echo_write* w;
  uv_buf_t out;
  if (nread == 0)
    return;
  if (nread < 0) {
    uv_close((uv_handle_t*) stream, conn_closed);
    return;
  }
  w = malloc(sizeof(*w) + (size_t) nread);
  if (w == NULL) {
    uv_close((uv_handle_t*) stream, conn_closed);
    return;
  }
  memcpy(w->data, buf->base, (size_t) nread);
  out = uv_buf_init(w->data, (unsigned) nread);
  if (uv_write(&w->req, stream, &out, 1, written) != 0) {
    free(w);
    uv_close((uv_handle_t*) stream, conn_closed);
  }
}

static void on_connection(uv_stream_t* server, int status) {
  uv_tcp_t* c;
  if (status != 0)
    return;
  c = malloc(sizeof(*c));
  if (c == NULL)
    return;
  uv_tcp_init(&b.loop, c);
  if (uv_accept(server, (uv_stream_t*) c) != 0 ||
      uv_read_start((uv_stream_t*) c, alloc_cb, on_read) != 0)
    uv_close((uv_handle_t*) c, conn_closed);
}

static void on_signal(uv_signal_t* sig, int signum) {
  uv_stop(&b.loop);
}

static int run_echo(void) {
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  int len = sizeof(bound);

  uv_tcp_init(&b.loop, &b.server);
  check(uv_ip4_addr("127.0.0.1", 0, &addr), "address");
  check(uv_tcp_bind(&b.server, (const struct sockaddr*) &addr, 0), "bind");
  check(uv_listen((uv_stream_t*) &b.server, 128, on_connection), "listen");
  uv_tcp_getsockname(&b.server, (struct sockaddr*) &bound, &len);
  uv_signal_init(&b.loop, &b.sigint);
  uv_signal_init(&b.loop, &b.sigterm);
  uv_signal_start(&b.sigint, on_signal, SIGINT);
  uv_signal_start(&b.sigterm, on_signal, SIGTERM);
  uv_unref((uv_handle_t*) &b.sigint);
  uv_unref((uv_handle_t*) &b.sigterm);
  printf("echo: listening on 127.0.0.1:%d\n",
         ntohs(((struct sockaddr_in*) &bound)->sin_port));
  fflush(stdout);
  uv_run(&b.loop, UV_RUN_DEFAULT);
  return 0;
}

/* ------------------------------------------------------------------------
 */

int main(int argc, char** argv) {
  uint64_t wall0;
  uint64_t cpu0;
  uint64_t wall1;
  uint64_t cpu1;
  struct rusage ru0;
  struct rusage ru1;

  if (argc < 2)
    goto usage;
  check(uv_loop_init(&b.loop), "loop init");
  if (strcmp(argv[1], "echo") == 0)
    return run_echo();
  if (argc < 3 || (b.n = strtoull(argv[2], NULL, 10)) == 0)
    goto usage;
  if (strcmp(argv[1], "immediates") == 0)
    start_immediates();
  else if (strcmp(argv[1], "timers") == 0)
    start_timers(b.n < TIMER_COUNT ? b.n : TIMER_COUNT);
  else if (strcmp(argv[1], "pool") == 0) {
    uint64_t window = argc > 3 ? strtoull(argv[3], NULL, 10) : b.n;
    start_pool(b.n < window ? b.n : window);
  } else
    goto usage;

  getrusage(RUSAGE_SELF, &ru0);
  wall0 = clock_ns(CLOCK_MONOTONIC);
  cpu0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  uv_run(&b.loop, UV_RUN_DEFAULT);
  wall1 = clock_ns(CLOCK_MONOTONIC);
  cpu1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  getrusage(RUSAGE_SELF, &ru1);

  printf("workload: %s\n", argv[1]);
  printf("wall_ns: %llu\n", (unsigned long long) (wall1 - wall0));
  printf("cpu_ns: %llu\n", (unsigned long long) (cpu1 - cpu0));
  printf("n: %llu\n", (unsigned long long) b.done);
  printf("switches: %ld\n",
         (ru1.ru_nvcsw + ru1.ru_nivcsw) - (ru0.ru_nvcsw + ru0.ru_nivcsw));
  free(b.timers);
  free(b.works);
  return 0;

usage:
  fprintf(stderr,
          "usage: uv_workloads immediates|timers N\n"
          "       uv_workloads pool N [WINDOW]\n"
          "       uv_workloads echo\n");
  return 2;
}
