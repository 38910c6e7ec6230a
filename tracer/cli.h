/* cli.h — what the subcommands' command lines share. */
#ifndef LOOPTRACE_CLI_H
#define LOOPTRACE_CLI_H

#include <sys/types.h>

/* Parses `text` as a process id: a positive decimal that fits a pid_t.
 * Returns 0 and sets *pid, or -EINVAL. */
int cli_parse_pid(const char* text, pid_t* pid);

#endif
