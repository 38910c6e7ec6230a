// summary.js — the summary figures, defined exactly as in
// tracer/TRACE-FORMAT.md ("Summary figures", "The summary as JSON") so that
// the viewer and `looptrace stat --json` agree. This is the only place the
// viewer defines them; the summary panel and window.looptrace.summary()
// both read compute()'s object.
"use strict";

const Summary = (() => {
  const TOP_CALLBACKS = 10;
  const LONGEST_TICKS = 5;
  const TICK_CALLBACKS = 5;

  // Nearest rank on sorted values: pN = v[ceil(N/100 · n) − 1].
  function percentile(sorted, p) {
    if (sorted.length === 0) return null;
    const i = Math.max(0, Math.ceil((p / 100) * sorted.length) - 1);
    return sorted[Math.min(i, sorted.length - 1)];
  }

  // µs with at most three decimals, from ns (exact: the format is ns).
  const us = (ns) => (ns === null ? null : Math.round(ns) / 1000);
  const round = (v, digits) => {
    if (v === null || !Number.isFinite(v)) return null;
    const f = 10 ** digits;
    return Math.round(v * f) / f;
  };
  const numAsc = (a, b) => a - b;

  // Returns the summary object of `model`; `parseWarnings` are the reader's
  // (a file cut short, ...), listed first.
  function compute(model, parseWarnings) {
    const S = model.spans;
    const events = model.events;
    const missing = [];
    const cat = (name) => model.stringId(name);
    const TICK = cat("tick"), PHASE = cat("phase"), WAIT = cat("wait"),
      CALLBACK = cat("callback"), WORK = cat("work");

    // One pass over spans, by category; instants are not spans here.
    let minStart = Infinity, maxEnd = -Infinity;
    const ticks = [], phases = [], callbacks = [], works = [];
    let waitNs = 0;
    for (let s = 0; s < S.n; s++) {
      if (S.flags[s] & Model.FLAG_INSTANT) continue;
      const c = S.cat[s];
      if (S.start[s] < minStart) minStart = S.start[s];
      if (S.end[s] > maxEnd) maxEnd = S.end[s];
      if (c === TICK) ticks.push(s);
      else if (c === PHASE) phases.push(s);
      else if (c === WAIT) waitNs += S.end[s] - S.start[s];
      else if (c === CALLBACK) callbacks.push(s);
      else if (c === WORK) works.push(s);
    }
    const dur = (s) => S.end[s] - S.start[s];

    // Recording length: duration_us when the tracer wrote it.
    let recordingNs = null;
    const facts = model.facts;
    if (facts.duration_us !== undefined && Number.isFinite(Number(facts.duration_us))) {
      recordingNs = Model.toNs(facts.duration_us);
    } else if (maxEnd > -Infinity) {
      recordingNs = maxEnd - minStart;
    } else {
      missing.push("recording_us: no spans and no duration_us");
    }

    let tickNs = 0;
    for (const s of ticks) tickNs += dur(s);
    const tickDurs = ticks.map(dur).sort(numAsc);
    let loopUtilization = null;
    if (ticks.length === 0) {
      missing.push("loop_utilization, ticks, phase shares: no tick spans " +
                   "(not a looptrace recording?)");
    } else if (tickNs > 0) {
      loopUtilization = round(1 - waitNs / tickNs, 6);
    }
    const perS = recordingNs > 0 ? round(ticks.length / (recordingNs / 1e9), 3)
                                 : null;

    // Phases, in libuv's order for the recorded version.
    const order = Theme.phaseOrder(facts.libuv_version);
    const byPhase = new Map();
    for (const s of phases) {
      const name = model.strings[S.name[s]];
      if (!byPhase.has(name)) byPhase.set(name, []);
      byPhase.get(name).push(dur(s));
    }
    const phaseNames = [...byPhase.keys()].sort((a, b) => {
      const ia = order.indexOf(a), ib = order.indexOf(b);
      if (ia >= 0 && ib >= 0) return ia - ib;
      if (ia >= 0 || ib >= 0) return ia >= 0 ? -1 : 1;
      return a < b ? -1 : a > b ? 1 : 0;
    });
    const phaseRows = phaseNames.map((name) => {
      const v = byPhase.get(name).sort(numAsc);
      const total = v.reduce((a, b) => a + b, 0);
      return {
        name, count: v.length, total_us: us(total),
        share: tickNs > 0 ? round(total / tickNs, 6) : null,
        p50_us: us(percentile(v, 50)), p99_us: us(percentile(v, 99)),
        max_us: us(v[v.length - 1]),
      };
    });

    // Callbacks by (name, kind): count, total, self; the 10 heaviest.
    const kindOf = (s) => {
      const a = Model.args(model, s);
      return a.kind === undefined ? null : String(a.kind);
    };
    const groups = new Map();
    for (const s of callbacks) {
      const name = model.strings[S.name[s]];
      const kind = kindOf(s);
      const key = `${name}\0${kind}`;
      let g = groups.get(key);
      if (!g) groups.set(key, g = { name, kind, count: 0, total: 0, self: 0 });
      g.count++;
      g.total += dur(s);
      g.self += dur(s) - S.child[s];
    }
    const callbackRows = [...groups.values()]
      .sort((a, b) => b.total - a.total || cmp(a.name, b.name) ||
                      cmp(String(a.kind), String(b.kind)))
      .slice(0, TOP_CALLBACKS)
      .map((g) => ({ name: g.name, kind: g.kind, count: g.count,
                     total_us: us(g.total), self_us: us(g.self) }));

    const threadpool = threadpoolFigures(model, works, recordingNs, dur, missing);

    // The longest ticks and what ran in them.
    const longest = ticks.slice()
      .sort((a, b) => dur(b) - dur(a) || S.start[a] - S.start[b])
      .slice(0, LONGEST_TICKS)
      .map((t) => {
        const a = Model.args(model, t);
        const inside = callbacksIn(model, t, CALLBACK)
          .sort((x, y) => dur(y) - dur(x) || S.start[x] - S.start[y])
          .slice(0, TICK_CALLBACKS)
          .map((s) => ({ name: model.strings[S.name[s]], kind: kindOf(s),
                         dur_us: us(dur(s)) }));
        return { tick: a.tick === undefined ? null : a.tick,
                 ts_us: us(S.start[t] + model.origin), dur_us: us(dur(t)),
                 callbacks: inside };
      });

    // Drops: the tracer's count; a file cut short may lack it, then the
    // `dropped` instants written as losses were noticed.
    let drops = null;
    if (facts.drops !== undefined && Number.isFinite(Number(facts.drops))) {
      drops = Number(facts.drops);
    } else if (Object.keys(facts).length > 0 || hasCat(model, "looptrace")) {
      drops = 0;
      for (const ev of events) {
        if (ev.name === "dropped" && ev.cat === "looptrace" && ev.args)
          drops += Number(ev.args.records) || 0;
      }
    } else {
      missing.push("drops: no looptrace metadata in the file");
    }

    return {
      recording_us: us(recordingNs),
      loop_utilization: loopUtilization,
      ticks: {
        count: ticks.length, per_s: ticks.length > 0 ? perS : null,
        p50_us: us(percentile(tickDurs, 50)), p99_us: us(percentile(tickDurs, 99)),
        max_us: us(percentile(tickDurs, 100)),
      },
      phases: phaseRows,
      callbacks: callbackRows,
      threadpool,
      longest_ticks: longest,
      drops,
      warnings: parseWarnings.concat(model.warnings),
      missing,
    };
  }

  function threadpoolFigures(model, works, recordingNs, dur, missing) {
    const S = model.spans;
    if (works.length === 0) {
      missing.push("threadpool: no work spans");
      return { tasks: 0, queue_wait_us: null, run_us: null,
               peak_concurrency: 0, workers: [] };
    }
    const waits = [];
    for (const s of works) {
      const v = Number(Model.args(model, s).queue_wait_us);
      if (Model.args(model, s).queue_wait_us !== undefined && Number.isFinite(v))
        waits.push(Model.toNs(v));
    }
    waits.sort(numAsc);
    if (waits.length === 0) missing.push("threadpool.queue_wait_us: no submits recorded");
    const runs = works.map(dur).sort(numAsc);

    // Peak concurrency: sweep starts and ends; at one instant an end comes
    // before a start (intervals are [start, end)).
    const edges = [];
    for (const s of works) {
      edges.push([S.start[s], 1]);
      edges.push([S.end[s], -1]);
    }
    edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let running = 0, peak = 0;
    for (const [, d] of edges) {
      running += d;
      if (running > peak) peak = running;
    }

    const perLane = new Map();
    for (const s of works) {
      const lane = S.lane[s];
      let w = perLane.get(lane);
      if (!w) perLane.set(lane, w = { tasks: 0, busy: 0 });
      w.tasks++;
      w.busy += dur(s);
    }
    const workers = [...perLane.keys()].sort((a, b) => a - b).map((i) => {
      const lane = model.lanes[i];
      const w = perLane.get(i);
      return { name: lane.name, tid: lane.tid, tasks: w.tasks, busy_us: us(w.busy),
               busy_share: recordingNs > 0 ? round(w.busy / recordingNs, 6) : null };
    });
    return {
      tasks: works.length,
      queue_wait_us: waits.length === 0 ? null : {
        p50: us(percentile(waits, 50)), p99: us(percentile(waits, 99)),
        max: us(waits[waits.length - 1]) },
      run_us: { p50: us(percentile(runs, 50)), p99: us(percentile(runs, 99)) },
      peak_concurrency: peak,
      workers,
    };
  }

  // The spans of category `catId` inside tick `t`, on its lane, any depth.
  function callbacksIn(model, t, catId) {
    const S = model.spans;
    const lane = model.lanes[S.lane[t]];
    const out = [];
    for (let row = S.row[t] + 1; row < lane.depthRows; row++) {
      const r = lane.rows[row];
      for (let i = Model.lowerBound(r.start, S.start[t]);
           i < r.ids.length && r.start[i] < S.end[t]; i++) {
        const s = r.ids[i];
        if (S.cat[s] === catId && r.end[i] <= S.end[t]) out.push(s);
      }
    }
    return out;
  }

  function hasCat(model, name) {
    return model.stringId(name) !== undefined;
  }

  function cmp(a, b) {
    return a < b ? -1 : a > b ? 1 : 0;
  }

  // Data for the summary charts (not part of the JSON): loop utilization
  // over time in `bins` bins, the queue waits, per-worker busy time.
  function chartData(model, bins) {
    const S = model.spans;
    const TICK = model.stringId("tick"), WAIT = model.stringId("wait"),
      WORK = model.stringId("work");
    const span = Math.max(1, model.end - model.start);
    const tick = new Float64Array(bins), wait = new Float64Array(bins);
    const spread = (acc, a, b) => {
      // Adds the part of [a, b) that falls in each bin.
      const w = span / bins;
      let i = Math.max(0, Math.floor((a - model.start) / w));
      for (; i < bins; i++) {
        const lo = model.start + i * w, hi = lo + w;
        if (lo >= b) break;
        acc[i] += Math.max(0, Math.min(b, hi) - Math.max(a, lo));
      }
    };
    const waits = [];
    for (let s = 0; s < S.n; s++) {
      const c = S.cat[s];
      if (c === TICK) spread(tick, S.start[s], S.end[s]);
      else if (c === WAIT) spread(wait, S.start[s], S.end[s]);
      else if (c === WORK) {
        const v = Model.args(model, s).queue_wait_us;
        if (v !== undefined && Number.isFinite(Number(v))) waits.push(Number(v));
      }
    }
    const utilization = [];
    for (let i = 0; i < bins; i++)
      utilization.push(tick[i] > 0 ? 1 - wait[i] / tick[i] : null);
    return { utilization, binNs: span / bins, queueWaitsUs: waits };
  }

  return { compute, chartData, percentile };
})();
