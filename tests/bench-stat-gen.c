/* bench-stat-gen.c — writes a realistic looptrace trace of about N MB to
 * stdout, for tests/bench-stat.sh.
 *
 *   bench-stat-gen MEGABYTES > trace.json
 *
 * The trace looks like what `looptrace record` writes for a busy server
 * (TRACE-FORMAT.md): one loop thread and 4 workers; every tick has a
 * timers phase with timer callbacks now and then, a poll phase with a
 * wait and I/O callbacks (reads, threadpool completions), often a check
 * phase with immediates; callbacks submit threadpool work that runs on
 * the workers with flows and counters. Deterministic (a fixed seed).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PID 31337
#define LOOP_TID 31337
#define WORKERS 4

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t) (rng % n);
}

static uint64_t written;

/* µs with three decimals from integer ns, as the exporter prints them. */
#define US(ns) (ns) / 1000, (int) ((ns) % 1000)

static void span(const char* name, const char* cat, int64_t ts, int64_t dur,
                 int tid, const char* extra, const char* args) {
  int n = printf("{\"name\":\"%s\",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%" PRId64
                 ".%03d,\"dur\":%" PRId64
                 ".%03d,\"pid\":%d,\"tid\":%d%s"
                 "%s%s%s},\n",
                 name, cat, US(ts), US(dur), PID, tid, extra,
                 args[0] ? ",\"args\":{" : "", args, args[0] ? "}" : "");
  written += (uint64_t) n;
}

struct task {
  int64_t id;
  int64_t submit;
  int64_t done; /* when the worker finished, 0 while queued */
};

