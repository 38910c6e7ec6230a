/* trace.c — how events leave the process: per-thread record buffers, the
 * batch probe, labels and tracing sessions.
 *
 * Each thread that records events owns a ring of fixed-size records
 * (struct lrt_record). The owner appends without locks; whoever flushes
 * (the owner when its ring is half full, the flusher thread every
 * FLUSH_INTERVAL_MS, anybody at exit) takes the ring's flush lock and
 * hands the unflushed records to the tracer through looprt:flush, in
 * batches of up to LRT_BATCH_MAX_RECORDS. One uprobe hit thus carries
 * thousands of events: a flush from the high-water mark is one batch
 * unless it wraps around the ring's end.
 *
 * A session runs from the moment an event site first sees the semaphore
 * set until the flusher sees it clear. At its start the whole label table
 * is announced, and every thread introduces itself (LRT_REC_THREAD) before
 * its first record of the session, so a tracer that attaches late still
 * learns every name.
 */
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define RING_RECORDS LRT__RING_RECORDS
#define RING_MASK (RING_RECORDS - 1)
_Static_assert(RING_RECORDS <= LRT_RING_MAX_RECORDS, "a tracer reads it all");
#define RING_HIGH_WATER LRT__RING_HIGH_WATER
#define FLUSH_INTERVAL_NS (20 * 1000000ull)
/* How often a running session is announced again (see flusher_pass). */
#define ANNOUNCE_INTERVAL_NS (500 * 1000000ull)
#define LABEL_CACHE_SIZE LRT__LABEL_CACHE_SIZE
#define LABEL_ID_MAX 65534
#define LABEL_OVERFLOW 65535 /* the id every label past the limit gets */
#define LABEL_OVERFLOW_TEXT "(more labels than looprt can name)"

#ifndef LOOPRT_NO_PROBES
/* The semaphores of looprt's probes (probes.h). The kernel counts
 * attached probe sites in them. */
union lrt__semaphores lrt__semaphores
    __attribute__((section(".probes"), used, aligned(4)));
/* Their names in the probes' notes. */
__asm__(
    ".globl lrt__semaphore_events\n"
    ".hidden lrt__semaphore_events\n"
    ".set lrt__semaphore_events, lrt__semaphores\n"
    ".globl lrt__semaphore_flush\n"
    ".hidden lrt__semaphore_flush\n"
    ".set lrt__semaphore_flush, lrt__semaphores + 2\n");
#endif

_Atomic uint32_t lrt__session;

/* One thread's records. Small TLS: the thread-local part is a pointer to
 * this (initial-exec TLS must stay small in a shared library). It begins
 * as struct lrt_ring_view, for a tracer that reads it when the process
 * dies, and as struct lrt__ring_head, for lrt__emit(). */
struct ring {
  _Atomic uint64_t head;   /* next record to write; the owner's */
  _Atomic uint64_t tail;   /* next record to flush; under flush_lock */
  uint64_t lost;           /* records the owner could not buffer */
  struct lrt_record* recs; /* rec, for the view */
  uint32_t size;           /* RING_RECORDS, for the view */
  uint32_t tid;
  uint32_t session; /* last session the owner introduced itself in */
  struct lrt__label_cache_entry* label_cache_of; /* label_cache */
  pthread_mutex_t flush_lock;
  _Atomic int orphaned; /* the owner thread has exited */
  struct ring* next;    /* in the registry */
  struct lrt__label_cache_entry label_cache[LABEL_CACHE_SIZE];
  struct lrt_record rec[RING_RECORDS] __attribute__((aligned(64)));
};

#define VIEW_FIELD(ring_f, view_f)                                    \
  _Static_assert(offsetof(struct ring, ring_f) ==                     \
                         offsetof(struct lrt_ring_view, view_f) &&    \
                     sizeof(((struct ring*) 0)->ring_f) ==            \
                         sizeof(((struct lrt_ring_view*) 0)->view_f), \
                 "struct ring begins as struct lrt_ring_view")
VIEW_FIELD(head, head);
VIEW_FIELD(tail, tail);
VIEW_FIELD(lost, lost);
VIEW_FIELD(recs, records);
VIEW_FIELD(size, size);
VIEW_FIELD(tid, tid);

