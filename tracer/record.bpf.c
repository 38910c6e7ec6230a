/* record.bpf.c — the kernel side of `looptrace record`.
 *
 * The runtime hands batches of records to the USDT probe
 * looprt:flush(const struct lrt_record* records, long bytes). This
 * program copies each batch from the traced thread's memory into the
 * `records` ring buffer, where record.c reads it. A ring buffer entry is
 * a whole number of records and nothing else (each record carries its
 * thread id); one batch becomes at most 9 entries, of 2^k records each,
 * because a reservation must have a size known when the program is
 * verified. Records that do not fit are counted in `drops`.
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

#define RECORD_SIZE sizeof(struct lrt_record)

static __always_inline void count_drops(__u64 n) {
  __u32 key = 0;
  __u64* value = bpf_map_lookup_elem(&drops, &key);
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
      return 0;                                                             \
    }                                                                       \
    if (bpf_probe_read_user(entry, RECORD_SIZE << (shift), src) != 0) {     \
      bpf_ringbuf_discard(entry, BPF_RB_NO_WAKEUP);                         \
      count_drops(n);                                                       \
      return 0;                                                             \
    }                                                                       \
    bpf_ringbuf_submit(entry, wakeup_flags());                              \
    src += RECORD_SIZE << (shift);                                          \
    n -= 1u << (shift);                                                     \
  }

static __always_inline __u64 wakeup_flags(void) {
  return bpf_ringbuf_query(&records, BPF_RB_AVAIL_DATA) >= wakeup_bytes
             ? BPF_RB_FORCE_WAKEUP
             : BPF_RB_NO_WAKEUP;
}

SEC("usdt")
int BPF_USDT(handle_flush, const struct lrt_record* batch, long bytes) {
  const char* src = (const char*) batch;
  __u32 n;
  if (bytes <= 0)
    return 0;
  /* The runtime never sends more; anything beyond is not read. */
  if (bytes > LRT_BATCH_MAX_RECORDS * RECORD_SIZE)
    bytes = LRT_BATCH_MAX_RECORDS * RECORD_SIZE;
  n = (__u32) bytes / RECORD_SIZE;
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
