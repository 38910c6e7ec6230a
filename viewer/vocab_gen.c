/* vocab_gen.c — writes the viewer's js/vocab.js from the trace vocabulary
 * of runtime/include/looprt_vocab.h, so that the viewer spells no name of
 * its own. viewer/build.mk runs it into build/viewer/js/vocab.js.
 *
 *   vocab_gen > vocab.js
 *
 * The data comes from the header's maps; the two functions (phaseOrder,
 * categoryOf) are JavaScript written here, checked against the C side by
 * tests/browser/viewer-vocab-agree.test.mjs.
 */
#include <stdio.h>
#include <string.h>

#include "looprt_vocab.h"

struct pair {
  const char* key;   /* the C name's tail: TICK for TRACE_CAT_TICK */
  const char* value; /* the name in traces */
};

#define PAIR(prefix, name) {#name, prefix##name},
#define CAT_PAIR(name) PAIR(TRACE_CAT_, name)
#define ARG_PAIR(name) PAIR(TRACE_ARG_, name)
#define CUT_PAIR(name) PAIR(TRACE_CUT_, name)
#define INSTANT_PAIR(name) PAIR(TRACE_INSTANT_, name)
#define COUNTER_PAIR(name) PAIR(TRACE_COUNTER_, name)
#define META_PAIR(name) PAIR(TRACE_META_, name)
#define CHROME_PAIR(name) PAIR(TRACE_CHROME_, name)
#define DROP_PAIR(name, text) {#name, text},

static const struct pair cats[] = {TRACE_CAT_MAP(CAT_PAIR)};
static const struct pair args[] = {TRACE_ARG_MAP(ARG_PAIR)};
static const struct pair cuts[] = {TRACE_CUT_MAP(CUT_PAIR)};
static const struct pair instants[] = {TRACE_INSTANT_MAP(INSTANT_PAIR)};
static const struct pair counters[] = {TRACE_COUNTER_MAP(COUNTER_PAIR)};
static const struct pair metas[] = {TRACE_META_MAP(META_PAIR)};
static const struct pair chromes[] = {TRACE_CHROME_MAP(CHROME_PAIR)};
static const struct pair drops[] = {TRACE_DROP_MAP(DROP_PAIR)};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The JavaScript that is not data. */
static const char* const functions =
    "  // The phase order for a libuv version string such as \"1.44.2\"\n"
    "  // (as lrt_uv_version_parse reads it: \"X.Y\" is \"X.Y.0\");\n"
    "  // without a version, or one that does not read, 1.44's order.\n"
    "  function phaseOrder(libuvVersion) {\n"
    "    const m = /^(\\d+)\\.(\\d+)(?:\\.(\\d+))?/.exec(String(libuvVersion "
    "|| \"\"));\n"
    "    if (!m) return PHASES_1_44;\n"
    "    const v = m.slice(1, 4).map((x) => +(x || 0));\n"
    "    if (v.some((x) => x > 255)) return PHASES_1_44;\n"
    "    const encode = ([a, b, c]) => a * 65536 + b * 256 + c;\n"
    "    return encode(v) >= encode(TIMERS_LAST) ? PHASES_1_45 : "
    "PHASES_1_44;\n"
    "  }\n"
    "\n"
    "  // The category of ours a cat names: the cat itself, or the first of\n"
    "  // ours in a comma-separated list (as `looptrace stat` reads them),\n"
    "  // else null.\n"
    "  function categoryOf(cat) {\n"
    "    if (typeof cat !== \"string\") return null;\n"
    "    if (CATEGORIES.includes(cat)) return cat;\n"
    "    for (const part of cat.split(\",\"))\n"
    "      if (CATEGORIES.includes(part)) return part;\n"
    "    return null;\n"
    "  }\n";

/* Prints `s` as a JavaScript string literal. */
static void put_string(const char* s) {
  putchar('"');
  for (; *s != '\0'; s++) {
    if (*s == '"' || *s == '\\')
      putchar('\\');
    putchar(*s);
  }
  putchar('"');
}

/* const NAME = Object.freeze({KEY: "value", ...}); */
static void put_object(const char* name, const struct pair* p, size_t n) {
  size_t i;
  printf("  const %s = Object.freeze({\n", name);
  for (i = 0; i < n; i++) {
    printf("    %s: ", p[i].key);
    put_string(p[i].value);
    printf(",\n");
  }
  printf("  });\n");
}

/* const NAME = Object.freeze(["a", "b", ...]); */
static void put_array(const char* name, const char* const* v, size_t n) {
  size_t i;
  printf("  const %s = Object.freeze([", name);
  for (i = 0; i < n; i++) {
    printf(i > 0 ? ", " : "");
    put_string(v[i]);
  }
  printf("]);\n");
}

