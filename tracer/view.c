/* view.c — `looptrace view FILE`: serve the viewer and one trace on
 * 127.0.0.1, and open a browser on it.
 *
 * The server (http_server.c, on looprt) knows a fixed table: the trace at
 * /trace.json, which the viewer loads when served, and the viewer's
 * files, found next to the executable, at their paths under /. Each is
 * opened once at start and served from that descriptor (http_static.c).
 * Nothing else is served.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "containers.h"
#include "http_static.h"

#define TRACE_URL "/trace.json"
/* The viewer's own policy (the <meta> in viewer/static/index.html), and
 * no framing, which only a header can forbid. */
#define VIEWER_CSP                                                \
  "default-src 'self'; script-src 'self'; img-src 'self' data:; " \
  "connect-src 'self'; object-src 'none'; base-uri 'none'; "      \
  "form-action 'none'; frame-ancestors 'none'"

struct view_args {
  const char* file;
  int port;
  int no_open;
};

static const char doc[] =
    "Serve the viewer and one trace on 127.0.0.1, and open a browser on "
    "it.\n"
    "\n"
    "The viewer is a static page that draws the trace in the browser; "
    "nothing leaves this machine. The server answers only for the "
    "viewer's files and the trace, and only to requests addressed to "
    "127.0.0.1 or localhost. Each file is opened once, when it starts. "
    "A FILE ending .gz (gzip) is sent as it is, and the browser inflates "
    "it. Stop it with Ctrl-C.\n"
    "\v"
    "Examples:\n"
    "  looptrace view t.json                 serve on port 7878, open a "
    "browser\n"
    "  looptrace view t.json --port 0 --no-open\n"
    "                                        any free port; print the URL "
    "only\n"
    "\n"
    "The viewer's files are looked for in $LOOPTRACE_VIEWER_DIR, then "
    "next to the looptrace executable (viewer/, as in the build tree), "
    "then in ../share/looptrace/viewer from it (as installed). The page "
    "also opens any trace file on its own: open its index.html and pick "
    "or drop a file.";

static const char args_doc[] = "FILE";

enum { OPT_PORT = 0x100, OPT_NO_OPEN };

static const struct argp_option options[] = {
    {"port", OPT_PORT, "N", 0, "Port to listen on (default 7878; 0: any)", 0},
    {"no-open", OPT_NO_OPEN, NULL, 0, "Print the URL, open no browser", 0},
    {0},
};

static error_t parse_opt(int key, char* arg, struct argp_state* state) {
  struct view_args* args = state->input;
  char* end;
  long port;
  switch (key) {
  case OPT_PORT:
    errno = 0;
    port = strtol(arg, &end, 10);
    if (errno != 0 || *arg == '\0' || *end != '\0' || port < 0 || port > 65535)
      argp_error(state, "--port wants a port number, not '%s'", arg);
    args->port = (int) port;
    break;
  case OPT_NO_OPEN:
    args->no_open = 1;
    break;
  case ARGP_KEY_ARG:
    if (args->file != NULL)
      argp_error(state, "one trace file at a time");
    args->file = arg;
    break;
  case ARGP_KEY_END:
    if (args->file == NULL)
      argp_error(state, "which trace file?");
    break;
  default:
    return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

/* ------------------------------------------------------------------------
 * The table of files: each opened once, at start (http_static.h).
 */

static struct {
  struct http_file* files;
  struct http_route* routes; /* one per file, made once all are open */
  size_t n;
  size_t cap;
  size_t root_len; /* length of the viewer directory's path */
} table;

/* Opens `path` to serve at `url`. Returns 0 or a negative errno. */
static int table_add(const char* url, const char* path) {
  int err;
  if (array_reserve(&table.files, &table.cap, table.n + 1,
                    sizeof(*table.files)) != 0)
    return -ENOMEM;
  err = http_file_open(&table.files[table.n], url, path);
  if (err == 0)
    table.n++;
  return err;
}

static int add_viewer_file(const char* path, const struct stat* st, int type,
                           struct FTW* ftw) {
  if (type != FTW_F)
    return 0;
  /* Its URL is its path under the viewer directory. */
  return table_add(path + table.root_len, path);
}

static int table_routes(void) {
  size_t i;
  table.routes = calloc(table.n, sizeof(*table.routes));
  if (table.routes == NULL)
    return -ENOMEM;
  for (i = 0; i < table.n; i++) {
    table.routes[i].path = table.files[i].url;
    table.routes[i].handler = http_file_send;
    table.routes[i].data = &table.files[i];
  }
  return 0;
}

static void table_free(void) {
  size_t i;
  for (i = 0; i < table.n; i++)
    http_file_close(&table.files[i]);
  free(table.files);
  free(table.routes);
  memset(&table, 0, sizeof(table));
}

/* Whether `name` ends with `suffix`. */
static int ends_with(const char* name, const char* suffix) {
  size_t n = strlen(name), k = strlen(suffix);
  return n >= k && strcmp(name + n - k, suffix) == 0;
}

/* Opens the trace, the first entry of the table. A gzip trace
 * (FILE.json.gz) is sent as it is, with Content-Encoding: gzip, and the
 * browser inflates it. Prints what is wrong and returns -1, or 0. */
static int add_trace(const char* file) {
  unsigned char magic[2];
  struct http_file* f;
  int err = table_add(TRACE_URL, file);
  if (err != 0) {
    fprintf(stderr, "looptrace: %s: %s\n", file,
            err == -EINVAL ? "not a regular file" : strerror(-err));
    return -1;
  }
  f = &table.files[0];
  f->type = http_content_type(TRACE_URL);
  if (!ends_with(file, ".gz"))
    return 0;
  if (pread(f->fd, magic, 2, 0) != 2 || magic[0] != 0x1f || magic[1] != 0x8b) {
    fprintf(stderr, "looptrace: %s: named .gz but not gzip-compressed\n", file);
    return -1;
  }
  f->headers = "Content-Encoding: gzip\r\n";
  return 0;
}

/* Finds the viewer's directory (see doc above) into `dir`. */
static int find_viewer(char* dir, size_t size) {
  char exe[PATH_MAX];
  char index[PATH_MAX + 16];
  char* slash;
  ssize_t n;
  const char* env = getenv("LOOPTRACE_VIEWER_DIR");
  const char* candidates[] = {"viewer", "../share/looptrace/viewer"};
  size_t i;

  if (env != NULL && *env != '\0') {
    snprintf(dir, size, "%s", env);
    snprintf(index, sizeof(index), "%s/index.html", dir);
    return access(index, R_OK) == 0 ? 0 : -ENOENT;
  }
  n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n < 0)
    return -errno;
  exe[n] = '\0';
  slash = strrchr(exe, '/');
  if (slash != NULL)
    *slash = '\0';
  for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", exe, candidates[i]);
    snprintf(index, sizeof(index), "%s/index.html", path);
    if (access(index, R_OK) == 0 && realpath(path, dir) != NULL)
      return 0;
  }
  return -ENOENT;
}

