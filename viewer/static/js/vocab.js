// vocab.js — the trace vocabulary, the one place the viewer spells it:
// phase names and their order per libuv version, callback kinds and which
// of them are threadpool completions, span categories, the arg and
// metadata keys the viewer reads, instant names, the format version.
// Every other file asks here (tracer/TRACE-FORMAT.md says what they mean).
//
// It must agree with runtime/include/looprt_trace.h (phases, their order,
// callback kinds) and tracer/trace_names.h (categories), which the runtime,
// the exporter and stat take them from;
// tests/browser/viewer-vocab-agree.test.mjs checks that it does.
"use strict";

const Vocab = (() => {
  // The `trace_format` this viewer was written for.
  const FORMAT_VERSION = 1;

  // libuv's phases: 1.44 runs timers first, 1.45+ last (lrt_phase_order).
  const PHASES_1_44 = Object.freeze(["timers", "pending", "idle", "prepare",
                                     "poll", "check", "close"]);
  const PHASES_1_45 = Object.freeze(["pending", "idle", "prepare", "poll",
                                     "check", "close", "timers"]);

  // Returns the phase order for a libuv version string such as "1.44.2";
  // without a version, 1.44's order (the one on this Debian).
  function phaseOrder(libuvVersion) {
    const m = /^(\d+)\.(\d+)/.exec(String(libuvVersion || ""));
    if (m && (+m[1] > 1 || (+m[1] === 1 && +m[2] >= 45))) return PHASES_1_45;
    return PHASES_1_44;
  }

  // Callback kinds (enum lrt_callback_kind, in its order) and the
  // completions of threadpool work among them.
  const CALLBACK_KINDS = Object.freeze([
    "timer", "interval", "immediate", "work", "fs", "dns", "crypto",
    "connection", "connect", "read", "write", "close", "signal", "user",
  ]);
  const COMPLETION_KINDS = Object.freeze(["work", "fs", "dns", "crypto"]);

  // Span categories (trace_names.h). tick and wait spans are also named
  // after their category.
  const CAT = Object.freeze({
    TICK: "tick", PHASE: "phase", WAIT: "wait", CALLBACK: "callback",
    SUBMIT: "submit", WORK: "work",
  });
  const CATEGORIES = Object.freeze(Object.values(CAT));

  // The cat of looptrace's own instants (dropped, trigger).
  const CAT_LOOPTRACE = "looptrace";

  // Args of spans and instants that the viewer reads.
  const ARG = Object.freeze({
    TICK: "tick", // tick number, on ticks and phases
    KIND: "kind", // callback kind
    TASK: "task", // task id, on submit, work and completions
    LABEL: "label",
    QUEUE_WAIT_US: "queue_wait_us", // on work spans
    AFTER_POLL: "after_poll", // the second pending phase of a tick
    CUT: "cut", // "end" | "start" | "both"
    INCOMPLETE: "incomplete", // legacy: true means cut at end
    RECORDS: "records", // on `dropped`
    REASON: "reason", // on `dropped`
    TRIGGER: "trigger", // on `trigger`: what fired, e.g. "tick>50ms"
    VALUE_US: "value_us", // on `trigger`: the value that fired it
  });

  // Values of ARG.CUT.
  const CUT = Object.freeze({ END: "end", START: "start", BOTH: "both" });

  // Instant names of ours (cat CAT_LOOPTRACE).
  const INSTANT = Object.freeze({ DROPPED: "dropped", TRIGGER: "trigger" });

  // The counter the exporter writes, and its series.
  const COUNTER = Object.freeze({ THREADPOOL: "threadpool", QUEUED: "queued",
                                  RUNNING: "running" });

  // The metadata event that carries facts about the recording, and the
  // keys the viewer reads from it (others are shown as they are).
  const META_LOOPTRACE = "looptrace";
  const META = Object.freeze({
    TRACE_FORMAT: "trace_format",
    LIBUV_VERSION: "libuv_version",
    DURATION_US: "duration_us",
    DROPS: "drops",
    SOURCE: "source",
    FALLBACKS: "fallbacks",
    TIMESTAMPS: "timestamps",
    TARGET_EXIT: "target_exit",
    END_REASON: "end_reason",
  });

  // Trace Event metadata names (the Chrome format's own).
  const META_PROCESS_NAME = "process_name";
  const META_PROCESS_SORT_INDEX = "process_sort_index";
  const META_THREAD_NAME = "thread_name";
  const META_THREAD_SORT_INDEX = "thread_sort_index";

  // The category of ours a cat names: the cat itself, or the first of ours
  // in a comma-separated list (as `looptrace stat` reads them), else null.
  function categoryOf(cat) {
    if (typeof cat !== "string") return null;
    if (CATEGORIES.includes(cat)) return cat;
    for (const part of cat.split(",")) if (CATEGORIES.includes(part)) return part;
    return null;
  }

  return {
    FORMAT_VERSION, PHASES_1_44, PHASES_1_45, phaseOrder, CALLBACK_KINDS,
    COMPLETION_KINDS, CAT, CATEGORIES, CAT_LOOPTRACE, ARG, CUT, INSTANT,
    COUNTER, META_LOOPTRACE, META, META_PROCESS_NAME, META_PROCESS_SORT_INDEX,
    META_THREAD_NAME, META_THREAD_SORT_INDEX, categoryOf,
  };
})();
