/* test-tracer-record.c — `looptrace record` attached with BPF to the real
 * examples (build/examples/), checking the traces they give. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test-tracer.h"
#include "test.h"

#define EXAMPLE(name) test_build_path("examples/" name)
#define STATIC_EXAMPLE(name) test_build_path("examples/static/" name)

static char pool4[] = "UV_THREADPOOL_SIZE=4";

/* All spans of `cat`, in file order of the sorted trace. */
static int spans_of(const struct tt_trace* t, const char* cat,
                    const struct tt_span** out, int max) {
  int i;
  int n = 0;
  for (i = 0; i < t->nspans && n < max; i++)
    if (strcmp(t->spans[i].cat, cat) == 0)
      out[n++] = &t->spans[i];
  return n;
}

static const char* kind_of(const struct tt_span* s) {
  const cJSON* k =
      cJSON_GetObjectItem(cJSON_GetObjectItem(s->ev, "args"), "kind");
  return cJSON_IsString(k) ? k->valuestring : "";
}

/* The phase a span sits in, through enclosing callbacks; NULL if none. */
static const char* phase_of(const struct tt_trace* t, const struct tt_span* s) {
  while (s->parent >= 0) {
    s = &t->spans[s->parent];
    if (strcmp(s->cat, "phase") == 0)
      return s->name;
  }
  return NULL;
}

static void counter_peaks(const struct tt_trace* t, int* queued, int* running) {
  const cJSON* ev;
  *queued = 0;
  *running = 0;
  cJSON_ArrayForEach(ev, t->root) {
    const cJSON* args = cJSON_GetObjectItem(ev, "args");
    if (strcmp(cJSON_GetObjectItem(ev, "ph")->valuestring, "C") != 0)
      continue;
    if (cJSON_GetObjectItem(args, "queued")->valuedouble > *queued)
      *queued = (int) cJSON_GetObjectItem(args, "queued")->valuedouble;
    if (cJSON_GetObjectItem(args, "running")->valuedouble > *running)
      *running = (int) cJSON_GetObjectItem(args, "running")->valuedouble;
  }
}

/* Records `argv` (after "--") to `out`; returns looptrace's output. */
static char* record_cmd(const char* out, char** cmd, char** env) {
  char* argv[32] = {(char*) LOOPTRACE, "record", "-q", "-o", (char*) out, "--"};
  char* output;
  int status;
  int i;
  for (i = 0; cmd[i] != NULL; i++)
    argv[6 + i] = cmd[i];
  argv[6 + i] = NULL;
  status = tt_run(argv, env, 50000, &output);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    TEST_FAIL_("looptrace record failed (status %d): %s", status, output);
  return output;
}

/* The loop of the threads example does nothing but wait for its pool:
 * each of its long polls holds a wait, and is never all busy time (from
 * 37b3409 to 8643d3f the first tick's poll had no wait, and stat called
 * the loop 69% busy). Returns how many long polls it checked. */
static int long_polls_wait(const struct tt_trace* t) {
  const int64_t long_poll_ns = 20 * 1000 * 1000;
  int polls = 0;
  int waits;
  int i;
  int j;
  for (i = 0; i < t->nspans; i++) {
    const struct tt_span* poll = &t->spans[i];
    const cJSON* args = cJSON_GetObjectItem(poll->ev, "args");
    if (strcmp(poll->cat, "phase") != 0 || strcmp(poll->name, "poll") != 0 ||
        poll->dur < long_poll_ns || cJSON_GetObjectItem(args, "cut") != NULL)
      continue; /* a poll cut at the start began unseen: no wait known */
    polls++;
    waits = 0;
    for (j = 0; j < t->nspans; j++)
      if (t->spans[j].parent == i && strcmp(t->spans[j].cat, "wait") == 0)
        waits++;
    ASSERT_EQ(waits, 1);
  }
  return polls;
}

/* threads with a pool of 4: five pbkdf2 tasks on exactly four workers;
 * the fifth waits for one of the first four; every task's flow goes
 * submit → work → completion. */
