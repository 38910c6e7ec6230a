/* clock.c — the time of every record: CLOCK_MONOTONIC nanoseconds.
 *
 * clock_gettime(CLOCK_MONOTONIC) cost 22.6 ns of the 31 ns a traced
 * record cost (make bench, 2026-11-29); reading the TSC costs about 9.
 * Where the kernel itself keeps CLOCK_MONOTONIC with the TSC (its
 * clocksource is "tsc") and the TSC is invariant (constant_tsc,
 * nonstop_tsc), the runtime reads the TSC and converts it to
 * CLOCK_MONOTONIC ns on a line through a recent (TSC, CLOCK_MONOTONIC)
 * pair, with the slope measured over the whole time since the process's
 * first pair. Elsewhere, or with LOOPRT_CLOCK=clock_gettime in the
 * environment, it calls clock_gettime(). lrt__clock_kind() says which,
 * and the trace's metadata says it too (`timestamps`).
 *
 * The line is redrawn once it is REFRESH_NS old, by the first thread that
 * reads the clock then (so, while a session records, about as often as
 * the flusher passes): through CLOCK_MONOTONIC's value at that instant,
 * unless the old line had already given a later time; then from that
 * time, with a slope that brings it back to CLOCK_MONOTONIC over the next
 * REFRESH_NS. So no thread's times ever go backwards. Until the first
 * pair is CALIBRATE_NS old, the slope is not known well enough and
 * clock_gettime() gives the time.
 *
 * Measured (tests/test-tracer-clock.c's program, 10 s, a span every 2 ms
 * bracketed by the program's own clock_gettime() calls): every span's
 * times lay inside its brackets, the closest 14 ns from them; no drift
 * from second to second. lrt__now() costs 11.2 ns here against 20.3 for
 * clock_gettime() (a tight loop, 2026-11-29).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

#define CALIBRATE_NS (20 * 1000000ull)
#define REFRESH_NS (20 * 1000000ull)
#define MULT_SHIFT 32 /* mult: ns per TSC tick, times 2^32 */

enum clock_mode { MODE_UNSET, MODE_GETTIME, MODE_CALIBRATING, MODE_TSC };

static _Atomic int mode = MODE_UNSET;
static _Atomic int refreshing; /* a thread is redrawing the line */

/* The line: ns = base_ns + ((tsc - base_tsc) * mult >> MULT_SHIFT), valid
 * until `due` (TSC). Written under a sequence count (odd: being written).
 * Fields are atomics read relaxed: plain loads. */
static struct {
  _Atomic uint32_t seq;
  _Atomic uint64_t base_tsc;
  _Atomic uint64_t base_ns;
  _Atomic uint64_t mult;
  _Atomic uint64_t due;
} line;

/* The first pair, and the TSC ticks in REFRESH_NS. Under `refreshing`. */
static uint64_t first_tsc;
static uint64_t first_ns;
static uint64_t refresh_ticks;

static uint64_t gettime_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

#if HAVE_TSC
static inline uint64_t tsc(void) {
  return __rdtsc();
}
#else
static inline uint64_t tsc(void) {
  return 0;
}
#endif

/* A (TSC, CLOCK_MONOTONIC) pair read as close together as we can: the
 * TSC read on each side of clock_gettime(), the tightest of three. */
static void pair(uint64_t* t, uint64_t* ns) {
  uint64_t best = UINT64_MAX;
  int i;
  for (i = 0; i < 3; i++) {
    uint64_t t0 = tsc();
    uint64_t n = gettime_ns();
    uint64_t t1 = tsc();
    if (t1 - t0 < best) {
      best = t1 - t0;
      *t = t0 + (t1 - t0) / 2;
      *ns = n;
    }
  }
}

