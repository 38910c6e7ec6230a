/* containers.c — see containers.h. */
#include "containers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int array_grow(void* buf, size_t* cap, size_t need, size_t size) {
  void** p = buf;
  size_t n = *cap ? *cap : 8;
  void* q;
  while (n < need) {
    if (n > SIZE_MAX / 2 / size)
      return -ENOMEM;
    n *= 2;
  }
  q = realloc(*p, n * size);
  if (q == NULL)
    return -ENOMEM;
  *p = q;
  *cap = n;
  return 0;
}

/* ------------------------------------------------------------------------
 * What both hash tables do alike
 *
 * Each keeps `cap` slots of `size` bytes (a power of 2, at most half
 * full) and looks a key up from slot hash & (cap - 1) on, linearly.
 */

/* Whether the entry at `e` is in use; if so, its key's hash in *hash. */
typedef int (*entry_hash_fn)(const void* e, uint64_t* hash);

/* make_room() when the table has to grow: moves every entry of the *cap
 * slots of `size` bytes at *slots into twice the slots (16 at first),
 * each to the first free slot from its hash on. Returns 0, or -ENOMEM
 * with nothing changed. Inlined so that each table's entry_hash() is a
 * direct call, inlined too: growing a table of 1M entries through a
 * pointer took 40% more instructions. */
static inline __attribute__((always_inline)) int grow(
    void** slots, size_t* cap, size_t size, entry_hash_fn entry_hash) {
  size_t n = *cap ? *cap * 2 : 16;
  const char* from = *slots;
  char* to = calloc(n, size);
  uint64_t hash;
  uint64_t unused;
  size_t i;
  if (to == NULL)
    return -ENOMEM;
  for (i = 0; i < *cap; i++) {
    size_t j;
    if (!entry_hash(from + i * size, &hash))
      continue;
    for (j = hash & (n - 1); entry_hash(to + j * size, &unused);)
      j = (j + 1) & (n - 1);
    memcpy(to + j * size, from + i * size, size);
  }
  free(*slots);
  *slots = to;
  *cap = n;
  return 0;
}

/* Makes room for one more entry in a table of `len` entries in *cap
 * slots of `size` bytes at *slots, which stays at most half full; see
 * grow(). Returns 0 or -ENOMEM (nothing changed). */
static inline int make_room(void** slots, size_t* cap, size_t size, size_t len,
                            entry_hash_fn entry_hash) {
  return (len + 1) * 2 <= *cap ? 0 : grow(slots, cap, size, entry_hash);
}

/* ------------------------------------------------------------------------
 * Hash table keyed by u64
 */

static uint64_t hash_u64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  return k;
}

static char* slot(const struct u64map* m, size_t i) {
  return (char*) m->slots + i * m->size;
}

static uint64_t slot_key(const struct u64map* m, size_t i) {
  uint64_t k;
  memcpy(&k, slot(m, i), sizeof(k));
  return k;
}

/* The slot of `key`, or the free one where it would go. */
static size_t probe(const struct u64map* m, uint64_t key) {
  size_t mask = m->cap - 1;
  size_t i = hash_u64(key) & mask;
  uint64_t k;
  while ((k = slot_key(m, i)) != 0 && k != key)
    i = (i + 1) & mask;
  return i;
}

/* Whether the entry at `e` is in use; if so, its key's hash in *hash. */
static int u64_entry_hash(const void* e, uint64_t* hash) {
  uint64_t k;
  memcpy(&k, e, sizeof(k));
  *hash = hash_u64(k);
  return k != 0;
}

void u64map_init(struct u64map* m, size_t size) {
  m->slots = NULL;
  m->size = size;
  m->cap = 0;
  m->len = 0;
}

void* u64map_find(const struct u64map* m, uint64_t key) {
  size_t i;
  if (key == 0 || m->cap == 0)
    return NULL;
  i = probe(m, key);
  return slot_key(m, i) == key ? slot(m, i) : NULL;
}

void* u64map_insert(struct u64map* m, uint64_t key, int* added) {
  size_t i;
  char* s;
  if (added != NULL)
    *added = 0;
  if (key == 0)
    return NULL;
  if (make_room(&m->slots, &m->cap, m->size, m->len, u64_entry_hash) != 0)
    return NULL;
  i = probe(m, key);
  s = slot(m, i);
  if (slot_key(m, i) == key)
    return s;
  memset(s, 0, m->size);
  memcpy(s, &key, sizeof(key));
  m->len++;
  if (added != NULL)
    *added = 1;
  return s;
}

void u64map_remove(struct u64map* m, void* entry) {
  size_t mask = m->cap - 1;
  size_t i = (size_t) ((char*) entry - (char*) m->slots) / m->size;
  size_t j = i;
  static const uint64_t zero;
  /* Backward-shift deletion keeps every probe sequence unbroken. */
  for (;;) {
    size_t home;
    uint64_t k;
    j = (j + 1) & mask;
    k = slot_key(m, j);
    if (k == 0)
      break;
    home = hash_u64(k) & mask;
    if (((j - home) & mask) >= ((j - i) & mask)) {
      memcpy(slot(m, i), slot(m, j), m->size);
      i = j;
    }
  }
  memcpy(slot(m, i), &zero, sizeof(zero));
  m->len--;
}

void* u64map_next(const struct u64map* m, size_t* pos) {
  while (*pos < m->cap) {
    size_t i = (*pos)++;
    if (slot_key(m, i) != 0)
      return slot(m, i);
  }
  return NULL;
}

