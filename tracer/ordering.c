/* ordering.c — see ordering.h. */
#include "ordering.h"

#include <errno.h>
#include <stdlib.h>

/* The queues are reached through this, so that they do not move when
 * the table grows (the heap points at them). */
struct queue_ref {
  uint64_t tid;
  struct queue* queue;
};

void ordering_init(struct ordering* o) {
  u64map_init(&o->queues, sizeof(struct queue_ref));
  heap_init(&o->heap, offsetof(struct queue, heap_pos));
  o->last = NULL;
  o->len = 0;
}

static struct queue* queue_get(struct ordering* o, uint64_t tid) {
  struct queue_ref* ref;
  struct queue* q;
  if (o->last != NULL && o->last->tid == tid)
    return o->last;
  ref = u64map_find(&o->queues, tid);
  if (ref != NULL)
    return o->last = ref->queue;
  q = calloc(1, sizeof(*q));
  if (q == NULL)
    return NULL;
  ref = u64map_insert(&o->queues, tid, NULL);
  if (ref == NULL) {
    free(q);
    return NULL;
  }
  q->tid = tid;
  q->heap_pos = -1;
  ref->queue = q;
  return o->last = q;
}

/* Makes room for one more record, unrolling the ring when it grows. */
static int queue_room(struct queue* q) {
  uint32_t cap = q->cap ? q->cap * 2 : 16;
  struct queued* n;
  uint32_t i;
  if (q->len < q->cap)
    return 0;
  n = malloc((size_t) cap * sizeof(*n));
  if (n == NULL)
    return -ENOMEM;
  for (i = 0; i < q->len; i++)
    n[i] = q->q[(q->head + i) & (q->cap - 1)];
  free(q->q);
  q->q = n;
  q->cap = cap;
  q->head = 0;
  return 0;
}

int ordering_push_new(struct ordering* o, const struct lrt_record* r,
                      void* tag) {
  struct queue* q = queue_get(o, r->tid);
  if (q == NULL || queue_room(q) != 0)
    return -ENOMEM;
  if (q->len == 0 && heap_push(&o->heap, q, ordering_key_of(r)) != 0)
    return -ENOMEM;
  ordering_append(o, q, r, tag);
  return 0;
}

void ordering_take_all(struct ordering* o) {
  struct queue* q = heap_top(&o->heap, NULL);
  q->head = (q->head + q->len) & (q->cap - 1);
  o->len -= q->len;
  q->len = 0;
  heap_pop(&o->heap);
}

void ordering_sweep(struct ordering* o, uint64_t cutoff) {
  struct queue_ref* ref;
  size_t pos = 0;
  while ((ref = u64map_next(&o->queues, &pos)) != NULL) {
    struct queue* q = ref->queue;
    if (q->len > 0 || q->last_key >= cutoff)
      continue;
    if (o->last == q)
      o->last = NULL;
    free(q->q);
    free(q);
    u64map_remove(&o->queues, ref);
    pos--; /* the slot may hold an entry moved back */
  }
}

size_t ordering_bytes(const struct ordering* o) {
  const struct queue_ref* ref;
  size_t m = u64map_bytes(&o->queues) + heap_bytes(&o->heap);
  size_t pos = 0;
  while ((ref = u64map_next(&o->queues, &pos)) != NULL)
    m += sizeof(*ref->queue) + ref->queue->cap * sizeof(struct queued);
  return m;
}

void ordering_free(struct ordering* o) {
  struct queue_ref* ref;
  size_t pos = 0;
  while ((ref = u64map_next(&o->queues, &pos)) != NULL) {
    free(ref->queue->q);
    free(ref->queue);
  }
  u64map_free(&o->queues);
  heap_free(&o->heap);
  o->last = NULL;
  o->len = 0;
}
