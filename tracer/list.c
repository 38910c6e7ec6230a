/* list.c — `looptrace list`: which processes looptrace can trace (looprt
 * programs through their probes, stock libuv programs such as node
 * through libuv's functions), and the looprt probes of a process or a
 * file (read from their ELF notes). */
#include <argp.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "libuv_source.h"
#include "probes.h"

struct list_args {
  pid_t pid;
  const char* binary;
};

static const char doc[] =
    "Show the processes looptrace can trace, or the probes of one.\n"
    "\n"
    "A looprt program is traced through its runtime's probes; a stock "
    "program whose symbol table holds libuv (node, or a program linked "
    "with libuv) through uprobes on libuv's own functions.\n"
    "\v"
    "Examples:\n"
    "  looptrace list                       running processes to trace\n"
    "  looptrace list -p 4242               the probes pid 4242 has\n"
    "  looptrace list build/liblooprt.so.0  the probes of a file\n"
    "  looptrace list build/examples/threads\n"
    "                                       ... or of the liblooprt it "
    "links\n"
    "\n"
    "Probes are listed with their arguments (SystemTap SDT syntax), "
    "address in the file and semaphore address. runtime/PROBES.md says "
    "what each one means. Seeing other users' processes needs root.";

static const char args_doc[] = "[BINARY]";

static const struct argp_option options[] = {
    {"pid", 'p', "PID", 0, "List the probes of process PID", 0},
    {0},
};

static error_t parse_opt(int key, char* arg, struct argp_state* state) {
  struct list_args* args = state->input;
  switch (key) {
  case 'p':
    if (cli_parse_pid(arg, &args->pid) != 0)
      argp_error(state, "-p wants a process id, not '%s'", arg);
    break;
  case ARGP_KEY_ARG:
    if (args->binary != NULL)
      argp_error(state, "one BINARY at a time");
    args->binary = arg;
    break;
  case ARGP_KEY_END:
    if (args->binary != NULL && args->pid != 0)
      argp_error(state, "-p PID and BINARY are exclusive");
    break;
  default:
    return ARGP_ERR_UNKNOWN;
  }
  return 0;
}

static int probe_cmp(const void* a, const void* b) {
  const struct usdt_probe* x = a;
  const struct usdt_probe* y = b;
  int c = strcmp(x->name, y->name);
  if (c != 0)
    return c;
  return x->pc < y->pc ? -1 : x->pc > y->pc;
}

/* Prints the looprt probes of `path`; `shown` names it for the reader. */
static int print_probes(const char* path, const char* shown, const char* how) {
  struct usdt_probe* probes;
  int i;
  int n = probes_read(path, PROBES_PROVIDER, &probes);
  if (n < 0) {
    if (n == -ENOEXEC)
      fprintf(stderr, "looptrace: %s is not an ELF file\n", shown);
    else
      fprintf(stderr, "looptrace: %s: %s\n", shown, strerror(-n));
    return 1;
  }
  if (n == 0) {
    fprintf(stderr, "looptrace: %s has no looprt probes\n", shown);
    return 1;
  }
  qsort(probes, (size_t) n, sizeof(*probes), probe_cmp);
  printf("%s: %d looprt probes (%s)\n", shown, n, how);
  printf("%-30s %-12s %-12s %s\n", "PROBE", "LOCATION", "SEMAPHORE", "ARGS");
  for (i = 0; i < n; i++) {
    char name[160];
    char sem[24] = "-";
    snprintf(name, sizeof(name), "%s:%s", probes[i].provider, probes[i].name);
    if (probes[i].semaphore != 0)
      snprintf(sem, sizeof(sem), "0x%" PRIx64, probes[i].semaphore);
    printf("%-30s 0x%-10" PRIx64 " %-12s %s\n", name, probes[i].pc, sem,
           probes[i].args[0] ? probes[i].args : "-");
  }
  free(probes);
  return 0;
}

/* What `list` found in one executable, kept for the other processes
 * running the same file (node's symbols are read once). */
struct seen_exe {
  dev_t dev;
  ino_t ino;
  char what[48]; /* "libuv 1.46.0", or "" when not traceable */
};

#define SEEN_MAX 64

/* "libuv VERSION" if process `pid` can be traced through its libuv. */
static const char* libuv_of(pid_t pid, struct seen_exe* seen, int* nseen) {
  static char what[48];
  struct libuv_source* src;
  struct stat st;
  char exe[64];
  char why[PATH_MAX + 128];
  int i;
  int err;
  snprintf(exe, sizeof(exe), "/proc/%d/exe", (int) pid);
  if (stat(exe, &st) == 0) {
    for (i = 0; i < *nseen; i++)
      if (seen[i].dev == st.st_dev && seen[i].ino == st.st_ino)
        return seen[i].what[0] ? seen[i].what : NULL;
  }
  err = libuv_source_find(pid, &src, why, sizeof(why));
  what[0] = '\0';
  if (err == 0) {
    snprintf(what, sizeof(what), "libuv %s", libuv_source_version(src));
    libuv_source_free(src);
  }
  if (*nseen < SEEN_MAX && stat(exe, &st) == 0) {
    seen[*nseen].dev = st.st_dev;
    seen[*nseen].ino = st.st_ino;
    snprintf(seen[*nseen].what, sizeof(seen[*nseen].what), "%s", what);
    (*nseen)++;
  }
  return what[0] ? what : NULL;
}

