/* trace_json.c — see trace_json.h. Each event is formatted into the
 * writer's buffer in one piece of at most MAX_EVENT bytes, except the
 * strings of facts (a command line, fallbacks), which are streamed. */
#include "trace_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labels.h"
#include "looprt_vocab.h"

/* The most bytes one event takes: a name escaped twice (name and args)
 * and the fixed parts. */
#define MAX_EVENT (2 * JW_ESCAPED_MAX(LABEL_TEXT_MAX) + 512)

#define NAMES 65536

/* The version of the file format this writer writes (TRACE-FORMAT.md),
 * as the head facts say it. */
#define STR_(x) #x
#define STR(x) STR_(x)
#define FORMAT_VERSION \
  "\"" TRACE_META_TRACE_FORMAT "\":" STR(TRACE_FORMAT_VERSION)

/* A name, escaped and quoted, for the name_id it was made of. */
struct trace_json_name {
  uint64_t name_id;
  size_t len;
  char json[JW_ESCAPED_MAX(LABEL_TEXT_MAX)];
};

#define PUT(p, lit) \
  (memcpy((p), (lit), sizeof(lit) - 1), (p) += sizeof(lit) - 1)

static char* put(char* p, const char* s, size_t n) {
  memcpy(p, s, n);
  return p + n;
}

/* Where the escaped name of `name_id` (not 0) is kept: small ids (names
 * that never change) in a table of their own, the others by their low
 * 16 bits. NULL when out of memory. */
static struct trace_json_name** name_slot(struct trace_json* tj,
                                          uint64_t name_id) {
  if (name_id < TRACE_JSON_SMALL_IDS)
    return &tj->small[name_id];
  if (tj->names == NULL &&
      (tj->names = calloc(NAMES, sizeof(*tj->names))) == NULL)
    return NULL;
  return &tj->names[name_id & (NAMES - 1)];
}

/* put_name() when the name is not in the cache: escaped, and kept unless
 * `name_id` is 0. */
static char* put_new_name(struct trace_json* tj, char* p, const char* s,
                          uint64_t name_id) {
  size_t len = strlen(s);
  struct trace_json_name** slot;
  struct trace_json_name* n;
  if (name_id == 0 || len > LABEL_TEXT_MAX ||
      (slot = name_slot(tj, name_id)) == NULL)
    return jw_fmt_string(p, s, len);
  if (*slot == NULL) {
    if ((*slot = malloc(sizeof(**slot))) == NULL)
      return jw_fmt_string(p, s, len);
    tj->nnames++;
  }
  n = *slot;
  n->len = (size_t) (jw_fmt_string(n->json, s, len) - n->json);
  n->name_id = name_id;
  return put(p, n->json, n->len);
}

/* The name `s` escaped and quoted; from the cache when `name_id` is not
 * 0 (then `s` is that id's text: stat_event.h). A short one is copied
 * whole (the event has room): a copy of constant size is a few moves. */
static inline char* put_name(struct trace_json* tj, char* p, const char* s,
                             uint64_t name_id) {
  const struct trace_json_name* n = NULL;
  if (name_id < TRACE_JSON_SMALL_IDS)
    n = tj->small[name_id]; /* small[0] stays NULL */
  else if (tj->names != NULL)
    n = tj->names[name_id & (NAMES - 1)];
  if (n == NULL || n->name_id != name_id)
    return put_new_name(tj, p, s, name_id);
  if (n->len > 32)
    return put(p, n->json, n->len);
  memcpy(p, n->json, 32);
  return p + n->len;
}

/* Makes the ids text of the event's thread. */
static void make_ids(struct trace_json_ids* ids, const struct stat_event* ev) {
  char* q = ids->text;
  PUT(q, ",\"pid\":");
  q = jw_fmt_u64(q, (uint64_t) ev->pid);
  PUT(q, ",\"tid\":");
  q = jw_fmt_u64(q, (uint64_t) ev->tid);
  ids->len = (uint8_t) (q - ids->text);
  ids->pid = ev->pid;
  ids->tid = ev->tid;
}

