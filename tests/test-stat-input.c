/* test-stat-input.c — `looptrace stat` on bad input: never a crash; one
 * line "looptrace: FILE: ..." and exit 1 when nothing is usable; warnings
 * and figures from what was read when something is.
 */
#include <unistd.h>

#include "test-stat.h"
#include "test.h"

/* A minimal valid tick, for mixing with bad events. */
#define TICK                                                             \
  "{\"name\":\"tick\",\"cat\":\"tick\",\"ph\":\"X\",\"ts\":1,\"dur\":2," \
  "\"pid\":1,\"tid\":1,\"args\":{\"tick\":1}}"

/* Runs stat on the given bytes and checks it refused them with exactly
 * the line "looptrace: PATH: <why>". */
static void assert_refused(const void* data, size_t len, const char* why) {
  char* path = stat_temp(data, len);
  char expected[4096];
  struct stat_run r;
  const char* argv[] = {"stat", path, NULL};
  stat_run(&r, argv);
  snprintf(expected, sizeof(expected), "looptrace: %s: %s\n", path, why);
  ASSERT_EQ(r.status, 1);
  ASSERT_STR_EQ(r.out, "");
  ASSERT_STR_EQ(r.err, expected);
  stat_run_free(&r);
  unlink(path);
  free(path);
}

#define REFUSED(lit, why) assert_refused(lit, sizeof(lit) - 1, why)
#define SUMMARY(lit) stat_json_of(lit, sizeof(lit) - 1)

TEST_IMPL(stat_input_unusable) {
  REFUSED("", "empty file");
  REFUSED(" \n\t\r\n", "no trace in the file (only whitespace)");
  REFUSED("hello, world",
          "not a trace: expected '[' or '{' at byte 0, found 'h'");
  REFUSED("\n\n  42", "not a trace: expected '[' or '{' at byte 4, found '4'");
  REFUSED("\0\0\0\0",
          "not a trace: expected '[' or '{' at byte 0, found byte 0x00");
  REFUSED("[]", "no trace events");
  REFUSED("[ , , ]", "no trace events");
  REFUSED("{}", "no \"traceEvents\" array in the top-level object");
  REFUSED("{\"traceEvents\": 5}",
          "no \"traceEvents\" array in the top-level object");
  REFUSED("{\"traceEvents\": {\"ph\":\"X\"}}",
          "no \"traceEvents\" array in the top-level object");
  REFUSED("{\"traceEvents\": []}", "no trace events");
  REFUSED("{\"a\" 1}", "expected ':' at byte 5, found '1'");
  REFUSED("{\"traceEvents\":[], 5}",
          "expected a key in the top-level object at byte 19, found '5'");
  REFUSED("[1, \"x\", [2], null, true]",
          "no trace events; skipped 5 malformed");
  REFUSED("[", "no trace events (file ends without ']')");
  REFUSED("{\"traceEvents\":[", "no trace events (file ends inside the trace)");
  REFUSED("[{\"ph\":\"X\",\"ts\":", "no trace events (file ends without ']')");
  REFUSED("[{\"ph\":5}]", "no trace events; skipped 1 malformed");
  REFUSED("[} ]", "unexpected '}' in the events array at byte 1");
  return 0;
}

TEST_IMPL(stat_input_missing_file_and_directory) {
  struct stat_run r;
  const char* missing[] = {"stat", "/nonexistent/trace.json", NULL};
  const char* dir[] = {"stat", "/tmp", NULL};
  const char* dash[] = {"stat", "-", NULL};
  stat_run(&r, missing);
  ASSERT_EQ(r.status, 1);
  ASSERT_STR_EQ(r.err,
                "looptrace: /nonexistent/trace.json: No such file or "
                "directory\n");
  ASSERT_STR_EQ(r.out, "");
  stat_run_free(&r);
  stat_run(&r, dir);
  ASSERT_EQ(r.status, 1);
  ASSERT_STR_EQ(r.err, "looptrace: /tmp: is a directory, not a trace file\n");
  stat_run_free(&r);
  /* "-" is stdin, here /dev/null. */
  stat_run(&r, dash);
  ASSERT_EQ(r.status, 1);
  ASSERT_STR_EQ(r.err, "looptrace: -: empty file\n");
  stat_run_free(&r);
  return 0;
}

/* A recording cut short (our tracer killed): the figures of what was read,
 * and a warning saying so. */
