/* record.c — `looptrace record`: attach to a looprt program with BPF and
 * write its trace (tracer/TRACE-FORMAT.md).
 *
 * open the output → load record.bpf.c → find (or start) the target →
 * note the start time → attach to looprt:flush → poll the ring buffer,
 * handing batches to the exporter, until a signal, -d or the target's
 * exit → drain → detach → drain → finish the file.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cli.h"
#include "commands.h"
#include "export.h"
#include "export_bench.h"
#include "libuv_source.h"
#include "flight.h"
#include "json_writer.h"
#include "privilege.h"
#include "probes.h"
#include "record.h"
#include "record.skel.h"
#include "spawn.h"

#define DEFAULT_RING_SIZE (16u << 20)
/* How long a started program has to reach its runtime. */
#define READY_TIMEOUT_MS 5000
/* After a stop is asked for, records the runtime still flushes (it holds
 * them at most ~20 ms) are collected this long before detaching. */
#define DRAIN_NS (30 * 1000 * 1000ull)
/* The most time one reading of the ring buffer takes: under a flood the
 * loop still sees its deadline, signals and progress line this often. */
#define CONSUME_NS (5 * 1000 * 1000ull)
/* A started program asked to stop (Ctrl-C, or a signal we pass on) is
 * traced until it exits, at most this long. */
#define GRACE_NS (2000 * 1000 * 1000ull)
#define POLL_MS 10

/* Exit statuses (--help says them). With -p: 0 or 1. With CMD: CMD's
 * own, or these when looptrace failed, as env(1) and timeout(1) do. */
#define EXIT_CMD_FAILED 125
#define EXIT_CMD_CANNOT_RUN 126
#define EXIT_CMD_NOT_FOUND 127

enum {
  OPT_RING_SIZE = 0x100,
  OPT_ALL_PHASES,
  OPT_BENCH,
};

struct record_args {
  pid_t pid;
  char** cmd; /* NULL-terminated, or NULL */
  const char* output;
  double duration; /* seconds, 0 for none */
  int quiet;
  int verbose;
  int all_phases;
  uint64_t ring_size;
  uint64_t bench; /* --bench-export N */
  struct flight_opts flight;
  const struct record_tap* tap; /* top: the trace goes there instead */
};

/* The signal that asked us to stop, and whether a process (rather than
 * the terminal, which signals the whole foreground group) sent it. */
static volatile sig_atomic_t exiting;
static volatile sig_atomic_t exiting_count;
static volatile sig_atomic_t exiting_from_process;
/* SIGUSR1 in flight mode: dump now. */
static volatile sig_atomic_t dump_asked;

static int verbose;

static const char doc[] =
    "Record what an event loop does into a trace file.\n"
    "\n"
    "Attaches BPF to a running program (-p), or starts CMD and traces it "
    "from its first tick. A looprt program is traced through its "
    "runtime's looprt:flush probe; any other program whose symbol table "
    "holds libuv (stock Node.js, a program linked with libuv) through "
    "uprobes on libuv's own functions, with no change to it (about 1 us "
    "a probe hit; the cost per tick is printed at attach). Recording stops on "
    "Ctrl-C/SIGTERM, after -d SECONDS, or when the program exits; the "
    "file is valid JSON in every case.\n"
    "\v"
    "Examples:\n"
    "  looptrace record -p 4242                 trace pid 4242 until Ctrl-C\n"
    "  looptrace record -p 4242 -d 5 -o t.json  five seconds, into t.json\n"
    "  looptrace record -- build/examples/threads\n"
    "                                           start a program, trace it "
    "all\n"
    "  looptrace record -q -d 10 -- ./server --port 8080\n"
    "  looptrace record -p $(pidof node) -d 5   a running Node.js\n"
    "  looptrace record -- node app.js          start node, trace it all\n"
    "  looptrace record -p 4242 --flight 10 --trigger 'tick>50ms'\n"
    "                                           keep 10 s in memory, write "
    "them\n"
    "                                           when a tick takes > 50 ms\n"
    "\n"
    "A started program that is still running when the recording ends "
    "runs on untraced; looptrace waits for it (Ctrl-C passes on to it).\n"
    "\n"
    "With --flight, nothing is written until a trigger fires (or SIGUSR1 "
    "is sent to looptrace); each dump is its own file: -o FILE.json gives "
    "FILE-1.json, FILE-2.json, ...; a %d in FILE is replaced by the "
    "dump's number instead.\n"
    "\n"
    "The trace is Chrome Trace Event JSON (tracer/TRACE-FORMAT.md): open "
    "it with `looptrace view FILE`, ui.perfetto.dev or speedscope; "
    "summarize it with `looptrace stat FILE`.\n"
    "\n"
    "Exit status: with -p, 0 once the trace is written, 1 if it could not "
    "be. With CMD, once the trace is written: CMD's own exit status, or "
    "128+N if signal N killed it (as a shell reports it; 0 if CMD still "
    "runs when looptrace stops waiting for it); if looptrace failed "
    "(no trace): 125, or 126 if CMD could not be run, 127 if it was not "
    "found. Usage errors: 2. The trace's `target_exit` fact says how CMD "
    "ended.\n"
    "\n"
    "Needs root: CAP_SYS_ADMIN, or CAP_BPF and CAP_PERFMON on kernels "
    "before Linux 6.16 (since then uprobes need CAP_SYS_ADMIN).";

static const char args_doc[] = "-p PID\n-- CMD [ARGS...]";

