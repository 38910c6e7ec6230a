/* top.c — `looptrace top`: what an event loop is doing now.
 *
 * top traces exactly as `record` does (record.h: the same target lookup,
 * BPF, sources and exporter) but writes no file: the exporter's model
 * hands each trace event (stat_event.h) to a live summary cut into
 * windows of time (live.h), each one the summary `looptrace stat`
 * computes (stat_summary.h), with no JSON between: the figures are
 * stat's figures over that window, printed by stat's own printer
 * (stat_report.h). What stat has no figure for is read here from the
 * events: the threadpool's counters as last emitted.
 *
 * --once (or stdout not a terminal): one window, then one plain-text
 * snapshot on stdout. Otherwise a curses screen refreshed every window.
 */
#include <argp.h>
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>

#include "cli.h"
#include "commands.h"
#include "live.h"
#include "metrics.h"
#include "record.h"
#include "stat_report.h"
#include "stat_event.h"
#include "stat_summary.h"

#define TOP_MAX_LABELS 16 /* labels shown; more are "other labels" */
#define TOP_HISTORY 60    /* intervals in the sparkline */
#define TOP_MAX_INTERVAL 3600.0

struct top_args {
  pid_t pid;
  char** cmd;      /* NULL-terminated, or NULL */
  double interval; /* seconds */
  int once;
  int verbose;
  const char* metrics_ip; /* --metrics, or NULL */
  int metrics_port;
};

struct top {
  const struct top_args* args;
  struct live* live; /* the windows of time */
  int has_pool;      /* the threadpool counters, as last written */
  int64_t running;
  int64_t queued;
  int64_t pid;
  int has_offset;
  int64_t offset_ns;           /* CLOCK_MONOTONIC of trace time 0 */
  int started;                 /* the first window started */
  uint64_t interval_ns;        /* of the windows to come */
  enum stat_sort sort;         /* of the windows to come */
  double history[TOP_HISTORY]; /* utilization, oldest first; <0 unknown */
  size_t nhistory;
  int paused;
  int curses; /* the screen is ours */
  int redraw;
  char* text; /* the snapshot shown, or NULL */
  size_t text_len;
  int error;
  struct metrics* metrics; /* --metrics, or NULL */
  char comm[64];           /* the process_name metadata */
};

static const char doc[] =
    "Show what a looprt or libuv event loop is doing now.\n"
    "\n"
    "Attaches like `looptrace record` (-p PID, or starts CMD) and shows, "
    "every -i SECONDS, the figures of `looptrace stat` over the last "
    "interval: loop utilization, ticks/s and tick durations, time per "
    "phase, the threadpool (running and queued now, tasks/s by label, "
    "queue wait and run time, busy share per worker), the slowest "
    "callbacks, the longest ticks and the records dropped.\n"
    "\n"
    "An interval is a window of the program's time that ended 0.25 s "
    "before it is shown (the trace's records need that long to arrive). "
    "A span's time (utilization, phase shares, worker busy share) is "
    "shared by overlap: each interval takes the part of it inside it. A "
    "span is counted (ticks/s, tasks/s, callbacks, percentiles, the "
    "longest ticks, the --metrics histograms) once, in the interval it "
    "ends in; spans inside a tick are counted with their tick. A tick "
    "longer than 0.25 s arrives after the intervals it began in were "
    "shown: it is counted in the next one, and its time in those is not "
    "shown.\n"
    "\v"
    "Examples:\n"
    "  looptrace top -p 4242                  live view, refreshed every "
    "second\n"
    "  looptrace top -p 4242 --once -i 5      one snapshot of 5 s, as text\n"
    "  looptrace top -- build/examples/threads --rounds 0\n"
    "\n"
    "Keys: q quits; p pauses (tracing goes on, the screen stays); s "
    "ranks the callbacks by total time, self time or calls, and the "
    "longest ticks by busy or wall time (in turn); + and - lengthen and "
    "shorten the interval (0.1 to 60 s). Sort and interval apply from "
    "the next interval. The screen is restored on q, Ctrl-C, SIGTERM, "
    "when the program exits, and redrawn to the new size when the window "
    "is resized.\n"
    "With --once, or when stdout is not a terminal, top prints one "
    "snapshot after one interval and exits. A started program runs on "
    "untraced when top ends; top waits for it as record does.\n"
    "\n"
    "Exit status: as `looptrace record`'s.";

