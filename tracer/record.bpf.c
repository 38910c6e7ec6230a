/* record.bpf.c — the kernel side of `looptrace record`.
 *
 * The runtime hands batches of records to the USDT probe
 * looprt:flush(const struct lrt_record* records, long bytes). This
 * program copies each batch from the traced thread's memory into the
 * `records` ring buffer, where record.c reads it. A ring buffer entry is
 * a whole number of records and nothing else (each record carries its
 * thread id); one batch becomes at most 12 entries, of 2^k records each,
 * because a reservation must have a size known when the program is
 * verified. Records that do not fit are counted in `drops`; every record
 * the program takes is counted in `submitted` first, so that what user
 * space has not read when it stops is known: submitted - drops - read.
 * A batch is at most LRT_BATCH_MAX_RECORDS (2048) records, 64 KiB: a
 * uprobe hit costs the traced program about a microsecond whatever it
 * carries, the copy about 5 ns a record (make bench, 2026-11-29).
 *
 * A process can die with records still in its rings (SIGKILL, _exit, a
 * signal it did not hand them over in): the flush probe also says which
 * ring a batch comes from, so this program knows each thread's ring, and
 * as each of the process's threads exits (sched_process_exit, which runs
 * before the thread lets go of its memory since Linux 6.16) it copies
 * what the ring still holds, or, if it cannot, says how many records
 * were lost at exit (LRT_REC_LOST, LRT_LOST_AT_EXIT), then that the
 * thread ended then (LRT_REC_EXIT).
 */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>

/* vmlinux.h defines the fixed-width integer types that looprt_trace.h
 * takes from <stdint.h>, which the BPF target does not have. */
#define __CLANG_STDINT_H
#include "looprt_trace.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Wake the reader only once this much is waiting; it also polls on its
 * own every few milliseconds. Set before load (record.c). */
const volatile __u64 wakeup_bytes = 1 << 20;

/* Set by record.c when the recording stops: from then on the programs
 * take nothing (what the runtime sends after the stop is not read, and
 * the probes may stay in place a while, see record.c's keeper). */
__u32 stopped;

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 16 << 20); /* record.c sets --ring-size */
} records SEC(".maps");

/* Records lost because the ring buffer was full or the batch could not
 * be read, per CPU. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} drops SEC(".maps");

/* Where each thread of the traced process keeps its records: its ring,
 * by thread id, learned from the flush probe. */
struct ring_ref {
  __u64 addr; /* struct lrt_ring_view* in the process */
  __u32 tgid;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, struct ring_ref);
} rings SEC(".maps");

/* Records the programs took to put in the ring buffer, per CPU: each is
 * then in the ring or counted in `drops` (counted before, so that a
 * record on its way is never missed by a reader of both maps). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} submitted SEC(".maps");

#define RECORD_SIZE sizeof(struct lrt_record)

static __always_inline void count_drops(__u64 n) {
  __u32 key = 0;
  __u64* value = bpf_map_lookup_elem(&drops, &key);
  if (value != NULL)
    *value += n;
}

static __always_inline void count_submitted(__u64 n) {
  __u32 key = 0;
  __u64* value = bpf_map_lookup_elem(&submitted, &key);
  if (value != NULL)
    *value += n;
}

/* Copies the next 2^shift records if `n` has that bit, or counts all `n`
 * left as dropped and returns from the program when that fails. */
#define COPY_CHUNK(shift)                                                   \
  if (n & (1u << (shift))) {                                                \
    void* entry = bpf_ringbuf_reserve(&records, RECORD_SIZE << (shift), 0); \
    if (entry == NULL) {                                                    \
      count_drops(n);                                                       \
      return -1;                                                            \
    }                                                                       \
    if (bpf_probe_read_user(entry, RECORD_SIZE << (shift), src) != 0) {     \
      bpf_ringbuf_discard(entry, BPF_RB_NO_WAKEUP);                         \
      count_drops(n);                                                       \
      return -1;                                                            \
    }                                                                       \
    bpf_ringbuf_submit(entry, wakeup_flags(RECORD_SIZE << (shift)));        \
    src += RECORD_SIZE << (shift);                                          \
    n -= 1u << (shift);                                                     \
  }

/* The submit of `size` bytes just reserved wakes the reader only if it
 * takes what is waiting past wakeup_bytes: a reader that is behind reads
 * on without sleeping (its poll returns at once while anything waits),
 * and a wake-up per batch above the mark cost the traced program an
 * irq_work interrupt each (make bench, 2026-11-29: ~30 ns a record). */
static __always_inline __u64 wakeup_flags(__u64 size) {
  __u64 avail = bpf_ringbuf_query(&records, BPF_RB_AVAIL_DATA);
  return avail >= wakeup_bytes && avail - size < wakeup_bytes
             ? BPF_RB_FORCE_WAKEUP
             : BPF_RB_NO_WAKEUP;
}

_Static_assert(LRT_BATCH_MAX_RECORDS == 1 << 11,
               "copy_batch copies chunks of up to 2^11 records");

/* Copies `n` (at most LRT_BATCH_MAX_RECORDS) records from `src` in the
 * traced process into the ring buffer. Returns 0, or -1 when it could
 * not (the rest is counted in drops). */
static __always_inline int copy_batch_inline(const char* src, __u32 n) {
  count_submitted(n);
  COPY_CHUNK(11)
  COPY_CHUNK(10)
  COPY_CHUNK(9)
  COPY_CHUNK(8)
  COPY_CHUNK(7)
  COPY_CHUNK(6)
  COPY_CHUNK(5)
  COPY_CHUNK(4)
  COPY_CHUNK(3)
  COPY_CHUNK(2)
  COPY_CHUNK(1)
  COPY_CHUNK(0)
  return 0;
}

