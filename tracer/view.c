/* view.c — `looptrace view FILE`: serve the viewer and one trace on
 * 127.0.0.1, and open a browser on it.
 *
 * The server (http_static.c, on looprt) knows a fixed table: the viewer's
 * files, found next to the executable, at their paths under /, and the
 * trace at /trace.json, which the viewer loads when served. Nothing else
 * is served.
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
#include "http_static.h"

#define TRACE_URL "/trace.json"

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
    "127.0.0.1 or localhost. Stop it with Ctrl-C.\n"
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
    if (errno != 0 || *arg == '\0' || *end != '\0' || port < 0 ||
        port > 65535)
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
 * The table of files.
 */

static struct {
  struct http_file* files;
  size_t n;
  size_t cap;
  size_t root_len; /* length of the viewer directory's path */
} table;

static int table_add(const char* url, const char* path) {
  struct http_file* f;
  if (table.n == table.cap) {
    size_t cap = table.cap ? table.cap * 2 : 32;
    struct http_file* files = realloc(table.files, cap * sizeof(*files));
    if (files == NULL)
      return -ENOMEM;
    table.files = files;
    table.cap = cap;
  }
  f = &table.files[table.n];
  f->url = strdup(url);
  f->path = strdup(path);
  f->type = http_content_type(path);
  if (f->url == NULL || f->path == NULL) {
    free(f->url);
    free(f->path);
    return -ENOMEM;
  }
  table.n++;
  return 0;
}

static int add_viewer_file(const char* path, const struct stat* st, int type,
                           struct FTW* ftw) {
  if (type != FTW_F)
    return 0;
  /* Its URL is its path under the viewer directory. */
  return table_add(path + table.root_len, path);
}

static void table_free(void) {
  size_t i;
  for (i = 0; i < table.n; i++) {
    free(table.files[i].url);
    free(table.files[i].path);
  }
  free(table.files);
  memset(&table, 0, sizeof(table));
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
static struct http_static server;
static lrt_signal_t sigint;
static lrt_signal_t sigterm;

static void on_signal(lrt_signal_t* sig, int signum) {
  http_static_stop(&server);
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
  char trace[PATH_MAX];
  char url[64];
  struct stat st;
  int fd;
  int r;
  int ret = 1;

  argp_err_exit_status = 2;
  argp_parse(&argp, argc, argv, 0, NULL, &args);

  /* The trace must be a readable file now, not at the first request. */
  fd = open(args.file, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) != 0) {
    fprintf(stderr, "looptrace: %s: %s\n", args.file, strerror(errno));
    if (fd >= 0)
      close(fd);
    return 1;
  }
  close(fd);
  if (!S_ISREG(st.st_mode)) {
    fprintf(stderr, "looptrace: %s: not a regular file\n", args.file);
    return 1;
  }
  if (realpath(args.file, trace) == NULL) {
    fprintf(stderr, "looptrace: %s: %s\n", args.file, strerror(errno));
    return 1;
  }
  if (find_viewer(viewer, sizeof(viewer)) != 0) {
    fprintf(stderr,
            "looptrace: cannot find the viewer's files (index.html); set "
            "LOOPTRACE_VIEWER_DIR\n");
    return 1;
  }

  /* The viewer's files at their paths, its index page also at "/", and
   * the trace. */
  snprintf(index, sizeof(index), "%s/index.html", viewer);
  table.root_len = strlen(viewer);
  if (nftw(viewer, add_viewer_file, 16, FTW_PHYS) != 0 ||
      table_add("/", index) != 0 || table_add(TRACE_URL, trace) != 0) {
    fprintf(stderr, "looptrace: %s: cannot list the viewer's files\n",
            viewer);
    goto cleanup;
  }

  r = lrt_loop_init(&loop);
  if (r != 0) {
    fprintf(stderr, "looptrace: %s\n", uv_strerror(r));
    goto cleanup;
  }
  r = http_static_start(&server, &loop, args.port, table.files, table.n);
  if (r != 0) {
    fprintf(stderr, "looptrace: cannot listen on 127.0.0.1:%d: %s\n",
            args.port, uv_strerror(r));
    lrt_loop_close(&loop);
    goto cleanup;
  }
  lrt_signal_start(&loop, &sigint, SIGINT, on_signal, "SIGINT");
  lrt_signal_start(&loop, &sigterm, SIGTERM, on_signal, "SIGTERM");

  snprintf(url, sizeof(url), "http://127.0.0.1:%d/", server.port);
  printf("looptrace: serving %s at %s (Ctrl-C to stop)\n", args.file, url);
  fflush(stdout);
  if (!args.no_open) {
    ignore_children();
    if (!open_browser(url))
      printf("looptrace: no display to open a browser on; open the URL "
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
