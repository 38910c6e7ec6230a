// model.js — events to what the timeline draws: lanes (one per thread,
// then async, counter and marker tracks per process), spans in typed arrays,
// and per-lane rows sorted by time so a frame can binary-search its window.
//
// build() runs the stages, each in its own file, one after the other:
//   ingest.js    read every event once, sort it by what it is, find the origin
//   spans.js     make spans (X, B/E and b/e pairs, instants) into typed arrays
//   nest.js      depth and rows per lane (overflow rows for partial overlaps)
//   counters.js  counter series
// then the inputs of the summary (each span's category, here), and
// flows.js draws arrows between the spans afterwards (main.js calls it).
// This file also answers the queries the other parts ask of a model.
//
// Times are integer nanoseconds since the trace's origin, so nesting
// tests are exact, as they are in the tracer.
"use strict";

const Model = (() => {
  const lowerBound = (arr, v, lo = 0, hi = arr.length) => {
    // First index in sorted `arr[lo, hi)` whose value is >= `v`.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (arr[mid] < v) lo = mid + 1; else hi = mid;
    }
    return lo;
  };

  // lowerBound(arr, v, lo), for a `v` likely near `lo`: it probes lo+1,
  // lo+3, lo+7, ... and then searches the last step, so finding the next
  // pixel's span costs O(log distance), not O(log n).
  const gallop = (arr, v, lo) => {
    let step = 1, hi = lo;
    while (hi < arr.length && arr[hi] < v) {
      lo = hi + 1;
      hi += step;
      step *= 2;
    }
    return lowerBound(arr, v, lo, Math.min(hi, arr.length));
  };

  // Returns the model of the events of Table `table`.
  function build(table, otherData) {
    const r = Ingest.read(table);
    const st = Spans.create(r);
    const warnings = [];
    const lanes = layLanes(r, st, warnings);
    return assemble(r, st, lanes, warnings, otherData);
  }

  // Lane order: processes by (sort index, pid); in each, threads by (sort
  // index, tid), then async spans, counters, process instants; global
  // instants last. Each lane gets its spans and rows.
  function layLanes(r, st, warnings) {
    const lanes = [];
    const newLane = (kind, p, tid, name, sortIndex) => {
      const lane = {
        index: lanes.length, kind, pid: p ? p.pid : null, tid, name,
        sortIndex, rows: [], depthRows: 0, overflowRows: 0, spanCount: 0,
        series: null,
      };
      lanes.push(lane);
      return lane;
    };
    const markerLane = (p, list, name) => {
      const lane = newLane("markers", p, null, name, null);
      Nest.pack(st.S, lane, list.map((k) => Spans.instant(st, k, lane.index)));
    };
    const procList = [...r.processes.values()].sort((a, b) =>
      rankCmp(a.sortIndex, b.sortIndex) || cmpId(a.pid, b.pid));
    for (const p of procList) {
      for (const t of threadsOf(r, p.pid)) {
        const lane = newLane("thread", p, t.tid,
                             t.name === null ? `thread ${t.tid}` : t.name, t.sortIndex);
        lane.threadName = t.name; // null without thread_name metadata
        const spills = Nest.nest(st.S, lane, Spans.ofThread(st, t, lane.index));
        if (spills > 0) warnings.push(overflowWarning(spills, lane));
      }
      if (r.asyncs.has(p.pid)) {
        const lane = newLane("async", p, null, "async", null);
        Nest.pack(st.S, lane, Spans.ofAsync(st, r.asyncs.get(p.pid), lane.index));
      }
      const cs = [...r.counters.values()].filter((c) => c.pid === p.pid)
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const c of cs) Counters.fill(r, newLane("counter", p, null, c.name, null), c);
      if (r.markers.has(p.pid)) markerLane(p, r.markers.get(p.pid), "process events");
    }
    if (r.markers.has("global")) markerLane(null, r.markers.get("global"), "global events");
    return lanes;
  }

  // The threads of process pid in lane order; without a sort index a
  // process's main thread (tid = pid) comes first.
  function threadsOf(r, pid) {
    const rank = (t) => (t.sortIndex !== null ? t.sortIndex
                                              : t.tid === t.pid ? -Infinity : null);
    return [...r.threads.values()].filter((t) => t.pid === pid)
      .sort((a, b) => rankCmp(rank(a), rank(b)) || cmpId(a.tid, b.tid));
  }

  function overflowWarning(spills, lane) {
    return `${spills} span${spills > 1 ? "s" : ""} on '${lane.name}' ` +
      "partly overlap the span they start in; drawn in an overflow row below the lane";
  }

  // What the reader should know about the file: events skipped, pairs
  // that do not match, phases not drawn.
  function readWarnings(r, unmatched) {
    const warnings = [];
    if (r.badTime > 0)
      warnings.push(`${r.badTime} events have no valid "ts" (skipped)`);
    if (unmatched.e > 0)
      warnings.push(`${unmatched.e} end events match no begin (ignored)`);
    if (unmatched.open > 0 || unmatched.asyncOpen > 0)
      warnings.push(`${unmatched.open + unmatched.asyncOpen} begin events ` +
                    "never end; drawn up to the end of the trace");
    if (r.ignored.size > 0) {
      const list = [...r.ignored].map(([ph, n]) => `${n} × '${ph}'`).join(", ");
      warnings.push(`events of phases this viewer does not draw: ${list}`);
    }
    return warnings;
  }

  // The summary's inputs: each span's category of ours (Vocab.CATEGORIES
  // index + 1; 0 for none), read from its cat once per distinct cat.
  function categories(S, strings) {
    const byCat = new Int16Array(strings.length).fill(-1); // a cat's string id -> its category
    const out = new Uint8Array(S.n);
    for (let s = 0; s < S.n; s++) {
      let c = byCat[S.cat[s]];
      if (c < 0) {
        c = Vocab.CATEGORIES.indexOf(Vocab.categoryOf(strings[S.cat[s]])) + 1;
        byCat[S.cat[s]] = c;
      }
      out[s] = c;
    }
    return out;
  }

  // The flight recorder's trigger instants (TRACE-FORMAT.md), in time
  // order: the spans of instants named "trigger" with our cat.
  function triggers(r, st) {
    const out = [];
    const scan = (list) => {
      for (const k of list) {
        if (r.strings[r.nameOf[k]] !== Vocab.INSTANT.TRIGGER || st.spanOfEvent[k] < 0) continue;
        const ev = r.event(k);
        if (ev.name === Vocab.INSTANT.TRIGGER && typeof ev.cat === "string" &&
            ev.cat.split(",").includes(Vocab.CAT_LOOPTRACE))
          out.push(st.spanOfEvent[k]);
      }
    };
    for (const list of r.markers.values()) scan(list);
    for (const t of r.threads.values()) scan(t.inst);
    return out.sort((a, b) => st.S.start[a] - st.S.start[b]);
  }

  function assemble(r, st, lanes, spillWarnings, otherData) {
    const threadLanes = new Map(); // "pid:tid" -> lane
    for (const lane of lanes)
      if (lane.kind === "thread") threadLanes.set(`${lane.pid}:${lane.tid}`, lane);
    return {
      table: r.table, eventCount: r.n, event: r.event, strings: r.strings,
      intern: r.intern, spans: st.S, kindOf: r.kindOf, kindNames: r.kindNames,
      endEv: st.endEv, lanes, colours: st.colours,
      warnings: spillWarnings.concat(readWarnings(r, st.unmatched)),
      facts: r.facts, otherData: otherData || null, sawLooptrace: r.sawLooptrace,
      processes: r.processes, flowV1: r.flowV1, markers: r.markers, origin: r.origin, threadLanes,
      threads: [...r.threads.values()],
      counts: { unmatchedE: st.unmatched.e, unendedB: st.unmatched.open },
      flowEvents: r.flowEvents, spanOfEvent: st.spanOfEvent, defaultPid: r.defaultPid,
      category: categories(st.S, r.strings),
      triggers: triggers(r, st),
      start: 0, end: Math.max(0, r.maxEnd - r.origin),
      stringId: (s) => r.stringIds.get(s),
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

  // The args of span `s`; a B/E pair merges both, the E's winning.
  function args(model, s) {
    const ev = model.event(model.spans.ev[s]);
    const k = model.endEv.get(s);
    if (k === undefined) return ev.args || {};
    return Object.assign({}, ev.args || {}, model.event(k).args || {});
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
    build, args, spanAt, enclosing, nextSpan, lowerBound, gallop, toNs: Table.toNs,
    cutOf: Spans.cutOf, FLAG_CUT_END: Spans.FLAG_CUT_END,
    FLAG_CUT_START: Spans.FLAG_CUT_START, FLAG_CUT: Spans.FLAG_CUT,
    FLAG_OVERFLOW: Spans.FLAG_OVERFLOW, FLAG_INSTANT: Spans.FLAG_INSTANT,
    FLAG_UNENDED: Spans.FLAG_UNENDED,
  };
})();
