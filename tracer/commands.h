/* commands.h — the looptrace subcommands. Each lives in its own file and
 * returns the process exit status: 0 on success, 1 on a runtime error
 * (after printing one line "looptrace: ..." to stderr), 2 on a usage
 * error. */
#ifndef LOOPTRACE_COMMANDS_H
#define LOOPTRACE_COMMANDS_H

int cmd_record(int argc, char** argv); /* record.c */
int cmd_list(int argc, char** argv);   /* list.c */
int cmd_stat(int argc, char** argv);   /* stat.c */
int cmd_view(int argc, char** argv);   /* view.c */
int cmd_top(int argc, char** argv);    /* top.c */

#endif
