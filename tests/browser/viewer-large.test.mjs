// viewer-large.test.mjs — a big trace (500k events, 60 MB) streams in
// line by line, straight into columns, and shows its tracks; a trace bigger
// than the tab can hold is refused with a message that says why and what to
// record instead (a shorter -d, or --flight), and the page stays usable,
// rather than the tab running out of memory. Two guards watch the load: the
// bytes the events' columns take (a budget, lowered here with
// setTableBudget), and the JS heap (its share lowered with setHeapShare).
// No timing is asserted: bench-render.mjs measures speed.
// timeout: 300

import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { launch, serve, openViewer, openFile, waitLoads, assertClean, suite } from "./lib/harness.mjs";
import { generateLargeTrace } from "./lib/gen-trace.mjs";

const trace = generateLargeTrace(40_000);
const big = generateLargeTrace(500_000);
const t = suite("viewer-large");
const L = (page, fn, arg) => page.evaluate(fn, arg);
let server;

// The share of the plot's pixels on lane `name`'s first row that are not
// the background: a zoomed-out lane of spans is nearly all drawn.
const inked = (page, name) => L(page, (laneName) => {
  const s = window.looptrace.find({ lane: laneName })[0];
  const box = window.looptrace.spanRect(s);
  const canvas = document.getElementById("timeline");
  const r = canvas.getBoundingClientRect();
  const y = Math.round(box.y - r.top + box.h / 2);
  const x0 = 180, w = canvas.width - x0; // Timeline.GUTTER_W
  const px = canvas.getContext("2d").getImageData(x0, y, w, 1).data;
  let ink = 0;
  for (let x = 0; x < w; x++) if (px[4 * x] < 235 || px[4 * x + 1] < 235 || px[4 * x + 2] < 235) ink++;
  return { share: ink / w };
}, name);

t.test("a 500k-event trace streams into columns and shows its tracks", async ({ page }) => {
  await page.goto(`${server.origin}/?trace=/big.json`);
  const st = await waitLoads(page, 1, 150_000);
  assert.equal(st.loaded, true, st.error);
  assert.match(st.timings.read, /^(2 workers|worker), stream, line by line$/);
  assert.equal(st.events, big.events.length);
  const X = big.events.filter((e) => e.ph === "X");
  assert.equal(st.spans, X.length + big.events.filter((e) => e.ph === "i").length);
  // The loop, the workers that ran tasks, and the threadpool counter.
  const tids = new Set(X.map((e) => e.tid));
  assert.deepEqual(st.lanes.filter((l) => l.kind === "thread").map((l) => l.tid).sort(),
                   [...tids].sort());
  for (const lane of st.lanes.filter((l) => l.kind === "thread"))
    assert.equal(lane.spans, X.filter((e) => e.tid === lane.tid).length, lane.name);
  const counter = st.lanes.find((l) => l.kind === "counter");
  assert.equal(counter.samples, big.events.filter((e) => e.ph === "C").length);
  assert.deepEqual(counter.series, ["queued", "running"]);
  // Drawn, whole trace in view: the loop's ticks fill its first row.
  assert.ok((await inked(page, "event loop")).share > 0.9);
  // The parts that read events again from their text: a span's args, the
  // summary, a search.
  const tick = X.filter((e) => e.name === "tick").pop();
  const id = await L(page, (ts) => window.looptrace.select({ name: "tick", ts_us: ts }), tick.ts);
  assert.deepEqual((await L(page, (s) => window.looptrace.span(s), id)).args, tick.args);
  const sum = await L(page, () => window.looptrace.summary());
  assert.equal(sum.ticks.count, X.filter((e) => e.cat === "tick").length);
  assert.equal(sum.threadpool.tasks, X.filter((e) => e.cat === "work").length);
  assert.equal((await L(page, () => window.looptrace.search("fs.read"))).hits,
               X.filter((e) => e.name === "fs.read").length);
  assertClean(page);
});

t.test("past the columns' budget the load stops at once with a clear message", async ({ page }) => {
  await L(page, () => window.looptrace.setTableBudget(20e6));
  const before = await L(page, () => window.looptrace.loads);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "looptrace-large-"));
  process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, "big.json"), big.text);
  await page.setInputFiles("#open", path.join(dir, "big.json"));
  const st = await waitLoads(page, before + 1, 150_000);
  assert.equal(st.loaded, false);
  assert.match(st.error, /^this trace is too big for a browser tab to hold \(\d+ MB in \([\d,]+ events\), its events would take more than the 20 MB a browser tab can give them\)/);
  assert.match(st.error, /looptrace record -d SECONDS/);
  assert.match(st.error, /looptrace record --flight SECONDS/);
  // Known from the file's size and its first lines: it stopped reading.
  const read = Number(/\(([\d,]+) events\)/.exec(st.error)[1].replace(/,/g, ""));
  assert.ok(read < big.events.length, `refused after ${read} of ${big.events.length} events`);
  assert.equal(st.timings.read, "refused: too big");
  assert.match(await page.textContent("#banners .banner.error"), /too big for a browser tab/);
  await L(page, () => window.looptrace.setTableBudget(1.5e9));
});

t.test("past the heap threshold the load stops with a clear message", async ({ page }) => {
  await L(page, () => {
    window.looptrace.setWholeTextLimit(1000); // stream it, as a big file would be
    window.looptrace.setHeapShare(1e-6);
  });
  const before = await L(page, () => window.looptrace.loads);
  await page.setInputFiles("#open", { name: "huge.json", mimeType: "application/json",
                                      buffer: Buffer.from(trace.text) });
  const st = await waitLoads(page, before + 1);
  assert.equal(st.loaded, false);
  assert.match(st.error, /^this trace is too big for a browser tab to hold \(\d+ MB in \([\d,]+ events\), the tab's memory holds \d+ MB of its \d+ MB\)/);
  assert.match(st.error, /looptrace record -d SECONDS/);
  assert.match(st.error, /looptrace record --flight SECONDS/);
  assert.equal(st.timings.read, "refused: too big");
  assert.match(await page.textContent("#banners .banner.error"), /too big for a browser tab/);
});

t.test("the page stays usable: a trace that fits loads next", async ({ page }) => {
  await L(page, () => window.looptrace.setHeapShare(0.55));
  const st = await openFile(page, "fits.json", trace.text);
  assert.equal(st.loaded, true, st.error);
  assert.equal(st.events, trace.events.length);
  assertClean(page);
});

await t.run(async () => {
  server = await serve(undefined, { "/big.json": big.text });
  const browser = await launch();
  const page = await openViewer(browser.context, server.origin, "/");
  return { server, browser, page };
}, async ({ server, browser }) => {
  await browser.close();
  await server.close();
});
