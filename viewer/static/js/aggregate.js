// aggregate.js — the table for a selected time range: per span name, how
// many spans, their total and self time, average, min and max. Like
// catapult's multi-selection table, a span counts (with its whole duration)
// when it overlaps the range; instants are not counted.
"use strict";

const Aggregate = (() => {
  // Returns {t0, t1, spans, rows}; rows sorted by total time, most first.
  // `lanes` limits it to those lane indexes (all span lanes when null).
  function compute(model, t0, t1, lanes) {
    const S = model.spans;
    const groups = new Map();
    let spans = 0;
    for (const lane of model.lanes) {
      if (lane.kind === "counter") continue;
      if (lanes && !lanes.has(lane.index)) continue;
      for (const row of lane.rows) {
        for (let i = Model.lowerBound(row.end, t0);
             i < row.ids.length && row.start[i] < t1; i++) {
          const s = row.ids[i];
          if (S.flags[s] & Model.FLAG_INSTANT) continue;
          if (row.end[i] <= t0) continue; // touches the range, no overlap
          const d = row.end[i] - row.start[i];
          let g = groups.get(S.name[s]);
          if (!g) {
            g = { name: model.strings[S.name[s]], count: 0, total: 0, self: 0,
                  min: Infinity, max: -Infinity };
            groups.set(S.name[s], g);
          }
          g.count++;
          g.total += d;
          g.self += d - S.child[s];
          if (d < g.min) g.min = d;
          if (d > g.max) g.max = d;
          spans++;
        }
      }
    }
    const rows = [...groups.values()].map((g) => ({
      name: g.name, count: g.count, total: g.total, self: g.self,
      avg: g.total / g.count, min: g.min, max: g.max,
    })).sort((a, b) => b.total - a.total || (a.name < b.name ? -1 : 1));
    return { t0, t1, spans, rows };
  }

  return { compute };
})();
