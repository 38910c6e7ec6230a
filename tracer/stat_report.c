/* stat_report.c — the summary as JSON and as text (see stat_report.h). */
#include "stat_report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "containers.h"

/* ---------------------------------------------------------------------- */
/* JSON. Every add is checked once, at the end: `ok` drops to 0 when an
 * allocation fails and the whole object is thrown away. */

struct json {
  int ok;
};

static cJSON* add(struct json* j, cJSON* obj, const char* key, cJSON* item) {
  if (item == NULL) {
    j->ok = 0;
    return NULL;
  }
  if (obj == NULL) {
    cJSON_Delete(item);
    return NULL;
  }
  if (cJSON_IsArray(obj) ? !cJSON_AddItemToArray(obj, item)
                         : !cJSON_AddItemToObject(obj, key, item)) {
    cJSON_Delete(item);
    j->ok = 0;
    return NULL;
  }
  return item;
}

static cJSON* num(double v) {
  return cJSON_CreateNumber(v);
}

/* µs with at most three decimals, printed from the integer ns the way
 * the exporter prints times (a double would show 17 digits past 2^53 ns
 * / 1000, or 0.30000000000000004). */
static cJSON* us_signed(int64_t ns) {
  char buf[32];
  uint64_t mag = ns < 0 ? 0 - (uint64_t) ns : (uint64_t) ns;
  int n = snprintf(buf, sizeof(buf), "%s%" PRIu64 ".%03u", ns < 0 ? "-" : "",
                   mag / 1000, (unsigned) (mag % 1000));
  /* 12.500 -> 12.5, 300.000 -> 300 */
  while (buf[n - 1] == '0')
    buf[--n] = '\0';
  if (buf[n - 1] == '.')
    buf[--n] = '\0';
  return cJSON_CreateRaw(buf);
}

static cJSON* us(uint64_t ns) {
  /* Sums saturate at UINT64_MAX; keep them positive. */
  return us_signed(ns > INT64_MAX ? INT64_MAX : (int64_t) ns);
}

