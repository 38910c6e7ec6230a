/* uvqueue.h — libuv's private intrusive queues, seen from outside.
 *
 * libuv 1.x keeps its handle and request queues as `void* q[2]` pairs
 * {next, prev} forming a circular list whose head is embedded in
 * uv_loop_t (pending_queue, idle_handles, prepare_handles, check_handles)
 * or in a local variable while a phase runs them. These helpers mirror
 * libuv's src/queue.h; the layout is part of the 1.x ABI (1.47 renamed
 * the type to struct uv__queue and kept it). phases.c uses them to put its
 * sentinels at the head or tail of a phase's queue.
 */
#ifndef LOOPRT_UVQUEUE_H
#define LOOPRT_UVQUEUE_H

#include <stddef.h>

typedef void* uvq_t[2];

static inline void** uvq_next(void** q) {
  return (void**) q[0];
}

static inline void** uvq_prev(void** q) {
  return (void**) q[1];
}

static inline int uvq_empty(void** head) {
  return uvq_next(head) == head;
}

static inline void uvq_init(void** q) {
  q[0] = q;
  q[1] = q;
}

static inline void uvq_remove(void** q) {
  uvq_prev(q)[0] = q[0];
  uvq_next(q)[1] = q[1];
  uvq_init(q);
}

static inline void uvq_insert_head(void** head, void** q) {
  q[0] = head[0];
  q[1] = head;
  uvq_next(q)[1] = q;
  head[0] = q;
}

static inline void uvq_insert_tail(void** head, void** q) {
  q[0] = head;
  q[1] = head[1];
  uvq_prev(q)[0] = q;
  head[1] = q;
}

/* Moves `q`, which is in the queue headed by `head`, to that queue's
 * tail. */
static inline void uvq_move_to_tail(void** head, void** q) {
  uvq_remove(q);
  uvq_insert_tail(head, q);
}

#endif /* LOOPRT_UVQUEUE_H */
