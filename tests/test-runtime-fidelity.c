/* test-runtime-fidelity.c — what a trace of a looprt program shows,
 * checked against what the program itself counted, as properties of the
 * whole trace (tests/progs/rt_fidelity.c writes the programs' counts).
 */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test-tracer.h"
#include "test.h"

#define PROG test_build_path("tests/progs/rt_fidelity")

/* Records `rt_fidelity MODE COUNTS` to `out`; returns looptrace's wait
 * status (a dying program may make looptrace report it). */
static int record_mode(const char* mode, const char* out, const char* counts) {
  char* argv[] = {(char*) LOOPTRACE, "record", "-q",         "-o",
                  (char*) out,       "--",     (char*) PROG, (char*) mode,
                  (char*) counts,    NULL};
  char* output;
  int status = tt_run(argv, NULL, 50000, &output);
  if (access(out, R_OK) != 0)
    TEST_FAIL_("no trace for mode %s (status %d): %s", mode, status, output);
  free(output);
  return status;
}

/* How many callback spans named `label` the trace holds. */
static int spans_named(const struct tt_trace* t, const char* label) {
  int i;
  int n = 0;
  for (i = 0; i < t->nspans; i++)
    if (strcmp(t->spans[i].cat, "callback") == 0 &&
        strcmp(t->spans[i].name, label) == 0)
      n++;
  return n;
}

/* The innermost enclosing span of category `cat`, or NULL. */
static const struct tt_span* enclosing(const struct tt_trace* t,
                                       const struct tt_span* s,
                                       const char* cat) {
  while (s->parent >= 0) {
    s = &t->spans[s->parent];
    if (strcmp(s->cat, cat) == 0)
      return s;
  }
  return NULL;
}

/* Every label the program counted is in the trace exactly as often. */
static void check_counts(const struct tt_trace* t, const char* counts) {
  char* text = test_read_file(counts, NULL);
  char* line;
  char* save = NULL;
  int lines = 0;
  ASSERT_NOT_NULL(text);
  for (line = strtok_r(text, "\n", &save); line != NULL;
       line = strtok_r(NULL, "\n", &save)) {
    char label[128];
    int n;
    ASSERT_EQ(sscanf(line, "%d %127s", &n, label), 2);
    if (spans_named(t, label) != n)
      TEST_FAIL_("'%s': the program ran %d, the trace has %d", label, n,
                 spans_named(t, label));
    lines++;
  }
  ASSERT_GT(lines, 0);
  free(text);
}

/* Plain libuv idle, prepare, check and timer handles started from every
 * phase (and from a plain async callback looprt does not see): each
 * callback lies in the phase libuv ran it in, the one its label names
 * before "<-"; every callback the program ran is there once. */
TEST_IMPL(runtime_fidelity_plain_handles) {
  const char* path = tt_tmp(".json");
  const char* counts = tt_tmp(".counts");
  struct tt_trace t;
  int checked = 0;
  int i;

  tt_require_bpf();
  ASSERT_EQ(record_mode("handles", path, counts), 0);
  tt_load(path, &t);
  tt_check(&t);
  check_counts(&t, counts);
  for (i = 0; i < t.nspans; i++) {
    const struct tt_span* s = &t.spans[i];
    const struct tt_span* phase;
    const char* arrow;
    if (strcmp(s->cat, "callback") != 0 ||
        (arrow = strstr(s->name, "<-")) == NULL)
      continue;
    phase = enclosing(&t, s, "phase");
    if (phase == NULL || strlen(phase->name) != (size_t) (arrow - s->name) ||
        strncmp(phase->name, s->name, arrow - s->name) != 0)
      TEST_FAIL_("'%s' drawn in the %s phase", s->name,
                 phase ? phase->name : "(no)");
    checked++;
  }
  ASSERT_GE(checked, 20 * 30);
  tt_free(&t);
  unlink(path);
  unlink(counts);
  return 0;
}

/* A short task submitted from main before lrt_run(): its work span
 * carries its queue wait, whatever order the threads' records came in
 * (the loop thread's first records are stamped no later than the submit
 * they precede). Several runs: the order is a race. */
TEST_IMPL(runtime_fidelity_early_submit) {
  int run;
  tt_require_bpf();
  for (run = 0; run < 5; run++) {
    const char* path = tt_tmp(".json");
    const char* counts = tt_tmp(".counts");
    struct tt_trace t;
    int works = 0;
    int i;
    ASSERT_EQ(record_mode("early", path, counts), 0);
    tt_load(path, &t);
    tt_check(&t);
    check_counts(&t, counts);
    for (i = 0; i < t.nspans; i++) {
      const struct tt_span* s = &t.spans[i];
      if (strcmp(s->cat, "work") != 0)
        continue;
      works++;
      if (tt_arg_num(s, "queue_wait_us") < 0)
        TEST_FAIL_("run %d: the early task has no queue_wait_us", run);
    }
    ASSERT_EQ(works, 1);
    tt_free(&t);
    unlink(path);
    unlink(counts);
  }
  return 0;
}