#define HEAD_FIELD(f)                                                   \
  _Static_assert(                                                       \
      offsetof(struct ring, f) == offsetof(struct lrt__ring_head, f) && \
          sizeof(((struct ring*) 0)->f) ==                              \
              sizeof(((struct lrt__ring_head*) 0)->f),                  \
      "struct ring begins as struct lrt__ring_head")
HEAD_FIELD(head);
HEAD_FIELD(tail);
HEAD_FIELD(lost);
HEAD_FIELD(recs);
HEAD_FIELD(tid);
HEAD_FIELD(session);
_Static_assert(offsetof(struct ring, label_cache_of) ==
                   offsetof(struct lrt__ring_head, label_cache),
               "struct ring begins as struct lrt__ring_head");

/* Rings of all threads, for the flusher. Lock order: registry_lock, then
 * a ring's flush_lock. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ring* registry;
static pthread_key_t ring_key;
static pthread_once_t ring_key_once = PTHREAD_ONCE_INIT;

/* The calling thread's ring (internal.h), NULL until it records. */
__thread struct lrt__ring_head* lrt__tls_ring
    __attribute__((tls_model("initial-exec")));
#define tls_ring ((struct ring*) lrt__tls_ring)
static __thread uint8_t tls_role __attribute__((tls_model("initial-exec")));
static __thread uint64_t tls_role_index
    __attribute__((tls_model("initial-exec")));

/* Sessions. */
static pthread_mutex_t session_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t session_counter;

/* Who does the flusher's pass (flusher_pass) while a session runs: a
 * thread of ours, or, while the program has a single thread, its loop:
 * before a poll once FLUSH_INTERVAL_NS has passed, and from a timer when
 * it would sleep with records still buffered (lrt__loop_flush). A second
 * thread would make every syscall of a single-threaded program dearer for
 * the rest of its life (the kernel's and glibc's multi-threaded paths):
 * make bench measured about 40 ns per event on the echo server. XXX: a
 * single-threaded program's records wait while one of its callbacks runs
 * long. Set under session_lock. */
enum flusher_kind { FLUSHER_NONE, FLUSHER_THREAD, FLUSHER_LOOP };
static _Atomic int flusher = FLUSHER_NONE;

/* What a flusher remembers from pass to pass. */
struct flusher_state {
  unsigned short seen; /* the semaphore at the last pass */
  uint64_t started;    /* when it began serving the session */
  uint64_t announced;  /* when it last announced the session; 0: never */
  uint64_t passed;     /* when it last passed */
};

static struct flusher_state loop_flusher; /* FLUSHER_LOOP's */

static void start_flusher(void);

/* The label table: ids are indexes into texts (0 is "no label"). */
static struct {
  pthread_mutex_t lock;
  char** texts;   /* texts[id], interned copies, never freed */
  uint32_t count; /* ids in use, including 0 */
  uint32_t cap;
  uint32_t* slots;  /* open addressing by content: id, or 0 if free */
  uint32_t nslots;  /* a power of two */
  uint32_t session; /* the session the table was announced in, 0: none */
  int overflowed;   /* LABEL_OVERFLOW has been handed out */
} labels = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The only site of looprt:flush. noinline keeps it one site, so attaching
 * it costs one uprobe. `r`: the ring the records are in, or NULL. */
__attribute__((noinline)) static void fire_batch(const struct lrt_record* rec,
                                                 long count,
                                                 const struct ring* r) {
  LRT_PROBE_FLUSH(rec, count * (long) sizeof(*rec), r);
}

/* ------------------------------------------------------------------------
 * Rings.
 */

/* Hands the ring's unflushed records to the tracer. With `wait` 0 it
 * gives up when another thread is flushing this ring already. With
 * `at_end` (the owner at its high-water mark) it stops at the ring's end
 * when fewer than RING_HIGH_WATER records lie beyond it: they go with the
 * next flush, which then starts at the ring's start, so that each flush
 * from the mark is one batch, one uprobe hit, not two around the end
 * (the timers workload: 1,479 hits for its 2M records, 1,004 so). */
