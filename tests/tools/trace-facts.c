/* trace-facts.c — checks a trace file of `looptrace record` and prints its
 * `looptrace` facts, for the script tests (tests/lib/test.sh trace_facts):
 *
 *   trace-facts FILE KEY[=DEFAULT]...
 *
 * FILE must be what TRACE-FORMAT.md promises of a whole trace: a JSON
 * array written one event per line ("[", events each ending in "," but the
 * last, "]"), every event a JSON object, and the records of its `dropped`
 * instants adding up to its `drops` fact. Then prints, a line each, the
 * fact KEY (the looptrace metadata events merged, the last one winning): a
 * string as it is, anything else as JSON; DEFAULT for one it does not
 * have. A KEY "dropped:REASON" is the sum of the records of the dropped
 * instants whose reason is REASON.
 *
 * It reads a line at a time: traces of floods are hundreds of MB, which
 * Python's json.load took a minute and gigabytes to hold. Exit 0, or 1
 * with one line on stderr.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DROPPED_PREFIX "dropped:"

struct facts {
  cJSON* merged; /* the looptrace facts */
  cJSON* drops;  /* reason (or "") → records of its dropped instants */
  double dropped_total;
};

static int fail(const char* path, long line, const char* what) {
  fprintf(stderr, "trace-facts: %s:%ld: %s\n", path, line, what);
  return 1;
}

static const char* str_of(const cJSON* obj, const char* key) {
  const cJSON* v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int is(const cJSON* ev, const char* key, const char* value) {
  const char* s = str_of(ev, key);
  return s != NULL && strcmp(s, value) == 0;
}

static void merge(cJSON* into, const cJSON* args) {
  const cJSON* item;
  cJSON_ArrayForEach(item, args) {
    cJSON_DeleteItemFromObjectCaseSensitive(into, item->string);
    cJSON_AddItemToObject(into, item->string, cJSON_Duplicate(item, 1));
  }
}

static void add_drop(struct facts* f, const cJSON* args) {
  const cJSON* n = cJSON_GetObjectItemCaseSensitive(args, "records");
  const char* reason = str_of(args, "reason");
  cJSON* sum;
  if (!cJSON_IsNumber(n))
    return;
  reason = reason != NULL ? reason : "";
  sum = cJSON_GetObjectItemCaseSensitive(f->drops, reason);
  if (sum == NULL)
    cJSON_AddNumberToObject(f->drops, reason, n->valuedouble);
  else
    cJSON_SetNumberValue(sum, sum->valuedouble + n->valuedouble);
  f->dropped_total += n->valuedouble;
}

/* One event line: "{...}" followed by "," unless it is the last. */
static const char* take_event(struct facts* f, char* line, size_t len,
                              int* last) {
  cJSON* ev;
  const cJSON* args;
  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
    line[--len] = '\0';
  *last = len == 0 || line[len - 1] != ',';
  if (!*last)
    line[--len] = '\0';
  ev = cJSON_ParseWithLengthOpts(line, len + 1, NULL, 1);
  if (!cJSON_IsObject(ev)) {
    cJSON_Delete(ev);
    return "not a JSON object on a line of its own";
  }
  args = cJSON_GetObjectItemCaseSensitive(ev, "args");
  if (is(ev, "name", "looptrace") && is(ev, "ph", "M"))
    merge(f->merged, args);
  else if (is(ev, "name", "dropped") && is(ev, "cat", "looptrace"))
    add_drop(f, args);
  cJSON_Delete(ev);
  return NULL;
}

static int is_close(const char* line) {
  return strcmp(line, "]\n") == 0 || strcmp(line, "]") == 0;
}

/* Reads the whole of `path` into `f`; returns 0 or 1 (said on stderr). */
static int read_trace(const char* path, struct facts* f) {
  FILE* in = fopen(path, "r");
  char* line = NULL;
  size_t cap = 0;
  ssize_t len;
  long n = 0;
  int last = 0; /* the line before was an event without its "," */
  int closed = 0;
  const char* err = NULL;
  if (in == NULL) {
    perror(path);
    return 1;
  }
  while (err == NULL && (len = getline(&line, &cap, in)) >= 0) {
    n++;
    if (n == 1)
      err = strcmp(line, "[\n") == 0 ? NULL : "not a trace: no \"[\" line";
    else if (closed)
      err = "text after the closing \"]\"";
    else if (is_close(line) && (last || n == 2))
      closed = 1;
    else if (last)
      err = "an event line without its \",\"";
    else
      err = take_event(f, line, (size_t) len, &last);
  }
  if (err == NULL && !closed)
    err = "cut short: no closing \"]\" line";
  free(line);
  fclose(in);
  return err != NULL ? fail(path, n, err) : 0;
}

static int print_key(const struct facts* f, const char* arg) {
  const char* eq = strchr(arg, '=');
  size_t klen = eq != NULL ? (size_t) (eq - arg) : strlen(arg);
  char* key = strndup(arg, klen);
  const cJSON* v;
  char* text;
  if (strncmp(key, DROPPED_PREFIX, strlen(DROPPED_PREFIX)) == 0)
    v = cJSON_GetObjectItemCaseSensitive(f->drops,
                                         key + strlen(DROPPED_PREFIX));
  else
    v = cJSON_GetObjectItemCaseSensitive(f->merged, key);
  free(key);
  if (v == NULL && eq == NULL) {
    fprintf(stderr, "trace-facts: no fact %s\n", arg);
    return 1;
  }
  if (v == NULL)
    puts(eq + 1);
  else if (cJSON_IsString(v))
    puts(v->valuestring);
  else {
    text = cJSON_PrintUnformatted(v);
    puts(text);
    free(text);
  }
  return 0;
}

int main(int argc, char** argv) {
  struct facts f = {cJSON_CreateObject(), cJSON_CreateObject(), 0};
  const cJSON* drops;
  int rc;
  int i;
  if (argc < 2) {
    fprintf(stderr, "usage: trace-facts FILE [KEY[=DEFAULT]]...\n");
    return 2;
  }
  rc = read_trace(argv[1], &f);
  drops = cJSON_GetObjectItemCaseSensitive(f.merged, "drops");
  if (rc == 0 && cJSON_IsNumber(drops) &&
      drops->valuedouble != f.dropped_total) {
    fprintf(stderr,
            "trace-facts: %s: drops %.0f, but its dropped instants hold "
            "%.0f\n",
            argv[1], drops->valuedouble, f.dropped_total);
    rc = 1;
  }
  for (i = 2; rc == 0 && i < argc; i++)
    rc = print_key(&f, argv[i]);
  cJSON_Delete(f.merged);
  cJSON_Delete(f.drops);
  return rc;
}