TEST_IMPL(stat_input_truncated) {
  cJSON* j = stat_json(stat_fixture("threads-cut.json"));
  struct stat_run r;
  const char* argv[] = {"stat", stat_fixture("threads-cut.json"), NULL};

  ASSERT_EQ(cJSON_GetArraySize(jget(j, "warnings")), 1);
  ASSERT_STR_EQ(jstr(j, "warnings[0]"),
                "file ends without ']' (recording cut short?); read 40 "
                "events");
  /* Ticks 1-3 only; no duration_us, so the spans' extent. */
  ASSERT_EQ(jns(j, "recording_us"), 2100000);
  ASSERT_EQ(jnum(j, "ticks.count"), 3);
  ASSERT_EQ(jns(j, "ticks.p50_us"), 1000000);
  ASSERT_EQ(jns(j, "ticks.p99_us"), 1050000);
  ASSERT_EQ(jnum(j, "threadpool.tasks"), 5);
  ASSERT_EQ(jnum(j, "threadpool.peak_concurrency"), 4);
  ASSERT_EQ(jns(j, "threadpool.queue_wait_us.max"), 974000);
  ASSERT_EQ(jnum(j, "longest_ticks[0].tick"), 3);
  ASSERT_EQ(jnum(j, "drops"), 0);
  cJSON_Delete(j);

  stat_run(&r, argv);
  ASSERT_EQ(r.status, 0);
  ASSERT_NOT_NULL(strstr(r.out,
                         "warning: file ends without ']' (recording cut "
                         "short?); read 40 events\n"));
  stat_run_free(&r);
  return 0;
}

/* Events with fields of the wrong type or range are skipped and counted;
 * the good ones still count. */
TEST_IMPL(stat_input_wrong_types) {
  cJSON* j = SUMMARY(
      "[" TICK
      ",\n"
      "{\"ph\":5},\n"
      "{\"ph\":\"X\",\"name\":7,\"ts\":1,\"dur\":1},\n"
      "{\"ph\":\"X\",\"cat\":\"tick\",\"ts\":\"abc\",\"dur\":1},\n"
      "{\"ph\":\"X\",\"cat\":\"tick\",\"ts\":1,\"dur\":-5},\n"
      "{\"ph\":\"X\",\"cat\":\"tick\",\"ts\":1,\"dur\":1,\"tid\":\"main\"},\n"
      "{\"ph\":\"X\",\"cat\":\"tick\",\"ts\":1e400,\"dur\":1},\n"
      "{\"ph\":\"X\",\"cat\":\"tick\",\"ts\":1,\"dur\":1e300},\n"
      "{\"ph\":\"X\",\"cat\":\"tick\",\"ts\":1,\"dur\":1,\"pid\":1e30},\n"
      "{\"ph\":\"X\",\"cat\":\"tick\",\"ts\":-1e15,\"dur\":1},\n"
      /* Survivable: args of the wrong type count as none, ts as a
       * numeric string is what Perfetto accepts too. */
      "{\"ph\":\"X\",\"cat\":\"tick\",\"ts\":\"3\",\"dur\":4,\"pid\":1,"
      "\"tid\":1,\"args\":5},\n"
      "{\"ph\":\"X\",\"cat\":\"tick\",\"ts\":7},\n"
      "{\"ph\":\"X\",\"cat\":\"callback\",\"name\":\"cb\",\"ts\":7.5,"
      "\"dur\":1,\"pid\":1,\"tid\":1,\"args\":{\"kind\":[1,2]}},\n"
      "{\"ph\":\"X\",\"cat\":\"work\",\"name\":\"w\",\"ts\":1,\"dur\":1,"
      "\"pid\":1,\"tid\":2,\"args\":{\"queue_wait_us\":1e20}},\n"
      "42, \"str\", [{}], {\"ph\":\"X\", nope}\n"
      "]");
  ASSERT_EQ(jnum(j, "ticks.count"), 2);
  ASSERT_EQ(jns(j, "ticks.max_us"), 4000);
  /* A kind that is not a string is no kind. */
  ASSERT_STR_EQ(jstr(j, "callbacks[0].name"), "cb");
  ASSERT(jnull(j, "callbacks[0].kind"));
  /* A queue wait out of range is none. */
  ASSERT_EQ(jnum(j, "threadpool.tasks"), 1);
  ASSERT(jnull(j, "threadpool.queue_wait_us"));
  ASSERT(jhas_line(j, "missing", "threadpool.queue_wait_us: "));
  ASSERT(jhas_line(j, "warnings",
                   "skipped 9 events with fields of the wrong type or out "
                   "of range"));
  ASSERT(jhas_line(j, "warnings", "skipped 1 span events without ts or dur"));
  ASSERT(jhas_line(j, "warnings",
                   "skipped 3 elements of the events array that are not "
                   "objects"));
  ASSERT(jhas_line(j, "warnings", "skipped 1 events that are not valid JSON"));
  cJSON_Delete(j);
  return 0;
}