static cJSON* str_or_null(const char* s) {
  return s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* The percentiles, or nulls when no complete span gave any. */
static void add_pcts(struct json* j, cJSON* obj, const struct stat_pcts* p,
                     const char* k50, const char* k99, const char* kmax) {
  add(j, obj, k50, p->ok ? us(p->p50) : cJSON_CreateNull());
  add(j, obj, k99, p->ok ? us(p->p99) : cJSON_CreateNull());
  if (kmax != NULL)
    add(j, obj, kmax, p->ok ? us(p->max) : cJSON_CreateNull());
}

static void json_ticks(struct json* j, cJSON* root,
                       const struct stat_figures* f) {
  cJSON* t;
  if (f->ticks == 0) {
    add(j, root, "ticks", cJSON_CreateNull());
    return;
  }
  t = add(j, root, "ticks", cJSON_CreateObject());
  add(j, t, "count", num((double) f->ticks));
  add(j, t, "cut", num((double) f->cut.ticks));
  add(j, t, "per_s",
      f->has_ticks_per_s ? num(f->ticks_per_s) : cJSON_CreateNull());
  add_pcts(j, t, &f->tick_dur, "p50_us", "p99_us", "max_us");
}

static void json_phases(struct json* j, cJSON* root,
                        const struct stat_figures* f) {
  cJSON* arr = add(j, root, "phases", cJSON_CreateArray());
  size_t i;
  for (i = 0; i < f->nphases; i++) {
    const struct stat_phase* p = &f->phases[i];
    cJSON* o = add(j, arr, NULL, cJSON_CreateObject());
    add(j, o, "name", cJSON_CreateString(p->name));
    add(j, o, "count", num((double) p->count));
    add(j, o, "total_us", us(p->total_ns));
    add(j, o, "share", p->has_share ? num(p->share) : cJSON_CreateNull());
    add_pcts(j, o, &p->dur, "p50_us", "p99_us", "max_us");
  }
}

static void json_callbacks(struct json* j, cJSON* root,
                           const struct stat_figures* f) {
  cJSON* arr = add(j, root, "callbacks", cJSON_CreateArray());
  size_t i;
  for (i = 0; i < f->ncallbacks; i++) {
    const struct stat_callback* c = &f->callbacks[i];
    cJSON* o = add(j, arr, NULL, cJSON_CreateObject());
    add(j, o, "name", cJSON_CreateString(c->name));
    add(j, o, "kind", str_or_null(c->kind));
    add(j, o, "count", num((double) c->count));
    add(j, o, "total_us", us(c->total_ns));
    add(j, o, "self_us", us(c->self_ns));
  }
}

static void json_threadpool(struct json* j, cJSON* root,
                            const struct stat_figures* f) {
  cJSON* tp;
  cJSON* o;
  cJSON* arr;
  size_t i;
  if (f->tasks == 0) {
    add(j, root, "threadpool", cJSON_CreateNull());
    return;
  }
  tp = add(j, root, "threadpool", cJSON_CreateObject());
  add(j, tp, "tasks", num((double) f->tasks));
  if (f->queue_wait.ok) {
    o = add(j, tp, "queue_wait_us", cJSON_CreateObject());
    add_pcts(j, o, &f->queue_wait, "p50", "p99", "max");
  } else {
    add(j, tp, "queue_wait_us", cJSON_CreateNull());
  }
  o = add(j, tp, "run_us", cJSON_CreateObject());
  add_pcts(j, o, &f->run, "p50", "p99", NULL);
  add(j, tp, "peak_concurrency", num((double) f->peak_concurrency));
  arr = add(j, tp, "workers", cJSON_CreateArray());
  for (i = 0; i < f->nworkers; i++) {
    const struct stat_worker* w = &f->workers[i];
    o = add(j, arr, NULL, cJSON_CreateObject());
    add(j, o, "name", str_or_null(w->name));
    add(j, o, "tid", num((double) w->tid));
    add(j, o, "tasks", num((double) w->tasks));
    add(j, o, "busy_us", us(w->busy_ns));
    add(j, o, "busy_share",
        w->has_share ? num(w->busy_share) : cJSON_CreateNull());
  }
}

static void json_longest(struct json* j, cJSON* root,
                         const struct stat_figures* f) {
  cJSON* arr = add(j, root, "longest_ticks", cJSON_CreateArray());
  size_t i;
  size_t k;
  for (i = 0; i < f->nlongest; i++) {
    const struct stat_tick* t = &f->longest[i];
    cJSON* o = add(j, arr, NULL, cJSON_CreateObject());
    cJSON* cbs;
    add(j, o, "tick",
        t->has_number ? num((double) t->number) : cJSON_CreateNull());
    /* ts may be negative in other producers' traces. */
    add(j, o, "ts_us", us_signed(t->ts_ns));
    add(j, o, "dur_us", us(t->dur_ns));
    add(j, o, "busy_us", us(t->busy_ns));
    cbs = add(j, o, "callbacks", cJSON_CreateArray());
    for (k = 0; k < t->ncallbacks; k++) {
      cJSON* c = add(j, cbs, NULL, cJSON_CreateObject());
      add(j, c, "name", cJSON_CreateString(t->callbacks[k].name));
      add(j, c, "kind", str_or_null(t->callbacks[k].kind));
      add(j, c, "dur_us", us(t->callbacks[k].dur_ns));
    }
  }
}

static void json_lines(struct json* j, cJSON* root, const char* key,
                       char* const* v, size_t n) {
  cJSON* arr = add(j, root, key, cJSON_CreateArray());
  size_t i;
  for (i = 0; i < n; i++)
    add(j, arr, NULL, cJSON_CreateString(v[i]));
}

cJSON* stat_report_json(const struct stat_figures* f) {
  struct json j = {1};
  cJSON* root = cJSON_CreateObject();
  if (root == NULL)
    return NULL;
  add(&j, root, "recording_us",
      f->has_recording ? us(f->recording_ns) : cJSON_CreateNull());
  add(&j, root, "loop_utilization",
      f->has_utilization ? num(f->utilization) : cJSON_CreateNull());
  json_ticks(&j, root, f);
  json_phases(&j, root, f);
  json_callbacks(&j, root, f);
  json_threadpool(&j, root, f);
  json_longest(&j, root, f);
  add(&j, root, "drops",
      f->has_drops ? num((double) f->drops) : cJSON_CreateNull());
  json_lines(&j, root, "warnings", f->warnings, f->nwarnings);
  json_lines(&j, root, "missing", f->missing, f->nmissing);
  if (!j.ok) {
    cJSON_Delete(root);
    return NULL;
  }
  return root;
}

/* ---------------------------------------------------------------------- */
/* Text. */

char* stat_format_ns(uint64_t ns, char* buf, size_t size) {
  double v = (double) ns;
  /* Pick the unit after rounding, so 999.96 µs reads "1.00 ms". */
  if (v < 999.95e3)
    snprintf(buf, size, "%.1f µs", v / 1e3);
  else if (v < 999.995e6)
    snprintf(buf, size, "%.2f ms", v / 1e6);
  else
    snprintf(buf, size, "%.2f s", v / 1e9);
  return buf;
}

static char* format_pct(double share, char* buf, size_t size) {
  snprintf(buf, size, "%.1f%%", share * 100.0);
  return buf;
}

/* ---------------------------------------------------------------------- */
/* Names on a terminal: code points, not bytes, and some take two columns.
 * The width table is a simplification of Unicode's East Asian Width
 * (W and F) and of the zero-width marks, enough for labels; wcwidth()
 * would depend on the user's locale. */

struct range {
  uint32_t lo;
  uint32_t hi;
};

static const struct range zero_width[] = {
    {0x0300, 0x036f}, {0x0483, 0x0489},   {0x0591, 0x05bd}, {0x0610, 0x061a},
    {0x064b, 0x065f}, {0x0e31, 0x0e31},   {0x0e34, 0x0e3a}, {0x0e47, 0x0e4e},
    {0x1ab0, 0x1aff}, {0x1dc0, 0x1dff},   {0x200b, 0x200f}, {0x202a, 0x202e},
    {0x2060, 0x2064}, {0x20d0, 0x20ff},   {0xfe00, 0xfe0f}, {0xfe20, 0xfe2f},
    {0xfeff, 0xfeff}, {0xe0100, 0xe01ef},
};

static const struct range wide[] = {
    {0x1100, 0x115f},   {0x231a, 0x231b},   {0x2329, 0x232a},
    {0x23e9, 0x23ec},   {0x2614, 0x2615},   {0x2648, 0x2653},
    {0x26aa, 0x26ab},   {0x26bd, 0x26be},   {0x26c4, 0x26c5},
    {0x26f2, 0x26f5},   {0x2705, 0x2705},   {0x270a, 0x270b},
    {0x274c, 0x274c},   {0x2753, 0x2755},   {0x2795, 0x2797},
    {0x2b1b, 0x2b1c},   {0x2e80, 0x303e},   {0x3041, 0x33ff},
    {0x3400, 0x4dbf},   {0x4e00, 0x9fff},   {0xa000, 0xa4cf},
    {0xa960, 0xa97f},   {0xac00, 0xd7a3},   {0xf900, 0xfaff},
    {0xfe10, 0xfe19},   {0xfe30, 0xfe6f},   {0xff00, 0xff60},
    {0xffe0, 0xffe6},   {0x16fe0, 0x18cff}, {0x1b000, 0x1b2ff},
    {0x1f004, 0x1f004}, {0x1f0cf, 0x1f0cf}, {0x1f18e, 0x1f18e},
    {0x1f191, 0x1f19a}, {0x1f200, 0x1f251}, {0x1f300, 0x1f64f},
    {0x1f680, 0x1f6ff}, {0x1f7e0, 0x1f7eb}, {0x1f90c, 0x1f9ff},
    {0x1fa70, 0x1faff}, {0x20000, 0x2fffd}, {0x30000, 0x3fffd},
};

static int in_ranges(uint32_t cp, const struct range* r, size_t n) {
  size_t lo = 0;
  size_t hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (cp < r[mid].lo)
      hi = mid;
    else if (cp > r[mid].hi)
      lo = mid + 1;
    else
      return 1;
  }
  return 0;
}

