/* record.c — `looptrace record`: attach to a looprt program with BPF and
 * write its trace (tracer/TRACE-FORMAT.md).
 *
 * open the output → load record.bpf.c → find (or start) the target →
 * note the start time → attach to looprt:flush → poll the ring buffer,
 * handing batches to the exporter, until a signal, -d or the target's
 * exit → drain → finish the file → detach (keeper.h).
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
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
#include "libuv_source.h"
#include "flight.h"
#include "json_writer.h"
#include "keeper.h"
#include "privilege.h"
#include "probes.h"
#include "record.h"
#include "record.skel.h"
#include "spawn.h"

#define DEFAULT_RING_SIZE (16u << 20)
/* How long a started program has to reach its runtime; one that may
 * still (ready_may_come()) has up to READY_MAX_MS. */
#define READY_TIMEOUT_MS 5000
#define READY_MAX_MS 60000
/* The CPU time a wrapper (taskset, env) may take before its exec. */
#define READY_CPU_MS 1000
/* After a stop is asked for, records the runtime still flushes (it holds
 * them at most ~20 ms) are collected this long before reading stops. */
#define DRAIN_NS (30 * 1000 * 1000ull)
/* How long the hello link (hello_attach) stays: the runtime looks at the
 * semaphore every 20 ms. */
#define HELLO_NS (200 * 1000 * 1000ull)
/* How long a recording that heard no announcement of the runtime's waits,
 * once stopped, for the next (it comes every 500 ms): the names of its
 * callbacks and tasks (hello_attach). */
#define LABELS_NS (700 * 1000 * 1000ull)
/* The probe it goes on: one that fires when a loop stops, i.e. almost
 * never while it is there. */