/* A tracer attaching to a running loop: the tick in progress is drawn as
 * a tick, with a phase, around its first callbacks; every callback lies
 * in a tick. */
TEST_IMPL(runtime_fidelity_attach_mid_tick) {
  const char* path = tt_tmp(".json");
  const char* counts = tt_tmp(".counts");
  const char* out = tt_tmp(".out");
  char* prog[] = {(char*) PROG, "attach", (char*) counts, NULL};
  char pid_text[32];
  char* argv[] = {(char*) LOOPTRACE, "record", "-q",  "-p",
                  pid_text,          "-d",     "0.4", "-o",
                  (char*) path,      NULL};
  const struct tt_span* first = NULL;
  struct tt_trace t;
  char* output;
  pid_t pid;
  int i;

  tt_require_bpf();
  pid = tt_spawn(prog, NULL, out);
  ASSERT_EQ(tt_wait_for_text(out, "ready", 10000), 0);
  usleep(100 * 1000);
  snprintf(pid_text, sizeof(pid_text), "%d", (int) pid);
  ASSERT_EQ(tt_run(argv, NULL, 20000, &output), 0);
  free(output);
  kill(pid, SIGTERM);
  ASSERT(tt_wait(pid, 10000) != -1);
  tt_load(path, &t);
  for (i = 0; i < t.nspans; i++) {
    const struct tt_span* s = &t.spans[i];
    if (strcmp(s->cat, "callback") != 0)
      continue;
    if (enclosing(&t, s, "tick") == NULL)
      TEST_FAIL_("callback '%s' at %.1f us outside any tick", s->name,
                 s->ts / 1e3);
    if (first == NULL || s->ts < first->ts)
      first = s;
  }
  ASSERT_NOT_NULL(first);
  ASSERT_NOT_NULL(enclosing(&t, first, "phase"));
  ASSERT_STR_EQ(enclosing(&t, first, "phase")->name, "timers");
  tt_free(&t);
  unlink(path);
  unlink(counts);
  unlink(out);
  return 0;
}

/* Waits until process `tracer` has a uprobe attached (bpftool perf
 * list); fails the test after 20 s. */
static void wait_attached(pid_t tracer) {
  char want[32];
  int i;
  snprintf(want, sizeof(want), "pid %d ", (int) tracer);
  for (i = 0; i < 400; i++) {
    char* argv[] = {"bpftool", "perf", "list", NULL};
    char* output;
    int found;
    tt_run(argv, NULL, 10000, &output);
    found = strstr(output, want) != NULL &&
            strstr(strstr(output, want), "uprobe") != NULL;
    free(output);
    if (found)
      return;
    usleep(50 * 1000);
  }
  TEST_FAIL_("looptrace (pid %d) did not attach", (int) tracer);
}

/* Runs `rt_fidelity MODE`, and, if `trace` is not NULL, `looptrace record
 * -p` on it into `trace` until it dies; returns its wait status. */
static int run_to_death(const char* mode, const char* counts, const char* out,
                        const char* trace) {
  char* prog[] = {(char*) PROG, (char*) mode, (char*) counts, NULL};
  char pid_text[32];
  char* argv[] = {(char*) LOOPTRACE, "record", "-q",          "-p",
                  pid_text,          "-o",     (char*) trace, NULL};
  pid_t pid;
  pid_t tracer = -1;
  int status;

  pid = tt_spawn(prog, NULL, out);
  ASSERT_EQ(tt_wait_for_text(out, "ready", 10000), 0);
  snprintf(pid_text, sizeof(pid_text), "%d", (int) pid);
  if (trace != NULL) {
    tracer = tt_spawn(argv, NULL, NULL);
    wait_attached(tracer);
    usleep(100 * 1000); /* and the session announced */
  }
  kill(pid, SIGUSR1);
  status = tt_wait(pid, 20000);
  ASSERT(status != -1);
  if (tracer != -1)
    ASSERT(tt_wait(tracer, 20000) != -1);
  return status;
}

/* A traced program that dies in a callback: every callback it ran is in
 * the trace (its records waited in its buffers: a fatal signal hands them
 * over, and for SIGKILL or _exit the tracer takes them as the process
 * exits), nothing is reported lost, and it dies exactly as it does
 * untraced (its own handler runs, then the default action). */
static void record_death(const char* mode) {
  const char* path = tt_tmp(".json");
  const char* counts = tt_tmp(".counts");
  const char* out = tt_tmp(".out");
  struct tt_trace t;
  int untraced;
  int traced;

  tt_require_bpf();
  untraced = run_to_death(mode, counts, out, NULL);
  unlink(out);
  traced = run_to_death(mode, counts, out, path);
  ASSERT_EQ(traced, untraced);
  if (strcmp(mode, "abort") == 0)
    ASSERT_EQ(tt_wait_for_text(out, "own handler ran", 1000), 0);
  tt_load(path, &t);
  check_counts(&t, counts);
  ASSERT_EQ(spans_named(&t, "dying"), 200);
  ASSERT_EQ(t.drops, 0);
  tt_free(&t);
  unlink(path);
  unlink(counts);
  unlink(out);
}