/* The phase order lrt_phase_order gives for `uv_version`, as JavaScript. */
static void put_order(const char* name, uint32_t uv_version) {
  uint8_t order[LRT_PHASE_MAX];
  const char* names[LRT_PHASE_MAX];
  int n = lrt_phase_order(uv_version, order);
  int i;
  for (i = 0; i < n; i++)
    names[i] = lrt_phase_name(order[i]);
  put_array(name, names, (size_t) n);
}

static void put_phases(void) {
  printf(
      "  // libuv's phases in the order it runs them: 1.44 runs timers "
      "first,\n  // TIMERS_LAST and later last (lrt_phase_order).\n");
  put_order("PHASES_1_44", LRT_UV_VERSION(1, 44, 0));
  put_order("PHASES_1_45", LRT_UV_TIMERS_LAST);
  printf("  const TIMERS_LAST = Object.freeze([%u, %u, %u]);\n",
         LRT_UV_TIMERS_LAST >> 16, (LRT_UV_TIMERS_LAST >> 8) & 0xff,
         LRT_UV_TIMERS_LAST & 0xff);
}

static void put_kinds(void) {
  const char* kinds[LRT_CB_KIND_MAX];
  const char* completions[LRT_CB_KIND_MAX];
  size_t nkinds = 0;
  size_t ncompletions = 0;
  unsigned k;
  for (k = 0; k < LRT_CB_KIND_MAX; k++) {
    if (lrt_callback_kind_name(k) == NULL)
      continue;
    kinds[nkinds++] = lrt_callback_kind_name(k);
    if (lrt_callback_kind_is_completion(k))
      completions[ncompletions++] = lrt_callback_kind_name(k);
  }
  printf(
      "  // Callback kinds in enum order, and the completions of "
      "threadpool work.\n");
  put_array("CALLBACK_KINDS", kinds, nkinds);
  put_array("COMPLETION_KINDS", completions, ncompletions);
}

static void put_names(void) {
  const char* cat_values[COUNT(cats)];
  size_t i;
  for (i = 0; i < COUNT(cats); i++)
    cat_values[i] = cats[i].value;
  printf(
      "  // Span categories; tick, wait and submit spans are also named "
      "after theirs.\n");
  put_object("CAT", cats, COUNT(cats));
  put_array("CATEGORIES", cat_values, COUNT(cat_values));
  printf(
      "  // The cat of looptrace's own instants, and their names.\n"
      "  const CAT_LOOPTRACE = ");
  put_string(TRACE_INSTANT_CAT);
  printf(";\n");
  put_object("INSTANT", instants, COUNT(instants));
  printf("  // Why records were lost: the reasons of `dropped` instants.\n");
  put_object("DROP_REASON", drops, COUNT(drops));
  printf("  // Args of spans and instants, and the values of ARG.CUT.\n");
  put_object("ARG", args, COUNT(args));
  put_object("CUT", cuts, COUNT(cuts));
  printf("  // The threadpool counter and its series.\n");
  put_object("COUNTER", counters, COUNT(counters));
  printf(
      "  // The metadata event with the recording's facts, and its keys.\n"
      "  const META_LOOPTRACE = ");
  put_string(TRACE_META_EVENT);
  printf(";\n");
  put_object("META", metas, COUNT(metas));
  printf("  // The Chrome trace format's own metadata names.\n");
  put_object("CHROME", chromes, COUNT(chromes));
}

int main(void) {
  printf(
      "// vocab.js — the trace vocabulary, GENERATED by viewer/vocab_gen.c "
      "from\n// runtime/include/looprt_vocab.h when the viewer is built: "
      "edit the header,\n// not this file. Every other viewer file asks "
      "here.\n\"use strict\";\n\nconst Vocab = (() => {\n");
  printf(
      "  // The trace_format this viewer was written for, and how deep "
      "spans nest.\n  const FORMAT_VERSION = %d;\n"
      "  const MAX_DEPTH = %d;\n",
      TRACE_FORMAT_VERSION, TRACE_MAX_DEPTH);
  put_phases();
  put_kinds();
  put_names();
  printf("\n%s\n", functions);
  printf(
      "  return {\n"
      "    FORMAT_VERSION, MAX_DEPTH, PHASES_1_44, PHASES_1_45, "
      "TIMERS_LAST,\n"
      "    phaseOrder, CALLBACK_KINDS, COMPLETION_KINDS, CAT, CATEGORIES,\n"
      "    CAT_LOOPTRACE, INSTANT, DROP_REASON, ARG, CUT, COUNTER,\n"
      "    META_LOOPTRACE, META,\n"
      "    META_PROCESS_NAME: CHROME.PROCESS_NAME,\n"
      "    META_PROCESS_SORT_INDEX: CHROME.PROCESS_SORT_INDEX,\n"
      "    META_THREAD_NAME: CHROME.THREAD_NAME,\n"
      "    META_THREAD_SORT_INDEX: CHROME.THREAD_SORT_INDEX,\n"
      "    categoryOf,\n"
      "  };\n"
      "})();\n");
  return ferror(stdout) ? 1 : 0;
}