#define HELLO_PROBE "loop__stop"
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
    {"duration", 'd', "SECONDS", 0,
     "Stop after SECONDS of tracing, counted once attached (fractions allowed)",
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
  case ARGP_KEY_ARG:
    /* CMD and everything after it belong to the program. */
    args->cmd = &state->argv[state->next - 1];
    state->next = state->argc;
    break;
  case ARGP_KEY_END:
    if (args->pid == 0 && args->cmd == NULL) {
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
  char old[PATH_MAX]; /* the file the trace replaced, still to remove */
  int old_fd;         /* it, removed but still open: output_remove_old() */
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
  out->old_fd = -1;
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
    out->old_fd = -1;
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

/* Puts the temporary file in place of `path`. A rename(2) over an
 * existing file makes ext4 write the new one out first (auto_da_alloc:
 * 150-300 ms for a flood's trace on a loaded machine, measured): the two
 * are swapped instead, which is as atomic for a reader and leaves writing
 * back to the kernel's own pace; the old file (or symlink), now under the
 * temporary name, is out->old, to remove (freeing a large file takes
 * long too: output_remove_old()). */
static int output_replace(struct output* out) {
  if (renameat2(AT_FDCWD, out->tmp, AT_FDCWD, out->path, RENAME_EXCHANGE) ==
      0) {
    memcpy(out->old, out->tmp, sizeof(out->old));
    return 0;
  }
  return rename(out->tmp, out->path) == 0 ? 0 : -errno;
}

/* Removes the file the trace replaced, if it is still to remove. Freeing
 * a large file takes the kernel up to 200 ms on a loaded machine
 * (measured): a regular file is kept open (out->old_fd), so that the
 * freeing falls on whoever closes it last (the keeper, keeper.h). */
static void output_remove_old(struct output* out) {
  struct stat st;
  int fd;
  if (out->old[0] == '\0')
    return;
  fd = open(out->old, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0 && out->old_fd < 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
    out->old_fd = fd;
  else if (fd >= 0)
    close(fd);
  unlink(out->old);
  out->old[0] = '\0';
}

/* Lets go of the replaced file (the last close frees it). */
static void output_close_old(struct output* out) {
  if (out->old_fd >= 0)
    close(out->old_fd);
  out->old_fd = -1;
}

/* The trace is complete: puts it in place. Returns 0 or a negative
 * errno (the temporary file is removed then). */
static int output_commit(struct output* out) {
  int err = 0;
  if (out->fd >= 0 && close(out->fd) != 0)
    err = -errno;
  out->fd = -1;
  if (out->tmp[0] != '\0') {
    if (err == 0)
      err = output_replace(out);
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
  output_remove_old(out);
  output_close_old(out);
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

/* Where a recording is in its ending (the loop in rec_loop()):
 *
 *   RECORDING --signal, -- CMD--> GRACE --CMD exits, GRACE_NS, 2nd signal-->
 *   RECORDING --signal, -d, max-dumps, top--> DRAINING --DRAIN_NS--> DONE
 *   DRAINING --DRAIN_NS, records but no announcement--> LABELS --heard one,
 *     LABELS_NS, a signal--> DONE
 *   any --an error, the target's exit--> DONE
 */
enum stop_state {
  REC_RECORDING,
  REC_GRACE,    /* a signal was passed on to our program: it may end */
  REC_DRAINING, /* stopped: what the runtime still flushes is read */
  REC_LABELS,   /* drained: only the runtime's labels are read */
  REC_DONE,     /* nothing more is read */
};

/* A recording, stage by stage (run()): what each stage sets up, the
 * next ones use, and rec_cleanup() undoes. */
struct session {
  struct record_args* args;
  int fail; /* the exit status of a failure: 1, or 125 with CMD */
  /* target and output */
  struct probes_target target;
  struct output out;
  char path[PATH_MAX]; /* the output's name */
  char command[4096];  /* the target's command line */
  struct spawn child;  /* -- CMD */
  int child_status;    /* once child_exited */
  int child_exited;    /* reaped */
  int pidfd;           /* the target, to see it exit */
  /* BPF and the reading of it */
  struct record_bpf* skel;
  struct bpf_link* link;       /* looprt:flush */
  struct bpf_link* hello;      /* hello_attach() */
  struct keeper_fds hello_fds; /* its descriptors */
  uint64_t hello_until;
  pthread_t hello_dropper; /* hello_drop_start() */
  int hello_dropping;
  int has_hello;           /* the target has HELLO_PROBE: a looprt runtime */
  uint64_t listening;      /* when looprt:flush was in place */
  int announced;           /* an announcement made since then reached us */
  int stop_signals;        /* exiting_count when LABELS began */
  int ready_waited_ms;     /* spawn_looprt()'s wait */
  struct libuv_source* uv; /* the libuv source, or NULL for looprt's */
  struct ring_buffer* rb;
  struct exporter* ex;
  struct flight* fl; /* in flight mode, instead of ex */
  pid_t pid;         /* the traced process */
  int ncpus;
  uint64_t* drop_values;  /* ncpus entries */
  uint64_t ring_drops;    /* as last read from the maps */
  uint64_t uv_drops;      /* as last read from the libuv source */
  uint64_t received;      /* records read from record.bpf.c's ring */
  uint64_t unread;        /* records left in the rings at the stop */
  uint64_t consume_until; /* when consume() stops reading, 0 outside */
  /* the loop */
  uint64_t start;    /* ts 0 of the trace */
  uint64_t deadline; /* -d, or 0 */
  enum stop_state state;
  uint64_t state_until; /* when GRACE or DRAINING ends */
  const char* end_reason;
  int error; /* a negative errno that stopped the recording */
  /* the progress line */
  int tty;
  char what[128];
  uint64_t next_progress;
  uint64_t next_drops;
  uint64_t last_records;
  uint64_t last_ns;
  unsigned dumps_shown;
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

static void hello_heard(struct session* s, const struct lrt_record* r,
                        size_t n);

/* In LABELS: the recording has ended, but for the runtime's labels. */
static int on_labels(struct session* s, const struct lrt_record* r, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (r[i].type == LRT_REC_LABEL)
      on_batch(s, (void*) &r[i], sizeof(r[i]));
  return 0;
}

/* record.bpf.c's ring: what looprt's probe sent. */
static int on_ring(void* ctx, void* data, size_t size) {
  struct session* s = ctx;
  size_t n = size / sizeof(struct lrt_record);
  s->received += n;
  if (s->has_hello && !s->announced)
    hello_heard(s, data, n);
  if (s->state == REC_LABELS)
    return on_labels(s, data, n);
  return on_batch(ctx, data, size);
}

/* The sum of a one-entry per-CPU counter of record.bpf.c's, into *total.
 * Returns 0 or a negative errno. */
static int percpu_total(struct session* s, const struct bpf_map* map,
                        uint64_t* total) {
  uint32_t key = 0;
  int i;
  *total = 0;
  if (bpf_map__lookup_elem(map, &key, sizeof(key), s->drop_values,
                           sizeof(uint64_t) * (size_t) s->ncpus, 0) != 0)
    return -errno;
  for (i = 0; i < s->ncpus; i++)
    *total += s->drop_values[i];
  return 0;
}

/* Reads the BPF drop counter and writes any increase into the trace. */
static void check_drops(struct session* s) {
  uint64_t total;
  if (percpu_total(s, s->skel->maps.drops, &total) != 0)
    return;
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
static int consume(struct session* s, uint64_t budget_ns) {
  int n;
  s->consume_until = now_ns() + budget_ns;
  n = ring_buffer__consume(s->rb);
  s->consume_until = 0; /* batches handed over otherwise are not cut */
  if (n < 0 && n != -EINTR && n != -ECANCELED && s->error == 0)
    s->error = n;
  return n;
}

/* Reading has stopped: records the probes put in the rings and that were
 * not read are said to be lost, left in the ring at the stop. Drops are
 * read first: a record taken meanwhile counts as unread, never twice. */
static void count_unread(struct session* s) {
  uint64_t drops, submitted;
  if (percpu_total(s, s->skel->maps.drops, &drops) == 0 &&
      percpu_total(s, s->skel->maps.submitted, &submitted) == 0 &&
      submitted > drops + s->received)
    s->unread = submitted - drops - s->received;
  if (s->uv != NULL)
    s->unread += libuv_source_unread(s->uv);
  if (s->ex != NULL)
    export_dropped_left(s->ex, now_ns(), s->unread);
  else if (s->fl != NULL)
    flight_dropped_left(s->fl, now_ns(), s->unread);
}

/* Reading has stopped: the probes take nothing from now on (they are
 * removed at the end, see keeper.h); what the runtime sends after this
 * is after the end of the recording. */
static void stop_probes(struct session* s) {
  if (s->skel != NULL && s->skel->bss != NULL)
    s->skel->bss->stopped = 1;
  if (s->uv != NULL)
    libuv_source_stop(s->uv);
}

/* Whether any probe is in place. */
static int attached(const struct session* s) {
  return s->link != NULL || s->hello != NULL ||
         (s->skel != NULL && s->skel->links.handle_exit != NULL) ||
         (s->uv != NULL && libuv_source_attached(s->uv));
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

static void show_progress(struct session* s) {
  struct export_stats st;
  uint64_t now = now_ns();
  double dt = (double) (now - s->last_ns) / 1e9;
  if (s->fl != NULL) {
    show_flight_progress(s, s->tty);
    return;
  }
  export_stats(s->ex, &st);
  fprintf(stderr,
          "%slooptrace: recording %s: %" PRIu64 " events, %.0f/s, %" PRIu64
          " dropped%s",
          s->tty ? "\r" : "", s->what, st.records,
          dt > 0 ? (double) (st.records - s->last_records) / dt : 0.0, st.drops,
          s->tty ? "\033[K" : "\n");
  s->last_records = st.records;
  s->last_ns = now;
}

/* Flight mode, each turn of the polling loop: a dump asked for by
 * SIGUSR1, a dump due, the end once --max-dumps are written. */
static void stop(struct session* s, uint64_t now, const char* reason);

static void flight_step(struct session* s, uint64_t now) {
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
  if (r == 1)
    stop(s, now, "max-dumps");
}

/* Flight mode, at the end: writes a dump still pending and says what was
 * written. Returns 0 or a negative errno. */
static int finish_flight(struct session* s) {
  const char* end_reason = s->end_reason;
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
static void tap_step(struct session* s, uint64_t now) {
  int r = export_flush(s->ex);
  if (r == 0)
    r = s->args->tap->step(s->args->tap->arg, now);
  if (r < 0) {
    s->error = r;
  } else if (r > 0) {
    stop(s, now, "duration");
  }
}

/* Target stage: what to trace, as far as it can be checked before
 * starting anything. Returns 0 or s->fail. */
static int rec_target(struct session* s) {
  pid_t pid = s->args->pid;
  int err;
  if (pid != 0 && kill(pid, 0) != 0 && errno == ESRCH) {
    print_target_error(-ESRCH, pid, "");
    return s->fail;
  }
  if (privilege_check() != 0) {
    print_no_privilege();
    return s->fail;
  }
  if (pid == 0)
    return 0;
  err = probes_find(pid, &s->target);
  if (err == -ENOENT)
    err = find_libuv(s, pid, &s->target);
  if (err != 0) {
    if (err != -ENOEXEC)
      print_target_error(err, pid, s->target.comm);
    return s->fail;
  }
  return 0;
}

/* Opens the default output, looptrace-COMM-PID.json, once the target's
 * name and pid are known. Returns 0 or s->fail. */
static int open_default_output(struct session* s) {
  int err;
  default_output(s->path, sizeof(s->path), s->target.comm, s->target.pid);
  s->args->output = s->path;
  err = prepare_output(s->args, &s->out, s->path, 1);
  if (err != 0) {
    fprintf(stderr, "looptrace: cannot write %s: %s\n", s->args->output,
            strerror(-err));
    return s->fail;
  }
  return 0;
}

/* Output stage: the output, before anything is attached (with CMD and no
 * -o, once CMD is known: rec_spawn()). Returns 0 or s->fail. */
static int rec_output(struct session* s) {
  struct record_args* args = s->args;
  int err;
  if (args->tap != NULL) {
    args->output = "(live)"; /* no file: the tap reads the trace */
    return 0;
  }
  if (args->output == NULL && args->pid != 0)
    return open_default_output(s);
  if (args->output == NULL) {
    if (access(".", W_OK) == 0)
      return 0;
    fprintf(stderr, "looptrace: cannot write the trace in %s: %s (use -o)\n",
            getcwd(s->path, sizeof(s->path)) ? s->path : ".", strerror(errno));
    return s->fail;
  }
  snprintf(s->path, sizeof(s->path), "%s", args->output);
  args->output = s->path;
  err = prepare_output(args, &s->out, s->path, 0);
  if (err != 0) {
    fprintf(stderr, "looptrace: cannot write %s: %s\n", args->output,
            strerror(-err));
    return s->fail;
  }
  return 0;
}

/* Signals stop the recording (they interrupt poll()); in flight mode
 * SIGUSR1 asks for a dump, even one sent while looptrace starts (that
 * dump holds what comes after it). */
static void catch_signals(const struct record_args* args) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  if (args->flight.seconds > 0) {
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_dump_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
  }
}

/* BPF stage: record.bpf.c loaded before the program starts, so that a
 * failure costs it nothing. Returns 0 or s->fail. */
static int rec_bpf(struct session* s) {
  int err;
  libbpf_set_print(libbpf_print);
  s->skel = record_bpf__open();
  if (s->skel == NULL) {
    fprintf(stderr, "looptrace: cannot open the BPF program: %s\n",
            strerror(errno));
    return s->fail;
  }
  err = bpf_map__set_max_entries(s->skel->maps.records,
                                 (uint32_t) s->args->ring_size);
  if (err != 0) {
    fprintf(stderr, "looptrace: cannot size the ring buffer: %s\n",
            strerror(-err));
    return s->fail;
  }
  s->skel->rodata->wakeup_bytes = s->args->ring_size / 4;
  err = record_bpf__load(s->skel);
  if (err == -EPERM || err == -EACCES) {
    print_no_privilege();
    return s->fail;
  } else if (err != 0) {
    fprintf(stderr,
            "looptrace: cannot load the BPF program: %s (-v shows libbpf's "
            "messages)\n",
            strerror(-err));
    return s->fail;
  }
  s->ncpus = libbpf_num_possible_cpus();
  if (s->ncpus <= 0) {
    fprintf(stderr, "looptrace: cannot count CPUs: %s\n", strerror(-s->ncpus));
    return s->fail;
  }
  s->drop_values = calloc((size_t) s->ncpus, sizeof(uint64_t));
  if (s->drop_values == NULL) {
    fprintf(stderr, "looptrace: out of memory\n");
    return s->fail;
  }
  catch_signals(s->args);
  return 0;
}

/* `-- CMD` that holds libuv: started held before its exec. Returns 0 or
 * an exit status. */
static int spawn_libuv(struct session* s) {
  char** cmd = s->args->cmd;
  int err = spawn_start_held(&s->child, cmd, libuv_source_exe_fd(s->uv));
  if (err != 0) {
    fprintf(stderr, "looptrace: cannot run %s: %s\n", cmd[0], strerror(-err));
    return EXIT_CMD_CANNOT_RUN;
  }
  libuv_target(&s->target, s->child.pid, cmd[0], s->uv);
  return 0;
}

/* Says why a started program did not reach its looprt runtime. */
static void print_ready_error(struct session* s, int err) {
  const char* cmd = s->args->cmd[0];
  char text[96];
  if (err == -ECHILD && s->child.pid < 0) {
    describe_status(s->child_status, text, sizeof(text));
    fprintf(stderr,
            "looptrace: %s %s%s before its looprt runtime started: not a "
            "looprt program?\n",
            cmd, WIFSIGNALED(s->child_status) ? "was " : "", text);
    s->child_exited = 1;
  } else if (err == -ECHILD) {
    fprintf(stderr,
            "looptrace: %s closed the handshake socket: not a looprt "
            "program? It runs on untraced.\n",
            cmd);
  } else if (err == -ETIMEDOUT) {
    fprintf(stderr,
            "looptrace: %s did not start a looprt runtime within %d s: not "
            "a looprt program? It runs on untraced. (If it is one, start it "
            "first and trace it with -p PID.)\n",
            cmd, s->ready_waited_ms / 1000);
  } else {
    fprintf(stderr, "looptrace: waiting for %s: %s\n", cmd, strerror(-err));
  }
}

/* Whether started program `pid`, not in its looprt runtime after
 * READY_TIMEOUT_MS, may still get there: its executable has looprt (it
 * is still loading), or it is still running or loading files (state R
 * or D) and has used less than READY_CPU_MS of CPU: a wrapper such as
 * taskset before its exec. On a loaded machine either took over 5 s (a
 * fresh clone's bench-smoke at load 12). */
static int ready_may_come(pid_t pid) {
  char path[64];
  char lib[PATH_MAX];
  char buf[512];
  struct usdt_probe* probes;
  unsigned long utime = 0;
  unsigned long stime = 0;
  char state = 0;
  const char* p;
  int n;
  int fd;
  snprintf(path, sizeof(path), "/proc/%d/exe", (int) pid);
  if (probes_needed_looprt(path, lib, sizeof(lib)) == 0)
    return 1;
  n = probes_read(path, PROBES_PROVIDER, &probes);
  free(probes);
  if (n > 0)
    return 1;
  snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  n = fd >= 0 ? (int) read(fd, buf, sizeof(buf) - 1) : -1;
  if (fd >= 0)
    close(fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  /* After comm (any bytes, up to the last ')'): state, then 10 fields
   * before utime and stime. */
  p = strrchr(buf, ')');
  if (p == NULL ||
      sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
             &state, &utime, &stime) != 3)
    return 0;
  return (state == 'R' || state == 'D') &&
         (utime + stime) * 1000 / (unsigned long) sysconf(_SC_CLK_TCK) <
             READY_CPU_MS;
}

/* `-- CMD` that does not hold libuv: started, and held in its looprt
 * runtime. Returns 0 or an exit status. */
static int spawn_looprt(struct session* s) {
  char** cmd = s->args->cmd;
  int err = spawn_start(&s->child, cmd);
  if (err != 0) {
    fprintf(stderr, "looptrace: cannot run %s: %s\n", cmd[0], strerror(-err));
    return err == -ENOENT ? EXIT_CMD_NOT_FOUND : EXIT_CMD_CANNOT_RUN;
  }
  err = spawn_wait_ready(&s->child, READY_TIMEOUT_MS, &s->child_status);
  s->ready_waited_ms = READY_TIMEOUT_MS;
  while (err == -ETIMEDOUT && s->ready_waited_ms < READY_MAX_MS &&
         ready_may_come(s->child.pid)) {
    err = spawn_wait_ready(&s->child, 1000, &s->child_status);
    s->ready_waited_ms += 1000;
  }
  if (err != 0) {
    print_ready_error(s, err);
    return s->fail;
  }
  err = probes_find(s->child.pid, &s->target);
  if (err != 0) {
    print_target_error(err, s->child.pid, s->target.comm);
    return s->fail;
  }
  return 0;
}

/* Spawn stage: starts CMD, held until we are attached (a stock libuv
 * program before its exec, a looprt program in its runtime), or for -p
 * notes the target's command line. Returns 0 or an exit status. */
static int rec_spawn(struct session* s) {
  char** cmd = s->args->cmd;
  int ret;
  if (cmd == NULL) {
    probes_cmdline(s->args->pid, s->command, sizeof(s->command));
    s->pidfd = spawn_pidfd_open(s->args->pid);
    if (s->pidfd < 0) {
      print_target_error(s->pidfd == -ESRCH ? -ESRCH : s->pidfd, s->args->pid,
                         s->target.comm);
      s->pidfd = -1;
      return s->fail;
    }
    return 0;
  }
  if (open_libuv_cmd(s, cmd[0]) != 0)
    return s->fail;
  join_command(cmd, s->command, sizeof(s->command));
  ret = s->uv != NULL ? spawn_libuv(s) : spawn_looprt(s);
  if (ret == 0 && s->args->output == NULL)
    ret = open_default_output(s);
  s->pidfd = s->child.pidfd;
  return ret;
}

/* The head of the file is written now: an output that cannot be written
 * fails here, before anything is attached. ts 0 is now, before
 * attaching: every record comes later. Returns 0 or a negative errno. */
static int start_export(struct session* s) {
  struct export_opts eopts;
  int err;
  s->start = now_ns();
  memset(&eopts, 0, sizeof(eopts));
  eopts.fd = s->args->tap != NULL ? s->args->tap->fd : s->out.fd;
  if (s->args->tap != NULL) {
    eopts.on_event = s->args->tap->event;
    eopts.on_event_arg = s->args->tap->arg;
  }
  eopts.pid = s->target.pid;
  eopts.process_name = s->target.comm;
  eopts.command = s->command;
  eopts.start_ns = s->start;
  eopts.window_ns = EXPORT_WINDOW_NS;
  eopts.all_phases = s->args->all_phases;
  eopts.gzip = jw_gzip_name(s->args->output);
  if (s->uv != NULL) {
    eopts.source = TRACE_SOURCE_LIBUV;
    eopts.fallbacks = libuv_source_fallbacks(s->uv);
    /* A version guessed from the symbols says so ("1.44 (guessed)"). */
    eopts.libuv_version = libuv_source_version(s->uv);
  }
  s->pid = s->target.pid;
  if (s->args->flight.seconds > 0)
    return flight_new(&s->fl, &s->args->flight, &eopts, s->args->output);
  err = export_new(&s->ex, &eopts);
  return err == 0 ? export_flush(s->ex) : err;
}

/* The runtime starts a new session (announcing its labels, threads and
 * loops again) when it sees its probes' semaphores rise between two of
 * its looks, 20 ms apart. The kernel raises a semaphore when a probe site
 * gets its breakpoint, not for each tracer: a tracer that attaches while
 * another's flush probe stays (a keeper's, keeper.h) would not make it
 * rise, so for its first HELLO_NS this one holds a probe nobody else
 * uses (HELLO_PROBE), which does, and a keeper lets it go first
 * (rec_cleanup()). Even so a recording may begin as another's hello goes,
 * in the same 20 ms: the sum stays, and no announcement comes until the
 * runtime's next, every 500 ms. A recording that heard none (LABELS)
 * waits for it once stopped, taking only labels (hello_heard()). A program
 * without the probe (an older runtime, a test's own looprt:flush) gets
 * neither. */
static void hello_attach(struct session* s) {
  const struct probes_target* t = &s->target;
  struct keeper_fds before;
  struct usdt_probe* probes;
  int n = probes_read(t->path, PROBES_PROVIDER, &probes);
  int i;
  for (i = 0; i < n; i++)
    s->has_hello |= strcmp(probes[i].name, HELLO_PROBE) == 0;
  free(probes);
  if (!s->has_hello)
    return;
  keeper_probe_fds(&before, NULL);
  s->hello =
      bpf_program__attach_usdt(s->skel->progs.handle_hello, t->pid, t->path,
                               PROBES_PROVIDER, HELLO_PROBE, NULL);
  keeper_probe_fds(&s->hello_fds, &before);
  s->hello_until = now_ns() + HELLO_NS;
}

/* Notes an announcement among `n` records: its LRT_REC_POOL, stamped
 * before its labels were sent, after looprt:flush was in place. */
static void hello_heard(struct session* s, const struct lrt_record* r,
                        size_t n) {
  size_t i;
  for (i = 0; i < n && !s->announced; i++)
    s->announced = r[i].type == LRT_REC_POOL && r[i].ts >= s->listening;
}

/* Removing a probe takes the kernel a grace period (keeper.h): the hello
 * link goes in a thread while the recording runs. */
static void* hello_drop_main(void* arg) {
  bpf_link__destroy(arg);
  return NULL;
}

static void hello_drop_start(struct session* s) {
  s->hello_dropping =
      pthread_create(&s->hello_dropper, NULL, hello_drop_main, s->hello) == 0;
  if (!s->hello_dropping)
    bpf_link__destroy(s->hello);
  s->hello = NULL;
  /* Gone, or going in the dropper: their numbers may be reused (the
   * keeper's own pipe), and the keeper must not close those. */
  s->hello_fds.count = 0;
}

/* Attaches the source's probes (looprt:flush, or the libuv source's).
 * Returns 0 or s->fail, having said why. */
static int attach_source(struct session* s) {
  const struct probes_target* t = &s->target;
  const char* untraced = s->args->cmd != NULL ? "; it runs on untraced" : "";
  int err;
  if (s->uv != NULL) {
    err = libuv_source_attach(s->uv, t->pid, s->rb, on_batch, s);
    if (err != 0 && s->args->cmd != NULL)
      fprintf(stderr, "looptrace: %s runs on untraced\n", s->args->cmd[0]);
    return err != 0 ? s->fail : 0;
  }
  s->link =
      bpf_program__attach_usdt(s->skel->progs.handle_flush, t->pid, t->path,
                               PROBES_PROVIDER, PROBES_FLUSH, NULL);
  if (s->link == NULL) {
    err = -errno;
    if (err == -ESRCH)
      print_target_error(-ESRCH, t->pid, t->comm);
    else
      fprintf(stderr,
              "looptrace: cannot attach to %s:%s in %s: %s (-v shows "
              "libbpf's messages)%s\n",
              PROBES_PROVIDER, PROBES_FLUSH, t->shown, strerror(-err),
              untraced);
    return s->fail;
  }
  s->skel->links.handle_flush = s->link;
  s->listening = now_ns();
  hello_attach(s);
  return 0;
}

/* Says what is traced, into what. */
static void print_tracing(struct session* s) {
  const struct probes_target* t = &s->target;
  const char* into = s->fl != NULL ? "in flight mode, dumps to" : "into";
  snprintf(s->what, sizeof(s->what), "pid %d (%s) into %s", (int) t->pid,
           t->comm, s->args->output);
  if (s->args->quiet)
    return;
  if (s->uv != NULL) {
    libuv_source_describe(s->uv, stderr);
    fprintf(stderr, "looptrace: tracing pid %d (%s) %s %s\n", (int) t->pid,
            t->comm, into, s->args->output);
  } else {
    fprintf(stderr, "looptrace: tracing pid %d (%s, looprt %s %s) %s %s\n",
            (int) t->pid, t->comm, t->is_static ? "linked into" : "from",
            t->shown, into, s->args->output);
  }
}

/* Attach stage: the file's head, the ring buffer, the probes; then the
 * started program goes on. Returns 0 or s->fail. */
static int rec_attach(struct session* s) {
  int err = start_export(s);
  if (err != 0) {
    fprintf(stderr, "looptrace: cannot write %s: %s\n", s->args->output,
            strerror(-err));
    return s->fail;
  }
  s->rb =
      ring_buffer__new(bpf_map__fd(s->skel->maps.records), on_ring, s, NULL);
  if (s->rb == NULL) {
    fprintf(stderr, "looptrace: cannot read the ring buffer: %s\n",
            strerror(errno));
    return s->fail;
  }
  if (attach_source(s) != 0)
    return s->fail;
  /* Records the target still buffers when it dies (record.bpf.c); without
   * it they are lost unannounced, so a failure is not fatal. */
  s->skel->links.handle_exit = bpf_program__attach(s->skel->progs.handle_exit);
  /* Go: the started program runs on, traced from its first tick. */
  spawn_release(&s->child, 1);
  print_tracing(s);
  return 0;
}

/* Stops the recording at `now` for `reason`, unless it is stopping
 * already: what the runtime still flushes is read for DRAIN_NS. */
static void stop(struct session* s, uint64_t now, const char* reason) {
  if (s->state >= REC_DRAINING)
    return;
  s->state = REC_DRAINING;
  s->state_until = now + DRAIN_NS;
  s->end_reason = reason;
}

/* Moves the stop state on, at `now`, from what the signals, -d and the
 * clock say. */
static void update_stop(struct session* s, uint64_t now) {
  switch (s->state) {
  case REC_RECORDING:
    if (exiting && s->args->cmd != NULL) {
      /* Our program: let it stop by itself and trace that. */
      if (exiting_from_process)
        kill(s->child.pid, exiting);
      s->state = REC_GRACE;
      s->state_until = now + GRACE_NS;
      update_stop(s, now);
    } else if (exiting) {
      stop(s, now, "signal");
    } else if (s->deadline != 0 && now >= s->deadline) {
      stop(s, now, "duration");
    }
    break;
  case REC_GRACE:
    if (now >= s->state_until || exiting_count > 1)
      stop(s, now, "signal");
    break;
  case REC_DRAINING:
    if (now < s->state_until)
      break;
    s->state = REC_DONE;
    if (s->has_hello && !s->announced && s->received > 0) {
      s->state = REC_LABELS;
      s->state_until = now + LABELS_NS;
      s->stop_signals = exiting_count;
    }
    break;
  case REC_LABELS:
    if (s->announced || now >= s->state_until ||
        exiting_count != s->stop_signals)
      s->state = REC_DONE;
    break;
  case REC_DONE:
    break;
  }
}

/* The target exited (its pidfd said so): reaps it if it is ours, and ends
 * the loop. */
static void target_gone(struct session* s) {
  s->child_exited = reap_child(s->child.pid, &s->child_status, s->ex);
  if (s->state < REC_DRAINING)
    s->end_reason = exiting ? "signal" : "target-exited";
  s->state = REC_DONE;
}

/* One turn of the loop, after a poll: reads the ring buffer, writes what
 * can be written and moves the stop state on. */
static void loop_turn(struct session* s, int target_exited) {
  uint64_t now = now_ns();
  uint64_t budget = CONSUME_NS;
  /* The drain reads until its end, not past it. */
  if (s->state == REC_DRAINING)
    budget = s->state_until > now ? s->state_until - now : 0;
  if (budget > 0)
    consume(s, budget < CONSUME_NS ? budget : CONSUME_NS);
  now = now_ns();
  if (target_exited)
    target_gone(s);
  /* A stop asked for meanwhile starts before the writing. */
  update_stop(s, now);
  if (s->state == REC_DONE)
    return;
  if (s->hello != NULL && now >= s->hello_until)
    hello_drop_start(s);
  /* Drops while stopping are counted by rec_drain(), after the last
   * reads: a flight window's reads would push an earlier notice out. */
  if (now >= s->next_drops && s->state < REC_DRAINING) {
    check_drops(s);
    s->next_drops = now + 100000000ull;
  }
  if (s->fl != NULL && s->error == 0)
    flight_step(s, now);
  else if (s->error == 0)
    s->error = export_advance(s->ex, now);
  if (s->args->tap != NULL && s->error == 0 && s->state < REC_DRAINING)
    tap_step(s, now);
  if (s->error != 0)
    s->state = REC_DONE;
  now = now_ns();
  update_stop(s, now);
  if (s->state != REC_DONE && now >= s->next_progress) {
    if (!s->args->quiet)
      show_progress(s);
    s->next_progress = now + 1000000000ull;
    /* The file on disk stays at most a second behind. */
    if (s->ex != NULL)
      export_flush(s->ex);
  }
}

/* Loop stage: records until the stop state is DONE. -d counts from
 * now, the probes in place: attaching takes from 10 ms to over a second
 * on a loaded machine, and -d 0.3 means 0.3 s of the program traced. */
static void rec_loop(struct session* s) {
  s->last_ns = now_ns();
  if (s->args->duration > 0)
    s->deadline = s->last_ns + (uint64_t) (s->args->duration * 1e9);
  s->next_progress = s->last_ns + 1000000000ull;
  s->next_drops = s->last_ns + 100000000ull;
  while (s->state != REC_DONE) {
    struct pollfd fds[2] = {{ring_buffer__epoll_fd(s->rb), POLLIN, 0},
                            {s->pidfd, POLLIN, 0}};
    if (poll(fds, 2, POLL_MS) < 0 && errno != EINTR) {
      s->error = -errno;
      break;
    }
    loop_turn(s, fds[1].revents != 0);
  }
}

/* The target ended by itself and the probes take nothing more: what it
 * handed over is all read, written as it comes (a flood's ring holds
 * millions of records, a second or two of writing), unless an error or a
 * signal stops it first; whatever is still unread then is counted as left
 * in the ring. A stop asked for (-d, a signal) reads for CONSUME_NS only,
 * to end within its bound. */
static void read_to_end(struct session* s) {
  while (consume(s, CONSUME_NS) == -ECANCELED && !exiting && s->error == 0) {
    if (s->fl != NULL)
      flight_step(s, now_ns());
    else
      s->error = export_advance(s->ex, now_ns());
  }
}

/* Drain stage: the probes stop taking records; what the ring buffer
 * holds now is ours, what it still holds after that is counted. */
static void rec_drain(struct session* s) {
  stop_probes(s);
  if (strcmp(s->end_reason, "target-exited") == 0)
    read_to_end(s);
  else
    consume(s, CONSUME_NS);
  check_drops(s);
  count_unread(s);
  if (!s->args->quiet && s->tty)
    fputs("\r\033[K", stderr); /* the progress line */
  if (!s->child_exited)
    s->child_exited = reap_child(s->child.pid, &s->child_status, s->ex);
}

/* The target speaks a trace format this looptrace does not read. */
static void print_version_error(struct session* s) {
  unsigned version;
  if (s->fl != NULL) {
    struct flight_stats fst;
    flight_stats(s->fl, &fst);
    version = fst.trace_version;
  } else {
    struct export_stats st;
    export_stats(s->ex, &st);
    version = st.trace_version;
  }
  fprintf(stderr,
          "looptrace: pid %d writes looprt trace format %u; this looptrace "
          "reads formats %d to %d: use a matching looptrace\n",
          (int) s->pid, version, LRT_TRACE_VERSION_OLDEST, LRT_TRACE_VERSION);
}

/* The last line: what was written and what was lost. */
static void print_summary(struct session* s) {
  struct export_stats st;
  uint64_t end = now_ns();
  export_stats(s->ex, &st);
  if (s->args->tap != NULL || (s->args->quiet && st.drops == 0))
    return;
  fprintf(stderr,
          "looptrace: wrote %s: %" PRIu64 " events from %" PRIu64
          " records in %.3f s (%s); %" PRIu64 " records dropped",
          s->args->output, st.events, st.records,
          (double) (end - s->start) / 1e9, s->end_reason, st.drops);
  if (st.drops > 0)
    fprintf(stderr,
            " (ring buffer full: %" PRIu64
            ", left in the ring at stop: %" PRIu64 ", runtime buffers: %" PRIu64
            ")%s",
            s->ring_drops, s->unread, st.drops - s->ring_drops - s->unread,
            s->ring_drops > 0 ? "; a larger --ring-size may help" : "");
  fputc('\n', stderr);
}

/* Report stage: finishes the file (or the flight recorder's last dump),
 * puts it in place and says what it holds. Returns 0 or s->fail. */
static int rec_report(struct session* s) {
  char text[96];
  int err;
  if (s->error == -EPROTONOSUPPORT) {
    print_version_error(s);
    return s->fail; /* not a trace: removed */
  }
  if (s->fl != NULL) {
    if (s->child_exited) {
      describe_status(s->child_status, text, sizeof(text));
      flight_target_exit(s->fl, text);
    }
    return finish_flight(s) == 0 ? 0 : s->fail;
  }
  err = export_finish(s->ex, 0, s->end_reason);
  if (s->error == 0)
    s->error = err;
  if (s->error == 0)
    s->error = output_commit(&s->out);
  output_remove_old(&s->out);
  if (s->error != 0) {
    fprintf(stderr, "looptrace: writing %s: %s\n", s->args->output,
            strerror(-s->error));
    return s->fail;
  }
  if (s->args->tap != NULL)
    s->args->tap->end(s->args->tap->arg, s->end_reason);
  print_summary(s);
  return 0;
}

/* Undoes what the stages set up, in reverse, then waits for a program
 * we started; returns the exit status, from `ret` (run()'s). */
static int rec_cleanup(struct session* s, int ret) {
  struct keeper keeper = {-1, -1};
  if (attached(s) || s->out.old_fd >= 0) {
    stop_probes(s);
    keeper_start(&keeper, s->out.old_fd, &s->hello_fds);
  }
  output_close_old(&s->out);
  if (s->hello_dropping)
    pthread_join(s->hello_dropper, NULL);
  bpf_link__destroy(s->hello);
  keeper_release_first(&keeper); /* the hello goes now (hello_attach()) */
  if (s->link != NULL) {
    bpf_link__destroy(s->link);
    s->skel->links.handle_flush = NULL;
  }
  spawn_release(&s->child, 0);
  ring_buffer__free(s->rb);
  libuv_source_free(s->uv);
  export_free(s->ex);
  flight_free(s->fl);
  record_bpf__destroy(s->skel);
  keeper_release(&keeper); /* the probes go once it has exited */
  free(s->drop_values);
  output_abort(&s->out);
  if (s->args->pid != 0 && s->pidfd >= 0)
    close(s->pidfd);
  /* A program we started is ours to wait for. */
  if (s->child.pid > 0 && !s->child_exited) {
    if (waitpid(s->child.pid, &s->child_status, WNOHANG) == 0) {
      if (!s->args->quiet && ret == 0)
        fprintf(stderr,
                "looptrace: %s (pid %d) runs on untraced; waiting for it "
                "to exit\n",
                s->args->cmd[0], (int) s->child.pid);
      if (wait_child(s->child.pid, &s->child_status) == 0)
        s->child_exited = 1;
    } else {
      s->child_exited = 1;
    }
  }
  if (ret == 0 && s->args->cmd != NULL && s->child_exited)
    ret = report_child(s->args, s->child_status);
  spawn_close(&s->child);
  return ret;
}

/* record: target → output → BPF → spawn → attach → loop → drain →
 * report, each stage a function of the session; a stage that fails has
 * said why and returns the exit status. */
static int run(struct record_args* args) {
  struct session s;
  int ret;
  memset(&s, 0, sizeof(s));
  s.args = args;
  s.fail = args->cmd != NULL ? EXIT_CMD_FAILED : 1;
  s.out.fd = -1;
  s.out.old_fd = -1;
  s.child = (struct spawn){-1, -1, -1};
  s.pidfd = -1;
  s.tty = isatty(STDERR_FILENO);
  s.end_reason = "signal";
  ret = rec_target(&s);
  if (ret == 0)
    ret = rec_output(&s);
  if (ret != 0) {
    libuv_source_free(s.uv);
    return ret;
  }
  ret = rec_bpf(&s);
  ret = ret ?: rec_spawn(&s);
  ret = ret ?: rec_attach(&s);
  if (ret == 0) {
    rec_loop(&s);
    rec_drain(&s);
    ret = rec_report(&s);
  }
  return rec_cleanup(&s, ret);
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
