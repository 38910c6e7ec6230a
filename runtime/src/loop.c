/* loop.c — a looprt loop: init, run, stop, close; and the handshake with a
 * tracer that starts the program (`looptrace record -- CMD`). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "internal.h"

static _Atomic uint32_t next_loop_id = 1;

int lrt_loop_init(lrt_loop_t* loop) {
  struct lrt__loop_private* p;
  int r;

  if (loop == NULL)
    return UV_EINVAL;
  memset(loop, 0, sizeof(*loop));
  p = calloc(1, sizeof(*p));
  if (p == NULL)
    return UV_ENOMEM;
  r = uv_loop_init(&loop->uv);
  if (r != 0) {
    free(p);
    return r;
  }
  loop->priv = p;
  p->id = atomic_fetch_add(&next_loop_id, 1);
  lrt__timers_init(loop);
  lrt__immediates_init(loop);
  lrt__phases_init(loop);
  lrt__pool_loop_open(p);
  return 0;
}

int lrt_run(lrt_loop_t* loop) {
  int r;
  if (loop == NULL || loop->priv == NULL)
    return UV_EINVAL;
  if (LRT_TRACING())
    lrt__phases_run_begin(loop);
  loop->priv->running = 1;
  r = uv_run(&loop->uv, UV_RUN_DEFAULT);
  loop->priv->running = 0;
  if (LRT_TRACING()) {
    lrt__phases_run_end(loop);
    lrt__ev_loop_stop(loop->priv->id, lrt__now());
  }
  return r != 0 ? 1 : 0;
}

void lrt_stop(lrt_loop_t* loop) {
  if (loop != NULL && loop->priv != NULL)
    uv_stop(&loop->uv);
}

static void close_walk_cb(uv_handle_t* handle, void* arg) {
  if (!uv_is_closing(handle))
    uv_close(handle, NULL);
}

int lrt_loop_close(lrt_loop_t* loop) {
  struct lrt__loop_private* p;
  int r;

  if (loop == NULL || loop->priv == NULL)
    return UV_EINVAL;
  p = loop->priv;
  if (p->work_in_flight != 0)
    return UV_EBUSY;
  lrt__phases_close(loop);
  lrt__timers_close(loop);
  /* Every handle left (ours and the caller's plain libuv ones) closes, and
   * one more run finishes the closes. */
  uv_walk(&loop->uv, close_walk_cb, NULL);
  uv_run(&loop->uv, UV_RUN_DEFAULT);
  r = uv_loop_close(&loop->uv);
  if (r != 0)
    return r;
  lrt__flush_all();
  lrt__pool_loop_close(p);
  free(p->read_buf);
  free(p);
  loop->priv = NULL;
  return 0;
}

uv_loop_t* lrt_uv_loop(lrt_loop_t* loop) {
  return loop != NULL ? &loop->uv : NULL;
}

uint64_t lrt_now(const lrt_loop_t* loop) {
  return uv_now(&loop->uv);
}

/* `looptrace record -- CMD` starts the program with LOOPTRACE_SYNC_FD set
 * to one end of a socket pair: say we are loaded ('R'), and wait until the
 * tracer has attached ('G') or gave up (EOF), so that it sees the first
 * tick. Without the variable this does nothing. */
__attribute__((constructor)) static void wait_for_tracer(void) {
  const char* val = getenv("LOOPTRACE_SYNC_FD");
  char* end;
  long fd;
  char c = 'R';

  if (val == NULL)
    return;
  fd = strtol(val, &end, 10);
  unsetenv("LOOPTRACE_SYNC_FD");
  if (*val == '\0' || *end != '\0' || fd < 0 || fd > 65535)
    return;
  if (write((int) fd, &c, 1) == 1) {
    while (read((int) fd, &c, 1) < 0 && errno == EINTR)
      ;
  }
  close((int) fd);
}