int main(int argc, char** argv) {
  uint64_t target;
  int64_t now = 1000000; /* ns */
  int64_t worker_free[WORKERS] = {0};
  int64_t tick = 0;
  int64_t next_task = 1;
  struct task pending[64];
  int npending = 0;
  int queued = 0;
  char args[256];
  char tick_args[64];
  char extra[128];
  int i;

  if (argc != 2 || atoi(argv[1]) <= 0) {
    fprintf(stderr, "usage: bench-stat-gen MEGABYTES > trace.json\n");
    return 2;
  }
  target = (uint64_t) atoi(argv[1]) << 20;

  written += (uint64_t) printf(
      "[\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,"
      "\"args\":{\"name\":\"bench-server\"}},\n"
      "{\"name\":\"looptrace\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{"
      "\"looptrace_version\":\"0.1.0\",\"trace_format\":1,\"clock\":"
      "\"CLOCK_MONOTONIC\",\"clock_offset_ns\":81234567890,\"command\":"
      "\"bench-server --port 8080\"}},\n"
      "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":"
      "{\"name\":\"event loop\"}},\n"
      "{\"name\":\"looptrace\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{"
      "\"libuv_version\":\"1.44.2\",\"threadpool_size\":%d}},\n",
      PID, LOOP_TID, PID, LOOP_TID, PID, LOOP_TID, PID, LOOP_TID, WORKERS);
  for (i = 0; i < WORKERS; i++)
    written += (uint64_t) printf(
        "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,"
        "\"args\":{\"name\":\"worker %d\"}},\n",
        PID, LOOP_TID + 1 + i, i + 1);

  while (written < target) {
    int64_t t0 = now;
    int64_t t = now;
    int64_t wait;
    tick++;
    /* The tick's span is written before its children, so every length
     * is drawn up front. */
    int timer_cbs = rnd(4) == 0 ? 1 + (int) rnd(2) : 0;
    int io_cbs = 1 + (int) rnd(4);
    int immediates = rnd(3) == 0 ? 1 + (int) rnd(2) : 0;
    int64_t timer_dur[3], io_dur[5], imm_dur[3];
    int64_t timers_len = 300 + rnd(200);
    int64_t poll_len;
    int64_t check_len = 0;

    for (i = 0; i < timer_cbs; i++) {
      timer_dur[i] = 2000 + rnd(20000);
      timers_len += timer_dur[i] + 200;
    }
    wait = 20000 + rnd(400000);
    poll_len = wait + 500;
    for (i = 0; i < io_cbs; i++) {
      io_dur[i] = 3000 + rnd(rnd(50) == 0 ? 3000000 : 60000);
      poll_len += io_dur[i] + 300;
    }
    for (i = 0; i < immediates; i++) {
      imm_dur[i] = 1000 + rnd(10000);
      check_len += imm_dur[i] + 200;
    }
    if (immediates > 0)
      check_len += 300;

    snprintf(tick_args, sizeof(tick_args), "\"tick\":%" PRId64, tick);
    span("tick", "tick", t0, timers_len + poll_len + check_len + 800, LOOP_TID,
         "", tick_args);
    span("timers", "phase", t, timers_len, LOOP_TID, "", tick_args);
    t += 300;
    for (i = 0; i < timer_cbs; i++) {
      int interval = rnd(2);
      span(interval ? "setInterval" : "setTimeout", "callback", t, timer_dur[i],
           LOOP_TID, "",
           interval ? "\"kind\":\"interval\"" : "\"kind\":\"timer\"");
      t += timer_dur[i] + 200;
    }
    t = t0 + timers_len;
    span("poll", "phase", t, poll_len, LOOP_TID, "", tick_args);
    span("wait", "wait", t, wait, LOOP_TID, "", "");
    t += wait + 500;
    for (i = 0; i < io_cbs; i++) {
      /* A finished task's completion, or a socket read. */
      if (npending > 0 && pending[0].done != 0 && pending[0].done < t) {
        snprintf(extra, sizeof(extra),
                 ",\"bind_id\":%" PRId64 ",\"flow_in\":true", pending[0].id);
        snprintf(args, sizeof(args), "\"kind\":\"crypto\",\"task\":%" PRId64,
                 pending[0].id);
        span("pbkdf2", "callback", t, io_dur[i], LOOP_TID, extra, args);
        npending--;
        memmove(&pending[0], &pending[1], npending * sizeof(pending[0]));
      } else {
        span("socket.read", "callback", t, io_dur[i], LOOP_TID, "",
             "\"kind\":\"read\"");
        /* Some reads hand work to the pool. */
        if (rnd(3) == 0 && npending < 64) {
          int64_t sub = t + io_dur[i] / 2;
          int w = 0;
          int k;
          int64_t start;
          int64_t run = 200000 + rnd(2000000);
          struct task* tk = &pending[npending++];
          tk->id = next_task++;
          tk->submit = sub;
          snprintf(extra, sizeof(extra),
                   ",\"bind_id\":%" PRId64 ",\"flow_out\":true", tk->id);
          snprintf(args, sizeof(args),
                   "\"task\":%" PRId64 ",\"label\":\"pbkdf2\"", tk->id);
          span("submit", "submit", sub, 1000, LOOP_TID, extra, args);
          for (k = 1; k < WORKERS; k++)
            if (worker_free[k] < worker_free[w])
              w = k;
          start = worker_free[w] > sub + 5000 ? worker_free[w] : sub + 5000;
          worker_free[w] = start + run;
          tk->done = start + run;
          snprintf(extra, sizeof(extra),
                   ",\"bind_id\":%" PRId64
                   ",\"flow_in\":true,"
                   "\"flow_out\":true",
                   tk->id);
          snprintf(args, sizeof(args),
                   "\"task\":%" PRId64
                   ",\"label\":\"pbkdf2\","
                   "\"queue_wait_us\":%" PRId64 ".%03d",
                   tk->id, US(start - sub));
          span("pbkdf2", "work", start, run, LOOP_TID + 1 + w, extra, args);
          queued++;
          written += (uint64_t) printf(
              "{\"name\":\"threadpool\",\"ph\":\"C\",\"ts\":%" PRId64
              ".%03d,\"pid\":%d,\"tid\":%d,\"args\":{\"queued\":%d,"
              "\"running\":%d}},\n",
              US(sub), PID, LOOP_TID, queued > 0 ? 1 : 0, npending);
        }
      }
      t += io_dur[i] + 300;
    }
    t = t0 + timers_len + poll_len;
    if (immediates > 0) {
      span("check", "phase", t, check_len, LOOP_TID, "", tick_args);
      t += 300;
      for (i = 0; i < immediates; i++) {
        span("setImmediate", "callback", t, imm_dur[i], LOOP_TID, "",
             "\"kind\":\"immediate\"");
        t += imm_dur[i] + 200;
      }
    }
    queued = 0;
    now = t0 + timers_len + poll_len + check_len + 800 + rnd(2000);
  }
  printf(
      "{\"name\":\"looptrace\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,"
      "\"args\":{\"duration_us\":%" PRId64 ".%03d,\"records\":%" PRIu64
      ",\"drops\":0,\"end_reason\":\"signal\"}}\n]\n",
      PID, LOOP_TID, US(now), tick * 12);
  return 0;
}
