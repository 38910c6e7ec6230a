/* test-stat-reader.c — the streaming loader (trace_reader.h) and the
 * percentiles (stat_values.h), called directly.
 */
#include <errno.h>
#include <unistd.h>

#include "json_writer.h"
#include "stat_summary.h"
#include "stat_values.h"
#include "test-stat.h"
#include "test.h"
#include "trace_reader.h"

/* What the callback saw. */
struct seen {
  int n;
  char names[16][32];
  int64_t ts[16];
  int64_t dur[16];
  int64_t tid[16];
  int stop_at; /* return -ECANCELED at this event (1-based), 0: never */
};

static int on_event(const struct trace_event* ev, void* arg) {
  struct seen* s = arg;
  if (s->n < 16) {
    snprintf(s->names[s->n], sizeof(s->names[0]), "%s", ev->name);
    s->ts[s->n] = ev->has & TRACE_HAS_TS ? ev->ts_ns : -1;
    s->dur[s->n] = ev->has & TRACE_HAS_DUR ? ev->dur_ns : -1;
    s->tid[s->n] = ev->has & TRACE_HAS_TID ? ev->tid : -1;
  }
  s->n++;
  return s->stop_at != 0 && s->n == s->stop_at ? -ECANCELED : 0;
}

/* Feeds `text` in pieces of `chunk` bytes; returns the last status. */
static int feed(struct trace_reader* r, const char* text, size_t len,
                size_t chunk) {
  size_t off = 0;
  int rc = 0;
  while (off < len && rc == 0) {
    size_t n = len - off < chunk ? len - off : chunk;
    rc = trace_reader_feed(r, text + off, n);
    off += n;
  }
  return rc == 0 ? trace_reader_end(r) : rc;
}

/* Strings hold brackets, braces, quotes and backslashes; the events must
 * come out whole whatever the read size. */
TEST_IMPL(stat_reader_splits_events) {
  static const char text[] =
      "\xef\xbb\xbf [ {\"name\":\"a]}\\\"{[\\\\\",\"ph\":\"X\",\"ts\":1.5,"
      "\"dur\":0.001,\"tid\":7,\"args\":{\"x\":[{\"y\":\"}\"}]}},\n"
      "{\"name\":\"b\\u005d\",\"ph\":\"i\",\"ts\":\"2\",\"pid\":3},"
      "{\"name\":\"c\",\"ph\":\"M\"}]  \n";
  size_t chunk;
  for (chunk = 1; chunk <= sizeof(text); chunk++) {
    struct trace_reader r;
    struct seen s;
    memset(&s, 0, sizeof(s));
    trace_reader_init(&r, on_event, &s);
    ASSERT_EQ(feed(&r, text, sizeof(text) - 1, chunk), 0);
    ASSERT_EQ(s.n, 3);
    ASSERT_EQ(r.events, 3);
    ASSERT_EQ(r.form, TRACE_FORM_ARRAY);
    ASSERT_EQ(r.truncated, 0);
    ASSERT_STR_EQ(s.names[0], "a]}\"{[\\");
    ASSERT_EQ(s.ts[0], 1500);
    ASSERT_EQ(s.dur[0], 1);
    ASSERT_EQ(s.tid[0], 7);
    ASSERT_STR_EQ(s.names[1], "b]");
    /* A numeric string is a time, as in Perfetto; tid defaults to pid. */
    ASSERT_EQ(s.ts[1], 2000);
    ASSERT_EQ(s.tid[1], 3);
    ASSERT_STR_EQ(s.names[2], "c");
    ASSERT_EQ(s.ts[2], -1);
    ASSERT_EQ(r.bytes, sizeof(text) - 1);
    trace_reader_close(&r);
  }
  return 0;
}

/* The object form: only "traceEvents" elements are events, wherever the
 * member is; other members are skipped however they look. */
TEST_IMPL(stat_reader_object_form) {
  static const char text[] =
      "{\"traceEvents\\\"\":[{\"name\":\"not\"}],\"x\":{\"traceEvents\":"
      "[{\"name\":\"nested\"}]},\"traceEventsX\":[{}],\"n\":-1.5e3,"
      "\"t\":true,\"traceEvents\":[{\"name\":\"yes\",\"ph\":\"X\"}],"
      "\"s\":\"]\"}";
  size_t chunk;
  for (chunk = 1; chunk <= sizeof(text); chunk += 3) {
    struct trace_reader r;
    struct seen s;
    memset(&s, 0, sizeof(s));
    trace_reader_init(&r, on_event, &s);
    ASSERT_EQ(feed(&r, text, sizeof(text) - 1, chunk), 0);
    ASSERT_EQ(r.form, TRACE_FORM_OBJECT);
    ASSERT_EQ(r.has_events_array, 1);
    ASSERT_EQ(s.n, 1);
    ASSERT_STR_EQ(s.names[0], "yes");
    ASSERT_EQ(r.truncated, 0);
    ASSERT_EQ(r.trailing_at, 0);
    trace_reader_close(&r);
  }
  return 0;
}

