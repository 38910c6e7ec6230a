/* test-tracer-lib.c — helpers of the tracer's tests (test-tracer.h). */
#include "test-tracer.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

extern char** environ;

static int64_t us_to_ns(const cJSON* v) {
  return (int64_t) llround(v->valuedouble * 1000.0);
}

static const char* str_of(const cJSON* ev, const char* key) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(ev, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int span_cmp(const void* a, const void* b) {
  const struct tt_span* x = a;
  const struct tt_span* y = b;
  if (x->tid != y->tid)
    return x->tid < y->tid ? -1 : 1;
  if (x->ts != y->ts)
    return x->ts < y->ts ? -1 : 1;
  if (x->dur != y->dur)
    return x->dur > y->dur ? -1 : 1;
  return x->index - y->index;
}

void tt_load(const char* path, struct tt_trace* t) {
  size_t len;
  char* text = test_read_file(path, &len);
  const cJSON* ev;
  const cJSON* first;
  int index = 0;
  int i;
  memset(t, 0, sizeof(*t));
  t->duration_ns = -1;
  t->drops = -1;
  t->records = -1;
  if (text == NULL)
    TEST_FAIL_("cannot read %s: %s", path, strerror(errno));
  t->root = cJSON_ParseWithLength(text, len);
  if (t->root == NULL)
    TEST_FAIL_("%s is not valid JSON (near byte %ld of %zu)", path,
               (long) (cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - text : -1),
               len);
  free(text);
  ASSERT(cJSON_IsArray(t->root));
  first = cJSON_GetArrayItem(t->root, 0);
  ASSERT_NOT_NULL(first);
  ASSERT_STR_EQ(str_of(first, "name"), "process_name");
  ASSERT_STR_EQ(str_of(first, "ph"), "M");
  t->pid = (int64_t) cJSON_GetObjectItem(first, "pid")->valuedouble;
  t->spans =
      calloc((size_t) cJSON_GetArraySize(t->root) + 1, sizeof(*t->spans));
  ASSERT_NOT_NULL(t->spans);
  cJSON_ArrayForEach(ev, t->root) {
    const char* ph = str_of(ev, "ph");
    const char* name = str_of(ev, "name");
    const cJSON* args = cJSON_GetObjectItem(ev, "args");
    ASSERT_NOT_NULL(ph);
    ASSERT_NOT_NULL(name);
    ASSERT(cJSON_IsNumber(cJSON_GetObjectItem(ev, "pid")));
    ASSERT_EQ(cJSON_GetObjectItem(ev, "pid")->valuedouble, t->pid);
    if (strcmp(ph, "M") == 0 && strcmp(name, "looptrace") == 0) {
      const cJSON* v;
      ASSERT(cJSON_IsObject(args));
      if ((v = cJSON_GetObjectItem(args, "duration_us")) != NULL)
        t->duration_ns = us_to_ns(v);
      if ((v = cJSON_GetObjectItem(args, "end_reason")) != NULL)
        t->end_reason = v->valuestring;
      if ((v = cJSON_GetObjectItem(args, "drops")) != NULL)
        t->drops = (int64_t) v->valuedouble;
      if ((v = cJSON_GetObjectItem(args, "records")) != NULL)
        t->records = (int64_t) v->valuedouble;
      if ((v = cJSON_GetObjectItem(args, "libuv_version")) != NULL) {
        t->uv_version = lrt_uv_version_parse(v->valuestring);
        ASSERT_NE(t->uv_version, 0);
      }
    }
    if (strcmp(ph, "X") == 0) {
      struct tt_span* s = &t->spans[t->nspans++];
      const cJSON* ts = cJSON_GetObjectItem(ev, "ts");
      const cJSON* dur = cJSON_GetObjectItem(ev, "dur");
      ASSERT(cJSON_IsNumber(ts));
      ASSERT(cJSON_IsNumber(dur));
      s->ev = ev;
      s->cat = str_of(ev, "cat");
      s->name = name;
      s->ts = us_to_ns(ts);
      s->dur = us_to_ns(dur);
      s->tid = (int64_t) cJSON_GetObjectItem(ev, "tid")->valuedouble;
      s->index = index;
      s->parent = -1;
      ASSERT_NOT_NULL(s->cat);
      ASSERT_GE(s->dur, 0);
    }
    index++;
  }
  qsort(t->spans, (size_t) t->nspans, sizeof(*t->spans), span_cmp);
  /* Parents: the innermost span that contains each one; a span that
   * overlaps another partially is a failure. */
  {
    int* stack = calloc((size_t) t->nspans + 1, sizeof(int));
    int sp = 0;
    ASSERT_NOT_NULL(stack);
    for (i = 0; i < t->nspans; i++) {
      struct tt_span* s = &t->spans[i];
      if (i > 0 && s->tid != t->spans[i - 1].tid)
        sp = 0;
      while (sp > 0 &&
             t->spans[stack[sp - 1]].ts + t->spans[stack[sp - 1]].dur <= s->ts)
        sp--;
      if (sp > 0) {
        struct tt_span* p = &t->spans[stack[sp - 1]];
        if (s->ts + s->dur > p->ts + p->dur)
          TEST_FAIL_("spans overlap on tid %" PRId64 ": %s '%s' [%" PRId64
                     ", %" PRId64 ") and %s '%s' [%" PRId64 ", %" PRId64 ")",
                     s->tid, p->cat, p->name, p->ts, p->ts + p->dur, s->cat,
                     s->name, s->ts, s->ts + s->dur);
        s->parent = stack[sp - 1];
      }
      stack[sp++] = i;
    }
    free(stack);
  }
}

void tt_free(struct tt_trace* t) {
  cJSON_Delete(t->root);
  free(t->spans);
  memset(t, 0, sizeof(*t));
}

const cJSON* tt_fact(const struct tt_trace* t, const char* key) {
  const cJSON* ev;
  const cJSON* v = NULL;
  cJSON_ArrayForEach(ev, t->root) {
    const cJSON* x;
    if (strcmp(str_of(ev, "name"), "looptrace") != 0)
      continue;
    x = cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "args"), key);
    if (x != NULL)
      v = x;
  }
  return v;
}