TEST_IMPL(tracer_record_threads) {
  const char* path = tt_tmp(".json");
  char* cmd[] = {(char*) EXAMPLE("threads"), NULL};
  char* env[] = {pool4, NULL};
  const struct tt_span* work[8];
  const struct tt_span* submit[8];
  const struct tt_span* cb[64];
  struct tt_trace t;
  int64_t tids[8];
  int64_t min_end = INT64_MAX;
  int ntids = 0;
  int nwork;
  int ncb;
  int queued;
  int running;
  int i;
  int j;

  tt_require_bpf();
  free(record_cmd(path, cmd, env));
  tt_load(path, &t);
  tt_check(&t);
  ASSERT_STR_EQ(t.end_reason, "target-exited");
  ASSERT_EQ(t.drops, 0);
  ASSERT_EQ(tt_fact_num(&t, "threadpool_size"), 4);
  ASSERT_STR_EQ(tt_thread_name(&t, t.pid), "event loop");

  nwork = spans_of(&t, "work", work, 8);
  ASSERT_EQ(nwork, 5);
  ASSERT_EQ(spans_of(&t, "submit", submit, 8), 5);
  /* Exactly four distinct workers. */
  for (i = 0; i < nwork; i++) {
    for (j = 0; j < ntids && tids[j] != work[i]->tid; j++)
      ;
    if (j == ntids)
      tids[ntids++] = work[i]->tid;
    ASSERT_STR_EQ(work[i]->name, "pbkdf2");
  }
  ASSERT_EQ(ntids, 4);
  /* The task that started last waited for a worker to be free. */
  {
    const struct tt_span* last = work[0];
    const struct tt_span* its_submit = NULL;
    for (i = 1; i < nwork; i++)
      if (work[i]->ts > last->ts)
        last = work[i];
    for (i = 0; i < nwork; i++)
      if (work[i] != last && work[i]->ts + work[i]->dur < min_end)
        min_end = work[i]->ts + work[i]->dur;
    ASSERT_GE(last->ts, min_end);
    for (i = 0; i < 5; i++)
      if (tt_arg_num(submit[i], "task") == tt_arg_num(last, "task"))
        its_submit = submit[i];
    ASSERT_NOT_NULL(its_submit);
    /* queue_wait_us is start − submit, and covers the wait for a free
     * worker. */
    ASSERT_DOUBLE_GE(tt_arg_num(last, "queue_wait_us") * 1000,
                     (double) (last->ts - its_submit->ts) - 1);
    ASSERT_DOUBLE_LE(tt_arg_num(last, "queue_wait_us") * 1000,
                     (double) (last->ts - its_submit->ts) + 1);
    ASSERT_DOUBLE_GE(tt_arg_num(last, "queue_wait_us") * 1000,
                     (double) (min_end - its_submit->ts) - 1);
  }
  /* Every task: submit (flow_out) → work (flow_in, flow_out) → completion
   * (flow_in), all bound by the task id. */
  ncb = spans_of(&t, "callback", cb, 64);
  for (i = 0; i < 5; i++) {
    double task = tt_arg_num(submit[i], "task");
    int works = 0;
    int completions = 0;
    ASSERT(tt_has_flag(submit[i], "flow_out"));
    ASSERT_EQ(cJSON_GetObjectItem(submit[i]->ev, "bind_id")->valuedouble, task);
    for (j = 0; j < nwork; j++) {
      if (tt_arg_num(work[j], "task") != task)
        continue;
      works++;
      ASSERT(tt_has_flag(work[j], "flow_in"));
      ASSERT(tt_has_flag(work[j], "flow_out"));
      ASSERT_EQ(cJSON_GetObjectItem(work[j]->ev, "bind_id")->valuedouble, task);
      ASSERT_GE(work[j]->ts, submit[i]->ts);
    }
    for (j = 0; j < ncb; j++) {
      if (tt_arg_num(cb[j], "task") != task)
        continue;
      completions++;
      ASSERT_STR_EQ(kind_of(cb[j]), "crypto");
      ASSERT_STR_EQ(phase_of(&t, cb[j]), "poll");
      ASSERT(tt_has_flag(cb[j], "flow_in"));
      ASSERT_EQ(cJSON_GetObjectItem(cb[j]->ev, "bind_id")->valuedouble, task);
    }
    ASSERT_EQ(works, 1);
    ASSERT_EQ(completions, 1);
  }
  counter_peaks(&t, &queued, &running);
  ASSERT_EQ(running, 4);
  ASSERT_GE(queued, 1);
  ASSERT_GT(long_polls_wait(&t), 0);
  tt_free(&t);
  unlink(path);
  return 0;
}

