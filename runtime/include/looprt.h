/* looprt.h — a small event-loop runtime on libuv that looptrace can see
 * inside of.
 *
 * looprt drives a libuv loop and dispatches every callback itself, so that
 * a tracer can see each tick, each phase of it (timers, pending, idle,
 * prepare, poll, check, close), each callback and each threadpool task
 * from submission to completion. When no tracer is attached, an event
 * site costs a load and a branch.
 *
 * Conventions (libuv's):
 * - The caller owns and allocates every lrt_*_t; it must stay valid until
 *   its callback has run (or it was cleared), and handles (lrt_tcp_t,
 *   lrt_signal_t) until their close callback or lrt_loop_close().
 * - Functions return 0 or a negative errno (UV_E* values). When a call
 *   that takes a callback fails, the callback is never called. Misuse
 *   (NULL where a pointer is needed, zero iterations, ...) returns
 *   UV_EINVAL.
 * - All functions are called on the loop's thread, except that a
 *   threadpool work function runs on a worker.
 * - Labels name what a callback or task is in traces ("pbkdf2",
 *   "config read"). A label is a string the caller keeps alive as long as
 *   the object using it (string literals are ideal); NULL picks a default
 *   for the kind of callback. Traces carry at most LRT_LABEL_MAX_LEN (127)
 *   bytes of a label (looprt_trace.h): longer labels are cut there.
 * - While a tracer is attached, looprt handles the fatal signals (SIGABRT,
 *   SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS) to hand its buffered
 *   records over first; then the handler the program had installed runs,
 *   or the default action happens, as without looprt. A handler the
 *   program installs while traced replaces looprt's.
 */
#ifndef LOOPRT_H
#define LOOPRT_H

#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LRT_EXTERN __attribute__((visibility("default")))

typedef struct lrt_loop_s lrt_loop_t;
typedef struct lrt_timer_s lrt_timer_t;
typedef struct lrt_immediate_s lrt_immediate_t;
typedef struct lrt_work_s lrt_work_t;
typedef struct lrt_fs_s lrt_fs_t;
typedef struct lrt_dns_s lrt_dns_t;
typedef struct lrt_pbkdf2_s lrt_pbkdf2_t;
typedef struct lrt_tcp_s lrt_tcp_t;
typedef struct lrt_write_s lrt_write_t;
typedef struct lrt_signal_s lrt_signal_t;

typedef void (*lrt_timer_cb)(lrt_timer_t* timer);
typedef void (*lrt_immediate_cb)(lrt_immediate_t* immediate);
typedef void (*lrt_work_fn)(lrt_work_t* work);
typedef void (*lrt_work_done_cb)(lrt_work_t* work, int status);
typedef void (*lrt_fs_cb)(lrt_fs_t* req);
typedef void (*lrt_dns_cb)(lrt_dns_t* req);
typedef void (*lrt_pbkdf2_cb)(lrt_pbkdf2_t* req);
typedef void (*lrt_connection_cb)(lrt_tcp_t* server, int status);
typedef void (*lrt_connect_cb)(lrt_tcp_t* tcp, int status);
typedef void (*lrt_read_cb)(lrt_tcp_t* tcp, ssize_t nread, const char* data);
typedef void (*lrt_write_cb)(lrt_write_t* req, int status);
typedef void (*lrt_close_cb)(lrt_tcp_t* tcp);
typedef void (*lrt_signal_cb)(lrt_signal_t* signal, int signum);

struct lrt__loop_private; /* runtime/src/internal.h */

/* ------------------------------------------------------------------------
 * Loop
 */

struct lrt_loop_s {
  void* data; /* the caller's */
  /* private */
  uv_loop_t uv;
  struct lrt__loop_private* priv;
};

/* Initializes `loop`. Returns 0, or UV_ENOMEM, or an error of
 * uv_loop_init(). On failure `loop` needs no lrt_loop_close(). */
LRT_EXTERN int lrt_loop_init(lrt_loop_t* loop);

/* Runs the loop until nothing keeps it alive (no pending timer, immediate,
 * task, request or active handle) or lrt_stop() is called. Returns 0 when
 * the loop ran out of work, 1 when it was stopped with work remaining, or
 * UV_EINVAL. It may be called again after it returns. */
LRT_EXTERN int lrt_run(lrt_loop_t* loop);

/* Makes lrt_run() return after the current tick. */
LRT_EXTERN void lrt_stop(lrt_loop_t* loop);

/* Closes every handle still open on the loop (the runtime's and any
 * libuv handle the caller left open), runs their close callbacks and
 * releases the loop. Returns 0, UV_EINVAL, or UV_EBUSY if threadpool work
 * is still in flight (then nothing was released; run the loop first). */