TEST_IMPL(runtime_fidelity_abort) {
  record_death("abort");
  return 0;
}

TEST_IMPL(runtime_fidelity_segv) {
  record_death("segv");
  return 0;
}

TEST_IMPL(runtime_fidelity_sigkill) {
  record_death("kill");
  return 0;
}

TEST_IMPL(runtime_fidelity_exit) {
  record_death("exit");
  return 0;
}

/* The first span of thread `tid`, or NULL. */
static const struct tt_span* first_on(const struct tt_trace* t, int64_t tid) {
  int i;
  for (i = 0; i < t->nspans; i++)
    if (t->spans[i].tid == tid)
      return &t->spans[i]; /* spans are sorted by thread, then time */
  return NULL;
}

/* A task running on a worker when a tracer attaches (-p) is the work
 * span it was: one span, on a worker, cut at its start, the worker busy
 * from the first moment the trace shows (no idle gap before it), ending
 * after the task was let go, its flow going to its completion; the
 * counters never count it twice. */
TEST_IMPL(runtime_fidelity_task_begun_earlier) {
  const char* path = tt_tmp(".json");
  const char* counts = tt_tmp(".counts");
  const char* out = tt_tmp(".out");
  char* prog[] = {(char*) PROG, "longtask", (char*) counts, NULL};
  char pid_text[32];
  char* argv[] = {(char*) LOOPTRACE, "record", "-q",         "-p",
                  pid_text,          "-o",     (char*) path, NULL};
  const struct tt_span* work = NULL;
  const struct tt_span* done = NULL;
  const cJSON* ev;
  double running = 0;
  double max_running = 0;
  struct timespec now;
  uint64_t released_ns;
  struct tt_trace t;
  pid_t pid;
  pid_t tracer;
  int works = 0;
  int i;

  tt_require_bpf();
  pid = tt_spawn(prog, NULL, out);
  ASSERT_EQ(tt_wait_for_text(out, "ready", 10000), 0);
  snprintf(pid_text, sizeof(pid_text), "%d", (int) pid);
  tracer = tt_spawn(argv, NULL, NULL);
  wait_attached(tracer);
  usleep(300 * 1000); /* the loop ticks every 10 ms: the session began */
  clock_gettime(CLOCK_MONOTONIC, &now);
  released_ns = (uint64_t) now.tv_sec * 1000000000ull + (uint64_t) now.tv_nsec;
  kill(pid, SIGUSR2);
  ASSERT_EQ(tt_wait(pid, 20000), 0);
  ASSERT_EQ(tt_wait(tracer, 20000), 0);
  ASSERT_EQ(tt_wait_for_text(counts, "1 longtask", 1000), 0);

  tt_load(path, &t);
  tt_check(&t);
  for (i = 0; i < t.nspans; i++) {
    const struct tt_span* s = &t.spans[i];
    if (strcmp(s->name, "longtask") != 0)
      continue;
    if (strcmp(s->cat, "work") == 0) {
      work = s;
      works++;
    } else if (strcmp(s->cat, "callback") == 0) {
      done = s;
    }
  }
  ASSERT_EQ(works, 1);
  ASSERT_NOT_NULL(tt_thread_name(&t, work->tid));
  ASSERT_EQ(strncmp(tt_thread_name(&t, work->tid), "worker", 6), 0);
  ASSERT_STR_EQ(tt_cut(work), "start");
  ASSERT_EQ(tt_arg_num(work, "queue_wait_us"), -1);
  ASSERT_GT(
      (uint64_t) tt_fact_num(&t, "clock_offset_ns") + work->ts + work->dur,
      released_ns);
  ASSERT_NOT_NULL(done);
  ASSERT(tt_has_flag(work, "flow_out"));
  ASSERT(tt_has_flag(done, "flow_in"));
  ASSERT_EQ(tt_arg_num(done, "task"), tt_arg_num(work, "task"));

  /* Busy from the first moment anything is seen; the counts hold it
   * once, and none at the end. */
  ASSERT(first_on(&t, work->tid) == work);
  for (i = 0; i < t.nspans; i++)
    ASSERT_LE(work->ts, t.spans[i].ts);
  cJSON_ArrayForEach(ev, t.root) {
    const cJSON* args = cJSON_GetObjectItem(ev, "args");
    if (strcmp(cJSON_GetObjectItem(ev, "ph")->valuestring, "C") != 0)
      continue;
    running = cJSON_GetObjectItem(args, "running")->valuedouble;
    if (running > max_running)
      max_running = running;
  }
  ASSERT_EQ(max_running, 1);
  ASSERT_EQ(running, 0);
  tt_free(&t);
  unlink(path);
  unlink(counts);
  unlink(out);
  return 0;
}