/* Each callback of the phases example sits in the phase of its kind. */
TEST_IMPL(tracer_record_phases) {
  static const struct {
    const char* kind;
    const char* phases;
  } rules[] = {
      {"timer", "timers"},    {"interval", "timers"},    {"immediate", "check"},
      {"close", "close"},     {"write", "pending poll"}, {"work", "poll"},
      {"fs", "poll"},         {"dns", "poll"},           {"crypto", "poll"},
      {"connection", "poll"}, {"connect", "poll"},       {"read", "poll"},
      {"signal", "poll"},
  };
  const char* path = tt_tmp(".json");
  char* cmd[] = {(char*) EXAMPLE("phases"), NULL};
  const struct tt_span* cb[256];
  struct tt_trace t;
  char kinds[512] = " ";
  int n;
  int i;
  size_t k;

  tt_require_bpf();
  free(record_cmd(path, cmd, NULL));
  tt_load(path, &t);
  tt_check(&t);
  n = spans_of(&t, "callback", cb, 256);
  for (i = 0; i < n; i++) {
    const char* kind = kind_of(cb[i]);
    const char* phase = phase_of(&t, cb[i]);
    char word[32];
    snprintf(word, sizeof(word), " %s ", kind);
    if (strstr(kinds, word) == NULL)
      strncat(kinds, word + 1, sizeof(kinds) - strlen(kinds) - 1);
    if (strcmp(kind, "user") == 0)
      continue;
    ASSERT_NOT_NULL(phase);
    for (k = 0; k < sizeof(rules) / sizeof(rules[0]); k++) {
      if (strcmp(rules[k].kind, kind) != 0)
        continue;
      if (strstr(rules[k].phases, phase) == NULL)
        TEST_FAIL_("a %s callback ('%s') in the %s phase", kind, cb[i]->name,
                   phase);
      break;
    }
    ASSERT(k < sizeof(rules) / sizeof(rules[0]));
  }
  /* The example shows every phase: these kinds must all be there. */
  {
    static const char* const want[] = {"timer",   "interval", "immediate",
                                       "close",   "write",    "fs",
                                       "connect", "read",     "user"};
    for (k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
      char word[32];
      snprintf(word, sizeof(word), " %s ", want[k]);
      if (strstr(kinds, word) == NULL)
        TEST_FAIL_("no %s callback in the trace (kinds:%s)", want[k], kinds);
    }
  }
  /* The user spans of plain libuv idle and prepare handles. */
  for (i = 0; i < n; i++) {
    if (strcmp(cb[i]->name, "uv_idle_t callback") == 0)
      ASSERT_STR_EQ(phase_of(&t, cb[i]), "idle");
    if (strcmp(cb[i]->name, "uv_prepare_t callback") == 0)
      ASSERT_STR_EQ(phase_of(&t, cb[i]), "prepare");
  }
  tt_free(&t);
  unlink(path);
  return 0;
}

/* multitask: a request, a file read and four pbkdf2 calls at once. */
TEST_IMPL(tracer_record_multitask) {
  const char* path = tt_tmp(".json");
  char* cmd[] = {(char*) EXAMPLE("multitask"), NULL};
  char* env[] = {pool4, NULL};
  const struct tt_span* cb[256];
  struct tt_trace t;
  int crypto = 0;
  int fs = 0;
  int n;
  int i;

  tt_require_bpf();
  free(record_cmd(path, cmd, env));
  tt_load(path, &t);
  tt_check(&t);
  n = spans_of(&t, "callback", cb, 256);
  for (i = 0; i < n; i++) {
    crypto += strcmp(kind_of(cb[i]), "crypto") == 0;
    fs += strcmp(kind_of(cb[i]), "fs") == 0;
    if (strcmp(kind_of(cb[i]), "crypto") == 0 ||
        strcmp(kind_of(cb[i]), "fs") == 0)
      ASSERT(tt_has_flag(cb[i], "flow_in"));
  }
  ASSERT_EQ(crypto, 4);
  ASSERT_GE(fs, 1);
  tt_free(&t);
  unlink(path);
  return 0;
}

/* A running program, attached by pid: returns its pid once it runs. */
static pid_t start_threads(const char* exe, const char* out,
                           const char* rounds) {
  char* argv[] = {(char*) exe, "--rounds",     (char*) rounds, "--pause",
                  "20",        "--iterations", "20000",        NULL};
  char* env[] = {pool4, NULL};
  pid_t pid = tt_spawn(argv, env, out);
  ASSERT_EQ(tt_wait_for_text(out, "pbkdf2 #5", 20000), 0);
  return pid;
}

static void record_pid(const char* exe, const char* how) {
  const char* out = tt_tmp(".out");
  const char* path = tt_tmp(".json");
  char pid_text[16];
  char* listing;
  char* output;
  const struct tt_span* work[1024];
  struct tt_trace t;
  pid_t pid = start_threads(exe, out, "0");
  char* argv[] = {(char*) LOOPTRACE, "record", "-p", pid_text, "-d", "1", "-o",
                  (char*) path,      NULL};
  char* list[] = {(char*) LOOPTRACE, "list", "-p", pid_text, NULL};
  int status;
  int n;
  int i;
  size_t before;
  size_t after;

  snprintf(pid_text, sizeof(pid_text), "%d", (int) pid);
  status = tt_run(list, NULL, 10000, &listing);
  ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (strstr(listing, how) == NULL || strstr(listing, "looprt:flush") == NULL)
    TEST_FAIL_("looptrace list -p: %s", listing);
  free(listing);

  status = tt_run(argv, NULL, 20000, &output);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    TEST_FAIL_("looptrace record -p failed: %s", output);
  ASSERT_NOT_NULL(strstr(output, "looptrace: tracing pid"));
  ASSERT_NOT_NULL(strstr(output, "(duration)"));
  free(output);
  tt_load(path, &t);
  tt_check(&t);
  ASSERT_STR_EQ(t.end_reason, "duration");
  /* -d 1: the recording ends with the last record received, which the
   * runtime flushed before the detach (slower on a loaded machine). */
  ASSERT_GE(t.duration_ns, 500000000);
  ASSERT_LE(t.duration_ns, 3000000000);
  n = spans_of(&t, "work", work, 1024);
  ASSERT_GE(n, 5);
  /* Tasks submitted while recording have the whole flow. */
  for (i = 0; i < n; i++)
    if (tt_has_flag(work[i], "flow_in"))
      break;
  ASSERT(i < n);
  tt_free(&t);

  /* Detached, the program goes on as before. */
  output = test_slurp(out, &before);
  free(output);
  usleep(500000);
  output = test_slurp(out, &after);
  free(output);
  ASSERT_GT(after, before);
  ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0);
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  unlink(out);
  unlink(path);
}