LRT_EXTERN int lrt_loop_close(lrt_loop_t* loop);

/* The libuv loop underneath, for existing libuv code: handles started on
 * it work as usual, and their callbacks (seen through lrt_span_begin)
 * fall inside the phase libuv ran them in, wherever the handle was
 * started. Do not run it with uv_run(); use lrt_run().
 *
 * What looprt cannot see is not drawn: a phase boundary that only libuv
 * crosses (a plain check handle started during poll runs before looprt's
 * own marker) is placed where the next callback looprt sees begins, so the
 * unseen work before it counts in the phase before. And when a tracer
 * attaches while the loop runs, the tick in progress is drawn from the
 * first record on, marked as begun earlier, with its phase when the first
 * callback's kind or libuv's state tells it (timers, check, close, poll);
 * XXX: when the first thing seen is a user span or a submit outside poll,
 * the phase cannot be told, and that tick's records lie outside any tick
 * until the next tick begins. */
LRT_EXTERN uv_loop_t* lrt_uv_loop(lrt_loop_t* loop);

/* The loop's current time in milliseconds (libuv's uv_now()). */
LRT_EXTERN uint64_t lrt_now(const lrt_loop_t* loop);

/* The number of threadpool threads libuv starts: UV_THREADPOOL_SIZE, by
 * libuv's rule (default 4, 0 means 1, at most 1024). */
LRT_EXTERN int lrt_threadpool_size(void);

/* "0.1.0": the runtime's version. */
LRT_EXTERN const char* lrt_version(void);

/* ------------------------------------------------------------------------
 * Timers: callbacks in the timers phase. Timers due at the same time run
 * in the order they were set. A timer set from a timer callback runs in a
 * later tick; as in Node, 0 ms means 1 ms. Intervals keep to their
 * schedule: run k is due k periods after the interval was set, however
 * long the callbacks take. Slots missed while the loop was busy are
 * dropped, as Go's time.Ticker drops ticks: one late run, then back on the
 * schedule, never a burst of catch-up runs.
 */

struct lrt_timer_s {
  void* data; /* the caller's */
  /* private */
  lrt_loop_t* loop;
  lrt_timer_cb cb;
  const char* label;
  uint64_t due;    /* loop time in ms */
  uint64_t period; /* 0 for a timeout */
  uint64_t seq;    /* order of setting */
  size_t heap_index;
  int active;
};

/* Calls `cb` once, `ms` milliseconds from now. Setting a timer that is
 * already pending clears it first. */
LRT_EXTERN int lrt_timeout(lrt_loop_t* loop, lrt_timer_t* timer, uint64_t ms,
                           lrt_timer_cb cb, const char* label);

/* Calls `cb` every `ms` milliseconds (ms > 0) until cleared. */
LRT_EXTERN int lrt_interval(lrt_loop_t* loop, lrt_timer_t* timer, uint64_t ms,
                            lrt_timer_cb cb, const char* label);

/* Cancels a pending timer; its callback will not run. A no-op on a timer
 * that is not pending. The timer may be freed afterwards. */
LRT_EXTERN void lrt_timer_clear(lrt_timer_t* timer);

/* Non-zero while the timer is pending. */
LRT_EXTERN int lrt_timer_active(const lrt_timer_t* timer);

/* ------------------------------------------------------------------------
 * Immediates: callbacks in the check phase, right after poll, in the order
 * they were set. One set from an immediate callback runs in the next tick.
 * Inside an I/O callback, an immediate runs before a 0 ms timeout.
 */

struct lrt_immediate_s {
  void* data; /* the caller's */
  /* private */
  lrt_loop_t* loop;
  lrt_immediate_cb cb;
  const char* label;
  lrt_immediate_t* prev;
  lrt_immediate_t* next;
  uint64_t seq; /* order of setting */
  int active;
};

LRT_EXTERN int lrt_immediate(lrt_loop_t* loop, lrt_immediate_t* immediate,
                             lrt_immediate_cb cb, const char* label);

/* Cancels a pending immediate; a no-op if it is not pending. */
LRT_EXTERN void lrt_immediate_clear(lrt_immediate_t* immediate);

/* ------------------------------------------------------------------------
 * Threadpool work: `work` runs on one of libuv's worker threads, then
 * `done` runs on the loop thread (in the poll phase) with status 0, or
 * UV_ECANCELED if lrt_work_cancel() took the task off the queue first.
 * Each task is traced at four moments: submitted, started and finished on
 * its worker, and its completion callback.
 *
 * Tasks start in submission order, on as many pool threads at once as
 * uv_queue_work() would use (UV_THREADPOOL_SIZE), and each completion is
 * handed back as soon as its task ends. They reach the pool through the
 * loop's own queue, which one pool request drains while tasks keep
 * coming, rather than one uv_queue_work() each. What differs from
 * uv_queue_work(): work that other code queues on libuv's pool directly
 * (uv_queue_work(), uv_fs_*()) while the pool's threads are draining
 * looprt's queue waits until that queue is empty, instead of taking its
 * turn among the tasks queued before it; and in a poll phase, looprt's
 * completions and libuv's run as two groups, not interleaved in the
 * order their tasks ended.
 */

