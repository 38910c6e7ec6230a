/* json_writer.h — fast hand-written JSON output for the exporter.
 *
 * A json_writer collects bytes in a buffer and writes them to a file
 * descriptor when the buffer fills (or on jw_flush()). The pieces are the
 * ones a trace event needs: raw text, unsigned integers, nanoseconds as
 * microseconds with three decimals, and strings escaped from arbitrary
 * bytes. Nothing here formats with printf.
 *
 * In gzip mode (jw_init_gzip) the bytes go through zlib's deflate as they
 * are written: a full buffer is compressed without a sync point, each
 * jw_flush() ends with one (Z_SYNC_FLUSH), so a file cut short decodes up
 * to its last flush, and jw_finish() writes the gzip trailer.
 *
 * Errors are sticky: after a failed write() every call is a no-op and
 * jw_error() returns the negative errno.
 */
#ifndef LOOPTRACE_JSON_WRITER_H
#define LOOPTRACE_JSON_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define JW_BUFFER_SIZE (256 * 1024)

struct z_stream_s;

struct json_writer {
  int fd;                /* where the bytes go; -1 keeps them only in `buf` */
  int error;             /* 0, or the negative errno of the first failure */
  char* buf;             /* JW_BUFFER_SIZE bytes */
  size_t len;            /* bytes in buf not yet written */
  uint64_t total;        /* bytes produced so far, written or not */
  uint64_t written;      /* bytes written to fd (compressed in gzip mode) */
  struct z_stream_s* gz; /* gzip mode: the deflate stream, else NULL */
  char* gz_out;          /* gzip mode: deflate's output buffer */
};

/* The compression level of gzip mode: zlib's fastest. A busy program
 * makes tens of MB of JSON a second and the tracer must keep up. On a
 * busy echo recording (25.8 MB of JSON) level 1 with a sync point a
 * second made it 11.3 times smaller for 0.13 s of CPU; level 6 would make
 * it 14.7 times smaller for twice the CPU. */
#define JW_GZIP_LEVEL 1

/* Prepares `w` to write to `fd`. Returns 0 or -ENOMEM. */
int jw_init(struct json_writer* w, int fd);

/* Prepares `w` to write gzip to `fd` (a gzip member: header now, trailer
 * on jw_finish()). Returns 0 or -ENOMEM. */
int jw_init_gzip(struct json_writer* w, int fd);

/* Whether a path names a gzip file (ends in ".gz"): the one place that
 * decides which output `-o` asks for. */
int jw_gzip_name(const char* path);

/* Writes what is buffered; in gzip mode with a sync point, so that what
 * the file holds so far decodes. Returns 0 or the (sticky) negative
 * errno. */
int jw_flush(struct json_writer* w);

/* Writes what is buffered and ends the output (the gzip trailer; plain
 * output just flushes). Nothing may be written after it. Returns 0 or the
 * (sticky) negative errno. */
int jw_finish(struct json_writer* w);

/* Hands the buffer on: written, or compressed without a sync point.
 * Returns 0 or the (sticky) negative errno. Used when the buffer fills. */
int jw_drain(struct json_writer* w);

/* Frees the buffers without writing them; call jw_finish() first. */
void jw_free(struct json_writer* w);

static inline int jw_error(const struct json_writer* w) {
  return w->error;
}

/* Makes room for `n` more bytes (n <= JW_BUFFER_SIZE) and returns where to
 * put them; jw_commit() then says how many were put there. NULL after a
 * write error. */
static inline char* jw_reserve(struct json_writer* w, size_t n) {
  if (w->len + n > JW_BUFFER_SIZE && jw_drain(w) != 0)
    return NULL;
  return w->error ? NULL : w->buf + w->len;
}

static inline void jw_commit(struct json_writer* w, char* end) {
  size_t n = (size_t) (end - (w->buf + w->len));
  w->len += n;
  w->total += n;
}

/* Appends `n` bytes as they are. */
void jw_raw_slow(struct json_writer* w, const char* s, size_t n);

static inline void jw_raw(struct json_writer* w, const char* s, size_t n) {
  if (w->len + n <= JW_BUFFER_SIZE) {
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->total += n;
    return;
  }
  jw_raw_slow(w, s, n);
}

/* Appends a string literal. */
#define JW_LIT(w, lit) jw_raw((w), (lit), sizeof(lit) - 1)

/* Digits of `v` at `p` (at most 20 bytes); returns the end. */
char* jw_fmt_u64(char* p, uint64_t v);

/* `ns` as microseconds with exactly three decimals ("1234.567") at `p`
 * (at most 24 bytes); returns the end. */
char* jw_fmt_us(char* p, uint64_t ns);

/* The longest a JSON string escaped from `n` bytes can be, quotes
 * included: each byte can become "\u00XX" (6 bytes) and an invalid byte
 * "\ufffd" (6 bytes). */
#define JW_ESCAPED_MAX(n) (6 * (n) + 2)

/* Writes `n` bytes of `s` as a JSON string, quotes included, to `out`
 * (room for JW_ESCAPED_MAX(n) bytes); returns the end. Quotes,
 * backslashes and control characters are escaped; bytes that are not
 * valid UTF-8 (stray continuation bytes, overlong forms, surrogates,
 * code points above U+10FFFF, sequences cut short) each become U+FFFD, so
 * the result is always valid JSON and valid UTF-8. */
char* jw_fmt_string(char* out, const char* s, size_t n);

/* Appends `n` bytes of `s` as an escaped JSON string (see above). */
void jw_string(struct json_writer* w, const char* s, size_t n);

static inline void jw_u64(struct json_writer* w, uint64_t v) {
  char* p = jw_reserve(w, 24);
  if (p != NULL)
    jw_commit(w, jw_fmt_u64(p, v));
}

static inline void jw_us(struct json_writer* w, uint64_t ns) {
  char* p = jw_reserve(w, 32);
  if (p != NULL)
    jw_commit(w, jw_fmt_us(p, ns));
}

#endif /* LOOPTRACE_JSON_WRITER_H */