TEST_IMPL(tracer_record_pid_shared) {
  tt_require_bpf();
  record_pid(EXAMPLE("threads"), "liblooprt.so.0");
  return 0;
}

TEST_IMPL(tracer_record_pid_static) {
  tt_require_bpf();
  record_pid(STATIC_EXAMPLE("threads"), "linked into its executable");
  return 0;
}

/* Recording while the target is running, ended by `signo` sent to
 * looptrace or to the target (0: the target ends by itself). */
static void record_until(int signo, int kill_target, const char* reason) {
  const char* out = tt_tmp(".out");
  const char* log = tt_tmp(".log");
  const char* path = tt_tmp(".json");
  char pid_text[16];
  pid_t pid = start_threads(EXAMPLE("threads"), out, signo ? "0" : "40");
  char* argv[] = {(char*) LOOPTRACE, "record", "-p", pid_text, "-o",
                  (char*) path,      NULL};
  struct tt_trace t;
  pid_t tracer;
  int status;
  char* text;

  snprintf(pid_text, sizeof(pid_text), "%d", (int) pid);
  tracer = tt_spawn(argv, NULL, log);
  ASSERT_EQ(tt_wait_for_text(log, "tracing pid", 10000), 0);
  usleep(700000);
  if (signo != 0)
    kill(kill_target ? pid : tracer, signo);
  /* Without a signal, until threads' 40 rounds end: at load 14, 9 s, and
   * 40 s under ASan (20 s was the limit: make check of a fresh clone). */
  status = tt_wait(tracer, 90000);
  text = test_slurp(log, NULL);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    TEST_FAIL_("looptrace ended with status %d: %s", status, text);
  ASSERT_NOT_NULL(strstr(text, "looptrace: wrote"));
  free(text);
  tt_load(path, &t);
  tt_check(&t);
  ASSERT_STR_EQ(t.end_reason, reason);
  ASSERT_GT(t.nspans, 0);
  tt_free(&t);
  if (kill_target) {
    ASSERT(waitpid(pid, &status, 0) == pid);
  } else {
    /* looptrace stopped; the target runs on. */
    ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0);
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  unlink(out);
  unlink(log);
  unlink(path);
}

TEST_IMPL(tracer_record_sigint) {
  tt_require_bpf();
  record_until(SIGINT, 0, "signal");
  return 0;
}

TEST_IMPL(tracer_record_sigterm) {
  tt_require_bpf();
  record_until(SIGTERM, 0, "signal");
  return 0;
}

TEST_IMPL(tracer_record_target_killed) {
  tt_require_bpf();
  record_until(SIGKILL, 1, "target-exited");
  return 0;
}

TEST_IMPL_TIMEOUT(tracer_record_target_exits, 150) {
  tt_require_bpf();
  record_until(0, 1, "target-exited");
  return 0;
}

/* A program started by looptrace: Ctrl-C-like SIGINT to looptrace alone
 * is passed on, the program stops, the trace ends cleanly. */
TEST_IMPL(tracer_record_cmd_sigint) {
  const char* log = tt_tmp(".log");
  const char* path = tt_tmp(".json");
  char* argv[] = {(char*) LOOPTRACE,       "record", "-o", (char*) path, "--",
                  (char*) EXAMPLE("echo"), NULL};
  struct tt_trace t;
  pid_t tracer;
  int status;
  char* text;

  tt_require_bpf();
  tracer = tt_spawn(argv, NULL, log);
  ASSERT_EQ(tt_wait_for_text(log, "echo: listening", 10000), 0);
  usleep(300000);
  kill(tracer, SIGINT);
  status = tt_wait(tracer, 10000);
  text = test_slurp(log, NULL);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    TEST_FAIL_("looptrace ended with status %d: %s", status, text);
  /* The program shut down by itself, and its shutdown is in the trace. */
  ASSERT_NOT_NULL(strstr(text, "connections"));
  free(text);
  tt_load(path, &t);
  tt_check(&t);
  ASSERT_STR_EQ(t.end_reason, "signal");
  {
    const struct tt_span* cb[64];
    int n = spans_of(&t, "callback", cb, 64);
    int i;
    for (i = 0; i < n && strcmp(kind_of(cb[i]), "signal") != 0; i++)
      ;
    ASSERT(i < n);
    ASSERT_STR_EQ(cb[i]->name, "SIGINT");
  }
  tt_free(&t);
  unlink(log);
  unlink(path);
  return 0;
}

