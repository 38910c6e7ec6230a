// viewer-interaction.test.mjs — what a user does with the mouse and keys:
// click a span for its details and follow its flows, zoom and pan with
// W/A/S/D, the wheel and dragging, fit with F, reset with 0, select a range
// (ruler drag, Shift+drag) for the aggregate table, search with / and Enter.
// Everything goes through real input events; the numbers are checked
// against the trace's JSON.

import assert from "node:assert/strict";
import { launch, serve, openViewer, assertClean, screenshot, suite } from "./lib/harness.mjs";
import { generateTrace } from "./lib/gen-trace.mjs";
import { rangeTable, spansOf, ns } from "./lib/trace-facts.mjs";

const trace = generateTrace();
const events = trace.events;
const t = suite("viewer-interaction");
const state = (page) => page.evaluate(() => window.looptrace.state());
const near = (a, b, tol, what) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (±${tol})`);

// The canvas's plot area, in page coordinates.
async function plot(page) {
  return page.evaluate(() => {
    const r = document.getElementById("timeline").getBoundingClientRect();
    return { left: r.left + 180, right: r.right, top: r.top, ruler: r.top + 13, bottom: r.bottom };
  });
}

// Page x of trace time tUs in the current view.
async function xOf(page, tUs) {
  const st = await state(page);
  const p = await plot(page);
  return p.left + ((tUs - st.view.t0_us) * (p.right - p.left)) / (st.view.t1_us - st.view.t0_us);
}

async function clickSpan(page, id) {
  const r = await page.evaluate((s) => window.looptrace.spanRect(s), id);
  await page.mouse.click(r.x + Math.max(1, r.w) / 2, r.y + r.h / 2);
}

t.test("clicking a span shows its details: name, cat, times, self time, args, flows", async ({ page }) => {
  await page.keyboard.press("0");
  const work = events.find((e) => e.cat === "work" && e.args.task === 1);
  const id = await page.evaluate((ts) => window.looptrace.find({ cat: "work", ts_us: ts })[0], work.ts);
  await clickSpan(page, id);
  const st = await state(page);
  assert.equal(st.selection.id, id);
  const field = (k) => page.$eval(`#tab-details tr[data-field="${k}"] td`, (e) => e.textContent);
  assert.equal(await page.$eval("#tab-details h3", (e) => e.textContent), "pbkdf2");
  assert.equal(await field("category"), "work");
  assert.equal(await field("thread"), `worker 1 (tid ${work.tid})`);
  assert.equal(await field("start"), `${work.ts.toFixed(3)} µs (ts)`);
  assert.match(await field("duration"), new RegExp(`\\(${work.dur.toFixed(3)} µs\\)`));
  assert.match(await field("self time"), new RegExp(`\\(${work.dur.toFixed(3)} µs\\)`)); // no children
  const args = JSON.parse(await page.$eval("#tab-details pre.args", (e) => e.textContent));
  assert.deepEqual(args, work.args);
  const flows = await page.$$eval("#tab-details button.flow", (els) => els.map((e) => e.textContent));
  assert.equal(flows.length, 2);
  assert.match(flows[0], /^← from submit on event loop at /);
  assert.match(flows[1], /^→ to pbkdf2 on event loop at /);
});

t.test("following a flow selects the other end and scrolls it into view", async ({ page }) => {
  // Zoom in on the start of the worker span, so the completion is off screen.
  const work = (await state(page)).selection;
  await page.evaluate((w) => window.looptrace.setView(w.ts_us - 100, w.ts_us + 1000), work);
  let st = await state(page);
  const done = events.find((e) => e.cat === "callback" && e.args.task === 1);
  assert.ok(done.ts > st.view.t1_us, "the completion starts off screen");
  await page.click("#tab-details button.flow-out");
  st = await state(page);
  assert.equal(st.selection.cat, "callback");
  assert.equal(st.selection.lane, "event loop");
  assert.equal(st.selection.args.task, 1);
  near(st.selection.ts_us, done.ts, 1e-3, "completion ts");
  assert.ok(st.view.t0_us <= done.ts && done.ts + done.dur <= st.view.t1_us, "completion in view");
  assert.equal(await page.$eval("#tab-details h3", (e) => e.textContent), "pbkdf2");
  // And back: its incoming flow leads to the worker span.
  await page.click("#tab-details button.flow-in");
  st = await state(page);
  assert.equal(st.selection.cat, "work");
  assert.equal(st.selection.args.task, 1);
  // Its parent link goes up the stack.
  await page.keyboard.press("0");
  const cb = await page.evaluate(() => window.looptrace.select({ name: "setTimeout" }));
  assert.ok(cb >= 0);
  await page.click("#tab-details button.parent");
  st = await state(page);
  assert.equal(st.selection.name, "timers");
});

