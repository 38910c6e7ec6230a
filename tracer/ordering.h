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
 */
#ifndef LOOPTRACE_ORDERING_H
#define LOOPTRACE_ORDERING_H

#include <stddef.h>
#include <stdint.h>

#include "containers.h"
#include "looprt_trace.h"

/* How far back in a thread's queue an early record pulls the keys. */
#define ORDERING_REORDER 1024

struct ordering {
  struct u64map queues; /* a thread's queue by tid */
  struct heap heap;     /* queues holding records, by their oldest key */
  struct queue* last;   /* the queue pushed to last */
  size_t len;           /* records held */
};

/* Sets up an empty ordering (allocates nothing). */
void ordering_init(struct ordering* o);

/* Queues a copy of `r` (r->tid != 0). Returns 0 or -ENOMEM (then `r` is
 * not queued). */
int ordering_push(struct ordering* o, const struct lrt_record* r);

/* The next record in time order if its key is older than `limit`, else
 * NULL. Valid until the next ordering_pop() or ordering_push(). */
const struct lrt_record* ordering_peek(const struct ordering* o,
                                       uint64_t limit);

/* Removes the record ordering_peek() returned. */
void ordering_pop(struct ordering* o);

/* Gives back the buffers of the queues empty since `cutoff` (their last
 * record's key is older). */
void ordering_sweep(struct ordering* o, uint64_t cutoff);

/* Bytes the ordering holds. */
size_t ordering_bytes(const struct ordering* o);

void ordering_free(struct ordering* o);

#endif /* LOOPTRACE_ORDERING_H */
