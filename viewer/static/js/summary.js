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
  const numAsc = (a, b) => a - b;

  const CAT = Vocab.CAT, ARG = Vocab.ARG, META = Vocab.META;
  // Our category of a span, by its index in model.category (0: none).
  const CATEGORY = [null].concat(Vocab.CATEGORIES);

  // A string arg or null (as `looptrace stat` reads `kind`).
  function strArg(args, key) {
    const v = args[key];
    return typeof v === "string" && v !== "" ? v : null;
  }
  function intArg(args, key) {
    const v = args[key];
    return typeof v === "number" && Number.isInteger(v) ? v : null;
  }

  // Returns the summary object of `model`; `parseWarnings` are the reader's
  // (a file cut short, ...), listed first. A figure that cannot be computed
  // is null and `missing` says why, in the words `looptrace stat` uses.
  function compute(model, parseWarnings) {
    const S = model.spans;
    const missing = [];
    const facts = model.facts;

    // One pass over spans, by kind. Instants are not spans; a B that never
    // ended has no duration to count; async (b/e) spans belong to no thread
    // and are not counted either (as in `looptrace stat`).
    const onThread = model.lanes.map((l) => l.kind === "thread");
    const category = (s) => CATEGORY[model.category[s]];
    let minStart = Infinity, maxEnd = -Infinity;
    const ticks = [], phases = [], callbacks = [], works = [];
    let waitNs = 0;
    const waitIn = new Map(); // tick span -> Σ dur of the waits inside it
    for (let s = 0; s < S.n; s++) {
      if (S.flags[s] & (Model.FLAG_INSTANT | Model.FLAG_UNENDED) || !onThread[S.lane[s]]) continue;
      const kind = category(s);
      if (S.start[s] < minStart) minStart = S.start[s];
      if (S.end[s] > maxEnd) maxEnd = S.end[s];
      if (kind === CAT.TICK) ticks.push(s);
      else if (kind === CAT.PHASE) phases.push(s);
      else if (kind === CAT.WAIT) {
        waitNs += S.end[s] - S.start[s];
        addToTick(s, S.end[s] - S.start[s]);
      }
      else if (kind === CAT.CALLBACK) callbacks.push(s);
      else if (kind === CAT.WORK) works.push(s);
    }
    const dur = (s) => S.end[s] - S.start[s];
    // A cut span counts for the time it was seen, but never as a complete
    // one: not in a percentile or a max, never ranked (TRACE-FORMAT.md).
    const whole = (s) => (S.flags[s] & Model.FLAG_CUT) === 0;

    // Busy time = a tick's duration minus its waits: what blocked the loop.
    function addToTick(s, ns) {
      let p = S.parent[s];
      while (p >= 0 && category(p) !== CAT.TICK) p = S.parent[p];
      if (p >= 0) waitIn.set(p, (waitIn.get(p) || 0) + ns);
    }
    const busy = (t) => dur(t) - Math.min(dur(t), waitIn.get(t) || 0);

    // Recording length: duration_us when the tracer wrote it.
    let recordingNs = null;
    const d = Number(facts[META.DURATION_US]);
    if (facts[META.DURATION_US] !== undefined && Number.isFinite(d) && d >= 0) {
      recordingNs = Model.toNs(d);
    } else if (maxEnd > -Infinity) {
      recordingNs = maxEnd - minStart;
    } else {
      missing.push("recording_us: no spans and no duration_us");
    }

    let tickNs = 0;
    for (const s of ticks) tickNs += dur(s);
    const wholeTicks = ticks.filter(whole);
    const tickDurs = wholeTicks.map(dur).sort(numAsc);
    const loopUtilization = tickNs > 0 ? Math.max(0, 1 - waitNs / tickNs) : null;
    const perS = ticks.length > 0 && recordingNs > 0
      ? ticks.length / (recordingNs / 1e9) : null;
    if (ticks.length === 0) {
      missing.push(`loop_utilization: no spans with cat "${CAT.TICK}"`, `ticks: no spans with cat "${CAT.TICK}"`);
    } else {
      if (loopUtilization === null) missing.push("loop_utilization: the ticks last no time");
      if (perS === null) missing.push("ticks.per_s: the recording length is unknown or 0");
      if (wholeTicks.length === 0) missing.push("ticks.p50_us, p99_us, max_us: every tick is cut");
    }

    // Phases, in libuv's order for the recorded version; names libuv does
    // not have come after, in the order they first appear.
    const order = Vocab.phaseOrder(facts[META.LIBUV_VERSION]);
    const byPhase = new Map();
    for (const s of phases.slice().sort((a, b) => S.ev[a] - S.ev[b])) {
      const name = model.strings[S.name[s]];
      if (!byPhase.has(name)) byPhase.set(name, { count: 0, total: 0, whole: [] });
      const row = byPhase.get(name);
      row.count++;
      row.total += dur(s);
      if (whole(s)) row.whole.push(dur(s));
    }
    const rank = (name) => (order.includes(name) ? order.indexOf(name) : order.length);
    const phaseNames = [...byPhase.keys()];
    phaseNames.sort((a, b) => rank(a) - rank(b) || phaseNames.indexOf(a) - phaseNames.indexOf(b));
    const phaseRows = phaseNames.map((name) => {
      const row = byPhase.get(name);
      const v = row.whole.sort(numAsc);
      return {
        name, count: row.count, total_us: us(row.total),
        share: tickNs > 0 ? row.total / tickNs : null,
        p50_us: us(percentile(v, 50)), p99_us: us(percentile(v, 99)),
        max_us: us(percentile(v, 100)),
      };
    });
    for (const p of phaseRows)
      if (p.p50_us === null) missing.push(`phases.p50_us, p99_us, max_us of ${p.name}: every span is cut`);
    if (phaseRows.length === 0) missing.push(`phases: no spans with cat "${CAT.PHASE}"`);
    else if (tickNs === 0) missing.push("phases.share: no tick time to share");

    // Callbacks by (name, kind): count, total, self; the 10 heaviest.
    const kindOf = (s) => {
      const kind = model.kindNames[model.kindOf[S.ev[s]]];
      return typeof kind === "string" && kind !== "" ? kind : null;
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
      g.self += dur(s) - Math.min(S.child[s], dur(s));
    }
    const callbackRows = [...groups.values()]
      .sort((a, b) => b.total - a.total || cmp(a.name, b.name) ||
                      (a.kind === null || b.kind === null
                        ? (a.kind !== null) - (b.kind !== null) : cmp(a.kind, b.kind)))
      .slice(0, TOP_CALLBACKS)
      .map((g) => ({ name: g.name, kind: g.kind, count: g.count,
                     total_us: us(g.total), self_us: us(g.self) }));
    if (callbackRows.length === 0) missing.push(`callbacks: no spans with cat "${CAT.CALLBACK}"`);

    const threadpool = threadpoolFigures(model, works, recordingNs, dur, missing);

    // The ticks that blocked the loop longest (most busy time first, then
    // earliest; cut ticks never) and their longest callbacks, at any depth.
    const CALLBACK_CAT = (s) => category(s) === CAT.CALLBACK;
    const longest = wholeTicks
      .sort((a, b) => busy(b) - busy(a) || S.start[a] - S.start[b])
      .slice(0, LONGEST_TICKS)
      .map((t) => {
        const inside = spansIn(model, t, CALLBACK_CAT)
          .sort((x, y) => dur(y) - dur(x) || S.start[x] - S.start[y])
          .slice(0, TICK_CALLBACKS)
          .map((s) => ({ name: model.strings[S.name[s]], kind: kindOf(s),
                         dur_us: us(dur(s)) }));
        return { tick: intArg(Model.args(model, t), ARG.TICK),
                 ts_us: us(S.start[t] + model.origin), dur_us: us(dur(t)),
                 busy_us: us(busy(t)), callbacks: inside };
      });
    if (ticks.length === 0) missing.push(`longest_ticks: no spans with cat "${CAT.TICK}"`);

    // Drops: the tracer's count; in a file cut short before it, the
    // `dropped` instants written as losses were noticed.
    let drops = null;
    let dropInstants = 0, sawDropInstant = false;
    for (const ev of instantsNamed(model, Vocab.INSTANT.DROPPED)) {
      if ((ev.ph === "i" || ev.ph === "I") && ev.name === Vocab.INSTANT.DROPPED &&
          typeof ev.cat === "string" && ev.cat.includes(Vocab.CAT_LOOPTRACE) && ev.args &&
          Number.isInteger(ev.args[ARG.RECORDS]) && ev.args[ARG.RECORDS] >= 0) {
        dropInstants += ev.args[ARG.RECORDS];
        sawDropInstant = true;
      }
    }
    const factDrops = facts[META.DROPS];
    if (Number.isInteger(factDrops) && factDrops >= 0) drops = factDrops;
    else if (model.sawLooptrace || sawDropInstant) drops = dropInstants;
    else missing.push(`drops: not a looptrace recording (no "${Vocab.META_LOOPTRACE}" metadata)`);

    const warnings = parseWarnings.slice();
    if (model.counts.unmatchedE > 0)
      warnings.push(`skipped ${model.counts.unmatchedE} 'E' events that match no 'B'`);
    if (model.counts.unendedB > 0)
      warnings.push(`skipped ${model.counts.unendedB} 'B' events that never end`);

    return {
      recording_us: us(recordingNs),
      loop_utilization: loopUtilization,
      ticks: ticks.length === 0 ? null : {
        count: ticks.length, cut: ticks.length - wholeTicks.length, per_s: perS,
        p50_us: us(percentile(tickDurs, 50)), p99_us: us(percentile(tickDurs, 99)),
        max_us: us(percentile(tickDurs, 100)),
      },
      phases: phaseRows,
      callbacks: callbackRows,
      threadpool,
      longest_ticks: longest,
      drops,
      warnings,
      missing,
    };
  }

  // The instant events (thread, process or global) named `name`, as
  // objects, in file order.
  function instantsNamed(model, name) {
    const id = model.stringId(name);
    if (id === undefined) return [];
    const ks = [];
    const pick = (list) => {
      for (const k of list) if (model.table.name[k] === id) ks.push(k);
    };
    for (const list of model.markers.values()) pick(list);
    for (const t of model.threads) pick(t.inst);
    return ks.sort((a, b) => a - b).map(model.event);
  }

  function threadpoolFigures(model, works, recordingNs, dur, missing) {
    const S = model.spans;
    if (works.length === 0) {
      missing.push(`threadpool: no spans with cat "${CAT.WORK}"`);
      return null;
    }
    const waits = [];
    for (const s of works) {
      const v = Model.args(model, s)[ARG.QUEUE_WAIT_US];
      const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
      if (Number.isFinite(n) && n >= 0) waits.push(Model.toNs(n));
    }
    waits.sort(numAsc);
    const runs = works.filter((s) => (S.flags[s] & Model.FLAG_CUT) === 0)
      .map(dur).sort(numAsc);

    // Peak concurrency: sweep starts and ends; at one instant an end comes
    // before a start (intervals are [start, end)); a zero-length task still
    // runs at its instant.
    const edges = [];
    for (const s of works) {
      edges.push([S.start[s], 1]);
      edges.push([Math.max(S.end[s], S.start[s] + 1), -1]);
    }
    edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let running = 0, peak = 0;
    for (const [, e] of edges) {
      running += e;
      if (running > peak) peak = running;
    }

    // Workers: threads that ran tasks, by thread_sort_index (those with
    // one first), then in the order of their first task in the file.
    const perLane = new Map();
    for (const s of works.slice().sort((a, b) => S.ev[a] - S.ev[b])) {
      const lane = S.lane[s];
      let w = perLane.get(lane);
      if (!w) perLane.set(lane, w = { lane: model.lanes[lane], order: perLane.size, tasks: 0, busy: 0 });
      w.tasks++;
      w.busy += dur(s);
    }
    const workers = [...perLane.values()].sort((a, b) => {
      const x = a.lane.sortIndex, y = b.lane.sortIndex;
      if ((x === null) !== (y === null)) return x === null ? 1 : -1;
      if (x !== null && x !== y) return x - y;
      return a.order - b.order;
    }).map((w) => ({
      name: w.lane.threadName, tid: w.lane.tid, tasks: w.tasks, busy_us: us(w.busy),
      busy_share: recordingNs > 0 ? w.busy / recordingNs : null,
    }));
    if (waits.length === 0) missing.push("threadpool.queue_wait_us: no work span has queue_wait_us");
    if (runs.length === 0) missing.push("threadpool.run_us: every work span is cut");
    if (workers.length > 0 && workers[0].busy_share === null)
      missing.push("threadpool.workers.busy_share: the recording length is unknown or 0");
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

  // The spans of tick t's lane nested in it (any depth) that pass `keep`.
  function spansIn(model, t, keep) {
    const S = model.spans;
    const lane = model.lanes[S.lane[t]];
    const out = [];
    for (let row = S.row[t] + 1; row < lane.depthRows; row++) {
      const r = lane.rows[row];
      for (let i = Model.lowerBound(r.start, S.start[t]);
           i < r.ids.length && r.start[i] < S.end[t]; i++) {
        const s = r.ids[i];
        if (r.end[i] <= S.end[t] && keep(s)) out.push(s);
      }
    }
    return out;
  }

  function cmp(a, b) {
    return a < b ? -1 : a > b ? 1 : 0;
  }

  // Data for the summary charts (not part of the JSON): loop utilization
  // over time in `bins` bins, the queue waits, per-worker busy time.
  function chartData(model, bins) {
    const S = model.spans;
    const TICK = Vocab.CATEGORIES.indexOf(CAT.TICK) + 1,
      WAIT = Vocab.CATEGORIES.indexOf(CAT.WAIT) + 1,
      WORK = Vocab.CATEGORIES.indexOf(CAT.WORK) + 1;
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
      const c = model.category[s];
      if (c === TICK) spread(tick, S.start[s], S.end[s]);
      else if (c === WAIT) spread(wait, S.start[s], S.end[s]);
      else if (c === WORK) {
        const v = Model.args(model, s)[ARG.QUEUE_WAIT_US];
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
