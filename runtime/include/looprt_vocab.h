/* looprt_vocab.h — the trace vocabulary, each fact once: libuv's phases
 * and their order per libuv version, the callback kinds and which of them
 * complete threadpool work, the span categories, arg and metadata keys,
 * the trace file's format version and the nesting limit readers share.
 *
 * The runtime (which writes records), the BPF programs and the tracer's
 * exporter, stat and top (which read and write traces) include it through
 * looprt_trace.h; the viewer's js/vocab.js is generated from it when the
 * viewer is built (viewer/vocab_gen.c). tracer/TRACE-FORMAT.md says what
 * each name means in a trace file.
 *
 * Lists are X-macros in libuv's style (UV_ERRNO_MAP in uv.h): FOO_MAP(XX)
 * calls XX once per entry, and a user expands it into what it needs (an
 * enum, a name table, a JavaScript object). Names used inside C string
 * literals (TRACE_ARG_CUT in "\"" TRACE_ARG_CUT "\":") are macros of
 * their own, listed by name in a map.
 */
#ifndef LOOPRT_VOCAB_H
#define LOOPRT_VOCAB_H

#include <stdint.h>

/* ------------------------------------------------------------------------
 * Phases and their order
 */

/* libuv's loop phases: XX(NAME, value, "name in traces"). The value is
 * the kind of an LRT_REC_PHASE record: never renumber one. */
#define LRT_PHASE_MAP(XX)   \
  XX(TIMERS, 1, "timers")   \
  XX(PENDING, 2, "pending") \
  XX(IDLE, 3, "idle")       \
  XX(PREPARE, 4, "prepare") \
  XX(POLL, 5, "poll")       \
  XX(CHECK, 6, "check")     \
  XX(CLOSE, 7, "close")

/* The phases of one tick in the order libuv runs them: XX(NAME) each.
 * The pending phase may also run again right after poll; that second run
 * is not listed. libuv 1.45 moved timers from the start of an iteration
 * to its end (libuv commit 660095490, "change execution order of
 * timers"). */
#define LRT_PHASE_ORDER_1_44(XX) \
  XX(TIMERS)                     \
  XX(PENDING)                    \
  XX(IDLE)                       \
  XX(PREPARE)                    \
  XX(POLL)                       \
  XX(CHECK)                      \
  XX(CLOSE)
#define LRT_PHASE_ORDER_1_45(XX) \
  XX(PENDING)                    \
  XX(IDLE)                       \
  XX(PREPARE)                    \
  XX(POLL)                       \
  XX(CHECK)                      \
  XX(CLOSE)                      \
  XX(TIMERS)

/* A libuv version as uv_version() returns it, and the first version that
 * runs the phases in LRT_PHASE_ORDER_1_45 (the runtime, the libuv source
 * and readers of a trace's "libuv_version" all switch here). */
#define LRT_UV_VERSION(major, minor, patch) \
  (((uint32_t) (major) << 16) | ((uint32_t) (minor) << 8) | (uint32_t) (patch))
#define LRT_UV_TIMERS_LAST LRT_UV_VERSION(1, 45, 0)

/* clang-format off */
enum lrt_phase {
#define XX(name, value, text) LRT_PHASE_##name = value,
  LRT_PHASE_MAP(XX)
#undef XX
  LRT_PHASE_MAX = 8
};
/* clang-format on */

#define XX(name, value, text) \
  _Static_assert(value > 0 && value < LRT_PHASE_MAX, "phase " text);
LRT_PHASE_MAP(XX)
#undef XX

/* ------------------------------------------------------------------------
 * Callback kinds
 */

/* Kinds of the callbacks the runtime dispatches: XX(NAME, value, "name in
 * traces", completion). `completion` is 1 for a completion of threadpool
 * work (its span is the end of the task's flow, and the kind of the
 * task's LRT_REC_WORK_SUBMIT). The value is a record's kind: never
 * renumber one. */
#define LRT_CALLBACK_KIND_MAP(XX)                                           \
  XX(TIMER, 1, "timer", 0)           /* lrt_timeout */                      \
  XX(INTERVAL, 2, "interval", 0)     /* lrt_interval */                     \
  XX(IMMEDIATE, 3, "immediate", 0)   /* lrt_immediate */                    \
  XX(WORK, 4, "work", 1)             /* completion of lrt_work_submit */    \
  XX(FS, 5, "fs", 1)                 /* completion of lrt_fs_* */           \
  XX(DNS, 6, "dns", 1)               /* completion of lrt_getaddrinfo */    \
  XX(CRYPTO, 7, "crypto", 1)         /* completion of lrt_pbkdf2 */         \
  XX(CONNECTION, 8, "connection", 0) /* a listening socket has one */       \
  XX(CONNECT, 9, "connect", 0)       /* an outgoing connection completed */ \
  XX(READ, 10, "read", 0)            /* data (or EOF) on a stream */        \
  XX(WRITE, 11, "write", 0)          /* a write completed */                \
  XX(CLOSE, 12, "close", 0)          /* a handle finished closing */        \
  XX(SIGNAL, 13, "signal", 0)        /* a signal arrived */                 \
  XX(USER, 14, "user", 0) /* lrt_span_begin/end around the user's code */