static void ring_flush_to(struct ring* r, int wait, int at_end) {
  uint64_t head;
  uint64_t tail;

  if (wait)
    pthread_mutex_lock(&r->flush_lock);
  else if (pthread_mutex_trylock(&r->flush_lock) != 0)
    return;

  head = atomic_load_explicit(&r->head, memory_order_acquire);
  tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
  while (tail != head) {
    uint64_t n = head - tail;
    uint64_t to_end = RING_RECORDS - (tail & RING_MASK);
    if (n > to_end) {
      if (at_end && n - to_end < RING_HIGH_WATER)
        head = tail + to_end;
      n = to_end;
    }
    if (n > LRT_BATCH_MAX_RECORDS)
      n = LRT_BATCH_MAX_RECORDS;
    fire_batch(&r->rec[tail & RING_MASK], (long) n, r);
    tail += n;
    /* Batch by batch: should the process die now, a reader of the ring
     * finds no batch that was handed over already. */
    atomic_store_explicit(&r->tail, tail, memory_order_release);
  }
  pthread_mutex_unlock(&r->flush_lock);
}

/* Hands over everything the ring holds (ring_flush_to()). */
static void ring_flush(struct ring* r, int wait) {
  ring_flush_to(r, wait, 0);
}

/* Drops what the ring holds (no tracer listens any more). */
static void ring_discard(struct ring* r) {
  pthread_mutex_lock(&r->flush_lock);
  atomic_store_explicit(&r->tail,
                        atomic_load_explicit(&r->head, memory_order_acquire),
                        memory_order_release);
  pthread_mutex_unlock(&r->flush_lock);
}

/* Thread exit: the ring's last records go out; the flusher frees it. */
static void ring_orphan(void* arg) {
  struct ring* r = arg;
  if (atomic_load_explicit(&lrt__session, memory_order_relaxed) != 0)
    ring_flush(r, 1);
  /* Nothing is left for the tracer's hand-over as the thread exits; and
   * the flusher may free the ring first: the view must not look like this
   * thread's any more (record.bpf.c checks its tid). */
  atomic_store_explicit((_Atomic uint32_t*) &r->tid, 0, memory_order_release);
  atomic_store_explicit(&r->orphaned, 1, memory_order_release);
}

static void ring_key_create(void) {
  pthread_key_create(&ring_key, ring_orphan);
}

static struct ring* ring_create(void) {
  struct ring* r;
  if (posix_memalign((void**) &r, 64, sizeof(*r)) != 0)
    return NULL;
  memset(r, 0, offsetof(struct ring, rec));
  pthread_mutex_init(&r->flush_lock, NULL);
  r->recs = r->rec;
  r->label_cache_of = r->label_cache;
  r->size = RING_RECORDS;
  r->tid = (uint32_t) syscall(SYS_gettid);
  pthread_once(&ring_key_once, ring_key_create);
  pthread_setspecific(ring_key, r);
  pthread_mutex_lock(&registry_lock);
  r->next = registry;
  registry = r;
  pthread_mutex_unlock(&registry_lock);
  lrt__tls_ring = (struct lrt__ring_head*) r;
  /* A second thread records: the program is multi-threaded now, and a
   * flusher thread costs it nothing more. */
  if (r->next != NULL &&
      atomic_load_explicit(&flusher, memory_order_relaxed) == FLUSHER_LOOP) {
    pthread_mutex_lock(&session_lock);
    if (atomic_load(&flusher) == FLUSHER_LOOP)
      start_flusher();
    pthread_mutex_unlock(&session_lock);
  }
  return r;
}

/* Appends one record; counts it as lost when the ring is full and cannot
 * be flushed right now (the traced program never waits for the tracer). */
