/* export_fuzz.h — the harness shared by the exporter's fuzz target
 * (fuzz_export.c) and the corpus replay test (tests/test-export-corpus.c):
 * records in, JSON out. The input is read as
 *
 *   byte 0   flags: EXPORT_FUZZ_RAW_TS, _NO_WINDOW, _ALL_PHASES, _GZIP
 *   byte 1   batch size - 1 (low 5 bits, so 1..32 records a batch) and
 *            how many batches between export_advance() calls (top 3 bits)
 *   then     struct lrt_record, 32 bytes each (a short tail is ignored)
 *
 * Unless EXPORT_FUZZ_RAW_TS, a record's ts is an offset (its low 32 bits:
 * up to 4.3 s) from a start a few seconds ago, so that most records lie in
 * the recording; with it, ts is used as is and the start is the first
 * record's ts. The trace goes to a memfd, is read back and must be one
 * JSON array of objects that each have a "ph" string (after gunzip with
 * EXPORT_FUZZ_GZIP).
 *
 * Header-only (static functions) so the test runner, which links only
 * the tracer's .c files, can use it without a build rule of its own.
 */
#ifndef LOOPTRACE_EXPORT_FUZZ_H
#define LOOPTRACE_EXPORT_FUZZ_H

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "export.h"

#define EXPORT_FUZZ_RAW_TS 0x1
#define EXPORT_FUZZ_NO_WINDOW 0x2
#define EXPORT_FUZZ_ALL_PHASES 0x4
#define EXPORT_FUZZ_GZIP 0x8
#define EXPORT_FUZZ_HEAD 2

/* Where offsets start: this far before now, more than an offset reaches. */
#define EXPORT_FUZZ_BACK_NS (5 * 1000 * 1000 * 1000ull)

static uint64_t export_fuzz_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

/* Reads the whole memfd back into a malloc'd buffer (*len bytes). */
static char* export_fuzz_read(int fd, size_t* len) {
  off_t end = lseek(fd, 0, SEEK_END);
  char* buf;
  size_t off = 0;
  if (end < 0 || lseek(fd, 0, SEEK_SET) < 0)
    return NULL;
  buf = malloc((size_t) end + 1);
  if (buf == NULL)
    return NULL;
  while (off < (size_t) end) {
    ssize_t n = read(fd, buf + off, (size_t) end - off);
    if (n <= 0) {
      free(buf);
      return NULL;
    }
    off += (size_t) n;
  }
  buf[off] = '\0';
  *len = off;
  return buf;
}

/* Replaces *buf (*len bytes of gzip) with what it holds, NUL-ended.
 * Returns 0 or -EDOM when it is not one whole gzip stream. */
static int export_fuzz_gunzip(char** buf, size_t* len) {
  z_stream z;
  size_t cap = *len * 4 + 4096;
  size_t out = 0;
  char* plain = malloc(cap);
  int zrc = Z_OK;
  memset(&z, 0, sizeof(z));
  if (plain == NULL || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
    free(plain);
    return -ENOMEM;
  }
  z.next_in = (unsigned char*) *buf;
  z.avail_in = (uInt) *len;
  while (zrc == Z_OK) {
    char* grown;
    if (cap - out < 2) {
      grown = realloc(plain, cap * 2);
      if (grown == NULL) {
        zrc = Z_MEM_ERROR;
        break;
      }
      plain = grown;
      cap *= 2;
    }
    z.next_out = (unsigned char*) plain + out;
    z.avail_out = (uInt) (cap - out - 1);
    zrc = inflate(&z, Z_NO_FLUSH);
    out = cap - 1 - z.avail_out;
    if (zrc == Z_BUF_ERROR && z.avail_out > 0)
      break; /* the input ended before the stream */
    if (zrc == Z_BUF_ERROR)
      zrc = Z_OK;
  }
  inflateEnd(&z);
  if (zrc == Z_MEM_ERROR) {
    free(plain);
    return -ENOMEM;
  }
  if (zrc != Z_STREAM_END || z.avail_in != 0) {
    fprintf(stderr, "export_fuzz: the trace is not one whole gzip stream\n");
    free(plain);
    return -EDOM;
  }
  plain[out] = '\0';
  free(*buf);
  *buf = plain;
  *len = out;
  return 0;
}

/* Checks the trace: a JSON array of objects with a "ph" string. Returns 0
 * or -EDOM (and says why on stderr). */