/* Columns a printable code point takes: 0, 1 or 2. */
static int cp_width(uint32_t cp) {
  if (in_ranges(cp, zero_width, sizeof(zero_width) / sizeof(zero_width[0])))
    return 0;
  if (in_ranges(cp, wide, sizeof(wide) / sizeof(wide[0])))
    return 2;
  return 1;
}

/* Decodes the UTF-8 sequence at the start of NUL-terminated s. Returns its
 * length and sets *cp, or returns 0 when it is not valid UTF-8 (RFC 3629:
 * no overlong forms, surrogates or code points above U+10FFFF). */
static size_t utf8_next(const unsigned char* s, uint32_t* cp) {
  unsigned char c = s[0];
  size_t n;
  size_t i;
  uint32_t min;
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2, min = 0x80, *cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3, min = 0x800, *cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4, min = 0x10000, *cp = c & 0x07;
  } else {
    return 0;
  }
  for (i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0; /* also stops at the NUL */
    *cp = (*cp << 6) | (s[i] & 0x3f);
  }
  if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
    return 0;
  return n;
}

/* Terminal columns of a string clean_name() made (or one of ours). */
static size_t display_width(const char* str) {
  const unsigned char* s = (const unsigned char*) str;
  size_t w = 0;
  uint32_t cp;
  while (*s != '\0') {
    size_t n = utf8_next(s, &cp);
    w += n > 0 ? (size_t) cp_width(cp) : 1;
    s += n > 0 ? n : 1;
  }
  return w;
}