static int list_processes(void) {
  DIR* dir = opendir("/proc");
  struct dirent* e;
  struct seen_exe seen[SEEN_MAX];
  int nseen = 0;
  int found = 0;
  int hidden = 0;
  pid_t self = getpid();
  if (dir == NULL) {
    fprintf(stderr, "looptrace: cannot read /proc: %s\n", strerror(errno));
    return 1;
  }
  while ((e = readdir(dir)) != NULL) {
    struct probes_target target;
    char exe[PATH_MAX];
    const char* source;
    const char* file = target.shown;
    char* end;
    long pid = strtol(e->d_name, &end, 10);
    int err;
    if (*end != '\0' || pid <= 0 || pid == self)
      continue;
    err = probes_find((pid_t) pid, &target);
    if (err == -EACCES || err == -EPERM)
      hidden++;
    if (err == 0) {
      source = target.is_static ? "looprt (static)" : "looprt (shared)";
    } else if (err == -ENOENT &&
               (source = libuv_of((pid_t) pid, seen, &nseen)) != NULL) {
      snprintf(exe, sizeof(exe), "/proc/%ld/exe", pid);
      ssize_t n = readlink(exe, target.shown, sizeof(target.shown) - 1);
      target.shown[n > 0 ? n : 0] = '\0';
    } else {
      continue;
    }
    if (found++ == 0)
      printf("%-8s %-16s %-16s %s\n", "PID", "COMM", "SOURCE", "FILE");
    printf("%-8ld %-16s %-16s %s\n", pid, target.comm, source, file);
  }
  closedir(dir);
  if (found == 0)
    fprintf(stderr,
            "looptrace: no running process has looprt or libuv with "
            "symbols\n");
  else
    printf(
        "\ntrace one with: looptrace record -p PID (looprt: its "
        "runtime's probes; libuv: uprobes on libuv's functions, ~1.5 us "
        "a hit)\n");
  if (hidden > 0)
    fprintf(stderr, "looptrace: %d processes could not be inspected%s\n",
            hidden, geteuid() != 0 ? " (root sees them)" : "");
  return 0;
}

/* `list -p` of a process without looprt: its libuv, if traceable. */
static int list_libuv(pid_t pid, const char* comm) {
  struct libuv_source* src;
  char why[PATH_MAX + 128];
  int err = libuv_source_find(pid, &src, why, sizeof(why));
  if (err == -ENOEXEC) {
    fprintf(stderr, "looptrace: pid %d (%s): %s\n", (int) pid, comm, why);
    return 1;
  }
  if (err != 0) {
    fprintf(stderr,
            "looptrace: pid %d (%s) has no looprt probes and no libuv "
            "symbols: not a looprt or libuv program?\n",
            (int) pid, comm);
    return 1;
  }
  printf("pid %d (%s): libuv %s in %s\n", (int) pid, comm,
         libuv_source_version(src), libuv_source_shown(src));
  libuv_source_print(src, stdout);
  printf("trace it with: looptrace record -p %d\n", (int) pid);
  libuv_source_free(src);
  return 0;
}

static int list_pid(pid_t pid) {
  struct probes_target target;
  char how[PATH_MAX + 64];
  int err = probes_find(pid, &target);
  if (err == -ESRCH) {
    fprintf(stderr, "looptrace: no process with pid %d\n", (int) pid);
    return 1;
  }
  if (err == -ENOENT)
    return list_libuv(pid, target.comm);
  if (err != 0) {
    fprintf(stderr, "looptrace: cannot inspect pid %d: %s%s\n", (int) pid,
            strerror(-err),
            err == -EACCES || err == -EPERM ? " (root can)" : "");
    return 1;
  }
  snprintf(
      how, sizeof(how), "pid %d (%s), %s", (int) pid, target.comm,
      target.is_static ? "linked into its executable" : "its shared library");
  return print_probes(target.path, target.shown, how);
}

static int list_binary(const char* binary) {
  char lib[PATH_MAX];
  char how[PATH_MAX + 32];
  struct usdt_probe* probes;
  int n = probes_read(binary, PROBES_PROVIDER, &probes);
  int err;
  free(probes);
  if (n < 0) {
    if (n == -ENOEXEC)
      fprintf(stderr, "looptrace: %s is not an ELF file\n", binary);
    else
      fprintf(stderr, "looptrace: %s: %s\n", binary, strerror(-n));
    return 1;
  }
  if (n > 0)
    return print_probes(binary, binary, "in this file");
  /* A program that links liblooprt: show the library's probes. */
  err = probes_needed_looprt(binary, lib, sizeof(lib));
  if (err == -ENOENT) {
    fprintf(stderr,
            "looptrace: %s has no looprt probes and does not link "
            "liblooprt\n",
            binary);
    return 1;
  }
  if (err != 0) {
    fprintf(stderr, "looptrace: %s links %s, which is not found\n", binary,
            lib);
    return 1;
  }
  snprintf(how, sizeof(how), "linked by %s", binary);
  return print_probes(lib, lib, how);
}

int cmd_list(int argc, char** argv) {
  struct list_args args;
  struct argp argp = {options, parse_opt, args_doc, doc, NULL, NULL, NULL};
  memset(&args, 0, sizeof(args));
  /* argp names the program after argv[0]: "looptrace list: ...". */
  argv[0] = "looptrace list";
  argp_err_exit_status = 2;
  argp_parse(&argp, argc, argv, 0, NULL, &args);
  if (args.pid != 0)
    return list_pid(args.pid);
  if (args.binary != NULL)
    return list_binary(args.binary);
  return list_processes();
}