/* NUL bytes between and inside events. Between events they are an
 * element that is not an object; cJSON reads one inside an object as
 * whitespace, and one in a string ends the C string. */
TEST_IMPL(stat_input_nul_bytes) {
  static const char trace[] =
      "[" TICK
      ",\0\0,\n"
      "{\"name\":\"a\0b\",\"cat\":\"callback\",\"ph\":\"X\",\"ts\":5,"
      "\"dur\":3,\"pid\":1,\"tid\":1},\n"
      "{\"name\":\"x\",\0\"cat\":\"tick\",\"ph\":\"X\",\"ts\":5,\"dur\":3}\n"
      "]";
  cJSON* j = stat_json_of(trace, sizeof(trace) - 1);
  ASSERT_EQ(jnum(j, "ticks.count"), 2);
  ASSERT_STR_EQ(jstr(j, "callbacks[0].name"), "a");
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "warnings")), 1);
  ASSERT(jhas_line(j, "warnings",
                   "skipped 1 elements of the events array that are not "
                   "objects"));
  cJSON_Delete(j);
  return 0;
}

/* Nesting far deeper than any parser's stack: the scanner only counts;
 * cJSON refuses the event (its limit is 1000 levels). */
TEST_IMPL(stat_input_deep_nesting) {
  size_t depth = 1000000;
  size_t len = 2 * depth + 256;
  char* buf = malloc(len);
  char* p = buf;
  cJSON* j;
  ASSERT_NOT_NULL(buf);
  p += sprintf(p, "[" TICK ",{\"ph\":\"X\",\"args\":");
  memset(p, '[', depth);
  p += depth;
  memset(p, ']', depth);
  p += depth;
  p += sprintf(p, "}]");
  j = stat_json_of(buf, (size_t) (p - buf));
  ASSERT_EQ(jnum(j, "ticks.count"), 1);
  ASSERT(jhas_line(j, "warnings", "skipped 1 events that are not valid JSON"));
  cJSON_Delete(j);

  /* Only openers: the file ends inside them. */
  memset(buf, '[', depth);
  assert_refused(buf, depth, "no trace events (file ends without ']')");
  memset(buf, '{', depth);
  assert_refused(buf, depth,
                 "expected a key in the top-level object at byte 1, found "
                 "'{'");
  free(buf);
  return 0;
}

/* A gigantic string: past TRACE_READER_MAX_EVENT the event is skipped
 * without being held, elsewhere (a member of the object form) it is
 * skipped outright. Memory stays far below the file's size either way. */
/* Writes PREFIX, n times c, SUFFIX to a temporary file, a MiB at a time:
 * a child inherits its parent's peak memory (ru_maxrss), so the test
 * must stay small for the peak of the looptrace it forks to mean
 * something. */
static char* big_file(const char* prefix, char c, size_t n,
                      const char* suffix) {
  static char chunk[1 << 20];
  char* path = stat_temp(prefix, strlen(prefix));
  FILE* f = fopen(path, "ab");
  ASSERT_NOT_NULL(f);
  memset(chunk, c, sizeof(chunk));
  while (n > 0) {
    size_t k = n < sizeof(chunk) ? n : sizeof(chunk);
    ASSERT_UINT_EQ(fwrite(chunk, 1, k, f), k);
    n -= k;
  }
  ASSERT_UINT_EQ(fwrite(suffix, 1, strlen(suffix), f), strlen(suffix));
  ASSERT_EQ(fclose(f), 0);
  return path;
}

/* `looptrace stat --json` of a file big_file() made (removed and freed
 * here): asserts exit 0 and returns the summary (cJSON_Delete it); the
 * run's peak memory in *maxrss_kb. */
static cJSON* big_file_summary(char* path, long* maxrss_kb) {
  const char* argv[] = {"stat", "--json", path, NULL};
  struct stat_run r;
  cJSON* j;
  stat_run(&r, argv);
  ASSERT_EQ(r.status, 0);
  j = cJSON_Parse(r.out);
  ASSERT_NOT_NULL(j);
  *maxrss_kb = r.maxrss_kb;
  stat_run_free(&r);
  unlink(path);
  free(path);
  return j;
}