/* A tiny ring buffer loses records: they are counted, printed and in the
 * file. */
TEST_IMPL(tracer_record_drops) {
  const char* out = tt_tmp(".out");
  const char* path = tt_tmp(".json");
  char pid_text[16];
  char* argv_busy[] = {(char*) EXAMPLE("threads"),
                       "--rounds",
                       "0",
                       "--pause",
                       "0",
                       "--iterations",
                       "1",
                       "--tasks",
                       "64",
                       NULL};
  char* argv[] = {
      (char*) LOOPTRACE, "record", "-q", "-p",         pid_text, "-d", "1",
      "--ring-size",     "4096",   "-o", (char*) path, NULL};
  struct tt_trace t;
  char* output;
  pid_t pid;
  int status;

  tt_require_bpf();
  pid = tt_spawn(argv_busy, NULL, out);
  usleep(300000);
  snprintf(pid_text, sizeof(pid_text), "%d", (int) pid);
  status = tt_run(argv, NULL, 20000, &output);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    TEST_FAIL_("looptrace record failed: %s", output);
  if (strstr(output, "ring buffer full: ") == NULL)
    TEST_FAIL_("no drops reported: %s", output);
  tt_load(path, &t);
  tt_check(&t); /* the dropped instants add up to the facts' drops */
  ASSERT_GT(t.drops, 0);
  {
    char expect[64];
    snprintf(expect, sizeof(expect), "; %" PRId64 " records dropped", t.drops);
    if (strstr(output, expect) == NULL)
      TEST_FAIL_("'%s' not in: %s", expect, output);
  }
  free(output);
  tt_free(&t);
  ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0);
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  unlink(out);
  unlink(path);
  return 0;
}

/* ------------------------------------------------------------------------
 * The drain when the target ends by itself (394fb39): its ring is read to
 * the end. looptrace is stopped (SIGSTOP) while tests/progs/flood fills
 * its ring, the flood stops firing and is killed, then looptrace goes on:
 * nothing is left in the ring, and every record fired is in the trace or
 * dropped because the ring was full. Before 394fb39 the drain read for
 * 5 ms only and counted the rest (of 16M: ~500k records) as "left in the
 * ring at stop".
 */

/* The number after the first `key` in `text`, or -1 if there is none. */
static int64_t num_after(const char* text, const char* key) {
  const char* p = strstr(text, key);
  return p != NULL ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/* What the summary line of looptrace's `log` says: records written and
 * dropped, and the reason the recording ended. */
static void summary_of(const char* log, int64_t* records, int64_t* drops,
                       char* reason, size_t reason_len) {
  const char* line = strstr(log, "looptrace: wrote ");
  const char* open;
  const char* close;
  if (line == NULL)
    TEST_FAIL_("no summary line in: %s", log);
  *records = num_after(line, " events from ");
  open = strchr(line, '(');
  close = open != NULL ? strchr(open, ')') : NULL;
  if (*records < 0 || close == NULL || (size_t) (close - open) > reason_len)
    TEST_FAIL_(
        "a summary line unlike 'wrote F: N events from R records "
        "in T s (REASON); D records dropped': %s",
        line);
  snprintf(reason, reason_len, "%.*s", (int) (close - open - 1), open + 1);
  *drops = num_after(close, "); ");
}

TEST_IMPL(tracer_record_drain_target_exit) {
  const char* out = tt_tmp(".out");
  const char* log = tt_tmp(".log");
  const char* path = tt_tmp(".json");
  char pid_text[16];
  char* argv[] = {(char*) LOOPTRACE, "record", "-p", pid_text, "-o",
                  (char*) path,      NULL};
  char* check[] = {(char*) test_build_path("tests/trace-facts"),
                   (char*) path,
                   "records",
                   "drops",
                   "dropped:left in the ring at stop=0",
                   NULL};
  char reason[32];
  char expect[96];
  int64_t records;
  int64_t drops;
  int64_t fired;
  char* text;
  pid_t flood;
  pid_t tracer;
  int status;

  tt_require_bpf();
  flood = tt_spawn_flood("ticks", 1, out);
  snprintf(pid_text, sizeof(pid_text), "%d", (int) flood);
  tracer = tt_spawn(argv, NULL, log);
  tt_wait_attached(tracer, log);
  ASSERT_EQ(kill(tracer, SIGSTOP), 0);
  ASSERT_EQ(kill(flood, SIGUSR2), 0); /* fire */
  usleep(300000); /* the ring fills in ~30 ms, then the probe drops */
  ASSERT_EQ(kill(flood, SIGUSR1), 0);
  ASSERT_EQ(tt_wait_for_text(out, "flood: fired", 10000), 0);
  kill(flood, SIGKILL);
  status = tt_wait(flood, 10000);
  ASSERT(WIFSIGNALED(status));
  ASSERT_EQ(kill(tracer, SIGCONT), 0);
  status = tt_wait(tracer, 30000);
  text = test_slurp(log, NULL);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    TEST_FAIL_("looptrace record failed (status %d): %s", status, text);
  summary_of(text, &records, &drops, reason, sizeof(reason));
  ASSERT_STR_EQ(reason, "target-exited");
  if (strstr(text, "left in the ring at stop: 0,") == NULL)
    TEST_FAIL_("records left in the ring: %s", text);
  ASSERT_GT(drops, 0); /* or the ring was not full: nothing tested */
  free(text);
  text = test_slurp(out, NULL);
  fired = num_after(text, "flood: fired ");
  free(text);
  printf("drain: fired %" PRId64 ", read %" PRId64 ", dropped %" PRId64 "\n",
         fired, records, drops);
  ASSERT_EQ(records + drops, fired);

  /* The trace says the same, and its drops add up. */
  status = tt_run(check, NULL, 30000, &text);
  snprintf(expect, sizeof(expect), "%" PRId64 "\n%" PRId64 "\n0\n", records,
           drops);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      strcmp(text, expect) != 0)
    TEST_FAIL_("trace-facts (status %d) said: %s", status, text);
  free(text);
  unlink(out);
  unlink(log);
  unlink(path);
  return 0;
}