static void ring_put(struct ring* r, uint8_t type, uint8_t kind, uint16_t label,
                     uint64_t ts, uint64_t id, uint64_t arg) {
  uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
  uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
  uint64_t need = r->lost != 0 ? 2 : 1;
  struct lrt_record* rec;

  if (head - tail + need > RING_RECORDS) {
    ring_flush(r, 0);
    tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (head - tail + need > RING_RECORDS) {
      r->lost++;
      return;
    }
  }
  if (r->lost != 0) {
    rec = &r->rec[head & RING_MASK];
    rec->ts = ts;
    rec->tid = r->tid;
    rec->type = LRT_REC_LOST;
    rec->kind = 0;
    rec->label = 0;
    rec->id = r->lost;
    rec->arg = 0;
    r->lost = 0;
    head++;
  }
  rec = &r->rec[head & RING_MASK];
  rec->ts = ts;
  rec->tid = r->tid;
  rec->type = type;
  rec->kind = kind;
  rec->label = label;
  rec->id = id;
  rec->arg = arg;
  atomic_store_explicit(&r->head, head + 1, memory_order_release);
  if (head + 1 - tail >= RING_HIGH_WATER)
    ring_flush_to(r, 0, 1);
}

/* ------------------------------------------------------------------------
 * Labels.
 */

static uint32_t label_hash(const char* s, size_t len) {
  uint32_t h = 2166136261u; /* FNV-1a */
  size_t i;
  for (i = 0; i < len; i++)
    h = (h ^ (unsigned char) s[i]) * 16777619u;
  return h;
}

static size_t label_len(const char* s) {
  return strnlen(s, LRT_LABEL_MAX_LEN);
}

/* Sends label `id`, `text`, to the tracer now, as LABEL records. */
static void label_announce(uint32_t id, const char* text, uint64_t ts,
                           uint32_t tid) {
  struct lrt_record
      rec[(LRT_LABEL_MAX_LEN + LRT_LABEL_CHUNK) / LRT_LABEL_CHUNK];
  size_t len = strnlen(text, LRT_LABEL_MAX_LEN);
  size_t n = 0;
  size_t off = 0;
  do {
    size_t chunk = len - off < LRT_LABEL_CHUNK ? len - off : LRT_LABEL_CHUNK;
    memset(&rec[n], 0, sizeof(rec[n]));
    rec[n].ts = ts;
    rec[n].tid = tid;
    rec[n].type = LRT_REC_LABEL;
    rec[n].kind = (uint8_t) n;
    rec[n].label = (uint16_t) id;
    memcpy(rec[n].text, text + off, chunk);
    off += chunk;
    n++;
  } while (off < len);
  rec[n - 1].kind |= LRT_LABEL_LAST;
  fire_batch(rec, (long) n, NULL);
}

/* Doubles the slot array. Called with labels.lock held. */
static int labels_grow_slots(void) {
  uint32_t nslots = labels.nslots ? labels.nslots * 2 : 256;
  uint32_t* slots = calloc(nslots, sizeof(*slots));
  uint32_t id;
  if (slots == NULL)
    return UV_ENOMEM;
  for (id = 1; id < labels.count; id++) {
    const char* t = labels.texts[id];
    uint32_t i = label_hash(t, strlen(t)) & (nslots - 1);
    while (slots[i] != 0)
      i = (i + 1) & (nslots - 1);
    slots[i] = id;
  }
  free(labels.slots);
  labels.slots = slots;
  labels.nslots = nslots;
  return 0;
}

/* The id for labels that do not fit, named once. Called with labels.lock
 * held. */
static uint16_t labels_overflow(void) {
  if (!labels.overflowed) {
    labels.overflowed = 1;
    if (labels.session != 0)
      label_announce(LABEL_OVERFLOW, LABEL_OVERFLOW_TEXT, lrt__now(),
                     (uint32_t) syscall(SYS_gettid));
  }
  return LABEL_OVERFLOW;
}

/* The id for `s`, adding it to the table (and announcing it when a session
 * is running). Called with labels.lock held. */