t.test("W/S zoom, A/D pan (Shift is faster), 0 resets, F fits the selection", async ({ page }) => {
  await page.mouse.move(5, 5); // keys zoom around the centre when the mouse is away
  await page.keyboard.press("Escape");
  await page.keyboard.press("0");
  const full = (await state(page)).view;
  const span = (v) => v.t1_us - v.t0_us;
  await page.keyboard.press("w");
  let v = (await state(page)).view;
  near(span(v), span(full) * 0.8, 1e-3, "w zooms in by 0.8");
  near((v.t0_us + v.t1_us) / 2, (full.t0_us + full.t1_us) / 2, 1e-3, "around the centre");
  await page.keyboard.press("Shift+W");
  v = (await state(page)).view;
  near(span(v), span(full) * 0.4, 1e-3, "Shift+W zooms in by 0.5");
  const before = v;
  await page.keyboard.press("d");
  v = (await state(page)).view;
  near(v.t0_us - before.t0_us, span(before) * 0.15, 1e-3, "d pans right by 15%");
  await page.keyboard.press("Shift+A");
  v = (await state(page)).view;
  near(v.t0_us - before.t0_us, span(before) * (0.15 - 0.45), 1e-3, "Shift+A pans left by 45%");
  await page.keyboard.press("s");
  v = (await state(page)).view;
  near(span(v), span(full) * 0.4 * 1.25, 1e-3, "s zooms out by 1.25");
  await page.keyboard.press("0");
  v = (await state(page)).view;
  near(v.t0_us, full.t0_us, 1e-6, "0 resets t0");
  near(v.t1_us, full.t1_us, 1e-6, "0 resets t1");
  const tick = events.filter((e) => e.cat === "tick")[3];
  await page.evaluate((ts) => window.looptrace.select({ cat: "tick", ts_us: ts }, false), tick.ts);
  await page.keyboard.press("f");
  v = (await state(page)).view;
  near(v.t0_us, tick.ts - tick.dur * 0.05, 1e-3, "f: t0 = start − 5%");
  near(v.t1_us, tick.ts + tick.dur * 1.05, 1e-3, "f: t1 = end + 5%");
});

t.test("the wheel zooms at the cursor; dragging pans", async ({ page }) => {
  await page.keyboard.press("Escape");
  await page.keyboard.press("0");
  const p = await plot(page);
  const x = p.left + (p.right - p.left) * 0.3;
  const y = p.top + 60;
  let v = (await state(page)).view;
  const tAt = (view) => view.t0_us + ((x - p.left) * (view.t1_us - view.t0_us)) / (p.right - p.left);
  const t0 = tAt(v);
  await page.mouse.move(x, y);
  await page.mouse.wheel(0, -300);
  await page.waitForFunction((old) => window.looptrace.state().view.t1_us - window.looptrace.state().view.t0_us < old,
                             v.t1_us - v.t0_us);
  v = (await state(page)).view;
  near(tAt(v), t0, (v.t1_us - v.t0_us) / 1000, "the time under the cursor stays put");
  const width = v.t1_us - v.t0_us;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x - 200, y, { steps: 4 });
  await page.mouse.up();
  const after = (await state(page)).view;
  near(after.t0_us - v.t0_us, (200 * width) / (p.right - p.left), width / 500, "drag left by 200 px pans right");
  near(after.t1_us - after.t0_us, width, 1e-6, "panning keeps the zoom");
  assert.equal((await state(page)).selection, null, "a drag is not a click");
});

t.test("dragging in the ruler selects a range: the aggregate table matches the trace", async ({ page }) => {
  await page.keyboard.press("0");
  const p = await plot(page);
  const a = p.left + 100, b = p.left + 700;
  await page.mouse.move(a, p.ruler);
  await page.mouse.down();
  await page.mouse.move(b, p.ruler, { steps: 5 });
  await page.mouse.up();
  const st = await state(page);
  assert.ok(st.range, "a range is selected");
  assert.equal(st.range.lanes, null, "all lanes");
  const expected = rangeTable(events, st.range.t0_us, st.range.t1_us);
  assert.equal(await page.$eval("#tabs button.active", (e) => e.dataset.tab), "range");
  const rows = await page.$$eval("#tab-range table.aggregate tbody tr", (trs) => trs.map((tr) => {
    const cell = (k) => tr.querySelector(`td[data-key="${k}"]`);
    return { name: tr.querySelector("td.name").textContent, count: +cell("count").textContent,
             total_us: +cell("total").dataset.us, self_us: +cell("self").dataset.us,
             avg_us: +cell("avg").dataset.us, min_us: +cell("min").dataset.us, max_us: +cell("max").dataset.us };
  }));
  assert.equal(rows.length, expected.length, "one row per name");
  for (const want of expected) {
    const got = rows.find((r) => r.name === want.name);
    assert.ok(got, `row ${want.name}`);
    assert.equal(got.count, want.count, `${want.name} count`);
    for (const k of ["total_us", "self_us", "avg_us", "min_us", "max_us"]) near(got[k], want[k], 1.5e-3, `${want.name} ${k}`);
  }
  // Sorted by total time, most first, and sortable by count.
  assert.deepEqual(rows.map((r) => r.total_us), rows.map((r) => r.total_us).slice().sort((x, y) => y - x));
  await page.click('#tab-range th[data-key="count"]');
  const counts = await page.$$eval('#tab-range td[data-key="count"]', (tds) => tds.map((td) => +td.textContent));
  assert.deepEqual(counts, counts.slice().sort((x, y) => y - x));
  await screenshot(page, "viewer-range");
});

