/* flight.h — the flight recorder of `looptrace record --flight SECONDS`.
 *
 * Instead of the exporter, the recorder takes the record stream
 * (runtime/include/looprt_trace.h) and keeps the last SECONDS of it in a
 * ring of at most --flight-size bytes, writing nothing. A small watcher
 * looks at each record as it arrives for a trigger (a tick, a callback or
 * a task's queue wait longer than a threshold; or flight_trigger() for
 * SIGUSR1). When one fires, the recorder keeps --after SECONDS more, then
 * replays the window through a fresh exporter into its own numbered file
 * (an ordinary trace, with the trigger marked) and watches on, up to
 * --max-dumps dumps.
 *
 *   struct flight* fl;
 *   flight_new(&fl, &opts, &dump_opts, "out.json");
 *   flight_records(fl, batch, n); ...         as batches arrive
 *   flight_advance(fl, now_ns); ...           writes a dump once it is due
 *   flight_finish(fl, now_ns, "signal");      writes a dump still pending
 *   flight_free(fl);
 *
 * Names (labels), thread intros, loop facts and the threadpool's counts
 * are kept apart from the ring, so that a dump of any window names its
 * threads and callbacks.
 */
#ifndef LOOPTRACE_FLIGHT_H
#define LOOPTRACE_FLIGHT_H

#include <argp.h>
#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "looprt_trace.h"

#define FLIGHT_DEFAULT_SIZE (64ull << 20)
#define FLIGHT_DEFAULT_AFTER 1.0
#define FLIGHT_DEFAULT_MAX_DUMPS 10
#define FLIGHT_MAX_TRIGGERS 8

enum flight_what {
  FLIGHT_TICK = 1, /* a tick longer than the threshold */
  FLIGHT_CALLBACK, /* a callback (or user span) longer than it */
  FLIGHT_QUEUE,    /* a task waiting in the queue longer than it */
};

struct flight_trigger {
  int what;              /* enum flight_what */
  uint64_t threshold_ns; /* fires when the measure exceeds it */
  char spec[40];         /* as the user wrote it: "tick>50ms" */
};

/* The flight options of `looptrace record`; seconds 0: not in flight. */
struct flight_opts {
  double seconds;     /* --flight: the window kept before a trigger */
  uint64_t size;      /* --flight-size: the ring's bytes */
  double after;       /* --after: kept after a trigger */
  unsigned max_dumps; /* --max-dumps */
  struct flight_trigger triggers[FLIGHT_MAX_TRIGGERS];
  int ntriggers;
  int extras; /* flight-only options given, checked against --flight */
};

/* The options above as an argp child of `looptrace record`: its input is
 * a struct flight_opts* set to the defaults by flight_opts_init(). The
 * parser checks each option and their combination at ARGP_KEY_END. */
extern const struct argp flight_argp;
void flight_opts_init(struct flight_opts* opts);

/* Parses "tick>50ms", "callback>2.5ms", "queue>500us" (units us, ms, s).
 * Returns 0 and fills *t, or -EINVAL. */
int flight_parse_trigger(const char* text, struct flight_trigger* t);

/* The name of dump `n` (from 1) for the output `pattern`: its "%d"
 * replaced by n if it has one, else "-n" put before a ".json" or
 * ".json.gz" ending, or after the name. Returns 0, or -ENAMETOOLONG. */
int flight_dump_path(const char* pattern, unsigned n, char* buf, size_t size);

struct flight_stats {
  uint64_t records;          /* records received */
  uint64_t held;             /* records in the ring now */
  uint64_t held_bytes;       /* their bytes */
  uint64_t window_ns;        /* time the ring covers now */
  uint64_t evicted_for_size; /* records that left the ring early (cap) */
  unsigned dumps;            /* dumps written */
  int pending;               /* a trigger fired, its dump is not written yet */
  unsigned trace_version;    /* set when flight_records() refused one */
  char last_path[4096];      /* the last dump written */
  char last_trigger[48];     /* and what fired it */
};

struct flight;

/* Checks that the dumps of `pattern` can be written (their directory
 * can) without writing anything. Returns 0 or a negative errno. */
int flight_check_output(const char* pattern);

/* Creates a recorder. `dump` gives what every dump's exporter takes
 * (pid, process name, command, all_phases; fd, start_ns and window_ns
 * are the recorder's); `output` is the file name pattern (see
 * flight_dump_path). The ring is allocated now (its pages are touched as
 * records come). Returns 0 or a negative errno. */
int flight_new(struct flight** out, const struct flight_opts* opts,
               const struct export_opts* dump, const char* output);

/* Takes `n` records of one batch: keeps them and runs the triggers on
 * them. Returns 0, or -EPROTONOSUPPORT for a loop that writes a trace
 * format this looptrace does not read (see flight_stats). */
int flight_records(struct flight* fl, const struct lrt_record* records,
                   size_t n);

/* Notes `count` records lost outside the runtime, noticed at `ts_ns`. */
void flight_dropped(struct flight* fl, uint64_t ts_ns, uint64_t pid,
                    uint64_t count);

/* Notes `count` records that were still unread in the BPF ring buffer
 * when the recording stopped at `ts_ns`: a dump written at the stop
 * (flight_finish) says so, as they may be of its window. */
void flight_dropped_left(struct flight* fl, uint64_t ts_ns, uint64_t count);

/* Fires the trigger `what` (e.g. "SIGUSR1") at `ts_ns`, as the records'
 * triggers do: ignored while a dump is pending or once max_dumps are
 * written. */
void flight_trigger(struct flight* fl, uint64_t ts_ns, const char* what);

/* Writes the pending dump if its window after the trigger has passed
 * (and the records of it have had time to arrive). Returns 0, 1 once
 * max_dumps dumps are written (the recording should stop), or a negative
 * errno from writing the dump (it is then removed). */
int flight_advance(struct flight* fl, uint64_t now_ns);

/* Notes how the traced program ended ("exited with status 3"), for a
 * dump flight_finish() writes. */
void flight_target_exit(struct flight* fl, const char* text);

/* Ends the recording at `now_ns`: a pending dump is written with what
 * came (its end_reason is `end_reason`). Returns 0 or a negative errno. */
int flight_finish(struct flight* fl, uint64_t now_ns, const char* end_reason);

void flight_stats(const struct flight* fl, struct flight_stats* stats);

/* Frees the recorder; NULL is fine. */
void flight_free(struct flight* fl);

#endif /* LOOPTRACE_FLIGHT_H */