struct lrt_work_s {
  void* data; /* the caller's */
  /* private */
  lrt_work_t* prev; /* in the loop's queue; next: also in its done list */
  lrt_work_t* next;
  int state;
  int status;
  lrt_loop_t* loop;
  lrt_work_fn work;
  lrt_work_done_cb done;
  const char* label;
  uint64_t task_id;
  uint64_t submit_ts; /* ns, only while traced */
  int kind;           /* enum lrt_callback_kind of the completion */
  uint16_t label_id;  /* label's id in traces, 0: not looked up */
};

LRT_EXTERN int lrt_work_submit(lrt_loop_t* loop, lrt_work_t* work,
                               lrt_work_fn fn, lrt_work_done_cb done,
                               const char* label);

/* Takes a task that has not started off the queue; its done callback then
 * runs with UV_ECANCELED. Returns 0, or UV_EBUSY if it already started. */
LRT_EXTERN int lrt_work_cancel(lrt_work_t* work);

/* ------------------------------------------------------------------------
 * Files, on the threadpool. `result` holds the outcome when the callback
 * runs: bytes read or written, 0 for stat, or a negative errno (UV_ENOENT
 * for a missing file). Default labels: "fs.readFile", "fs.writeFile",
 * "fs.stat".
 */

struct lrt_fs_s {
  void* data;     /* the caller's */
  ssize_t result; /* see above */
  char* buf;      /* lrt_fs_read_file: the contents, NUL-terminated */
  size_t len;     /* lrt_fs_read_file: their length */
  uv_stat_t stat; /* lrt_fs_stat: the file's status */
  /* private */
  lrt_work_t work;
  lrt_fs_cb cb;
  char* path;
  const void* wdata;
  size_t wlen;
  int op;
};

/* Reads the whole file at `path` into req->buf (free it with
 * lrt_fs_cleanup()). `path` is copied. */
LRT_EXTERN int lrt_fs_read_file(lrt_loop_t* loop, lrt_fs_t* req,
                                const char* path, lrt_fs_cb cb,
                                const char* label);

/* Creates or truncates `path` and writes `len` bytes of `data` to it.
 * `data` must stay valid until the callback. */
LRT_EXTERN int lrt_fs_write_file(lrt_loop_t* loop, lrt_fs_t* req,
                                 const char* path, const void* data, size_t len,
                                 lrt_fs_cb cb, const char* label);

/* Fills req->stat for `path`. */
LRT_EXTERN int lrt_fs_stat(lrt_loop_t* loop, lrt_fs_t* req, const char* path,
                           lrt_fs_cb cb, const char* label);

/* Frees what a completed request holds (req->buf). */
LRT_EXTERN void lrt_fs_cleanup(lrt_fs_t* req);

/* ------------------------------------------------------------------------
 * Name resolution, on the threadpool. `result` is 0 with `addrinfo` set,
 * or a negative UV_EAI_* error. Default label: "dns.lookup".
 */

struct lrt_dns_s {
  void* data;                /* the caller's */
  int result;                /* see above */
  struct addrinfo* addrinfo; /* free with lrt_dns_cleanup() */
  /* private */
  lrt_work_t work;
  lrt_dns_cb cb;
  char* node;
  char* service;
  struct addrinfo hints;
  int has_hints;
};

/* Resolves `node` and/or `service` (at least one) like getaddrinfo(3).
 * Both strings and `hints` are copied. */
LRT_EXTERN int lrt_getaddrinfo(lrt_loop_t* loop, lrt_dns_t* req,
                               const char* node, const char* service,
                               const struct addrinfo* hints, lrt_dns_cb cb,
                               const char* label);

LRT_EXTERN void lrt_dns_cleanup(lrt_dns_t* req);

/* ------------------------------------------------------------------------
 * PBKDF2 (OpenSSL), on the threadpool: Node's crypto.pbkdf2(). Default
 * label: "pbkdf2".
 */

struct lrt_pbkdf2_s {
  void* data;         /* the caller's */
  int result;         /* 0, or UV_EIO if OpenSSL failed */
  unsigned char* key; /* the caller's buffer, filled on success */
  size_t keylen;
  /* private */
  lrt_work_t work;
  lrt_pbkdf2_cb cb;
  const void* password;
  size_t password_len;
  const void* salt;
  size_t salt_len;
  unsigned iterations;
  const void* digest; /* const EVP_MD* */
};

