/* trace_reader.h — a streaming loader for Chrome Trace Event JSON.
 *
 * The reader takes a trace in pieces of any size (a fixed-size read buffer,
 * a fuzzer's input, a test's string) and hands each trace event to a
 * callback, parsed on its own. It never holds more than one event in
 * memory, so a trace of any length is read in bounded memory:
 *
 *   struct trace_reader r;
 *   trace_reader_init(&r, on_event, arg);
 *   while ((n = read(fd, buf, sizeof(buf))) > 0)
 *     if ((err = trace_reader_feed(&r, buf, n)) < 0) break;
 *   if (err == 0) err = trace_reader_end(&r);
 *   ... r.events, r.truncated, r.error ...
 *   trace_reader_close(&r);
 *
 * Gzip input (`.json.gz`, known by its first byte 0x1f) is inflated on
 * the way, a piece at a time, never whole: the same events, the same
 * bounded memory. A gzip stream cut short is read up to where it stops.
 *
 * Both container forms are read: the array form `[ev, ...]` (the closing
 * `]` may be missing: a recording cut short) and the object form
 * `{"traceEvents": [ev, ...], ...}`. A small scanner splits the events
 * array into elements by tracking strings, escapes and depth; each element
 * that is an object is parsed with cJSON and its common fields are checked
 * and converted (times to integer nanoseconds) before the callback sees it.
 * Elements that are not objects, do not parse, have fields of the wrong
 * type or are larger than TRACE_READER_MAX_EVENT are counted and skipped.
 */
#ifndef LOOPTRACE_TRACE_READER_H
#define LOOPTRACE_TRACE_READER_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* The largest event the reader parses; larger ones are skipped (and
 * counted) without being held in memory. Our events are under 1 KiB. */
#define TRACE_READER_MAX_EVENT (16u << 20)

/* Which of the optional fields an event has (trace_event.has). */
enum {
  TRACE_HAS_TS = 1 << 0,
  TRACE_HAS_DUR = 1 << 1,
  TRACE_HAS_PID = 1 << 2,
  TRACE_HAS_TID = 1 << 3,
};

/* One event, valid only during the callback. Strings are NUL-terminated
 * and never NULL (empty when absent or not a string). */
struct trace_event {
  char ph;           /* phase: 'X', 'B', 'E', 'M', 'C', 'i', ...; 0 if none */
  unsigned has;      /* TRACE_HAS_* */
  const char* name;  /* "name" */
  const char* cat;   /* "cat", a comma-separated list */
  int64_t ts_ns;     /* "ts" (µs) in ns, if TRACE_HAS_TS */
  int64_t dur_ns;    /* "dur" (µs) in ns, >= 0, if TRACE_HAS_DUR */
  int64_t pid;       /* "pid", if TRACE_HAS_PID */
  int64_t tid;       /* "tid", if TRACE_HAS_TID; else pid, as Perfetto */
  const cJSON* args; /* "args" if it is an object, else NULL */
  const cJSON* json; /* the whole event object */
};

/* Called once per event, in file order. A non-zero return stops the
 * reader: trace_reader_feed() and trace_reader_end() return it. */
typedef int (*trace_event_cb)(const struct trace_event* ev, void* arg);

enum trace_form {
  TRACE_FORM_UNKNOWN = 0, /* nothing but whitespace seen yet */
  TRACE_FORM_ARRAY,       /* [ev, ...] */
  TRACE_FORM_OBJECT,      /* {"traceEvents": [ev, ...]} */
};

struct z_stream_s;