static const struct argp_option options[] = {
    {"pid", 'p', "PID", 0, "Trace the running process PID", 0},
    {"output", 'o', "FILE", 0,
     "Write the trace to FILE (default: looptrace-COMM-PID.json); a name "
     "ending in .gz writes gzip",
     0},
    {"duration", 'd', "SECONDS", 0, "Stop after SECONDS (fractions allowed)",
     0},
    {"quiet", 'q', NULL, 0, "No progress line on stderr", 0},
    {"verbose", 'v', NULL, 0, "Show libbpf's messages", 0},
    {"ring-size", OPT_RING_SIZE, "BYTES", 0,
     "Size of the BPF ring buffer: a power of two, at least 4096; K and M "
     "suffixes (default 16M). Records that do not fit are dropped and "
     "counted",
     0},
    {"all-phases", OPT_ALL_PHASES, NULL, 0,
     "Keep the empty phases shorter than 1 µs that are left out by "
     "default",
     0},
    {"bench-export", OPT_BENCH, "N", 0,
     "Measure the exporter instead: turn N synthetic records into a trace "
     "(to -o FILE, default /dev/null) and print export_events_per_s",
     0},
    {0},
};

static int parse_size(const char* s, uint64_t* out) {
  char* end;
  unsigned long long v;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno != 0 || end == s || s[0] == '-')
    return -1;
  if (*end == 'K' || *end == 'k') {
    v <<= 10;
    end++;
  } else if (*end == 'M' || *end == 'm') {
    v <<= 20;
    end++;
  } else if (*end == 'G' || *end == 'g') {
    v <<= 30;
    end++;
  }
  if (*end != '\0')
    return -1;
  *out = v;
  return 0;
}

