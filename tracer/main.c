/* main.c — `looptrace COMMAND ...`: dispatch to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "looptrace_version.h"

static const struct {
  const char* name;
  int (*run)(int argc, char** argv);
  const char* usage;
} commands[] = {
    {"record", cmd_record,
     "record -p PID [-o FILE] [-d SECONDS]   attach to a running program\n"
     "  looptrace record [-o FILE] -- CMD [ARGS...]   start a program and "
     "trace it"},
    {"top", cmd_top,
     "top -p PID [-i SECONDS] [--once]       live figures of a running "
     "program\n"
     "  looptrace top ... --metrics [IP:]PORT         and serve them to "
     "Prometheus\n"
     "  looptrace top [--once] -- CMD [ARGS...]       start a program and "
     "watch it"},
    {"list", cmd_list,
     "list [-p PID | BINARY]                 show probes / traceable "
     "processes"},
    {"stat", cmd_stat,
     "stat FILE [--json]                     summary of a trace"},
    {"view", cmd_view,
     "view FILE [--port N] [--no-open]       serve the viewer on 127.0.0.1"},
};

static void usage(FILE* out) {
  size_t i;
  fprintf(out, "looptrace %s: see inside an event loop.\n\nusage:\n",
          LOOPTRACE_VERSION);
  for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    fprintf(out, "  looptrace %s\n", commands[i].usage);
  fprintf(out,
          "\n`looptrace COMMAND --help` describes a command.\n"
          "Probes: runtime/PROBES.md. Trace format: tracer/TRACE-FORMAT.md.\n");
}

int main(int argc, char** argv) {
  size_t i;
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("looptrace %s\n", LOOPTRACE_VERSION);
    return 0;
  }
  for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
    if (strcmp(argv[1], commands[i].name) == 0)
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "looptrace: unknown command '%s' (try looptrace --help)\n",
          argv[1]);
  return 2;
}
