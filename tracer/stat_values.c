/* stat_values.c — compact value arrays and nearest-rank percentiles. */
#include "stat_values.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "containers.h"

void stat_values_init(struct stat_values* v) {
  memset(v, 0, sizeof(*v));
}

void stat_values_free(struct stat_values* v) {
  free(v->v32);
  free(v->v64);
  stat_values_init(v);
}

/* Moves every value to 64-bit storage, with room for at least one more. */
static int widen(struct stat_values* v) {
  size_t cap = v->cap > v->n ? v->cap : v->n + 16;
  uint64_t* w = malloc(cap * sizeof(*w));
  size_t i;
  if (w == NULL)
    return -ENOMEM;
  for (i = 0; i < v->n; i++)
    w[i] = v->v32[i];
  free(v->v32);
  v->v32 = NULL;
  v->v64 = w;
  v->cap = cap;
  return 0;
}

int stat_values_add(struct stat_values* v, uint64_t ns) {
  int wide = v->v64 != NULL || ns > UINT32_MAX;
  if (wide && v->v64 == NULL && widen(v) != 0)
    return -ENOMEM;
  if (wide ? array_reserve(&v->v64, &v->cap, v->n + 1, sizeof(*v->v64))
           : array_reserve(&v->v32, &v->cap, v->n + 1, sizeof(*v->v32)))
    return -ENOMEM;
  if (wide)
    v->v64[v->n++] = ns;
  else
    v->v32[v->n++] = (uint32_t) ns;
  if (ns > v->max)
    v->max = ns;
  v->sum = ns > UINT64_MAX - v->sum ? UINT64_MAX : v->sum + ns;
  return 0;
}

/* Quickselect: after it, a[k] is the k-th smallest. A three-way
 * partition keeps runs of equal values (common in traces) linear; the
 * pivot is the median of three. Input built to defeat that pivot would
 * make it quadratic, so after 64 rounds the rest is sorted instead.
 * One copy per element width. */
#define SELECT_IMPL(fname, type, cmp)                            \
  static int cmp(const void* a, const void* b) {                 \
    type x = *(const type*) a;                                   \
    type y = *(const type*) b;                                   \
    return x < y ? -1 : x > y;                                   \
  }                                                              \
  static void fname(type* a, size_t n, size_t k) {               \
    size_t lo = 0;                                               \
    size_t hi = n; /* the range [lo, hi) holds the k-th */       \
    int rounds = 0;                                              \
    while (hi - lo > 1) {                                        \
      if (++rounds > 64) {                                       \
        qsort(a + lo, hi - lo, sizeof(type), cmp);               \
        return;                                                  \
      }                                                          \
      type x = a[lo];                                            \
      type y = a[lo + (hi - lo) / 2];                            \
      type z = a[hi - 1];                                        \
      type pivot = x < y ? (y < z ? y : (x < z ? z : x))         \
                         : (x < z ? x : (y < z ? z : y));        \
      size_t lt = lo;                                            \
      size_t i = lo;                                             \
      size_t gt = hi;                                            \
      /* [lo, lt) < pivot, [lt, i) == pivot, [gt, hi) > pivot */ \
      while (i < gt) {                                           \
        type t;                                                  \
        if (a[i] < pivot) {                                      \
          t = a[i];                                              \
          a[i++] = a[lt];                                        \
          a[lt++] = t;                                           \
        } else if (a[i] > pivot) {                               \
          t = a[i];                                              \
          a[i] = a[--gt];                                        \
          a[gt] = t;                                             \
        } else {                                                 \
          i++;                                                   \
        }                                                        \
      }                                                          \
      if (k < lt)                                                \
        hi = lt;                                                 \
      else if (k >= gt)                                          \
        lo = gt;                                                 \
      else                                                       \
        return;                                                  \
    }                                                            \
  }

SELECT_IMPL(select32, uint32_t, cmp32)
SELECT_IMPL(select64, uint64_t, cmp64)

int stat_values_pct(struct stat_values* v, unsigned pct, uint64_t* out) {
  size_t rank;
  if (v->n == 0)
    return -ENOENT;
  if (pct >= 100) {
    *out = v->max;
    return 0;
  }
  if (pct == 0)
    pct = 1;
  /* ceil(pct * n / 100) in integers: no rounding surprises at p50. */
  rank = (size_t) (((uint64_t) pct * v->n + 99) / 100);
  if (rank == 0)
    rank = 1;
  if (v->v64 != NULL) {
    select64(v->v64, v->n, rank - 1);
    *out = v->v64[rank - 1];
  } else {
    select32(v->v32, v->n, rank - 1);
    *out = v->v32[rank - 1];
  }
  return 0;
}
