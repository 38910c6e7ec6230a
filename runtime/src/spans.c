/* spans.c — callback spans on the loop thread: the callbacks looprt
 * dispatches and the user's lrt_span_begin/end, kept on a small stack so
 * that an end knows what it ends.
 */
#include "events.h"
#include "internal.h"

void lrt__trace_callback_begin(lrt_loop_t* loop, uint8_t kind,
                               const char* label, uint16_t label_id,
                               uint64_t task) {
  struct lrt__loop_private* p = loop->priv;
  uint64_t ts = lrt__now();

  /* The tick and phase go first: the callback lies inside them. */
  lrt__phases_callback(loop, kind, ts);
  lrt__ev_callback_begin(
      kind, label, label_id != 0 ? label_id : lrt__label_id(label), task, ts);
  if (p->span_depth < LRT_SPAN_STACK) {
    struct lrt__span* s = &p->spans[p->span_depth];
    s->ts = ts;
    s->label = label;
    s->task = task;
    s->kind = kind;
  }
  p->span_depth++;
}

void lrt__trace_callback_end(lrt_loop_t* loop) {
  struct lrt__loop_private* p = loop->priv;
  struct lrt__span* s;
  uint64_t ts;

  /* The begin was not recorded: tracing started inside the callback. */
  if (p->span_depth == 0)
    return;
  p->span_depth--;
  ts = lrt__now();
  if (p->span_depth >= LRT_SPAN_STACK) {
    lrt__ev_callback_end(0, NULL, 0, ts, 0);
    return;
  }
  s = &p->spans[p->span_depth];
  lrt__ev_callback_end(s->kind, s->label, s->task, ts, ts - s->ts);
}

void lrt__spans_reset(lrt_loop_t* loop) {
  loop->priv->span_depth = 0;
}

void lrt_span_begin(lrt_loop_t* loop, const char* label) {
  if (loop == NULL || loop->priv == NULL)
    return;
  if (LRT_TRACING())
    lrt__trace_callback_begin(loop, LRT_CB_USER, label != NULL ? label : "span",
                              0, 0);
}

void lrt_span_end(lrt_loop_t* loop) {
  if (loop == NULL || loop->priv == NULL)
    return;
  lrt__callback_end(loop);
}