/* Derives `keylen` bytes into `key` with PBKDF2-HMAC-`digest` ("sha1",
 * "sha256", "sha512", ... : OpenSSL's names). `password`, `salt` and `key`
 * must stay valid until the callback. UV_EINVAL for an unknown digest or
 * zero iterations. */
LRT_EXTERN int lrt_pbkdf2(lrt_loop_t* loop, lrt_pbkdf2_t* req,
                          const void* password, size_t password_len,
                          const void* salt, size_t salt_len,
                          unsigned iterations, const char* digest,
                          unsigned char* key, size_t keylen, lrt_pbkdf2_cb cb,
                          const char* label);

/* ------------------------------------------------------------------------
 * TCP. Callbacks run in the poll phase (writes may complete in pending).
 */

struct lrt_tcp_s {
  void* data; /* the caller's */
  /* private */
  uv_tcp_t handle;
  uv_connect_t connect_req;
  lrt_loop_t* loop;
  const char* label;
  lrt_connection_cb on_connection;
  lrt_connect_cb on_connect;
  lrt_read_cb on_read;
  lrt_close_cb on_close;
};

struct lrt_write_s {
  void* data; /* the caller's */
  /* private */
  uv_write_t req;
  lrt_tcp_t* tcp;
  lrt_write_cb cb;
};

LRT_EXTERN int lrt_tcp_init(lrt_loop_t* loop, lrt_tcp_t* tcp);

/* Names the socket's callbacks in traces (default: their kind). */
LRT_EXTERN void lrt_tcp_set_label(lrt_tcp_t* tcp, const char* label);

/* Binds to `ip`:`port` (IPv4 or IPv6 text; port 0 picks one) and listens.
 * `cb` runs for each incoming connection; call lrt_tcp_accept() in it. */
LRT_EXTERN int lrt_tcp_listen(lrt_tcp_t* tcp, const char* ip, int port,
                              int backlog, lrt_connection_cb cb);

/* The port the socket is bound to, or a negative errno. */
LRT_EXTERN int lrt_tcp_port(lrt_tcp_t* tcp);

/* Accepts a connection of `server` into `client` (lrt_tcp_init'ed). */
LRT_EXTERN int lrt_tcp_accept(lrt_tcp_t* server, lrt_tcp_t* client);

/* Connects to `ip`:`port`; `cb` gets 0 or a negative errno. */
LRT_EXTERN int lrt_tcp_connect(lrt_tcp_t* tcp, const char* ip, int port,
                               lrt_connect_cb cb);

/* Calls `cb` with each chunk read (`data` valid during the call only),
 * with UV_EOF at the end of the stream, or with a negative errno. */
LRT_EXTERN int lrt_tcp_read_start(lrt_tcp_t* tcp, lrt_read_cb cb);
LRT_EXTERN int lrt_tcp_read_stop(lrt_tcp_t* tcp);

/* Writes `len` bytes; `data` must stay valid until `cb` (may be NULL). */
LRT_EXTERN int lrt_tcp_write(lrt_write_t* req, lrt_tcp_t* tcp, const void* data,
                             size_t len, lrt_write_cb cb);

/* Closes the socket; `cb` (may be NULL) runs in the close phase, after
 * which `tcp` may be freed. */
LRT_EXTERN void lrt_tcp_close(lrt_tcp_t* tcp, lrt_close_cb cb);

/* ------------------------------------------------------------------------
 * Signals, delivered on the loop thread in the poll phase.
 */

struct lrt_signal_s {
  void* data; /* the caller's */
  /* private */
  uv_signal_t handle;
  lrt_loop_t* loop;
  lrt_signal_cb cb;
  const char* label;
};

/* Calls `cb` each time `signum` arrives. The handle does not keep the loop
 * alive. Stop it with lrt_signal_stop(); lrt_loop_close() releases it. */
LRT_EXTERN int lrt_signal_start(lrt_loop_t* loop, lrt_signal_t* signal,
                                int signum, lrt_signal_cb cb,
                                const char* label);
LRT_EXTERN void lrt_signal_stop(lrt_signal_t* signal);

/* ------------------------------------------------------------------------
 * Spans around the caller's own code, e.g. inside a plain libuv callback
 * that the runtime does not dispatch: they appear as callbacks of kind
 * "user" in traces. Spans nest; every begin needs its end, on the loop
 * thread.
 */

LRT_EXTERN void lrt_span_begin(lrt_loop_t* loop, const char* label);
LRT_EXTERN void lrt_span_end(lrt_loop_t* loop);

#ifdef __cplusplus
}
#endif

#endif /* LOOPRT_H */
