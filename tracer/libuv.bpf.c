/* libuv.bpf.c — the kernel side of the libuv source (libuv_source.c).
 *
 * Uprobes on libuv's own functions in a stock program, function entries
 * and uretprobes only (the kernel emulates a function's first instruction
 * and never single-steps there). Each hit writes one 32-byte raw record
 * (libuv.h) into the `uv_records` ring buffer; what needs reading in the
 * target (a request's fs type, node's job class) is read here, at the
 * moment it exists. The epoll syscall tracepoints, filtered on the
 * target's tgid, measure how long poll blocked.
 */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define __CLANG_STDINT_H
#include "libuv.h"
#include "looprt_trace.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set before load (libuv_source.c). */
const volatile __u64 wakeup_bytes = 1 << 20;
const volatile __u8 read_job_class; /* node's ThreadPoolWork is known */

/* Set after load: the traced process. */
__u32 target_tgid;
/* Set when the recording stops: from then on nothing is taken. */
__u32 stopped;

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 16 << 20);
} uv_records SEC(".maps");

/* Records lost because the ring buffer was full, per CPU. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} uv_drops SEC(".maps");

/* Records emit() took, per CPU: each is then in the ring buffer or
 * counted in uv_drops (counted first: see record.bpf.c's `submitted`). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} uv_submitted SEC(".maps");

/* Blocking epoll calls in progress: tid -> when the call began. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, __u64);
} uv_waits SEC(".maps");

/* The submit of the record just reserved wakes the reader only if it
 * takes what is waiting past wakeup_bytes, as record.bpf.c's
 * wakeup_flags(): a reader that is behind reads on without sleeping,
 * and a wake-up per record above the mark costs the traced program an
 * irq_work interrupt each. */
static __always_inline __u64 wakeup_flags(void) {
  __u64 avail = bpf_ringbuf_query(&uv_records, BPF_RB_AVAIL_DATA);
  return avail >= wakeup_bytes &&
                 avail - sizeof(struct lrt_record) < wakeup_bytes
             ? BPF_RB_FORCE_WAKEUP
             : BPF_RB_NO_WAKEUP;
}

static __always_inline void emit(__u64 ts, __u8 type, __u8 kind, __u16 label,
                                 __u64 id, __u64 arg) {
  __u32 key = 0;
  __u64* n = bpf_map_lookup_elem(&uv_submitted, &key);
  struct lrt_record* r;
  if (stopped)
    return;
  if (n != NULL)
    *n += 1;
  r = bpf_ringbuf_reserve(&uv_records, sizeof(*r), 0);
  if (r == NULL) {
    n = bpf_map_lookup_elem(&uv_drops, &key);
    if (n != NULL)
      *n += 1;
    return;
  }
  r->ts = ts;
  r->tid = (__u32) bpf_get_current_pid_tgid();
  r->type = type;
  r->kind = kind;
  r->label = label;
  r->id = id;
  r->arg = arg;
  bpf_ringbuf_submit(r, wakeup_flags());
}

/* The low byte of the fs_type of the uv_fs_t holding `w` (0 if unread). */
static __always_inline __u8 fs_type(__u64 w) {
  int type = 0;
  bpf_probe_read_user(&type, sizeof(type), (void*) (w + UVS_FS_TYPE_FROM_W));
  return (__u8) type;
}

/* Entries and returns that only mark a moment: the cookie says which. */
SEC("uprobe")
int uvs_landmark(struct pt_regs* ctx) {
  emit(bpf_ktime_get_ns(), UVS_LANDMARK, (__u8) bpf_get_attach_cookie(ctx), 0,
       0, 0);
  return 0;
}

/* uv__work_submit(loop, w, kind, work, done) */
SEC("uprobe")
int uvs_submit(struct pt_regs* ctx) {
  __u64 ts = bpf_ktime_get_ns();
  __u64 w = PT_REGS_PARM2(ctx);
  emit(ts, UVS_SUBMIT, fs_type(w), 0, w, PT_REGS_PARM4(ctx));
  return 0;
}

/* uv_queue_work(loop, req, work_cb, after_work_cb): the request is not
 * filled in yet, so work_cb comes from its register. */
