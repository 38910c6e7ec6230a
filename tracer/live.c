/* live.c — a live trace cut into windows of time (live.h). */
#include "live.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The last tick seen on a loop thread: spans inside it are counted in
 * the window that counts it. */
struct loop_tick {
  int64_t tid;
  int64_t ts_ns;
  int64_t end_ns;
  uint64_t gen; /* the window counting it */
};

/* A metadata event kept to be given to every new window; its strings
 * are owned. */
struct meta {
  struct stat_event ev;
  char* name;
  char* libuv_version;
  char* command;
};

struct live {
  uint64_t interval_ns;      /* of the windows opened from now on */
  struct stat_summary* w[2]; /* [0] the window closed next, [1] the one
                                after it (open-ended) */
  int64_t from_ns;           /* w[0]'s start */
  int64_t to_ns;             /* w[0]'s end; w[1] starts there */
  int64_t next_end_ns;       /* the latest end of a span given to w[1] */
  uint64_t gen;              /* w[0]'s number; w[1] is gen + 1 */
  int64_t seen_ns;           /* the latest moment shown, -1 before any */
  struct loop_tick ticks[LIVE_MAX_LOOPS];
  size_t nticks;
  struct meta meta[LIVE_MAX_META];
  size_t nmeta;
};

static char* dup_or_null(const char* s, int* failed) {
  char* d;
  if (s == NULL)
    return NULL;
  d = strdup(s);
  if (d == NULL)
    *failed = 1;
  return d;
}

/* Keeps a copy of a metadata event for the windows to come (there is
 * room for it). Drops and the recording's length are left out of the
 * facts: a window's drops are the `dropped` instants inside it, its
 * length the window's. */
static int keep_meta(struct live* l, const struct stat_event* ev) {
  struct meta* m = &l->meta[l->nmeta];
  int failed = 0;
  memset(m, 0, sizeof(*m));
  m->ev.type = ev->type;
  m->ev.pid = ev->pid;
  m->ev.tid = ev->tid;
  m->ev.value = ev->value;
  m->ev.cat = "";
  /* Only the facts the summary reads: no string left borrowed. */
  m->ev.facts.has_threadpool_size = ev->facts.has_threadpool_size;
  m->ev.facts.threadpool_size = ev->facts.threadpool_size;
  m->name = dup_or_null(ev->name, &failed);
  m->libuv_version = dup_or_null(ev->facts.libuv_version, &failed);
  m->command = dup_or_null(ev->facts.command, &failed);
  m->ev.name = m->name != NULL ? m->name : "";
  m->ev.facts.libuv_version = m->libuv_version;
  m->ev.facts.command = m->command;
  l->nmeta++; /* freed by live_free() even when a copy failed */
  return failed ? -ENOMEM : 0;
}

/* A new window from from_ns, open-ended, that knows the metadata. */
static int open_window(struct live* l, int64_t from_ns,
                       struct stat_summary** out) {
  size_t i;
  int err = stat_summary_new(out);
  if (err != 0)
    return err;
  stat_summary_window(*out, from_ns, INT64_MAX);
  for (i = 0; i < l->nmeta && err == 0; i++)
    err = stat_summary_add(*out, &l->meta[i].ev);
  return err;
}

int live_new(struct live** out, uint64_t interval_ns) {
  struct live* l = calloc(1, sizeof(*l));
  int err;
  if (l == NULL)
    return -ENOMEM;
  l->interval_ns = interval_ns;
  l->seen_ns = -1;
  l->to_ns = INT64_MAX;
  err = open_window(l, 0, &l->w[0]);
  if (err == 0)
    err = open_window(l, INT64_MAX, &l->w[1]);
  if (err != 0) {
    live_free(l);
    return err;
  }
  *out = l;
  return 0;
}

void live_start(struct live* l, int64_t ts_ns) {
  l->from_ns = ts_ns;
  l->to_ns = ts_ns + (int64_t) l->interval_ns;
  stat_summary_window(l->w[0], l->from_ns, l->to_ns);
  stat_summary_window(l->w[1], l->to_ns, INT64_MAX);
}

void live_set_interval(struct live* l, uint64_t interval_ns) {
  l->interval_ns = interval_ns;
}

int64_t live_window_end(const struct live* l) {
  return l->to_ns;
}

int64_t live_seen(const struct live* l) {
  return l->seen_ns;
}

/* The loop thread's last tick, or NULL. */
static struct loop_tick* find_tick(struct live* l, int64_t tid) {
  size_t i;
  for (i = 0; i < l->nticks; i++)
    if (l->ticks[i].tid == tid)
      return &l->ticks[i];
  return NULL;
}