/* Whether the first line of `path` holds `word` (whole word). */
static int file_has_word(const char* path, const char* prefix,
                         const char* word) {
  char buf[4096];
  size_t wl = strlen(word);
  int found = 0;
  FILE* f = fopen(path, "r");
  if (f == NULL)
    return 0;
  while (!found && fgets(buf, sizeof(buf), f) != NULL) {
    const char* p = buf;
    if (prefix != NULL && strncmp(buf, prefix, strlen(prefix)) != 0)
      continue;
    while ((p = strstr(p, word)) != NULL) {
      if ((p == buf || p[-1] == ' ' || p[-1] == '\t') &&
          (p[wl] == ' ' || p[wl] == '\n' || p[wl] == '\0')) {
        found = 1;
        break;
      }
      p += wl;
    }
    if (prefix != NULL)
      break; /* the first matching line: cpu0's flags */
  }
  fclose(f);
  return found;
}

/* Whether the TSC can stand for CLOCK_MONOTONIC here. */
static int tsc_usable(void) {
  const char* env = getenv("LOOPRT_CLOCK");
  if (!HAVE_TSC)
    return 0;
  if (env != NULL && strcmp(env, "clock_gettime") == 0)
    return 0;
  return file_has_word(
             "/sys/devices/system/clocksource/clocksource0/current_clocksource",
             NULL, "tsc") &&
         file_has_word("/proc/cpuinfo", "flags", "constant_tsc") &&
         file_has_word("/proc/cpuinfo", "flags", "nonstop_tsc");
}

