/* live.h — a live trace cut into windows of time, one summary each
 * (stat_summary.h): what `looptrace top` shows per interval and what
 * `--metrics` adds up (metrics.h).
 *
 *   live_new(&l, interval_ns);
 *   live_add(l, &ev); ...                events as they come
 *   live_start(l, now_ts_ns);            the first window starts (once)
 *   if (seen up to live_window_end(l) + LIVE_LAG_NS)
 *     live_close(l, INT64_MAX, sort, &f); ... show f ...; live_next(l);
 *   live_free(l);
 *
 * How a span is shared between windows (README, "looptrace top"):
 * - its time (loop utilization, phase totals and shares, worker busy
 *   share) is shared by overlap: each window takes the part of the span
 *   inside it;
 * - it is counted (ticks/s, tasks/s, callbacks, percentiles, histograms,
 *   the longest ticks) once, in the window it ends in; a span nested in a
 *   tick is counted with its tick, so a tick keeps what ran inside it;
 * - a span that arrives after its window was shown (a tick longer than
 *   LIVE_LAG_NS) is counted in the window being filled, and its time in
 *   the windows already shown is not shown again.
 * Two windows are open at once: the one being shown next (`cur`) and the
 * one after it, open-ended until `cur` is closed.
 */
#ifndef LOOPTRACE_LIVE_H
#define LOOPTRACE_LIVE_H

#include <stdint.h>

#include "stat_event.h"
#include "stat_summary.h"

/* How long after a window's end it is closed: spans reach the trace
 * about EXPORT_WINDOW_NS (100 ms) after their tick ends. */
#define LIVE_LAG_NS (250 * 1000 * 1000ll)

#define LIVE_MAX_LOOPS 64  /* loop threads whose open tick is followed */
#define LIVE_MAX_META 1024 /* metadata events replayed to each window */

struct live;

/* A live summary whose windows last interval_ns. Returns 0 and sets *out,
 * or -ENOMEM. Until live_start() the first window has no start. */
int live_new(struct live** out, uint64_t interval_ns);

/* The first window starts at ts_ns (trace time) and ends interval_ns
 * later. Call once. */
void live_start(struct live* l, int64_t ts_ns);

/* Windows opened from now on last interval_ns. */
void live_set_interval(struct live* l, uint64_t interval_ns);

/* Gives one event to the windows, as the header says. Returns 0 or
 * -ENOMEM (the live summary is then unusable but safe to free). */
int live_add(struct live* l, const struct stat_event* ev);

/* Where the window to be closed next ends (trace time, ns). */
int64_t live_window_end(const struct live* l);

/* The latest moment any event given so far shows (trace time, ns), or
 * -1 before any. */
int64_t live_seen(const struct live* l);

/* Computes the figures of the window to be closed next, ranked by
 * `sort`, ending it at end_ns if that is earlier than its end (the
 * recording ended). *out is valid until live_next() or live_free().
 * Returns 0 or -ENOMEM. */
int live_close(struct live* l, int64_t end_ns, enum stat_sort sort,
               const struct stat_figures** out);

/* Drops the window closed and opens the next one. Returns 0 or -ENOMEM. */
int live_next(struct live* l);

/* Frees everything; NULL is fine. */
void live_free(struct live* l);

#endif /* LOOPTRACE_LIVE_H */