/* A name from the trace, made safe to print: control characters (C0, DEL,
 * C1) and bytes that are not UTF-8 become '?', and it is cut to `max`
 * columns with "…", between characters, never inside one. buf gets at
 * most size - 1 bytes. */
static void clean_name(const char* name, size_t max, char* buf, size_t size) {
  const unsigned char* p = (const unsigned char*) name;
  size_t w = 0;
  size_t n = 0;
  size_t cut_n = 0; /* where "…" goes if the name turns out too long */
  uint32_t cp;

  while (*p != '\0') {
    size_t len = utf8_next(p, &cp);
    const char* bytes = (const char*) p;
    int cw;
    if (len == 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
      bytes = "?";
      cw = 1;
      p += len > 0 ? len : 1;
      len = 1;
    } else {
      cw = cp_width(cp);
      p += len;
    }
    if (w + (size_t) cw > max || n + len + 1 > size) {
      /* Too long: cut where "…" still fits. */
      n = cut_n;
      if (n + sizeof("…") <= size)
        memcpy(buf + n, "…", sizeof("…") - 1), n += sizeof("…") - 1;
      break;
    }
    memcpy(buf + n, bytes, len);
    n += len;
    w += (size_t) cw;
    if (w + 1 <= max && n + sizeof("…") <= size)
      cut_n = n;
  }
  buf[n] = '\0';
}

/* A cell holds a name of NAME_COLS columns: up to 4 bytes each, more
 * with zero-width marks (clean_name bounds it by the cell's size). */
#define CELL 192
#define MAX_COLS 8

/* A table printed with every column as wide as its widest cell. */
struct table {
  size_t ncols;
  const char* align; /* per column: 'l' or 'r' */
  char (*cells)[MAX_COLS][CELL];
  size_t nrows;
  size_t cap;
  int failed;
};

static void table_init(struct table* t, size_t ncols, const char* align) {
  memset(t, 0, sizeof(*t));
  t->ncols = ncols;
  t->align = align;
}

/* Adds a row of ncols cells (strings; NULL is empty). */
static void table_row(struct table* t, ...) {
  va_list ap;
  size_t i;
  if (t->failed)
    return;
  if (array_reserve(&t->cells, &t->cap, t->nrows + 1, sizeof(*t->cells)) != 0) {
    t->failed = 1;
    return;
  }
  va_start(ap, t);
  for (i = 0; i < t->ncols; i++) {
    const char* s = va_arg(ap, const char*);
    snprintf(t->cells[t->nrows][i], CELL, "%s", s != NULL ? s : "");
  }
  va_end(ap);
  t->nrows++;
}

