/* trace_reader.c — the streaming trace loader (see trace_reader.h).
 *
 * The scanner is a byte-level state machine over the container. Only the
 * element being read is kept (r->buf, at most TRACE_READER_MAX_EVENT
 * bytes); everything else, including gigantic strings and members of the
 * object form we do not use, is skipped without being stored. Depth is a
 * counter, not a stack, so deep nesting costs nothing here; cJSON then
 * refuses events nested deeper than CJSON_NESTING_LIMIT.
 */
#include "trace_reader.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "containers.h"

/* Where the scanner is in the container. */
enum {
  S_START,   /* before the container (whitespace, a UTF-8 BOM) */
  S_ARRAY,   /* in the events array, between elements */
  S_OBJECT,  /* object form: in the top object, between members */
  S_KEY,     /* object form: inside a member's key */
  S_KEY_ESC, /* ... right after a backslash in it */
  S_COLON,   /* object form: after a key, before ':' */
  S_MEMBER,  /* object form: after ':', before the value */
  S_VALUE,   /* inside an element or member value */
  S_DONE,    /* after the container */
};

/* Where the scanner is inside a value. */
enum { V_PLAIN, V_STRING, V_ESCAPE, V_SCALAR };

#define EVENTS_KEY "traceEvents"

static int is_space(unsigned char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Ends a scalar value (a number, true, ...) without being part of it. */
static int is_delim(unsigned char c) {
  return is_space(c) || c == ',' || c == ']' || c == '}' || c == '{' ||
         c == '[' || c == '"';
}

/* Describes byte c for an error message. */
static const char* show_byte(unsigned char c, char* buf, size_t size) {
  if (c >= 0x20 && c < 0x7f)
    snprintf(buf, size, "'%c'", c);
  else
    snprintf(buf, size, "byte 0x%02x", c);
  return buf;
}

__attribute__((format(printf, 2, 3))) static int fail(struct trace_reader* r,
                                                      const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->error, sizeof(r->error), fmt, ap);
  va_end(ap);
  r->failed = -EINVAL;
  return -EINVAL;
}

int trace_reader_init(struct trace_reader* r, trace_event_cb cb, void* arg) {
  memset(r, 0, sizeof(*r));
  r->cb = cb;
  r->arg = arg;
  r->state = S_START;
  return 0;
}

void trace_reader_close(struct trace_reader* r) {
  free(r->buf);
  r->buf = NULL;
  r->len = 0;
  r->cap = 0;
  if (r->gz != NULL) {
    inflateEnd(r->gz);
    free(r->gz);
    r->gz = NULL;
  }
  free(r->gz_out);
  r->gz_out = NULL;
}

/* Appends bytes of the current element, or gives up on keeping it when it
 * grows past TRACE_READER_MAX_EVENT (it is still scanned to its end). */
static int keep(struct trace_reader* r, const char* p, size_t n) {
  if (!r->capture || n == 0)
    return 0;
  if (n > TRACE_READER_MAX_EVENT - r->len) {
    r->capture = 0;
    r->len = 0;
    r->oversized++;
    /* Do not hold on to a large buffer for the rest of the file. */
    if (r->cap > 65536) {
      free(r->buf);
      r->buf = NULL;
      r->cap = 0;
    }
    return 0;
  }
  if (array_reserve(&r->buf, &r->cap, r->len + n + 1, 1) != 0)
    return -ENOMEM;
  memcpy(r->buf + r->len, p, n);
  r->len += n;
  return 0;
}

int trace_json_us(const cJSON* item, int64_t* out_ns) {
  double v;
  if (cJSON_IsNumber(item)) {
    v = item->valuedouble;
  } else if (cJSON_IsString(item)) {
    /* Perfetto accepts numeric strings. */
    char* end;
    const char* s = item->valuestring;
    if (s[0] == '\0' || is_space((unsigned char) s[0]))
      return -EINVAL;
    v = strtod(s, &end);
    if (*end != '\0')
      return -EINVAL;
  } else {
    return -EINVAL;
  }
  if (!isfinite(v) || v > TRACE_MAX_US || v < -TRACE_MAX_US)
    return -EINVAL;
  *out_ns = llround(v * 1000.0);
  return 0;
}

