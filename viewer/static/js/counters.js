// counters.js — the model's stage for counter tracks (`ph: "C"`): one
// series per arg key of a counter, as step functions in time order; a
// sample without a key keeps that key's last value.
"use strict";

const Counters = (() => {
  const SERIES_COLOURS = ["#e8a33d", "#4a90d9", "#59a14f", "#e15759",
                          "#b07aa1", "#76b7b2"];

  // Fills counter lane `lane` from counter `c` (its events, in file
  // order) of ingest result `r`.
  function fill(r, lane, c) {
    const list = c.events;
    for (let i = 1; i < list.length; i++) {
      if (r.tsNs[list[i]] < r.tsNs[list[i - 1]]) {
        list.sort((a, b) => r.tsNs[a] - r.tsNs[b] || a - b);
        break;
      }
    }
    // Each sample's (key, value) pairs are in the table's pool from
    // cargs[k] on, ended by key -1 (Table.add, scan.js).
    const t = r.table;
    const keys = new Set();
    for (const k of list)
      for (let p = t.cargs[k]; t.cKey[p] >= 0; p++) keys.add(t.cKey[p]);
    const n = list.length;
    lane.series = [...keys].map((key, i) => ({
      key: r.strings[key], colour: SERIES_COLOURS[i % SERIES_COLOURS.length],
      ts: new Float64Array(n), val: new Float64Array(n), max: 0,
    }));
    const slot = new Int32Array(r.strings.length); // a key's string id -> its series
    [...keys].forEach((key, i) => { slot[key] = i; });
    const last = new Float64Array(keys.size);
    const series = lane.series;
    for (let i = 0; i < n; i++) {
      const k = list[i];
      for (let p = t.cargs[k]; t.cKey[p] >= 0; p++)
        if (Number.isFinite(t.cVal[p])) last[slot[t.cKey[p]]] = t.cVal[p];
      const ts = r.tsNs[k] - r.origin;
      for (let j = 0; j < series.length; j++) {
        const ser = series[j];
        ser.ts[i] = ts;
        ser.val[i] = last[j];
        if (last[j] > ser.max) ser.max = last[j];
      }
    }
    for (const ser of lane.series) ser.peaks = peakLevels(ser.val);
    lane.spanCount = 0;
    lane.samples = n;
  }

  // Level L holds the highest value of each block of 2^L samples, so the
  // peak of any run of samples costs O(log n) (a frame draws one peak per
  // pixel column, whatever the number of samples in it).
  function peakLevels(val) {
    const levels = [val];
    for (let prev = val; prev.length > 1;) {
      const next = new Float64Array(prev.length >> 1);
      for (let b = 0; b < next.length; b++)
        next[b] = Math.max(prev[2 * b], prev[2 * b + 1]);
      levels.push(next);
      prev = next;
    }
    return levels;
  }

  // The highest value of series `ser` over samples [i, j).
  function peak(ser, i, j) {
    // At each level an odd end is taken alone; the rest is whole blocks of
    // the next level (a level's odd last sample has no block above it, and
    // is taken here as an odd j).
    let best = -Infinity;
    for (let L = 0; i < j; L++) {
      const lv = ser.peaks[L];
      if (i & 1) best = Math.max(best, lv[i++]);
      if (j & 1) best = Math.max(best, lv[--j]);
      i >>= 1;
      j >>= 1;
    }
    return best;
  }

  return { fill, peak };
})();