static const char args_doc[] = "-p PID\n-- CMD [ARGS...]";

enum { OPT_ONCE = 0x100, OPT_METRICS };

static const struct argp_option options[] = {
    {"pid", 'p', "PID", 0, "Trace the running process PID", 0},
    {"interval", 'i', "SECONDS", 0,
     "Refresh every SECONDS (fractions allowed; default 1)", 0},
    {"once", OPT_ONCE, NULL, 0,
     "Print one snapshot of one interval as text and exit", 0},
    {"metrics", OPT_METRICS, "[IP:]PORT", 0,
     "Also serve the figures on http://IP:PORT/metrics in Prometheus' text "
     "format (IP default 127.0.0.1); with stdout not a terminal and no "
     "--once, top then runs until stopped, showing nothing",
     0},
    {"verbose", 'v', NULL, 0, "Show libbpf's messages", 0},
    {0},
};

/* --metrics [IP:]PORT; the IP is kept as written (http_server checks it). */
static int parse_listen(char* arg, struct top_args* args) {
  char* colon = strrchr(arg, ':');
  char* port = colon != NULL ? colon + 1 : arg;
  char* end;
  long v;
  errno = 0;
  v = strtol(port, &end, 10);
  if (errno != 0 || end == port || *end != '\0' || v < 0 || v > 65535)
    return -1;
  args->metrics_port = (int) v;
  args->metrics_ip = "127.0.0.1";
  if (colon != NULL) {
    *colon = '\0';
    if (arg[0] == '\0')
      return -1;
    args->metrics_ip = arg;
  }
  return 0;
}