double tt_fact_num(const struct tt_trace* t, const char* key) {
  const cJSON* v = tt_fact(t, key);
  if (!cJSON_IsNumber(v))
    TEST_FAIL_("the trace has no number %s", key);
  return v->valuedouble;
}

const char* tt_thread_name(const struct tt_trace* t, int64_t tid) {
  const cJSON* ev;
  cJSON_ArrayForEach(ev, t->root) {
    const char* name = str_of(ev, "name");
    if (name != NULL && strcmp(name, "thread_name") == 0 &&
        (int64_t) cJSON_GetObjectItem(ev, "tid")->valuedouble == tid)
      return str_of(cJSON_GetObjectItem(ev, "args"), "name");
  }
  return NULL;
}

double tt_arg_num(const struct tt_span* s, const char* key) {
  const cJSON* v = cJSON_GetObjectItem(cJSON_GetObjectItem(s->ev, "args"), key);
  return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

int tt_has_flag(const struct tt_span* s, const char* key) {
  const cJSON* v = cJSON_GetObjectItem(s->ev, key);
  if (v == NULL)
    v = cJSON_GetObjectItem(cJSON_GetObjectItem(s->ev, "args"), key);
  return cJSON_IsTrue(v);
}

const char* tt_cut(const struct tt_span* s) {
  const cJSON* v =
      cJSON_GetObjectItem(cJSON_GetObjectItem(s->ev, "args"), "cut");
  return cJSON_IsString(v) ? v->valuestring : "";
}

static int is(const struct tt_span* s, const char* cat) {
  return strcmp(s->cat, cat) == 0;
}

static int phase_index(const uint8_t* order, int n, const char* name) {
  int i;
  for (i = 0; i < n; i++)
    if (strcmp(lrt_phase_name(order[i]), name) == 0)
      return i;
  return -1;
}

/* Flow steps of one id. */
struct flow {
  int64_t id;
  int submits, works, completions;
  int out, in;
};

static struct flow* flow_get(struct flow* flows, int* n, int64_t id) {
  int i;
  for (i = 0; i < *n; i++)
    if (flows[i].id == id)
      return &flows[i];
  memset(&flows[*n], 0, sizeof(flows[*n]));
  flows[*n].id = id;
  return &flows[(*n)++];
}

void tt_check(struct tt_trace* t) {
  uint8_t order[LRT_PHASE_MAX];
  int norder = lrt_phase_order(
      t->uv_version ? t->uv_version : LRT_UV_VERSION(1, 44, 2), order);
  struct flow* flows = calloc((size_t) t->nspans + 1, sizeof(*flows));
  int nflows = 0;
  int64_t dropped = 0;
  const cJSON* ev;
  const cJSON* last = NULL;
  int i;

  ASSERT_NOT_NULL(flows);
  ASSERT_GE(t->duration_ns, 0);
  ASSERT_NOT_NULL(t->end_reason);
  ASSERT(strcmp(t->end_reason, "duration") == 0 ||
         strcmp(t->end_reason, "signal") == 0 ||
         strcmp(t->end_reason, "target-exited") == 0 ||
         strcmp(t->end_reason, "flight-window") == 0);
  ASSERT_GE(t->drops, 0);
  ASSERT_GE(t->records, 0);
  cJSON_ArrayForEach(ev, t->root) {
    const char* name = str_of(ev, "name");
    const char* ph = str_of(ev, "ph");
    last = ev;
    if (strcmp(ph, "C") == 0) {
      const cJSON* args = cJSON_GetObjectItem(ev, "args");
      ASSERT_STR_EQ(name, "threadpool");
      ASSERT_GE(cJSON_GetObjectItem(args, "queued")->valuedouble, 0);
      ASSERT_GE(cJSON_GetObjectItem(args, "running")->valuedouble, 0);
      ASSERT_GE(us_to_ns(cJSON_GetObjectItem(ev, "ts")), 0);
      ASSERT_LE(us_to_ns(cJSON_GetObjectItem(ev, "ts")), t->duration_ns);
    } else if (strcmp(ph, "i") == 0 && strcmp(name, "trigger") == 0) {
      /* A flight recorder's trigger (TRACE-FORMAT.md). */
      ASSERT_STR_EQ(str_of(ev, "cat"), "looptrace");
      ASSERT_NOT_NULL(str_of(cJSON_GetObjectItem(ev, "args"), "trigger"));
      ASSERT_GE(us_to_ns(cJSON_GetObjectItem(ev, "ts")), 0);
      ASSERT_LE(us_to_ns(cJSON_GetObjectItem(ev, "ts")), t->duration_ns);
    } else if (strcmp(ph, "i") == 0) {
      ASSERT_STR_EQ(name, "dropped");
      dropped += (int64_t) cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "args"),
                                               "records")
                     ->valuedouble;
      ASSERT_LE(us_to_ns(cJSON_GetObjectItem(ev, "ts")), t->duration_ns);
    } else if (strcmp(ph, "M") == 0) {
      ASSERT(strcmp(name, "process_name") == 0 ||
             strcmp(name, "thread_name") == 0 ||
             strcmp(name, "thread_sort_index") == 0 ||
             strcmp(name, "looptrace") == 0);
    } else {
      ASSERT_STR_EQ(ph, "X");
    }
  }
  /* The final facts close the file. */
  ASSERT_STR_EQ(str_of(last, "name"), "looptrace");
  ASSERT_NOT_NULL(
      cJSON_GetObjectItem(cJSON_GetObjectItem(last, "args"), "end_reason"));
  ASSERT_EQ(dropped, t->drops);

  for (i = 0; i < t->nspans; i++) {
    struct tt_span* s = &t->spans[i];
    struct tt_span* p = s->parent >= 0 ? &t->spans[s->parent] : NULL;
    const char* thread = tt_thread_name(t, s->tid);
    int64_t id = (int64_t) tt_arg_num(s, "task");
    const cJSON* bind = cJSON_GetObjectItem(s->ev, "bind_id");

    /* Inside the recording. */
    if (s->ts < 0 || s->ts + s->dur > t->duration_ns)
      TEST_FAIL_("%s '%s' [%" PRId64 ", %" PRId64
                 ") lies outside the recording [0, %" PRId64 ")",
                 s->cat, s->name, s->ts, s->ts + s->dur, t->duration_ns);
    ASSERT_GT(s->tid, 0);
    if (thread == NULL)
      TEST_FAIL_("tid %" PRId64 " has spans but no thread_name", s->tid);

    if (is(s, "work")) {
      ASSERT(strncmp(thread, "worker ", 7) == 0);
      ASSERT_NULL(p);
      ASSERT_GT(id, 0);
      ASSERT(tt_has_flag(s, "flow_out"));
    } else {
      ASSERT(strncmp(thread, "event loop", 10) == 0);
    }
    if (is(s, "tick")) {
      ASSERT_NULL(p); /* ticks never nest: they do not overlap */
      ASSERT_GT(tt_arg_num(s, "tick"), 0);
    } else if (is(s, "phase")) {
      ASSERT_NOT_NULL(p);
      ASSERT_STR_EQ(p->cat, "tick");
      ASSERT_EQ(tt_arg_num(s, "tick"), tt_arg_num(p, "tick"));
      ASSERT(phase_index(order, norder, s->name) >= 0);
    } else if (is(s, "wait")) {
      ASSERT_NOT_NULL(p);
      ASSERT_STR_EQ(p->cat, "phase");
      ASSERT_STR_EQ(p->name, "poll");
    } else if (is(s, "callback")) {
      const char* kind = NULL;
      const cJSON* k =
          cJSON_GetObjectItem(cJSON_GetObjectItem(s->ev, "args"), "kind");
      if (cJSON_IsString(k))
        kind = k->valuestring;
      ASSERT_NOT_NULL(kind);
      ASSERT(p == NULL || is(p, "phase") || is(p, "callback"));
    } else if (is(s, "submit")) {
      ASSERT(p == NULL || is(p, "phase") || is(p, "callback"));
      ASSERT_GT(id, 0);
      ASSERT(tt_has_flag(s, "flow_out"));
      ASSERT(!tt_has_flag(s, "flow_in"));
    } else if (!is(s, "work")) {
      TEST_FAIL_("unknown span category '%s'", s->cat);
    }

    if (bind != NULL) {
      struct flow* f = flow_get(flows, &nflows, (int64_t) bind->valuedouble);
      ASSERT_EQ(bind->valuedouble, id); /* the flow id is the task id */
      if (is(s, "submit"))
        f->submits++;
      else if (is(s, "work"))
        f->works++;
      else if (is(s, "callback"))
        f->completions++;
      else
        TEST_FAIL_("a %s span in a flow", s->cat);
      f->out += tt_has_flag(s, "flow_out");
      f->in += tt_has_flag(s, "flow_in");
      if (is(s, "work") && tt_has_flag(s, "flow_in"))
        ASSERT_GE(tt_arg_num(s, "queue_wait_us"), 0);
    }
  }

  /* Nesting holds for readers that add ts and dur as doubles, too: a
   * span ends (so summed) within its parent and before its next sibling
   * starts. */
  {
    int* last = malloc(((size_t) t->nspans + 1) * sizeof(int));
    ASSERT_NOT_NULL(last);
    for (i = 0; i <= t->nspans; i++)
      last[i] = -1;
    for (i = 0; i < t->nspans; i++) {
      const struct tt_span* s = &t->spans[i];
      double ts = cJSON_GetObjectItem(s->ev, "ts")->valuedouble;
      double sum = ts + cJSON_GetObjectItem(s->ev, "dur")->valuedouble;
      int* prev = &last[s->parent + 1];
      if (i > 0 && s->tid != t->spans[i - 1].tid)
        last[0] = -1;
      if (s->parent >= 0) {
        const cJSON* p = t->spans[s->parent].ev;
        double psum = cJSON_GetObjectItem(p, "ts")->valuedouble +
                      cJSON_GetObjectItem(p, "dur")->valuedouble;
        if (sum > psum)
          TEST_FAIL_(
              "as doubles, %s '%s' ends at %.17g after its parent's "
              "end %.17g",
              s->cat, s->name, sum, psum);
      }
      if (*prev >= 0) {
        const cJSON* p = t->spans[*prev].ev;
        double psum = cJSON_GetObjectItem(p, "ts")->valuedouble +
                      cJSON_GetObjectItem(p, "dur")->valuedouble;
        if (ts < psum)
          TEST_FAIL_(
              "as doubles, %s '%s' starts at %.17g before its "
              "previous sibling ends (%.17g)",
              s->cat, s->name, ts, psum);
      }
      *prev = i;
    }
    free(last);
  }

  /* Phases in libuv's order within each tick; pending may come again
   * right after poll. */
  for (i = 0; i < t->nspans; i++) {
    int j;
    int last_index = -1;
    int seen_poll = 0;
    if (!is(&t->spans[i], "tick"))
      continue;
    for (j = i + 1; j < t->nspans; j++) {
      struct tt_span* s = &t->spans[j];
      int k;
      if (s->tid != t->spans[i].tid ||
          s->ts >= t->spans[i].ts + t->spans[i].dur)
        break;
      if (s->parent != i)
        continue;
      k = phase_index(order, norder, s->name);
      if (strcmp(s->name, "pending") == 0 && seen_poll) {
        ASSERT(tt_has_flag(s, "after_poll"));
        continue;
      }
      ASSERT(!tt_has_flag(s, "after_poll"));
      if (k <= last_index)
        TEST_FAIL_("tick %g: phase %s comes after %s", tt_arg_num(s, "tick"),
                   s->name, lrt_phase_name(order[last_index]));
      last_index = k;
      seen_poll |= strcmp(s->name, "poll") == 0;
    }
  }

  /* Each flow: one step per role, started before it is ended. */
  for (i = 0; i < nflows; i++) {
    struct flow* f = &flows[i];
    if (f->submits > 1 || f->works > 1 || f->completions > 1)
      TEST_FAIL_("flow %" PRId64 " has %d submits, %d works, %d completions",
                 f->id, f->submits, f->works, f->completions);
    ASSERT_GE(f->out, 1);
    ASSERT_EQ(f->out, f->submits + f->works);
    if (f->in > 0 && f->submits == 0)
      ASSERT_EQ(f->in, f->completions); /* no flow_in on the worker */
  }
  free(flows);
}

