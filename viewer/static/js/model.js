// model.js — events to what the timeline draws: lanes (one per thread,
// then async, counter and marker tracks per process), spans in typed arrays,
// and per-lane rows sorted by time so a frame can binary-search its window.
//
// Times are integer nanoseconds since the trace's first timestamp (the
// format's µs with three decimals are exactly ns), so nesting tests are
// exact, as they are in the tracer.
//
// Nesting follows Perfetto and catapult: spans of a thread sorted by
// (ts, −dur, file order), depth from a stack, intervals [ts, end). A span
// that partly overlaps the one it starts in cannot nest; it goes to an
// overflow row below the lane and the lane gets a warning.
"use strict";

const Model = (() => {
  // FLAG_CUT_END / FLAG_CUT_START: the recording's limits cut the span
  // (args "cut": "end" | "start" | "both", or the legacy "incomplete": true
  // = "end"); its duration is what was seen, a lower bound.
  // FLAG_UNENDED: from a B with no E (drawn to the end, or to an E that
  // closed an outer B); a span with no known end, left out of figures.
  const FLAG_CUT_END = 1, FLAG_OVERFLOW = 2, FLAG_INSTANT = 4,
    FLAG_UNENDED = 8, FLAG_CUT_START = 16;
  const FLAG_CUT = FLAG_CUT_END | FLAG_CUT_START;

  // The cut flags of an event's args (TRACE-FORMAT.md, "Cut spans").
  function cutFlags(args) {
    switch (args.cut) {
      case "end": return FLAG_CUT_END;
      case "start": return FLAG_CUT_START;
      case "both": return FLAG_CUT;
      default: return args.incomplete === true ? FLAG_CUT_END : 0;
    }
  }

  // "start", "end", "both" or null, from a span's flags.
  function cutOf(flags) {
    const c = flags & FLAG_CUT;
    return c === FLAG_CUT ? "both" : c === FLAG_CUT_END ? "end"
      : c === FLAG_CUT_START ? "start" : null;
  }

  // First index in sorted `arr[lo, hi)` whose value is >= `v`.
  function lowerBound(arr, v, lo = 0, hi = arr.length) {
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (arr[mid] < v) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  function toNs(v) {
    const n = typeof v === "number" ? v : Number(v);
    return Number.isFinite(n) ? Math.round(n * 1000) : NaN;
  }

  // Returns the model of `events` (the parsed array, kept for args).
  function build(events, otherData) {
    const strings = [];
    const stringIds = new Map();
    let lastString = null, lastId = -1; // names repeat in runs: skip the Map
    const intern = (s) => {
      if (s === lastString) return lastId;
      const key = s === undefined || s === null ? "" : String(s);
      let id = stringIds.get(key);
      if (id === undefined) {
        id = strings.length;
        strings.push(key);
        stringIds.set(key, id);
      }
      if (typeof s === "string") {
        lastString = s;
        lastId = id;
      }
      return id;
    };

    const warnings = [];
    const facts = {}; // the `looptrace` metadata, merged (TRACE-FORMAT.md)
    const processes = new Map(); // pid -> {pid, name, sortIndex}
    const threads = new Map(); // "pid:tid" -> thread record
    const counters = new Map(); // "pid:name:id" -> counter record
    const asyncs = new Map(); // pid -> [event index] of b/e
    const markers = new Map(); // pid (or "global") -> [event index]
    const flowV1 = [];
    let badTime = 0;
    let ignored = new Map(); // ph -> count
    let minTs = Infinity;
    let maxEnd = -Infinity;
    let sawLooptrace = false;
    let lastCounter = null;

    const proc = (pid) => {
      let p = processes.get(pid);
      if (!p) {
        p = { pid, name: null, sortIndex: null };
        processes.set(pid, p);
      }
      return p;
    };
    let lastThread = null; // events come in runs of one thread
    const thread = (pid, tid) => {
      if (lastThread && lastThread.pid === pid && lastThread.tid === tid) return lastThread;
      const key = `${pid}:${tid}`;
      let t = threads.get(key);
      if (!t) {
        proc(pid);
        t = { pid, tid, name: null, sortIndex: null, x: [], be: [], inst: [] };
        threads.set(key, t);
      }
      return (lastThread = t);
    };
    // What later passes need of each event, read once here: at 1M events
    // of many shapes every property read is a slow (megamorphic) load.
    // Times in ns (NaN: no valid ts); name and cat as string ids; the
    // callback kind as a small id (0: none).
    const n = events.length;
    const tsNs = new Float64Array(n).fill(NaN);
    const durNs = new Float64Array(n);
    const nameOf = new Int32Array(n);
    const catOf = new Int32Array(n);
    const kindOf = new Uint16Array(n);
    const cut = new Uint8Array(n); // FLAG_CUT_* from the args
    const flowEvents = []; // events with a bind_id (flow v2)
    const spanOfEvent = new Int32Array(n).fill(-1);
    const kindIds = new Map();
    const kindNames = [undefined];

    // An event without a pid belongs to the trace's first process.
    let defaultPid = 0;
    for (let k = 0; k < events.length; k++) {
      if (events[k].pid !== undefined) {
        defaultPid = events[k].pid;
        break;
      }
    }

    // Pass 1: sort events by what they are, find the time origin.
    for (let k = 0; k < events.length; k++) {
      const ev = events[k];
      const ph = ev.ph;
      const pid = ev.pid === undefined ? defaultPid : ev.pid;
      const tid = ev.tid === undefined || ev.tid === 0 ? pid : ev.tid;
      if (ph === "M") {
        metadata(ev, pid, tid);
        continue;
      }
      const ts = toNs(ev.ts);
      if (Number.isNaN(ts)) {
        badTime++;
        continue;
      }
      tsNs[k] = ts;
      if (ts < minTs) minTs = ts;
      nameOf[k] = intern(ev.name);
      catOf[k] = intern(ev.cat);
      const args = ev.args;
      if (args !== undefined && args !== null) {
        const kind = args.kind;
        if (kind !== undefined) {
          let id = kindIds.get(kind);
          if (id === undefined) {
            id = kindNames.length;
            kindNames.push(kind);
            kindIds.set(kind, id);
          }
          kindOf[k] = id;
        }
        if (args.cut !== undefined || args.incomplete !== undefined)
          cut[k] = cutFlags(args);
      }
      if (ev.bind_id !== undefined) flowEvents.push(k);
      let end = ts;
      switch (ph) {
        case "X": {
          const d = toNs(ev.dur);
          if (d > 0) {
            end = ts + d;
            durNs[k] = d;
          }
          thread(pid, tid).x.push(k);
          break;
        }
        case "B": case "E":
          thread(pid, tid).be.push(k);
          break;
        case "i": case "I": case "R": {
          const scope = ph === "R" ? "g" : ev.s || "t";
          if (scope === "t") {
            thread(pid, tid).inst.push(k);
          } else {
            const key = scope === "g" ? "global" : pid;
            if (scope !== "g") proc(pid);
            if (!markers.has(key)) markers.set(key, []);
            markers.get(key).push(k);
          }
          break;
        }
        case "C": {
          let c = lastCounter;
          if (!c || c.pid !== pid || c.rawName !== ev.name || c.id !== ev.id) {
            const key = `${pid}:${ev.name}:${ev.id === undefined ? "" : ev.id}`;
            c = counters.get(key);
          }
          if (!c) {
            proc(pid);
            c = { pid, rawName: ev.name, id: ev.id,
                  name: ev.id === undefined ? String(ev.name) : `${ev.name} ${ev.id}`,
                  events: [] };
            counters.set(`${pid}:${ev.name}:${ev.id === undefined ? "" : ev.id}`, c);
          }
          lastCounter = c;
          c.events.push(k);
          break;
        }
        case "b": case "e":
          proc(pid);
          if (!asyncs.has(pid)) asyncs.set(pid, []);
          asyncs.get(pid).push(k);
          break;
        case "s": case "t": case "f":
          flowV1.push(k);
          thread(pid, tid);
          break;
        default:
          ignored.set(ph, (ignored.get(ph) || 0) + 1);
      }
      if (end > maxEnd) maxEnd = end;
    }
    if (minTs === Infinity) {
      minTs = 0;
      maxEnd = 0;
    }
    // Our recordings are rebased (ts 0 = the recording's start): keep their
    // clock. Other producers' clocks start anywhere: begin at the first event.
    const origin = sawLooptrace ? Math.min(0, minTs) : minTs;

    function metadata(ev, pid, tid) {
      const args = ev.args || {};
      switch (ev.name) {
        case "process_name": proc(pid).name = String(args.name); break;
        case "process_sort_index": proc(pid).sortIndex = +args.sort_index; break;
        case "thread_name": thread(pid, tid).name = String(args.name); break;
        case "thread_sort_index":
          thread(pid, tid).sortIndex = +args.sort_index;
          break;
        case "looptrace": // several; a later key wins
          Object.assign(facts, args);
          sawLooptrace = true;
          break;
        default: break;
      }
    }

    // Pass 2: spans into typed arrays. Upper bound: every X, B, instant, b.
    let cap = 0;
    for (const t of threads.values()) cap += t.x.length + t.be.length + t.inst.length;
    for (const list of asyncs.values()) cap += list.length;
    for (const list of markers.values()) cap += list.length;
    const S = {
      n: 0,
      start: new Float64Array(cap),
      end: new Float64Array(cap),
      name: new Int32Array(cap),
      cat: new Int32Array(cap),
      lane: new Int32Array(cap),
      row: new Int32Array(cap),
      depth: new Int32Array(cap),
      parent: new Int32Array(cap),
      child: new Float64Array(cap), // Σ dur of direct children
      ev: new Int32Array(cap),
      colour: new Uint8Array(cap),
      flags: new Uint8Array(cap),
    };
    const endEv = new Map(); // span of a B/E pair -> index of its E
    const colours = [];
    const colourIds = new Map();
    const colourCache = new Map(); // cat -> (name, kind, instant) -> colour index

    const newSpan = (k, ts, end, laneIdx, flags) => {
      const s = S.n++;
      S.start[s] = ts - origin;
      S.end[s] = end - origin;
      S.name[s] = nameOf[k];
      S.cat[s] = catOf[k];
      S.lane[s] = laneIdx;
      S.ev[s] = k;
      S.flags[s] = flags;
      S.parent[s] = -1;
      spanOfEvent[k] = s;
      const kindId = kindOf[k];
      // A cache per category keyed by a small integer (a string key per
      // span would churn the GC at 1M spans).
      const instant = flags & FLAG_INSTANT ? 1 : 0;
      let byCat = colourCache.get(S.cat[s]);
      if (!byCat) colourCache.set(S.cat[s], byCat = new Map());
      const key = S.name[s] < 262144 && kindId < 1024
        ? (S.name[s] * 1024 + kindId) * 2 + instant
        : `${S.name[s]}:${kindId}:${instant}`;
      let c = byCat.get(key);
      if (c === undefined) {
        const ev = events[k];
        const css = (flags & FLAG_INSTANT) ? Theme.INSTANT_COLOUR
          : Theme.spanColour(ev.cat, String(ev.name), kindNames[kindId]);
        c = colourIds.get(css);
        if (c === undefined) {
          c = colours.length;
          colours.push(css);
          colourIds.set(css, c);
        }
        byCat.set(key, c);
      }
      S.colour[s] = c;
      return s;
    };

    // Lane order: processes by (sort index, pid); in each, threads by
    // (sort index, tid), then async spans, counters, process instants.
    const lanes = [];
    // Without a sort index a process's main thread (tid = pid) comes first.
    const threadRank = (t) => (t.sortIndex !== null ? t.sortIndex
                                                    : t.tid === t.pid ? -Infinity : null);
    const procList = [...processes.values()].sort((a, b) =>
      rankCmp(a.sortIndex, b.sortIndex) || cmpId(a.pid, b.pid));
    const unmatched = { e: 0, open: 0, asyncOpen: 0 };
    for (const p of procList) {
      const ts = [...threads.values()].filter((t) => t.pid === p.pid)
        .sort((a, b) => rankCmp(threadRank(a), threadRank(b)) || cmpId(a.tid, b.tid));
      for (const t of ts) {
        const lane = newLane("thread", p, t.tid,
                             t.name === null ? `thread ${t.tid}` : t.name,
                             t.sortIndex);
        lane.threadName = t.name; // null without thread_name metadata
        const ids = threadSpans(t, lane.index);
        nest(lane, ids);
      }
      if (asyncs.has(p.pid)) {
        const lane = newLane("async", p, null, "async", null);
        pack(lane, asyncSpans(asyncs.get(p.pid), lane.index));
      }
      const cs = [...counters.values()].filter((c) => c.pid === p.pid)
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const c of cs) counterLane(p, c);
      if (markers.has(p.pid)) {
        const lane = newLane("markers", p, null, "process events", null);
        pack(lane, markers.get(p.pid).map((k) =>
          instant(k, lane.index)));
      }
    }
    if (markers.has("global")) {
      const lane = newLane("markers", null, null, "global events", null);
      pack(lane, markers.get("global").map((k) => instant(k, lane.index)));
    }

    function newLane(kind, p, tid, name, sortIndex) {
      const lane = {
        index: lanes.length, kind, pid: p ? p.pid : null, tid, name,
        sortIndex, rows: [], depthRows: 0, overflowRows: 0, spanCount: 0,
        series: null,
      };
      lanes.push(lane);
      return lane;
    }

    function instant(k, laneIdx) {
      return newSpan(k, tsNs[k], tsNs[k], laneIdx, FLAG_INSTANT);
    }

    // The spans of one thread: X events, B/E pairs, thread instants.
    function threadSpans(t, laneIdx) {
      const ids = [];
      for (const k of t.x) {
        ids.push(newSpan(k, tsNs[k], tsNs[k] + durNs[k], laneIdx,
                         cut[k]));
      }
      for (const k of t.inst) ids.push(instant(k, laneIdx));
      if (t.be.length > 0) pairBeginEnd(t.be, laneIdx, ids);
      return ids;
    }

    // B/E: an E closes the innermost open B whose name and cat match those
    // the E gives (any B when it gives none), like Perfetto. B/E timestamps
    // must grow within a thread; a stable sort by ts forgives files that
    // are not quite in order.
    function pairBeginEnd(list, laneIdx, ids) {
      const ts = list.map((k) => tsNs[k]);
      const order = list.map((_, i) => i);
      order.sort((a, b) => ts[a] - ts[b] || a - b);
      const open = [];
      for (const i of order) {
        const k = list[i];
        const ev = events[k];
        if (ev.ph === "B") {
          open.push(i);
          continue;
        }
        let j = open.length - 1;
        const matches = (b) => (ev.name === undefined || b.name === ev.name) &&
                               (ev.cat === undefined || b.cat === ev.cat);
        while (j >= 0 && !matches(events[list[open[j]]])) j--;
        if (j < 0) {
          unmatched.e++;
          continue;
        }
        // Slices left open above the match end here too (Perfetto truncates).
        while (open.length > j) {
          const b = open.pop();
          const never = open.length > j; // not the one this E ends
          if (never) unmatched.open++;
          const s = newSpan(list[b], ts[b], ts[i], laneIdx,
                            never ? FLAG_CUT_END | FLAG_UNENDED : cut[list[b]]);
          endEv.set(s, k);
          spanOfEvent[k] = s;
          ids.push(s);
        }
      }
      for (const b of open) {
        unmatched.open++;
        ids.push(newSpan(list[b], ts[b], maxEnd, laneIdx, FLAG_CUT_END | FLAG_UNENDED));
      }
    }

    // Async b/e pairs, matched on (cat, id, name) as catapult does.
    function asyncSpans(list, laneIdx) {
      const open = new Map();
      const ids = [];
      for (const k of list) {
        const ev = events[k];
        const id = ev.id !== undefined ? ev.id
          : ev.id2 ? (ev.id2.local !== undefined ? ev.id2.local : ev.id2.global)
          : "";
        const key = `${ev.cat}\0${id}\0${ev.name}`;
        if (ev.ph === "b") {
          if (!open.has(key)) open.set(key, []);
          open.get(key).push(k);
        } else {
          const stack = open.get(key);
          if (!stack || stack.length === 0) {
            unmatched.e++;
            continue;
          }
          const b = stack.pop();
          const s = newSpan(b, tsNs[b], tsNs[k], laneIdx, 0);
          endEv.set(s, k);
          spanOfEvent[k] = s;
          ids.push(s);
        }
      }
      for (const stack of open.values()) {
        for (const b of stack) {
          unmatched.asyncOpen++;
          ids.push(newSpan(b, tsNs[b], maxEnd, laneIdx,
                           FLAG_CUT_END | FLAG_UNENDED));
        }
      }
      return ids;
    }

    // Sorts a lane's spans by (start, −dur, file order), unless they already
    // are: the tracer writes each thread in that order, so this is a scan.
    function sortSpans(ids) {
      const before = (a, b) => S.start[a] - S.start[b] ||
        (S.end[b] - S.start[b]) - (S.end[a] - S.start[a]) || S.ev[a] - S.ev[b];
      for (let i = 1; i < ids.length; i++) {
        if (before(ids[i - 1], ids[i]) > 0) {
          ids.sort(before);
          break;
        }
      }
    }

    // Depth by a stack over sorted spans; partial overlaps to overflow rows.
    function nest(lane, ids) {
      sortSpans(ids);
      const stack = [];
      const overflowEnds = [];
      let maxDepth = -1;
      let spills = 0;
      for (let i = 0; i < ids.length; i++) {
        const s = ids[i];
        const st = S.start[s];
        while (stack.length > 0 && S.end[stack[stack.length - 1]] <= st)
          stack.pop();
        const top = stack.length > 0 ? stack[stack.length - 1] : -1;
        if (top >= 0 && S.end[s] > S.end[top]) {
          let r = 0;
          while (r < overflowEnds.length && overflowEnds[r] > st) r++;
          overflowEnds[r] = S.end[s];
          S.row[s] = -1 - r;
          S.depth[s] = -1;
          S.flags[s] |= FLAG_OVERFLOW;
          spills++;
          continue;
        }
        S.depth[s] = stack.length;
        S.row[s] = stack.length;
        if (top >= 0) {
          S.parent[s] = top;
          S.child[top] += S.end[s] - st;
        }
        if (stack.length > maxDepth) maxDepth = stack.length;
        stack.push(s);
      }
      lane.depthRows = maxDepth + 1;
      lane.overflowRows = overflowEnds.length;
      for (let i = 0; i < ids.length; i++) {
        const s = ids[i];
        if (S.row[s] < 0) S.row[s] = lane.depthRows + (-1 - S.row[s]);
      }
      fillRows(lane, ids);
      if (spills > 0) {
        warnings.push(`${spills} span${spills > 1 ? "s" : ""} on '${lane.name}' ` +
                      "partly overlap the span they start in; drawn in an " +
                      "overflow row below the lane");
      }
    }

    // Greedy rows for spans that do not nest (async, markers).
    function pack(lane, ids) {
      sortSpans(ids);
      const ends = [];
      for (const s of ids) {
        let r = 0;
        while (r < ends.length && ends[r] > S.start[s]) r++;
        ends[r] = Math.max(S.end[s], S.start[s] + 1);
        S.row[s] = r;
        S.depth[s] = r;
      }
      lane.depthRows = ends.length;
      fillRows(lane, ids);
    }

    // Per-row arrays in start order (ids are sorted, so each row is too);
    // rows hold disjoint spans, so `end` is sorted as well.
    function fillRows(lane, ids) {
      const nrows = lane.depthRows + lane.overflowRows;
      const counts = new Int32Array(nrows);
      for (const s of ids) counts[S.row[s]]++;
      const rows = [];
      for (let r = 0; r < nrows; r++) {
        rows.push({ ids: new Int32Array(counts[r]),
                    start: new Float64Array(counts[r]),
                    end: new Float64Array(counts[r]) });
      }
      const fill = new Int32Array(nrows);
      for (const s of ids) {
        const r = S.row[s];
        const row = rows[r];
        const i = fill[r]++;
        row.ids[i] = s;
        row.start[i] = S.start[s];
        row.end[i] = S.end[s];
      }
      lane.rows = rows;
      lane.spanCount = ids.length;
    }

    function counterLane(p, c) {
      const lane = newLane("counter", p, null, c.name, null);
      const list = c.events; // file order; sorted below unless it already is
      for (let i = 1; i < list.length; i++) {
        if (tsNs[list[i]] < tsNs[list[i - 1]]) {
          list.sort((a, b) => tsNs[a] - tsNs[b] || a - b);
          break;
        }
      }
      const keys = new Set();
      for (const k of list) {
        const args = events[k].args;
        for (const key in args) keys.add(key);
      }
      const n = list.length;
      lane.series = [...keys].map((key, i) => ({
        key, colour: seriesColour(i),
        ts: new Float64Array(n), val: new Float64Array(n), max: 0,
      }));
      for (const ser of lane.series) {
        let last = 0; // a sample without this key keeps its value
        const key = ser.key;
        for (let i = 0; i < n; i++) {
          const args = events[list[i]].args;
          const v = args ? Number(args[key]) : NaN;
          if (Number.isFinite(v)) last = v;
          ser.ts[i] = tsNs[list[i]] - origin;
          ser.val[i] = last;
          if (last > ser.max) ser.max = last;
        }
      }
      lane.spanCount = 0;
      lane.samples = n;
    }

    if (badTime > 0)
      warnings.push(`${badTime} events have no valid "ts" (skipped)`);
    if (unmatched.e > 0)
      warnings.push(`${unmatched.e} end events match no begin (ignored)`);
    if (unmatched.open > 0 || unmatched.asyncOpen > 0)
      warnings.push(`${unmatched.open + unmatched.asyncOpen} begin events ` +
                    "never end; drawn up to the end of the trace");
    if (ignored.size > 0) {
      const list = [...ignored].map(([ph, n]) => `${n} × '${ph}'`).join(", ");
      warnings.push(`events of phases this viewer does not draw: ${list}`);
    }

    const threadLanes = new Map(); // "pid:tid" -> lane
    for (const lane of lanes)
      if (lane.kind === "thread") threadLanes.set(`${lane.pid}:${lane.tid}`, lane);

    return {
      events, strings, intern, spans: S, endEv, lanes, colours, warnings,
      facts, otherData: otherData || null, sawLooptrace, processes, flowV1,
      origin, threadLanes, threads: [...threads.values()],
      counts: { unmatchedE: unmatched.e, unendedB: unmatched.open },
      flowEvents, spanOfEvent, defaultPid,
      start: 0, end: Math.max(0, maxEnd - origin),
      stringId: (s) => stringIds.get(s),
    };
  }

  // Orders numbers, null last; equal infinities are equal (not NaN).
  function rankCmp(a, b) {
    const x = a === null ? Infinity : a, y = b === null ? Infinity : b;
    return x === y ? 0 : x < y ? -1 : 1;
  }

  function cmpId(a, b) {
    const x = Number(a), y = Number(b);
    if (Number.isFinite(x) && Number.isFinite(y)) return x - y;
    return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
  }

  const SERIES_COLOURS = ["#e8a33d", "#4a90d9", "#59a14f", "#e15759",
                          "#b07aa1", "#76b7b2"];
  function seriesColour(i) {
    return SERIES_COLOURS[i % SERIES_COLOURS.length];
  }

  // The args of span `s`; a B/E pair merges both, the E's winning.
  function args(model, s) {
    const ev = model.events[model.spans.ev[s]];
    const k = model.endEv.get(s);
    if (k === undefined) return ev.args || {};
    return Object.assign({}, ev.args || {}, model.events[k].args || {});
  }

  // The span of `lane` covering time `t` at `row`, or within `tol` ns of it
  // (the nearest), or -1.
  function spanAt(model, lane, row, t, tol) {
    const r = lane.rows[row];
    if (!r || r.ids.length === 0) return -1;
    let i = lowerBound(r.end, t - tol);
    let best = -1;
    let bestDist = Infinity;
    for (; i < r.ids.length && r.start[i] <= t + tol; i++) {
      const d = t < r.start[i] ? r.start[i] - t : t > r.end[i] ? t - r.end[i] : 0;
      if (d < bestDist) {
        bestDist = d;
        best = r.ids[i];
      }
    }
    return best;
  }

  // The deepest span of `lane` containing `t` ([start, end]), or -1.
  function enclosing(model, lane, t) {
    for (let row = lane.depthRows - 1; row >= 0; row--) {
      const r = lane.rows[row];
      const i = lowerBound(r.end, t);
      if (i < r.ids.length && r.start[i] <= t) return r.ids[i];
    }
    return -1;
  }

  // The first span of `lane` starting at or after `t`, or -1.
  function nextSpan(model, lane, t) {
    let best = -1;
    for (let row = 0; row < lane.depthRows; row++) {
      const r = lane.rows[row];
      const i = lowerBound(r.start, t);
      if (i < r.ids.length &&
          (best < 0 || r.start[i] < model.spans.start[best])) best = r.ids[i];
    }
    return best;
  }

  return {
    build, args, spanAt, enclosing, nextSpan, lowerBound, toNs, cutOf,
    FLAG_CUT_END, FLAG_CUT_START, FLAG_CUT, FLAG_OVERFLOW, FLAG_INSTANT,
    FLAG_UNENDED,
  };
})();
