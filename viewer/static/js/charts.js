// charts.js — the summary panel's four small charts, drawn on canvases:
// time per phase, loop utilization over time, the queue wait histogram and
// worker occupancy. Inputs come from summary.js; nothing is computed here
// but pixel positions.
"use strict";

const Charts = (() => {
  const FONT = "11px system-ui, sans-serif";
  const AXIS = "#8c959f", TEXT = "#24292f", MUTED = "#57606a";

  // Sizes the canvas for the device and returns its 2D context and size.
  function setup(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 360, h = canvas.clientHeight || 170;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = FONT;
    ctx.textBaseline = "middle";
    return { ctx, w, h };
  }

  function empty(ctx, w, h, text) {
    ctx.fillStyle = MUTED;
    ctx.textAlign = "center";
    ctx.fillText(text, w / 2, h / 2);
    ctx.textAlign = "left";
  }

  // Horizontal bars: one per phase, its colour, total time and share.
  function phases(canvas, rows) {
    const { ctx, w, h } = setup(canvas);
    if (rows.length === 0) return empty(ctx, w, h, "no phase spans");
    const max = Math.max(...rows.map((r) => r.total_us), 1e-9);
    const barH = Math.min(18, (h - 8) / rows.length - 4);
    const left = 62, right = 140;
    rows.forEach((r, i) => {
      const y = 4 + i * (barH + 4);
      ctx.fillStyle = TEXT;
      ctx.fillText(r.name, 4, y + barH / 2);
      ctx.fillStyle = Theme.PHASE_COLOURS[r.name] || Theme.hashColour(r.name);
      ctx.fillRect(left, y, Math.max(1, ((w - left - right) * r.total_us) / max), barH);
      ctx.fillStyle = MUTED;
      ctx.fillText(`${Format.duration(r.total_us * 1e3)}  ${Format.percent(r.share)}`,
                   w - right + 6, y + barH / 2);
    });
  }

  // Utilization per time bin (0 to 1); gaps where no tick ran.
  function utilization(canvas, values, binNs) {
    const { ctx, w, h } = setup(canvas);
    const left = 34, bottom = h - 16, top = 6;
    const plotW = w - left - 6;
    axes(ctx, left, top, bottom, w, ["1", "0.5", "0"]);
    if (!values.some((v) => v !== null)) return empty(ctx, w, h, "no tick spans");
    const bw = plotW / values.length;
    ctx.fillStyle = "rgba(74,144,217,0.35)";
    ctx.strokeStyle = "#4a90d9";
    ctx.beginPath();
    let pen = false;
    values.forEach((v, i) => {
      if (v === null) {
        pen = false;
        return;
      }
      const x = left + i * bw, y = bottom - v * (bottom - top);
      ctx.fillRect(x, y, Math.max(1, bw), bottom - y);
      if (!pen) ctx.moveTo(x, y);
      ctx.lineTo(x + bw, y);
      pen = true;
    });
    ctx.stroke();
    ctx.fillStyle = MUTED;
    ctx.fillText("0", left, h - 6);
    ctx.textAlign = "right";
    ctx.fillText(Format.time(binNs * values.length), w - 4, h - 6);
    ctx.textAlign = "left";
  }

  // Histogram of queue waits (µs); log-spaced bins when they span decades.
  function queueWaits(canvas, waitsUs) {
    const { ctx, w, h } = setup(canvas);
    if (waitsUs.length === 0) return empty(ctx, w, h, "no queue waits recorded");
    const lo = Math.min(...waitsUs), hi = Math.max(...waitsUs);
    const positive = waitsUs.filter((v) => v > 0);
    const useLog = positive.length === waitsUs.length && hi / Math.max(lo, 1e-9) > 50;
    const nb = 16;
    const edges = [];
    for (let i = 0; i <= nb; i++) {
      edges.push(useLog ? lo * (hi / lo) ** (i / nb)
                        : lo + ((hi - lo || 1) * i) / nb);
    }
    const counts = new Array(nb).fill(0);
    for (const v of waitsUs) {
      let b = nb - 1;
      while (b > 0 && v < edges[b]) b--;
      counts[b]++;
    }
    const left = 34, bottom = h - 16, top = 6, plotW = w - left - 6;
    const max = Math.max(...counts);
    axes(ctx, left, top, bottom, w, [String(max), "", "0"]);
    ctx.fillStyle = "#5fb3a1";
    counts.forEach((c, i) => {
      const bh = (c / max) * (bottom - top);
      ctx.fillRect(left + (i * plotW) / nb + 1, bottom - bh, plotW / nb - 2, bh);
    });
    ctx.fillStyle = MUTED;
    ctx.fillText(Format.duration(lo * 1e3), left, h - 6);
    ctx.textAlign = "right";
    ctx.fillText(`${Format.duration(hi * 1e3)}${useLog ? " (log)" : ""}`, w - 4, h - 6);
    ctx.textAlign = "left";
  }

  // Busy share per worker, with its task count.
  function workers(canvas, list) {
    const { ctx, w, h } = setup(canvas);
    if (list.length === 0) return empty(ctx, w, h, "no threadpool work");
    const left = 70, right = 92;
    const barH = Math.min(18, (h - 8) / list.length - 4);
    list.forEach((wk, i) => {
      const y = 4 + i * (barH + 4);
      ctx.fillStyle = TEXT;
      ctx.fillText(wk.name, 4, y + barH / 2);
      ctx.fillStyle = "#eef1f4";
      ctx.fillRect(left, y, w - left - right, barH);
      ctx.fillStyle = "#3fa58f";
      ctx.fillRect(left, y, (w - left - right) * (wk.busy_share || 0), barH);
      ctx.fillStyle = MUTED;
      ctx.fillText(`${Format.percent(wk.busy_share)}  ${wk.tasks} task${wk.tasks === 1 ? "" : "s"}`,
                   w - right + 6, y + barH / 2);
    });
  }

  function axes(ctx, left, top, bottom, w, labels) {
    ctx.strokeStyle = AXIS;
    ctx.beginPath();
    ctx.moveTo(left - 0.5, top);
    ctx.lineTo(left - 0.5, bottom + 0.5);
    ctx.lineTo(w - 4, bottom + 0.5);
    ctx.stroke();
    ctx.fillStyle = MUTED;
    ctx.textAlign = "right";
    labels.forEach((l, i) => {
      ctx.fillText(l, left - 4, top + ((bottom - top) * i) / (labels.length - 1));
    });
    ctx.textAlign = "left";
  }

  return { phases, utilization, queueWaits, workers };
})();