size_t u64map_bytes(const struct u64map* m) {
  return m->cap * m->size;
}

void u64map_free(struct u64map* m) {
  free(m->slots);
  u64map_init(m, m->size);
}

/* ------------------------------------------------------------------------
 * Hash table keyed by strings
 */

uint64_t strmap_hash(const void* key, size_t len) {
  const unsigned char* p = key;
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, then mixed like a u64 */
  size_t i;
  for (i = 0; i < len; i++) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return hash_u64(h);
}

static struct strmap_key* str_slot(const struct strmap* m, size_t i) {
  return (struct strmap_key*) ((char*) m->slots + i * m->size);
}

/* The slot of the key, or the free one where it would go. */
static size_t str_probe(const struct strmap* m, const void* key, size_t len,
                        uint64_t hash) {
  size_t mask = m->cap - 1;
  size_t i = hash & mask;
  const struct strmap_key* k;
  while ((k = str_slot(m, i))->s != NULL &&
         (k->hash != hash || k->len != len || memcmp(k->s, key, len) != 0))
    i = (i + 1) & mask;
  return i;
}

static int str_entry_hash(const void* e, uint64_t* hash) {
  const struct strmap_key* k = e;
  *hash = k->hash;
  return k->s != NULL;
}

void strmap_init(struct strmap* m, size_t size) {
  m->slots = NULL;
  m->size = size;
  m->cap = 0;
  m->len = 0;
}

void* strmap_find(const struct strmap* m, const void* key, size_t len) {
  struct strmap_key* k;
  if (m->cap == 0)
    return NULL;
  k = str_slot(m, str_probe(m, key, len, strmap_hash(key, len)));
  return k->s != NULL ? k : NULL;
}

void* strmap_insert(struct strmap* m, const void* key, size_t len, int* added) {
  uint64_t hash = strmap_hash(key, len);
  struct strmap_key* k;
  char* copy;
  if (added != NULL)
    *added = 0;
  if (make_room(&m->slots, &m->cap, m->size, m->len, str_entry_hash) != 0)
    return NULL;
  k = str_slot(m, str_probe(m, key, len, hash));
  if (k->s != NULL)
    return k;
  if (len == SIZE_MAX || (copy = malloc(len + 1)) == NULL)
    return NULL;
  memcpy(copy, key, len);
  copy[len] = '\0';
  memset(k, 0, m->size);
  k->s = copy;
  k->len = len;
  k->hash = hash;
  m->len++;
  if (added != NULL)
    *added = 1;
  return k;
}

void* strmap_next(const struct strmap* m, size_t* pos) {
  while (*pos < m->cap) {
    struct strmap_key* k = str_slot(m, (*pos)++);
    if (k->s != NULL)
      return k;
  }
  return NULL;
}

size_t strmap_bytes(const struct strmap* m) {
  size_t n = m->cap * m->size;
  size_t pos = 0;
  const struct strmap_key* k;
  while ((k = strmap_next(m, &pos)) != NULL)
    n += k->len + 1;
  return n;
}

void strmap_free(struct strmap* m) {
  size_t pos = 0;
  struct strmap_key* k;
  while ((k = strmap_next(m, &pos)) != NULL)
    free(k->s);
  free(m->slots);
  strmap_init(m, m->size);
}

/* ------------------------------------------------------------------------
 * Binary min-heap
 */

static void place(struct heap* h, size_t i, struct heap_node n) {
  int32_t pos = (int32_t) i;
  h->nodes[i] = n;
  memcpy((char*) n.item + h->pos_offset, &pos, sizeof(pos));
}

static void sift_up(struct heap* h, size_t i) {
  struct heap_node n = h->nodes[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (h->nodes[parent].key <= n.key)
      break;
    place(h, i, h->nodes[parent]);
    i = parent;
  }
  place(h, i, n);
}

static void sift_down(struct heap* h, size_t i) {
  struct heap_node n = h->nodes[i];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->len)
      break;
    if (c + 1 < h->len && h->nodes[c + 1].key < h->nodes[c].key)
      c++;
    if (n.key <= h->nodes[c].key)
      break;
    place(h, i, h->nodes[c]);
    i = c;
  }
  place(h, i, n);
}

void heap_init(struct heap* h, size_t pos_offset) {
  h->nodes = NULL;
  h->len = 0;
  h->cap = 0;
  h->pos_offset = pos_offset;
}

int heap_push(struct heap* h, void* item, uint64_t key) {
  if (array_reserve(&h->nodes, &h->cap, h->len + 1, sizeof(*h->nodes)) != 0)
    return -ENOMEM;
  h->nodes[h->len].key = key;
  h->nodes[h->len].item = item;
  sift_up(h, h->len++);
  return 0;
}

void heap_move(struct heap* h, size_t pos, uint64_t key) {
  uint64_t old = h->nodes[pos].key;
  h->nodes[pos].key = key;
  if (key < old)
    sift_up(h, pos);
  else
    sift_down(h, pos);
}

void heap_pop(struct heap* h) {
  static const int32_t out = -1;
  memcpy((char*) h->nodes[0].item + h->pos_offset, &out, sizeof(out));
  if (--h->len > 0) {
    h->nodes[0] = h->nodes[h->len];
    sift_down(h, 0);
  }
}

size_t heap_bytes(const struct heap* h) {
  return h->cap * sizeof(*h->nodes);
}

void heap_free(struct heap* h) {
  free(h->nodes);
  heap_init(h, h->pos_offset);
}