/* Notes a tick counted in window `gen`; past LIVE_MAX_LOOPS threads the
 * oldest entry makes room. */
static void note_tick(struct live* l, const struct stat_event* ev,
                      uint64_t gen) {
  struct loop_tick* t = find_tick(l, ev->tid);
  if (t == NULL) {
    if (l->nticks == LIVE_MAX_LOOPS)
      memmove(l->ticks, l->ticks + 1, --l->nticks * sizeof(l->ticks[0]));
    t = &l->ticks[l->nticks++];
    t->tid = ev->tid;
  }
  t->ts_ns = ev->ts_ns;
  t->end_ns = ev->ts_ns + ev->dur_ns;
  t->gen = gen;
}

/* Which window counts a span: 0 or 1 (live.h). */
static int span_window(struct live* l, const struct stat_event* ev) {
  int64_t end = ev->ts_ns + ev->dur_ns;
  int w = end < l->to_ns ? 0 : 1;
  struct loop_tick* t;
  if (ev->kind == STAT_KIND_TICK) {
    note_tick(l, ev, l->gen + (uint64_t) w);
    return w;
  }
  t = find_tick(l, ev->tid);
  if (t != NULL && t->ts_ns <= ev->ts_ns && end <= t->end_ns)
    return t->gen > l->gen ? 1 : 0;
  return w;
}

static int add_span(struct live* l, const struct stat_event* ev) {
  int64_t end = ev->ts_ns + ev->dur_ns;
  int w = span_window(l, ev);
  int err = stat_summary_add(l->w[w], ev);
  if (err != 0)
    return err;
  /* Its time before the counting window's start, in the other one. */
  if (w == 1 && ev->ts_ns < l->to_ns)
    err = stat_summary_add_time(l->w[0], ev);
  else if (w == 0 && end > l->to_ns)
    err = stat_summary_add_time(l->w[1], ev);
  if (end > l->next_end_ns && (w == 1 || end > l->to_ns))
    l->next_end_ns = end;
  return err;
}

int live_add(struct live* l, const struct stat_event* ev) {
  int err = 0;
  if (ev->has_ts) {
    int64_t end = ev->ts_ns + (ev->has_dur ? ev->dur_ns : 0);
    if (end > l->seen_ns)
      l->seen_ns = end;
  }
  switch (ev->type) {
  case STAT_EV_SPAN:
    if (!ev->has_ts || !ev->has_dur)
      return stat_summary_add(l->w[0], ev); /* counted as unusable */
    return add_span(l, ev);
  case STAT_EV_DROPPED:
    return stat_summary_add(l->w[ev->has_ts && ev->ts_ns >= l->to_ns ? 1 : 0],
                            ev);
  case STAT_EV_PROCESS_NAME:
  case STAT_EV_THREAD_NAME:
  case STAT_EV_THREAD_SORT:
  case STAT_EV_FACTS:
    if (l->nmeta < LIVE_MAX_META) {
      err = keep_meta(l, ev);
      ev = &l->meta[l->nmeta - 1].ev;
    }
    if (err == 0)
      err = stat_summary_add(l->w[0], ev);
    if (err == 0)
      err = stat_summary_add(l->w[1], ev);
    return err;
  default: /* B and E of other producers: not ours to cut */
    return stat_summary_add(l->w[0], ev);
  }
}

int live_close(struct live* l, int64_t end_ns, enum stat_sort sort,
               const struct stat_figures** out) {
  if (end_ns < l->to_ns)
    stat_summary_window(l->w[0], l->from_ns, end_ns);
  stat_summary_sort(l->w[0], sort);
  return stat_summary_finish(l->w[0], NULL, out);
}

int live_next(struct live* l) {
  struct stat_summary* s;
  int64_t from = l->to_ns;
  int64_t to = from + (int64_t) l->interval_ns;
  int err;
  /* What w[1] already took may end past its interval (an interval
   * shorter than the lag): it then lasts until there. */
  if (l->next_end_ns > to)
    to = l->next_end_ns;
  err = open_window(l, to, &s);
  if (err != 0)
    return err;
  stat_summary_free(l->w[0]);
  l->w[0] = l->w[1];
  l->w[1] = s;
  l->from_ns = from;
  l->to_ns = to;
  l->next_end_ns = 0;
  l->gen++;
  stat_summary_window(l->w[0], from, to);
  return 0;
}

void live_free(struct live* l) {
  size_t i;
  if (l == NULL)
    return;
  stat_summary_free(l->w[0]);
  stat_summary_free(l->w[1]);
  for (i = 0; i < l->nmeta; i++) {
    free(l->meta[i].name);
    free(l->meta[i].libuv_version);
    free(l->meta[i].command);
  }
  free(l);
}
