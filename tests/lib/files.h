/* files.h — reading files in the C tests (tests/lib/files.c): a whole
 * file, and a fuzz corpus replayed file by file.
 */
#ifndef LOOPTRACE_TEST_FILES_H
#define LOOPTRACE_TEST_FILES_H

#include <stddef.h>

/* Reads `path` to its end (/proc files have no size) into a malloc'd,
 * NUL-terminated buffer the caller frees; *len, unless NULL, gets its
 * length. Returns NULL, errno set, when the file cannot be opened. */
char* test_read_file(const char* path, size_t* len);

/* test_read_file() for a file the test needs: fails the test, naming the
 * file, when it cannot be read. */
char* test_slurp(const char* path, size_t* len);

/* Creates the empty file named by `tmpl`, its XXXXXX (followed by a suffix
 * of `suffix_len` bytes) replaced as mkstemps() does, and closes it; fails
 * the test when it cannot. */
void test_mkstemp(char* tmpl, int suffix_len);

/* A fuzz target's own check: 0, or a negative errno. */
typedef int (*test_corpus_check)(const unsigned char* data, size_t len);

/* Replays every file of `dir` (relative to the source tree; names that
 * start with '.' are passed over) through `check`, and fails the test at
 * the first file it rejects, naming the file and the reason: `edom` for
 * -EDOM, strerror otherwise. Returns the number of files replayed. */
int test_replay_corpus(const char* dir, test_corpus_check check,
                       const char* edom);

#endif /* LOOPTRACE_TEST_FILES_H */