static error_t parse_opt(int key, char* arg, struct argp_state* state) {
  struct top_args* args = state->input;
  char* end;
  switch (key) {
  case 'p':
    if (cli_parse_pid(arg, &args->pid) != 0)
      argp_error(state, "-p wants a process id, not '%s'", arg);
    break;
  case 'i':
    errno = 0;
    args->interval = strtod(arg, &end);
    if (errno != 0 || *end != '\0' || end == arg || !(args->interval >= 0.1) ||
        args->interval > TOP_MAX_INTERVAL)
      argp_error(state, "-i wants seconds from 0.1 to 3600, not '%s'", arg);
    break;
  case OPT_ONCE:
    args->once = 1;
    break;
  case 'v':
    args->verbose = 1;
    break;
  case OPT_METRICS:
    if (parse_listen(arg, args) != 0)
      argp_error(state, "--metrics wants [IP:]PORT, not '%s'", arg);
    break;
  case ARGP_KEY_ARG:
    args->cmd = &state->argv[state->next - 1];
    state->next = state->argc;
    break;
  case ARGP_KEY_END:
    if (args->pid == 0 && args->cmd == NULL)
      argp_error(state, "say what to watch: -p PID or -- CMD [ARGS...]");
    else if (args->pid != 0 && args->cmd != NULL)
      argp_error(state, "-p PID and CMD are exclusive");
    break;
  default:
    return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

/* ------------------------------------------------------------------------
 * Reading the trace back
 */

/* The exporter's tap (record_tap.event): notes what top shows besides
 * stat's figures and gives the event to the windows. An error is kept
 * for the next step to end the recording with. */
static void on_event(const struct stat_event* ev, void* arg) {
  struct top* t = arg;
  int err;
  if (t->error != 0)
    return;
  if (t->pid == 0)
    t->pid = ev->pid;
  if (ev->type == STAT_EV_PROCESS_NAME) {
    snprintf(t->comm, sizeof(t->comm), "%s", ev->name);
  } else if (ev->type == STAT_EV_FACTS && ev->facts.has_clock_offset &&
             !t->has_offset) {
    t->offset_ns = (int64_t) ev->facts.clock_offset_ns;
    t->has_offset = 1;
  } else if (ev->type == STAT_EV_COUNTER) {
    t->running = (int64_t) ev->counter.running;
    t->queued = (int64_t) ev->counter.queued;
    t->has_pool = 1;
  }
  err = live_add(t->live, ev);
  if (err != 0)
    t->error = err;
}

/* ------------------------------------------------------------------------
 * The snapshot
 */

/* A label as it may be printed: no control characters. */
static void safe_name(char* dst, size_t size, const char* src) {
  size_t i;
  for (i = 0; src[i] != '\0' && i + 1 < size; i++) {
    unsigned char c = (unsigned char) src[i];
    dst[i] = c < 0x20 || c == 0x7f ? '?' : (char) c;
  }
  dst[i] = '\0';
}

/* Writes the tasks of each label of figures `f`, over `secs`. */
static void print_labels(const struct stat_figures* f, double secs, FILE* out) {
  uint64_t other = 0;
  char name[64];
  size_t i;
  fprintf(out, "tasks/s by label:");
  if (f->nkinds == 0)
    fprintf(out, " none");
  for (i = 0; i < f->nkinds; i++) {
    const struct stat_task_kind* k = &f->kinds[i];
    if (k->name == NULL || i >= TOP_MAX_LABELS) {
      other += k->tasks;
      continue;
    }
    safe_name(name, sizeof(name), k->name);
    fprintf(out, "%s %s %.1f/s (%" PRIu64 ")", i > 0 ? "," : "", name,
            secs > 0 ? (double) k->tasks / secs : 0.0, k->tasks);
  }
  if (other > 0)
    fprintf(out, ", other labels %" PRIu64, other);
  fputc('\n', out);
}

/* Writes the snapshot of figures `f`: top's own lines, then stat's
 * text. Returns 0 or -EIO. */
static int print_snapshot(const struct top* t, const struct stat_figures* f,
                          FILE* out) {
  char title[160];
  char name[64];
  double secs = f->has_recording ? (double) f->recording_ns / 1e9 : 0;
  safe_name(name, sizeof(name), f->process_name ? f->process_name : "?");
  snprintf(title, sizeof(title), "pid %" PRId64 " (%s), last %.2f s", t->pid,
           name, secs);
  if (t->has_pool)
    fprintf(out, "threadpool now: running %" PRId64 ", queued %" PRId64 "\n",
            t->running, t->queued);
  else
    fprintf(out, "threadpool now: ? (no threadpool counter seen)\n");
  print_labels(f, secs, out);
  if (stat_report_text(f, title, out) != 0 || ferror(out))
    return -EIO;
  return 0;
}

/* Ends the window: its figures to the metrics, the history and (unless
 * paused) t->text; then the next window. */
static int close_interval(struct top* t) {
  const struct stat_figures* f;
  FILE* mem;
  int err = live_close(t->live, INT64_MAX, t->sort, &f);
  if (err != 0)
    return err;
  if (t->metrics != NULL) {
    metrics_add(t->metrics, f);
    err = metrics_publish(t->metrics, t->pid, t->comm,
                          t->has_pool ? t->running : -1,
                          t->has_pool ? t->queued : -1);
    if (err != 0)
      return err;
  }
  if (t->nhistory == TOP_HISTORY) {
    memmove(t->history, t->history + 1,
            (TOP_HISTORY - 1) * sizeof(t->history[0]));
    t->nhistory--;
  }
  t->history[t->nhistory++] = f->has_utilization ? f->utilization : -1;
  if (!t->paused) {
    free(t->text);
    t->text = NULL;
    mem = open_memstream(&t->text, &t->text_len);
    if (mem == NULL)
      return -ENOMEM;
    err = print_snapshot(t, f, mem);
    if (fclose(mem) != 0 && err == 0)
      err = -ENOMEM;
    t->redraw = 1;
  }
  live_set_interval(t->live, t->interval_ns);
  return err != 0 ? err : live_next(t->live);
}

/* ------------------------------------------------------------------------
 * The screen
 */

static void screen_start(struct top* t) {
  setlocale(LC_ALL, "");
  initscr();
  cbreak();
  noecho();
  nodelay(stdscr, TRUE);
  keypad(stdscr, TRUE);
  curs_set(0);
  t->curses = 1;
  t->redraw = 1;
}

static void screen_end(struct top* t) {
  if (!t->curses)
    return;
  endwin();
  t->curses = 0;
}

/* Utilization of the recent intervals, one character each, oldest first. */
static void sparkline(const struct top* t, char* buf, size_t size) {
  static const char levels[] = "_.-=+*#";
  size_t i;
  for (i = 0; i < t->nhistory && i + 1 < size; i++) {
    double u = t->history[i];
    buf[i] = u < 0 ? '?' : levels[(int) (u * 6.0 + 0.5)];
  }
  buf[i] = '\0';
}

static const char* sort_name(enum stat_sort sort) {
  switch (sort) {
  case STAT_SORT_SELF:
    return "self";
  case STAT_SORT_COUNT:
    return "calls";
  case STAT_SORT_WALL:
    return "wall";
  default:
    return "total";
  }
}

/* One line of text at row y, cut at the screen's width (never wrapped). */
static void put_line(int y, const char* p, int len) {
  if (len > COLS)
    len = COLS;
  mvaddnstr(y, 0, p, len);
}

static void screen_draw(struct top* t) {
  char spark[TOP_HISTORY + 1];
  char line[256];
  const char* p;
  int y = 3;
  erase();
  snprintf(line, sizeof(line),
           " looptrace top  q quit  p %s  s sort: %s  +/- interval: %.2f s ",
           t->paused ? "resume" : "pause", sort_name(t->sort),
           (double) t->interval_ns / 1e9);
  attron(A_REVERSE);
  put_line(0, line, (int) strlen(line));
  attroff(A_REVERSE);
  if (t->paused && COLS > 10)
    mvaddstr(1, COLS - 7, "PAUSED");
  sparkline(t, spark, sizeof(spark));
  snprintf(line, sizeof(line),
           "utilization, last %zu intervals (_ idle .. # busy): %s",
           t->nhistory, spark);
  put_line(1, line, (int) strlen(line));
  if (t->text == NULL)
    put_line(y, "waiting for the first interval...", 33);
  for (p = t->text; p != NULL && *p != '\0' && y < LINES; y++) {
    const char* nl = strchr(p, '\n');
    int len = nl != NULL ? (int) (nl - p) : (int) strlen(p);
    put_line(y, p, len);
    p = nl != NULL ? nl + 1 : p + len;
  }
  refresh();
  t->redraw = 0;
}

/* The interval after (dir > 0) or before `ns` among the steps offered. */
static uint64_t step_interval(uint64_t ns, int dir) {
  static const uint64_t ms[] = {100,  200,   500,   1000, 2000,
                                5000, 10000, 30000, 60000};
  size_t n = sizeof(ms) / sizeof(ms[0]);
  size_t i;
  if (dir > 0) {
    for (i = 0; i < n; i++)
      if (ms[i] * 1000000 > ns)
        return ms[i] * 1000000;
    return ns;
  }
  for (i = n; i-- > 0;)
    if (ms[i] * 1000000 < ns)
      return ms[i] * 1000000;
  return ns;
}

/* Reads the keys pressed. Returns 1 when asked to quit. */
static int screen_keys(struct top* t) {
  int c;
  while ((c = getch()) != ERR) {
    switch (c) {
    case 'q':
    case 'Q':
      return 1;
    case 'p':
    case 'P':
      t->paused = !t->paused;
      break;
    case 's':
    case 'S':
      t->sort = t->sort == STAT_SORT_WALL ? STAT_SORT_TOTAL : t->sort + 1;
      break;
    case '+':
    case '=':
      t->interval_ns = step_interval(t->interval_ns, 1);
      break;
    case '-':
    case '_':
      t->interval_ns = step_interval(t->interval_ns, -1);
      break;
    case KEY_RESIZE:
      /* ncurses has the new size (LINES, COLS): start from a clean
       * screen, so nothing of the old layout is left. */
      clearok(curscr, TRUE);
      break;
    }
    t->redraw = 1;
  }
  return 0;
}

/* ------------------------------------------------------------------------
 * The tap
 */

/* The first window starts at the first step (the probes are attached);
 * the screen is taken then. */
static int start(struct top* t, uint64_t now) {
  int err = 0;
  live_start(t->live, (int64_t) now - t->offset_ns);
  t->started = 1;
  if (!t->args->once && isatty(STDOUT_FILENO))
    screen_start(t);
  if (t->metrics != NULL) /* served empty until the first window */
    err = metrics_publish(t->metrics, t->pid, t->comm, -1, -1);
  return err;
}

static int on_step(void* arg, uint64_t now) {
  struct top* t = arg;
  int err = t->error;
  int64_t ts;
  int due;
  if (err != 0)
    return err;
  if (!t->has_offset)
    return 0; /* the head of the trace is not read yet */
  if (!t->started && (err = start(t, now)) != 0)
    return err;
  ts = (int64_t) now - t->offset_ns;
  due = ts >= live_window_end(t->live) + LIVE_LAG_NS;
  if (t->args->once)
    return due ? 1 : 0;
  if (t->curses && screen_keys(t))
    return 1;
  if (due && (err = close_interval(t)) != 0)
    return err;
  if (t->curses && t->redraw)
    screen_draw(t);
  return 0;
}

static void on_end(void* arg, const char* end_reason) {
  struct top* t = arg;
  const struct stat_figures* f;
  (void) end_reason;
  screen_end(t);
  if (!t->args->once)
    return;
  /* The window ends where the trace does when the program ended first. */
  if (t->error == 0)
    t->error = live_close(t->live, live_seen(t->live), t->sort, &f);
  if (t->error == 0)
    t->error = print_snapshot(t, f, stdout);
  if (t->error == 0 && fflush(stdout) != 0)
    t->error = -EIO;
}

int cmd_top(int argc, char** argv) {
  struct top_args args;
  struct argp argp = {options, parse_opt, args_doc, doc, NULL, NULL, NULL};
  struct record_tap tap;
  struct top t;
  int ret;
  memset(&args, 0, sizeof(args));
  args.interval = 1.0;
  argv[0] = "looptrace top";
  argp_err_exit_status = 2;
  argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, &args);
  if (!isatty(STDOUT_FILENO) && args.metrics_ip == NULL)
    args.once = 1;

  memset(&t, 0, sizeof(t));
  t.args = &args;
  t.interval_ns = (uint64_t) (args.interval * 1e9);
  if (live_new(&t.live, t.interval_ns) != 0) {
    fprintf(stderr, "looptrace: out of memory\n");
    return 1;
  }
  if (args.metrics_ip != NULL) {
    int err = metrics_start(&t.metrics, args.metrics_ip, args.metrics_port);
    if (err != 0) {
      fprintf(stderr, "looptrace: cannot serve metrics on %s:%d: %s\n",
              args.metrics_ip, args.metrics_port, strerror(-err));
      live_free(t.live);
      return 1;
    }
    fprintf(stderr, "looptrace: metrics on http://%s:%d/metrics\n",
            args.metrics_ip, metrics_port(t.metrics));
  }
  tap.fd = -1;
  tap.event = on_event;
  tap.step = on_step;
  tap.end = on_end;
  tap.arg = &t;
  ret = record_tap_run(args.pid, args.cmd, args.verbose, &tap);
  screen_end(&t);
  if (ret == 0 && t.error != 0) {
    fprintf(stderr, "looptrace: top: %s\n", strerror(-t.error));
    ret = 1;
  }
  metrics_stop(t.metrics);
  live_free(t.live);
  free(t.text);
  return ret;
}