/* clang-format off */
enum lrt_callback_kind {
#define XX(name, value, text, completion) LRT_CB_##name = value,
  LRT_CALLBACK_KIND_MAP(XX)
#undef XX
  LRT_CB_KIND_MAX = 15
};
/* clang-format on */

#define XX(name, value, text, completion) \
  _Static_assert(value > 0 && value < LRT_CB_KIND_MAX, "kind " text);
LRT_CALLBACK_KIND_MAP(XX)
#undef XX

/* ------------------------------------------------------------------------
 * The trace file (tracer/TRACE-FORMAT.md)
 */

/* The "trace_format" the exporter writes into the looptrace metadata
 * event, and the one stat and the viewer were written for. */
#define TRACE_FORMAT_VERSION 1

/* Spans nest at most this deep on a thread (a tick is depth 0). The
 * exporter writes no deeper span (it counts the begin as invalid), so
 * every reader keeps at least this many open spans. Perfetto stops at
 * 512. */
#define TRACE_MAX_DEPTH 500

/* Span categories ("cat"). The tick, wait and submit spans are also named
 * after their category. */
#define TRACE_CAT_TICK "tick"
#define TRACE_CAT_PHASE "phase"
#define TRACE_CAT_WAIT "wait"
#define TRACE_CAT_CALLBACK "callback"
#define TRACE_CAT_SUBMIT "submit"
#define TRACE_CAT_WORK "work"
#define TRACE_CAT_MAP(XX) \
  XX(TICK)                \
  XX(PHASE)               \
  XX(WAIT)                \
  XX(CALLBACK)            \
  XX(SUBMIT)              \
  XX(WORK)

/* looptrace's own instants: their cat, and their names. */
#define TRACE_INSTANT_CAT "looptrace"
#define TRACE_INSTANT_DROPPED "dropped" /* records lost */
#define TRACE_INSTANT_TRIGGER "trigger" /* the flight recorder fired */
#define TRACE_INSTANT_MAP(XX) \
  XX(DROPPED)                 \
  XX(TRIGGER)

/* Args of spans and instants. */
#define TRACE_ARG_TICK "tick"   /* tick number, on ticks and phases */
#define TRACE_ARG_KIND "kind"   /* callback kind */
#define TRACE_ARG_TASK "task"   /* task id: submit, work, completions */
#define TRACE_ARG_LABEL "label" /* on submit and work spans */
#define TRACE_ARG_QUEUE_WAIT_US "queue_wait_us" /* on work spans */
#define TRACE_ARG_AFTER_POLL "after_poll"       /* a tick's second pending */
#define TRACE_ARG_CUT "cut" /* TRACE_CUT_*: the span's ends not seen */
#define TRACE_ARG_INCOMPLETE "incomplete" /* legacy: true is cut "end" */
#define TRACE_ARG_RECORDS "records"       /* on dropped */
#define TRACE_ARG_REASON "reason"         /* on dropped */
#define TRACE_ARG_TRIGGER "trigger"       /* on trigger: e.g. "tick>50ms" */
#define TRACE_ARG_VALUE_US "value_us"     /* on trigger: what fired it */
#define TRACE_ARG_MAP(XX) \
  XX(TICK)                \
  XX(KIND)                \
  XX(TASK)                \
  XX(LABEL)               \
  XX(QUEUE_WAIT_US)       \
  XX(AFTER_POLL)          \
  XX(CUT)                 \
  XX(INCOMPLETE)          \
  XX(RECORDS)             \
  XX(REASON)              \
  XX(TRIGGER)             \
  XX(VALUE_US)

/* Values of TRACE_ARG_CUT. */
#define TRACE_CUT_END "end"     /* had not ended when the recording did */
#define TRACE_CUT_START "start" /* began before the tracer could see it */
#define TRACE_CUT_BOTH "both"
#define TRACE_CUT_MAP(XX) \
  XX(END)                 \
  XX(START)               \
  XX(BOTH)

