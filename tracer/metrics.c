/* metrics.c — Prometheus exposition of a live trace (metrics.h).
 *
 * Histograms and counters are cumulative since top attached, as
 * Prometheus wants them: the sums of the windows' figures, which the
 * summary (stat_summary.h) counts, buckets included; a span cut by the
 * recording's limits counts in the counters, never in a histogram (as in
 * stat's percentiles). Here are only sums and the printer. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_server.h"
#include "metrics.h"

#define METRICS_MAX_NAMES 64 /* phases or kinds; more go to "other" */

struct histo {
  char name[64]; /* the label value, or "" */
  struct stat_buckets b;
};

struct histos {
  struct histo h[METRICS_MAX_NAMES];
  size_t n;
};

struct metrics {
  /* Written by top's thread only: sums of the windows' figures. */
  struct histo ticks;
  struct histos phases;
  struct histos waits; /* task queue wait, by kind */
  struct histos runs;  /* task run time, by kind */
  uint64_t ticks_total;
  uint64_t tasks_total;
  uint64_t callbacks_total;
  uint64_t dropped_total;
  /* Shared with the server thread. */
  pthread_mutex_t lock;
  char* text;
  size_t len;
  /* The server thread's. */
  pthread_t thread;
  sem_t started;
  int start_error;
  const char* ip;
  int port;
  lrt_loop_t loop;
  uv_async_t stop;
  struct http_server server;
  struct http_route route;
};

