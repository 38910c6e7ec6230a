// viewer-formats.test.mjs — traces from other producers open too: Node's
// --trace-events-enabled output (object form, B/E pairs, async b/e, big
// absolute timestamps), instants, counters, flow v1 (s/t/f), X events
// without our categories, unsorted files, ties, and partial overlaps (an
// overflow row with a warning). The fixtures are written by hand below.

import assert from "node:assert/strict";
import fs from "node:fs";
import { launch, serve, openViewer, openFile, assertClean, screenshot, suite } from "./lib/harness.mjs";

const t = suite("viewer-formats");
const state = (page) => page.evaluate(() => window.looptrace.state());
const find = (page, spec) => page.evaluate((s) => window.looptrace.find(s).map((id) => window.looptrace.span(id)), spec);

// Shaped like `node --trace-events-enabled` output (node_trace.1.log): the
// object form, µs timestamps from an arbitrary clock, B/E from
// node.environment, async b/e from async_hooks, v8 X events, a counter,
// instants, and a v1 flow from the main thread to a platform worker.
// The fixture (fixtures/node-trace.json) is shaped like `node
// --trace-events-enabled` output (node_trace.1.log): the object form, µs
// timestamps from an arbitrary clock starting at T0, B/E from
// node.environment, async b/e from async_hooks, v8 X events (the worker's
// written first, out of time order), a counter, instants, and a v1 flow
// from the main thread to a platform worker.
const T0 = 286457123000;
const nodeText = fs.readFileSync(new URL("./fixtures/node-trace.json", import.meta.url), "utf8");

t.test("Node's object-form trace: lanes, B/E pairs, nesting, timestamps", async ({ page }) => {
  const st = await openFile(page, "node_trace.1.log", nodeText);
  assert.equal(st.error, null);
  assert.deepEqual(st.warnings, []);
  assert.deepEqual(st.lanes.map((l) => [l.kind, l.name]), [
    ["thread", "JavaScriptMainThread"], // the main thread (tid = pid) first
    ["thread", "PlatformWorkerThread"],
    ["async", "async"],
    ["counter", "heap"],
    ["markers", "global events"],
  ]);
  // Times are shown from the first event; ts values stay the file's.
  assert.equal(st.view.start_us, T0);
  const [run] = await find(page, { name: "RunTimers" });
  assert.equal(run.ts_us, T0);
  assert.equal(run.dur_us, 400);
  assert.deepEqual(run.args, { timers: 2 }, "B and E args merge, E winning");
  assert.equal(run.depth, 0);
  const [compile] = await find(page, { name: "V8.ScriptCompiler" });
  assert.equal(compile.depth, 1, "X nests inside the B/E span");
  assert.equal(run.self_us, 150, "self = 400 − 250");
  const [mark] = await find(page, { name: "mark: ready" });
  assert.equal(mark.dur_us, 0);
  assert.equal(mark.lane, "JavaScriptMainThread");
  const [wrap] = await find(page, { name: "TIMERWRAP" });
  assert.equal(wrap.lane, "async");
  assert.equal(wrap.dur_us, 890);
  assert.equal(st.lanes[3].samples, 2);
  assert.deepEqual(st.lanes[3].series, ["used", "total"]);
});

t.test("a v1 flow (s → f with bp:e) binds to the enclosing slices and is drawn", async ({ page }) => {
  const st = await state(page);
  assert.equal(st.flows.arrows, 1);
  assert.equal(st.flows.drawn, 1);
  const [compile] = await find(page, { name: "V8.ScriptCompiler" });
  assert.equal(compile.flows.length, 1);
  const other = await page.evaluate((id) => window.looptrace.span(id), compile.flows[0].span);
  assert.equal(other.name, "V8.GC_SCAVENGER_BACKGROUND");
  // Clicking the span shows the flow in the details, and following it works.
  await page.evaluate((id) => window.looptrace.select(id), compile.id);
  await page.click("#tab-details button.flow-out");
  assert.equal((await state(page)).selection.name, "V8.GC_SCAVENGER_BACKGROUND");
  await screenshot(page, "viewer-node-trace");
});

t.test("array form with instants, X events without our categories, ties broken by (ts, −dur, file order)", async ({ page }) => {
  const ev = (name, ts, dur, extra = {}) => ({ name, ph: "X", ts, dur, pid: 1, tid: 2, ...extra });
  const text = JSON.stringify([
    ev("child", 10, 5), // written before its parent, same start
    ev("parent", 10, 50),
    ev("twin-a", 100, 20), // equal ts and dur: the first in the file is the parent
    ev("twin-b", 100, 20),
    ev("zero", 30, 0), // zero duration inside parent
    { name: "tick", ph: "i", ts: 40, pid: 1, tid: 2 }, // thread instant ('t' is the default scope)
    { name: "phase-change", ph: "i", s: "p", ts: 45, pid: 1, tid: 2 },
  ]);
  const st = await openFile(page, "plain.json", text);
  assert.deepEqual(st.warnings, []);
  const depth = async (name) => (await find(page, { name }))[0].depth;
  assert.equal(await depth("parent"), 0);
  assert.equal(await depth("child"), 1);
  assert.equal(await depth("twin-a"), 0);
  assert.equal(await depth("twin-b"), 1);
  assert.equal(await depth("zero"), 1);
  assert.equal(await depth("tick"), 1);
  assert.deepEqual(st.lanes.map((l) => [l.kind, l.name]), [["thread", "thread 2"], ["markers", "process events"]]);
  const [parent] = await find(page, { name: "parent" });
  assert.equal(parent.self_us, 45, "zero-length children and instants take no time");
});

