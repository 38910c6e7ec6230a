/* record.c — `looptrace record`. XXX: not written yet (see its issue). */
#include <stdio.h>

#include "commands.h"

int cmd_record(int argc, char** argv) {
  fprintf(stderr, "looptrace: 'record' is not implemented yet\n");
  return 1;
}