static void table_print(struct table* t, const char* indent, FILE* out) {
  size_t width[MAX_COLS] = {0};
  size_t r;
  size_t c;
  for (r = 0; r < t->nrows; r++)
    for (c = 0; c < t->ncols; c++) {
      size_t w = display_width(t->cells[r][c]);
      if (w > width[c])
        width[c] = w;
    }
  for (r = 0; r < t->nrows; r++) {
    /* Trailing empty cells print nothing, not spaces. */
    size_t last = t->ncols;
    while (last > 1 && t->cells[r][last - 1][0] == '\0')
      last--;
    fputs(indent, out);
    for (c = 0; c < last; c++) {
      const char* s = t->cells[r][c];
      size_t pad = width[c] - display_width(s);
      int right = t->align[c] == 'r';
      if (c > 0)
        fputs("  ", out);
      if (right)
        fprintf(out, "%*s", (int) pad, "");
      fputs(s, out);
      if (!right && c + 1 < last)
        fprintf(out, "%*s", (int) pad, "");
    }
    fputc('\n', out);
  }
  free(t->cells);
  t->cells = NULL;
}

#define NAME_COLS 32

static void text_header(const struct stat_figures* f, const char* title,
                        FILE* out) {
  char name[160];
  char a[32];
  clean_name(title, 80, name, sizeof(name));
  fprintf(out, "%s", name);
  if (f->process_name != NULL) {
    clean_name(f->process_name, NAME_COLS, name, sizeof(name));
    fprintf(out, ": %s", name);
  }
  fputc('\n', out);
  if (f->command != NULL) {
    clean_name(f->command, 70, name, sizeof(name));
    fprintf(out, "  command     %s\n", name);
  }
  fprintf(out, "  recorded    %s, %" PRIu64 " events",
          f->has_recording ? stat_format_ns(f->recording_ns, a, sizeof(a))
                           : "length unknown",
          f->events);
  if (f->libuv_version != NULL) {
    clean_name(f->libuv_version, 16, name, sizeof(name));
    fprintf(out, ", libuv %s", name);
  }
  if (f->has_threadpool_size)
    fprintf(out, ", threadpool size %" PRId64, f->threadpool_size);
  fputc('\n', out);
}

static void text_loop(const struct stat_figures* f, FILE* out) {
  char a[32];
  char b[32];
  char c[32];
  if (f->has_utilization)
    fprintf(out,
            "\nloop        utilization %s (busy; the rest is waiting for "
            "I/O)\n",
            format_pct(f->utilization, a, sizeof(a)));
  else
    fprintf(out, "\nloop        utilization unknown\n");
  if (f->ticks == 0) {
    fprintf(out, "ticks       none found\n");
    return;
  }
  fprintf(out, "ticks       %" PRIu64, f->ticks);
  if (f->cut.ticks > 0)
    fprintf(out, " (%" PRIu64 " cut)", f->cut.ticks);
  if (f->has_ticks_per_s)
    fprintf(out, ", %.1f/s", f->ticks_per_s);
  if (!f->tick_dur.ok) {
    fprintf(out, "; durations unknown: every tick is cut\n");
    return;
  }
  fprintf(out, "; p50 %s, p99 %s, max %s\n",
          stat_format_ns(f->tick_dur.p50, a, sizeof(a)),
          stat_format_ns(f->tick_dur.p99, b, sizeof(b)),
          stat_format_ns(f->tick_dur.max, c, sizeof(c)));
}

