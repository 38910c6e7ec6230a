/* test-containers.c — tracer/containers.h: the hash tables keyed by u64
 * and by strings, the heap and array_reserve(), against a plain model of
 * each. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

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

struct str_entry {
  struct strmap_key key;
  size_t value;
};

/* Key i of the many-keys test: the decimal number, then as many 'x' as
 * its last digit (lengths and prefixes shared by many). */
static size_t many_key(char* buf, size_t i) {
  int n = snprintf(buf, 32, "%zu", i);
  size_t len = (size_t) n + i % 10;
  memset(buf + n, 'x', i % 10);
  return len;
}

/* Many keys, through several growths: each found with its value, as the
 * one entry of its bytes; a key's copy never moves. */
TEST_IMPL(containers_strmap_many) {
  enum { KEYS = 20000 };
  static const char* copy[KEYS];
  struct strmap m;
  struct str_entry* e;
  char buf[32];
  size_t pos = 0;
  size_t seen = 0;
  size_t i;
  int added;

  strmap_init(&m, sizeof(struct str_entry));
  ASSERT_NULL(strmap_find(&m, "a", 1));
  for (i = 0; i < KEYS; i++) {
    size_t len = many_key(buf, i);
    e = strmap_insert(&m, buf, len, &added);
    ASSERT_NOT_NULL(e);
    ASSERT_EQ(added, 1);
    ASSERT_EQ(e->value, 0); /* a new entry comes zeroed */
    ASSERT_EQ(e->key.len, len);
    ASSERT_MEM_EQ(e->key.s, buf, len);
    ASSERT_EQ(e->key.s[len], '\0');
    e->value = i + 1;
    copy[i] = e->key.s;
    ASSERT_EQ(m.len, i + 1);
  }
  ASSERT_GE(m.cap, 2 * KEYS); /* grew, and stays at most half full */
  for (i = 0; i < KEYS; i++) {
    size_t len = many_key(buf, i);
    e = strmap_find(&m, buf, len);
    ASSERT_NOT_NULL(e);
    ASSERT_EQ(e->value, i + 1);
    ASSERT_EQ(e->key.s, copy[i]);
    ASSERT_EQ(strmap_insert(&m, buf, len, &added), e);
    ASSERT_EQ(added, 0);
    /* One byte more is another key (no key ends in an 'x' too many). */
    buf[len] = 'x';
    ASSERT_NULL(strmap_find(&m, buf, len + 1));
  }
  ASSERT_EQ(m.len, KEYS);
  while ((e = strmap_next(&m, &pos)) != NULL)
    seen++;
  ASSERT_EQ(seen, KEYS);
  strmap_free(&m);
  ASSERT_EQ(m.len, 0);
  ASSERT_NULL(strmap_find(&m, "1", 1));
  return 0;
}

/* Keys that start at the same slot, the empty key, keys with NULs in
 * them and a long key: all told apart. */
TEST_IMPL(containers_strmap_collisions) {
  static char long_a[100000];
  static char long_b[sizeof(long_a)];
  char same[4][8];
  size_t nsame = 0;
  struct strmap m;
  struct str_entry* e;
  size_t i;

  /* Four keys whose hashes agree in the bits a 16-slot table takes. */
  for (i = 0; nsame < 4 && i < 100000; i++) {
    char k[8];
    int n = snprintf(k, sizeof(k), "k%zu", i);
    if ((strmap_hash(k, (size_t) n) & 15) == (strmap_hash("k0", 2) & 15))
      memcpy(same[nsame++], k, sizeof(k));
  }
  ASSERT_EQ(nsame, 4);
  strmap_init(&m, sizeof(struct str_entry));
  for (i = 0; i < 4; i++) {
    e = strmap_insert(&m, same[i], strlen(same[i]), NULL);
    ASSERT_NOT_NULL(e);
    e->value = 100 + i;
  }
  ASSERT_EQ(m.cap, 16); /* they did collide */
  for (i = 0; i < 4; i++) {
    e = strmap_find(&m, same[i], strlen(same[i]));
    ASSERT_NOT_NULL(e);
    ASSERT_EQ(e->value, 100 + i);
  }

  ASSERT_NULL(strmap_find(&m, "", 0));
  ASSERT_NOT_NULL(e = strmap_insert(&m, "", 0, NULL));
  e->value = 1;
  ASSERT_NOT_NULL(e = strmap_insert(&m, "a\0b", 3, NULL));
  e->value = 2;
  ASSERT_NOT_NULL(e = strmap_insert(&m, "a\0c", 3, NULL));
  e->value = 3;
  ASSERT_NOT_NULL(e = strmap_insert(&m, "a", 1, NULL));
  e->value = 4;
  ASSERT_EQ(((struct str_entry*) strmap_find(&m, "", 0))->value, 1);
  ASSERT_EQ(((struct str_entry*) strmap_find(&m, "a\0b", 3))->value, 2);
  ASSERT_EQ(((struct str_entry*) strmap_find(&m, "a\0c", 3))->value, 3);
  ASSERT_EQ(((struct str_entry*) strmap_find(&m, "a", 1))->value, 4);
  ASSERT_NULL(strmap_find(&m, "a\0", 2));

  /* Two long keys that differ in their last byte only. */
  memset(long_a, 'L', sizeof(long_a));
  memcpy(long_b, long_a, sizeof(long_b));
  long_b[sizeof(long_b) - 1] = 'M';
  ASSERT_NOT_NULL(e = strmap_insert(&m, long_a, sizeof(long_a), NULL));
  e->value = 5;
  ASSERT_NULL(strmap_find(&m, long_b, sizeof(long_b)));
  ASSERT_NOT_NULL(e = strmap_insert(&m, long_b, sizeof(long_b), NULL));
  e->value = 6;
  ASSERT_EQ(m.len, 10);
  ASSERT_EQ(
      ((struct str_entry*) strmap_find(&m, long_a, sizeof(long_a)))->value, 5);
  ASSERT_EQ(
      ((struct str_entry*) strmap_find(&m, long_b, sizeof(long_b)))->value, 6);
  ASSERT_GE(strmap_bytes(&m),
            m.cap * sizeof(struct str_entry) + 2 * sizeof(long_a));
  strmap_free(&m);
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