/* The threadpool counter ("ph":"C") and its series. */
#define TRACE_COUNTER_THREADPOOL "threadpool"
#define TRACE_COUNTER_QUEUED "queued"
#define TRACE_COUNTER_RUNNING "running"
#define TRACE_COUNTER_MAP(XX) \
  XX(THREADPOOL)              \
  XX(QUEUED)                  \
  XX(RUNNING)

/* The metadata event ("ph":"M") that carries facts about the recording,
 * and its keys; a trace may hold several, each with some of the keys. */
#define TRACE_META_EVENT "looptrace"
#define TRACE_META_LOOPTRACE_VERSION "looptrace_version"
#define TRACE_META_TRACE_FORMAT "trace_format" /* TRACE_FORMAT_VERSION */
#define TRACE_META_CLOCK "clock"
#define TRACE_META_CLOCK_OFFSET_NS "clock_offset_ns"
#define TRACE_META_COMMAND "command"
#define TRACE_META_SOURCE "source" /* "looprt" or "libuv" */
#define TRACE_META_FALLBACKS "fallbacks"
#define TRACE_META_LIBUV_VERSION "libuv_version" /* lrt_uv_version_format */
#define TRACE_META_THREADPOOL_SIZE "threadpool_size"
#define TRACE_META_TIMESTAMPS "timestamps" /* TRACE_TIMESTAMPS_* */
/* Of a flight recorder's dump (tracer/flight.c): which one, what fired
 * it and when, the window it holds and the one asked for. */
#define TRACE_META_FLIGHT_DUMP "flight_dump"
#define TRACE_META_FLIGHT_TRIGGER "flight_trigger"
#define TRACE_META_FLIGHT_TRIGGER_US "flight_trigger_us"
#define TRACE_META_FLIGHT_WINDOW_START_US "flight_window_start_us"
#define TRACE_META_FLIGHT_WINDOW_END_US "flight_window_end_us"
#define TRACE_META_FLIGHT_SECONDS "flight_seconds"
#define TRACE_META_FLIGHT_AFTER "flight_after"
#define TRACE_META_FLIGHT_WINDOW_CUT "flight_window_cut"
#define TRACE_META_DURATION_US "duration_us"
#define TRACE_META_RECORDS "records"
#define TRACE_META_DROPS "drops"
#define TRACE_META_END_REASON "end_reason"
#define TRACE_META_TARGET_EXIT "target_exit"
#define TRACE_META_MAP(XX)   \
  XX(LOOPTRACE_VERSION)      \
  XX(TRACE_FORMAT)           \
  XX(CLOCK)                  \
  XX(CLOCK_OFFSET_NS)        \
  XX(COMMAND)                \
  XX(SOURCE)                 \
  XX(FALLBACKS)              \
  XX(LIBUV_VERSION)          \
  XX(THREADPOOL_SIZE)        \
  XX(TIMESTAMPS)             \
  XX(FLIGHT_DUMP)            \
  XX(FLIGHT_TRIGGER)         \
  XX(FLIGHT_TRIGGER_US)      \
  XX(FLIGHT_WINDOW_START_US) \
  XX(FLIGHT_WINDOW_END_US)   \
  XX(FLIGHT_SECONDS)         \
  XX(FLIGHT_AFTER)           \
  XX(FLIGHT_WINDOW_CUT)      \
  XX(DURATION_US)            \
  XX(RECORDS)                \
  XX(DROPS)                  \
  XX(END_REASON)             \
  XX(TARGET_EXIT)

/* Why records were lost: the values of TRACE_ARG_REASON on `dropped`
 * instants, XX(NAME, "text"). The first two are the kinds of an
 * LRT_REC_LOST record (enum lrt_lost_reason), in their order; the others
 * are the tracer's own. */
#define TRACE_DROP_MAP(XX)                         \
  XX(RUNTIME_FULL, "runtime buffer full")          \
  XX(AT_EXIT, "buffered at exit (process killed)") \
  XX(RING_FULL, "ring buffer full")                \
  XX(TOO_MANY_THREADS, "too many threads at once") \
  XX(LEFT_IN_RING, "left in the ring at stop")

/* Values of TRACE_META_SOURCE: what the events were seen through. */
#define TRACE_SOURCE_LOOPRT "looprt" /* the runtime's batch probe */
#define TRACE_SOURCE_LIBUV "libuv"   /* uprobes on a stock libuv */

/* Values of TRACE_META_TIMESTAMPS (enum lrt_clock). */
#define TRACE_TIMESTAMPS_GETTIME "clock_gettime"
#define TRACE_TIMESTAMPS_TSC "tsc"

