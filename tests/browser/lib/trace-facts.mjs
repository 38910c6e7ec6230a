// trace-facts.mjs — small facts about a trace computed straight from its
// JSON events, for tests to hold the viewer's numbers against.

export const ns = (v) => Math.round(Number(v) * 1000);

export function threadNames(events) {
  const names = new Map();
  for (const e of events)
    if (e.ph === "M" && e.name === "thread_name") names.set(e.tid, e.args.name);
  return names;
}

export function spansOf(events, pred = () => true) {
  return events.filter((e) => e.ph === "X" && pred(e));
}

// Per span name: count, total, self, min, max (µs) of the X spans that
// overlap [t0, t1) µs, on the threads `tids` (all when null). Self time is
// the span's duration minus its direct children's on the same thread.
export function rangeTable(events, t0, t1, tids = null) {
  const a0 = ns(t0), a1 = ns(t1);
  const all = spansOf(events).map((e, i) => ({ e, i, a: ns(e.ts), b: ns(e.ts) + ns(e.dur) }));
  const contains = (p, c) => p !== c && p.e.tid === c.e.tid && p.e.pid === c.e.pid &&
    p.a <= c.a && c.b <= p.b && (p.b - p.a > c.b - c.a || (p.b - p.a === c.b - c.a && p.i < c.i));
  const rows = new Map();
  for (const s of all) {
    if (tids && !tids.includes(s.e.tid)) continue;
    if (!(s.a < a1 && s.b > a0)) continue;
    const kids = all.filter((c) => contains(s, c) &&
      !all.some((q) => q !== s && q !== c && contains(s, q) && contains(q, c)));
    const d = s.b - s.a;
    const self = d - kids.reduce((x, c) => x + (c.b - c.a), 0);
    const r = rows.get(s.e.name) || { name: s.e.name, count: 0, total: 0, self: 0, min: Infinity, max: -Infinity };
    r.count++;
    r.total += d;
    r.self += self;
    r.min = Math.min(r.min, d);
    r.max = Math.max(r.max, d);
    rows.set(s.e.name, r);
  }
  return [...rows.values()].map((r) => ({
    name: r.name, count: r.count, total_us: r.total / 1000, self_us: r.self / 1000,
    avg_us: r.total / r.count / 1000, min_us: r.min / 1000, max_us: r.max / 1000,
  }));
}
