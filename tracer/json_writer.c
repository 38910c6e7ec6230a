/* json_writer.c — buffered JSON output: numbers and escaped strings,
 * plain or gzip. */
#include "json_writer.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <zlib.h>

/* deflate's output buffer in gzip mode. */
#define GZ_OUT_SIZE (64 * 1024)

int jw_init(struct json_writer* w, int fd) {
  memset(w, 0, sizeof(*w));
  w->fd = fd;
  w->buf = malloc(JW_BUFFER_SIZE);
  return w->buf != NULL ? 0 : -ENOMEM;
}

int jw_init_gzip(struct json_writer* w, int fd) {
  if (jw_init(w, fd) != 0)
    return -ENOMEM;
  w->gz = calloc(1, sizeof(*w->gz));
  w->gz_out = malloc(GZ_OUT_SIZE);
  /* windowBits 15 + 16: a gzip header and trailer around the deflate
   * data. */
  if (w->gz == NULL || w->gz_out == NULL ||
      deflateInit2(w->gz, JW_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    free(w->gz);
    w->gz = NULL;
    jw_free(w);
    return -ENOMEM;
  }
  return 0;
}

int jw_gzip_name(const char* path) {
  size_t n = path != NULL ? strlen(path) : 0;
  return n > 3 && strcmp(path + n - 3, ".gz") == 0;
}

void jw_free(struct json_writer* w) {
  if (w->gz != NULL) {
    deflateEnd(w->gz);
    free(w->gz);
    w->gz = NULL;
  }
  free(w->gz_out);
  w->gz_out = NULL;
  free(w->buf);
  w->buf = NULL;
  w->len = 0;
}

/* Writes all of `s`, retrying short writes and EINTR. */
static int write_all(int fd, const char* s, size_t n) {
  while (n > 0) {
    ssize_t r = write(fd, s, n);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    s += r;
    n -= (size_t) r;
  }
  return 0;
}

/* Compresses n bytes of s (n may be 0) with deflate's `flush` mode and
 * writes what deflate gives back. Returns 0 or a negative errno. */
static int gz_write(struct json_writer* w, const char* s, size_t n, int flush) {
  z_stream* z = w->gz;
  int zrc;
  z->next_in = (Bytef*) s;
  z->avail_in = (uInt) n;
  do {
    size_t out;
    z->next_out = (Bytef*) w->gz_out;
    z->avail_out = GZ_OUT_SIZE;
    zrc = deflate(z, flush);
    if (zrc == Z_STREAM_ERROR)
      return -EIO;
    out = GZ_OUT_SIZE - z->avail_out;
    if (out > 0 && w->fd >= 0) {
      int err = write_all(w->fd, w->gz_out, out);
      if (err != 0)
        return err;
      w->written += out;
    }
    /* Output that filled the buffer may have more behind it. */
  } while (z->avail_in > 0 || z->avail_out == 0);
  return 0;
}

/* Writes n bytes of s to the output, plain or compressed. */
static int emit(struct json_writer* w, const char* s, size_t n, int flush) {
  int err;
  if (w->gz != NULL)
    return gz_write(w, s, n, flush);
  if (n == 0 || w->fd < 0)
    return 0;
  err = write_all(w->fd, s, n);
  if (err == 0)
    w->written += n;
  return err;
}

/* Hands the buffer to the output with deflate's `flush` mode. */
static int drain(struct json_writer* w, int flush) {
  if (w->error)
    return w->error;
  w->error = emit(w, w->buf, w->len, flush);
  w->len = 0;
  return w->error;
}

int jw_drain(struct json_writer* w) {
  return drain(w, Z_NO_FLUSH);
}

int jw_flush(struct json_writer* w) {
  return drain(w, Z_SYNC_FLUSH);
}

int jw_finish(struct json_writer* w) {
  return drain(w, Z_FINISH);
}

void jw_raw_slow(struct json_writer* w, const char* s, size_t n) {
  if (jw_drain(w) != 0)
    return;
  if (n <= JW_BUFFER_SIZE) {
    memcpy(w->buf, s, n);
    w->len = n;
  } else {
    w->error = emit(w, s, n, Z_NO_FLUSH);
  }
  w->total += n;
}

static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "68697071727374757677787980818283848586878889909192939495969798"
    "99";

/* The number of decimal digits of `v` (1 for 0): from its bit length,
 * log10(2) ~ 1233 / 4096, corrected by one comparison. */
static unsigned u64_digits(uint64_t v) {
  static const uint64_t pow10[20] = {1ull,
                                     10ull,
                                     100ull,
                                     1000ull,
                                     10000ull,
                                     100000ull,
                                     1000000ull,
                                     10000000ull,
                                     100000000ull,
                                     1000000000ull,
                                     10000000000ull,
                                     100000000000ull,
                                     1000000000000ull,
                                     10000000000000ull,
                                     100000000000000ull,
                                     1000000000000000ull,
                                     10000000000000000ull,
                                     100000000000000000ull,
                                     1000000000000000000ull,
                                     10000000000000000000ull};
  unsigned t = (unsigned) (64 - __builtin_clzll(v | 1)) * 1233 >> 12;
  unsigned n = t + (v >= pow10[t]);
  return n != 0 ? n : 1;
}

/* The digits are written in place, from the last (four at a time, then
 * two): no copy. */
static inline char* fmt_u64(char* p, uint64_t v) {
  char* end = p + u64_digits(v);
  char* t = end;
  while (v >= 10000) {
    unsigned four = (unsigned) (v % 10000);
    v /= 10000;
    t -= 4;
    memcpy(t, digit_pairs + four / 100 * 2, 2);
    memcpy(t + 2, digit_pairs + four % 100 * 2, 2);
  }
  if (v >= 100) {
    t -= 2;
    memcpy(t, digit_pairs + v % 100 * 2, 2);
    v /= 100;
  }
  if (v >= 10)
    memcpy(t - 2, digit_pairs + v * 2, 2);
  else
    t[-1] = (char) ('0' + v);
  return end;
}

char* jw_fmt_u64(char* p, uint64_t v) {
  return fmt_u64(p, v);
}

char* jw_fmt_us(char* p, uint64_t ns) {
  uint64_t us = ns / 1000;
  unsigned frac = (unsigned) (ns - us * 1000);
  p = fmt_u64(p, us);
  p[0] = '.';
  p[1] = (char) ('0' + frac / 100);
  memcpy(p + 2, digit_pairs + frac % 100 * 2, 2);
  return p + 4;
}

/* The length of the valid UTF-8 sequence at s[0..n), or 0 if it is not
 * one (RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF). s[0] is >= 0x80. */
static size_t utf8_sequence(const unsigned char* s, size_t n) {
  unsigned char c = s[0];
  if (c >= 0xc2 && c <= 0xdf)
    return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    unsigned char lo = c == 0xe0 ? 0xa0 : 0x80;
    unsigned char hi = c == 0xed ? 0x9f : 0xbf;
    return n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xf4 ? 0x8f : 0xbf;
    return n >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
                   (s[3] & 0xc0) == 0x80
               ? 4
               : 0;
  }
  return 0;
}