static uint16_t labels_intern(const char* s) {
  size_t len = label_len(s);
  uint32_t i;
  uint32_t id;
  char* copy;

  if (labels.count == 0)
    labels.count = 1; /* id 0 is "no label" */
  if ((labels.count + 1) * 2 > labels.nslots && labels_grow_slots() != 0)
    return labels_overflow();
  i = label_hash(s, len) & (labels.nslots - 1);
  while ((id = labels.slots[i]) != 0) {
    const char* t = labels.texts[id];
    if (strncmp(t, s, len) == 0 && t[len] == '\0')
      return (uint16_t) id;
    i = (i + 1) & (labels.nslots - 1);
  }
  if (labels.count > LABEL_ID_MAX)
    return labels_overflow();
  if (labels.count >= labels.cap) {
    uint32_t cap = labels.cap ? labels.cap * 2 : 64;
    char** texts = realloc(labels.texts, cap * sizeof(*texts));
    if (texts == NULL)
      return labels_overflow();
    labels.texts = texts;
    labels.cap = cap;
  }
  copy = strndup(s, len);
  if (copy == NULL)
    return labels_overflow();
  id = labels.count++;
  labels.texts[id] = copy;
  labels.slots[i] = id;
  if (labels.session != 0)
    label_announce(id, copy, lrt__now(), (uint32_t) syscall(SYS_gettid));
  return (uint16_t) id;
}

static struct ring* ring_of_thread(void);

static int label_is_fixed(const char* label);

/* Read-only segments of the program and of the object looprt is in:
 * memory that keeps its text as long as looprt is loaded. String
 * literals, most labels, are there. */
#define FIXED_RANGES 16
static struct {
  uintptr_t start;
  uintptr_t end;
} fixed_ranges[FIXED_RANGES];
static int fixed_count;
static pthread_once_t fixed_once = PTHREAD_ONCE_INIT;

/* dl_iterate_phdr()'s callback: `arg` points to the number of objects
 * seen so far. */
static int fixed_ranges_add(struct dl_phdr_info* info, size_t size, void* arg) {
  uintptr_t self = (uintptr_t) label_is_fixed;
  int ours = (*(int*) arg)++ == 0; /* the program comes first */
  int i;

  for (i = 0; i < info->dlpi_phnum && !ours; i++) {
    const ElfW(Phdr)* ph = &info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + ph->p_vaddr;
    ours = ph->p_type == PT_LOAD && self >= start && self < start + ph->p_memsz;
  }
  if (!ours)
    return 0;
  for (i = 0; i < info->dlpi_phnum && fixed_count < FIXED_RANGES; i++) {
    const ElfW(Phdr)* ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W) != 0)
      continue;
    fixed_ranges[fixed_count].start = info->dlpi_addr + ph->p_vaddr;
    fixed_ranges[fixed_count].end =
        fixed_ranges[fixed_count].start + ph->p_memsz;
    fixed_count++;
  }
  return 0;
}

static void fixed_ranges_init(void) {
  int seen = 0;
  dl_iterate_phdr(fixed_ranges_add, &seen);
}

/* Whether `label` lies in memory whose text cannot change (then the
 * cache need not compare it). Takes the loader's lock the first time:
 * call without labels.lock. */
static int label_is_fixed(const char* label) {
  int i;
  pthread_once(&fixed_once, fixed_ranges_init);
  for (i = 0; i < fixed_count; i++)
    if ((uintptr_t) label >= fixed_ranges[i].start &&
        (uintptr_t) label < fixed_ranges[i].end)
      return 1;
  return 0;
}

/* lrt__label_id() when the thread's cache does not have `label`. */
static __attribute__((noinline)) uint16_t label_id_slow(const char* label) {
  struct ring* r = ring_of_thread();
  struct lrt__label_cache_entry* e = NULL;
  uint8_t fixed = (uint8_t) label_is_fixed(label);
  uint16_t id;

  if (r != NULL)
    e = &r->label_cache[((uintptr_t) label >> 3) & (LABEL_CACHE_SIZE - 1)];
  pthread_mutex_lock(&labels.lock);
  id = labels_intern(label);
  if (e != NULL && id != LABEL_OVERFLOW) {
    e->ptr = label;
    e->text = labels.texts[id];
    e->id = id;
    e->fixed = fixed;
  }
  pthread_mutex_unlock(&labels.lock);
  return id;
}