/* copy_batch_inline(), verified once: the exit hand-over calls it in a
 * loop. */
__noinline int copy_batch(__u64 src, __u32 n) {
  if (n > LRT_BATCH_MAX_RECORDS)
    return -1;
  return copy_batch_inline((const char*) src, n);
}

/* Remembers that thread `r->tid` keeps its records at `r`. */
static __always_inline void learn_ring(const struct lrt_ring_view* r) {
  struct ring_ref ref = {(__u64) r, (__u32) (bpf_get_current_pid_tgid() >> 32)};
  __u32 tid;
  if (bpf_probe_read_user(&tid, sizeof(tid), &r->tid) != 0)
    return;
  bpf_map_update_elem(&rings, &tid, &ref, BPF_ANY);
}

SEC("usdt")
int BPF_USDT(handle_flush, const struct lrt_record* batch, long bytes,
             const struct lrt_ring_view* ring) {
  if (stopped)
    return 0;
  /* Only an empty batch announces a ring: one lookup per thread and
   * session, none per batch. */
  if (bytes == 0 && ring != NULL)
    learn_ring(ring);
  if (bytes <= 0)
    return 0;
  /* The runtime never sends more; anything beyond is not read, and is
   * said to be lost (a runtime newer than this tracer). */
  if (bytes > LRT_BATCH_MAX_RECORDS * RECORD_SIZE) {
    __u64 beyond = (__u64) bytes / RECORD_SIZE - LRT_BATCH_MAX_RECORDS;
    count_submitted(beyond);
    count_drops(beyond);
    bytes = LRT_BATCH_MAX_RECORDS * RECORD_SIZE;
  }
  copy_batch_inline((const char*) batch, (__u32) bytes / RECORD_SIZE);
  return 0;
}

/* Attached to looprt:loop__stop for a moment, only to raise the
 * semaphore (record.c's hello_attach): it takes nothing. */
SEC("usdt")
int handle_hello(struct pt_regs* ctx) {
  return 0;
}

/* An LRT_REC_LOST record of thread `tid`: `n` records lost for `reason`. */
static __always_inline void emit_lost(__u32 tid, __u64 n, __u8 reason) {
  struct lrt_record* rec;
  if (n == 0)
    return;
  count_submitted(1);
  rec = bpf_ringbuf_reserve(&records, sizeof(*rec), 0);
  if (rec == NULL) {
    count_drops(n);
    return;
  }
  __builtin_memset(rec, 0, sizeof(*rec));
  rec->ts = bpf_ktime_get_ns();
  rec->tid = tid;
  rec->type = LRT_REC_LOST;
  rec->kind = reason;
  rec->id = n;
  bpf_ringbuf_submit(rec, BPF_RB_FORCE_WAKEUP);
}

/* Thread `tid` exits now (LRT_REC_EXIT). */
static __always_inline void emit_exit(__u32 tid) {
  struct lrt_record* rec;
  count_submitted(1);
  rec = bpf_ringbuf_reserve(&records, sizeof(*rec), 0);
  if (rec == NULL) {
    count_drops(1);
    return;
  }
  __builtin_memset(rec, 0, sizeof(*rec));
  rec->ts = bpf_ktime_get_ns();
  rec->tid = tid;
  rec->type = LRT_REC_EXIT;
  bpf_ringbuf_submit(rec, BPF_RB_FORCE_WAKEUP);
}

/* Copies what ring `v` still holds; returns how many records it did not
 * try to. */
static __always_inline __u64 copy_ring(const struct lrt_ring_view* v) {
  __u64 tail = v->tail;
  __u64 left = v->head - v->tail;
  int i;

  if (v->size == 0 || v->size > LRT_RING_MAX_RECORDS ||
      (v->size & (v->size - 1)) != 0 || left > v->size)
    return left > v->size ? v->size : left;
  /* A full ring split at its end takes one chunk more than it holds
   * batches. */
  for (i = 0; i < LRT_RING_MAX_RECORDS / LRT_BATCH_MAX_RECORDS + 1 && left > 0;
       i++) {
    __u64 index = tail & (v->size - 1);
    __u64 n = left;
    if (n > v->size - index)
      n = v->size - index;
    if (n > LRT_BATCH_MAX_RECORDS)
      n = LRT_BATCH_MAX_RECORDS;
    /* When it fails it counts the chunk's records in drops. */
    if (copy_batch(v->records + index * RECORD_SIZE, (__u32) n) != 0)
      return left - n;
    tail += n;
    left -= n;
  }
  return left;
}

SEC("tp/sched/sched_process_exit")
int handle_exit(void* ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tid = (__u32) id;
  struct ring_ref* ref = bpf_map_lookup_elem(&rings, &tid);
  struct lrt_ring_view v;
  __u64 lost;

  if (ref == NULL || stopped)
    return 0;
  if (ref->tgid != (__u32) (id >> 32)) {
    bpf_map_delete_elem(&rings, &tid);
    return 0;
  }
  if (bpf_probe_read_user(&v, sizeof(v), (const void*) ref->addr) != 0 ||
      v.tid != tid) {
    bpf_map_delete_elem(&rings, &tid);
    return 0;
  }
  emit_lost(tid, v.lost, LRT_LOST_FULL);
  lost = copy_ring(&v);
  emit_lost(tid, lost, LRT_LOST_AT_EXIT);
  emit_exit(tid);
  bpf_map_delete_elem(&rings, &tid);
  return 0;
}
