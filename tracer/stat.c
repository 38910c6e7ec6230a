/* stat.c — `looptrace stat`. XXX: not written yet (see its issue). */
#include <stdio.h>

#include "commands.h"

int cmd_stat(int argc, char** argv) {
  fprintf(stderr, "looptrace: 'stat' is not implemented yet\n");
  return 1;
}