static error_t parse_opt(int key, char* arg, struct argp_state* state) {
  struct record_args* args = state->input;
  char* end;
  switch (key) {
  case ARGP_KEY_INIT:
    state->child_inputs[0] = &args->flight;
    break;
  case 'p':
    if (cli_parse_pid(arg, &args->pid) != 0)
      argp_error(state, "-p wants a process id, not '%s'", arg);
    break;
  case 'o':
    if (arg[0] == '\0')
      argp_error(state, "-o wants a file name");
    args->output = arg;
    break;
  case 'd':
    errno = 0;
    args->duration = strtod(arg, &end);
    if (errno != 0 || *end != '\0' || end == arg || !(args->duration > 0) ||
        args->duration > 1e9)
      argp_error(state, "-d wants a number of seconds above 0, not '%s'", arg);
    break;
  case 'q':
    args->quiet = 1;
    break;
  case 'v':
    args->verbose = 1;
    break;
  case OPT_RING_SIZE:
    if (parse_size(arg, &args->ring_size) != 0 || args->ring_size < 4096 ||
        args->ring_size > (1ull << 30) ||
        (args->ring_size & (args->ring_size - 1)) != 0)
      argp_error(state,
                 "--ring-size wants a power of two from 4096 to 1G, not "
                 "'%s'",
                 arg);
    break;
  case OPT_ALL_PHASES:
    args->all_phases = 1;
    break;
  case OPT_BENCH:
    if (parse_size(arg, &args->bench) != 0 || args->bench == 0)
      argp_error(state, "--bench-export wants a number of records");
    break;
  case ARGP_KEY_ARG:
    /* CMD and everything after it belong to the program. */
    args->cmd = &state->argv[state->next - 1];
    state->next = state->argc;
    break;
  case ARGP_KEY_END:
    if (args->bench > 0) {
      if (args->pid != 0 || args->cmd != NULL)
        argp_error(state, "--bench-export traces nothing: no -p or CMD");
    } else if (args->pid == 0 && args->cmd == NULL) {
      argp_error(state, "say what to trace: -p PID or -- CMD [ARGS...]");
    } else if (args->pid != 0 && args->cmd != NULL) {
      argp_error(state, "-p PID and CMD are exclusive");
    }
    break;
  default:
    return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

static int libbpf_print(enum libbpf_print_level level, const char* format,
                        va_list ap) {
  if (!verbose || level == LIBBPF_DEBUG)
    return 0;
  return vfprintf(stderr, format, ap);
}

static void on_signal(int signo, siginfo_t* info, void* ucontext) {
  if (exiting == 0)
    exiting = signo;
  exiting_count++;
  /* SI_USER, SI_QUEUE, SI_TKILL: a process sent it to us. */
  exiting_from_process = info != NULL && info->si_code <= 0;
}

static void on_dump_signal(int signo) {
  (void) signo;
  dump_asked = 1;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static void print_no_privilege(void) {
  fprintf(stderr, "looptrace: %s\n", privilege_needed());
}

/* The output. It is opened before anything is attached, so that a path
 * that cannot be written fails first, and it never harms what the user
 * had: a regular file (or a symlink, or nothing) at the path is replaced
 * only at the end, by renaming a temporary file made next to it (a
 * symlink is replaced, never followed); a device or a pipe (-o
 * /dev/null, -o /dev/stdout) is written directly and never truncated or
 * removed; the default name is created new (O_EXCL|O_NOFOLLOW). On
 * failure only what looptrace created is removed. */
struct output {
  const char* path;   /* as the user named it */
  char tmp[PATH_MAX]; /* the temporary file, "" when writing directly */
  int fd;
  int created; /* path itself was created here (the default name) */
  dev_t dev;   /* of the file looptrace created, to remove only it */
  ino_t ino;
};

/* Creates `path` new, never through a symlink; notes that we made it. */
static int output_create(struct output* out, const char* path) {
  struct stat st;
  int fd =
      open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    return -errno;
  if (fstat(fd, &st) != 0) {
    int err = -errno;
    close(fd);
    unlink(path);
    return err;
  }
  out->fd = fd;
  out->dev = st.st_dev;
  out->ino = st.st_ino;
  return 0;
}

/* A temporary file beside `path`, made readable as a new file would be. */
static int output_temp(struct output* out, const char* path) {
  mode_t mask = umask(0);
  int err = 0;
  int i;
  umask(mask);
  for (i = 0; i < 100; i++) {
    int n = snprintf(out->tmp, sizeof(out->tmp), "%s.tmp-%d-%d", path,
                     (int) getpid(), i);
    if (n < 0 || (size_t) n >= sizeof(out->tmp))
      return -ENAMETOOLONG;
    err = output_create(out, out->tmp);
    if (err != -EEXIST)
      break;
  }
  if (err != 0) {
    out->tmp[0] = '\0';
    return err;
  }
  fchmod(out->fd, 0644 & ~mask);
  return 0;
}

/* Opens the output `path`, or (is_default) a new file of that name or
 * of that name numbered, `path` being a buffer of PATH_MAX. */
static int output_open(struct output* out, char* path, int is_default) {
  struct stat st;
  memset(out, 0, sizeof(*out));
  out->path = path;
  out->fd = -1;
  if (is_default) {
    char base[PATH_MAX];
    int err = 0;
    int i;
    snprintf(base, sizeof(base), "%s", path);
    for (i = 1; i < 100; i++) {
      if (i > 1) /* looptrace-COMM-PID-2.json, ... */
        snprintf(path, PATH_MAX, "%.*s-%d.json", (int) strlen(base) - 5, base,
                 i);
      err = output_create(out, path);
      if (err != -EEXIST)
        break;
    }
    out->created = err == 0;
    return err;
  }
  if (lstat(path, &st) != 0) {
    if (errno != ENOENT)
      return -errno;
    return output_temp(out, path);
  }
  /* Through a symlink only to a device or a pipe: -o /dev/stdout. */
  if (S_ISLNK(st.st_mode) && stat(path, &st) != 0)
    return output_temp(out, path); /* dangling: replaced */
  if (S_ISDIR(st.st_mode))
    return -EISDIR;
  if (S_ISREG(st.st_mode))
    return output_temp(out, path);
  out->fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
  return out->fd >= 0 ? 0 : -errno;
}

/* The output, checked before anything is attached; in flight mode only
 * whether dumps can be written there: nothing is until a trigger. */
static int prepare_output(const struct record_args* args, struct output* out,
                          char* path, int is_default) {
  if (args->flight.seconds > 0) {
    memset(out, 0, sizeof(*out));
    out->fd = -1;
    return flight_check_output(path);
  }
  return output_open(out, path, is_default);
}

/* Removes `path` if it is still the file looptrace created. */
static void remove_own(const struct output* out, const char* path) {
  struct stat st;
  if (lstat(path, &st) == 0 && st.st_dev == out->dev && st.st_ino == out->ino)
    unlink(path);
}

/* The trace is complete: puts it in place. Returns 0 or a negative
 * errno (the temporary file is removed then). */
static int output_commit(struct output* out) {
  int err = 0;
  if (out->fd >= 0 && close(out->fd) != 0)
    err = -errno;
  out->fd = -1;
  if (out->tmp[0] != '\0') {
    if (err == 0 && rename(out->tmp, out->path) != 0)
      err = -errno;
    if (err != 0)
      remove_own(out, out->tmp);
    out->tmp[0] = '\0';
  }
  out->created = 0;
  return err;
}

/* No trace: removes what looptrace created, and nothing else. */
static void output_abort(struct output* out) {
  if (out->fd >= 0)
    close(out->fd);
  out->fd = -1;
  if (out->tmp[0] != '\0')
    remove_own(out, out->tmp);
  else if (out->created)
    remove_own(out, out->path);
  out->tmp[0] = '\0';
  out->created = 0;
}

/* looptrace-COMM-PID.json, COMM made safe for a file name. */
static void default_output(char* buf, size_t size, const char* comm,
                           pid_t pid) {
  char safe[32];
  size_t i;
  for (i = 0; comm[i] != '\0' && i < sizeof(safe) - 1; i++) {
    unsigned char c = (unsigned char) comm[i];
    safe[i] = (c > ' ' && c < 0x7f && c != '/') ? (char) c : '_';
  }
  safe[i] = '\0';
  snprintf(buf, size, "looptrace-%s-%d.json", i > 0 ? safe : "process",
           (int) pid);
}

/* Everything the polling loop needs. */
struct session {
  struct record_args* args;
  struct record_bpf* skel;
  struct ring_buffer* rb;
  struct exporter* ex;
  struct flight* fl; /* in flight mode, instead of ex */
  pid_t pid;         /* the traced process */
  unsigned dumps_shown;
  int ncpus;
  uint64_t* drop_values;   /* ncpus entries */
  uint64_t ring_drops;     /* as last read from the map */
  struct libuv_source* uv; /* the libuv source, or NULL for looprt's */
  uint64_t uv_drops;       /* as last read from it */
  int error;               /* a negative errno that stopped the recording */
  uint64_t consume_until;  /* when consume() stops reading, 0 outside */
};

static int on_batch(void* ctx, void* data, size_t size) {
  struct session* s = ctx;
  size_t n = size / sizeof(struct lrt_record);
  int err = s->fl != NULL ? flight_records(s->fl, data, n)
                          : export_records(s->ex, data, n);
  if (err != 0 && s->error == 0)
    s->error = err;
  /* A flood must not keep the loop from its deadline, signals and
   * progress: libbpf stops reading the ring (this batch consumed) when
   * the callback returns a negative value. */
  if (s->consume_until != 0 && now_ns() >= s->consume_until)
    return -ECANCELED;
  return 0;
}

/* Reads the BPF drop counter and writes any increase into the trace. */
static void check_drops(struct session* s) {
  uint32_t key = 0;
  uint64_t total = 0;
  int i;
  if (bpf_map__lookup_elem(s->skel->maps.drops, &key, sizeof(key),
                           s->drop_values, sizeof(uint64_t) * (size_t) s->ncpus,
                           0) != 0)
    return;
  for (i = 0; i < s->ncpus; i++)
    total += s->drop_values[i];
  if (s->uv != NULL && libuv_source_drops(s->uv) > s->uv_drops) {
    total += libuv_source_drops(s->uv) - s->uv_drops;
    s->uv_drops = libuv_source_drops(s->uv);
  }
  if (total > s->ring_drops) {
    if (s->fl != NULL)
      flight_dropped(s->fl, now_ns(), (uint64_t) s->pid, total - s->ring_drops);
    else
      export_dropped(s->ex, now_ns(), total - s->ring_drops);
    s->ring_drops = total;
  }
}

/* Consumes what the ring buffer holds, for at most `budget_ns` (libbpf
 * 1.1 reads while the ring is not empty). */
static void consume(struct session* s, uint64_t budget_ns) {
  int n;
  s->consume_until = now_ns() + budget_ns;
  n = ring_buffer__consume(s->rb);
  s->consume_until = 0; /* batches handed over otherwise are not cut */
  if (n < 0 && n != -EINTR && n != -ECANCELED && s->error == 0)
    s->error = n;
}

static void show_flight_progress(struct session* s, int tty) {
  struct flight_stats st;
  flight_stats(s->fl, &st);
  fprintf(stderr,
          "%slooptrace: flight recorder on pid %d: %.1f s held, %" PRIu64
          " records (%.1f of %.1f MB), %u dump%s%s%s",
          tty ? "\r" : "", (int) s->pid, (double) st.window_ns / 1e9, st.held,
          (double) st.held_bytes / (1 << 20),
          (double) s->args->flight.size / (1 << 20), st.dumps,
          st.dumps == 1 ? "" : "s", st.pending ? ", trigger fired" : "",
          tty ? "\033[K" : "\n");
}

/* Says what a dump just written holds. */
static void show_dump(struct session* s) {
  struct flight_stats st;
  flight_stats(s->fl, &st);
  if (st.dumps == s->dumps_shown)
    return;
  s->dumps_shown = st.dumps;
  if (!s->args->quiet)
    fprintf(stderr, "%slooptrace: %s fired: wrote %s\n",
            isatty(STDERR_FILENO) ? "\r\033[K" : "", st.last_trigger,
            st.last_path);
}

static void show_progress(struct session* s, const char* what, int tty,
                          uint64_t* last_records, uint64_t* last_ns) {
  struct export_stats st;
  uint64_t now = now_ns();
  double dt = (double) (now - *last_ns) / 1e9;
  if (s->fl != NULL) {
    show_flight_progress(s, tty);
    return;
  }
  export_stats(s->ex, &st);
  fprintf(stderr,
          "%slooptrace: recording %s: %" PRIu64 " events, %.0f/s, %" PRIu64
          " dropped%s",
          tty ? "\r" : "", what, st.records,
          dt > 0 ? (double) (st.records - *last_records) / dt : 0.0, st.drops,
          tty ? "\033[K" : "\n");
  *last_records = st.records;
  *last_ns = now;
}

/* Flight mode, each turn of the polling loop: a dump asked for by
 * SIGUSR1, a dump due, the end once --max-dumps are written. */
static void flight_step(struct session* s, uint64_t now, uint64_t* stop_at,
                        const char** end_reason) {
  int r;
  if (dump_asked) {
    dump_asked = 0;
    flight_trigger(s->fl, now, "SIGUSR1");
  }
  r = flight_advance(s->fl, now);
  if (r < 0) {
    s->error = r;
    return;
  }
  show_dump(s);
  if (r == 1 && *stop_at == 0) {
    *end_reason = "max-dumps";
    *stop_at = now;
  }
}

/* Flight mode, at the end: writes a dump still pending and says what was
 * written. Returns 0 or a negative errno. */
static int finish_flight(struct session* s, const char* end_reason) {
  struct flight_stats st;
  int err = s->error;
  if (err == 0)
    err = flight_finish(s->fl, now_ns(), end_reason);
  if (err != 0) {
    fprintf(stderr, "looptrace: writing a dump for %s: %s\n", s->args->output,
            strerror(-err));
    return err;
  }
  show_dump(s);
  flight_stats(s->fl, &st);
  if (s->args->quiet)
    return 0;
  fprintf(stderr,
          "looptrace: flight recorder stopped (%s): %u dump%s written%s%s\n",
          end_reason, st.dumps, st.dumps == 1 ? "" : "s",
          st.dumps > 0 ? ", the last " : "; no trigger fired",
          st.dumps > 0 ? st.last_path : "");
  return 0;
}

static void print_target_error(int err, pid_t pid, const char* comm) {
  if (err == -ESRCH)
    fprintf(stderr, "looptrace: no process with pid %d\n", (int) pid);
  else if (err == -ECHILD)
    fprintf(stderr,
            "looptrace: pid %d has exited (zombie: %s is not running, its "
            "parent has not reaped it)\n",
            (int) pid, comm);
  else if (err == -ENOENT)
    fprintf(stderr,
            "looptrace: pid %d (%s) has no looprt probes and no libuv "
            "symbols: not a looprt or libuv program? (see: looptrace "
            "list)\n",
            (int) pid, comm);
  else if (err == -EACCES || err == -EPERM)
    fprintf(stderr,
            "looptrace: cannot read the memory map of pid %d: %s (tracing "
            "another user's process needs CAP_SYS_PTRACE, or root)\n",
            (int) pid, strerror(-err));
  else
    fprintf(stderr, "looptrace: cannot inspect pid %d: %s\n", (int) pid,
            strerror(-err));
}

/* Waits for a started program that runs on untraced. A signal sent to
 * looptrace by another process is passed on to it (one from the terminal
 * reached it already); after a signal it has GRACE_NS to exit before
 * looptrace stops waiting. Returns 0 once it exited, or -EINTR. */
static int wait_child(pid_t pid, int* status) {
  int seen = exiting_count;
  uint64_t deadline = 0;
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid)
      return 0;
    if (r < 0 && errno != EINTR)
      return -errno;
    if (exiting_count != seen) {
      seen = exiting_count;
      if (exiting_from_process)
        kill(pid, exiting);
      deadline = now_ns() + GRACE_NS;
    }
    if (deadline != 0 && now_ns() > deadline)
      return -EINTR;
    usleep(10000);
  }
}

/* How a program ended, as the trace's `target_exit` says it: "exited
 * with status 3", "killed by SIGABRT". */
static void describe_status(int status, char* buf, size_t size) {
  const char* name = WIFSIGNALED(status) ? sigabbrev_np(WTERMSIG(status)) : 0;
  if (WIFEXITED(status))
    snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
  else if (name != NULL)
    snprintf(buf, size, "killed by SIG%s", name);
  else if (WIFSIGNALED(status))
    snprintf(buf, size, "killed by signal %d", WTERMSIG(status));
  else
    snprintf(buf, size, "ended");
}

/* The exit status a shell would give for a program that ended so. */
static int shell_status(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return EXIT_CMD_FAILED;
}

/* Reaps our program if it has ended, and tells the exporter how. Returns
 * whether it was reaped. */
static int reap_child(pid_t pid, int* status, struct exporter* ex) {
  char text[64];
  if (pid <= 0 || waitpid(pid, status, WNOHANG) != pid)
    return 0;
  describe_status(*status, text, sizeof(text));
  if (ex != NULL)
    export_target_exit(ex, text);
  return 1;
}

static void join_command(char** cmd, char* buf, size_t size) {
  size_t len = 0;
  int i;
  buf[0] = '\0';
  for (i = 0; cmd[i] != NULL && len + 1 < size; i++)
    len +=
        (size_t) snprintf(buf + len, size - len, "%s%s", i ? " " : "", cmd[i]);
}

/* Says how our program ended (unless -q and it went well); returns the
 * exit status a shell would give. */
static int report_child(const struct record_args* args, int status) {
  char text[64];
  int code = shell_status(status);
  describe_status(status, text, sizeof(text));
  if (!args->quiet || code != 0)
    fprintf(stderr, "looptrace: %s %s%s\n", args->cmd[0],
            WIFSIGNALED(status) ? "was " : "", text);
  return code;
}

/* Fills `target` for the libuv source `uv` in process `pid`. */
static void libuv_target(struct probes_target* target, pid_t pid,
                         const char* cmd, struct libuv_source* uv) {
  const char* base = strrchr(cmd, '/');
  memset(target, 0, sizeof(*target));
  target->pid = pid;
  if (probes_comm(pid, target->comm, sizeof(target->comm)) != 0 ||
      strcmp(target->comm, "looptrace") == 0)
    snprintf(target->comm, sizeof(target->comm), "%s",
             base != NULL ? base + 1 : cmd);
  snprintf(target->shown, sizeof(target->shown), "%s", libuv_source_shown(uv));
}

/* A process with no looprt probes: traced through its libuv, if it has
 * one that can be. Returns 0, -ENOEXEC after saying why its libuv cannot
 * be traced, or the error of finding it (-ENOENT: none). */
static int find_libuv(struct session* s, pid_t pid,
                      struct probes_target* target) {
  char why[PATH_MAX + 128];
  int err = libuv_source_find(pid, &s->uv, why, sizeof(why));
  if (err == 0) {
    libuv_target(target, pid, target->comm, s->uv);
    return 0;
  }
  if (err == -ENOEXEC) {
    fprintf(stderr, "looptrace: pid %d (%s): %s\n", (int) pid, target->comm,
            why);
    return -ENOEXEC;
  }
  return err == -ESRCH || err == -EACCES || err == -EPERM ? err : -ENOENT;
}

/* `record -- CMD`: CMD holds libuv and no looprt (the libuv source is
 * set), or not (left to looprt's handshake). Returns 0, or -1 after
 * saying why CMD cannot be traced. */
static int open_libuv_cmd(struct session* s, const char* cmd) {
  char why[PATH_MAX + 128];
  int err = libuv_source_open_cmd(cmd, &s->uv, why, sizeof(why));
  if (err == -ENOEXEC) {
    fprintf(stderr, "looptrace: %s: %s\n", cmd, why);
    return -1;
  }
  return 0;
}

/* record_tap_run: the trace so far to the tap; it may end the recording. */
static void tap_step(struct session* s, uint64_t now, uint64_t* stop_at,
                     const char** end_reason) {
  int r = export_flush(s->ex);
  if (r == 0)
    r = s->args->tap->step(s->args->tap->arg, now);
  if (r < 0) {
    s->error = r;
  } else if (r > 0) {
    *end_reason = "duration";
    *stop_at = now;
  }
}

static int run(struct record_args* args) {
  struct session s;
  struct output out = {.fd = -1};
  struct spawn child = {-1, -1, -1};
  struct probes_target target;
  struct export_opts eopts;
  struct export_stats st;
  struct bpf_link* link = NULL;
  struct sigaction sa;
  char path[PATH_MAX];
  char command[4096];
  char what[128];
  char status_text[96];
  const char* end_reason = "signal";
  uint64_t start;
  uint64_t deadline = 0;
  uint64_t grace = 0;
  uint64_t next_progress;
  uint64_t next_drops;
  uint64_t last_records = 0;
  uint64_t last_ns;
  uint64_t stop_at = 0;
  int child_status = 0;
  int child_exited = 0;
  int target_exited = 0;
  int tty = isatty(STDERR_FILENO);
  int pidfd = -1;
  int fail = args->cmd != NULL ? EXIT_CMD_FAILED : 1;
  int ret = fail;
  int err;

  memset(&s, 0, sizeof(s));
  s.args = args;

  /* What to trace, as far as it can be checked before starting. */
  if (args->pid != 0) {
    if (kill(args->pid, 0) != 0 && errno == ESRCH) {
      print_target_error(-ESRCH, args->pid, "");
      return fail;
    }
  }
  if (privilege_check() != 0) {
    print_no_privilege();
    return fail;
  }
  if (args->pid != 0) {
    err = probes_find(args->pid, &target);
    if (err == -ENOENT)
      err = find_libuv(&s, args->pid, &target);
    if (err != 0) {
      if (err != -ENOEXEC)
        print_target_error(err, args->pid, target.comm);
      libuv_source_free(s.uv);
      return fail;
    }
  }

  /* The output, before anything is attached. */
  if (args->tap != NULL) {
    args->output = "(live)"; /* no file: the tap reads the trace */
  } else if (args->output == NULL && args->pid != 0) {
    default_output(path, sizeof(path), target.comm, args->pid);
    err = prepare_output(args, &out, path, 1);
    args->output = path;
  } else if (args->output == NULL && access(".", W_OK) != 0) {
    fprintf(stderr, "looptrace: cannot write the trace in %s: %s (use -o)\n",
            getcwd(command, sizeof(command)) ? command : ".", strerror(errno));
    return fail;
  } else if (args->output != NULL) {
    snprintf(path, sizeof(path), "%s", args->output);
    args->output = path;
    err = prepare_output(args, &out, path, 0);
  }
  if (args->output != NULL && args->tap == NULL) {
    if (err != 0) {
      fprintf(stderr, "looptrace: cannot write %s: %s\n", args->output,
              strerror(-err));
      return fail;
    }
  }

  /* BPF, loaded before the program starts so that a failure costs it
   * nothing. */
  libbpf_set_print(libbpf_print);
  s.skel = record_bpf__open();
  if (s.skel == NULL) {
    fprintf(stderr, "looptrace: cannot open the BPF program: %s\n",
            strerror(errno));
    goto cleanup;
  }
  err = bpf_map__set_max_entries(s.skel->maps.records,
                                 (uint32_t) args->ring_size);
  if (err != 0) {
    fprintf(stderr, "looptrace: cannot size the ring buffer: %s\n",
            strerror(-err));
    goto cleanup;
  }
  s.skel->rodata->wakeup_bytes = args->ring_size / 4;
  err = record_bpf__load(s.skel);
  if (err != 0) {
    if (err == -EPERM || err == -EACCES)
      print_no_privilege();
    else
      fprintf(stderr,
              "looptrace: cannot load the BPF program: %s (-v shows "
              "libbpf's messages)\n",
              strerror(-err));
    goto cleanup;
  }
  s.ncpus = libbpf_num_possible_cpus();
  if (s.ncpus <= 0) {
    fprintf(stderr, "looptrace: cannot count CPUs: %s\n", strerror(-s.ncpus));
    goto cleanup;
  }
  s.drop_values = calloc((size_t) s.ncpus, sizeof(uint64_t));
  if (s.drop_values == NULL) {
    fprintf(stderr, "looptrace: out of memory\n");
    goto cleanup;
  }

  /* Signals stop the recording; they interrupt poll(). */
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  /* In flight mode SIGUSR1 asks for a dump, even one sent while
   * looptrace starts (that dump holds what comes after it). */
  if (args->flight.seconds > 0) {
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_dump_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
  }

  /* A stock libuv program is held before its exec, a looprt program in
   * its runtime, until we are attached. */
  if (args->cmd != NULL && open_libuv_cmd(&s, args->cmd[0]) != 0)
    goto cleanup;
  if (args->cmd != NULL && s.uv != NULL) {
    join_command(args->cmd, command, sizeof(command));
    err = spawn_start_held(&child, args->cmd, libuv_source_exe_fd(s.uv));
    if (err != 0) {
      fprintf(stderr, "looptrace: cannot run %s: %s\n", args->cmd[0],
              strerror(-err));
      ret = EXIT_CMD_CANNOT_RUN;
      goto cleanup;
    }
    libuv_target(&target, child.pid, args->cmd[0], s.uv);
    if (args->output == NULL) {
      default_output(path, sizeof(path), target.comm, child.pid);
      args->output = path;
      err = prepare_output(args, &out, path, 1);
      if (err != 0) {
        fprintf(stderr, "looptrace: cannot write %s: %s\n", args->output,
                strerror(-err));
        goto cleanup;
      }
    }
    pidfd = child.pidfd;
  } else if (args->cmd != NULL) {
    join_command(args->cmd, command, sizeof(command));
    err = spawn_start(&child, args->cmd);
    if (err != 0) {
      fprintf(stderr, "looptrace: cannot run %s: %s\n", args->cmd[0],
              strerror(-err));
      ret = err == -ENOENT ? EXIT_CMD_NOT_FOUND : EXIT_CMD_CANNOT_RUN;
      goto cleanup;
    }
    err = spawn_wait_ready(&child, READY_TIMEOUT_MS, &child_status);
    if (err != 0) {
      if (err == -ECHILD && child.pid < 0) {
        describe_status(child_status, status_text, sizeof(status_text));
        fprintf(stderr,
                "looptrace: %s %s%s before its looprt runtime started: not "
                "a looprt program?\n",
                args->cmd[0], WIFSIGNALED(child_status) ? "was " : "",
                status_text);
        child_exited = 1;
      } else if (err == -ECHILD) {
        fprintf(stderr,
                "looptrace: %s closed the handshake socket: not a looprt "
                "program? It runs on untraced.\n",
                args->cmd[0]);
      } else if (err == -ETIMEDOUT) {
        fprintf(stderr,
                "looptrace: %s did not start a looprt runtime within %d s: "
                "not a looprt program? It runs on untraced.\n",
                args->cmd[0], READY_TIMEOUT_MS / 1000);
      } else {
        fprintf(stderr, "looptrace: waiting for %s: %s\n", args->cmd[0],
                strerror(-err));
      }
      goto cleanup;
    }
    err = probes_find(child.pid, &target);
    if (err != 0) {
      print_target_error(err, child.pid, target.comm);
      goto cleanup;
    }
    if (args->output == NULL) {
      default_output(path, sizeof(path), target.comm, child.pid);
      args->output = path;
      err = prepare_output(args, &out, path, 1);
      if (err != 0) {
        fprintf(stderr, "looptrace: cannot write %s: %s\n", args->output,
                strerror(-err));
        goto cleanup;
      }
    }
    pidfd = child.pidfd;
  } else {
    probes_cmdline(args->pid, command, sizeof(command));
    pidfd = spawn_pidfd_open(args->pid);
    if (pidfd < 0) {
      print_target_error(pidfd == -ESRCH ? -ESRCH : pidfd, args->pid,
                         target.comm);
      pidfd = -1;
      goto cleanup;
    }
  }

  /* The head of the file is written now: an output that cannot be
   * written fails here, before anything is attached. ts 0 is now, before
   * attaching: every record comes later. */
  start = now_ns();
  memset(&eopts, 0, sizeof(eopts));
  eopts.fd = args->tap != NULL ? args->tap->fd : out.fd;
  if (args->tap != NULL) {
    eopts.on_event = args->tap->event;
    eopts.on_event_arg = args->tap->arg;
  }
  eopts.pid = target.pid;
  eopts.process_name = target.comm;
  eopts.command = command;
  eopts.start_ns = start;
  eopts.window_ns = EXPORT_WINDOW_NS;
  eopts.all_phases = args->all_phases;
  eopts.gzip = jw_gzip_name(args->output);
  if (s.uv != NULL) {
    eopts.source = "libuv";
    eopts.fallbacks = libuv_source_fallbacks(s.uv);
  }
  s.pid = target.pid;
  if (args->flight.seconds > 0) {
    err = flight_new(&s.fl, &args->flight, &eopts, args->output);
  } else {
    err = export_new(&s.ex, &eopts);
    if (err == 0)
      err = export_flush(s.ex);
  }
  if (err != 0) {
    fprintf(stderr, "looptrace: cannot write %s: %s\n", args->output,
            strerror(-err));
    goto cleanup;
  }
  s.rb =
      ring_buffer__new(bpf_map__fd(s.skel->maps.records), on_batch, &s, NULL);
  if (s.rb == NULL) {
    fprintf(stderr, "looptrace: cannot read the ring buffer: %s\n",
            strerror(errno));
    goto cleanup;
  }
  if (s.uv != NULL) {
    err = libuv_source_attach(s.uv, target.pid, s.rb, on_batch, &s);
    if (err != 0) {
      if (args->cmd != NULL)
        fprintf(stderr, "looptrace: %s runs on untraced\n", args->cmd[0]);
      goto cleanup;
    }
  } else {
    link = bpf_program__attach_usdt(s.skel->progs.handle_flush, target.pid,
                                    target.path, PROBES_PROVIDER, PROBES_FLUSH,
                                    NULL);
  }
  if (link == NULL && s.uv == NULL) {
    err = -errno;
    if (err == -ESRCH)
      print_target_error(-ESRCH, target.pid, target.comm);
    else
      fprintf(stderr,
              "looptrace: cannot attach to %s:%s in %s: %s (-v shows "
              "libbpf's messages)%s\n",
              PROBES_PROVIDER, PROBES_FLUSH, target.shown, strerror(-err),
              args->cmd != NULL ? "; it runs on untraced" : "");
    goto cleanup;
  }
  s.skel->links.handle_flush = link;
  /* Records the target still buffers when it dies (record.bpf.c); without
   * it they are lost unannounced, so a failure is not fatal. */
  s.skel->links.handle_exit = bpf_program__attach(s.skel->progs.handle_exit);
  /* Go: the started program runs on, traced from its first tick. */
  spawn_release(&child, 1);

  snprintf(what, sizeof(what), "pid %d (%s) into %s", (int) target.pid,
           target.comm, args->output);
  if (!args->quiet && s.uv != NULL) {
    libuv_source_describe(s.uv, stderr);
    fprintf(stderr, "looptrace: tracing pid %d (%s) %s %s\n", (int) target.pid,
            target.comm, s.fl != NULL ? "in flight mode, dumps to" : "into",
            args->output);
  } else if (!args->quiet)
    fprintf(stderr, "looptrace: tracing pid %d (%s, looprt %s %s) %s %s\n",
            (int) target.pid, target.comm,
            target.is_static ? "linked into" : "from", target.shown,
            s.fl != NULL ? "in flight mode, dumps to" : "into", args->output);
  if (args->duration > 0)
    deadline = start + (uint64_t) (args->duration * 1e9);
  last_ns = now_ns();
  next_progress = last_ns + 1000000000ull;
  next_drops = last_ns + 100000000ull;

  /* Record until asked to stop, then drain, detach and drain again. */
  for (;;) {
    struct pollfd fds[2] = {{ring_buffer__epoll_fd(s.rb), POLLIN, 0},
                            {pidfd, POLLIN, 0}};
    uint64_t now;
    int r = poll(fds, 2, POLL_MS);
    if (r < 0 && errno != EINTR) {
      s.error = -errno;
      break;
    }
    consume(&s, CONSUME_NS);
    now = now_ns();
    if (fds[1].revents != 0) {
      target_exited = 1;
      child_exited = reap_child(child.pid, &child_status, s.ex);
    }
    if (now >= next_drops) {
      check_drops(&s);
      next_drops = now + 100000000ull;
    }
    if (s.fl != NULL && s.error == 0)
      flight_step(&s, now, &stop_at, &end_reason);
    else if (s.error == 0)
      s.error = export_advance(s.ex, now);
    if (args->tap != NULL && s.error == 0 && stop_at == 0)
      tap_step(&s, now, &stop_at, &end_reason);
    if (s.error != 0)
      break;
    if (target_exited) {
      if (stop_at == 0)
        end_reason = exiting ? "signal" : "target-exited";
      break;
    }
    if (stop_at == 0) {
      if (exiting && args->cmd != NULL && grace == 0) {
        /* Our program: let it stop by itself and trace that. */
        if (exiting_from_process)
          kill(child.pid, exiting);
        grace = now + GRACE_NS;
      }
      if (exiting && (args->cmd == NULL || now >= grace || exiting_count > 1)) {
        end_reason = "signal";
        stop_at = now;
      } else if (deadline != 0 && now >= deadline && !exiting) {
        end_reason = "duration";
        stop_at = now;
      }
    } else if (now >= stop_at + DRAIN_NS) {
      break;
    }
    if (now >= next_progress) {
      if (!args->quiet)
        show_progress(&s, what, tty, &last_records, &last_ns);
      next_progress = now + 1000000000ull;
      /* The file on disk stays at most a second behind. */
      if (s.ex != NULL)
        export_flush(s.ex);
    }
  }

  /* What the ring buffer holds now is ours. The probes are detached at
   * the end, once the file is whole: detaching takes the kernel up to a
   * few hundred ms under load, and what they catch meanwhile is after
   * the end of the recording. */
  consume(&s, CONSUME_NS);
  check_drops(&s);
  if (!args->quiet && tty)
    fputs("\r\033[K", stderr); /* the progress line */
  if (s.error == -EPROTONOSUPPORT) {
    unsigned version;
    if (s.fl != NULL) {
      struct flight_stats fst;
      flight_stats(s.fl, &fst);
      version = fst.trace_version;
    } else {
      export_stats(s.ex, &st);
      version = st.trace_version;
    }
    fprintf(stderr,
            "looptrace: pid %d writes looprt trace format %u; this "
            "looptrace reads format %d only: use a matching looptrace\n",
            (int) target.pid, version, LRT_TRACE_VERSION);
    goto cleanup; /* not a trace: removed */
  }
  if (!child_exited)
    child_exited = reap_child(child.pid, &child_status, s.ex);
  if (s.fl != NULL) {
    if (child_exited) {
      describe_status(child_status, status_text, sizeof(status_text));
      flight_target_exit(s.fl, status_text);
    }
    ret = finish_flight(&s, end_reason) == 0 ? 0 : fail;
    goto cleanup;
  }
  err = export_finish(s.ex, 0, end_reason);
  if (s.error == 0)
    s.error = err;
  if (s.error == 0)
    s.error = output_commit(&out);
  if (s.error != 0) {
    fprintf(stderr, "looptrace: writing %s: %s\n", args->output,
            strerror(-s.error));
    goto cleanup;
  }
  if (args->tap != NULL)
    args->tap->end(args->tap->arg, end_reason);
  export_stats(s.ex, &st);
  if (args->tap == NULL && (!args->quiet || st.drops > 0)) {
    uint64_t end = now_ns();
    fprintf(stderr,
            "looptrace: wrote %s: %" PRIu64 " events from %" PRIu64
            " records in %.3f s (%s); %" PRIu64 " records dropped",
            args->output, st.events, st.records, (double) (end - start) / 1e9,
            end_reason, st.drops);
    if (st.drops > 0)
      fprintf(stderr,
              " (ring buffer full: %" PRIu64 ", runtime buffers: %" PRIu64
              ")%s",
              s.ring_drops, st.drops - s.ring_drops,
              s.ring_drops > 0 ? "; a larger --ring-size may help" : "");
    fputc('\n', stderr);
  }
  ret = 0;

cleanup:
  if (link != NULL) {
    bpf_link__destroy(link);
    s.skel->links.handle_flush = NULL;
  }
  spawn_release(&child, 0);
  ring_buffer__free(s.rb);
  libuv_source_free(s.uv);
  export_free(s.ex);
  flight_free(s.fl);
  record_bpf__destroy(s.skel);
  free(s.drop_values);
  output_abort(&out);
  if (args->pid != 0 && pidfd >= 0)
    close(pidfd);
  /* A program we started is ours to wait for. */
  if (child.pid > 0 && !child_exited) {
    if (waitpid(child.pid, &child_status, WNOHANG) == 0) {
      if (!args->quiet && ret == 0)
        fprintf(stderr,
                "looptrace: %s (pid %d) runs on untraced; waiting for it "
                "to exit\n",
                args->cmd[0], (int) child.pid);
      if (wait_child(child.pid, &child_status) == 0)
        child_exited = 1;
    } else {
      child_exited = 1;
    }
  }
  if (ret == 0 && args->cmd != NULL && child_exited)
    ret = report_child(args, child_status);
  spawn_close(&child);
  return ret;
}

int cmd_record(int argc, char** argv) {
  struct record_args args;
  static const struct argp_child children[] = {
      {&flight_argp, 0, "Flight recorder:", 0}, {0}};
  struct argp argp = {options, parse_opt, args_doc, doc, children, NULL, NULL};
  memset(&args, 0, sizeof(args));
  flight_opts_init(&args.flight);
  args.ring_size = DEFAULT_RING_SIZE;
  /* argp names the program after argv[0]: "looptrace record: ...". */
  argv[0] = "looptrace record";
  argp_err_exit_status = 2;
  argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, &args);
  verbose = args.verbose;
  if (args.bench > 0)
    return export_bench(args.output, args.bench, args.all_phases) == 0 ? 0 : 1;
  return run(&args);
}

int record_tap_run(pid_t pid, char** cmd, int verbose_,
                   const struct record_tap* tap) {
  struct record_args args;
  memset(&args, 0, sizeof(args));
  flight_opts_init(&args.flight);
  args.pid = pid;
  args.cmd = cmd;
  args.quiet = 1;
  args.verbose = verbose_;
  args.ring_size = DEFAULT_RING_SIZE;
  args.tap = tap;
  verbose = verbose_;
  return run(&args);
}