/* ------------------------------------------------------------------------
 * Attaching to echo while a client talks to it, then detaching, leaves
 * echo serving correctly: every byte comes back unchanged throughout.
 */

struct client {
  int port;
  volatile int stop;
  uint64_t sent;
  uint64_t echoed;
  int error; /* 0, or a line number */
};

static void* client_main(void* arg) {
  struct client* c = arg;
  struct sockaddr_in addr;
  char out[4096];
  char in[4096];
  uint64_t seed = 12345;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t) c->port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr*) &addr, sizeof(addr)) != 0) {
    c->error = __LINE__;
    return NULL;
  }
  while (!c->stop) {
    size_t n = 1 + (size_t) (seed % sizeof(out));
    size_t got = 0;
    size_t i;
    for (i = 0; i < n; i++) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      out[i] = (char) (seed >> 56);
    }
    if (send(fd, out, n, MSG_NOSIGNAL) != (ssize_t) n) {
      c->error = __LINE__;
      break;
    }
    c->sent += n;
    while (got < n) {
      struct pollfd p = {fd, POLLIN, 0};
      ssize_t r;
      if (poll(&p, 1, 5000) != 1) {
        c->error = __LINE__;
        goto done;
      }
      r = recv(fd, in + got, n - got, 0);
      if (r <= 0) {
        c->error = __LINE__;
        goto done;
      }
      got += (size_t) r;
    }
    if (memcmp(in, out, n) != 0) {
      c->error = __LINE__;
      break;
    }
    c->echoed += n;
  }
done:
  close(fd);
  return NULL;
}

TEST_IMPL(tracer_record_echo_detach) {
  const char* out = tt_tmp(".out");
  const char* path = tt_tmp(".json");
  char* echo_argv[] = {(char*) EXAMPLE("echo"), NULL};
  char pid_text[16];
  char* argv[] = {(char*) LOOPTRACE, "record", "-q", "-p",
                  pid_text,          "-d",     "1",  "-o",
                  (char*) path,      NULL};
  struct client c;
  pthread_t thread;
  struct tt_trace t;
  uint64_t before;
  uint64_t during;
  char* text;
  char* p;
  pid_t pid;
  int status;

  tt_require_bpf();
  memset(&c, 0, sizeof(c));
  pid = tt_spawn(echo_argv, NULL, out);
  ASSERT_EQ(tt_wait_for_text(out, "listening on", 10000), 0);
  text = test_slurp(out, NULL);
  p = strrchr(text, ':');
  ASSERT_NOT_NULL(p);
  c.port = atoi(p + 1);
  free(text);
  ASSERT_GT(c.port, 0);
  ASSERT_EQ(pthread_create(&thread, NULL, client_main, &c), 0);

  usleep(300000);
  before = c.echoed;
  snprintf(pid_text, sizeof(pid_text), "%d", (int) pid);
  status = tt_run(argv, NULL, 20000, &text);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    TEST_FAIL_("looptrace record failed: %s", text);
  free(text);
  during = c.echoed;
  usleep(500000);
  c.stop = 1;
  pthread_join(thread, NULL);
  if (c.error != 0)
    TEST_FAIL_("the client failed at %s:%d (echoed %" PRIu64 " of %" PRIu64
               " bytes)",
               __FILE__, c.error, c.echoed, c.sent);
  ASSERT_GT(before, 0);
  ASSERT_GT(during, before);
  ASSERT_GT(c.echoed, during);
  ASSERT_EQ(c.echoed, c.sent);

  /* The trace shows the traffic. */
  tt_load(path, &t);
  tt_check(&t);
  {
    const struct tt_span* cb[4096];
    int n = spans_of(&t, "callback", cb, 4096);
    int reads = 0;
    int i;
    for (i = 0; i < n; i++)
      reads += strcmp(kind_of(cb[i]), "read") == 0;
    ASSERT_GT(reads, 10);
  }
  tt_free(&t);

  /* echo still serves and stops cleanly. */
  kill(pid, SIGINT);
  status = tt_wait(pid, 10000);
  ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  unlink(out);
  unlink(path);
  return 0;
}