t.test("Shift+drag over two worker lanes aggregates only those lanes", async ({ page }) => {
  await page.keyboard.press("0");
  const w1 = await page.evaluate(() => window.looptrace.spanRect(window.looptrace.find({ lane: "worker 1" })[0]));
  const w2 = await page.evaluate(() => window.looptrace.spanRect(window.looptrace.find({ lane: "worker 2" })[0]));
  const p = await plot(page);
  await page.keyboard.down("Shift");
  await page.mouse.move(p.left + 20, w1.y + 4);
  await page.mouse.down();
  await page.mouse.move(p.left + 900, w2.y + 4, { steps: 5 });
  await page.mouse.up();
  await page.keyboard.up("Shift");
  const st = await state(page);
  assert.deepEqual(st.range.lanes, ["worker 1", "worker 2"]);
  const tids = events.filter((e) => e.ph === "M" && e.name === "thread_name" &&
                             ["worker 1", "worker 2"].includes(e.args.name)).map((e) => e.tid);
  const expected = rangeTable(events, st.range.t0_us, st.range.t1_us, tids);
  assert.deepEqual(st.range.rows.map((r) => [r.name, r.count]), expected.map((r) => [r.name, r.count]));
  near(st.range.rows[0].total_us, expected[0].total_us, 1e-3, "total");
  assert.deepEqual(await page.$$eval("#tab-range td.name", (tds) => tds.map((td) => td.textContent)), ["pbkdf2"]);
  await page.keyboard.press("Escape");
});

t.test("? shows the keys, Esc hides them", async ({ page }) => {
  await page.mouse.click(400, 300);
  assert.equal(await page.isVisible("#help"), false);
  await page.keyboard.press("?");
  assert.equal(await page.isVisible("#help"), true);
  assert.match(await page.textContent("#help"), /W \/ S.*zoom/s);
  await page.keyboard.press("Escape");
  assert.equal(await page.isVisible("#help"), false);
});

t.test("the splitter gives the timeline more room", async ({ page }) => {
  const before = (await state(page)).view.height;
  const bar = await page.evaluate(() => document.getElementById("splitter").getBoundingClientRect().toJSON());
  await page.mouse.move(bar.left + 200, bar.top + 2);
  await page.mouse.down();
  await page.mouse.move(bar.left + 200, bar.top + 102, { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction((h) => window.looptrace.state().view.height > h + 90, before);
  near((await state(page)).view.height, before + 100, 2, "canvas height");
});

t.test("/ focuses the search; hits are counted; Enter steps through them in time order", async ({ page }) => {
  await page.keyboard.press("0");
  await page.mouse.click(400, 300); // focus on the page, not the search box
  await page.keyboard.press("/");
  assert.equal(await page.evaluate(() => document.activeElement.id), "search");
  await page.keyboard.type("PBKDF");
  const hits = spansOf(events, (e) => e.name.toLowerCase().includes("pbkdf"))
    .sort((a, b) => ns(a.ts) - ns(b.ts));
  assert.equal(hits.length, 10);
  assert.equal(await page.textContent("#search-count"), "– / 10");
  await page.keyboard.press("Enter");
  assert.equal(await page.textContent("#search-count"), "1 / 10");
  let st = await state(page);
  near(st.selection.ts_us, hits[0].ts, 1e-3, "first hit");
  await page.keyboard.press("Enter");
  await page.keyboard.press("Enter");
  st = await state(page);
  assert.equal(await page.textContent("#search-count"), "3 / 10");
  near(st.selection.ts_us, hits[2].ts, 1e-3, "third hit");
  await page.keyboard.press("Shift+Enter");
  assert.equal(await page.textContent("#search-count"), "2 / 10");
  // Step to the last hit, a completion callback: it is scrolled into view.
  for (let i = 0; i < 8; i++) await page.keyboard.press("Enter");
  st = await state(page);
  assert.equal(await page.textContent("#search-count"), "10 / 10");
  near(st.selection.ts_us, hits[9].ts, 1e-3, "last hit");
  assert.ok(st.view.t0_us <= hits[9].ts && hits[9].ts <= st.view.t1_us, "last hit in view");
  await page.fill("#search", "no such span");
  assert.equal(await page.textContent("#search-count"), "no match");
  await page.fill("#search", "setInterval");
  assert.equal((await state(page)).search.hits, events.filter((e) => e.name === "setInterval").length);
  await page.fill("#search", "");
  assert.equal((await state(page)).search, null);
  await page.keyboard.press("Escape"); // leaves the search box
  assert.notEqual(await page.evaluate(() => document.activeElement.id), "search");
  assertClean(page);
});

await t.run(async () => {
  const server = await serve(undefined, { "/trace.json": trace.text });
  const browser = await launch();
  const page = await openViewer(browser.context, server.origin, "/");
  return { server, browser, page };
}, async ({ server, browser }) => {
  await browser.close();
  await server.close();
});
