// timeline.js — what part of the trace is on screen and where each lane
// sits: the visible time window [t0, t1] (ns), the vertical scroll, and the
// pixel geometry of lanes and rows. Pure arithmetic; render.js draws it and
// input.js changes it.
"use strict";

const Timeline = (() => {
  const RULER_H = 26; // time ruler at the top, fixed
  const GUTTER_W = 180; // lane names on the left, fixed
  const ROW_H = 18;
  const LANE_PAD = 4;
  const PROC_H = 20;
  const COUNTER_H = 46;
  const MIN_SPAN_NS = 100; // the most one can zoom in: 100 ns on screen

  function create(model) {
    const v = {
      model, t0: 0, t1: 1, scrollY: 0, width: 800, height: 400,
      entries: [], procs: [], contentH: 0,
    };
    layout(v);
    reset(v);
    return v;
  }

  // Lane positions in content coordinates (0 = just under the ruler).
  function layout(v) {
    let y = 0;
    let pid;
    v.entries = [];
    v.procs = [];
    for (const lane of v.model.lanes) {
      if (lane.pid !== pid || v.procs.length === 0) {
        pid = lane.pid;
        const p = v.model.processes.get(pid);
        const label = lane.pid === null ? "global"
          : `${p && p.name !== null ? p.name : "process"} (pid ${pid})`;
        v.procs.push({ y, label });
        y += PROC_H;
      }
      let h;
      if (lane.kind === "counter") h = COUNTER_H;
      else h = Math.max(1, lane.depthRows + lane.overflowRows) * ROW_H;
      v.entries.push({ lane, y: y + LANE_PAD / 2, h });
      y += h + LANE_PAD;
    }
    v.contentH = y;
  }

  function plotWidth(v) {
    return Math.max(1, v.width - GUTTER_W);
  }

  function xOf(v, t) {
    return GUTTER_W + ((t - v.t0) * plotWidth(v)) / (v.t1 - v.t0);
  }

  function tOf(v, x) {
    return v.t0 + ((x - GUTTER_W) * (v.t1 - v.t0)) / plotWidth(v);
  }

  // Screen y of content y.
  function screenY(v, y) {
    return RULER_H + y - v.scrollY;
  }

  function rowTop(v, entry, row) {
    return screenY(v, entry.y + row * ROW_H);
  }

  // The lane entry and row under screen point y, or null.
  function hit(v, y) {
    const cy = y - RULER_H + v.scrollY;
    if (y < RULER_H) return null;
    for (const e of v.entries) {
      if (cy >= e.y && cy < e.y + e.h)
        return { entry: e, row: Math.floor((cy - e.y) / ROW_H) };
    }
    return null;
  }

  function extent(v) {
    const m = v.model;
    return { a: m.start, b: Math.max(m.end, m.start + 1000) };
  }

  function clamp(v) {
    const { a, b } = extent(v);
    const full = b - a;
    let span = v.t1 - v.t0;
    span = Math.min(Math.max(span, MIN_SPAN_NS), full * 1.5);
    let t0 = v.t0;
    // Keep some of the trace on screen.
    t0 = Math.min(Math.max(t0, a - span * 0.9), b - span * 0.1);
    v.t0 = t0;
    v.t1 = t0 + span;
    const maxScroll = Math.max(0, v.contentH - (v.height - RULER_H));
    v.scrollY = Math.min(Math.max(0, v.scrollY), maxScroll);
  }

  // Zoom by `factor` (< 1 zooms in) keeping the time under x where it is.
  function zoomAt(v, factor, x) {
    const t = tOf(v, x);
    const span = Math.min(Math.max((v.t1 - v.t0) * factor, MIN_SPAN_NS),
                          (extent(v).b - extent(v).a) * 1.5);
    const frac = (x - GUTTER_W) / plotWidth(v);
    v.t0 = t - span * frac;
    v.t1 = v.t0 + span;
    clamp(v);
  }

  function panBy(v, dt) {
    v.t0 += dt;
    v.t1 += dt;
    clamp(v);
  }

  function fit(v, a, b) {
    const d = Math.max(b - a, MIN_SPAN_NS);
    const margin = d * 0.05;
    v.t0 = a - margin;
    v.t1 = b + margin;
    clamp(v);
  }

  function reset(v) {
    const { a, b } = extent(v);
    v.t0 = a;
    v.t1 = b;
    clamp(v);
  }

  // Scrolls vertically so that `entry` row `row` is visible.
  function reveal(v, entry, row) {
    const top = entry.y + row * ROW_H;
    const visible = v.height - RULER_H;
    if (top < v.scrollY || top + ROW_H > v.scrollY + visible)
      v.scrollY = top - visible / 3;
    clamp(v);
  }

  return {
    RULER_H, GUTTER_W, ROW_H, PROC_H, COUNTER_H, create, layout, xOf, tOf,
    screenY, rowTop, hit, zoomAt, panBy, fit, reset, reveal, clamp, plotWidth,
  };
})();