/* The callback's error stops the reader, and sticks. */
TEST_IMPL(stat_reader_callback_stops) {
  static const char text[] = "[{\"name\":\"1\"},{\"name\":\"2\"},{}]";
  struct trace_reader r;
  struct seen s;
  memset(&s, 0, sizeof(s));
  s.stop_at = 2;
  trace_reader_init(&r, on_event, &s);
  ASSERT_EQ(trace_reader_feed(&r, text, sizeof(text) - 1), -ECANCELED);
  ASSERT_EQ(s.n, 2);
  ASSERT_EQ(trace_reader_feed(&r, "]", 1), -ECANCELED);
  ASSERT_EQ(trace_reader_end(&r), -ECANCELED);
  trace_reader_close(&r);
  trace_reader_close(&r);
  return 0;
}

/* Field checks: what is refused, what is converted. */
TEST_IMPL(stat_reader_fields) {
  static const char text[] =
      "[{\"ph\":\"X\",\"ts\":123.4565,\"dur\":0,\"pid\":0,\"tid\":0},"
      "{\"ph\":\"X\",\"ts\":-5,\"pid\":9},"
      "{\"ph\":\"X\",\"ts\":1e14,\"dur\":1e14},"
      "{\"ph\":\"X\",\"ts\":1.00000000001e14},"
      "{\"ph\":\"X\",\"tid\":1.5},"
      "{\"ph\":\"X\",\"pid\":1e16},"
      "{\"ph\":\"X\",\"ts\":\" 1\"},"
      "{\"ph\":\"X\",\"ts\":\"1x\"},"
      "{\"ph\":\"X\",\"ts\":\"\"},"
      "{\"ph\":\"X\",\"dur\":\"-0.001\"},"
      "{\"ph\":\"X\",\"cat\":null}]";
  struct trace_reader r;
  struct seen s;
  memset(&s, 0, sizeof(s));
  trace_reader_init(&r, on_event, &s);
  ASSERT_EQ(feed(&r, text, sizeof(text) - 1, 4096), 0);
  ASSERT_EQ(s.n, 3);
  /* Rounded to the nearest ns; tid 0 means the pid. */
  ASSERT_EQ(s.ts[0], 123457);
  ASSERT_EQ(s.dur[0], 0);
  ASSERT_EQ(s.tid[0], 0);
  ASSERT_EQ(s.ts[1], -5000);
  ASSERT_EQ(s.tid[1], 9);
  ASSERT_EQ(s.ts[2], 100000000000000000);
  ASSERT_EQ(r.bad_fields, 8);
  trace_reader_close(&r);
  return 0;
}

/* An event past TRACE_READER_MAX_EVENT is skipped; the next one is read,
 * and the buffer does not stay large. */
TEST_IMPL(stat_reader_oversized) {
  size_t big = TRACE_READER_MAX_EVENT + 10;
  char* text = malloc(big + 64);
  char* p = text;
  struct trace_reader r;
  struct seen s;
  ASSERT_NOT_NULL(text);
  p += sprintf(p, "[{\"name\":\"");
  memset(p, 'x', big);
  p += big;
  p += sprintf(p, "\"},{\"name\":\"after\"}]");
  memset(&s, 0, sizeof(s));
  trace_reader_init(&r, on_event, &s);
  ASSERT_EQ(feed(&r, text, (size_t) (p - text), 1 << 20), 0);
  ASSERT_EQ(r.oversized, 1);
  ASSERT_EQ(s.n, 1);
  ASSERT_STR_EQ(s.names[0], "after");
  ASSERT_UINT_LE(r.cap, 65536);
  trace_reader_close(&r);
  free(text);
  return 0;
}