static void text_phases(const struct stat_figures* f, FILE* out) {
  struct table t;
  size_t i;
  if (f->nphases == 0)
    return;
  table_init(&t, 7, "lrrrrrr");
  table_row(&t, "phase", "count", "total", "share", "p50", "p99", "max");
  for (i = 0; i < f->nphases; i++) {
    const struct stat_phase* p = &f->phases[i];
    char name[CELL], count[24], total[32], share[16], p50[32], p99[32], max[32];
    clean_name(p->name, NAME_COLS, name, sizeof(name));
    snprintf(count, sizeof(count), "%" PRIu64, p->count);
    table_row(&t, name, count, stat_format_ns(p->total_ns, total, 32),
              p->has_share ? format_pct(p->share, share, 16) : "?",
              p->dur.ok ? stat_format_ns(p->dur.p50, p50, 32) : "?",
              p->dur.ok ? stat_format_ns(p->dur.p99, p99, 32) : "?",
              p->dur.ok ? stat_format_ns(p->dur.max, max, 32) : "?");
  }
  fputc('\n', out);
  table_print(&t, "", out);
}

static void text_callbacks(const struct stat_figures* f, FILE* out) {
  struct table t;
  size_t i;
  if (f->ncallbacks == 0)
    return;
  table_init(&t, 5, "llrrr");
  table_row(&t, "callback", "kind", "count", "total", "self");
  for (i = 0; i < f->ncallbacks; i++) {
    const struct stat_callback* c = &f->callbacks[i];
    char name[CELL], kind[CELL], count[24], total[32], self[32];
    clean_name(c->name, NAME_COLS, name, sizeof(name));
    clean_name(c->kind != NULL ? c->kind : "-", 16, kind, sizeof(kind));
    snprintf(count, sizeof(count), "%" PRIu64, c->count);
    table_row(&t, name, kind, count, stat_format_ns(c->total_ns, total, 32),
              stat_format_ns(c->self_ns, self, 32));
  }
  fprintf(out, "\ncallbacks with the most %s\n",
          f->sort == STAT_SORT_SELF    ? "self time"
          : f->sort == STAT_SORT_COUNT ? "calls"
                                       : "total time");
  table_print(&t, "", out);
}

static void text_threadpool(const struct stat_figures* f, FILE* out) {
  struct table t;
  size_t i;
  char a[32], b[32], c[32];
  if (f->tasks == 0 && f->nworkers == 0) {
    fprintf(out, "\nthreadpool  no tasks found\n");
    return;
  }
  if (f->tasks == 0) /* a live window: tasks run, none ended */
    fprintf(out, "\nthreadpool  no task ended; the workers' time:\n");
  else
    fprintf(out,
            "\nthreadpool  %" PRIu64 " tasks, peak concurrency %" PRIu64 "\n",
            f->tasks, f->peak_concurrency);
  table_init(&t, 4, "lrrr");
  table_row(&t, "", "p50", "p99", "max");
  if (f->queue_wait.ok)
    table_row(&t, "queue wait", stat_format_ns(f->queue_wait.p50, a, 32),
              stat_format_ns(f->queue_wait.p99, b, 32),
              stat_format_ns(f->queue_wait.max, c, 32));
  else
    table_row(&t, "queue wait", "?", "?", "?");
  if (f->run.ok)
    table_row(&t, "run time", stat_format_ns(f->run.p50, a, 32),
              stat_format_ns(f->run.p99, b, 32),
              stat_format_ns(f->run.max, c, 32));
  else
    table_row(&t, "run time", "?", "?", "?");
  table_print(&t, "  ", out);

  table_init(&t, 5, "lrrrr");
  table_row(&t, "worker", "tid", "tasks", "busy", "share");
  for (i = 0; i < f->nworkers; i++) {
    const struct stat_worker* w = &f->workers[i];
    char name[CELL], tid[24], tasks[24], busy[32], share[16];
    if (w->name != NULL)
      clean_name(w->name, NAME_COLS, name, sizeof(name));
    else
      snprintf(name, sizeof(name), "(unnamed)");
    snprintf(tid, sizeof(tid), "%" PRId64, w->tid);
    snprintf(tasks, sizeof(tasks), "%" PRIu64, w->tasks);
    table_row(&t, name, tid, tasks, stat_format_ns(w->busy_ns, busy, 32),
              w->has_share ? format_pct(w->busy_share, share, 16) : "?");
  }
  fputc('\n', out);
  table_print(&t, "  ", out);
}