/* ,"pid":P,"tid":T of the event, made once for a thread while it stays
 * in the cache. */
static inline char* put_ids(struct trace_json* tj, char* p,
                            const struct stat_event* ev) {
  struct trace_json_ids* ids = &tj->ids[(uint64_t) ev->tid % 64];
  if (ids->len == 0 || ev->tid != ids->tid || ev->pid != ids->pid)
    make_ids(ids, ev);
  /* All of text (the event has room): a copy of constant size is one
   * move, not a loop. */
  memcpy(p, ids->text, sizeof(ids->text));
  return p + ids->len;
}

/* Starts an event of at most MAX_EVENT bytes; NULL after a write error. */
static inline char* event_begin(struct trace_json* tj) {
  char* p = jw_reserve(&tj->w, MAX_EVENT + 2);
  if (p == NULL)
    return NULL;
  if (tj->events > 0)
    PUT(p, ",\n");
  tj->events++;
  return p;
}

static void event_end(struct trace_json* tj, char* p) {
  *p++ = '}';
  jw_commit(&tj->w, p);
}

/* ------------------------------------------------------------------------
 * Spans
 */

/* The args of a span, in the order TRACE-FORMAT.md lists them; `open`
 * is where they start (no comma before the first). */
static char* put_span_args(struct trace_json* tj, char* p,
                           const struct stat_span_args* a) {
  char* open = p;
#define ARG(lit) (p != open ? PUT(p, "," lit) : PUT(p, lit))
  if (a->has_tick) {
    ARG("\"" TRACE_ARG_TICK "\":");
    p = jw_fmt_u64(p, (uint64_t) a->tick);
  }
  if (a->after_poll)
    ARG("\"" TRACE_ARG_AFTER_POLL "\":true");
  if (a->cb_kind != NULL) {
    ARG("\"" TRACE_ARG_KIND "\":");
    p = put_name(tj, p, a->cb_kind, a->cb_kind_id);
  }
  if (a->has_task) {
    ARG("\"" TRACE_ARG_TASK "\":");
    p = jw_fmt_u64(p, a->task);
  }
  if (a->label != NULL) {
    ARG("\"" TRACE_ARG_LABEL "\":");
    p = put_name(tj, p, a->label, a->label_id);
  }
  if (a->has_queue_wait) {
    ARG("\"" TRACE_ARG_QUEUE_WAIT_US "\":");
    p = jw_fmt_us(p, (uint64_t) a->queue_wait_ns);
  }
  if (a->cut == STAT_CUT_START)
    ARG("\"" TRACE_ARG_CUT "\":\"" TRACE_CUT_START "\"");
  else if (a->cut == STAT_CUT_END)
    ARG("\"" TRACE_ARG_CUT "\":\"" TRACE_CUT_END "\"");
  else if (a->cut != 0)
    ARG("\"" TRACE_ARG_CUT "\":\"" TRACE_CUT_BOTH "\"");
#undef ARG
  return p;
}

static void write_span(struct trace_json* tj, const struct stat_event* ev) {
  char* p = event_begin(tj);
  if (p == NULL)
    return;
  PUT(p, "{\"name\":");
  p = put_name(tj, p, ev->name, ev->name_id);
  PUT(p, ",\"cat\":");
  p = put_name(tj, p, ev->cat, ev->cat_id);
  PUT(p, ",\"ph\":\"X\",\"ts\":");
  p = jw_fmt_us(p, (uint64_t) ev->ts_ns);
  PUT(p, ",\"dur\":");
  p = jw_fmt_us(p, (uint64_t) ev->dur_ns);
  p = put_ids(tj, p, ev);
  if (ev->bind_id != 0) {
    PUT(p, ",\"bind_id\":");
    p = jw_fmt_u64(p, ev->bind_id);
  }
  if (ev->flow_in)
    PUT(p, ",\"flow_in\":true");
  if (ev->flow_out)
    PUT(p, ",\"flow_out\":true");
  PUT(p, ",\"args\":{");
  p = put_span_args(tj, p, &ev->args);
  *p++ = '}';
  event_end(tj, p);
}

