// gen-trace.mjs — realistic looptrace recordings for the browser tests and
// the benchmark, written the way tracer/TRACE-FORMAT.md says the tracer
// writes them: array form, one event per line, metadata first, each tick's
// spans in (ts, −dur) order parent first, worker spans when the task ends,
// counters when they change, the final facts last.
//
// The default is the `threads` example: one loop, 4 workers, 5 pbkdf2
// tasks submitted at once so the fifth waits for a free worker, plus an
// interval timer and a few immediates so every phase shows up.

import fs from "node:fs";

const PID = 4242;
const LOOP_TID = 4242;
// Worker tids are not in worker order, to prove lanes follow sort indexes.
const WORKER_TIDS = [4247, 4245, 4244, 4246, 4248, 4249, 4250, 4251];

// Integer ns as µs with exactly three decimals, as the exporter prints.
export function us(ns) {
  const whole = Math.floor(ns / 1000);
  return `${whole}.${String(ns % 1000).padStart(3, "0")}`;
}

// A deterministic pseudo-random sequence (xorshift), so traces are the same
// on every run.
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/**
 * Returns {text, events, info}: the trace as the file's text, the same
 * events as objects, and what the scenario did (for the tests' own checks).
 *
 * opts:
 *   tasks       pbkdf2 tasks submitted in the first tick (5)
 *   workers     threadpool size (4)
 *   runNs       pbkdf2 run time on a worker (40 ms)
 *   intervals   how many times the interval timer fires (12)
 *   intervalNs  its period (5 ms)
 *   fsEvery     every Nth interval callback also submits an fs read (0: never)
 *   fsRunNs     run time of those reads (150 µs)
 *   labels      optional labels of the pbkdf2 tasks (e.g. an XSS string)
 *   dropped     [[ns, records], ...]: losses noticed then (`dropped` instants)
 *   cutStart    the tracer attached mid-tick: a first tick (90 ms busy in a
 *               read callback) and its poll phase carry "cut":"start"
 *   cutEnd      the recording stopped mid-tick: a last tick (125 ms busy in
 *               a callback) with its phase and callback carry "cut":"end"
 *   legacyCut   write cutEnd's marks as the old "incomplete":true
 *   triggers    [[ns, "tick>50ms", value_us], ...]: flight-recorder
 *               trigger instants (global scope)
 *   seed        for the small jitter in durations
 */