/* A whole number in [-2^53, 2^53] (ids, pids, counts). */
static int json_int(const cJSON* item, int64_t* out) {
  double v;
  if (!cJSON_IsNumber(item))
    return -EINVAL;
  v = item->valuedouble;
  if (!isfinite(v) || v > 9007199254740992.0 || v < -9007199254740992.0 ||
      v != floor(v))
    return -EINVAL;
  *out = (int64_t) v;
  return 0;
}

/* Fills ev from the parsed object. Returns 0, or -EINVAL when a field we
 * rely on has the wrong type or range. */
static int event_fields(const cJSON* root, struct trace_event* ev) {
  const cJSON* it;
  unsigned seen = 0;
  enum { F_PH = 1, F_NAME = 2, F_CAT = 4, F_ARGS = 8 };

  memset(ev, 0, sizeof(*ev));
  ev->name = "";
  ev->cat = "";
  ev->json = root;
  /* One pass over the members; the first of duplicate keys counts, as
   * with cJSON_GetObjectItem. */
  for (it = root->child; it != NULL; it = it->next) {
    const char* k = it->string;
    if (k == NULL)
      continue;
    switch (k[0]) {
    case 'p':
      if (strcmp(k, "ph") == 0 && !(seen & F_PH)) {
        seen |= F_PH;
        if (!cJSON_IsString(it))
          return -EINVAL;
        ev->ph = it->valuestring[0];
      } else if (strcmp(k, "pid") == 0 && !(ev->has & TRACE_HAS_PID)) {
        if (json_int(it, &ev->pid) != 0)
          return -EINVAL;
        ev->has |= TRACE_HAS_PID;
      }
      break;
    case 'n':
      if (strcmp(k, "name") == 0 && !(seen & F_NAME)) {
        seen |= F_NAME;
        if (!cJSON_IsString(it))
          return -EINVAL;
        ev->name = it->valuestring;
      }
      break;
    case 'c':
      if (strcmp(k, "cat") == 0 && !(seen & F_CAT)) {
        seen |= F_CAT;
        if (!cJSON_IsString(it))
          return -EINVAL;
        ev->cat = it->valuestring;
      }
      break;
    case 't':
      if (strcmp(k, "ts") == 0 && !(ev->has & TRACE_HAS_TS)) {
        if (trace_json_us(it, &ev->ts_ns) != 0)
          return -EINVAL;
        ev->has |= TRACE_HAS_TS;
      } else if (strcmp(k, "tid") == 0 && !(ev->has & TRACE_HAS_TID)) {
        if (json_int(it, &ev->tid) != 0)
          return -EINVAL;
        ev->has |= TRACE_HAS_TID;
      }
      break;
    case 'd':
      if (strcmp(k, "dur") == 0 && !(ev->has & TRACE_HAS_DUR)) {
        if (trace_json_us(it, &ev->dur_ns) != 0 || ev->dur_ns < 0)
          return -EINVAL;
        ev->has |= TRACE_HAS_DUR;
      }
      break;
    case 'a':
      if (strcmp(k, "args") == 0 && !(seen & F_ARGS)) {
        seen |= F_ARGS;
        /* `"args": null` and other non-objects are as good as none. */
        if (cJSON_IsObject(it))
          ev->args = it;
      }
      break;
    }
  }
  /* Perfetto: a missing tid (or 0) is the pid. */
  if ((!(ev->has & TRACE_HAS_TID) || ev->tid == 0) &&
      (ev->has & TRACE_HAS_PID)) {
    ev->tid = ev->pid;
    ev->has |= TRACE_HAS_TID;
  }
  return 0;
}