struct trace_reader {
  /* Read-only for the caller. */
  enum trace_form form;
  uint64_t bytes;       /* bytes of JSON read so far (inflated if gzip) */
  int gzip;             /* the input is gzip */
  int gzip_cut;         /* trace_reader_end(): the gzip stream had not ended */
  uint64_t events;      /* events handed to the callback */
  uint64_t not_objects; /* events-array elements that are not objects */
  uint64_t bad_json;    /* objects cJSON could not parse */
  uint64_t bad_fields;  /* objects with a field of the wrong type/range */
  uint64_t oversized;   /* objects larger than TRACE_READER_MAX_EVENT */
  int truncated;        /* trace_reader_end(): input ended inside the trace */
  int has_events_array; /* object form: a "traceEvents" array was seen */
  uint64_t trailing_at; /* offset of non-space data after the trace, or 0 */
  char error[160];      /* why feed/end failed with -EINVAL, else "" */

  /* Private. */
  trace_event_cb cb;
  void* arg;
  int state;
  int value_state;     /* inside a value: plain, string, escape */
  int capture;         /* the current value is an object being kept */
  int events_value;    /* the value is an element of the events array */
  int nested;          /* object form: the events array is in the object */
  unsigned char first; /* the current value's first byte */
  uint64_t depth;      /* nesting inside the current value */
  char key[12];        /* object form: start of the current member key */
  size_t key_len;
  char* buf; /* the current event's bytes (+ NUL) */
  size_t len;
  size_t cap;
  int failed;            /* a previous call failed; feed does nothing */
  struct z_stream_s* gz; /* gzip input: the inflate stream */
  unsigned char* gz_out; /* gzip input: inflated bytes, TRACE_READER_GZ_OUT */
  int gz_member_end;     /* a gzip member just ended */
};

/* Bytes inflated at a time from gzip input. */
#define TRACE_READER_GZ_OUT (64 * 1024)

/* Prepares `r` to read one trace, delivering events to cb(ev, arg). Does
 * not allocate. Returns 0. */
int trace_reader_init(struct trace_reader* r, trace_event_cb cb, void* arg);

/* Reads the next `len` bytes of the trace (any split is fine; data may
 * hold NUL bytes), plain JSON or gzip (decided by the first byte).
 * Calls the callback for each event completed. Returns 0,
 * the callback's non-zero value, -ENOMEM, or -EINVAL when the input is
 * not a trace or its structure breaks (r->error says where and why;
 * events read before that stay counted). After an error, further calls do
 * nothing and return the same error. */
int trace_reader_feed(struct trace_reader* r, const void* data, size_t len);

/* Ends the input. Sets r->truncated when the trace was cut short (the
 * partial last event is dropped), and r->gzip_cut when gzip input ended
 * inside its stream. Returns 0, or -EINVAL with r->error set when the
 * input held no trace at all (empty, only whitespace) or a previous call
 * failed with that error. */
int trace_reader_end(struct trace_reader* r);

/* Frees what the reader holds. `r` may be reused after trace_reader_init.
 * Safe to call more than once. */
void trace_reader_close(struct trace_reader* r);

/* Typed access to an event's args. Each returns 0 and sets *out when
 * args[key] exists with the right type and range, else -ENOENT (absent)
 * or -EINVAL (present with another type or out of range). */

/* A number of microseconds (or a numeric string), as integer ns. */
int trace_arg_us(const struct trace_event* ev, const char* key,
                 int64_t* out_ns);
/* A whole number in [-2^53, 2^53]. */
int trace_arg_int(const struct trace_event* ev, const char* key, int64_t* out);
/* A string; *out points into the event (valid during the callback). */
int trace_arg_str(const struct trace_event* ev, const char* key,
                  const char** out);
/* A boolean (true/false). */
int trace_arg_bool(const struct trace_event* ev, const char* key, int* out);

/* Converts a JSON value holding microseconds (a number, or a string
 * holding one) to integer ns, rounding as Perfetto does. Returns 0, or
 * -EINVAL when it is not a finite number within ±TRACE_MAX_US. */
int trace_json_us(const cJSON* item, int64_t* out_ns);

/* Times beyond ±1e14 µs (about 3 years) are rejected as broken; in ns
 * they stay far enough below 2^63 that ts + dur cannot overflow. */
#define TRACE_MAX_US 1e14

#endif /* LOOPTRACE_TRACE_READER_H */
