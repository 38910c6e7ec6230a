/* trace_json.h — the Chrome Trace Event JSON writer.
 *
 * The last stage of the tracer's pipeline (tracer/README.md): it turns
 * each event the span model emits (struct stat_event) into one JSON
 * object of the array form, exactly as tracer/TRACE-FORMAT.md says, and
 * nothing else: it reads the event and never reaches back into the
 * model. The JSON field names of the trace file are spelled here and
 * nowhere else in the tracer (stat_event.c reads them back).
 *
 *   struct trace_json tj;
 *   trace_json_init(&tj, fd, gzip);   "[" written
 *   trace_json_write(&tj, &ev); ...
 *   trace_json_finish(&tj);           "]" written, flushed
 *   trace_json_free(&tj);
 */
#ifndef LOOPTRACE_TRACE_JSON_H
#define LOOPTRACE_TRACE_JSON_H

#include <stdint.h>

#include "json_writer.h"
#include "stat_event.h"

struct trace_json_name;

/* Name ids below this are kept in a table of their own. */
#define TRACE_JSON_SMALL_IDS 256

struct trace_json {
  struct json_writer w;
  uint64_t events;                /* events written */
  struct trace_json_name** names; /* escaped names (labels) by the low 16
                                     bits of their name_id, made when
                                     first met */
  struct trace_json_name* small[TRACE_JSON_SMALL_IDS]; /* by name_id */
  size_t nnames; /* trace_json_names allocated, in names or small */
  struct trace_json_ids {
    int64_t pid;
    int64_t tid;
    uint8_t len;   /* 0: empty */
    char text[48]; /* ,"pid":P,"tid":T */
  } ids[64];       /* of recent threads, direct-mapped by tid */
};

/* Starts the trace on `fd` (not owned), gzip-compressed if `gzip`, and
 * writes its "[". Returns 0 or a negative errno (nothing to free then). */
int trace_json_init(struct trace_json* tj, int fd, int gzip);

/* Writes event `ev` (STAT_EV_NONE, BEGIN and END are not written by this
 * writer: the model emits complete spans only). Errors stick: see
 * trace_json_error(). */
void trace_json_write(struct trace_json* tj, const struct stat_event* ev);

/* Writes buffered JSON to the file. Returns 0 or a negative errno. */
int trace_json_flush(struct trace_json* tj);

/* Writes the closing "]" and flushes. Returns 0 or a negative errno. */
int trace_json_finish(struct trace_json* tj);

/* 0, or the negative errno of the first write that failed. */
static inline int trace_json_error(const struct trace_json* tj) {
  return jw_error(&tj->w);
}

/* Bytes written so far (before compression). */
uint64_t trace_json_bytes(const struct trace_json* tj);

/* Bytes the writer holds. */
uint64_t trace_json_memory(const struct trace_json* tj);

void trace_json_free(struct trace_json* tj);

#endif /* LOOPTRACE_TRACE_JSON_H */