uint16_t lrt__label_id_slow(const char* label) {
  struct ring* r = tls_ring;

  if (label == NULL)
    return 0;
  /* Most labels are string literals: the same pointer every time. The
   * text is compared too, in case the caller reused the memory, unless
   * that memory is read-only. */
  if (__builtin_expect(r != NULL, 1)) {
    const struct lrt__label_cache_entry* e =
        &r->label_cache[((uintptr_t) label >> 3) & (LABEL_CACHE_SIZE - 1)];
    if (e->ptr == label &&
        (e->fixed || strncmp(label, e->text, LRT_LABEL_MAX_LEN) == 0))
      return e->id;
  }
  return label_id_slow(label);
}

/* ------------------------------------------------------------------------
 * Sessions.
 */

static void* flusher_main(void* arg);

/* Announces what a new tracer must know: every label, and the pool's
 * occupancy (so that its counters are right from the start). Called with
 * session_lock held. */
static void session_announce(uint32_t session) {
  struct lrt_record pool;
  uint64_t queued;
  uint64_t running;
  uint64_t ts;
  uint32_t tid = (uint32_t) syscall(SYS_gettid);
  uint32_t id;

  /* The pool's counts first, the time right after: threadpool.c counts a
   * task after its record's timestamp, so every task counted here has its
   * records before `ts`, which tracers skip as counted already, and one
   * counted later has its timestamp after `ts` but for the few
   * instructions between the two (the time read before the counts let a
   * task begun while the labels were announced be counted twice). */
  lrt__pool_snapshot(&queued, &running);
  ts = lrt__now();

  pthread_mutex_lock(&labels.lock);
  for (id = 1; id < labels.count; id++)
    label_announce(id, labels.texts[id], ts, tid);
  if (labels.overflowed)
    label_announce(LABEL_OVERFLOW, LABEL_OVERFLOW_TEXT, ts, tid);
  labels.session = session;
  pthread_mutex_unlock(&labels.lock);

  memset(&pool, 0, sizeof(pool));
  pool.ts = ts;
  pool.tid = tid;
  pool.type = LRT_REC_POOL;
  pool.id = queued;
  pool.arg = running;
  fire_batch(&pool, 1, NULL);

  atomic_store_explicit(&lrt__session, session, memory_order_release);
}