/* The element in r->buf is complete: parse it and hand it over. */
static int deliver(struct trace_reader* r) {
  struct trace_event ev;
  cJSON* root;
  int rc;

  r->buf[r->len] = '\0';
  root = cJSON_ParseWithLengthOpts(r->buf, r->len, NULL, 0);
  r->len = 0;
  if (root == NULL || !cJSON_IsObject(root)) {
    r->bad_json++;
    cJSON_Delete(root);
    return 0;
  }
  if (event_fields(root, &ev) != 0) {
    r->bad_fields++;
    cJSON_Delete(root);
    return 0;
  }
  r->events++;
  rc = r->cb != NULL ? r->cb(&ev, r->arg) : 0;
  cJSON_Delete(root);
  return rc;
}

/* Starts a value whose first byte is c. */
static void value_begin(struct trace_reader* r, unsigned char c) {
  r->state = S_VALUE;
  if (c == '{' || c == '[') {
    r->value_state = V_PLAIN;
    r->depth = 1;
  } else if (c == '"') {
    r->value_state = V_STRING;
    r->depth = 0;
  } else {
    r->value_state = V_SCALAR;
    r->depth = 0;
  }
}

/* Scans the current value from p. Returns the position after it, or end
 * when it goes on past the chunk. *done says which. */
static const unsigned char* value_scan(struct trace_reader* r,
                                       const unsigned char* p,
                                       const unsigned char* end, int* done) {
  *done = 0;
  while (p < end) {
    switch (r->value_state) {
    case V_STRING:
      /* The hot loop: most bytes of a trace are inside strings. */
      while (p < end && *p != '"' && *p != '\\')
        p++;
      if (p == end)
        return p;
      if (*p++ == '\\') {
        r->value_state = V_ESCAPE;
        break;
      }
      r->value_state = V_PLAIN;
      if (r->depth == 0) {
        *done = 1;
        return p;
      }
      break;
    case V_ESCAPE:
      p++;
      r->value_state = V_STRING;
      break;
    case V_SCALAR:
      while (p < end && !is_delim(*p))
        p++;
      if (p < end)
        *done = 1;
      return p;
    default:
      switch (*p++) {
      case '"':
        r->value_state = V_STRING;
        break;
      case '{':
      case '[':
        r->depth++;
        break;
      case '}':
      case ']':
        if (--r->depth == 0) {
          *done = 1;
          return p;
        }
        break;
      }
    }
  }
  return p;
}

/* The value just ended: deliver it or count it, and go back to where it
 * sits in the container. */
static int value_end(struct trace_reader* r) {
  int rc = 0;
  if (r->events_value) {
    /* An element of the events array. */
    if (r->capture)
      rc = deliver(r);
    else if (r->first != '{')
      r->not_objects++;
    r->capture = 0;
    r->state = S_ARRAY;
  } else {
    r->state = S_OBJECT;
  }
  return rc;
}

/* Reads `len` bytes of JSON: the byte-level state machine of the S_*
 * states above, one `case` a state, kept in one function so that each
 * byte's path through it reads top to bottom (the states' own work is in
 * the helpers above: value bytes, value_end(), deliver()). */
