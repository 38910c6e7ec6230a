// nest.js — the model's stage that gives each span of a lane its row:
// spans of a thread nest (depth from a stack over spans sorted by (ts,
// −dur, file order), intervals [ts, end), as Perfetto and catapult nest
// them); a span that partly overlaps the one it starts in cannot nest and
// goes to an overflow row below the lane. Spans that do not nest (async,
// markers) are packed greedily. Then each row's spans go into sorted
// arrays so a frame can binary-search its window.
"use strict";

const Nest = (() => {
  // Sorts a lane's spans by (start, −dur, file order), unless they already
  // are: the tracer writes each thread in that order, so this is a scan.
  function sortSpans(S, ids) {
    const before = (a, b) => S.start[a] - S.start[b] ||
      (S.end[b] - S.start[b]) - (S.end[a] - S.start[a]) || S.ev[a] - S.ev[b];
    for (let i = 1; i < ids.length; i++) {
      if (before(ids[i - 1], ids[i]) > 0) {
        ids.sort(before);
        break;
      }
    }
  }

  // Sets depth, row, parent and Σ children of a thread lane's spans `ids`;
  // partial overlaps go to overflow rows. Returns how many did.
  function nest(S, lane, ids) {
    sortSpans(S, ids);
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
        S.flags[s] |= Spans.FLAG_OVERFLOW;
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
    fillRows(S, lane, ids);
    return spills;
  }

  // Greedy rows for spans that do not nest (async, markers).
  function pack(S, lane, ids) {
    sortSpans(S, ids);
    const ends = [];
    for (const s of ids) {
      let r = 0;
      while (r < ends.length && ends[r] > S.start[s]) r++;
      ends[r] = Math.max(S.end[s], S.start[s] + 1);
      S.row[s] = r;
      S.depth[s] = r;
    }
    lane.depthRows = ends.length;
    fillRows(S, lane, ids);
  }

  // Per-row arrays in start order (ids are sorted, so each row is too);
  // rows hold disjoint spans, so `end` is sorted as well.
  function fillRows(S, lane, ids) {
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

  return { nest, pack };
})();