static int export_fuzz_valid(const char* json, size_t len) {
  cJSON* root = cJSON_ParseWithLength(json, len);
  const cJSON* e;
  int rc = 0;
  if (root == NULL || !cJSON_IsArray(root)) {
    fprintf(stderr,
            "export_fuzz: the trace is not a JSON array (%zu bytes)"
            ":\n%.*s\n",
            len, (int) (len > 4096 ? 4096 : len), json);
    cJSON_Delete(root);
    return -EDOM;
  }
  cJSON_ArrayForEach(e, root) {
    if (!cJSON_IsObject(e) ||
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "ph"))) {
      char* s = cJSON_PrintUnformatted(e);
      fprintf(stderr, "export_fuzz: an event without \"ph\": %s\n",
              s ? s : "?");
      free(s);
      rc = -EDOM;
      break;
    }
  }
  cJSON_Delete(root);
  return rc;
}

/* Exports the records of data[0..size) as described above. Returns 0 and
 * sets *out to the trace (malloc'd, NUL-ended, *out_len bytes), or a
 * negative errno when the exporter or the harness failed. */
static int export_fuzz_run(const unsigned char* data, size_t size, char** out,
                           size_t* out_len) {
  struct export_opts opts;
  struct exporter* ex = NULL;
  struct lrt_record* recs;
  unsigned flags = size > 0 ? data[0] : 0;
  size_t batch = size > 1 ? (size_t) (data[1] & 0x1f) + 1 : 8;
  unsigned every = size > 1 ? (unsigned) (data[1] >> 5) + 1 : 1;
  size_t n = size > EXPORT_FUZZ_HEAD ? (size - EXPORT_FUZZ_HEAD) / 32 : 0;
  uint64_t base = 0;
  uint64_t now = 0;
  size_t i;
  unsigned batches = 0;
  int fd;
  int rc;

  recs = calloc(n > 0 ? n : 1, sizeof(*recs));
  if (recs == NULL)
    return -ENOMEM;
  if (n > 0)
    memcpy(recs, data + EXPORT_FUZZ_HEAD, n * sizeof(*recs));
  if (!(flags & EXPORT_FUZZ_RAW_TS)) {
    uint64_t mono = export_fuzz_now();
    base = mono > EXPORT_FUZZ_BACK_NS ? mono - EXPORT_FUZZ_BACK_NS : 0;
    for (i = 0; i < n; i++)
      recs[i].ts = base + (recs[i].ts & 0xffffffffull);
  } else if (n > 0) {
    base = recs[0].ts;
  }
  fd = memfd_create("export-fuzz", MFD_CLOEXEC);
  if (fd < 0) {
    free(recs);
    return -errno;
  }
  memset(&opts, 0, sizeof(opts));
  opts.fd = fd;
  opts.pid = 4000;
  opts.process_name = "fuzz";
  opts.command = "fuzz \"export\"";
  opts.start_ns = base;
  opts.window_ns = (flags & EXPORT_FUZZ_NO_WINDOW) ? 0 : EXPORT_WINDOW_NS;
  opts.all_phases = (flags & EXPORT_FUZZ_ALL_PHASES) != 0;
  opts.gzip = (flags & EXPORT_FUZZ_GZIP) != 0;
  rc = export_new(&ex, &opts);
  for (i = 0; rc == 0 && i < n; i += batch) {
    size_t k = n - i < batch ? n - i : batch;
    size_t j;
    rc = export_records(ex, recs + i, k);
    if (rc == -EPROTONOSUPPORT) {
      rc = 0; /* a format it does not read: the recording stops */
      break;
    }
    for (j = i; j < i + k; j++)
      if (recs[j].ts > now)
        now = recs[j].ts;
    if (rc == 0 && ++batches % every == 0)
      rc = export_advance(ex, now);
  }
  if (ex != NULL) {
    int err = export_finish(ex, 0, "signal");
    if (rc == 0)
      rc = err;
    export_free(ex);
  }
  free(recs);
  *out = rc == 0 ? export_fuzz_read(fd, out_len) : NULL;
  close(fd);
  if (rc == 0 && *out == NULL)
    rc = -EIO;
  if (rc == -EDOM)
    rc = -EIO;
  if (rc == 0 && (flags & EXPORT_FUZZ_GZIP))
    rc = export_fuzz_gunzip(out, out_len);
  if (rc != 0) {
    free(*out);
    *out = NULL;
  }
  return rc;
}

/* Exports data[0..size) and checks the trace. Returns 0, -EDOM when the
 * trace is not valid, or another negative errno when the exporter or the
 * harness failed (memfd, memory). */
static int export_fuzz_check(const unsigned char* data, size_t size) {
  char* json = NULL;
  size_t len = 0;
  int rc = export_fuzz_run(data, size, &json, &len);
  if (rc == 0)
    rc = export_fuzz_valid(json, len);
  free(json);
  return rc;
}

#endif /* LOOPTRACE_EXPORT_FUZZ_H */
