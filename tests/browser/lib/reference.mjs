// reference.mjs — the summary figures computed again, naively and
// independently of the viewer's code, straight from the trace's events and
// tracer/TRACE-FORMAT.md's definitions. Tests compare the viewer against it.

const ns = (v) => Math.round(Number(v) * 1000);

// Nearest rank: pN = v[ceil(N/100 · n) − 1] on ascending values.
export function pct(values, p) {
  if (values.length === 0) return null;
  const v = values.slice().sort((a, b) => a - b);
  return v[Math.ceil((p / 100) * v.length) - 1];
}

export function referenceSummary(events) {
  const facts = {};
  for (const e of events) if (e.ph === "M" && e.name === "looptrace") Object.assign(facts, e.args);
  const spans = events.filter((e) => e.ph === "X").map((e, i) => ({
    e, i, a: ns(e.ts), b: ns(e.ts) + ns(e.dur || 0), d: ns(e.dur || 0), key: `${e.pid}:${e.tid}`,
  }));
  const contains = (p, c) => p !== c && p.key === c.key && p.a <= c.a && c.b <= p.b &&
    (p.d > c.d || (p.d === c.d && p.i < c.i));
  const directChildren = (p) => spans.filter((c) => contains(p, c) &&
    !spans.some((q) => q !== p && q !== c && contains(p, q) && contains(q, c)));

  const recording = facts.duration_us !== undefined ? ns(facts.duration_us)
    : Math.max(...spans.map((s) => s.b)) - Math.min(...spans.map((s) => s.a));
  const cat = (c) => spans.filter((s) => s.e.cat === c);
  const ticks = cat("tick"), waits = cat("wait");
  // Cut spans (args.cut, or the legacy incomplete: true) count for the time
  // seen but never in a percentile, a max or a ranking.
  const whole = (s) => !(s.e.args && (s.e.args.cut !== undefined || s.e.args.incomplete === true));
  const wholeTicks = ticks.filter(whole);
  // Busy time: the tick minus the waits inside it.
  const busy = (t) => t.d - sum(waits.filter((w) => contains(t, w)));
  const sum = (l) => l.reduce((x, s) => x + s.d, 0);
  const tickSum = sum(ticks);
  const toUs = (v) => (v === null ? null : v / 1000);

  const order = ["timers", "pending", "idle", "prepare", "poll", "check", "close"];
  const phases = order.filter((n) => cat("phase").some((s) => s.e.name === n)).map((name) => {
    const l = cat("phase").filter((s) => s.e.name === name);
    const d = l.filter(whole).map((s) => s.d);
    return { name, count: l.length, total_us: sum(l) / 1000, share: sum(l) / tickSum,
             p50_us: toUs(pct(d, 50)), p99_us: toUs(pct(d, 99)), max_us: toUs(pct(d, 100)) };
  });

  const groups = new Map();
  for (const s of cat("callback")) {
    const kind = s.e.args && s.e.args.kind !== undefined ? s.e.args.kind : null;
    const key = `${s.e.name}|${kind}`;
    const g = groups.get(key) || { name: s.e.name, kind, count: 0, total_us: 0, self_us: 0 };
    g.count++;
    g.total_us += s.d / 1000;
    g.self_us += (s.d - sum(directChildren(s))) / 1000;
    groups.set(key, g);
  }
  const callbacks = [...groups.values()].sort((x, y) => y.total_us - x.total_us).slice(0, 10);

  const works = cat("work");
  const qw = works.filter((s) => s.e.args && s.e.args.queue_wait_us !== undefined)
    .map((s) => ns(s.e.args.queue_wait_us));
  let peak = 0;
  for (const s of works) {
    // Concurrency just after s starts: work spans covering [s.a, s.a + ε).
    const n = works.filter((o) => o.a <= s.a && o.b > s.a).length;
    peak = Math.max(peak, n);
  }
  const workerNames = new Map();
  for (const e of events) {
    if (e.ph === "M" && e.name === "thread_name") workerNames.set(`${e.pid}:${e.tid}`, e.args.name);
  }
  const byWorker = new Map();
  for (const s of works) {
    const w = byWorker.get(s.key) || { name: workerNames.get(s.key), tid: s.e.tid, tasks: 0, busy: 0 };
    w.tasks++;
    w.busy += s.d;
    byWorker.set(s.key, w);
  }
  // Workers by thread_sort_index, then by their first task in the file.
  const sortIndex = new Map();
  for (const e of events) {
    if (e.ph === "M" && e.name === "thread_sort_index") sortIndex.set(`${e.pid}:${e.tid}`, e.args.sort_index);
  }
  const firstTask = [...byWorker.keys()];
  const ranked = firstTask.slice().sort((a, b) =>
    (sortIndex.get(a) ?? Infinity) - (sortIndex.get(b) ?? Infinity) || firstTask.indexOf(a) - firstTask.indexOf(b));
  const workers = ranked.map((k) => byWorker.get(k)).map((w) => ({
    name: w.name, tid: w.tid, tasks: w.tasks, busy_us: w.busy / 1000, busy_share: w.busy / recording,
  }));

  const longest = wholeTicks.slice().sort((x, y) => busy(y) - busy(x) || x.a - y.a).slice(0, 5).map((t) => ({
    tick: t.e.args.tick, ts_us: t.a / 1000, dur_us: t.d / 1000, busy_us: busy(t) / 1000,
    callbacks: cat("callback").filter((c) => contains(t, c)).sort((x, y) => y.d - x.d).slice(0, 5)
      .map((c) => ({ name: c.e.name, kind: c.e.args.kind, dur_us: c.d / 1000 })),
  }));

  return {
    recording_us: recording / 1000,
    loop_utilization: 1 - sum(waits) / tickSum,
    ticks: { count: ticks.length, cut: ticks.length - wholeTicks.length,
             per_s: ticks.length / (recording / 1e9),
             p50_us: toUs(pct(wholeTicks.map((s) => s.d), 50)),
             p99_us: toUs(pct(wholeTicks.map((s) => s.d), 99)),
             max_us: toUs(pct(wholeTicks.map((s) => s.d), 100)) },
    phases, callbacks,
    threadpool: {
      tasks: works.length,
      queue_wait_us: qw.length ? { p50: pct(qw, 50) / 1000, p99: pct(qw, 99) / 1000, max: Math.max(...qw) / 1000 } : null,
      run_us: { p50: toUs(pct(works.filter(whole).map((s) => s.d), 50)),
                p99: toUs(pct(works.filter(whole).map((s) => s.d), 99)) },
      peak_concurrency: peak, workers,
    },
    longest_ticks: longest,
    // The tracer's final count; in a file cut before it, the `dropped`
    // instants written as losses were noticed.
    drops: facts.drops !== undefined ? facts.drops
      : Object.keys(facts).length === 0 ? null
      : events.filter((e) => e.name === "dropped" && e.cat === "looptrace")
        .reduce((n, e) => n + e.args.records, 0),
  };
}

