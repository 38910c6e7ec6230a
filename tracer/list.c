/* list.c — `looptrace list`. XXX: not written yet (see its issue). */
#include <stdio.h>

#include "commands.h"

int cmd_list(int argc, char** argv) {
  fprintf(stderr, "looptrace: 'list' is not implemented yet\n");
  return 1;
}