/* ------------------------------------------------------------------------
 * Counters and instants
 */

static void write_counter(struct trace_json* tj, const struct stat_event* ev) {
  char* p = event_begin(tj);
  if (p == NULL)
    return;
  PUT(p, "{\"name\":");
  p = put_name(tj, p, ev->name, ev->name_id);
  PUT(p, ",\"ph\":\"C\",\"ts\":");
  p = jw_fmt_us(p, (uint64_t) ev->ts_ns);
  p = put_ids(tj, p, ev);
  PUT(p, ",\"args\":{\"" TRACE_COUNTER_QUEUED "\":");
  p = jw_fmt_u64(p, ev->counter.queued);
  PUT(p, ",\"" TRACE_COUNTER_RUNNING "\":");
  p = jw_fmt_u64(p, ev->counter.running);
  *p++ = '}';
  event_end(tj, p);
}

/* A `dropped` (scope process) or `trigger` (scope global) instant. */
static void write_instant(struct trace_json* tj, const struct stat_event* ev) {
  const struct stat_trigger* t = &ev->trigger;
  char* p = event_begin(tj);
  if (p == NULL)
    return;
  PUT(p, "{\"name\":");
  p = jw_fmt_string(p, ev->name, strlen(ev->name));
  PUT(p, ",\"cat\":");
  p = jw_fmt_string(p, ev->cat, strlen(ev->cat));
  if (ev->type == STAT_EV_TRIGGER)
    PUT(p, ",\"ph\":\"i\",\"s\":\"g\",\"ts\":");
  else
    PUT(p, ",\"ph\":\"i\",\"s\":\"p\",\"ts\":");
  p = jw_fmt_us(p, (uint64_t) ev->ts_ns);
  p = put_ids(tj, p, ev);
  if (ev->type == STAT_EV_TRIGGER) {
    PUT(p, ",\"args\":{\"" TRACE_ARG_TRIGGER "\":");
    p = jw_fmt_string(p, t->trigger, strnlen(t->trigger, 64));
    if (t->has_value) {
      PUT(p, ",\"" TRACE_ARG_VALUE_US "\":");
      p = jw_fmt_us(p, (uint64_t) t->value_ns);
    }
  } else {
    PUT(p, ",\"args\":{\"" TRACE_ARG_RECORDS "\":");
    p = jw_fmt_u64(p, (uint64_t) ev->value);
    if (ev->reason != NULL) {
      PUT(p, ",\"" TRACE_ARG_REASON "\":");
      p = jw_fmt_string(p, ev->reason, strlen(ev->reason));
    }
  }
  *p++ = '}';
  event_end(tj, p);
}

/* ------------------------------------------------------------------------
 * Metadata
 */

/* {"name":NAME,"ph":"M","pid":P,"tid":T,"args":{ — then the args, "}}". */
static void meta_begin(struct trace_json* tj, const struct stat_event* ev,
                       const char* name) {
  char* p = event_begin(tj);
  if (p == NULL)
    return;
  PUT(p, "{\"name\":\"");
  p = put(p, name, strlen(name));
  PUT(p, "\",\"ph\":\"M\"");
  p = put_ids(tj, p, ev);
  PUT(p, ",\"args\":{");
  jw_commit(&tj->w, p);
}

/* ,"key": (no comma for the first) */
static void key(struct trace_json* tj, int* first, const char* k) {
  if (!*first)
    JW_LIT(&tj->w, ",");
  *first = 0;
  JW_LIT(&tj->w, "\"");
  jw_raw(&tj->w, k, strlen(k));
  JW_LIT(&tj->w, "\":");
}