/* The Chrome trace format's own metadata events ("ph":"M"). */
#define TRACE_CHROME_PROCESS_NAME "process_name"
#define TRACE_CHROME_PROCESS_SORT_INDEX "process_sort_index"
#define TRACE_CHROME_THREAD_NAME "thread_name"
#define TRACE_CHROME_THREAD_SORT_INDEX "thread_sort_index"
#define TRACE_CHROME_MAP(XX) \
  XX(PROCESS_NAME)           \
  XX(PROCESS_SORT_INDEX)     \
  XX(THREAD_NAME)            \
  XX(THREAD_SORT_INDEX)

/* ------------------------------------------------------------------------
 * Functions
 */

/* Phase names, as they appear in traces. NULL for an unknown phase. */
static inline const char* lrt_phase_name(unsigned phase) {
  static const char* const names[LRT_PHASE_MAX] = {
#define XX(name, value, text) [value] = text,
      LRT_PHASE_MAP(XX)
#undef XX
  };
  return phase < LRT_PHASE_MAX ? names[phase] : 0;
}

/* Callback kind names, as they appear in traces. NULL when unknown. */
static inline const char* lrt_callback_kind_name(unsigned kind) {
  static const char* const names[LRT_CB_KIND_MAX] = {
#define XX(name, value, text, completion) [value] = text,
      LRT_CALLBACK_KIND_MAP(XX)
#undef XX
  };
  return kind < LRT_CB_KIND_MAX ? names[kind] : 0;
}

/* 1 if a callback of `kind` completes threadpool work, else 0. */
static inline int lrt_callback_kind_is_completion(unsigned kind) {
  static const uint8_t completion[LRT_CB_KIND_MAX] = {
#define XX(name, value, text, is) [value] = is,
      LRT_CALLBACK_KIND_MAP(XX)
#undef XX
  };
  return kind < LRT_CB_KIND_MAX ? completion[kind] : 0;
}

/* The phases of one tick in the order libuv runs them, for libuv version
 * `uv_version` (LRT_UV_VERSION). Writes up to LRT_PHASE_MAX entries to
 * `order` and returns how many. */
static inline int lrt_phase_order(uint32_t uv_version, uint8_t* order) {
#define XX(name) LRT_PHASE_##name,
  static const uint8_t v1_44[] = {LRT_PHASE_ORDER_1_44(XX)};
  static const uint8_t v1_45[] = {LRT_PHASE_ORDER_1_45(XX)};
#undef XX
  const uint8_t* src = uv_version >= LRT_UV_TIMERS_LAST ? v1_45 : v1_44;
  int i;
  _Static_assert(sizeof(v1_44) == sizeof(v1_45), "one phase order length");
  for (i = 0; i < (int) sizeof(v1_44); i++)
    order[i] = src[i];
  return i;
}

/* Room for a version lrt_uv_version_format writes: "255.255.255". */
#define LRT_UV_VERSION_LEN 12

/* Writes libuv version `v` (LRT_UV_VERSION) as "X.Y.Z" to `buf`, which
 * has room for LRT_UV_VERSION_LEN bytes, NUL-terminated. Returns the end
 * of the text (the NUL). */
static inline char* lrt_uv_version_format(uint32_t v, char* buf) {
  unsigned part[3] = {(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff};
  char* p = buf;
  int i;
  for (i = 0; i < 3; i++) {
    if (i > 0)
      *p++ = '.';
    if (part[i] >= 100)
      *p++ = (char) ('0' + part[i] / 100);
    if (part[i] >= 10)
      *p++ = (char) ('0' + part[i] / 10 % 10);
    *p++ = (char) ('0' + part[i] % 10);
  }
  *p = '\0';
  return p;
}

/* Reads "X.Y.Z" or "X.Y" (the patch is then 0; anything after the last
 * number is ignored) as LRT_UV_VERSION does. Returns 0 for NULL or text
 * that does not start so, or a part above 255. */
static inline uint32_t lrt_uv_version_parse(const char* s) {
  unsigned part[3] = {0, 0, 0};
  int i;
  if (s == 0)
    return 0;
  for (i = 0; i < 3; i++) {
    if (i > 0 && *s++ != '.')
      return i == 2 ? LRT_UV_VERSION(part[0], part[1], 0) : 0;
    if (*s < '0' || *s > '9')
      return i == 2 ? LRT_UV_VERSION(part[0], part[1], 0) : 0;
    while (*s >= '0' && *s <= '9') {
      part[i] = part[i] * 10 + (unsigned) (*s++ - '0');
      if (part[i] > 255)
        return 0;
    }
  }
  return LRT_UV_VERSION(part[0], part[1], part[2]);
}

#endif /* LOOPRT_VOCAB_H */
