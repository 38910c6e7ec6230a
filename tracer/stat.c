/* stat.c — `looptrace stat FILE [--json]`: the summary a user reads first.
 *
 * Reads the trace as a stream through a fixed-size buffer (trace_reader.h),
 * computes the figures on the way (stat_summary.h) and prints them as text
 * or JSON (stat_report.h). A file cut short is summarized as far as it
 * goes, with a warning; a file with no usable trace in it is one line on
 * stderr and exit status 1.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "stat_report.h"
#include "stat_summary.h"
#include "trace_reader.h"

/* The read buffer: large enough that syscalls cost nothing, small enough
 * to stay in cache. */
#define READ_SIZE (1 << 20)

struct stat_args {
  const char* path;
  int json;
};

static const char doc[] =
    "Summarize a trace: is the loop busy, which phase takes the time, what "
    "blocked it, is the threadpool the bottleneck.\n"
    "\n"
    "FILE is a Chrome Trace Event JSON file, plain or gzip (from `looptrace "
    "record`, or any producer: figures whose spans are absent are reported as "
    "missing); - reads stdin.\n"
    "\n"
    "Examples:\n"
    "  looptrace stat trace.json\n"
    "  looptrace stat --json trace.json | jq .threadpool";

static const struct argp_option options[] = {
    {"json", 'j', NULL, 0,
     "Print the summary as one JSON object (tracer/TRACE-FORMAT.md)", 0},
    {0},
};

static error_t parse_opt(int key, char* arg, struct argp_state* state) {
  struct stat_args* a = state->input;
  switch (key) {
  case 'j':
    a->json = 1;
    break;
  case ARGP_KEY_ARG:
    if (a->path != NULL)
      argp_error(state, "one FILE only");
    a->path = arg;
    break;
  case ARGP_KEY_END:
    if (a->path == NULL)
      argp_error(state, "which trace? (looptrace stat FILE)");
    break;
  default:
    return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

/* Streams the file at `path` through the reader. Returns 0, or a negative
 * errno with `why` describing it (a system error, or the reader's). */
static int read_trace(const char* path, struct trace_reader* r, char* why,
                      size_t size) {
  struct stat st;
  char* buf = NULL;
  int fd;
  int rc = 0;

  fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    rc = -errno;
    snprintf(why, size, "%s", strerror(-rc));
    return rc;
  }
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    snprintf(why, size, "is a directory, not a trace file");
    rc = -EISDIR;
    goto out;
  }
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  buf = malloc(READ_SIZE);
  if (buf == NULL) {
    rc = -ENOMEM;
    snprintf(why, size, "%s", strerror(ENOMEM));
    goto out;
  }
  for (;;) {
    ssize_t n = read(fd, buf, READ_SIZE);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      rc = -errno;
      snprintf(why, size, "read: %s", strerror(-rc));
      goto out;
    }
    if (n == 0)
      break;
    if ((rc = trace_reader_feed(r, buf, (size_t) n)) != 0)
      break;
  }
  if (rc == 0)
    rc = trace_reader_end(r);
  if (rc == -EINVAL)
    snprintf(why, size, "%s", r->error);
  else if (rc < 0)
    snprintf(why, size, "%s", strerror(-rc));

out:
  free(buf);
  if (fd != STDIN_FILENO)
    close(fd);
  return rc;
}

/* Why a file that parsed gave no events, in one line. */
static void no_events_reason(const struct trace_reader* r, char* why,
                             size_t size) {
  const char* tail = "";
  char detail[96] = "";
  if (r->form == TRACE_FORM_OBJECT && !r->has_events_array) {
    snprintf(why, size, "no \"traceEvents\" array in the top-level object");
    return;
  }
  if (r->truncated)
    tail = r->form == TRACE_FORM_ARRAY ? " (file ends without ']')"
                                       : " (file ends inside the trace)";
  if (r->bad_json + r->bad_fields + r->not_objects + r->oversized > 0)
    snprintf(detail, sizeof(detail), "; skipped %" PRIu64 " malformed",
             r->bad_json + r->bad_fields + r->not_objects + r->oversized);
  snprintf(why, size, "no trace events%s%s", detail, tail);
}

int cmd_stat(int argc, char** argv) {
  static const struct argp argp = {options, parse_opt, "FILE", doc,
                                   NULL,    NULL,      NULL};
  /* argp names the program after argv[0]: make it the whole command. */
  static char name[] = "looptrace stat";
  struct stat_args args = {NULL, 0};
  struct trace_reader r;
  struct stat_summary* s = NULL;
  const struct stat_figures* f;
  cJSON* json = NULL;
  char* text = NULL;
  char why[256];
  int status = 1;
  int rc;

  argv[0] = name;
  /* commands.h: 2 is a usage error. */
  argp_err_exit_status = 2;
  if (argp_parse(&argp, argc, argv, 0, NULL, &args) != 0)
    return 2;

  if (stat_summary_new(&s) != 0) {
    fprintf(stderr, "looptrace: %s\n", strerror(ENOMEM));
    return 1;
  }
  trace_reader_init(&r, stat_summary_event, s);
  rc = read_trace(args.path, &r, why, sizeof(why));
  /* A broken structure after some events is a warning (the summary says
   * where reading stopped); anything else is fatal. */
  if (rc < 0 && !(rc == -EINVAL && r.events > 0)) {
    fprintf(stderr, "looptrace: %s: %s\n", args.path, why);
    goto out;
  }
  if (r.events == 0) {
    no_events_reason(&r, why, sizeof(why));
    fprintf(stderr, "looptrace: %s: %s\n", args.path, why);
    goto out;
  }
  if (stat_summary_finish(s, &r, &f) != 0) {
    fprintf(stderr, "looptrace: %s: %s\n", args.path, strerror(ENOMEM));
    goto out;
  }

  if (args.json) {
    json = stat_report_json(f);
    text = json != NULL ? cJSON_Print(json) : NULL;
    if (text == NULL) {
      fprintf(stderr, "looptrace: %s: %s\n", args.path, strerror(ENOMEM));
      goto out;
    }
    if (puts(text) == EOF || fflush(stdout) != 0) {
      fprintf(stderr, "looptrace: writing the summary: %s\n", strerror(errno));
      goto out;
    }
  } else {
    if (stat_report_text(f, args.path, stdout) != 0) {
      fprintf(stderr, "looptrace: writing the summary: %s\n", strerror(errno));
      goto out;
    }
  }
  status = 0;

out:
  free(text);
  cJSON_Delete(json);
  trace_reader_close(&r);
  stat_summary_free(s);
  return status;
}