TEST_IMPL_TIMEOUT(stat_input_gigantic_strings, 120) {
  size_t big = 200u << 20;
  char* path;
  struct stat_run r;
  const char* argv[] = {"stat", NULL, NULL};
  long maxrss_kb;
  cJSON* j;

  j = big_file_summary(big_file("[" TICK ",{\"ph\":\"X\",\"name\":\"", 'a', big,
                                "\"}," TICK "]"),
                       &maxrss_kb);
  ASSERT_EQ(jnum(j, "ticks.count"), 2);
  ASSERT(jhas_line(j, "warnings", "skipped 1 events larger than 16 MiB"));
  /* 200 MiB of file; the summary needs a few MiB (more under ASan). */
  ASSERT_LT(maxrss_kb, 100 * 1024);
  cJSON_Delete(j);

  j = big_file_summary(big_file("{\"otherData\":{\"s\":\"", 'b', big,
                                "\\\"]}\"},\"traceEvents\":[" TICK "]}"),
                       &maxrss_kb);
  ASSERT_EQ(jnum(j, "ticks.count"), 1);
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "warnings")), 0);
  ASSERT_LT(maxrss_kb, 100 * 1024);
  cJSON_Delete(j);

  /* A long name that is kept (1 MiB): the text report cuts it short. */
  path = big_file("[{\"ph\":\"X\",\"cat\":\"callback\",\"name\":\"", 'c',
                  1 << 20, "\",\"ts\":0,\"dur\":1,\"pid\":1,\"tid\":1}]");
  argv[1] = path;
  stat_run(&r, argv);
  ASSERT_EQ(r.status, 0);
  ASSERT_NOT_NULL(strstr(r.out, "ccccccccccccccccccccccccccccccc…  -"));
  ASSERT_LT(strlen(r.out), 4096);
  stat_run_free(&r);
  unlink(path);
  free(path);
  return 0;
}

/* Data after the trace, and a structure that breaks after some events:
 * warnings, and the figures of what came before. */
TEST_IMPL(stat_input_broken_tail) {
  cJSON* j = SUMMARY("[" TICK "]\n garbage");
  ASSERT_EQ(jnum(j, "ticks.count"), 1);
  ASSERT(jhas_line(j, "warnings",
                   "ignored data after the end of the trace (byte "));
  cJSON_Delete(j);

  j = SUMMARY("[" TICK ", } " TICK "]");
  ASSERT_EQ(jnum(j, "ticks.count"), 1);
  ASSERT(jhas_line(j, "warnings",
                   "stopped reading: unexpected '}' in the events array at "
                   "byte "));
  ASSERT(jhas_line(j, "warnings", "; read 1 events"));
  cJSON_Delete(j);

  /* Commas are separators: missing or doubled ones do not matter. */
  j = SUMMARY("[" TICK TICK ",,," TICK ",]");
  ASSERT_EQ(jnum(j, "ticks.count"), 3);
  ASSERT_EQ(cJSON_GetArraySize(jget(j, "warnings")), 0);
  cJSON_Delete(j);
  return 0;
}

/* Names that would drive a terminal are printed with '?' instead. */
TEST_IMPL(stat_input_control_characters) {
  static const char trace[] =
      "[{\"ph\":\"X\",\"cat\":\"callback\",\"name\":\"evil\\u001b[2Jname\","
      "\"ts\":0,\"dur\":1,\"pid\":1,\"tid\":1,\"args\":{\"kind\":\"a\\nb\"}}]";
  char* out = stat_text_of(trace, sizeof(trace) - 1);
  ASSERT_NULL(strchr(out, '\033'));
  ASSERT_NOT_NULL(strstr(out, "evil?[2Jname  a?b"));
  free(out);
  return 0;
}