/* ------------------------------------------------------------------------
 * Serving.
 */

static lrt_loop_t loop;
static struct http_server server;
static lrt_signal_t sigint;
static lrt_signal_t sigterm;

static void on_signal(lrt_signal_t* sig, int signum) {
  http_server_stop(&server);
  lrt_stop(&loop);
}

/* Opens `url` in the user's browser ($BROWSER, else xdg-open), if there is
 * a display to show it on. Returns whether one was started. */
static int open_browser(const char* url) {
  const char* browser = getenv("BROWSER");
  pid_t pid;
  if (getenv("DISPLAY") == NULL && getenv("WAYLAND_DISPLAY") == NULL)
    return 0;
  if (browser == NULL || *browser == '\0')
    browser = "xdg-open";
  pid = fork();
  if (pid < 0)
    return 0;
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, STDIN_FILENO);
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
    }
    setsid();
    execlp(browser, browser, url, (char*) NULL);
    _exit(127);
  }
  return 1;
}

/* Reaps the browser launcher whenever it exits. */
static void ignore_children(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = SIG_DFL;
  sa.sa_flags = SA_NOCLDWAIT;
  sigaction(SIGCHLD, &sa, NULL);
}

int cmd_view(int argc, char** argv) {
  struct view_args args = {NULL, 7878, 0};
  struct argp argp = {options, parse_opt, args_doc, doc, NULL, NULL, NULL};
  char viewer[PATH_MAX];
  char index[PATH_MAX + 16];
  char url[64];
  int r;
  int ret = 1;

  /* argp names the program after argv[0]: "looptrace view: ...". */
  argv[0] = "looptrace view";
  argp_err_exit_status = 2;
  argp_parse(&argp, argc, argv, 0, NULL, &args);

  /* The trace is opened now and served from this descriptor: what was
   * checked is what is served. */
  if (add_trace(args.file) != 0)
    goto cleanup;
  if (find_viewer(viewer, sizeof(viewer)) != 0) {
    fprintf(stderr,
            "looptrace: cannot find the viewer's files (index.html); set "
            "LOOPTRACE_VIEWER_DIR\n");
    goto cleanup;
  }

  /* The viewer's files at their paths, its index page also at "/". */
  snprintf(index, sizeof(index), "%s/index.html", viewer);
  table.root_len = strlen(viewer);
  if (nftw(viewer, add_viewer_file, 16, FTW_PHYS) != 0 ||
      table_add("/", index) != 0 || table_routes() != 0) {
    fprintf(stderr, "looptrace: %s: cannot open the viewer's files\n", viewer);
    goto cleanup;
  }

  r = lrt_loop_init(&loop);
  if (r != 0) {
    fprintf(stderr, "looptrace: %s\n", uv_strerror(r));
    goto cleanup;
  }
  server.csp = VIEWER_CSP;
  r = http_server_start(&server, &loop, "127.0.0.1", args.port, table.routes,
                        table.n);
  if (r != 0) {
    fprintf(stderr, "looptrace: cannot listen on 127.0.0.1:%d: %s\n", args.port,
            uv_strerror(r));
    lrt_loop_close(&loop);
    goto cleanup;
  }
  lrt_signal_start(&loop, &sigint, SIGINT, on_signal, "SIGINT");
  lrt_signal_start(&loop, &sigterm, SIGTERM, on_signal, "SIGTERM");

  snprintf(url, sizeof(url), "http://127.0.0.1:%d/", http_server_port(&server));
  printf("looptrace: serving %s at %s (Ctrl-C to stop)\n", args.file, url);
  fflush(stdout);
  if (!args.no_open) {
    ignore_children();
    if (!open_browser(url))
      printf(
          "looptrace: no display to open a browser on; open the URL "
          "yourself\n");
    fflush(stdout);
  }

  lrt_run(&loop);
  lrt_loop_close(&loop);
  ret = 0;

cleanup:
  table_free();
  return ret;
}