static void line_set(uint64_t base_tsc, uint64_t base_ns, uint64_t mult) {
  uint32_t s = atomic_load_explicit(&line.seq, memory_order_relaxed);
  atomic_store_explicit(&line.seq, s + 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  atomic_store_explicit(&line.base_tsc, base_tsc, memory_order_relaxed);
  atomic_store_explicit(&line.base_ns, base_ns, memory_order_relaxed);
  atomic_store_explicit(&line.mult, mult, memory_order_relaxed);
  atomic_store_explicit(&line.due, base_tsc + refresh_ticks,
                        memory_order_relaxed);
  atomic_store_explicit(&line.seq, s + 2, memory_order_release);
}

/* `ticks` TSC ticks in ns, on a line of slope `mult`. */
static inline uint64_t scale(uint64_t ticks, uint64_t mult) {
  return (uint64_t) (((unsigned __int128) ticks * mult) >> MULT_SHIFT);
}

/* The line's value at `t`; sets *due to the line's end. A reader that
 * keeps meeting the line half redrawn (its writer was preempted there)
 * takes clock_gettime() rather than spin for the writer's return: a few
 * ns off the line, in a case seldom seen. */
static inline uint64_t line_at(uint64_t t, uint64_t* due) {
  uint32_t s;
  uint64_t base_tsc;
  uint64_t base_ns;
  uint64_t mult;
  int tries = 0;
  do {
    if (tries++ == 4) {
      *due = UINT64_MAX;
      return gettime_ns();
    }
    s = atomic_load_explicit(&line.seq, memory_order_acquire);
    base_tsc = atomic_load_explicit(&line.base_tsc, memory_order_relaxed);
    base_ns = atomic_load_explicit(&line.base_ns, memory_order_relaxed);
    mult = atomic_load_explicit(&line.mult, memory_order_relaxed);
    *due = atomic_load_explicit(&line.due, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
  } while ((s & 1) != 0 ||
           s != atomic_load_explicit(&line.seq, memory_order_relaxed));
  /* A thread that read the TSC before the line was redrawn. */
  if (t < base_tsc)
    return base_ns - scale(base_tsc - t, mult);
  return base_ns + scale(t - base_tsc, mult);
}

/* Redraws the line at `t` (see the top of the file). Returns the time at
 * `t`. Called by one thread at a time. */
static uint64_t refresh(uint64_t t_now) {
  uint64_t t;
  uint64_t ns;
  uint64_t due;
  uint64_t last;
  uint64_t mult;
  uint64_t ticks;
  unsigned __int128 slope;

  pair(&t, &ns);
  if (t <= first_tsc || ns <= first_ns)
    return gettime_ns();
  /* The slope over everything seen so far. */
  slope = ((unsigned __int128) (ns - first_ns) << MULT_SHIFT) / (t - first_tsc);
  mult = (uint64_t) slope;
  ticks = refresh_ticks != 0 ? refresh_ticks : 1;
  if (atomic_load_explicit(&mode, memory_order_relaxed) == MODE_TSC) {
    /* The latest time the old line gave (it is redrawn once past its
     * end). Never go back before it: records stay in order. */
    line_at(t, &due);
    last = line_at(t < due ? t : due, &due);
    if (last > ns) {
      /* Ahead: stay there and slow down until CLOCK_MONOTONIC catches
       * up, over the next REFRESH_NS (at most halving the slope). */
      uint64_t ahead = last - ns;
      uint64_t slow =
          (uint64_t) (((unsigned __int128) ahead << MULT_SHIFT) / ticks);
      mult = slow < mult / 2 ? mult - slow : mult / 2;
      ns = last;
    }
  }
  line_set(t, ns, mult);
  return t_now >= t ? line_at(t_now, &due) : ns;
}

/* The first reading of the clock in this process decides how to read it. */
static void clock_init(void) {
  if (tsc_usable()) {
    pair(&first_tsc, &first_ns);
    atomic_store(&mode, MODE_CALIBRATING);
  } else {
    atomic_store(&mode, MODE_GETTIME);
  }
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* Calibrating: once the first pair is old enough, the first line. */
static void calibrate(uint64_t now_ns) {
  int expected = 0;
  uint64_t t;
  uint64_t ns;
  if (now_ns - first_ns < CALIBRATE_NS ||
      !atomic_compare_exchange_strong(&refreshing, &expected, 1))
    return;
  if (atomic_load(&mode) == MODE_CALIBRATING) {
    pair(&t, &ns);
    if (t > first_tsc && ns > first_ns) {
      /* TSC ticks in REFRESH_NS, from the slope measured so far. */
      refresh_ticks = (uint64_t) ((unsigned __int128) (t - first_tsc) *
                                  REFRESH_NS / (ns - first_ns));
      refresh(t);
      atomic_store_explicit(&mode, MODE_TSC, memory_order_release);
    }
  }
  atomic_store(&refreshing, 0);
}

static __attribute__((noinline)) uint64_t now_slow(uint64_t t) {
  int m = atomic_load_explicit(&mode, memory_order_acquire);
  int expected = 0;
  uint64_t ns;
  uint64_t due;

  if (m == MODE_TSC) {
    if (!atomic_compare_exchange_strong(&refreshing, &expected, 1))
      return line_at(t, &due); /* another thread redraws it */
    ns = refresh(t);
    atomic_store(&refreshing, 0);
    return ns;
  }
  if (m == MODE_UNSET) {
    pthread_once(&init_once, clock_init);
    m = atomic_load_explicit(&mode, memory_order_acquire);
  }
  ns = gettime_ns();
  if (m == MODE_CALIBRATING)
    calibrate(ns);
  return ns;
}

uint64_t lrt__now(void) {
  if (atomic_load_explicit(&mode, memory_order_relaxed) == MODE_TSC) {
    uint64_t t = tsc();
    uint64_t due;
    uint64_t ns = line_at(t, &due);
    if (t < due)
      return ns;
    return now_slow(t);
  }
  return now_slow(tsc());
}

/* A child forked while another thread redrew the line would never redraw
 * it again. */
static void after_fork_child(void) {
  atomic_store(&refreshing, 0);
}

__attribute__((constructor)) static void clock_atfork(void) {
  pthread_atfork(NULL, NULL, after_fork_child);
}

uint8_t lrt__clock_kind(void) {
  int m = atomic_load_explicit(&mode, memory_order_relaxed);
  if (m == MODE_UNSET) {
    pthread_once(&init_once, clock_init);
    m = atomic_load_explicit(&mode, memory_order_relaxed);
  }
  return m == MODE_GETTIME ? LRT_CLOCK_GETTIME : LRT_CLOCK_TSC;
}