/* A string fact of at most `max` bytes (0: any). */
static void str_fact(struct trace_json* tj, int* first, const char* k,
                     const char* v, size_t max) {
  if (v == NULL)
    return;
  key(tj, first, k);
  jw_string(&tj->w, v, max != 0 ? strnlen(v, max) : strlen(v));
}

static void double_fact(struct trace_json* tj, int* first, const char* k,
                        double v) {
  char buf[32];
  key(tj, first, k);
  jw_raw(&tj->w, buf, (size_t) snprintf(buf, sizeof(buf), "%.15g", v));
}

static void fallbacks(struct trace_json* tj, int* first,
                      const char* const* list) {
  size_t i;
  if (list == NULL || list[0] == NULL)
    return;
  key(tj, first, TRACE_META_FALLBACKS);
  JW_LIT(&tj->w, "[");
  for (i = 0; list[i] != NULL; i++) {
    if (i > 0)
      JW_LIT(&tj->w, ",");
    jw_string(&tj->w, list[i], strlen(list[i]));
  }
  JW_LIT(&tj->w, "]");
}

static void flight_facts(struct trace_json* tj, int* first,
                         const struct stat_facts* f) {
  if (f->flight_dump == 0)
    return;
  key(tj, first, TRACE_META_FLIGHT_DUMP);
  jw_u64(&tj->w, f->flight_dump);
  str_fact(tj, first, TRACE_META_FLIGHT_TRIGGER, f->flight_trigger, 64);
  key(tj, first, TRACE_META_FLIGHT_TRIGGER_US);
  jw_us(&tj->w, (uint64_t) f->flight_trigger_ns);
  key(tj, first, TRACE_META_FLIGHT_WINDOW_START_US);
  jw_us(&tj->w, (uint64_t) f->flight_window_start_ns);
  key(tj, first, TRACE_META_FLIGHT_WINDOW_END_US);
  jw_us(&tj->w, (uint64_t) f->flight_window_end_ns);
  double_fact(tj, first, TRACE_META_FLIGHT_SECONDS, f->flight_seconds);
  double_fact(tj, first, TRACE_META_FLIGHT_AFTER, f->flight_after);
  str_fact(tj, first, TRACE_META_FLIGHT_WINDOW_CUT, f->flight_window_cut, 64);
}

/* The facts in the order of struct stat_facts. */
static void write_facts(struct trace_json* tj, const struct stat_facts* f) {
  int first = 1;
  str_fact(tj, &first, TRACE_META_LOOPTRACE_VERSION, f->looptrace_version, 0);
  if (f->has_trace_format) {
    if (!first)
      JW_LIT(&tj->w, ",");
    JW_LIT(&tj->w, FORMAT_VERSION);
    first = 0;
  }
  str_fact(tj, &first, TRACE_META_CLOCK, f->clock, 0);
  if (f->has_clock_offset) {
    key(tj, &first, TRACE_META_CLOCK_OFFSET_NS);
    jw_u64(&tj->w, f->clock_offset_ns);
  }
  str_fact(tj, &first, TRACE_META_COMMAND, f->command, 0);
  str_fact(tj, &first, TRACE_META_SOURCE, f->source, 0);
  fallbacks(tj, &first, f->fallbacks);
  str_fact(tj, &first, TRACE_META_LIBUV_VERSION, f->libuv_version, 0);
  if (f->has_threadpool_size) {
    key(tj, &first, TRACE_META_THREADPOOL_SIZE);
    jw_u64(&tj->w, (uint64_t) f->threadpool_size);
  }
  str_fact(tj, &first, TRACE_META_TIMESTAMPS, f->timestamps, 0);
  flight_facts(tj, &first, f);
  if (f->has_duration) {
    key(tj, &first, TRACE_META_DURATION_US);
    jw_us(&tj->w, (uint64_t) f->duration_ns);
  }
  if (f->has_records) {
    key(tj, &first, TRACE_META_RECORDS);
    jw_u64(&tj->w, (uint64_t) f->records);
  }
  if (f->has_drops) {
    key(tj, &first, TRACE_META_DROPS);
    jw_u64(&tj->w, (uint64_t) f->drops);
  }
  str_fact(tj, &first, TRACE_META_END_REASON, f->end_reason, 0);
  str_fact(tj, &first, TRACE_META_TARGET_EXIT, f->target_exit, 0);
}