/* Attaching to a busy program: the runtime announces its labels as the
 * probe goes in, and looptrace makes it announce them again once it
 * surely listens, so that every callback and task has its name. Each
 * checked recording follows a short one, whose keeper still holds the
 * probes as the next attaches (record.c's hello_attach): the next must
 * still make the runtime announce. */
TEST_IMPL(tracer_record_pid_labels) {
  char out[128];
  char path[128];
  char* busy[] = {(char*) EXAMPLE("threads"),
                  "--rounds",
                  "0",
                  "--pause",
                  "0",
                  "--iterations",
                  "100",
                  NULL};
  char* env[] = {pool4, NULL};
  char pid_text[16];
  char* argv[] = {(char*) LOOPTRACE, "record", "-q",  "-p",
                  pid_text,          "-d",     "0.3", "-o",
                  (char*) path,      NULL};
  char* brief[] = {(char*) LOOPTRACE, "record", "-q",   "-p",
                   pid_text,          "-d",     "0.05", "-o",
                   (char*) path,      NULL};
  pid_t pid;
  int round;
  int status;

  tt_require_bpf();
  /* tt_tmp()'s names are reused after 16 calls: ours are kept. */
  snprintf(out, sizeof(out), "%s", tt_tmp(".out"));
  snprintf(path, sizeof(path), "%s", tt_tmp(".json"));
  pid = tt_spawn(busy, env, out);
  ASSERT_EQ(tt_wait_for_text(out, "pbkdf2 #5", 10000), 0);
  snprintf(pid_text, sizeof(pid_text), "%d", (int) pid);
  for (round = 0; round < 8; round++) {
    struct tt_trace t;
    char* output;
    int named = 0;
    int i;
    status = tt_run(brief, NULL, 10000, &output);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      TEST_FAIL_("looptrace record -d 0.05 failed: %s", output);
    free(output);
    status = tt_run(argv, NULL, 10000, &output);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      TEST_FAIL_("looptrace record failed: %s", output);
    free(output);
    tt_load(path, &t);
    tt_check(&t);
    for (i = 0; i < t.nspans; i++) {
      unsigned id;
      char c;
      if (sscanf(t.spans[i].name, "label %u%c", &id, &c) == 1)
        TEST_FAIL_("round %d: a %s span named '%s'", round, t.spans[i].cat,
                   t.spans[i].name);
      named += strcmp(t.spans[i].name, "pbkdf2") == 0;
    }
    ASSERT_GT(named, 0);
    tt_free(&t);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  unlink(out);
  unlink(path);
  return 0;
}

/* Whether process `pid` has a child that exited and was not reaped. */
static int has_zombie_child(pid_t pid) {
  char path[64];
  char* children;
  char* p;
  char* end;
  int zombie = 0;
  snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int) pid,
           (int) pid);
  children = test_read_file(path, NULL);
  for (p = children; p != NULL && *p != '\0'; p = end) {
    long child = strtol(p, &end, 10);
    char* stat;
    char* paren;
    if (end == p)
      break;
    snprintf(path, sizeof(path), "/proc/%ld/stat", child);
    stat = test_read_file(path, NULL);
    paren = stat != NULL ? strrchr(stat, ')') : NULL;
    zombie |= paren != NULL && (paren[2] == 'Z' || paren[2] == 'X');
    free(stat);
  }
  free(children);
  return zombie;
}

/* A started program that outlives -d runs on untraced while looptrace
 * waits for it; the keeper that held the probes (keeper.h) exits meanwhile
 * and is reaped, not left a zombie. */
TEST_IMPL(tracer_record_cmd_outlives) {
  const char* log = tt_tmp(".log");
  const char* path = tt_tmp(".json");
  char* argv[] = {(char*) LOOPTRACE,
                  "record",
                  "-d",
                  "0.3",
                  "-o",
                  (char*) path,
                  "--",
                  (char*) EXAMPLE("threads"),
                  "--rounds",
                  "40",
                  "--pause",
                  "100",
                  "--iterations",
                  "1000",
                  NULL};
  pid_t tracer;
  int status;
  int i;

  tt_require_bpf();
  tracer = tt_spawn(argv, NULL, log);
  ASSERT_EQ(tt_wait_for_text(log, "waiting for it to exit", 20000), 0);
  /* The keeper exits once the kernel removed its probes: 80-300 ms. */
  for (i = 0; i < 30 && !has_zombie_child(tracer); i++)
    usleep(100000);
  if (has_zombie_child(tracer))
    TEST_FAIL_("a child of looptrace is a zombie %d ms after the recording",
               i * 100);
  ASSERT_EQ(kill(tracer, 0), 0); /* still waiting for the program */
  status = tt_wait(tracer, 30000);
  ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  unlink(log);
  unlink(path);
  return 0;
}