t.test("a span that partly overlaps its neighbour goes to an overflow row, with a warning", async ({ page }) => {
  const text = JSON.stringify([
    { name: "thread_name", ph: "M", pid: 1, tid: 1, args: { name: "main" } },
    { name: "a", ph: "X", ts: 0, dur: 100, pid: 1, tid: 1 },
    { name: "a-child", ph: "X", ts: 10, dur: 20, pid: 1, tid: 1 },
    { name: "b", ph: "X", ts: 50, dur: 100, pid: 1, tid: 1 }, // starts in a, ends after it
    { name: "c", ph: "X", ts: 60, dur: 100, pid: 1, tid: 1 }, // overlaps b too
  ]);
  const st = await openFile(page, "overlap.json", text);
  const main = st.lanes[0];
  assert.equal(main.rows, 2, "a and its child");
  assert.equal(main.overflowRows, 2, "b and c cannot share one overflow row");
  assert.deepEqual(st.warnings, ["2 spans on 'main' partly overlap the span they start in; " +
                                 "drawn in an overflow row below the lane"]);
  assert.match(await page.textContent("#banners .banner.warning"), /2 spans on 'main' partly overlap/);
  const b = await page.evaluate(() => window.looptrace.select({ name: "b" }));
  assert.ok(b >= 0);
  assert.equal(await page.textContent('#tab-details tr[data-field="depth"] td'), "overflow row");
  assert.match(await page.textContent('#tab-details tr[data-field="note"] td'), /overflow/);
  // The overflow span is clickable where it is drawn.
  await page.keyboard.press("Escape");
  const r = await page.evaluate((id) => window.looptrace.spanRect(id), b);
  await page.mouse.click(r.x + r.w * 0.9, r.y + r.h / 2);
  assert.equal((await state(page)).selection.name, "b");
});

t.test("unmatched B/E and unknown phases are reported, not fatal", async ({ page }) => {
  const text = JSON.stringify([
    { name: "open", ph: "B", ts: 0, pid: 1, tid: 1 },
    { name: "done", ph: "X", ts: 5, dur: 10, pid: 1, tid: 1 },
    { name: "stray", ph: "E", ts: 3, pid: 1, tid: 9 },
    { name: "sample", ph: "P", ts: 4, pid: 1, tid: 1 },
  ]);
  const st = await openFile(page, "odd.json", text);
  assert.equal(st.loaded, true);
  assert.deepEqual(st.warnings, [
    "1 end events match no begin (ignored)",
    "1 begin events never end; drawn up to the end of the trace",
    "events of phases this viewer does not draw: 1 × 'P'",
  ]);
  const [open] = await find(page, { name: "open" });
  assert.equal(open.dur_us, 15, "drawn up to the last moment of the trace");
  assertClean(page);
});

t.test("many threads: lanes scroll, and a search hit on a far lane is scrolled into view", async ({ page }) => {
  const events = [];
  for (let tid = 1; tid <= 60; tid++) {
    events.push({ name: "thread_name", ph: "M", pid: 5, tid, args: { name: `t${tid}` } });
    events.push({ name: `job-${tid}`, ph: "X", ts: tid * 10, dur: 500, pid: 5, tid });
  }
  const st = await openFile(page, "many.json", JSON.stringify(events));
  assert.equal(st.lanes.length, 60);
  assert.equal(st.view.scrollY, 0);
  await page.fill("#search", "job-60");
  await page.press("#search", "Enter");
  const after = await state(page);
  assert.equal(after.selection.lane, "t60");
  assert.ok(after.view.scrollY > 0, "scrolled down");
  const r = await page.evaluate((id) => window.looptrace.spanRect(id), after.selection.id);
  const c = await page.evaluate(() => document.getElementById("timeline").getBoundingClientRect().toJSON());
  assert.ok(r.y >= c.top + 26 && r.y + r.h <= c.bottom, `the hit is on screen (${r.y} in ${c.top}..${c.bottom})`);
  // The wheel over the lane names scrolls back up.
  await page.mouse.move(c.left + 50, c.top + 200);
  await page.mouse.wheel(0, -5000);
  await page.waitForFunction(() => window.looptrace.state().view.scrollY === 0);
  await page.fill("#search", "");
});

await t.run(async () => {
  const server = await serve();
  const browser = await launch();
  const page = await openViewer(browser.context, server.origin, "/");
  return { server, browser, page };
}, async ({ server, browser }) => {
  await browser.close();
  await server.close();
});