static void write_metadata(struct trace_json* tj, const struct stat_event* ev) {
  switch (ev->type) {
  case STAT_EV_PROCESS_NAME:
  case STAT_EV_THREAD_NAME:
    meta_begin(tj, ev,
               ev->type == STAT_EV_PROCESS_NAME ? TRACE_CHROME_PROCESS_NAME
                                                : TRACE_CHROME_THREAD_NAME);
    JW_LIT(&tj->w, "\"name\":");
    jw_string(&tj->w, ev->name, strlen(ev->name));
    break;
  case STAT_EV_THREAD_SORT:
    meta_begin(tj, ev, TRACE_CHROME_THREAD_SORT_INDEX);
    JW_LIT(&tj->w, "\"sort_index\":");
    jw_u64(&tj->w, (uint64_t) ev->value);
    break;
  default:
    meta_begin(tj, ev, TRACE_META_EVENT);
    write_facts(tj, &ev->facts);
  }
  JW_LIT(&tj->w, "}}");
}

/* ------------------------------------------------------------------------
 * The API
 */

int trace_json_init(struct trace_json* tj, int fd, int gzip) {
  int err;
  memset(tj, 0, sizeof(*tj));
  err = gzip ? jw_init_gzip(&tj->w, fd) : jw_init(&tj->w, fd);
  if (err != 0)
    return err;
  JW_LIT(&tj->w, "[\n");
  return jw_error(&tj->w);
}

void trace_json_write(struct trace_json* tj, const struct stat_event* ev) {
  switch (ev->type) {
  case STAT_EV_SPAN:
    write_span(tj, ev);
    break;
  case STAT_EV_COUNTER:
    write_counter(tj, ev);
    break;
  case STAT_EV_DROPPED:
  case STAT_EV_TRIGGER:
    write_instant(tj, ev);
    break;
  case STAT_EV_PROCESS_NAME:
  case STAT_EV_THREAD_NAME:
  case STAT_EV_THREAD_SORT:
  case STAT_EV_FACTS:
    write_metadata(tj, ev);
    break;
  case STAT_EV_NONE:
  case STAT_EV_BEGIN:
  case STAT_EV_END:
    break;
  }
}

int trace_json_flush(struct trace_json* tj) {
  return jw_flush(&tj->w);
}

int trace_json_finish(struct trace_json* tj) {
  JW_LIT(&tj->w, "\n]\n");
  return jw_finish(&tj->w);
}

uint64_t trace_json_bytes(const struct trace_json* tj) {
  return tj->w.total;
}

uint64_t trace_json_memory(const struct trace_json* tj) {
  return JW_BUFFER_SIZE + tj->nnames * sizeof(struct trace_json_name) +
         (tj->names != NULL ? NAMES * sizeof(*tj->names) : 0);
}

void trace_json_free(struct trace_json* tj) {
  size_t i;
  for (i = 0; i < TRACE_JSON_SMALL_IDS; i++)
    if (tj->small[i] != NULL) {
      free(tj->small[i]);
      tj->nnames--;
    }
  /* Up to the last one made: labels' ids are given from 1 up. */
  for (i = 0; tj->names != NULL && tj->nnames > 0 && i < NAMES; i++)
    if (tj->names[i] != NULL) {
      free(tj->names[i]);
      tj->nnames--;
    }
  free(tj->names);
  jw_free(&tj->w);
}