export function generateTrace(opts = {}) {
  const o = {
    tasks: 5, workers: 4, runNs: 40_000_000, intervals: 12,
    intervalNs: 5_000_000, fsEvery: 0, fsRunNs: 150_000, labels: null, dropped: [],
    seed: 42, ...opts,
  };
  const rand = rng(o.seed);
  const jitter = (ns, frac = 0.2) => Math.max(1, Math.round(ns * (1 + frac * (rand() - 0.5))));

  const out = []; // {at, order, ev}: written sorted by `at` (when the tracer would)
  let order = 0;
  const emit = (at, ev) => out.push({ at, order: order++, ev });

  const span = (name, cat, ts, dur, tid, args, flow) => {
    const ev = { name, cat, ph: "X", ts, dur, pid: PID, tid };
    if (args) ev.args = args;
    if (flow) Object.assign(ev, flow);
    return ev;
  };

  // Metadata the tracer writes first.
  emit(-3, { name: "process_name", ph: "M", pid: PID, tid: LOOP_TID, args: { name: "threads" } });
  emit(-2, { name: "looptrace", ph: "M", pid: PID, tid: LOOP_TID, args: {
    looptrace_version: "0.1.0", trace_format: 1, clock: "CLOCK_MONOTONIC",
    clock_offset_ns: 81234567890123, command: "build/examples/threads" } });
  emit(-1, { name: "thread_name", ph: "M", pid: PID, tid: LOOP_TID, args: { name: "event loop" } });
  emit(-1, { name: "thread_sort_index", ph: "M", pid: PID, tid: LOOP_TID, args: { sort_index: 0 } });

  // ---- threadpool --------------------------------------------------------
  let nextTask = 1;
  const tasks = [];
  let pending = []; // submitted, completion callback not run yet
  const workerFree = new Array(o.workers).fill(0);
  const workerNamed = new Array(o.workers).fill(false);
  const workerOrder = []; // worker slot -> worker number (first run order)
  const counterChanges = []; // [ns, dq, dr]

  // Decides where and when a task submitted at `at` runs (FIFO queue).
  let queueTail = 0; // the queue is FIFO: a task cannot start before the previous one
  function submit(at, label, kind, runNs) {
    const id = nextTask++;
    let w = 0;
    for (let i = 1; i < o.workers; i++) if (workerFree[i] < workerFree[w]) w = i;
    const start = Math.max(at + jitter(12_000), workerFree[w] + jitter(6_000), queueTail);
    queueTail = start;
    const end = start + jitter(runNs, 0.1);
    workerFree[w] = end;
    const t = { id, label, kind, submitAt: at, start, end, worker: w, doneAt: null };
    tasks.push(t);
    pending.push(t);
    counterChanges.push([at, 1, 0], [start, -1, 1], [end, 0, -1]);
    if (!workerNamed[w]) {
      workerNamed[w] = true;
      workerOrder[w] = workerOrder.filter((x) => x !== undefined).length + 1;
      const n = workerOrder[w];
      emit(end - 1, { name: "thread_name", ph: "M", pid: PID, tid: WORKER_TIDS[w],
                      args: { name: `worker ${n}` } });
      emit(end - 1, { name: "thread_sort_index", ph: "M", pid: PID, tid: WORKER_TIDS[w],
                      args: { sort_index: 100 + n } });
    }
    emit(end, span(label, "work", start, end - start, WORKER_TIDS[w],
                   { task: id, label, queue_wait_us: Number(us(start - at)) },
                   { bind_id: id, flow_in: true, flow_out: true }));
    return t;
  }

  // ---- the loop ------------------------------------------------------------
  let t = 40_000; // the first tick starts 40 µs into the recording
  let tick = 0;
  if (o.cutStart) {
    // Seen from ts 0: the tick, its poll phase, cut at start; the read
    // callback that began after the attach is whole.
    tick++;
    const end = 90_500_000;
    emit(end, span("tick", "tick", 0, end, LOOP_TID, { tick, cut: "start" }));
    emit(end, span("poll", "phase", 0, end - 100_000, LOOP_TID, { tick, cut: "start" }));
    emit(end, span("socket.read", "callback", 200_000, 90_000_000, LOOP_TID, { kind: "read" }));
    t = end + 40_000;
  }
  const firstTick = tick + 1;
  let intervalsLeft = o.intervals;
  let nextInterval = null;
  let immediates = 0;
  let closed = false;
  let libuvReported = false;

  while (true) {
    if (tick > 0 && pending.length === 0 && intervalsLeft === 0 &&
        immediates === 0 && closed) break;
    tick++;
    const tickStart = t;
    const spans = []; // this tick's loop spans, any order; sorted at the end
    const phase = (name, body, args) => {
      const a = t;
      t += 300; // libuv's own work around the callbacks
      const had = body();
      t += 200;
      if (had || name === "poll" || t - a >= 1000)
        spans.push(span(name, "phase", a, t - a, LOOP_TID, { tick, ...(args || {}) }));
    };
    const callback = (name, kind, runNs, extra, inner) => {
      const a = t;
      t += 2_000;
      if (inner) inner();
      t = Math.max(t, a + runNs);
      const args = { kind };
      if (extra && extra.task) args.task = extra.task;
      spans.push(span(name, "callback", a, t - a, LOOP_TID, args,
                      extra && extra.task ? { bind_id: extra.task, flow_in: true } : null));
    };

    // timers
    phase("timers", () => {
      let ran = false;
      if (tick === firstTick) {
        callback("setTimeout", "timer", 220_000, null, () => {
          for (let i = 0; i < o.tasks; i++) {
            t += 8_000;
            const label = o.labels ? o.labels[i % o.labels.length] : "pbkdf2";
            const s0 = t;
            const task = submit(s0, label, "crypto", o.runNs);
            t += 3_000;
            spans.push(span("submit", "submit", s0, t - s0, LOOP_TID,
                            { task: task.id, label }, { bind_id: task.id, flow_out: true }));
          }
          nextInterval = intervalsLeft > 0 ? t + o.intervalNs : null;
        });
        ran = true;
      } else if (nextInterval !== null && nextInterval <= t) {
        const n = o.intervals - intervalsLeft + 1;
        callback("setInterval", "interval", jitter(60_000), null, () => {
          if (o.fsEvery > 0 && n % o.fsEvery === 0) {
            const s0 = t;
            const task = submit(s0, "fs.read", "fs", o.fsRunNs);
            t += 2_500;
            spans.push(span("submit", "submit", s0, t - s0, LOOP_TID,
                            { task: task.id, label: "fs.read" },
                            { bind_id: task.id, flow_out: true }));
          }
          if (n % 3 === 0) immediates++;
        });
        intervalsLeft--;
        nextInterval = intervalsLeft > 0 ? nextInterval + o.intervalNs : null;
        ran = true;
      }
      return ran;
    });
    if (!libuvReported) {
      libuvReported = true;
      emit(t, { name: "looptrace", ph: "M", pid: PID, tid: LOOP_TID,
                args: { libuv_version: "1.44.2", threadpool_size: o.workers } });
    }

    // pending: every 5th tick a deferred write callback
    if (tick % 5 === 0) phase("pending", () => { callback("socket.write", "write", 9_000); return true; });

    // poll: block until a timer is due or a task completes, then run completions
    phase("poll", () => {
      let wake = nextInterval === null ? Infinity : nextInterval;
      for (const x of pending) wake = Math.min(wake, x.end + 25_000);
      const ready = pending;
      if (immediates > 0 || (intervalsLeft === 0 && ready.length === 0)) wake = t;
      if (wake === Infinity) wake = t;
      const a = t;
      if (wake > t) {
        t = wake;
        spans.push(span("wait", "wait", a, t - a, LOOP_TID, null));
      }
      let ran = false;
      for (const x of pending.slice()) {
        if (x.end + 25_000 <= t) {
          pending = pending.filter((y) => y !== x);
          x.doneAt = t;
          ran = true;
          callback(x.label, x.kind, jitter(x.kind === "crypto" ? 18_000 : 7_000), { task: x.id });
        }
      }
      return ran;
    });

    // check
    if (immediates > 0) {
      phase("check", () => {
        while (immediates > 0) {
          immediates--;
          callback("setImmediate", "immediate", jitter(30_000));
        }
        return true;
      });
    }

    // close: the interval is closed once it is done
    if (intervalsLeft === 0 && !closed && pending.length === 0) {
      phase("close", () => { callback("interval", "close", 4_000); return true; });
      closed = true;
    }

    t += 400;
    const tickSpan = span("tick", "tick", tickStart, t - tickStart, LOOP_TID, { tick });
    spans.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    emit(t, tickSpan);
    for (const s of spans) emit(t, s);
    t += 1_000; // between ticks
  }

  // Counters, coalesced per instant: {queued, running} whenever either changes.
  counterChanges.sort((a, b) => a[0] - b[0]);
  let queued = 0, running = 0;
  for (let i = 0; i < counterChanges.length; i++) {
    const [at, dq, dr] = counterChanges[i];
    queued += dq;
    running += dr;
    if (i + 1 < counterChanges.length && counterChanges[i + 1][0] === at) continue;
    emit(at, { name: "threadpool", ph: "C", ts: at, pid: PID, tid: LOOP_TID,
               args: { queued, running } });
  }

  if (o.cutEnd) {
    // Still running when the recording stopped: seen up to its last record.
    tick++;
    const a = t;
    const mark = o.legacyCut ? { incomplete: true } : { cut: "end" };
    emit(a + 125_000_000, span("tick", "tick", a, 125_000_000, LOOP_TID, { tick, ...mark }));
    emit(a + 125_000_000, span("timers", "phase", a + 300, 124_999_700, LOOP_TID, { tick, ...mark }));
    emit(a + 125_000_000, span("setInterval", "callback", a + 500, 124_999_500, LOOP_TID,
                               { kind: "interval", ...mark }));
    t = a + 125_000_000 - 5_000;
  }

  let drops = 0;
  for (const [at, records] of o.dropped) {
    drops += records;
    emit(at, { name: "dropped", cat: "looptrace", ph: "i", s: "p", ts: at, pid: PID, tid: LOOP_TID,
               args: { records } });
  }
  for (const [at, trigger, value] of o.triggers || []) {
    emit(at, { name: "trigger", cat: "looptrace", ph: "i", s: "g", ts: at, pid: PID, tid: LOOP_TID,
               args: { trigger, value_us: value } });
  }
  const endNs = t + 5_000;
  emit(endNs + 1, { name: "looptrace", ph: "M", pid: PID, tid: LOOP_TID, args: {
    duration_us: Number(us(endNs)), records: out.length * 2, drops,
    end_reason: "target-exited" } });

  out.sort((a, b) => a.at - b.at || a.order - b.order);
  const info = { tasks, ticks: tick, durationNs: endNs, workerTids: WORKER_TIDS.slice(0, o.workers),
                 pid: PID, loopTid: LOOP_TID };
  if (o.toFile) return { file: o.toFile, count: writeLines(o.toFile, out), info };
  const events = out.map((x) => x.ev);
  const lines = events.map((ev) => serialize(ev));
  const text = "[\n" + lines.join(",\n") + "\n]\n";
  // Parse back so tests see exactly what the file holds (µs as numbers).
  return {
    text, events: JSON.parse(text), info,
  };
}

