/* containers.h — the few containers the tracer needs, written once.
 *
 * - array_reserve(): room in a malloc'd array, doubling;
 * - struct u64map: an open-addressing hash table of fixed-size entries
 *   whose first member is a nonzero uint64_t key (linear probing,
 *   backward-shift deletion, at most half full);
 * - struct strmap: the same for keys that are strings of bytes, which
 *   the table copies (no removal: nothing needs one yet);
 * - struct heap: a binary min-heap of (key, item) pairs that tells each
 *   item where it sits, so that an item's key can change in place.
 *
 * None of them allocates until first used; all of them return -ENOMEM
 * (or NULL) when memory runs out and are left as they were then.
 */
#ifndef LOOPTRACE_CONTAINERS_H
#define LOOPTRACE_CONTAINERS_H

#include <stddef.h>
#include <stdint.h>

/* array_reserve() when the array has to grow. */
int array_grow(void* buf, size_t* cap, size_t need, size_t size);

/* Makes *buf (an array of *cap elements of `size` bytes, NULL when *cap
 * is 0) hold at least `need`: grows it by doubling from 8. Returns 0 (the
 * elements kept, *buf may have moved) or -ENOMEM (nothing changed). */
static inline int array_reserve(void* buf, size_t* cap, size_t need,
                                size_t size) {
  return need <= *cap ? 0 : array_grow(buf, cap, need, size);
}

/* ------------------------------------------------------------------------
 * Hash table keyed by u64
 */

struct u64map {
  void* slots; /* cap entries of `size` bytes; a key of 0 is free */
  size_t size; /* bytes of an entry, its uint64_t key first */
  size_t cap;  /* a power of 2, or 0 */
  size_t len;  /* entries in use */
};

/* Sets up an empty table of entries of `size` bytes (at least 8; their
 * first member is the uint64_t key). Allocates nothing. */
void u64map_init(struct u64map* m, size_t size);

/* The entry of `key`, or NULL (always for key 0). The pointer is valid
 * until the next u64map_insert() or u64map_remove(). */
void* u64map_find(const struct u64map* m, uint64_t key);

/* The entry of `key`, added (zeroed, with its key set) if missing; sets
 * *added (when not NULL) to whether it was. NULL for key 0 or out of
 * memory. Moves every entry when the table grows. */
void* u64map_insert(struct u64map* m, uint64_t key, int* added);

/* Removes `entry` (one u64map_find/insert returned): may move the
 * entries after it. */
void u64map_remove(struct u64map* m, void* entry);

/* The next entry in use at or after slot *pos, advancing *pos past it;
 * NULL at the end. Start with *pos = 0; do not add or remove meanwhile. */
void* u64map_next(const struct u64map* m, size_t* pos);

/* Bytes the table holds. */
size_t u64map_bytes(const struct u64map* m);

/* Frees the slots; the table is empty and usable again. */
void u64map_free(struct u64map* m);

/* ------------------------------------------------------------------------
 * Hash table keyed by strings
 */

/* The first member of a strmap entry. */
struct strmap_key {
  char* s;       /* the table's copy, NUL-terminated; NULL: a free slot */
  size_t len;    /* bytes of the key, the NUL after them not counted */
  uint64_t hash; /* strmap_hash() of the key */
};

struct strmap {
  void* slots; /* cap entries of `size` bytes, a struct strmap_key first */
  size_t size; /* bytes of an entry */
  size_t cap;  /* a power of 2, or 0 */
  size_t len;  /* entries in use */
};

/* The hash of the `len` bytes at `key` (the table takes its low bits). */
uint64_t strmap_hash(const void* key, size_t len);

/* Sets up an empty table of entries of `size` bytes (at least a struct
 * strmap_key, their first member). Allocates nothing. */
void strmap_init(struct strmap* m, size_t size);

/* The entry of the `len` bytes at `key` (any bytes, NULs too), or NULL.
 * The pointer is valid until the next strmap_insert(); the key's copy
 * (entry->s) until strmap_free(). */
void* strmap_find(const struct strmap* m, const void* key, size_t len);

/* The entry of the `len` bytes at `key`, added if missing (zeroed, with
 * a copy of the key set); sets *added (when not NULL) to whether it was.
 * NULL out of memory (nothing changed). Moves every entry when the table
 * grows, but never a key's copy. */
void* strmap_insert(struct strmap* m, const void* key, size_t len, int* added);

/* The next entry in use at or after slot *pos, advancing *pos past it;
 * NULL at the end. Start with *pos = 0; do not add meanwhile. */
void* strmap_next(const struct strmap* m, size_t* pos);

/* Bytes the table holds, the copies of the keys included. */
size_t strmap_bytes(const struct strmap* m);

/* Frees the slots and the copies of the keys; the table is empty and
 * usable again. */
void strmap_free(struct strmap* m);

/* ------------------------------------------------------------------------
 * Binary min-heap
 */

struct heap_node {
  uint64_t key;
  void* item;
};

struct heap {
  struct heap_node* nodes;
  size_t len;
  size_t cap;
  size_t pos_offset; /* where in an item its int32_t position is kept */
};

/* Sets up an empty heap whose items keep their position (an int32_t, -1
 * while out of the heap) `pos_offset` bytes into themselves. */
void heap_init(struct heap* h, size_t pos_offset);

/* Adds `item` with `key`. Returns 0 or -ENOMEM. */
int heap_push(struct heap* h, void* item, uint64_t key);

/* The item of the least key, or NULL when empty (and its key in *key). */
static inline void* heap_top(const struct heap* h, uint64_t* key) {
  if (h->len == 0)
    return NULL;
  if (key != NULL)
    *key = h->nodes[0].key;
  return h->nodes[0].item;
}

/* The key of the node at `i`: UINT64_MAX past the end. */
static inline uint64_t heap_key_at(const struct heap* h, size_t i) {
  return i < h->len ? h->nodes[i].key : UINT64_MAX;
}

/* heap_update() when the item has to move. */
void heap_move(struct heap* h, size_t pos, uint64_t key);

/* Sets the key of the item at position `pos` and restores the order. A
 * key that grows past no child moves nothing (inline: a merge takes a
 * thread's records in runs). */
static inline void heap_update(struct heap* h, size_t pos, uint64_t key) {
  if (key >= h->nodes[pos].key && heap_key_at(h, 2 * pos + 1) >= key &&
      heap_key_at(h, 2 * pos + 2) >= key)
    h->nodes[pos].key = key;
  else
    heap_move(h, pos, key);
}

/* Removes the item of the least key. */
void heap_pop(struct heap* h);

/* Bytes the heap holds. */
size_t heap_bytes(const struct heap* h);

void heap_free(struct heap* h);

#endif /* LOOPTRACE_CONTAINERS_H */