// Asserts `actual` matches `expected` in shape and value: numbers within
// `tol` (absolute; figures are rounded to µs.nnn and shares to 1e-6).
export function assertClose(actual, expected, path = "summary", tol = 2e-3) {
  if (typeof expected === "number") {
    if (typeof actual !== "number" || Math.abs(actual - expected) > tol)
      throw new Error(`${path}: expected ${expected}, got ${JSON.stringify(actual)}`);
    return;
  }
  if (expected === null || typeof expected !== "object") {
    if (actual !== expected)
      throw new Error(`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length)
      throw new Error(`${path}: expected ${expected.length} items, got ${JSON.stringify(actual)}`);
    expected.forEach((x, i) => assertClose(actual[i], x, `${path}[${i}]`, tol));
    return;
  }
  if (actual === null || typeof actual !== "object")
    throw new Error(`${path}: expected an object, got ${JSON.stringify(actual)}`);
  for (const k of Object.keys(expected)) assertClose(actual[k], expected[k], `${path}.${k}`, tol);
}

// Until `looptrace stat` ranks ticks by busy time and leaves cut spans out
// (issue 11; its JSON then has `ticks.cut` and `longest_ticks[].busy_us`),
// the viewer's summary is compared with an older stat's without those
// figures, and not at all on a file with cut spans. Returns [viewer, stat]
// to compare (both null: nothing to compare), and says on stdout when it
// had to leave figures out, so that a run shows the gap.
export function comparableWithStat(viewer, stat) {
  const statOld = stat.ticks !== null && stat.ticks !== undefined && !("cut" in stat.ticks);
  if (!statOld) return [viewer, stat];
  if (viewer.ticks.cut > 0) {
    // An older stat takes cut spans as whole: nothing to compare with.
    console.log("        note: looptrace stat predates cut spans: this file not compared with it");
    return [null, null];
  }
  console.log("        note: looptrace stat predates busy-time ranking and cut spans: " +
              "ticks.cut and longest_ticks not compared with it");
  const v = structuredClone(viewer), s = structuredClone(stat);
  delete v.ticks.cut;
  v.longest_ticks = s.longest_ticks = null;
  return [v, s];
}
