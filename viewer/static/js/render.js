// render.js — draws one frame of the timeline on a 2D canvas: ruler, process
// headers, lanes of spans, counters, search hits, the selection, flow arrows
// and the lane names. All trace text goes through fillText (never HTML).
//
// Level of detail keeps a frame's work bounded by pixels, not events: rows
// hold disjoint spans, sorted by start and end, and where spans are
// narrower than a pixel one 1-px column stands for all spans starting in
// it. A row's lookup table (made on its first frame: the first span ending
// after each of about n/2 even time steps) finds a time's span in O(1) and
// a short gallop, so a frame costs ~width × rows whatever the zoom and the
// row's size. The columns of a row are written as pixels and drawn as one
// image (a canvas call per column cost more than the rest of the frame).
"use strict";

const Render = (() => {
  const T = Timeline;
  const FONT = "11px system-ui, sans-serif";
  const FLOW_CAP = 2000; // beyond this many arrows in view, selection only

  // Caches of the model last drawn.
  let cached = null;
  let textWidths = null; // per string id, measured once
  let textColours = null; // per colour index: dark or light text

  // Draws the frame. `st` is the UI state (selection, range, search,
  // flows); returns {arrows (drawn), capped (too many to draw all)}.
  function draw(ctx, v, st) {
    const m = v.model;
    if (cached !== m) {
      cached = m;
      textWidths = new Float32Array(m.strings.length).fill(-1);
      textColours = m.colours.map(textColourFor);
    }
    ctx.font = FONT;
    ctx.textBaseline = "middle";
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, v.width, v.height);
    columns.frame(v.width);

    drawGrid(ctx, v);
    ctx.save();
    ctx.beginPath();
    ctx.rect(T.GUTTER_W, T.RULER_H, v.width - T.GUTTER_W, v.height - T.RULER_H);
    ctx.clip();
    drawProcessBands(ctx, v);
    const dim = st.search && st.search.hits > 0;
    for (const e of v.entries) {
      const top = T.screenY(v, e.y);
      if (top > v.height || top + e.h < T.RULER_H) continue;
      if (e.lane.kind === "counter") {
        drawCounter(ctx, v, e, top);
        continue;
      }
      ctx.globalAlpha = dim ? 0.3 : 1;
      for (let r = 0; r < e.lane.rows.length; r++) {
        const y = top + r * T.ROW_H;
        if (y > v.height || y + T.ROW_H < T.RULER_H) continue;
        drawRow(ctx, v, m, e.lane.rows[r], y + 1, T.ROW_H - 2,
                r >= e.lane.depthRows);
      }
      columns.flush(ctx, m);
      ctx.globalAlpha = 1;
      if (dim) drawHits(ctx, v, m, e, top, st.search);
    }
    drawTriggers(ctx, v, m);
    drawRange(ctx, v, st.range);
    if (st.hover >= 0) outline(ctx, v, m, st.hover, "rgba(0,0,0,0.55)", 1);
    if (st.selected >= 0) outline(ctx, v, m, st.selected, "#111111", 2);
    const flows = drawFlows(ctx, v, m, st);
    ctx.restore();

    drawGutter(ctx, v);
    drawRuler(ctx, v, st.range);
    return flows;
  }

  function drawRow(ctx, v, m, row, y, h, overflow) {
    const S = m.spans;
    const n = row.ids.length;
    if (n === 0) return;
    const t0 = v.t0, t1 = v.t1;
    const scale = T.plotWidth(v) / (t1 - t0);
    const left = T.GUTTER_W;
    let colour = -1;
    const fill = (c) => {
      if (c !== colour) {
        ctx.fillStyle = m.colours[c];
        colour = c;
      }
    };
    // Sub-pixel columns are pixels of the lane's image (columns).
    const line = columns.line(y, h);
    const px32 = columns.pixels;
    const width = columns.width;
    const rgba = columns.rgba(m);
    // The row's own colour column: no span id to follow (a cache miss
    // each, in arrays of millions) for a pixel column.
    const lut = row.lut || (row.lut = lookupTable(row, S));
    const colourOf = lut.colour;
    let i = seek(row, t0, 0);
    while (i < n) {
      const st = row.start[i];
      if (st > t1) break;
      const xa = left + (st - t0) * scale;
      const xb = left + (row.end[i] - t0) * scale;
      if (lut.instants && S.flags[row.ids[i]] & Model.FLAG_INSTANT) {
        columns.instant(xa, y + h / 2, h / 2, row.ids[i]); // over the columns
        i++;
        continue;
      }
      if (xb - xa < 1) {
        // One column stands for every span starting in this pixel; it
        // takes the colour of the span covering the column's middle (what
        // fills most of it), else of the first.
        const px = Math.floor(xa);
        const tMid = t0 + (px + 0.5 - left) / scale;
        let k = i;
        if (row.end[i] < tMid) {
          const j = seek(row, tMid, i + 1);
          if (j < n && row.start[j] <= tMid) k = j;
        }
        if (px >= 0 && px < width) px32[line + px] = rgba[colourOf[k]];
        i = skipColumn(row, i, t0 + (px + 1 - left) / scale);
        continue;
      }
      const s = row.ids[i];
      const c = S.colour[s];
      fill(c);
      const a = Math.max(xa, left - 1);
      const w = Math.min(xb, v.width + 1) - a;
      ctx.fillRect(a, y, w, h);
      if (overflow) {
        ctx.strokeStyle = "#c0392b";
        ctx.strokeRect(a + 0.5, y + 0.5, w - 1, h - 1);
      }
      if (S.flags[s] & Model.FLAG_CUT) {
        cutEdges(ctx, S.flags[s], xa, xb, y, h, v.width);
        colour = -1;
      }
      if (w > 24) {
        const pad = S.flags[s] & Model.FLAG_CUT_START ? 3 + TEAR : 3;
        label(ctx, m, S.name[s], a + pad, y + h / 2, w - 3 - pad, textColours[c]);
        colour = -1;
      }
      i++;
    }
  }

  // The pixel columns of a lane's rows: a line of RGBA pixels a row, put
  // on a scratch canvas of the lane's (one put a lane: a canvas drawn from
  // and then written is copied) and drawn stretched to each row's height,
  // unsmoothed: the same pixels as a 1-px rectangle a column. A lane's
  // instants are drawn after its columns.
  const columns = (() => {
    const scratch = []; // a canvas per lane drawn this frame
    let image = null, lane = 0;
    const rows = []; // [y, h] of each line
    const instants = []; // [x, y, r, span]
    let rgbaOf = null, rgbaTable = null;
    const api = {
      pixels: null, width: 0,
      frame(width) {
        api.width = Math.max(1, Math.ceil(width));
        lane = 0;
      },
      // The offset in `pixels` of a new line for a row at y, height h.
      line(y, h) {
        const k = rows.length / 2;
        if (image === null || image.width !== api.width || image.height <= k) {
          const old = image;
          image = new ImageData(api.width, Math.max(8, old && old.width === api.width ? 2 * old.height : 8, k + 1));
          api.pixels = new Uint32Array(image.data.buffer);
          if (old && old.width === api.width) api.pixels.set(new Uint32Array(old.data.buffer));
        }
        rows.push(y, h);
        return k * api.width;
      },
      instant(x, y, r, s) { instants.push(x, y, r, s); },
      // Draws the lane's columns, then its instants.
      flush(ctx, m) {
        const n = rows.length / 2;
        if (n > 0) {
          const w = api.width;
          let c = scratch[lane];
          if (!c || c.width !== w || c.height < image.height) {
            c = scratch[lane] = document.createElement("canvas");
            c.width = w;
            c.height = image.height;
          }
          const sctx = c.getContext("2d");
          sctx.putImageData(image, 0, 0, 0, 0, w, n);
          const smooth = ctx.imageSmoothingEnabled;
          ctx.imageSmoothingEnabled = false;
          for (let k = 0; k < n; k++) ctx.drawImage(c, 0, k, w, 1, 0, rows[2 * k], w, rows[2 * k + 1]);
          ctx.imageSmoothingEnabled = smooth;
          api.pixels.fill(0, 0, n * w);
          rows.length = 0;
          lane++;
        }
        for (let k = 0; k < instants.length; k += 4) {
          ctx.fillStyle = m.colours[m.spans.colour[instants[k + 3]]];
          diamond(ctx, instants[k], instants[k + 1], instants[k + 2]);
        }
        instants.length = 0;
      },
      // The model's colours as RGBA pixels (little-endian: 0xAABBGGRR).
      rgba(m) {
        if (rgbaOf !== m.colours) {
          rgbaOf = m.colours;
          rgbaTable = new Uint32Array(m.colours.map((css) => {
            const x = parseInt(css.slice(1), 16);
            return (0xff000000 | ((x & 0xff) << 16) | (x & 0xff00) | ((x >> 16) & 0xff)) >>> 0;
          }));
        }
        return rgbaTable;
      },
    };
    return api;
  })();

  // The first index ≥ lo of a span of `row` ending at or after t (rows
  // are sorted by end too): lowerBound(row.end, t, lo), in O(1) and a short
  // gallop from the row's lookup table.
  function seek(row, t, lo) {
    const lut = row.lut; // made by drawRow or drawHits
    // One step back: a step's start rounded past t must not skip a span.
    let b = Math.floor((t - lut.t0) / lut.step) - 1;
    if (b < 0) b = 0;
    else if (b >= lut.at.length) b = lut.at.length - 1;
    const from = lut.at[b];
    return Model.gallop(row.end, t, from > lo ? from : lo);
  }

  // For about n/2 even steps of the row's time: the first span ending at or
  // after each step's start (at most 2 spans a step on average); and each
  // span's colour index, and whether the row holds instants.
  function lookupTable(row, S) {
    const n = row.end.length;
    const t0 = n > 0 ? row.start[0] : 0;
    const size = Math.max(1, Math.min(1 << 22, n >> 1));
    const step = n > 0 ? Math.max(1, (row.end[n - 1] - t0) / size) : 1;
    const at = new Int32Array(size);
    for (let b = 0, k = 0; b < size; b++) {
      const t = t0 + b * step;
      while (k < n && row.end[k] < t) k++;
      at[b] = k;
    }
    const colour = new Uint8Array(n); // as S.colour
    let instants = false;
    for (let i = 0; i < n; i++) {
      const s = row.ids[i];
      colour[i] = S.colour[s];
      if (S.flags[s] & Model.FLAG_INSTANT) instants = true;
    }
    return { t0, step, at, colour, instants };
  }

  // A cut span (TRACE-FORMAT.md, "Cut spans") gets a torn edge on each cut
  // side: notches in the background colour, so it reads as "not seen
  // beyond here" rather than as a span that ended there.
  const TEAR = 6; // px deep at a tooth's tip
  function cutEdges(ctx, flags, xa, xb, y, h, width) {
    if (xb - xa < 2 * TEAR) return;
    ctx.fillStyle = "#ffffff";
    if (flags & Model.FLAG_CUT_END && xb <= width + 1) tear(ctx, xb, -TEAR, y, h);
    if (flags & Model.FLAG_CUT_START && xa >= T.GUTTER_W - 1) tear(ctx, xa, TEAR, y, h);
  }

  // Notches along the edge at x, cut inward by `depth` (its sign: which way).
  function tear(ctx, x, depth, y, h) {
    const teeth = Math.max(2, Math.round(h / 5));
    const step = h / teeth;
    ctx.beginPath();
    ctx.moveTo(x, y);
    for (let j = 0; j < teeth; j++) {
      ctx.lineTo(x + depth, y + step * (j + 0.5));
      ctx.lineTo(x, y + step * (j + 1));
    }
    ctx.lineTo(x - Math.sign(depth), y + h);
    ctx.lineTo(x - Math.sign(depth), y);
    ctx.closePath();
    ctx.fill();
  }

  // After drawing span i as one pixel column ending at time tNext, the
  // index of the next span to draw: the first starting at or after tNext,
  // or the last one starting inside the column if it reaches beyond it (in
  // a row of disjoint spans only that one can; it must not be lost).
  function skipColumn(row, i, tNext) {
    // The first starting at or after tNext: the first ending at or after
    // it, or the one after that when it starts before (disjoint spans).
    const k = seek(row, tNext, i + 1);
    const j = k < row.end.length && row.start[k] < tNext ? k + 1 : k;
    return j - 1 > i && row.end[j - 1] > tNext ? j - 1 : j;
  }

  function diamond(ctx, x, y, r) {
    ctx.beginPath();
    ctx.moveTo(x, y - r);
    ctx.lineTo(x + r, y);
    ctx.lineTo(x, y + r);
    ctx.lineTo(x - r, y);
    ctx.closePath();
    ctx.fill();
  }

  function label(ctx, m, nameId, x, y, avail, colour) {
    let w = textWidths[nameId];
    const text = m.strings[nameId];
    if (w < 0) w = textWidths[nameId] = ctx.measureText(text).width;
    let shown = text;
    if (w > avail) {
      const chars = Math.floor((text.length * avail) / w) - 1;
      if (chars < 2) return;
      shown = text.slice(0, chars) + "…";
    }
    ctx.fillStyle = colour;
    ctx.fillText(shown, x, y);
  }

  function textColourFor(css) {
    const n = parseInt(css.slice(1), 16);
    const r = (n >> 16) & 255, g = (n >> 8) & 255, b = n & 255;
    return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#1b1f24" : "#ffffff";
  }

  // Search hits: the matching spans at full colour with a yellow border;
  // hits narrower than a pixel as yellow columns, merged into runs.
  function drawHits(ctx, v, m, e, top, search) {
    const S = m.spans;
    const rows = search.byLane.get(e.lane.index);
    if (!rows) return;
    const scale = T.plotWidth(v) / (v.t1 - v.t0);
    const HIT = "#f5b800";
    ctx.lineWidth = 2;
    ctx.strokeStyle = HIT;
    for (const [r, hit] of rows) {
      if (!hit.lut) hit.lut = lookupTable(hit, S);
      const y = top + r * T.ROW_H + 1;
      const h = T.ROW_H - 2;
      let runX = -1, runEnd = -1;
      const flush = () => {
        if (runX < 0) return;
        ctx.fillStyle = HIT;
        ctx.fillRect(runX, y, runEnd - runX, h);
        runX = -1;
      };
      let i = Model.lowerBound(hit.end, v.t0);
      while (i < hit.ids.length && hit.start[i] <= v.t1) {
        const xa = T.GUTTER_W + (hit.start[i] - v.t0) * scale;
        const xb = T.GUTTER_W + (hit.end[i] - v.t0) * scale;
        if (xb - xa < 2) {
          const px = Math.floor(xa);
          if (runX >= 0 && px <= runEnd) runEnd = Math.max(runEnd, px + 2);
          else {
            flush();
            runX = px;
            runEnd = px + 2;
          }
          i = skipColumn(hit, i, v.t0 + (px + 1 - T.GUTTER_W) / scale);
          continue;
        }
        flush();
        ctx.fillStyle = m.colours[S.colour[hit.ids[i]]];
        ctx.fillRect(xa, y, xb - xa, h);
        ctx.strokeRect(xa, y, xb - xa, h);
        i++;
      }
      flush();
    }
    ctx.lineWidth = 1;
  }

  // The screen box of span s, or null when its lane is not laid out.
  function spanBox(v, m, s) {
    const S = m.spans;
    const e = v.entries[S.lane[s]];
    if (!e) return null;
    const y = T.rowTop(v, e, S.row[s]) + 1;
    const xa = T.xOf(v, S.start[s]);
    const xb = T.xOf(v, S.end[s]);
    return { x: xa, y, w: Math.max(xb - xa, 0), h: T.ROW_H - 2 };
  }

  function outline(ctx, v, m, s, colour, width) {
    const b = spanBox(v, m, s);
    if (!b) return;
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    const w = Math.max(b.w, 3);
    ctx.strokeRect(b.x - width / 2, b.y - width / 2, w + width, b.h + width);
    ctx.lineWidth = 1;
  }

  function drawFlows(ctx, v, m, st) {
    const F = st.flows;
    let arrows = 0;
    let capped = false;
    if (!F || F.n === 0) return { arrows, capped };
    const sel = st.selected >= 0 ? F.bySpan.get(st.selected) || [] : [];
    let list = [];
    if (st.showFlows) {
      list = Flows.visible(F, v.t0, v.t1, FLOW_CAP);
      if (list === null) {
        capped = true;
        list = [];
      }
    }
    // The arrows in view in one path (a stroke and a fill for all: a
    // canvas call each cost more than the rest of a frame), then the
    // selection's, strong, over them.
    const selected = new Set(sel);
    arrows += arrowsPath(ctx, v, m, F, list.filter((i) => !selected.has(i)), false);
    arrows += arrowsPath(ctx, v, m, F, sel, true);
    return { arrows, capped };
  }

  // Draws arrows `list` from the end of each source to the start of its
  // target; returns how many.
  function arrowsPath(ctx, v, m, F, list, strong) {
    if (list.length === 0) return 0;
    const S = m.spans;
    const heads = [];
    let n = 0;
    ctx.strokeStyle = strong ? "#d35400" : "rgba(40,40,40,0.55)";
    ctx.lineWidth = strong ? 2 : 1;
    ctx.beginPath();
    for (const i of list) {
      const ea = v.entries[S.lane[F.from[i]]], eb = v.entries[S.lane[F.to[i]]];
      if (!ea || !eb) continue;
      const x1 = T.xOf(v, F.fromT[i]), x2 = T.xOf(v, F.toT[i]);
      const y1 = T.rowTop(v, ea, S.row[F.from[i]]) + T.ROW_H / 2;
      const y2 = T.rowTop(v, eb, S.row[F.to[i]]) + T.ROW_H / 2;
      const bend = Math.max(12, Math.min(60, Math.abs(x2 - x1) / 2));
      ctx.moveTo(x1, y1);
      ctx.bezierCurveTo(x1 + bend, y1, x2 - bend, y2, x2, y2);
      heads.push(x2, y2);
      n++;
    }
    // Open arrowheads, pointing right into the target, in the same path:
    // a fill of 1,300 small triangles cost a frame 20-40 ms of raster at
    // 1M events (the curves alone, 8).
    for (let k = 0; k < heads.length; k += 2) {
      const x2 = heads[k], y2 = heads[k + 1];
      ctx.moveTo(x2 - 7, y2 - 4);
      ctx.lineTo(x2, y2);
      ctx.lineTo(x2 - 7, y2 + 4);
    }
    ctx.stroke();
    ctx.lineWidth = 1;
    return n;
  }

  function drawCounter(ctx, v, e, top) {
    const lane = e.lane;
    let max = 0;
    for (const ser of lane.series) max = Math.max(max, ser.max);
    if (max <= 0) max = 1;
    const h = e.h - 6;
    const base = top + e.h - 2;
    const scale = T.plotWidth(v) / (v.t1 - v.t0);
    for (const ser of lane.series) {
      const n = ser.ts.length;
      if (n === 0) continue;
      let i = Math.max(0, Model.lowerBound(ser.ts, v.t0) - 1);
      ctx.strokeStyle = ser.colour;
      ctx.fillStyle = ser.colour;
      // Width 1: Skia strokes hairlines on a fast path; 1.5 px made the
      // counter line of a 1M-event trace cost 25 ms a frame.
      ctx.beginPath();
      let y = base - (ser.val[i] / max) * h;
      ctx.moveTo(Math.max(T.GUTTER_W + (ser.ts[i] - v.t0) * scale, T.GUTTER_W - 1), y);
      for (i++; i < n; i++) {
        const nx = T.GUTTER_W + (ser.ts[i] - v.t0) * scale;
        // Within one pixel keep the highest value: peaks stay visible. The
        // column's samples are found by binary search, their peak in
        // O(log n): a frame costs pixels, not samples.
        const j = Model.gallop(ser.ts, v.t0 + (nx + 1 - T.GUTTER_W) / scale, i + 1);
        const peak = j - i > 1 ? Counters.peak(ser, i, j) : ser.val[i];
        i = j - 1;
        const ny = base - (peak / max) * h;
        ctx.lineTo(nx, y);
        ctx.lineTo(nx, ny);
        const last = base - (ser.val[i] / max) * h;
        if (last !== ny) ctx.lineTo(nx + 1, last);
        y = last;
        if (nx > v.width) break;
      }
      ctx.lineTo(Math.min(v.width, T.xOf(v, v.model.end)), y);
      // No filled area under it: filling a path of thousands of steps
      // cost 5-7 ms a frame at 1M events.
      ctx.stroke();
    }
    ctx.fillStyle = "#57606a";
    ctx.fillText(`max ${max}`, T.GUTTER_W + 4, top + 8);
  }

  function drawProcessBands(ctx, v) {
    for (const p of v.procs) {
      const y = T.screenY(v, p.y);
      ctx.fillStyle = "#eef1f4";
      ctx.fillRect(T.GUTTER_W, y, v.width - T.GUTTER_W, T.PROC_H);
    }
  }

  // A flight recorder's trigger: a line across every lane, flagged with
  // what fired, so the moment the dump is about cannot be missed.
  const TRIGGER_COLOUR = "#d0342c";
  function drawTriggers(ctx, v, m) {
    for (const s of m.triggers) {
      const t = m.spans.start[s];
      if (t < v.t0 || t > v.t1) continue;
      const x = Math.round(T.xOf(v, t)) + 0.5;
      ctx.strokeStyle = TRIGGER_COLOUR;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(x, T.RULER_H);
      ctx.lineTo(x, v.height);
      ctx.stroke();
      ctx.lineWidth = 1;
      const text = `trigger: ${triggerText(m, s)}`;
      const w = ctx.measureText(text).width + 8;
      ctx.fillStyle = TRIGGER_COLOUR;
      ctx.fillRect(x + 1, T.RULER_H, w, 15);
      ctx.fillStyle = "#ffffff";
      ctx.fillText(text, x + 5, T.RULER_H + 8);
    }
  }

  // What fired, as the trigger instant says ("tick>50ms").
  function triggerText(m, s) {
    const a = Model.args(m, s)[Vocab.ARG.TRIGGER];
    return typeof a === "string" && a !== "" ? a : "(no reason given)";
  }

  function drawRange(ctx, v, range) {
    if (!range) return;
    const xa = T.xOf(v, range.t0), xb = T.xOf(v, range.t1);
    ctx.fillStyle = "rgba(66,133,244,0.12)";
    ctx.fillRect(xa, T.RULER_H, xb - xa, v.height);
    ctx.strokeStyle = "rgba(66,133,244,0.9)";
    ctx.beginPath();
    ctx.moveTo(xa + 0.5, T.RULER_H);
    ctx.lineTo(xa + 0.5, v.height);
    ctx.moveTo(xb + 0.5, T.RULER_H);
    ctx.lineTo(xb + 0.5, v.height);
    ctx.stroke();
  }

  // A "nice" step (1, 2, 5 × 10^k ns) for about `px` pixels per tick.
  function niceStep(v, px) {
    const raw = ((v.t1 - v.t0) * px) / T.plotWidth(v);
    const p = 10 ** Math.floor(Math.log10(raw));
    for (const f of [1, 2, 5, 10]) if (f * p >= raw) return f * p;
    return 10 * p;
  }

  function drawGrid(ctx, v) {
    const step = niceStep(v, 110);
    ctx.strokeStyle = "#eceef1";
    ctx.beginPath();
    for (let t = Math.ceil(v.t0 / step) * step; t <= v.t1; t += step) {
      const x = Math.round(T.xOf(v, t)) + 0.5;
      ctx.moveTo(x, T.RULER_H);
      ctx.lineTo(x, v.height);
    }
    ctx.stroke();
  }

  function drawRuler(ctx, v, range) {
    ctx.fillStyle = "#f6f8fa";
    ctx.fillRect(0, 0, v.width, T.RULER_H);
    ctx.strokeStyle = "#d0d7de";
    ctx.beginPath();
    ctx.moveTo(0, T.RULER_H - 0.5);
    ctx.lineTo(v.width, T.RULER_H - 0.5);
    ctx.stroke();
    const step = niceStep(v, 110);
    ctx.fillStyle = "#24292f";
    ctx.strokeStyle = "#8c959f";
    ctx.beginPath();
    for (let t = Math.ceil(v.t0 / step) * step; t <= v.t1; t += step) {
      const x = Math.round(T.xOf(v, t)) + 0.5;
      if (x < T.GUTTER_W) continue;
      ctx.moveTo(x, T.RULER_H - 8);
      ctx.lineTo(x, T.RULER_H);
      ctx.fillText(Format.time(t), x + 3, T.RULER_H / 2 - 2);
    }
    ctx.stroke();
    if (range) {
      const xa = T.xOf(v, range.t0), xb = T.xOf(v, range.t1);
      ctx.fillStyle = "rgba(66,133,244,0.35)";
      ctx.fillRect(xa, 0, xb - xa, T.RULER_H);
      ctx.fillStyle = "#0b3d91";
      ctx.fillText(Format.duration(range.t1 - range.t0), Math.max(xa, T.GUTTER_W) + 3,
                   T.RULER_H - 7);
    }
    ctx.fillStyle = "#f6f8fa";
    ctx.fillRect(0, 0, T.GUTTER_W, T.RULER_H);
    ctx.fillStyle = "#57606a";
    ctx.fillText(`${Format.duration(v.t1 - v.t0)} shown`, 6, T.RULER_H / 2);
  }

  function drawGutter(ctx, v) {
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, T.RULER_H, T.GUTTER_W, v.height - T.RULER_H);
    ctx.clip();
    ctx.fillStyle = "#fafbfc";
    ctx.fillRect(0, T.RULER_H, T.GUTTER_W, v.height);
    for (const p of v.procs) {
      const y = T.screenY(v, p.y);
      ctx.fillStyle = "#eef1f4";
      ctx.fillRect(0, y, T.GUTTER_W, T.PROC_H);
      ctx.fillStyle = "#24292f";
      ctx.font = "bold " + FONT;
      fitText(ctx, p.label, 6, y + T.PROC_H / 2, T.GUTTER_W - 12);
      ctx.font = FONT;
    }
    for (const e of v.entries) {
      const top = T.screenY(v, e.y);
      if (top > v.height || top + e.h < T.RULER_H) continue;
      ctx.fillStyle = "#24292f";
      const name = e.lane.name;
      fitText(ctx, name, 8, top + Math.min(e.h, T.ROW_H) / 2, T.GUTTER_W - 16);
      ctx.fillStyle = "#6e7781";
      let sub = "";
      if (e.lane.kind === "thread") sub = `tid ${e.lane.tid}`;
      else if (e.lane.kind === "counter") sub = e.lane.series.map((s) => s.key).join(", ");
      if (sub && e.h >= 2 * T.ROW_H) fitText(ctx, sub, 8, top + T.ROW_H * 1.5, T.GUTTER_W - 16);
      if (e.lane.kind === "counter") {
        let x = 8;
        e.lane.series.forEach((s) => {
          ctx.fillStyle = s.colour;
          ctx.fillRect(x, top + e.h - 8, 10, 4);
          x += 14;
        });
      }
      ctx.strokeStyle = "#e5e8eb";
      ctx.beginPath();
      ctx.moveTo(0, top + e.h + 1.5);
      ctx.lineTo(v.width, top + e.h + 1.5);
      ctx.stroke();
    }
    ctx.restore();
    ctx.strokeStyle = "#d0d7de";
    ctx.beginPath();
    ctx.moveTo(T.GUTTER_W - 0.5, 0);
    ctx.lineTo(T.GUTTER_W - 0.5, v.height);
    ctx.stroke();
  }

  function fitText(ctx, text, x, y, avail) {
    let shown = text;
    const w = ctx.measureText(text).width;
    if (w > avail) {
      const chars = Math.max(1, Math.floor((text.length * avail) / w) - 1);
      shown = text.slice(0, chars) + "…";
    }
    ctx.fillText(shown, x, y);
  }

  return { draw, spanBox, triggerText };
})();