static int scan(struct trace_reader* r, const void* data, size_t len) {
  const unsigned char* p = data;
  const unsigned char* end = p + len;
  const unsigned char* kept = p; /* start of the element bytes in this chunk */
  char what[16];
  int rc;

  if (r->failed)
    return r->failed;
  if (r->state == S_DONE && r->trailing_at != 0) {
    r->bytes += len;
    return 0;
  }
  while (p < end) {
    unsigned char c = *p;
    uint64_t at = r->bytes + (uint64_t) (p - (const unsigned char*) data);

    switch (r->state) {
    case S_START:
      if (is_space(c) || (at < 3 && c == (unsigned char) "\xef\xbb\xbf"[at])) {
        p++;
      } else if (c == '[') {
        r->form = TRACE_FORM_ARRAY;
        r->state = S_ARRAY;
        p++;
      } else if (c == '{') {
        r->form = TRACE_FORM_OBJECT;
        r->state = S_OBJECT;
        p++;
      } else {
        rc = fail(
            r, "not a trace: expected '[' or '{' at byte %" PRIu64 ", found %s",
            at, show_byte(c, what, sizeof(what)));
        goto out;
      }
      break;

    case S_ARRAY:
      if (is_space(c) || c == ',') {
        /* Commas are separators only: a trailing one is fine. */
        p++;
      } else if (c == ']') {
        r->state = r->nested ? S_OBJECT : S_DONE;
        p++;
      } else if (c == '}') {
        rc = fail(r, "unexpected '}' in the events array at byte %" PRIu64, at);
        goto out;
      } else {
        r->events_value = 1;
        r->first = c;
        r->capture = c == '{';
        r->len = 0;
        kept = p;
        value_begin(r, c);
        p++;
      }
      break;

    case S_OBJECT:
      if (is_space(c) || c == ',') {
        p++;
      } else if (c == '}') {
        r->state = S_DONE;
        p++;
      } else if (c == '"') {
        r->state = S_KEY;
        r->key_len = 0;
        p++;
      } else {
        rc = fail(r,
                  "expected a key in the top-level object at byte %" PRIu64
                  ", found %s",
                  at, show_byte(c, what, sizeof(what)));
        goto out;
      }
      break;

    case S_KEY:
      if (c == '"') {
        r->state = S_COLON;
      } else {
        if (c == '\\')
          r->state = S_KEY_ESC;
        /* Only whether the key is "traceEvents" matters. */
        if (r->key_len < sizeof(r->key))
          r->key[r->key_len] = (char) c;
        if (r->key_len < sizeof(r->key) + 1)
          r->key_len++;
      }
      p++;
      break;

    case S_KEY_ESC:
      if (r->key_len < sizeof(r->key) + 1)
        r->key_len++;
      r->state = S_KEY;
      p++;
      break;

    case S_COLON:
      if (is_space(c)) {
        p++;
      } else if (c == ':') {
        r->state = S_MEMBER;
        p++;
      } else {
        rc = fail(r, "expected ':' at byte %" PRIu64 ", found %s", at,
                  show_byte(c, what, sizeof(what)));
        goto out;
      }
      break;

    case S_MEMBER:
      if (is_space(c)) {
        p++;
      } else if (c == '[' && r->key_len == strlen(EVENTS_KEY) &&
                 memcmp(r->key, EVENTS_KEY, r->key_len) == 0) {
        r->has_events_array = 1;
        r->nested = 1;
        r->state = S_ARRAY;
        p++;
      } else {
        /* Any other member is skipped, however large. */
        r->events_value = 0;
        r->capture = 0;
        value_begin(r, c);
        p++;
      }
      break;

    case S_VALUE: {
      int done;
      p = value_scan(r, p, end, &done);
      if (!done)
        break;
      if ((rc = keep(r, (const char*) kept, (size_t) (p - kept))) != 0)
        goto out;
      if ((rc = value_end(r)) != 0)
        goto out;
      break;
    }

    case S_DONE:
      if (is_space(c)) {
        p++;
      } else {
        /* Data after the trace: noted, and the rest is not read. */
        r->trailing_at = at;
        p = end;
      }
      break;
    }
  }
  /* The element goes on in the next chunk: keep what we have of it. */
  if (r->state == S_VALUE && r->capture) {
    if ((rc = keep(r, (const char*) kept, (size_t) (end - kept))) != 0)
      goto out;
  }
  rc = 0;

out:
  r->bytes += (uint64_t) (p - (const unsigned char*) data);
  if (rc != 0 && !r->failed)
    r->failed = rc;
  return rc;
}

/* The input starts with gzip's first byte: inflate from now on. */
static int gz_begin(struct trace_reader* r) {
  r->gzip = 1;
  r->gz = calloc(1, sizeof(*r->gz));
  r->gz_out = malloc(TRACE_READER_GZ_OUT);
  /* windowBits 15 + 16: gzip only (a zlib stream is no trace file). */
  if (r->gz == NULL || r->gz_out == NULL ||
      inflateInit2(r->gz, 15 + 16) != Z_OK) {
    free(r->gz);
    r->gz = NULL;
    return r->failed = -ENOMEM;
  }
  return 0;
}

