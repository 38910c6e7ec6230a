/* test-stat.h — helpers shared by the tests of `looptrace stat`
 * (tests/test-stat*.c): run the command, read its JSON, make input files.
 */
#ifndef LOOPTRACE_TEST_STAT_H
#define LOOPTRACE_TEST_STAT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "lib/files.h"

/* What a run of build/looptrace printed and how it ended. */
struct stat_run {
  int status;     /* exit status, or 128 + signal */
  char* out;      /* stdout, NUL-terminated */
  char* err;      /* stderr, NUL-terminated */
  long maxrss_kb; /* its peak resident memory */
};

/* Runs build/looptrace with argv (NULL-terminated, without the program
 * name), stdin from /dev/null. Fails the test if it cannot run it. Free
 * with stat_run_free(). */
void stat_run(struct stat_run* r, const char* const* argv);
void stat_run_free(struct stat_run* r);

/* Runs `looptrace stat --json PATH`, asserts exit 0 and nothing on stderr,
 * and returns the parsed summary (cJSON_Delete it). */
cJSON* stat_json(const char* path);

/* stat_json() and `looptrace stat` (the text; exit 0 asserted, stdout
 * returned, malloc'd) of `len` bytes of `data`, put in a temporary file
 * for the run. */
cJSON* stat_json_of(const void* data, size_t len);
char* stat_text_of(const void* data, size_t len);

/* The path of tests/fixtures/stat/NAME (static buffer per call, 8 deep). */
const char* stat_fixture(const char* name);

/* Writes len bytes to a new temporary file; returns its path (malloc'd,
 * the file is removed by stat_temp_cleanup() or left in /tmp). */
char* stat_temp(const void* data, size_t len);

/* The item at a path like "threadpool.workers[1].busy_us", or NULL. */
const cJSON* jget(const cJSON* root, const char* path);

/* jget() as a number; fails the test when it is absent or not a number. */
double jnum(const cJSON* root, const char* path);

/* jget() as µs, returned as integer ns (rounded). */
int64_t jns(const cJSON* root, const char* path);

/* jget() as a string; fails the test when it is not a string. */
const char* jstr(const cJSON* root, const char* path);

/* Whether jget() is JSON null. */
int jnull(const cJSON* root, const char* path);

/* Whether the array at `path` has a string containing `needle`. */
int jhas_line(const cJSON* root, const char* path, const char* needle);

#endif /* LOOPTRACE_TEST_STAT_H */