/* B/E pairs that do not pair up: counted, and the rest still works. */
TEST_IMPL(stat_input_unpaired_begin_end) {
  cJSON* j = SUMMARY(
      "[{\"ph\":\"B\",\"cat\":\"tick\",\"name\":\"tick\",\"ts\":0,\"pid\":1,"
      "\"tid\":1},\n"
      "{\"ph\":\"B\",\"cat\":\"phase\",\"name\":\"poll\",\"ts\":1,\"pid\":1,"
      "\"tid\":1},\n"
      /* Closes the tick: the poll above it never ended. */
      "{\"ph\":\"E\",\"cat\":\"tick\",\"name\":\"tick\",\"ts\":9,\"pid\":1,"
      "\"tid\":1},\n"
      "{\"ph\":\"E\",\"ts\":10,\"pid\":1,\"tid\":1},\n"
      "{\"ph\":\"E\",\"name\":\"nope\",\"ts\":10,\"pid\":1,\"tid\":2},\n"
      "{\"ph\":\"B\",\"cat\":\"tick\",\"name\":\"tick\",\"ts\":20,\"pid\":1,"
      "\"tid\":1},\n"
      /* An E before its B's time matches nothing. */
      "{\"ph\":\"E\",\"ts\":19,\"pid\":1,\"tid\":1},\n"
      "{\"ph\":\"B\",\"cat\":\"tick\",\"name\":\"tick\",\"pid\":1,\"tid\":1}\n"
      "]");
  ASSERT_EQ(jnum(j, "ticks.count"), 1);
  ASSERT_EQ(jns(j, "ticks.max_us"), 9000);
  ASSERT(jhas_line(j, "warnings", "skipped 3 'E' events that match no 'B'"));
  ASSERT(jhas_line(j, "warnings", "skipped 2 'B' events that never end"));
  ASSERT(jhas_line(j, "warnings", "skipped 1 span events without ts or dur"));
  cJSON_Delete(j);
  return 0;
}

/* gzip input that holds no usable trace: one line, exit 1. A file is gzip
 * by its first byte (0x1f), whatever its name. */
TEST_IMPL(stat_input_gzip_unusable) {
  REFUSED("\x1f", "gzip file cut short before any data");
  REFUSED("\x1f\x8b\x08\x00garbage", "gzip file cut short before any data");
  REFUSED("\x1f\x00",
          "gzip data is broken (incorrect header check) after 0 "
          "bytes of JSON");
  REFUSED("\x1f\x8b\x07\x00\x00\x00\x00\x00\x00\x03xx",
          "gzip data is broken (unknown compression method) after 0 bytes "
          "of JSON");
  /* gzip -n of "hello": the inflated bytes are judged as any file. */
  REFUSED(
      "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xcb\x48\xcd\xc9\xc9\x07"
      "\x00\x86\xa6\x10\x36\x05\x00\x00\x00",
      "not a trace: expected '[' or '{' at byte 0, found 'h'");
  return 0;
}

/* gzip read as plain JSON is: the same summary; cut short, the figures of
 * what was read and a warning; corrupt after some events, those events
 * and a warning. */
TEST_IMPL(stat_input_gzip) {
  size_t gz_len;
  char* gz;
  char* path;
  cJSON* plain = stat_json(stat_fixture("threads.json"));
  cJSON* j = stat_json(stat_fixture("corpus/seed-threads.json.gz"));
  char* a = cJSON_PrintUnformatted(plain);
  char* b = cJSON_PrintUnformatted(j);
  ASSERT_STR_EQ(a, b);
  free(a);
  free(b);
  cJSON_Delete(j);
  cJSON_Delete(plain);

  gz = test_slurp(stat_fixture("corpus/seed-threads.json.gz"), &gz_len);
  /* Cut in the middle. */
  path = stat_temp(gz, gz_len / 2);
  j = stat_json(path);
  ASSERT_GT(jnum(j, "ticks.count"), 0);
  ASSERT(jhas_line(j, "warnings",
                   "file ends without ']' (recording cut short?); read "));
  cJSON_Delete(j);
  unlink(path);
  free(path);
  /* Only the 8-byte trailer missing: the JSON is whole, the gzip is not. */
  path = stat_temp(gz, gz_len - 8);
  j = stat_json(path);
  ASSERT_EQ(jnum(j, "ticks.count"), 5);
  ASSERT(jhas_line(j, "warnings",
                   "gzip stream ends early (recording cut short?); read 51 "
                   "events"));
  cJSON_Delete(j);
  unlink(path);
  free(path);
  /* Corrupt past the middle: what came before, and where it stopped. */
  gz[gz_len * 3 / 4] ^= 0x55;
  gz[gz_len * 3 / 4 + 1] ^= 0xaa;
  path = stat_temp(gz, gz_len);
  {
    struct stat_run r;
    const char* argv[] = {"stat", "--json", path, NULL};
    stat_run(&r, argv);
    /* Either deflate notices (a warning, exit 0) or the bytes still
     * inflate to something: never a crash. */
    ASSERT(r.status == 0 || r.status == 1);
    ASSERT_EQ(r.status == 1, strstr(r.err, "looptrace: ") == r.err);
    stat_run_free(&r);
  }
  unlink(path);
  free(path);
  free(gz);
  return 0;
}