static void text_longest(const struct stat_figures* f, FILE* out) {
  struct table t;
  size_t i;
  size_t k;
  if (f->nlongest == 0)
    return;
  table_init(&t, 7, "rrrrlrl");
  table_row(&t, "tick", "at", "busy", "wall", "callbacks inside", "dur",
            "kind");
  for (i = 0; i < f->nlongest; i++) {
    const struct stat_tick* tk = &f->longest[i];
    char num[24], at[32], busy[32], dur[32];
    if (tk->has_number)
      snprintf(num, sizeof(num), "%" PRId64, tk->number);
    else
      snprintf(num, sizeof(num), "?");
    if (tk->ts_ns >= 0)
      stat_format_ns((uint64_t) tk->ts_ns, at, sizeof(at));
    else
      snprintf(at, sizeof(at), "%.3f µs", (double) tk->ts_ns / 1e3);
    stat_format_ns(tk->busy_ns, busy, sizeof(busy));
    stat_format_ns(tk->dur_ns, dur, sizeof(dur));
    if (tk->ncallbacks == 0)
      table_row(&t, num, at, busy, dur, "(no callbacks)", NULL, NULL);
    for (k = 0; k < tk->ncallbacks; k++) {
      const struct stat_tick_callback* c = &tk->callbacks[k];
      char name[CELL], kind[CELL], cdur[32];
      clean_name(c->name, NAME_COLS, name, sizeof(name));
      clean_name(c->kind != NULL ? c->kind : "-", 16, kind, sizeof(kind));
      table_row(&t, k == 0 ? num : NULL, k == 0 ? at : NULL,
                k == 0 ? busy : NULL, k == 0 ? dur : NULL, name,
                stat_format_ns(c->dur_ns, cdur, 32), kind);
    }
  }
  if (f->sort == STAT_SORT_WALL)
    fprintf(out, "\nlongest ticks (wall time, waiting included)\n");
  else
    fprintf(out,
            "\nlongest busy ticks (what blocked the loop: the tick minus its "
            "wait)\n");
  table_print(&t, "", out);
}

static void text_cut(const struct stat_figures* f, FILE* out) {
  const uint64_t n[] = {f->cut.ticks, f->cut.phases, f->cut.callbacks,
                        f->cut.tasks};
  static const char* const what[] = {"tick", "phase", "callback", "task"};
  const char* sep = "";
  size_t i;
  if (n[0] + n[1] + n[2] + n[3] == 0)
    return;
  fprintf(out, "\ncut         ");
  for (i = 0; i < 4; i++)
    if (n[i] > 0) {
      fprintf(out, "%s%" PRIu64 " %s%s", sep, n[i], what[i],
              n[i] == 1 ? "" : "s");
      sep = ", ";
    }
  fprintf(out,
          " cut by the recording's limits\n"
          "            (in counts and totals; not in percentiles or the "
          "longest ticks)\n");
}

int stat_report_text(const struct stat_figures* f, const char* title,
                     FILE* out) {
  size_t i;
  char line[512];

  text_header(f, title, out);
  text_loop(f, out);
  text_phases(f, out);
  text_callbacks(f, out);
  text_threadpool(f, out);
  text_longest(f, out);
  text_cut(f, out);
  if (f->has_drops)
    fprintf(out, "\ndrops       %" PRIu64 "%s\n", f->drops,
            f->drops > 0 ? " records lost: the figures undercount" : "");
  if (f->nwarnings > 0 || f->nmissing > 0)
    fputc('\n', out);
  for (i = 0; i < f->nwarnings; i++) {
    clean_name(f->warnings[i], 200, line, sizeof(line));
    fprintf(out, "warning: %s\n", line);
  }
  if (f->nmissing > 0)
    fprintf(out, "not in this trace (figure: why):\n");
  for (i = 0; i < f->nmissing; i++) {
    clean_name(f->missing[i], 200, line, sizeof(line));
    fprintf(out, "  %s\n", line);
  }
  if (fflush(out) != 0 || ferror(out))
    return -EIO;
  return 0;
}