// Writes the events of `out` to `file` in the tracer's layout, a batch of
// lines at a time (a 5M-event trace is larger than a string can be).
// Returns how many events it wrote.
function writeLines(file, out) {
  const fd = fs.openSync(file, "w");
  try {
    fs.writeSync(fd, "[\n");
    const BATCH = 20_000;
    for (let i = 0; i < out.length; i += BATCH) {
      const lines = out.slice(i, i + BATCH).map((x) => serialize(x.ev)).join(",\n");
      fs.writeSync(fd, (i > 0 ? ",\n" : "") + lines);
    }
    fs.writeSync(fd, "\n]\n");
  } finally {
    fs.closeSync(fd);
  }
  return out.length;
}

// One event as the exporter prints it: fixed key order, ns as "µs.nnn".
function serialize(ev) {
  const parts = [`"name":${JSON.stringify(ev.name)}`];
  if (ev.cat !== undefined) parts.push(`"cat":${JSON.stringify(ev.cat)}`);
  parts.push(`"ph":"${ev.ph}"`);
  if (ev.s !== undefined) parts.push(`"s":"${ev.s}"`);
  if (ev.ts !== undefined) parts.push(`"ts":${us(ev.ts)}`);
  if (ev.dur !== undefined) parts.push(`"dur":${us(ev.dur)}`);
  parts.push(`"pid":${ev.pid}`, `"tid":${ev.tid}`);
  if (ev.args !== undefined) parts.push(`"args":${JSON.stringify(ev.args)}`);
  for (const k of ["bind_id", "flow_in", "flow_out"])
    if (ev[k] !== undefined) parts.push(`"${k}":${JSON.stringify(ev[k])}`);
  return `{${parts.join(",")}}`;
}

// A trace of about `n` events for the benchmark: the same program, its
// interval firing often and submitting fs reads.
export function generateLargeTrace(n, toFile) {
  // About 11.6 events per interval: its tick, phases, callbacks, and every
  // 2nd one an fs task (submit, work, completion, counters).
  const intervals = Math.max(10, Math.round(n / 11.6));
  return generateTrace({ intervals, intervalNs: 400_000, fsEvery: 2, fsRunNs: 150_000,
                         runNs: 30_000_000, toFile });
}
