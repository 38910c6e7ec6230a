/* ordering.h — the records of all threads in one time order.
 *
 * The second stage of the tracer's pipeline (tracer/README.md): sources
 * hand it records as they come, a thread's in order but threads in any
 * order; it queues them per thread and gives them back merged by
 * timestamp across threads (a heap of threads keyed by their oldest
 * record), up to a limit the caller moves (now minus the window), so that
 * a task's submit comes before its start on a worker. A thread's own
 * order is kept as it came: a record stamped earlier than the ones
 * before it on its thread pulls their keys down (at most ORDERING_REORDER
 * back) rather than overtaking them.
 *
 * It refuses nothing and holds what it is given: the caller bounds it
 * (export.c hands the oldest on at once past EXPORT_QUEUE_MAX).
 *
 * Every record goes through push and run/take: their common case is
 * inline, so the structs are here; only the functions below touch them.
 */
#ifndef LOOPTRACE_ORDERING_H
#define LOOPTRACE_ORDERING_H

#include <stddef.h>
#include <stdint.h>

#include "containers.h"
#include "looprt_trace.h"

/* How far back in a thread's queue an early record pulls the keys. */
#define ORDERING_REORDER 1024

/* A record waiting in its thread's queue, with its merge key: the
 * earliest ts of it and of the records after it in the queue. */
struct queued {
  struct lrt_record r;
  uint64_t key;
};

/* One thread's records waiting: a ring of `cap` (a power of 2). */
struct queue {
  uint64_t tid; /* the key of ordering.queues */
  struct queued* q;
  uint32_t head;
  uint32_t len;
  uint32_t cap;
  int32_t heap_pos;  /* in ordering.heap, -1 while empty */
  uint64_t last_key; /* of the last record queued */
  void* tag;         /* the caller's, for the thread */
};

struct ordering {
  struct u64map queues; /* a thread's queue by tid */
  struct heap heap;     /* queues holding records, by their oldest key */
  struct queue* last;   /* the queue pushed to last */
  size_t len;           /* records held */
};

/* Sets up an empty ordering (allocates nothing). */
void ordering_init(struct ordering* o);

/* ordering_push() to a queue that is empty, full, or not the last one
 * pushed to. */
int ordering_push_new(struct ordering* o, const struct lrt_record* r,
                      void* tag);

/* ordering_take() of all the records of a queue. */
void ordering_take_all(struct ordering* o);

/* The merge key of record `r` alone: a wait is reported after the
 * records that followed its start; its key is its end, so that it pulls
 * nothing earlier. */
static inline uint64_t ordering_key_of(const struct lrt_record* r) {
  if (r->type != LRT_REC_WAIT)
    return r->ts;
  return r->arg > UINT64_MAX - r->ts ? UINT64_MAX : r->ts + r->arg;
}

/* Appends `r` to queue `q` (which has room, and is in the heap). */
static inline void ordering_append(struct ordering* o, struct queue* q,
                                   const struct lrt_record* r, void* tag) {
  uint32_t mask = q->cap - 1;
  uint32_t i = (q->head + q->len) & mask;
  uint32_t back;
  uint64_t key = ordering_key_of(r);
  q->tag = tag;
  q->q[i].r = *r;
  q->q[i].key = key;
  q->last_key = key;
  for (back = 0; back < q->len && back < ORDERING_REORDER; back++) {
    i = (i - 1) & mask;
    if (q->q[i].key <= key)
      break;
    q->q[i].key = key;
  }
  q->len++;
  o->len++;
  /* Its head came earlier. */
  if (q->len > 1 && q->q[q->head].key == r->ts)
    heap_update(&o->heap, (size_t) q->heap_pos, r->ts);
}

/* Queues a copy of `r` (r->tid != 0) with `tag`, the caller's value for
 * thread r->tid (the same for all the thread's records while any is
 * queued; ordering_peek() gives it back). Returns 0 or -ENOMEM (then `r`
 * is not queued). Inline for the common case: the thread pushed to last,
 * with room. */
static inline int ordering_push(struct ordering* o, const struct lrt_record* r,
                                void* tag) {
  struct queue* q = o->last;
  if (q == NULL || q->tid != r->tid || q->len == 0 || q->len == q->cap)
    return ordering_push_new(o, r, tag);
  ordering_append(o, q, r, tag);
  return 0;
}

/* The records to take next, in time order: the oldest thread's that are
 * older than `limit` and come before any other thread's oldest, at most
 * `max` (> 0), in one piece of its queue. Returns the first (its record
 * is .r) and sets *n to how many and *tag to the thread's tag; NULL when
 * no record is older than `limit`. Valid until the next ordering_take()
 * or ordering_push(). */
static inline const struct queued* ordering_run(const struct ordering* o,
                                                uint64_t limit, size_t max,
                                                size_t* n, void** tag) {
  uint64_t key;
  uint64_t next;
  const struct queue* q = heap_top(&o->heap, &key);
  size_t piece;
  size_t i;
  if (q == NULL || key >= limit)
    return NULL;
  /* The other threads' oldest is at a child of the top. */
  next = heap_key_at(&o->heap, 1);
  if (heap_key_at(&o->heap, 2) < next)
    next = heap_key_at(&o->heap, 2);
  piece = q->cap - q->head < q->len ? q->cap - q->head : q->len;
  if (piece > max)
    piece = max;
  for (i = 1; i < piece; i++) {
    key = q->q[q->head + i].key;
    if (key >= limit || key > next)
      break;
  }
  *n = i;
  *tag = q->tag;
  return &q->q[q->head];
}

/* Removes the first `n` records ordering_run() gave (n > 0). */
static inline void ordering_take(struct ordering* o, size_t n) {
  struct queue* q = heap_top(&o->heap, NULL);
  if (q->len == n) {
    ordering_take_all(o);
    return;
  }
  q->head = (uint32_t) ((q->head + n) & (q->cap - 1));
  q->len -= (uint32_t) n;
  o->len -= n;
  heap_update(&o->heap, 0, q->q[q->head].key);
}

/* Gives back the buffers of the queues empty since `cutoff` (their last
 * record's key is older). */
void ordering_sweep(struct ordering* o, uint64_t cutoff);

/* Bytes the ordering holds. */
size_t ordering_bytes(const struct ordering* o);

void ordering_free(struct ordering* o);

#endif /* LOOPTRACE_ORDERING_H */
