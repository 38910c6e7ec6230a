/* libuv_derive.h — turns the raw records of the libuv source (libuv.h)
 * into the looprt record stream (looprt_trace.h), in user space.
 *
 * Per thread, a phase machine that knows libuv's order for the version
 * that runs (1.44: a tick starts with timers; 1.45+: timers end it), with
 * pending and close taken as the gaps between the landmarks; threadpool
 * tasks numbered per uv__work `w` at submit; THREAD, LOOP_START and
 * LABEL records made up as the threads and names are first seen. A
 * thread whose first tick was already running when the probes came in
 * gets no TICK_BEGIN for it: readers show that tick as cut.
 */
#ifndef LOOPTRACE_LIBUV_DERIVE_H
#define LOOPTRACE_LIBUV_DERIVE_H

#include <stddef.h>
#include <stdint.h>

#include "libuv.h"
#include "looprt_trace.h"

/* Addresses are the file's own (st_value); uvd_set_bias() says where the
 * file is loaded. */
struct uvd_config {
  uint32_t uv_version; /* as uv_version() returns it */
  uint16_t pool_size;
  int from_start; /* probes in before the program ran: nothing was missed */
  uint64_t work_fn[UVS_FN_MAX]; /* uv__fs_work, ...; 0 when absent */
  uint64_t worker_lo;           /* libuv's worker(): [lo, hi) */
  uint64_t worker_hi;
  uint64_t tpw_lambda; /* node's ThreadPoolWork work lambda, or 0 */
  /* Names the function at file address `addr` into buf ("" if none). */
  void (*symbolize)(void* ctx, uint64_t addr, char* buf, size_t size);
  void* symbolize_ctx;
};

struct uvd;

/* Returns 0 and sets *out, or -ENOMEM. The config is copied. */
int uvd_new(struct uvd** out, const struct uvd_config* config);

/* Introduces thread `tid` (the process's main thread) as the first loop,
 * at `ts`, no later than its first record: readers name loops in the
 * order they appear, and node's main loop is not always the first to
 * run a tick. */
void uvd_main_loop(struct uvd* d, uint32_t tid, uint64_t ts);

/* Where the file is loaded: runtime address = file address + bias. */
void uvd_set_bias(struct uvd* d, uint64_t bias);

/* Takes one raw record (untrusted: anything is accepted and at worst
 * ignored). The looprt records it makes wait in the output buffer. */
void uvd_feed(struct uvd* d, const struct lrt_record* raw);

/* The records made since the last call; valid until the next uvd_feed().
 * Returns how many and sets *out. */
size_t uvd_take(struct uvd* d, const struct lrt_record** out);

/* The label text of a fs request type (uv_fs_type), e.g. "fs.open". */
const char* uvd_fs_label(int fs_type);

/* The label of a node job class from the symbol of its DoThreadPoolWork
 * ("pbkdf2", "zlib", ...), or NULL when not known; *kind gets its
 * callback kind. */
const char* uvd_job_label(const char* symbol, uint8_t* kind);

void uvd_free(struct uvd* d);

#endif /* LOOPTRACE_LIBUV_DERIVE_H */