/* Nearest rank: pN = v[ceil(N/100 * n) - 1] on the sorted values. */
TEST_IMPL(stat_values_percentiles) {
  struct stat_values v;
  uint64_t out;
  int i;

  stat_values_init(&v);
  ASSERT_EQ(stat_values_pct(&v, 50, &out), -ENOENT);
  ASSERT_EQ(stat_values_add(&v, 7), 0);
  ASSERT_EQ(stat_values_pct(&v, 50, &out), 0);
  ASSERT_UINT_EQ(out, 7);
  ASSERT_EQ(stat_values_pct(&v, 99, &out), 0);
  ASSERT_UINT_EQ(out, 7);
  stat_values_free(&v);

  /* 1..100 shuffled: p50 = 50, p99 = 99. */
  for (i = 0; i < 100; i++)
    ASSERT_EQ(stat_values_add(&v, (uint64_t) ((i * 37) % 100 + 1)), 0);
  ASSERT_EQ(stat_values_pct(&v, 50, &out), 0);
  ASSERT_UINT_EQ(out, 50);
  ASSERT_EQ(stat_values_pct(&v, 99, &out), 0);
  ASSERT_UINT_EQ(out, 99);
  ASSERT_UINT_EQ(v.max, 100);
  ASSERT_UINT_EQ(v.sum, 5050);
  /* 101 values: p50 is rank 51, p99 rank 100. */
  ASSERT_EQ(stat_values_add(&v, 101), 0);
  ASSERT_EQ(stat_values_pct(&v, 50, &out), 0);
  ASSERT_UINT_EQ(out, 51);
  ASSERT_EQ(stat_values_pct(&v, 99, &out), 0);
  ASSERT_UINT_EQ(out, 100);
  ASSERT_NOT_NULL(v.v32);

  /* A value past 32 bits moves the set to 64-bit storage, intact. */
  ASSERT_EQ(stat_values_add(&v, 10000000000ull), 0);
  ASSERT_NULL(v.v32);
  ASSERT_NOT_NULL(v.v64);
  ASSERT_EQ(stat_values_pct(&v, 99, &out), 0);
  ASSERT_UINT_EQ(out, 101);
  ASSERT_EQ(stat_values_pct(&v, 100, &out), 0);
  ASSERT_UINT_EQ(out, 10000000000ull);
  /* 102 values: p1 is rank ceil(1.02) = 2. */
  ASSERT_EQ(stat_values_pct(&v, 1, &out), 0);
  ASSERT_UINT_EQ(out, 2);
  stat_values_free(&v);

  /* Many equal values (3-way partition) and a sorted run. */
  for (i = 0; i < 100000; i++)
    ASSERT_EQ(stat_values_add(&v, i < 99000 ? 5 : (uint64_t) i), 0);
  ASSERT_EQ(stat_values_pct(&v, 50, &out), 0);
  ASSERT_UINT_EQ(out, 5);
  ASSERT_EQ(stat_values_pct(&v, 99, &out), 0);
  ASSERT_UINT_EQ(out, 5);
  stat_values_free(&v);
  return 0;
}

/* The events a reader finds in data[0..len) read `chunk` bytes at a time;
 * *rc gets what the reader returned. r is left for the caller to inspect
 * and close. */
static int count_events(struct trace_reader* r, const char* data, size_t len,
                        size_t chunk, int* rc) {
  struct seen s;
  memset(&s, 0, sizeof(s));
  trace_reader_init(r, on_event, &s);
  *rc = feed(r, data, len, chunk);
  return s.n;
}

/* gzip written by json_writer (the recorder's writer) is read back by
 * trace_reader whatever the read size; a file cut just after a flush (a
 * sync point) gives every event written before it, and says it is cut. */
