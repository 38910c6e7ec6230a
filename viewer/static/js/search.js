// search.js — find spans by name: a case-insensitive substring of the
// span's name. The result lists hits in time order (Enter steps through
// them) and, per lane and row, sorted arrays the renderer highlights with
// the same binary search it uses for spans.
"use strict";

const Search = (() => {
  // Returns {query, hits, list, byLane, current}; list holds span ids in
  // (start, lane, row) order; current is the index of the focused hit.
  function run(model, query) {
    const q = query.trim().toLowerCase();
    const result = { query: q, hits: 0, list: new Int32Array(0),
                     byLane: new Map(), current: -1 };
    if (q === "") return result;
    const match = new Uint8Array(model.strings.length);
    let any = false;
    model.strings.forEach((s, i) => {
      if (s.toLowerCase().includes(q)) {
        match[i] = 1;
        any = true;
      }
    });
    if (!any) return result;
    const S = model.spans;
    const all = [];
    for (const lane of model.lanes) {
      const rows = new Map();
      lane.rows.forEach((row, r) => {
        const idx = [];
        for (let i = 0; i < row.ids.length; i++)
          if (match[S.name[row.ids[i]]]) idx.push(i);
        if (idx.length === 0) return;
        const hit = { ids: new Int32Array(idx.length),
                      start: new Float64Array(idx.length),
                      end: new Float64Array(idx.length) };
        idx.forEach((i, j) => {
          hit.ids[j] = row.ids[i];
          hit.start[j] = row.start[i];
          hit.end[j] = row.end[i];
          all.push(row.ids[i]);
        });
        rows.set(r, hit);
      });
      if (rows.size > 0) result.byLane.set(lane.index, rows);
    }
    all.sort((a, b) => S.start[a] - S.start[b] || S.lane[a] - S.lane[b] ||
                       S.row[a] - S.row[b]);
    result.list = Int32Array.from(all);
    result.hits = all.length;
    return result;
  }

  // Moves to the next (dir 1) or previous (dir −1) hit; returns its span.
  function step(result, dir) {
    if (result.hits === 0) return -1;
    if (result.current < 0) result.current = dir > 0 ? 0 : result.hits - 1;
    else result.current = (result.current + dir + result.hits) % result.hits;
    return result.list[result.current];
  }

  return { run, step };
})();