/* Inflates `len` bytes of gzip and reads the JSON they hold. A file may
 * hold several gzip members one after the other (`cat a.gz b.gz`). */
static int gz_feed(struct trace_reader* r, const void* data, size_t len) {
  z_stream* z = r->gz;
  int zrc;
  int rc;
  z->next_in = (Bytef*) data;
  z->avail_in = (uInt) len;
  do {
    size_t out;
    if (r->gz_member_end && z->avail_in > 0) {
      inflateReset(z);
      r->gz_member_end = 0;
    }
    z->next_out = r->gz_out;
    z->avail_out = TRACE_READER_GZ_OUT;
    zrc = inflate(z, Z_NO_FLUSH);
    if (zrc == Z_MEM_ERROR)
      return r->failed = -ENOMEM;
    /* What inflated before an error is read first, so that where the
     * reading stops does not depend on how the input was split. */
    out = TRACE_READER_GZ_OUT - z->avail_out;
    if (out > 0 && (rc = scan(r, r->gz_out, out)) != 0)
      return rc;
    if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR)
      return fail(r, "gzip data is broken (%s) after %" PRIu64 " bytes of JSON",
                  z->msg != NULL ? z->msg : "inflate failed", r->bytes);
    if (zrc == Z_STREAM_END)
      r->gz_member_end = 1;
    else if (zrc == Z_BUF_ERROR && out == 0)
      break; /* needs more input */
  } while (z->avail_in > 0 || z->avail_out == 0);
  return 0;
}

int trace_reader_feed(struct trace_reader* r, const void* data, size_t len) {
  if (r->failed)
    return r->failed;
  if (r->gz == NULL && !r->gzip && r->bytes == 0 && r->state == S_START &&
      len > 0 && *(const unsigned char*) data == 0x1f && gz_begin(r) != 0)
    return r->failed;
  if (r->gz != NULL)
    return gz_feed(r, data, len);
  return scan(r, data, len);
}

int trace_reader_end(struct trace_reader* r) {
  if (r->failed)
    return r->failed;
  if (r->gz != NULL && !r->gz_member_end)
    r->gzip_cut = 1;
  switch (r->state) {
  case S_START:
    if (r->gzip_cut && r->bytes == 0)
      return fail(r, "gzip file cut short before any data");
    if (r->bytes == 0)
      return fail(r, "empty file");
    return fail(r, "no trace in the file (only whitespace)");
  case S_DONE:
    return 0;
  default:
    /* A partial last element is dropped. */
    r->truncated = 1;
    r->len = 0;
    r->capture = 0;
    return 0;
  }
}

static const cJSON* arg_item(const struct trace_event* ev, const char* key) {
  if (ev->args == NULL)
    return NULL;
  return cJSON_GetObjectItemCaseSensitive(ev->args, key);
}

int trace_arg_us(const struct trace_event* ev, const char* key,
                 int64_t* out_ns) {
  const cJSON* it = arg_item(ev, key);
  if (it == NULL)
    return -ENOENT;
  return trace_json_us(it, out_ns);
}

int trace_arg_int(const struct trace_event* ev, const char* key, int64_t* out) {
  const cJSON* it = arg_item(ev, key);
  if (it == NULL)
    return -ENOENT;
  return json_int(it, out);
}

int trace_arg_str(const struct trace_event* ev, const char* key,
                  const char** out) {
  const cJSON* it = arg_item(ev, key);
  if (it == NULL)
    return -ENOENT;
  if (!cJSON_IsString(it))
    return -EINVAL;
  *out = it->valuestring;
  return 0;
}

int trace_arg_bool(const struct trace_event* ev, const char* key, int* out) {
  const cJSON* it = arg_item(ev, key);
  if (it == NULL)
    return -ENOENT;
  if (!cJSON_IsBool(it))
    return -EINVAL;
  *out = cJSON_IsTrue(it);
  return 0;
}