SEC("uprobe")
int uvs_queue_work(struct pt_regs* ctx) {
  __u64 ts = bpf_ktime_get_ns();
  __u64 w = PT_REGS_PARM2(ctx) + UVS_WORK_REQ_IN_WORK;
  __u64 vptr = 0;
  __u64 slot = 0;
  emit(ts, UVS_QUEUE_WORK, 0, 0, w, PT_REGS_PARM3(ctx));
  if (read_job_class &&
      bpf_probe_read_user(&vptr, sizeof(vptr),
                          (void*) (w + UVS_TPW_VPTR_FROM_W)) == 0 &&
      vptr != 0)
    bpf_probe_read_user(&slot, sizeof(slot),
                        (void*) (vptr + UVS_TPW_SLOT_OFFSET));
  emit(ts, UVS_QUEUE_SLOT, 0, 0, w, slot);
  return 0;
}

/* uv__fs_work(w) and the other work functions; the cookie is enum uvs_fn.
 * The return address tells a pool thread from a synchronous call. */
SEC("uprobe")
int uvs_work(struct pt_regs* ctx) {
  __u64 ts = bpf_ktime_get_ns();
  __u64 w = PT_REGS_PARM1(ctx);
  __u16 fn = (__u16) bpf_get_attach_cookie(ctx);
  __u64 ret = 0;
  bpf_probe_read_user(&ret, sizeof(ret), (void*) PT_REGS_SP(ctx));
  emit(ts, UVS_WORK_START, fn == UVS_FN_FS ? fs_type(w) : 0, fn, w, ret);
  return 0;
}

/* uv__fs_done(w, status) and the other done functions. */
SEC("uprobe")
int uvs_done(struct pt_regs* ctx) {
  __u64 ts = bpf_ktime_get_ns();
  __u64 w = PT_REGS_PARM1(ctx);
  __u16 fn = (__u16) bpf_get_attach_cookie(ctx);
  emit(ts, UVS_DONE, fn == UVS_FN_FS ? fs_type(w) : 0, fn, w,
       (__u64) (__s64) (int) PT_REGS_PARM2(ctx));
  return 0;
}

/* Poll's blocking wait: an epoll call with a timeout other than 0. */
static __always_inline int wait_enter(long timeout) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tid = (__u32) id;
  __u64 ts;
  if ((__u32) (id >> 32) != target_tgid || timeout == 0)
    return 0;
  ts = bpf_ktime_get_ns();
  bpf_map_update_elem(&uv_waits, &tid, &ts, BPF_ANY);
  return 0;
}

static __always_inline int wait_exit(void) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tid = (__u32) id;
  __u64* begin;
  __u64 ts;
  if ((__u32) (id >> 32) != target_tgid)
    return 0;
  begin = bpf_map_lookup_elem(&uv_waits, &tid);
  if (begin == NULL)
    return 0;
  ts = *begin;
  bpf_map_delete_elem(&uv_waits, &tid);
  emit(ts, UVS_WAIT, 0, 0, 0, bpf_ktime_get_ns() - ts);
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_epoll_wait")
int uvs_epoll_wait(struct trace_event_raw_sys_enter* ctx) {
  return wait_enter((int) ctx->args[3]);
}

SEC("tracepoint/syscalls/sys_enter_epoll_pwait")
int uvs_epoll_pwait(struct trace_event_raw_sys_enter* ctx) {
  return wait_enter((int) ctx->args[3]);
}

/* Its timeout is a struct timespec*: NULL (forever) or not, never 0. */
SEC("tracepoint/syscalls/sys_enter_epoll_pwait2")
int uvs_epoll_pwait2(struct trace_event_raw_sys_enter* ctx) {
  return wait_enter(1);
}

SEC("tracepoint/syscalls/sys_exit_epoll_wait")
int uvs_epoll_wait_exit(void* ctx) {
  return wait_exit();
}

SEC("tracepoint/syscalls/sys_exit_epoll_pwait")
int uvs_epoll_pwait_exit(void* ctx) {
  return wait_exit();
}

SEC("tracepoint/syscalls/sys_exit_epoll_pwait2")
int uvs_epoll_pwait2_exit(void* ctx) {
  return wait_exit();
}
