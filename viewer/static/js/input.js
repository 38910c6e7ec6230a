// input.js — keyboard and mouse on the timeline, mapped to what the app
// does. Keys follow catapult and Perfetto: W/S zoom, A/D pan (Shift goes
// faster), F fits the selection, 0 shows everything, / searches, ? helps.
// Mouse: wheel zooms at the cursor (Shift+wheel pans), drag pans, click
// selects, Shift+drag or a drag in the ruler selects a time range.
"use strict";

const Input = (() => {
  const T = Timeline;
  const CLICK_SLOP = 3; // px a press may move and still be a click

  function attach(app, canvas) {
    let mouse = null; // last pointer position over the canvas
    let drag = null;

    const pos = (e) => {
      const r = canvas.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    };

    document.addEventListener("keydown", (e) => {
      if (!app.view) return;
      const t = e.target;
      const typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA");
      if (typing) {
        if (e.key === "Escape") t.blur();
        return; // the search box handles its own Enter
      }
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const v = app.view;
      const anchor = mouse && mouse.x > T.GUTTER_W ? mouse.x
                                                   : T.GUTTER_W + T.plotWidth(v) / 2;
      const span = v.t1 - v.t0;
      let handled = true;
      switch (e.key.toLowerCase()) {
        case "w": T.zoomAt(v, e.shiftKey ? 0.5 : 0.8, anchor); break;
        case "s": T.zoomAt(v, e.shiftKey ? 2 : 1.25, anchor); break;
        case "a": T.panBy(v, -span * (e.shiftKey ? 0.45 : 0.15)); break;
        case "d": T.panBy(v, span * (e.shiftKey ? 0.45 : 0.15)); break;
        case "f": app.fitSelection(); break;
        case "0": T.reset(v); break;
        case "/": app.focusSearch(); break;
        case "escape":
          if (app.helpOpen()) app.toggleHelp();
          else {
            app.select(-1);
            app.setRange(null);
          }
          break;
        case "?": app.toggleHelp(); break;
        default: handled = false;
      }
      if (handled) {
        e.preventDefault();
        app.requestDraw();
      }
    });

    canvas.addEventListener("wheel", (e) => {
      if (!app.view) return;
      const p = pos(e);
      if (p.x < T.GUTTER_W) return; // the gutter scrolls lanes natively
      e.preventDefault();
      const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
      const dx = e.deltaX * unit, dy = e.deltaY * unit;
      const v = app.view;
      if (e.shiftKey || Math.abs(dx) > Math.abs(dy)) {
        const d = Math.abs(dx) > Math.abs(dy) ? dx : dy;
        T.panBy(v, (d * (v.t1 - v.t0)) / T.plotWidth(v));
      } else {
        T.zoomAt(v, Math.exp(dy * 0.002), p.x);
      }
      app.requestDraw();
    }, { passive: false });

    canvas.addEventListener("mousedown", (e) => {
      if (!app.view || e.button !== 0) return;
      const p = pos(e);
      if (p.x < T.GUTTER_W) return;
      e.preventDefault();
      canvas.focus();
      const mode = p.y < T.RULER_H ? "range" : e.shiftKey ? "range-lanes" : "pan";
      drag = { mode, x0: p.x, y0: p.y, t0: app.view.t0, t1: app.view.t1, moved: false };
    });

    window.addEventListener("mousemove", (e) => {
      if (!app.view) return;
      const p = pos(e);
      mouse = p;
      if (!drag) {
        app.hoverAt(p.x, p.y, e.clientX, e.clientY);
        return;
      }
      if (Math.abs(p.x - drag.x0) > CLICK_SLOP || Math.abs(p.y - drag.y0) > CLICK_SLOP)
        drag.moved = true;
      if (!drag.moved) return;
      const v = app.view;
      if (drag.mode === "pan") {
        const dt = ((p.x - drag.x0) * (drag.t1 - drag.t0)) / T.plotWidth(v);
        v.t0 = drag.t0 - dt;
        v.t1 = drag.t1 - dt;
        T.clamp(v);
        app.scrollBy(drag.y0 - p.y);
        drag.y0 = p.y;
      } else {
        const ta = T.tOf(v, Math.max(T.GUTTER_W, Math.min(drag.x0, p.x)));
        const tb = T.tOf(v, Math.max(drag.x0, p.x));
        app.setRange({ t0: ta, t1: tb }, drag.mode === "range-lanes"
          ? lanesBetween(v, drag.y0, p.y) : null, true);
      }
      app.requestDraw();
    });

    window.addEventListener("mouseup", (e) => {
      if (!drag) return;
      const d = drag;
      drag = null;
      if (d.moved) {
        if (d.mode !== "pan") app.setRange(app.range, app.rangeLanes, false);
        return;
      }
      if (d.mode === "pan") app.clickAt(d.x0, d.y0);
      else app.setRange(null);
    });

    canvas.addEventListener("mouseleave", () => {
      mouse = null;
      app.hoverAt(-1, -1);
    });
  }

  // The lanes a vertical drag from y0 to y1 touched.
  function lanesBetween(v, y0, y1) {
    const set = new Set();
    const lo = Math.min(y0, y1), hi = Math.max(y0, y1);
    for (const e of v.entries) {
      const top = T.screenY(v, e.y);
      if (top + e.h >= lo && top <= hi) set.add(e.lane.index);
    }
    return set;
  }

  return { attach };
})();
