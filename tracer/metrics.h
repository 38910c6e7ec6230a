/* metrics.h — `looptrace top --metrics IP:PORT`: the figures of the
 * trace's windows (live.h), added up since top attached and served on
 * /metrics in Prometheus' text exposition format by tracer/http_server.h,
 * from a thread of its own.
 *
 *   metrics_start(&m, "127.0.0.1", 9464);
 *   metrics_add(m, f); ...                       each window's figures
 *   metrics_publish(m, pid, comm, running, queued);   after each
 *   metrics_stop(m);
 */
#ifndef LOOPTRACE_METRICS_H
#define LOOPTRACE_METRICS_H

#include <stdint.h>

#include "stat_summary.h"

struct metrics;

/* Serves /metrics on ip:port (port 0: any free one) from a new thread.
 * Returns 0 and sets *out, or a negative errno (the address cannot be
 * bound: nothing to stop then). */
int metrics_start(struct metrics** out, const char* ip, int port);

/* The port served (the one picked for port 0). */
int metrics_port(const struct metrics* m);

/* Adds the figures of one window (each span is counted in one window
 * only: live.h) to the histograms and counters. */
void metrics_add(struct metrics* m, const struct stat_figures* f);

/* Makes what was counted so far, with the pool's running and queued
 * tasks now (negative: unknown), what /metrics serves. `pid` and `comm`
 * label every series. Returns 0 or -ENOMEM. */
int metrics_publish(struct metrics* m, int64_t pid, const char* comm,
                    int64_t running, int64_t queued);

/* Stops serving, joins the thread and frees `m`; NULL is fine. */
void metrics_stop(struct metrics* m);

#endif /* LOOPTRACE_METRICS_H */