TEST_IMPL(stat_reader_gzip) {
  char path[] = "/tmp/looptrace-stat-gz-XXXXXX";
  struct json_writer w;
  struct trace_reader r;
  size_t plain_len;
  size_t gz_len;
  size_t half;
  uint64_t at_flush;
  char* plain = test_slurp(stat_fixture("threads.json"), &plain_len);
  char* gz;
  int fd = mkstemp(path);
  int all;
  int before;
  int rc;
  size_t chunks[] = {1, 7, 4093, 1 << 20};
  size_t i;

  ASSERT_GE(fd, 0);
  ASSERT_EQ(jw_init_gzip(&w, fd), 0);
  /* The first half, a flush (as record does every second), the rest. */
  half = (size_t) (strstr(plain,
                          "\n{\"name\":\"tick\",\"cat\":\"tick\","
                          "\"ph\":\"X\",\"ts\":2100") -
                   plain) +
         1;
  jw_raw(&w, plain, half);
  ASSERT_EQ(jw_flush(&w), 0);
  at_flush = w.written;
  jw_raw(&w, plain + half, plain_len - half);
  ASSERT_EQ(jw_finish(&w), 0);
  ASSERT_UINT_EQ(w.total, plain_len);
  jw_free(&w);
  close(fd);
  gz = test_slurp(path, &gz_len);
  unlink(path);
  ASSERT_UINT_EQ(gz_len, w.written);
  ASSERT_EQ((unsigned char) gz[0], 0x1f);
  ASSERT_EQ((unsigned char) gz[1], 0x8b);
  ASSERT_LT(gz_len * 3, plain_len);

  all = count_events(&r, plain, plain_len, plain_len, &rc);
  trace_reader_close(&r);
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(all, 51);
  for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
    ASSERT_EQ(count_events(&r, gz, gz_len, chunks[i], &rc), all);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(r.gzip, 1);
    ASSERT_EQ(r.gzip_cut, 0);
    ASSERT_EQ(r.truncated, 0);
    ASSERT_UINT_EQ(r.bytes, plain_len);
    trace_reader_close(&r);
  }

  /* Cut at the sync point: the first half's events, all of them. */
  before = count_events(&r, gz, (size_t) at_flush, 4093, &rc);
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(r.gzip_cut, 1);
  ASSERT_EQ(r.truncated, 1);
  ASSERT_EQ(before, 40);
  trace_reader_close(&r);
  /* Cut anywhere: never more than there was; a failure only when nothing
   * could be read (the cut is inside the first deflate block). */
  for (i = 1; i < gz_len; i += 97) {
    int n = count_events(&r, gz, i, 512, &rc);
    ASSERT_LE(n, all);
    ASSERT_EQ(r.gzip_cut, 1);
    if (rc != 0) {
      ASSERT_EQ(rc, -EINVAL);
      ASSERT_EQ(n, 0);
    }
    trace_reader_close(&r);
  }
  free(gz);
  free(plain);
  return 0;
}

/* A live source (no JSON) feeds the summary with stat_event values, spans
 * as they open and close, and gets the same figures the file would. */
TEST_IMPL(stat_summary_live_events) {
  struct stat_summary* s;
  const struct stat_figures* f;
  struct stat_event ev;
  /* tick 1 [0, 10) ms holding poll [0, 9), wait [1, 8), a read callback
   * [8, 9); then tick 2 [10, 12), cut at its end. */
  static const struct {
    enum stat_event_type type;
    enum stat_kind kind;
    const char* name;
    int64_t ms;
    int cut;
  } live[] = {
      {STAT_EV_BEGIN, STAT_KIND_TICK, "tick", 0, 0},
      {STAT_EV_BEGIN, STAT_KIND_PHASE, "poll", 0, 0},
      {STAT_EV_BEGIN, STAT_KIND_WAIT, "wait", 1, 0},
      {STAT_EV_END, STAT_KIND_WAIT, "wait", 8, 0},
      {STAT_EV_BEGIN, STAT_KIND_CALLBACK, "onread", 8, 0},
      {STAT_EV_END, STAT_KIND_CALLBACK, "onread", 9, 0},
      {STAT_EV_END, STAT_KIND_PHASE, "poll", 9, 0},
      {STAT_EV_END, STAT_KIND_TICK, "tick", 10, 0},
      {STAT_EV_BEGIN, STAT_KIND_TICK, "tick", 10, 0},
      {STAT_EV_END, STAT_KIND_TICK, "tick", 12, 1},
  };
  size_t i;

  ASSERT_EQ(stat_summary_new(&s), 0);
  for (i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
    memset(&ev, 0, sizeof(ev));
    ev.type = live[i].type;
    ev.kind = live[i].kind;
    ev.pid = ev.tid = 1;
    ev.has_ts = 1;
    ev.ts_ns = live[i].ms * 1000000;
    ev.name = live[i].name;
    ev.cat = "";
    ev.has_args = live[i].kind == STAT_KIND_CALLBACK || live[i].cut;
    ev.args.cb_kind = live[i].kind == STAT_KIND_CALLBACK ? "read" : NULL;
    ev.args.cut = live[i].cut;
    ASSERT_EQ(stat_summary_add(s, &ev), 0);
  }
  ASSERT_EQ(stat_summary_finish(s, NULL, &f), 0);
  ASSERT_UINT_EQ(f->ticks, 2);
  ASSERT_UINT_EQ(f->cut.ticks, 1);
  ASSERT_UINT_EQ(f->tick_dur.max, 10000000);
  ASSERT_UINT_EQ(f->nlongest, 1);
  ASSERT_UINT_EQ(f->longest[0].busy_ns, 3000000);
  ASSERT_UINT_EQ(f->longest[0].ncallbacks, 1);
  ASSERT_STR_EQ(f->longest[0].callbacks[0].kind, "read");
  ASSERT_UINT_EQ(f->ncallbacks, 1);
  ASSERT_UINT_EQ(f->callbacks[0].total_ns, 1000000);
  ASSERT_UINT_EQ(f->nphases, 1);
  ASSERT_UINT_EQ(f->phases[0].dur.p50, 9000000);
  ASSERT(f->has_utilization);
  ASSERT(f->utilization > 0.41 && f->utilization < 0.42); /* 1 - 7/12 */
  stat_summary_free(s);
  return 0;
}

