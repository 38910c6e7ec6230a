// viewer-cut.test.mjs — spans cut by the recording's limits (args "cut":
// "end" | "start" | "both", legacy "incomplete": true) and busy time
// (tracer/TRACE-FORMAT.md, "Summary figures"): a cut span is drawn with a
// torn edge on its cut side and says so in the details pane; it is never
// ranked as a longest tick nor enters a percentile; the longest ticks are
// ranked by busy time (the tick minus its waits) and show busy and wall
// time. On generated recordings and, with BPF, on a real one stopped by -d
// while the loop and its workers were busy.
// timeout: 120

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { launch, serve, openViewer, openFile, assertClean, screenshot, suite, BUILD } from "./lib/harness.mjs";
import { generateTrace } from "./lib/gen-trace.mjs";
import { referenceSummary, assertClose } from "./lib/reference.mjs";
import { ns } from "./lib/trace-facts.mjs";

const trace = generateTrace({ cutStart: true, cutEnd: true, fsEvery: 3, intervals: 20 });
const isCut = (e) => e.args && (e.args.cut !== undefined || e.args.incomplete === true);
const ticksOf = (events) => events.filter((e) => e.ph === "X" && e.cat === "tick");
// Busy time of tick `t`, straight from the JSON: its dur minus its waits.
const busyOf = (events, t) => ns(t.dur) - events
  .filter((e) => e.ph === "X" && e.cat === "wait" && e.tid === t.tid &&
                 ns(e.ts) >= ns(t.ts) && ns(e.ts) + ns(e.dur) <= ns(t.ts) + ns(t.dur))
  .reduce((a, e) => a + ns(e.dur), 0);

const t = suite("viewer-cut");
const L = (page, fn, arg) => page.evaluate(fn, arg);

t.test("cut ticks are counted, but never ranked nor in a percentile", async ({ page }) => {
  const st = await openFile(page, "cut.json", trace.text);
  assert.equal(st.loaded, true, st.error);
  const s = await L(page, () => window.looptrace.summary());
  assertClose(s, referenceSummary(trace.events));
  const ticks = ticksOf(trace.events);
  const cut = ticks.filter(isCut);
  assert.equal(cut.length, 2, "the generator cut the first and the last tick");
  assert.equal(s.ticks.count, ticks.length);
  assert.equal(s.ticks.cut, 2);
  // The cut ticks are the two longest by wall and by busy time: a reader
  // that forgot them would rank them first and take them as the max.
  const cutNs = cut.map((e) => ns(e.dur));
  assert.ok(Math.min(...cutNs) > Math.max(...ticks.filter((e) => !isCut(e)).map((e) => ns(e.dur))));
  assert.ok(s.ticks.max_us * 1000 < Math.min(...cutNs), `max ${s.ticks.max_us} µs leaves cut ticks out`);
  const cutNumbers = cut.map((e) => e.args.tick);
  for (const lt of s.longest_ticks)
    assert.ok(!cutNumbers.includes(lt.tick), `tick ${lt.tick} is cut but ranked`);
});

t.test("longest ticks are ranked by busy time and show busy and wall time", async ({ page }) => {
  const s = await L(page, () => window.looptrace.summary());
  const whole = ticksOf(trace.events).filter((e) => !isCut(e));
  const want = whole.map((e) => ({ tick: e.args.tick, busy: busyOf(trace.events, e), wall: ns(e.dur), ts: ns(e.ts) }))
    .sort((a, b) => b.busy - a.busy || a.ts - b.ts).slice(0, 5);
  assert.deepEqual(s.longest_ticks.map((x) => x.tick), want.map((x) => x.tick));
  s.longest_ticks.forEach((x, i) => {
    assert.equal(Math.round(x.busy_us * 1000), want[i].busy, `tick ${x.tick} busy`);
    assert.equal(Math.round(x.dur_us * 1000), want[i].wall, `tick ${x.tick} wall`);
  });
  // Ticks that waited ~5 ms in poll for the interval are left out for
  // shorter ones that kept the loop busy longer: ranked by busy time, not
  // wall time.
  const listed = new Set(s.longest_ticks.map((x) => x.tick));
  const shortestListed = Math.min(...s.longest_ticks.map((x) => x.dur_us * 1000));
  assert.ok(whole.some((e) => !listed.has(e.args.tick) && ns(e.dur) > 10 * shortestListed),
            "a longer tick that mostly waited is not listed");
  await page.click('#tabs button[data-tab="summary"]');
  const panel = await page.$eval("#tab-summary", (el) => el.textContent);
  assert.match(panel, /Longest busy ticks \(what blocked the loop\)/);
  const head = await page.$$eval("#tab-summary table.longest thead th", (ths) => ths.map((th) => th.textContent));
  assert.deepEqual(head.slice(0, 4), ["tick", "at µs", "busy µs", "wall µs"]);
  const first = await page.$$eval("#tab-summary table.longest tbody tr:first-child td", (tds) => tds.map((td) => td.textContent));
  assert.equal(first[0], `#${s.longest_ticks[0].tick}`);
  assert.equal(first[2], String(s.longest_ticks[0].busy_us));
  assert.equal(first[3], String(s.longest_ticks[0].dur_us));
  assert.match(await page.textContent('#tab-summary [data-figure="tick_durations"] .label'), /2 cut left out/);
  await screenshot(page, "viewer-cut-summary");
  await page.click('#tabs button[data-tab="details"]');
});

