/* libuv.h — what libuv.bpf.c tells libuv_source.c.
 *
 * The libuv source traces a stock libuv program (node, or any program
 * whose symbol table holds libuv) with uprobes on libuv's own functions:
 * function entries and uretprobes only. Each probe hit writes one raw
 * record, shaped as struct lrt_record (looprt_trace.h) but with the types
 * below; libuv_source.c turns them into the looprt record stream.
 */
#ifndef LOOPTRACE_LIBUV_H
#define LOOPTRACE_LIBUV_H

/* Raw record types (struct lrt_record's `type`). */
enum uvs_event {
  /* A landmark function was entered or returned. kind: enum uvs_landmark. */
  UVS_LANDMARK = 1,
  /* uv__work_submit(loop, w, kind, work, done). id: w; arg: work;
   * kind: the low byte of uv_fs_t's fs_type, read in case w is a fs
   * request (the request may be gone by the time user space looks). */
  UVS_SUBMIT = 2,
  /* uv_queue_work(loop, req, work_cb, after). id: w (req's work_req);
   * arg: work_cb. Always followed by UVS_QUEUE_SLOT of the same thread. */
  UVS_QUEUE_WORK = 3,
  /* id: w; arg: slot 2 of the vtable of the node::ThreadPoolWork that
   * would hold w (its DoThreadPoolWork), 0 when not read. Meaningful only
   * when work_cb is node's ThreadPoolWork lambda. */
  UVS_QUEUE_SLOT = 4,
  /* A work function (uv__fs_work, ...) was entered. id: w; arg: the
   * return address (inside libuv's `worker` on a pool thread, elsewhere
   * for a synchronous call); label: enum uvs_fn; kind: fs_type if fs. */
  UVS_WORK_START = 5,
  /* A done function (uv__fs_done, ...) was entered. id: w; arg: status;
   * label: enum uvs_fn; kind: fs_type if fs. */
  UVS_DONE = 6,
  /* A blocking epoll call ended. ts: when it began; arg: its length. */
  UVS_WAIT = 7,
};

/* Landmarks: the probe's bpf cookie, and the kind of UVS_LANDMARK. */
enum uvs_landmark {
  UVS_LM_RUN = 1,    /* uv_run entry */
  UVS_LM_RUN_RET,    /* uv_run return */
  UVS_LM_TIMERS,     /* uv__run_timers entry */
  UVS_LM_TIMERS_RET, /* uv__run_timers return */
  UVS_LM_IDLE,       /* uv__run_idle entry */
  UVS_LM_PREPARE,    /* uv__run_prepare entry */
  UVS_LM_POLL,       /* uv__io_poll entry */
  UVS_LM_POLL_RET,   /* uv__io_poll return */
  UVS_LM_CHECK,      /* uv__run_check entry */
  UVS_LM_CHECK_RET,  /* uv__run_check return */
  UVS_LM_WORK_RET,   /* a work function returns */
  UVS_LM_DONE_RET,   /* a done function returns */
  UVS_LM_MAX
};

/* The pairs of threadpool functions: the cookie of the work and done
 * probes, and the label of UVS_WORK_START and UVS_DONE. */
enum uvs_fn {
  UVS_FN_FS = 1,      /* uv__fs_work, uv__fs_done */
  UVS_FN_QUEUE,       /* uv__queue_work, uv__queue_done (uv_queue_work) */
  UVS_FN_GETADDRINFO, /* uv__getaddrinfo_work, uv__getaddrinfo_done */
  UVS_FN_GETNAMEINFO, /* uv__getnameinfo_work, uv__getnameinfo_done */
  UVS_FN_RANDOM,      /* uv__random_work, uv__random_done */
  UVS_FN_MAX
};

/* libuv 1.x x86_64 ABI: where the fields are, from the struct uv__work
 * inside a request (uv.h; checked against node's DWARF). */
#define UVS_FS_TYPE_FROM_W (-272) /* uv_fs_t.fs_type - uv_fs_t.work_req */
#define UVS_WORK_REQ_IN_WORK 88   /* uv_work_t.work_req */
/* node::ThreadPoolWork is {vptr, env_, uv_work_t work_req_, ...}. */
#define UVS_TPW_VPTR_FROM_W (-104)
#define UVS_TPW_SLOT_OFFSET 16 /* vtable slot 2: DoThreadPoolWork */

#endif /* LOOPTRACE_LIBUV_H */