/* ------------------------------------------------------------------------
 * Processes
 */

void tt_require_bpf(void) {
  if (geteuid() != 0)
    TEST_SKIP_NO_BPF(
        "needs root (CAP_SYS_ADMIN; CAP_BPF and CAP_PERFMON before Linux "
        "6.16)");
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
    TEST_SKIP_NO_BPF("no BTF at /sys/kernel/btf/vmlinux");
  if (access("/sys/kernel/tracing/uprobe_events", F_OK) != 0 &&
      mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) != 0)
    TEST_SKIP_NO_BPF("tracefs is not mounted and cannot be");
}

pid_t tt_spawn(char* const* argv, char* const* env, const char* out_path) {
  pid_t pid;
  fflush(stdout);
  fflush(stderr);
  pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int fd = open(out_path ? out_path : "/dev/null",
                  O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int i;
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    for (i = 0; env != NULL && env[i] != NULL; i++)
      putenv(env[i]);
    execvp(argv[0], argv);
    fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  return pid;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tt_wait(pid_t pid, int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  int status;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid)
      return status;
    if (r < 0 && errno != EINTR)
      return -1;
    if (now_ms() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    usleep(5000);
  }
}

int tt_run(char* const* argv, char* const* env, int timeout_ms, char** output) {
  const char* out = tt_tmp(".out");
  pid_t pid = tt_spawn(argv, env, out);
  int status = tt_wait(pid, timeout_ms);
  if (output != NULL) {
    *output = test_read_file(out, NULL);
    if (*output == NULL)
      *output = strdup("");
  }
  unlink(out);
  return status;
}

int tt_wait_for_text(const char* path, const char* text, int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  while (now_ms() < deadline) {
    char* s = test_read_file(path, NULL);
    int found = s != NULL && strstr(s, text) != NULL;
    free(s);
    if (found)
      return 0;
    usleep(10000);
  }
  return -1;
}

void tt_wait_attached(pid_t tracer, const char* log) {
  if (tt_wait_for_text(log, "looptrace: tracing pid", 30000) != 0) {
    char* text = test_read_file(log, NULL);
    TEST_FAIL_("looptrace did not attach: %s", text ? text : "");
  }
  ASSERT_EQ(kill(tracer, 0), 0);
}

pid_t tt_spawn_flood(const char* shape, int held, const char* out_path) {
  char* argv[4];
  int n = 0;
  pid_t pid;
  argv[n++] = (char*) test_build_path("tests/progs/flood");
  if (held)
    argv[n++] = "--hold";
  argv[n++] = (char*) shape;
  argv[n] = NULL;
  pid = tt_spawn(argv, NULL, out_path);
  if (tt_wait_for_text(out_path, "flood: ready", 10000) != 0)
    TEST_FAIL_("tests/progs/flood %s did not start", shape);
  return pid;
}

const char* tt_tmp(const char* suffix) {
  static char bufs[16][128];
  static unsigned n;
  char* b = bufs[n % 16];
  snprintf(b, sizeof(bufs[0]), "/tmp/looptrace-tt-%d-%u%s", (int) getpid(), n++,
           suffix);
  /* Left by a test of an earlier run with our pid (pid_max is 32768
   * here): tt_spawn appends, and tt_wait_for_text would find its text. */
  unlink(b);
  return b;
}

/* ------------------------------------------------------------------------
 * Record streams
 */

struct lrt_record* tt_add(struct tt_stream* s, uint64_t ts, uint32_t tid,
                          uint8_t type, uint8_t kind, uint16_t label,
                          uint64_t id, uint64_t arg) {
  struct lrt_record* r;
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 64;
    s->r = realloc(s->r, (size_t) s->cap * sizeof(*s->r));
    ASSERT_NOT_NULL(s->r);
  }
  r = &s->r[s->n++];
  memset(r, 0, sizeof(*r));
  r->ts = ts;
  r->tid = tid;
  r->type = type;
  r->kind = kind;
  r->label = label;
  r->id = id;
  r->arg = arg;
  return r;
}

void tt_add_label(struct tt_stream* s, uint32_t tid, uint16_t id,
                  const char* text, size_t len) {
  size_t off = 0;
  uint8_t chunk = 0;
  do {
    size_t n = len - off < LRT_LABEL_CHUNK ? len - off : LRT_LABEL_CHUNK;
    struct lrt_record* r = tt_add(s, 1, tid, LRT_REC_LABEL, chunk, id, 0, 0);
    memset(r->text, 0, sizeof(r->text));
    memcpy(r->text, text + off, n);
    off += n;
    chunk++;
    if (off >= len)
      r->kind |= LRT_LABEL_LAST;
  } while (off < len);
}