// How many near-white pixels of the timeline canvas lie within 4 px of
// x (inward: dir +1 to the right, -1 to the left), over rows y .. y + h:
// the notches of a torn edge show as background inside the span.
const notchPixels = (page, x, dir, y, h) => L(page, ([x, dir, y, h]) => {
  const ctx = document.getElementById("timeline").getContext("2d");
  let n = 0;
  for (let r = Math.ceil(y); r < y + h - 1; r++) {
    for (let i = 1; i <= 4; i++) {
      const d = ctx.getImageData(Math.floor(x + dir * i), r, 1, 1).data;
      if (d[0] > 245 && d[1] > 245 && d[2] > 245) n++;
    }
  }
  return n;
}, [x, dir, y, h]);

// The box of span s on the canvas after fitting the view around it.
async function fitted(page, s) {
  const sp = await L(page, (id) => window.looptrace.span(id), s);
  const pad = sp.dur_us * 0.25;
  await L(page, ([a, b]) => window.looptrace.setView(a, b), [sp.ts_us - pad, sp.ts_us + sp.dur_us + pad]);
  await L(page, (id) => window.looptrace.reveal(id), s);
  return L(page, (id) => {
    const r = window.looptrace.spanRect(id);
    const c = document.getElementById("timeline").getBoundingClientRect();
    return { x: r.x - c.left, y: r.y - c.top, w: r.w, h: r.h };
  }, s);
}

t.test("a cut span has a torn edge on its cut side only; a whole one has none", async ({ page }) => {
  const ticks = await L(page, () => window.looptrace.find({ cat: "tick" }));
  const last = ticks[ticks.length - 1], first = ticks[0], middle = ticks[3];
  const edges = async (s) => {
    const b = await fitted(page, s);
    return [await notchPixels(page, b.x, 1, b.y, b.h), await notchPixels(page, b.x + b.w, -1, b.y, b.h)];
  };
  let [start, end] = await edges(last);
  assert.ok(end >= 8 && start === 0, `cut at end: torn end (${end} px), whole start (${start} px)`);
  await screenshot(page, "viewer-cut-end");
  [start, end] = await edges(first);
  assert.ok(start >= 8 && end === 0, `cut at start: torn start (${start} px), whole end (${end} px)`);
  [start, end] = await edges(middle);
  assert.ok(start === 0 && end === 0, `whole tick: no notch (${start}, ${end} px)`);
});

t.test("the details pane and the tooltip say where a span was cut", async ({ page }) => {
  const ticks = await L(page, () => window.looptrace.find({ cat: "tick" }));
  const cases = [[ticks[ticks.length - 1], "end", /^cut at end: it had not ended/],
                 [ticks[0], "start", /^cut at start: it began before/]];
  for (const [s, side, text] of cases) {
    await L(page, (id) => window.looptrace.select(id), s);
    assert.equal((await L(page, () => window.looptrace.state())).selection.cut, side);
    assert.match(await page.textContent('#tab-details tr[data-field="cut"] td'), text);
    const r = await L(page, (id) => window.looptrace.spanRect(id), s);
    await page.mouse.move(r.x + r.w / 2, r.y + r.h / 2);
    assert.match(await page.textContent("#tooltip"), new RegExp(`\\(cut at ${side}\\)$`));
  }
  // A whole span has no cut row.
  await L(page, (id) => window.looptrace.select(id), ticks[3]);
  assert.equal(await page.$('#tab-details tr[data-field="cut"]'), null);
  assert.equal((await L(page, () => window.looptrace.state())).selection.cut, null);
});

