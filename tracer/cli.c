/* cli.c — see cli.h. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

int cli_parse_pid(const char* text, pid_t* pid) {
  char* end;
  long v;
  errno = 0;
  v = strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v <= 0 || v > INT_MAX)
    return -EINVAL;
  *pid = (pid_t) v;
  return 0;
}
