/* test-tracer.h — what the tracer's tests share (tests/test-tracer-lib.c):
 * loading a trace file and checking what TRACE-FORMAT.md promises of
 * every trace, running looptrace and the examples, and building record
 * streams by hand.
 */
#ifndef LOOPTRACE_TEST_TRACER_H
#define LOOPTRACE_TEST_TRACER_H

#include <cjson/cJSON.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/files.h"
#include "looprt_trace.h"

/* The looptrace binary under test. */
#define LOOPTRACE test_build_path("looptrace")

/* One X event of a trace, times in integer ns. */
struct tt_span {
  const cJSON* ev;
  const char* cat;
  const char* name;
  int64_t ts;
  int64_t dur;
  int64_t tid;
  int index;  /* in file order */
  int parent; /* index into tt_trace.spans of the enclosing span, -1 */
};

struct tt_trace {
  cJSON* root; /* the whole file */
  int64_t pid;
  int64_t duration_ns; /* from the final facts, -1 if absent */
  const char* end_reason;
  int64_t drops;
  int64_t records;
  uint32_t uv_version;   /* 0 if not reported */
  struct tt_span* spans; /* every X event, sorted by (tid, ts, -dur, index) */
  int nspans;
};

/* Reads and parses `path`; fails the test if it is not a JSON array whose
 * first event is process_name. Fills `t` (free with tt_free). */
void tt_load(const char* path, struct tt_trace* t);
void tt_free(struct tt_trace* t);

/* Checks every promise of TRACE-FORMAT.md that holds for any trace:
 * closing facts, threads named, spans nested on each thread with the
 * right parents, ticks apart, phases in libuv's order, times inside the
 * recording, flows well formed. Fails the test otherwise. */
void tt_check(struct tt_trace* t);

/* The `looptrace` fact `key` (TRACE-FORMAT.md: the metadata events named
 * looptrace, merged, the last one winning), or NULL if no event has it. */
const cJSON* tt_fact(const struct tt_trace* t, const char* key);

/* tt_fact() for a number the trace must have: fails the test if it has
 * none. */
double tt_fact_num(const struct tt_trace* t, const char* key);

/* The thread_name of `tid`, or NULL. */
const char* tt_thread_name(const struct tt_trace* t, int64_t tid);

/* The args member `key` of a span as a number (or -1) / flag. */
double tt_arg_num(const struct tt_span* s, const char* key);
int tt_has_flag(const struct tt_span* s, const char* key);
/* A span's args.cut ("start", "end", "both"), "" when it has none. */
const char* tt_cut(const struct tt_span* s);

/* ------------------------------------------------------------------------
 * Processes
 */

/* Skips (or, with LOOPTRACE_REQUIRE_BPF=1, fails) the test unless BPF
 * programs can be loaded here; mounts tracefs if needed. */
void tt_require_bpf(void);

/* Starts argv (environment plus `env`, "NAME=value" entries, may be
 * NULL) with stdout and stderr going to `out_path` (NULL: /dev/null).
 * Returns the pid. */
pid_t tt_spawn(char* const* argv, char* const* env, const char* out_path);

/* Waits up to `timeout_ms` for `pid`; returns its wait status, or -1 on
 * timeout (the process is then killed). */
int tt_wait(pid_t pid, int timeout_ms);

/* Runs argv to completion (at most timeout_ms); its stderr (and stdout)
 * are returned in a malloc'd string. Returns the wait status. */
int tt_run(char* const* argv, char* const* env, int timeout_ms, char** output);

/* Waits until `path` contains `text` (at most timeout_ms); returns 0 or -1. */
int tt_wait_for_text(const char* path, const char* text, int timeout_ms);

/* Waits until looptrace `tracer`, its stderr going to `log`, has attached
 * to its target (it says "tracing pid"); fails the test, showing the log,
 * if that takes over 30 s. */
void tt_wait_attached(pid_t tracer, const char* log);

/* Starts tests/progs/flood SHAPE ("ticks", "tids", ...; see flood.c),
 * its output going to `out_path`, and waits until it is ready to be
 * traced. `held`: it fires only once it gets SIGUSR2 (flood --hold), for
 * a count of what it fired that a tracer surely saw. Returns its pid. */
pid_t tt_spawn_flood(const char* shape, int held, const char* out_path);

/* A temporary file name, unique per call; no file has it (one left by an
 * earlier run is removed). */
const char* tt_tmp(const char* suffix);

/* ------------------------------------------------------------------------
 * Record streams by hand
 */

struct tt_stream {
  struct lrt_record* r;
  int n;
  int cap;
};

/* Appends a record; returns it. */
struct lrt_record* tt_add(struct tt_stream* s, uint64_t ts, uint32_t tid,
                          uint8_t type, uint8_t kind, uint16_t label,
                          uint64_t id, uint64_t arg);

/* Appends the LABEL records of `text` (`len` bytes). */
void tt_add_label(struct tt_stream* s, uint32_t tid, uint16_t id,
                  const char* text, size_t len);

#endif /* LOOPTRACE_TEST_TRACER_H */