t.test('legacy "incomplete": true is read as cut at end', async ({ page }) => {
  const legacy = generateTrace({ cutEnd: true, legacyCut: true });
  await openFile(page, "legacy.json", legacy.text);
  const s = await L(page, () => window.looptrace.summary());
  assertClose(s, referenceSummary(legacy.events));
  assert.equal(s.ticks.cut, 1);
  const last = ticksOf(legacy.events).pop();
  assert.ok(!s.longest_ticks.some((x) => x.tick === last.args.tick));
  const id = await L(page, (ts) => window.looptrace.select({ cat: "tick", ts_us: ts }), last.ts);
  assert.equal((await L(page, (i) => window.looptrace.span(i), id)).cut, "end");
  assert.match(await page.textContent('#tab-details tr[data-field="cut"] td'), /^cut at end/);
  assertClean(page);
});

// A real recording stopped by -d while the loop waited for four pbkdf2
// tasks: the tick, its poll phase and the tasks are cut at end. Each task
// takes over a second of CPU (2M iterations) and -d counts from the attach,
// so the stop falls inside them however loaded the machine is.
const LOOPTRACE = process.env.LOOPTRACE_BIN || path.join(BUILD, "looptrace");
const THREADS = path.join(BUILD, "examples/threads");
t.test("a real recording cut by -d: cut spans drawn and left out of the rankings", async ({ page }) => {
  if (process.getuid() !== 0 || !fs.existsSync(THREADS)) {
    if (process.env.LOOPTRACE_REQUIRE_BPF === "1") throw new Error("BPF required: root and build/examples/threads");
    console.log("        (not root or no build/examples/threads: real recording left out)");
    return;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "looptrace-cut-"));
  try {
    const file = path.join(tmp, "cut.json");
    const rec = spawnSync(LOOPTRACE, ["record", "-q", "-d", "0.3", "-o", file, "--", THREADS,
                                      "--tasks", "4", "--iterations", "2000000"],
                          { encoding: "utf8", timeout: 60_000 });
    assert.equal(rec.status, 0, `record: ${rec.stderr}`);
    const text = fs.readFileSync(file, "utf8");
    const events = JSON.parse(text);
    fs.mkdirSync(path.join(BUILD, "screenshots"), { recursive: true });
    fs.copyFileSync(file, path.join(BUILD, "screenshots", "viewer-cut-recording.json"));
    const cut = events.filter((e) => e.ph === "X" && isCut(e));
    assert.ok(cut.some((e) => e.cat === "tick"), "the tick waiting for the pool was cut by -d");
    const st = await openFile(page, "recording-cut.json", text);
    assert.equal(st.loaded, true);
    // Every span the file marks cut is drawn cut, and no other.
    const drawnCut = await L(page, () => {
      const L = window.looptrace;
      return L.find({}).map((s) => L.span(s)).filter((x) => x.cut !== null)
        .map((x) => `${x.tid}:${x.name}:${x.ts_us.toFixed(3)}`).sort();
    });
    assert.deepEqual(drawnCut, cut.map((e) => `${e.tid}:${e.name}:${e.ts.toFixed(3)}`).sort());
    const s = await L(page, () => window.looptrace.summary());
    assertClose(s, referenceSummary(events));
    const cutTicks = new Set(cut.filter((e) => e.cat === "tick").map((e) => e.args.tick));
    assert.equal(s.ticks.cut, cutTicks.size);
    for (const lt of s.longest_ticks) assert.ok(!cutTicks.has(lt.tick), `cut tick ${lt.tick} ranked`);
    await page.click('#tabs button[data-tab="summary"]');
    await screenshot(page, "viewer-cut-recording-summary");
    await page.click('#tabs button[data-tab="details"]');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  assertClean(page);
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