/* ------------------------------------------------------------------------
 * Fidelity: properties of whole recordings.
 */

#define TASKS test_build_path("tests/progs/tasks")

/* The end of the last event of a trace, in ns (X: ts + dur; others: ts). */
static int64_t last_event_end(const struct tt_trace* t) {
  const cJSON* ev;
  int64_t last = 0;
  cJSON_ArrayForEach(ev, t->root) {
    const cJSON* ts = cJSON_GetObjectItem(ev, "ts");
    const cJSON* dur = cJSON_GetObjectItem(ev, "dur");
    int64_t end;
    if (!cJSON_IsNumber(ts))
      continue;
    end = (int64_t) (ts->valuedouble * 1000 + 0.5);
    if (cJSON_IsNumber(dur))
      end += (int64_t) (dur->valuedouble * 1000 + 0.5);
    if (end > last)
      last = end;
  }
  return last;
}

/* A busy program recorded with -d: the recording ends with the last
 * record received (the loop flushes at least every 20 ms), not when the
 * tracer stopped; the spans open then are cut there and say so. */
TEST_IMPL(tracer_record_no_tail) {
  const char* out = tt_tmp(".out");
  const char* path = tt_tmp(".json");
  char pid_text[16];
  char* argv[] = {(char*) LOOPTRACE, "record", "-q", "-p",
                  pid_text,          "-d",     "1",  "-o",
                  (char*) path,      NULL};
  const struct tt_span* ticks[4096];
  struct tt_trace t;
  char* output;
  pid_t pid;
  int status;
  int n;
  int i;

  tt_require_bpf();
  pid = start_threads(EXAMPLE("threads"), out, "0");
  snprintf(pid_text, sizeof(pid_text), "%d", (int) pid);
  status = tt_run(argv, NULL, 20000, &output);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    TEST_FAIL_("looptrace record failed: %s", output);
  free(output);
  tt_load(path, &t);
  tt_check(&t);
  /* The tail past the last event: none, but for a last record that
   * writes no event (an announcement) within one flush interval. */
  ASSERT_LE(t.duration_ns - last_event_end(&t), 25000000);
  n = spans_of(&t, "tick", ticks, 4096);
  ASSERT_GT(n, 0);
  for (i = 0; i < n; i++) {
    const cJSON* args = cJSON_GetObjectItem(ticks[i]->ev, "args");
    const cJSON* cut = cJSON_GetObjectItem(args, "cut");
    ASSERT_NULL(cJSON_GetObjectItem(args, "incomplete"));
    /* Only the last tick may be cut at its end, and it ends with the
     * recording. */
    if (cJSON_IsString(cut) && strcmp(cut->valuestring, "end") == 0) {
      ASSERT_EQ(i, n - 1);
      ASSERT_GE(ticks[i]->ts + ticks[i]->dur, t.duration_ns - 2);
    }
  }
  tt_free(&t);
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  unlink(out);
  unlink(path);
  return 0;
}

/* Short pool tasks submitted from main before lrt_run: every task's flow
 * goes submit → work → completion, with its queue wait, in every one of
 * several recordings. */
TEST_IMPL(tracer_record_tasks_before_run) {
  const char* path = tt_tmp(".json");
  char* cmd[] = {(char*) TASKS, "8", NULL};
  char* env[] = {pool4, NULL};
  int round;

  tt_require_bpf();
  for (round = 0; round < 5; round++) {
    const struct tt_span* work[16];
    const struct tt_span* cb[64];
    struct tt_trace t;
    int nwork;
    int ncb;
    int completions = 0;
    int i;
    free(record_cmd(path, cmd, env));
    tt_load(path, &t);
    tt_check(&t);
    nwork = spans_of(&t, "work", work, 16);
    ASSERT_EQ(nwork, 8);
    for (i = 0; i < nwork; i++) {
      if (!tt_has_flag(work[i], "flow_in") ||
          tt_arg_num(work[i], "queue_wait_us") < 0)
        TEST_FAIL_("round %d: task %.0f has no flow_in or queue wait", round,
                   tt_arg_num(work[i], "task"));
    }
    ncb = spans_of(&t, "callback", cb, 64);
    for (i = 0; i < ncb; i++) {
      if (strcmp(kind_of(cb[i]), "work") != 0)
        continue;
      completions++;
      ASSERT(tt_has_flag(cb[i], "flow_in"));
    }
    ASSERT_EQ(completions, 8);
    tt_free(&t);
  }
  unlink(path);
  return 0;
}