/* Threads are told apart by (pid, tid) and callbacks by (name, kind),
 * the kind "" not being no kind; a thread whose tid is no 32-bit number
 * is left out and said so, never merged with another. */
TEST_IMPL(stat_summary_keys) {
  static const struct {
    int64_t pid;
    int64_t tid;
    enum stat_kind kind;
    const char* name;
    const char* cb_kind;
  } spans[] = {
      {1, 7, STAT_KIND_WORK, "task", NULL},
      {2, 7, STAT_KIND_WORK, "task", NULL},
      {0, 0, STAT_KIND_WORK, "task", NULL},
      {-5, -5, STAT_KIND_WORK, "task", NULL},
      {1, 7, STAT_KIND_WORK, "task", NULL},
      {1, (int64_t) 1 << 40, STAT_KIND_WORK, "task", NULL},
      {1, 1, STAT_KIND_CALLBACK, "cb", NULL},
      {1, 1, STAT_KIND_CALLBACK, "cb", ""},
      {1, 1, STAT_KIND_CALLBACK, "cb", ""},
      {1, 1, STAT_KIND_CALLBACK, "cb", "read"},
      {1, 1, STAT_KIND_CALLBACK, "cbread", NULL},
  };
  struct stat_summary* s;
  const struct stat_figures* f;
  struct stat_event ev;
  uint64_t counts[4] = {0};
  uint64_t tasks = 0;
  size_t tid7 = 0;
  size_t i;

  ASSERT_EQ(stat_summary_new(&s), 0);
  for (i = 0; i < sizeof(spans) / sizeof(spans[0]); i++) {
    memset(&ev, 0, sizeof(ev));
    ev.type = STAT_EV_SPAN;
    ev.kind = spans[i].kind;
    ev.pid = spans[i].pid;
    ev.tid = spans[i].tid;
    ev.has_ts = ev.has_dur = ev.has_args = 1;
    ev.ts_ns = (int64_t) i * 1000000;
    ev.dur_ns = 1000;
    ev.name = spans[i].name;
    ev.cat = "";
    ev.args.cb_kind = spans[i].cb_kind;
    ASSERT_EQ(stat_summary_add(s, &ev), 0);
  }
  ASSERT_EQ(stat_summary_finish(s, NULL, &f), 0);
  ASSERT_UINT_EQ(f->nworkers, 4);
  for (i = 0; i < f->nworkers; i++) {
    tasks += f->workers[i].tasks;
    tid7 += f->workers[i].tid == 7;
  }
  ASSERT_UINT_EQ(tasks, 5);
  ASSERT_UINT_EQ(tid7, 2);
  ASSERT_UINT_EQ(f->ncallbacks, 4);
  for (i = 0; i < f->ncallbacks; i++) {
    const struct stat_callback* c = &f->callbacks[i];
    size_t k = strcmp(c->name, "cbread") == 0 ? 3
               : c->kind == NULL              ? 0
               : c->kind[0] == '\0'           ? 1
                                              : 2;
    ASSERT_STR_EQ(c->name, k == 3 ? "cbread" : "cb");
    counts[k] += c->count;
  }
  ASSERT_UINT_EQ(counts[0], 1);
  ASSERT_UINT_EQ(counts[1], 2);
  ASSERT_UINT_EQ(counts[2], 1);
  ASSERT_UINT_EQ(counts[3], 1);
  ASSERT_UINT_EQ(f->nwarnings, 1);
  ASSERT_NOT_NULL(strstr(f->warnings[0],
                         "1 events of threads whose pid or "
                         "tid is not in (-2^31, 2^31)"));
  stat_summary_free(s);
  return 0;
}