static void start_flusher(void) {
  pthread_attr_t attr;
  pthread_t thread;
  sigset_t all;
  sigset_t old;

  if (atomic_load(&flusher) == FLUSHER_THREAD)
    return;
  /* The flusher must never take a signal meant for the program. */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  if (pthread_create(&thread, &attr, flusher_main, NULL) == 0) {
    atomic_store(&flusher, FLUSHER_THREAD);
    pthread_setname_np(thread, "looprt-flush");
  }
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Whether the process has one thread (/proc/self/status). */
static int single_threaded(void) {
  char line[128];
  int threads = 0;
  FILE* f = fopen("/proc/self/status", "re");
  if (f == NULL)
    return 0;
  while (fgets(line, sizeof(line), f) != NULL)
    if (sscanf(line, "Threads: %d", &threads) == 1)
      break;
  fclose(f);
  return threads == 1;
}

uint32_t lrt__session_start(void) {
  uint32_t s;
  pthread_mutex_lock(&session_lock);
  s = atomic_load_explicit(&lrt__session, memory_order_acquire);
  if (s == 0) {
    s = ++session_counter;
    session_announce(s);
    lrt__fatal_install();
    if (single_threaded()) {
      loop_flusher.seen = LRT_LISTENERS();
      loop_flusher.started = lrt__now();
      loop_flusher.announced = 0;
      loop_flusher.passed = 0;
      atomic_store(&flusher, FLUSHER_LOOP);
    } else {
      start_flusher();
    }
  }
  pthread_mutex_unlock(&session_lock);
  return s;
}

/* Nobody listens any more: forget the session and what is buffered. */
static void session_stop(void) {
  struct ring* r;
  pthread_mutex_lock(&session_lock);
  pthread_mutex_lock(&labels.lock);
  labels.session = 0;
  pthread_mutex_unlock(&labels.lock);
  atomic_store_explicit(&lrt__session, 0, memory_order_release);
  pthread_mutex_lock(&registry_lock);
  for (r = registry; r != NULL; r = r->next)
    ring_discard(r);
  pthread_mutex_unlock(&registry_lock);
  atomic_store(&flusher, FLUSHER_NONE);
  lrt__fatal_uninstall();
  pthread_mutex_unlock(&session_lock);
}

/* Another tracer attached while a session runs: start a new session so
 * that labels, threads and loops introduce themselves again. */
static void session_renew(void) {
  pthread_mutex_lock(&session_lock);
  if (atomic_load_explicit(&lrt__session, memory_order_acquire) != 0)
    session_announce(++session_counter);
  pthread_mutex_unlock(&session_lock);
}

/* Records written by the rings freed so far. Under registry_lock. */
static uint64_t freed_rings_records;

static void flush_registry(void) {
  struct ring** pr;
  pthread_mutex_lock(&registry_lock);
  pr = &registry;
  while (*pr != NULL) {
    struct ring* r = *pr;
    ring_flush(r, 1);
    if (atomic_load_explicit(&r->orphaned, memory_order_acquire)) {
      freed_rings_records += atomic_load(&r->head);
      *pr = r->next;
      pthread_mutex_destroy(&r->flush_lock);
      free(r);
      continue;
    }
    pr = &r->next;
  }
  pthread_mutex_unlock(&registry_lock);
}

/* The flusher's pass, every FLUSH_INTERVAL_NS or so: flush every ring, so
 * that no record waits longer than that while the program runs (a thread
 * blocked in the kernel or in a long task cannot flush its own); notice
 * tracers coming and going. Returns 0 when the session ended.
 *
 * The session is also announced again (labels, threads, loops, pool
 * state), one interval after it began and every ANNOUNCE_INTERVAL_NS:
 * - the kernel raises a probe's semaphore before it plants the probe, so
 *   what the session's start announced may have fired into nothing; one
 *   interval later the probe is surely in place (the same when the
 *   semaphore rises during a session);
 * - the kernel counts probe sites in use in the semaphore, not tracers:
 *   a tracer that attaches while another stays on the same probes, or
 *   within one interval of another's leaving, leaves it as it was, and
 *   no new session starts for the newcomer; it learns the names at the
 *   next announcement. (looptrace holds looprt:loop__stop, which nothing
 *   else uses, for its first 200 ms, so that the count rises for it.)
 * Tracers take repeated announcements as they come. */
static int flusher_pass(struct flusher_state* f, uint64_t now) {
  unsigned short listeners = LRT_LISTENERS();
  if (listeners == 0) {
    session_stop();
    return 0;
  }
  if (listeners > f->seen) {
    /* A tracer came while another stays: a new session, announced again
     * one interval later as at a start. */
    session_renew();
    f->started = now;
    f->announced = 0;
  } else if (f->announced == 0 ? now - f->started >= FLUSH_INTERVAL_NS
                               : now - f->announced >= ANNOUNCE_INTERVAL_NS) {
    session_renew();
    f->announced = now;
  }
  f->seen = listeners;
  f->passed = now;
  flush_registry();
  return 1;
}

static void* flusher_main(void* arg) {
  struct timespec interval = {0, FLUSH_INTERVAL_NS};
  struct flusher_state f = {LRT_LISTENERS(), lrt__now(), 0, 0};
  do
    nanosleep(&interval, NULL);
  while (flusher_pass(&f, lrt__now()));
  return NULL;
}

int lrt__loop_flush(int now, uint64_t ts) {
  struct ring* r = tls_ring;
  if (atomic_load_explicit(&flusher, memory_order_relaxed) != FLUSHER_LOOP)
    return 0;
  if (now || ts - loop_flusher.passed >= FLUSH_INTERVAL_NS)
    flusher_pass(&loop_flusher, ts);
  return r != NULL && atomic_load_explicit(&r->head, memory_order_relaxed) !=
                          atomic_load_explicit(&r->tail, memory_order_acquire);
}

/* Every record the process's threads wrote into their rings so far: the
 * bench's count of records (tests/bench/gate_on.c), which no event site
 * pays for. */
uint64_t lrt__records_written(void) {
  struct ring* r;
  uint64_t n;
  pthread_mutex_lock(&registry_lock);
  n = freed_rings_records;
  for (r = registry; r != NULL; r = r->next)
    n += atomic_load(&r->head);
  pthread_mutex_unlock(&registry_lock);
  return n;
}

void lrt__flush_all(void) {
  if (atomic_load_explicit(&lrt__session, memory_order_acquire) != 0)
    flush_registry();
}

static void flush_at_exit(void) {
  lrt__flush_all();
}

void lrt__flush_fatal(void) {
  struct ring* r;
  int locked = 0;
  int i;

  if (atomic_load_explicit(&lrt__session, memory_order_acquire) == 0)
    return;
  /* The flusher holds the registry only briefly. Should it never come
   * free (the dying thread holds it), nobody else can free a ring: the
   * list is safe to walk without it. */
  for (i = 0; i < 1000 && !locked; i++)
    if (!(locked = pthread_mutex_trylock(&registry_lock) == 0))
      sched_yield();
  /* A ring somebody is flushing is theirs (or the tracer's at exit). */
  for (r = registry; r != NULL; r = r->next)
    ring_flush(r, 0);
  if (locked)
    pthread_mutex_unlock(&registry_lock);
}

/* In a forked child only the forking thread exists: its session, locks and
 * other threads' rings are the parent's. Start afresh. XXX: the child
 * inherits the semaphore's value but not the parent's probes, so while the
 * parent is traced the child records into its buffers for nobody. */
static void after_fork_child(void) {
  lrt__pool_after_fork();
  pthread_mutex_init(&session_lock, NULL);
  pthread_mutex_init(&registry_lock, NULL);
  pthread_mutex_init(&labels.lock, NULL);
  atomic_store(&lrt__session, 0);
  labels.session = 0;
  atomic_store(&flusher, FLUSHER_NONE);
  registry = NULL;
  lrt__tls_ring = NULL;
}

__attribute__((constructor)) static void trace_init(void) {
  atexit(flush_at_exit);
  pthread_atfork(NULL, NULL, after_fork_child);
}

/* ------------------------------------------------------------------------
 * Records.
 */

/* The calling thread's ring, created if need be. Label ids outlive
 * sessions, so its label cache serves any session. */
static struct ring* ring_of_thread(void) {
  struct ring* r = tls_ring;
  return r != NULL ? r : ring_create();
}

/* The calling thread's ring, introduced in the current session. The
 * introduction carries `ts`, the time of the record it precedes, so that
 * a thread's records stay in time order. */
static struct ring* ring_for_session(uint64_t ts) {
  struct ring* r;
  uint32_t s = atomic_load_explicit(&lrt__session, memory_order_acquire);

  if (s == 0)
    s = lrt__session_start();
  if ((r = ring_of_thread()) == NULL)
    return NULL;
  if (r->session != s) {
    r->session = s;
    /* Where the thread's records wait, should the process die. */
    fire_batch(NULL, 0, r);
    ring_put(r, LRT_REC_THREAD, tls_role ? tls_role : LRT_THREAD_OTHER, 0, ts,
             tls_role_index, 0);
  }
  return r;
}

/* lrt__emit() when its fast path cannot write: no ring yet, a new
 * session, records lost, or the ring at its high-water mark. */
void lrt__emit_slow(uint8_t type, uint8_t kind, uint16_t label, uint64_t ts,
                    uint64_t id, uint64_t arg) {
  struct ring* r = tls_ring;
  if (r == NULL ||
      r->session != atomic_load_explicit(&lrt__session, memory_order_relaxed) ||
      r->session == 0) {
    r = ring_for_session(ts);
    if (r == NULL)
      return;
  }
  ring_put(r, type, kind, label, ts, id, arg);
}

void lrt__thread_set_role(uint8_t role, uint64_t index) {
  if (tls_role == role && tls_role_index == index)
    return;
  tls_role = role;
  tls_role_index = index;
  /* Introduce the thread again in its new role. */
  if (tls_ring != NULL)
    tls_ring->session = 0;
}

uint8_t lrt__thread_role(void) {
  return tls_role;
}
