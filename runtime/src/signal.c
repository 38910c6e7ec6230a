/* signal.c — signals delivered as callbacks on the loop thread. */
#include <signal.h>

#include "internal.h"

static void signal_cb(uv_signal_t* handle, int signum) {
  lrt_signal_t* sig = container_of(handle, lrt_signal_t, handle);
  LRT__RUN_CALLBACK(sig->loop, LRT_CB_SIGNAL, sig->label, sig->cb(sig, signum));
}

int lrt_signal_start(lrt_loop_t* loop, lrt_signal_t* sig, int signum,
                     lrt_signal_cb cb, const char* label) {
  int r;
  if (loop == NULL || loop->priv == NULL || sig == NULL || cb == NULL ||
      signum <= 0 || signum >= NSIG)
    return UV_EINVAL;
  r = uv_signal_init(&loop->uv, &sig->handle);
  if (r != 0)
    return r;
  sig->loop = loop;
  sig->cb = cb;
  sig->label = label != NULL ? label : "signal";
  r = uv_signal_start(&sig->handle, signal_cb, signum);
  if (r != 0) {
    uv_close((uv_handle_t*) &sig->handle, NULL);
    return r;
  }
  /* A program waiting for a signal still ends when its work is done. */
  uv_unref((uv_handle_t*) &sig->handle);
  return 0;
}

void lrt_signal_stop(lrt_signal_t* sig) {
  if (sig != NULL && sig->loop != NULL)
    uv_signal_stop(&sig->handle);
}