static uint64_t sat_add(uint64_t a, uint64_t b) {
  return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

/* Adds a window's counts of one histogram to the running sums. */
static void histo_add(struct histo* h, const struct stat_buckets* b) {
  size_t i;
  for (i = 0; i <= STAT_NBUCKETS; i++)
    h->b.n[i] = sat_add(h->b.n[i], b->n[i]);
  h->b.count = sat_add(h->b.count, b->count);
  h->b.sum_ns = sat_add(h->b.sum_ns, b->sum_ns);
}

static struct histo* histos_get(struct histos* hs, const char* name) {
  size_t i;
  for (i = 0; i < hs->n; i++)
    if (strcmp(hs->h[i].name, name) == 0)
      return &hs->h[i];
  if (hs->n == METRICS_MAX_NAMES) {
    name = "other";
    for (i = 0; i < hs->n; i++)
      if (strcmp(hs->h[i].name, name) == 0)
        return &hs->h[i];
    i = hs->n - 1; /* the last name becomes "other" */
    memset(&hs->h[i], 0, sizeof(hs->h[i]));
  } else {
    i = hs->n++;
  }
  snprintf(hs->h[i].name, sizeof(hs->h[i].name), "%s", name);
  return &hs->h[i];
}

void metrics_add(struct metrics* m, const struct stat_figures* f) {
  size_t i;
  histo_add(&m->ticks, &f->tick_buckets);
  for (i = 0; i < f->nphases; i++)
    histo_add(histos_get(&m->phases, f->phases[i].name), &f->phases[i].buckets);
  for (i = 0; i < f->nkinds; i++) {
    const struct stat_task_kind* k = &f->kinds[i];
    const char* kind = k->name != NULL ? k->name : "other";
    histo_add(histos_get(&m->waits, kind), &k->queue_wait);
    histo_add(histos_get(&m->runs, kind), &k->run);
  }
  m->ticks_total = sat_add(m->ticks_total, f->ticks);
  m->tasks_total = sat_add(m->tasks_total, f->tasks);
  m->callbacks_total = sat_add(m->callbacks_total, f->callback_count);
  if (f->has_drops)
    m->dropped_total = sat_add(m->dropped_total, f->drops);
}

/* A label value as the exposition format wants it. */
static void put_value(FILE* f, const char* s) {
  for (; *s != '\0'; s++) {
    if (*s == '\\' || *s == '"')
      fprintf(f, "\\%c", *s);
    else if (*s == '\n')
      fputs("\\n", f);
    else
      fputc(*s, f);
  }
}

static void put_labels(FILE* f, const char* base, const char* key,
                       const char* value, const char* le) {
  fprintf(f, "{%s", base);
  if (key != NULL) {
    fprintf(f, ",%s=\"", key);
    put_value(f, value);
    fputc('"', f);
  }
  if (le != NULL)
    fprintf(f, ",le=\"%s\"", le);
  fputc('}', f);
}

static void put_histo(FILE* f, const char* metric, const char* base,
                      const char* key, const struct histo* h) {
  uint64_t cum = 0;
  char le[32];
  size_t i;
  for (i = 0; i < STAT_NBUCKETS; i++) {
    cum += h->b.n[i];
    snprintf(le, sizeof(le), "%g", (double) stat_bucket_le_ns[i] / 1e9);
    fprintf(f, "%s_bucket", metric);
    put_labels(f, base, key, h->name, le);
    fprintf(f, " %" PRIu64 "\n", cum);
  }
  fprintf(f, "%s_bucket", metric);
  put_labels(f, base, key, h->name, "+Inf");
  fprintf(f, " %" PRIu64 "\n%s_sum", h->b.count, metric);
  put_labels(f, base, key, h->name, NULL);
  fprintf(f, " %.9g\n%s_count", (double) h->b.sum_ns / 1e9, metric);
  put_labels(f, base, key, h->name, NULL);
  fprintf(f, " %" PRIu64 "\n", h->b.count);
}

static void put_head(FILE* f, const char* metric, const char* type,
                     const char* help) {
  fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", metric, help, metric, type);
}

static void put_histos(FILE* f, const char* metric, const char* help,
                       const char* base, const char* key,
                       const struct histos* hs) {
  size_t i;
  put_head(f, metric, "histogram", help);
  for (i = 0; i < hs->n; i++)
    put_histo(f, metric, base, key, &hs->h[i]);
}

static void put_scalar(FILE* f, const char* metric, const char* type,
                       const char* help, const char* base, double v) {
  put_head(f, metric, type, help);
  fprintf(f, "%s{%s} %.17g\n", metric, base, v);
}

/* The whole exposition, as a printer of the counts only. */
static void put_all(FILE* f, const struct metrics* m, const char* base,
                    int64_t running, int64_t queued) {
  put_head(f, "looptrace_tick_duration_seconds", "histogram",
           "Duration of the event loop's complete ticks.");
  put_histo(f, "looptrace_tick_duration_seconds", base, NULL, &m->ticks);
  put_histos(f, "looptrace_phase_duration_seconds",
             "Duration of the loop's complete phases, by phase.", base, "phase",
             &m->phases);
  put_histos(f, "looptrace_task_queue_wait_seconds",
             "Time threadpool tasks waited for a worker, by kind (label).",
             base, "kind", &m->waits);
  put_histos(f, "looptrace_task_run_seconds",
             "Run time of complete threadpool tasks, by kind (label).", base,
             "kind", &m->runs);
  put_scalar(f, "looptrace_ticks_total", "counter", "Ticks seen.", base,
             (double) m->ticks_total);
  put_scalar(f, "looptrace_tasks_total", "counter",
             "Threadpool tasks seen running.", base, (double) m->tasks_total);
  put_scalar(f, "looptrace_callbacks_total", "counter", "Callbacks seen.", base,
             (double) m->callbacks_total);
  put_scalar(f, "looptrace_dropped_records_total", "counter",
             "Trace records lost (full buffers).", base,
             (double) m->dropped_total);
  if (running >= 0)
    put_scalar(f, "looptrace_pool_running", "gauge",
               "Threadpool tasks running now.", base, (double) running);
  if (queued >= 0)
    put_scalar(f, "looptrace_pool_queued", "gauge",
               "Threadpool tasks queued now.", base, (double) queued);
}

int metrics_publish(struct metrics* m, int64_t pid, const char* comm,
                    int64_t running, int64_t queued) {
  char* text = NULL;
  size_t len = 0;
  char* base = NULL;
  size_t blen = 0;
  FILE* f = open_memstream(&base, &blen);
  if (f == NULL)
    return -ENOMEM;
  fprintf(f, "pid=\"%" PRId64 "\",comm=\"", pid);
  put_value(f, comm != NULL ? comm : "");
  fputc('"', f);
  if (fclose(f) != 0)
    return -ENOMEM;
  f = open_memstream(&text, &len);
  if (f == NULL) {
    free(base);
    return -ENOMEM;
  }
  put_all(f, m, base, running, queued);
  free(base);
  if (fclose(f) != 0)
    return -ENOMEM;
  pthread_mutex_lock(&m->lock);
  free(m->text);
  m->text = text;
  m->len = len;
  pthread_mutex_unlock(&m->lock);
  return 0;
}

/* ------------------------------------------------------------------------
 * The server thread
 */

static void on_metrics(http_conn_t* conn, void* data) {
  struct metrics* m = data;
  char* copy;
  size_t len;
  pthread_mutex_lock(&m->lock);
  len = m->len;
  copy = len > 0 ? malloc(len) : NULL;
  if (copy != NULL)
    memcpy(copy, m->text, len);
  pthread_mutex_unlock(&m->lock);
  if (len > 0 && copy == NULL) {
    http_respond(conn, 503, "text/plain", NULL, "out of memory\n", 14);
    return;
  }
  http_respond(conn, 200, "text/plain; version=0.0.4; charset=utf-8", NULL,
               copy, len);
  free(copy);
}

static void on_stop(uv_async_t* a) {
  struct metrics* m = a->data;
  http_server_stop(&m->server);
  uv_close((uv_handle_t*) &m->stop, NULL);
  lrt_stop(&m->loop);
}

static void* serve(void* arg) {
  struct metrics* m = arg;
  int r = lrt_loop_init(&m->loop);
  if (r == 0) {
    m->route.path = "/metrics";
    m->route.handler = on_metrics;
    m->route.data = m;
    r = http_server_start(&m->server, &m->loop, m->ip, m->port, &m->route, 1);
    if (r == 0) {
      m->stop.data = m;
      r = uv_async_init(lrt_uv_loop(&m->loop), &m->stop, on_stop);
      if (r != 0)
        http_server_stop(&m->server);
    }
    if (r != 0) {
      lrt_run(&m->loop); /* closes what was started */
      lrt_loop_close(&m->loop);
    }
  }
  m->start_error = r;
  sem_post(&m->started);
  if (r != 0)
    return NULL;
  lrt_run(&m->loop);
  lrt_loop_close(&m->loop);
  return NULL;
}

int metrics_start(struct metrics** out, const char* ip, int port) {
  struct metrics* m = calloc(1, sizeof(*m));
  int err;
  if (m == NULL)
    return -ENOMEM;
  m->ip = ip;
  m->port = port;
  pthread_mutex_init(&m->lock, NULL);
  sem_init(&m->started, 0, 0);
  err = pthread_create(&m->thread, NULL, serve, m);
  if (err != 0) {
    free(m);
    return -err;
  }
  while (sem_wait(&m->started) != 0 && errno == EINTR)
    ;
  if (m->start_error != 0) {
    err = m->start_error;
    pthread_join(m->thread, NULL);
    sem_destroy(&m->started);
    pthread_mutex_destroy(&m->lock);
    free(m);
    return err;
  }
  *out = m;
  return 0;
}

int metrics_port(const struct metrics* m) {
  return http_server_port(&m->server);
}

void metrics_stop(struct metrics* m) {
  if (m == NULL)
    return;
  uv_async_send(&m->stop);
  pthread_join(m->thread, NULL);
  sem_destroy(&m->started);
  pthread_mutex_destroy(&m->lock);
  free(m->text);
  free(m);
}
