/* immediates.c — callbacks that run in the check phase, right after poll
 * (Node's setImmediate).
 *
 * A check handle runs the queue; while the queue is not empty an idle
 * handle keeps the poll phase from blocking (an active idle handle makes
 * libuv poll with a zero timeout) and keeps the loop alive. Each check
 * phase runs the immediates queued before it began; those queued by its
 * callbacks wait for the next tick.
 */
#include "internal.h"

static void idle_cb(uv_idle_t* handle) {
  /* Nothing to do: being active is the point. */
}

static void unlink_immediate(struct lrt__loop_private* p,
                             lrt_immediate_t* imm) {
  if (imm->prev != NULL)
    imm->prev->next = imm->next;
  else
    p->imm_head = imm->next;
  if (imm->next != NULL)
    imm->next->prev = imm->prev;
  else
    p->imm_tail = imm->prev;
  imm->prev = NULL;
  imm->next = NULL;
  imm->active = 0;
  if (p->imm_head == NULL)
    uv_idle_stop(&p->immediate_idle);
}

static void check_cb(uv_check_t* handle) {
  struct lrt__loop_private* p =
      container_of(handle, struct lrt__loop_private, immediate_check);
  lrt_immediate_t* imm;
  uint64_t last_seq;

  if (p->imm_tail == NULL)
    return;
  /* Immediates queued from here on have a higher seq and wait for the next
   * tick. (The tail itself may be cleared meanwhile, so compare seqs.) */
  last_seq = p->imm_tail->seq;
  while ((imm = p->imm_head) != NULL && imm->seq <= last_seq) {
    unlink_immediate(p, imm);
    /* imm->cb may queue, clear or free immediates */
    LRT__RUN_CALLBACK(container_of(handle->loop, lrt_loop_t, uv),
                      LRT_CB_IMMEDIATE, imm->label, imm->cb(imm));
  }
}

int lrt_immediate(lrt_loop_t* loop, lrt_immediate_t* imm, lrt_immediate_cb cb,
                  const char* label) {
  struct lrt__loop_private* p;

  if (loop == NULL || loop->priv == NULL || imm == NULL || cb == NULL)
    return UV_EINVAL;
  p = loop->priv;
  if (imm->active && imm->loop == loop)
    unlink_immediate(p, imm);
  imm->loop = loop;
  imm->cb = cb;
  imm->label = label != NULL ? label : "setImmediate";
  imm->seq = p->imm_seq++;
  imm->next = NULL;
  imm->prev = p->imm_tail;
  if (p->imm_tail != NULL)
    p->imm_tail->next = imm;
  else
    p->imm_head = imm;
  p->imm_tail = imm;
  imm->active = 1;
  uv_idle_start(&p->immediate_idle, idle_cb);
  return 0;
}

void lrt_immediate_clear(lrt_immediate_t* imm) {
  if (imm == NULL || !imm->active)
    return;
  unlink_immediate(imm->loop->priv, imm);
}

int lrt__immediates_init(lrt_loop_t* loop) {
  struct lrt__loop_private* p = loop->priv;
  uv_check_init(&loop->uv, &p->immediate_check);
  uv_idle_init(&loop->uv, &p->immediate_idle);
  uv_check_start(&p->immediate_check, check_cb);
  /* The check handle is always there but never keeps the loop alive; the
   * idle handle does, while immediates wait. */
  uv_unref((uv_handle_t*) &p->immediate_check);
  return 0;
}
