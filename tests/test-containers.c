/* test-containers.c — tracer/containers.h: the hash table keyed by u64,
 * the heap and array_reserve(), against a plain model of each. */
#include <errno.h>
#include <stddef.h>

#include "containers.h"
#include "test.h"

/* Key of model slot k: low and high bits both vary. */
#define KEY(k) ((uint64_t) (k) << 32 | (uint64_t) (k))

struct entry {
  uint64_t key;
  uint64_t value;
};

/* A small xorshift: the same sequence every run. */
static uint64_t next_rand(uint64_t* s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

TEST_IMPL(containers_u64map) {
  enum { N = 4000, KEYS = 1500 };
  static uint64_t model[KEYS]; /* value + 1 of key i + 1, 0: absent */
  struct u64map m;
  uint64_t seed = 88172645463325252ull;
  size_t len = 0;
  size_t pos = 0;
  size_t seen = 0;
  struct entry* e;
  int added;
  int i;

  u64map_init(&m, sizeof(struct entry));
  ASSERT_NULL(u64map_find(&m, 5));
  ASSERT_NULL(u64map_insert(&m, 0, &added)); /* 0 is never a key */
  ASSERT_EQ(added, 0);
  for (i = 0; i < N; i++) {
    uint64_t r = next_rand(&seed);
    uint64_t k = r % KEYS + 1;
    uint64_t key = KEY(k);
    if (r & 0x100) {
      e = u64map_insert(&m, key, &added);
      ASSERT_NOT_NULL(e);
      ASSERT_EQ(e->key, key);
      ASSERT_EQ(added, model[k - 1] == 0);
      if (added) {
        ASSERT_EQ(e->value, 0); /* a new entry comes zeroed */
        len++;
      }
      e->value = r;
      model[k - 1] = r + 1;
    } else {
      e = u64map_find(&m, key);
      ASSERT_EQ(e != NULL, model[k - 1] != 0);
      if (e != NULL) {
        ASSERT_EQ(e->value + 1, model[k - 1]);
        u64map_remove(&m, e);
        model[k - 1] = 0;
        len--;
      }
    }
    ASSERT_EQ(m.len, len);
  }
  /* Every key the model holds is found after all the moves, no other. */
  for (i = 0; i < KEYS; i++) {
    e = u64map_find(&m, KEY(i + 1));
    ASSERT_EQ(e != NULL, model[i] != 0);
    if (e != NULL)
      ASSERT_EQ(e->value + 1, model[i]);
  }
  while ((e = u64map_next(&m, &pos)) != NULL) {
    ASSERT_NE(model[(e->key & 0xffffffff) - 1], 0);
    seen++;
  }
  ASSERT_EQ(seen, len);
  ASSERT_LE(m.len * 2, m.cap); /* at most half full */
  ASSERT_EQ(u64map_bytes(&m), m.cap * sizeof(struct entry));
  u64map_free(&m);
  ASSERT_EQ(m.len, 0);
  ASSERT_NULL(u64map_find(&m, 1));
  return 0;
}

/* A table filled to its bound, every other key removed: the rest are
 * still found wherever their runs were broken (backward-shift deletion;
 * the random test above breaks many more runs). */
TEST_IMPL(containers_u64map_runs) {
  struct u64map m;
  struct entry* e;
  uint64_t k;
  u64map_init(&m, sizeof(struct entry));
  for (k = 1; k <= 7; k++)
    ASSERT_NOT_NULL(u64map_insert(&m, k << 60, NULL));
  ASSERT_EQ(m.cap, 16);
  for (k = 1; k <= 7; k += 2)
    u64map_remove(&m, u64map_find(&m, k << 60));
  for (k = 1; k <= 7; k++) {
    e = u64map_find(&m, k << 60);
    ASSERT_EQ(e != NULL, k % 2 == 0);
  }
  ASSERT_EQ(m.len, 3);
  u64map_free(&m);
  return 0;
}

struct item {
  uint64_t key;
  int32_t pos;
};

TEST_IMPL(containers_heap) {
  enum { N = 300 };
  static struct item items[N];
  struct heap h;
  uint64_t seed = 2463534242ull;
  uint64_t key;
  uint64_t last = 0;
  int i;
  heap_init(&h, offsetof(struct item, pos));
  ASSERT_NULL(heap_top(&h, &key));
  ASSERT_EQ(heap_key_at(&h, 0), UINT64_MAX);
  for (i = 0; i < N; i++) {
    items[i].key = next_rand(&seed) % 1000;
    ASSERT_EQ(heap_push(&h, &items[i], items[i].key), 0);
  }
  /* Every item knows where it sits. */
  for (i = 0; i < N; i++)
    ASSERT_EQ(h.nodes[items[i].pos].item, &items[i]);
  /* Keys moved in place, both ways. */
  for (i = 0; i < N; i += 3) {
    items[i].key = (i % 2) ? items[i].key / 2 : items[i].key + 500;
    heap_update(&h, (size_t) items[i].pos, items[i].key);
  }
  for (i = 0; i < N; i++) {
    struct item* it = heap_top(&h, &key);
    ASSERT_NOT_NULL(it);
    ASSERT_EQ(key, it->key);
    ASSERT_GE(key, last);
    if (h.len > 1)
      ASSERT_LE(key, heap_key_at(&h, 1));
    last = key;
    heap_pop(&h);
    ASSERT_EQ(it->pos, -1);
  }
  ASSERT_EQ(h.len, 0);
  heap_free(&h);
  return 0;
}

TEST_IMPL(containers_array_reserve) {
  uint32_t* a = NULL;
  size_t cap = 0;
  size_t i;
  ASSERT_EQ(array_reserve(&a, &cap, 0, sizeof(*a)), 0);
  ASSERT_EQ(array_reserve(&a, &cap, 1, sizeof(*a)), 0);
  ASSERT_EQ(cap, 8);
  for (i = 0; i < 8; i++)
    a[i] = (uint32_t) i;
  ASSERT_EQ(array_reserve(&a, &cap, 100, sizeof(*a)), 0);
  ASSERT_EQ(cap, 128);
  for (i = 0; i < 8; i++)
    ASSERT_EQ(a[i], i); /* kept */
  ASSERT_EQ(array_reserve(&a, &cap, 50, sizeof(*a)), 0);
  ASSERT_EQ(cap, 128); /* never shrinks */
  ASSERT_EQ(array_reserve(&a, &cap, SIZE_MAX / 2, sizeof(*a)), -ENOMEM);
  ASSERT_EQ(cap, 128);
  free(a);
  return 0;
}
