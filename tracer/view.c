/* view.c — `looptrace view`. XXX: not written yet (see its issue). */
#include <stdio.h>

#include "commands.h"

int cmd_view(int argc, char** argv) {
  fprintf(stderr, "looptrace: 'view' is not implemented yet\n");
  return 1;
}
