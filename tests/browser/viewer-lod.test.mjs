// viewer-lod.test.mjs — zoomed out, where a row holds thousands of spans a
// pixel, each pixel column shows the span covering its middle (else the
// first starting in it), and a column with no span stays blank: the
// canvas's pixels are checked against that rule computed here by plain
// linear scans, independently of the lookup tables and pixel images
// render.js uses to draw a frame in time bounded by pixels. At the whole
// trace, a slice in the middle and one at the end, on every row of the
// loop and of a worker.
// timeout: 120

import assert from "node:assert/strict";
import { launch, serve, openViewer, assertClean, suite } from "./lib/harness.mjs";
import { generateLargeTrace } from "./lib/gen-trace.mjs";

const trace = generateLargeTrace(150_000);
const t = suite("viewer-lod");

// For each view (start, end as shares of the trace), each row of the
// loop's lane and of the first worker's: the columns where the canvas
// differs from the rule, and how many columns the rule fills.
function check(views) {
  const m = App.model, v = App.view, T = Timeline;
  App.showFlows = false; // arrows over the rows are not what is checked
  const canvas = document.getElementById("timeline");
  const ctx = canvas.getContext("2d");
  const out = [];
  const lanes = v.entries.filter((e) => e.lane.kind === "thread").slice(0, 2);
  const [a0, a1] = [window.looptrace.state().view.start_us, window.looptrace.state().view.end_us];
  for (const [f0, f1] of views) {
    window.looptrace.setView(a0 + f0 * (a1 - a0), a0 + f1 * (a1 - a0));
    const t0 = v.t0, t1 = v.t1, left = T.GUTTER_W;
    const scale = T.plotWidth(v) / (t1 - t0);
    for (const e of lanes) {
      for (let r = 0; r < e.lane.depthRows; r++) {
        const row = e.lane.rows[r];
        const n = row.ids.length;
        const want = new Array(v.width).fill(null); // "#rrggbb", or "?" (an edge)
        let i = 0;
        while (i < n && row.end[i] < t0) i++;
        while (i < n && row.start[i] <= t1) {
          const xa = left + (row.start[i] - t0) * scale, xb = left + (row.end[i] - t0) * scale;
          if (xb - xa < 1) {
            const px = Math.floor(xa);
            const tMid = t0 + (px + 0.5 - left) / scale;
            let k = i;
            if (row.end[i] < tMid) {
              let j = i + 1;
              while (j < n && row.end[j] < tMid) j++;
              if (j < n && row.start[j] <= tMid) k = j;
            }
            if (px >= 0 && px < v.width) want[px] = m.colours[m.spans.colour[row.ids[k]]];
            const tNext = t0 + (px + 1 - left) / scale;
            let j = i + 1;
            while (j < n && row.start[j] < tNext) j++;
            i = j - 1 > i && row.end[j - 1] > tNext ? j - 1 : j;
          } else {
            for (let x = Math.max(0, Math.floor(xa)); x <= Math.min(v.width - 1, Math.ceil(xb)); x++)
              want[x] = x > xa && x + 1 < xb ? m.colours[m.spans.colour[row.ids[i]]] : "?";
            i++;
          }
        }
        const y = T.rowTop(v, e, r) + T.ROW_H / 2;
        const d = ctx.getImageData(0, Math.floor(y), v.width, 1).data;
        const bad = [];
        let filled = 0;
        for (let x = left; x < v.width; x++) {
          const got = "#" + [d[4 * x], d[4 * x + 1], d[4 * x + 2]]
            .map((c) => c.toString(16).padStart(2, "0")).join("");
          const w = want[x];
          if (w === "?") continue;
          if (w !== null) filled++;
          const blank = got === "#ffffff" || got === "#eceef1" || got === "#eef1f4"; // grid, band
          if (w === null ? !blank : got !== w) bad.push(`${x}: ${got} not ${w || "blank"}`);
        }
        out.push({ view: [f0, f1], lane: e.lane.name, row: r, spans: n, filled,
                   bad: bad.slice(0, 5), badCount: bad.length });
      }
    }
  }
  return out;
}

t.test("zoomed out, each pixel column shows the span at its middle, and blank stays blank", async ({ page }) => {
  const rows = await page.evaluate(check, [[0, 1], [0.47, 0.53], [0.85, 1]]);
  assert.ok(rows.length >= 9, JSON.stringify(rows.map((r) => [r.lane, r.row])));
  for (const r of rows) {
    assert.equal(r.badCount, 0, JSON.stringify(r));
    assert.ok(r.filled > 0, JSON.stringify(r));
  }
  // Dense rows: many spans a pixel at the whole view, and the loop's
  // ticks fill nearly every column.
  const tick = rows.find((r) => r.view[1] - r.view[0] === 1 && r.lane === "event loop" && r.row === 0);
  assert.ok(tick.spans > 10 * 1700 && tick.filled > 0.95 * (1920 - 180), JSON.stringify(tick));
  assertClean(page);
});

await t.run(async () => {
  const browser = await launch({ viewport: { width: 1920, height: 1080 } });
  const server = await serve(undefined, { "/trace.json": trace.text });
  const page = await openViewer(browser.context, server.origin, "/");
  return { browser, server, page };
}, async ({ browser, server }) => {
  await browser.close();
  await server.close();
});