char* jw_fmt_string(char* out, const char* str, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char* s = (const unsigned char*) str;
  size_t i = 0;
  *out++ = '"';
  while (i < n) {
    unsigned char c = s[i];
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      *out++ = (char) c;
      i++;
    } else if (c < 0x80) {
      *out++ = '\\';
      switch (c) {
      case '"':
        *out++ = '"';
        break;
      case '\\':
        *out++ = '\\';
        break;
      case '\n':
        *out++ = 'n';
        break;
      case '\r':
        *out++ = 'r';
        break;
      case '\t':
        *out++ = 't';
        break;
      case '\b':
        *out++ = 'b';
        break;
      case '\f':
        *out++ = 'f';
        break;
      default:
        memcpy(out, "u00", 3);
        out[3] = hex[c >> 4];
        out[4] = hex[c & 15];
        out += 5;
      }
      i++;
    } else {
      size_t len = utf8_sequence(s + i, n - i);
      if (len == 0) {
        memcpy(out, "\\ufffd", 6);
        out += 6;
        i++;
      } else {
        memcpy(out, s + i, len);
        out += len;
        i += len;
      }
    }
  }
  *out++ = '"';
  return out;
}

void jw_string(struct json_writer* w, const char* s, size_t n) {
  char* big;
  if (JW_ESCAPED_MAX(n) <= JW_BUFFER_SIZE) {
    char* p = jw_reserve(w, JW_ESCAPED_MAX(n));
    if (p != NULL)
      jw_commit(w, jw_fmt_string(p, s, n));
    return;
  }
  /* Longer than the buffer: escape into memory of its own. */
  big = malloc(JW_ESCAPED_MAX(n));
  if (big == NULL) {
    if (w->error == 0)
      w->error = -ENOMEM;
    return;
  }
  jw_raw(w, big, (size_t) (jw_fmt_string(big, s, n) - big));
  free(big);
}
