// viewer-summary.test.mjs — the summary panel and window.looptrace.summary()
// give the figures of tracer/TRACE-FORMAT.md ("Summary figures", "The
// summary as JSON"): the same keys, the same definitions. The expected
// values are computed again here, independently, from the trace's JSON
// (lib/reference.mjs). The panel shows them and draws its four charts.

import assert from "node:assert/strict";
import { launch, serve, openViewer, openFile, assertClean, screenshot, suite } from "./lib/harness.mjs";
import { generateTrace } from "./lib/gen-trace.mjs";
import { referenceSummary, assertClose } from "./lib/reference.mjs";

const trace = generateTrace();
const t = suite("viewer-summary");

const TOP_KEYS = ["recording_us", "loop_utilization", "ticks", "phases", "callbacks", "threadpool",
                  "longest_ticks", "drops", "warnings", "missing"];

t.test("summary() has exactly the documented keys and shapes", async ({ page }) => {
  const s = await page.evaluate(() => window.looptrace.summary());
  assert.deepEqual(Object.keys(s), TOP_KEYS);
  assert.deepEqual(Object.keys(s.ticks), ["count", "cut", "per_s", "p50_us", "p99_us", "max_us"]);
  for (const p of s.phases)
    assert.deepEqual(Object.keys(p), ["name", "count", "total_us", "share", "p50_us", "p99_us", "max_us"]);
  for (const c of s.callbacks) assert.deepEqual(Object.keys(c), ["name", "kind", "count", "total_us", "self_us"]);
  assert.deepEqual(Object.keys(s.threadpool),
                   ["tasks", "queue_wait_us", "run_us", "peak_concurrency", "workers"]);
  assert.deepEqual(Object.keys(s.threadpool.queue_wait_us), ["p50", "p99", "max"]);
  assert.deepEqual(Object.keys(s.threadpool.run_us), ["p50", "p99"]);
  for (const w of s.threadpool.workers)
    assert.deepEqual(Object.keys(w), ["name", "tid", "tasks", "busy_us", "busy_share"]);
  for (const lt of s.longest_ticks) {
    assert.deepEqual(Object.keys(lt), ["tick", "ts_us", "dur_us", "busy_us", "callbacks"]);
    assert.ok(lt.callbacks.length <= 5);
    for (const c of lt.callbacks) assert.deepEqual(Object.keys(c), ["name", "kind", "dur_us"]);
  }
  assert.equal(s.longest_ticks.length, 5);
  assert.ok(s.callbacks.length <= 10);
  assert.deepEqual(s.warnings, []);
  assert.deepEqual(s.missing, []);
  // Times have at most three decimals.
  const decimals = (v) => (String(v).split(".")[1] || "").length;
  for (const v of [s.recording_us, s.ticks.p50_us, s.threadpool.queue_wait_us.max, ...s.phases.map((p) => p.total_us)])
    assert.ok(decimals(v) <= 3, `${v} has at most 3 decimals`);
});

t.test("summary() figures equal those computed independently from the JSON", async ({ page }) => {
  const s = await page.evaluate(() => window.looptrace.summary());
  const ref = referenceSummary(trace.events);
  assertClose(s, ref);
  // The scenario, in plain words: 5 tasks on 4 workers, the fifth waited
  // for a free worker (≈ one task's run time), worker 1 ran two tasks.
  assert.equal(s.threadpool.tasks, 5);
  assert.equal(s.threadpool.peak_concurrency, 4);
  assert.ok(s.threadpool.queue_wait_us.max > 30_000, "the fifth task waited > 30 ms");
  assert.ok(s.threadpool.queue_wait_us.p50 < 100, "the others started at once");
  assert.deepEqual(s.threadpool.workers.map((w) => w.tasks), [2, 1, 1, 1]);
  assert.deepEqual(s.phases.map((p) => p.name), ["timers", "pending", "poll", "check", "close"]);
  assert.equal(s.drops, 0);
});

t.test("the summary panel shows the figures, tables and four drawn charts", async ({ page }) => {
  await page.click('#tabs button[data-tab="summary"]');
  const s = await page.evaluate(() => window.looptrace.summary());
  const fig = (k) => page.$eval(`#tab-summary [data-figure="${k}"] .value`, (e) => e.textContent);
  assert.equal(await fig("loop_utilization"), `${(s.loop_utilization * 100).toFixed(1)} %`);
  assert.equal(await fig("tasks"), "5");
  assert.equal(await fig("peak_concurrency"), "4");
  assert.equal(await fig("drops"), "0");
  assert.match(await fig("ticks"), new RegExp(`^${s.ticks.count} \\(`));
  const phaseRows = await page.$$eval("#tab-summary table.phases tbody tr",
    (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  assert.deepEqual(phaseRows.map((r) => r[0]), s.phases.map((p) => p.name));
  assert.deepEqual(phaseRows.map((r) => +r[1]), s.phases.map((p) => p.count));
  assert.deepEqual(phaseRows.map((r) => +r[2]), s.phases.map((p) => p.total_us));
  const workers = await page.$$eval("#tab-summary table.workers tbody tr td:first-child", (tds) => tds.map((t) => t.textContent));
  assert.deepEqual(workers, ["worker 1", "worker 2", "worker 3", "worker 4"]);
  const json = JSON.parse(await page.$eval("#summary-json", (e) => e.textContent));
  assert.deepEqual(json, s);
  // Each chart has drawn something: count non-blank pixels.
  for (const id of ["chart-phases", "chart-utilization", "chart-queue-wait", "chart-workers"]) {
    const inked = await page.$eval(`#${id}`, (c) => {
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n;
    });
    assert.ok(inked > 500, `${id} has ink (${inked} px)`);
  }
  // The poll bar is the longest of the phase chart, in poll's colour.
  const pollBar = await page.$eval("#chart-phases", (c) => {
    const ctx = c.getContext("2d");
    const rows = [];
    for (let y = 0; y < c.height; y++) {
      let run = 0;
      for (let x = 0; x < c.width; x++) {
        const d = ctx.getImageData(x, y, 1, 1).data;
        if (d[0] === 0x4a && d[1] === 0x90 && d[2] === 0xd9) run++;
      }
      rows.push(run);
    }
    return Math.max(...rows);
  });
  assert.ok(pollBar > 100, `poll bar is long (${pollBar} px)`);
  await page.evaluate(() => document.querySelector("#tab-summary").scrollTo(0, 0));
  await screenshot(page, "viewer-summary");
});

t.test("a longest tick's link selects that tick on the timeline", async ({ page }) => {
  const s = await page.evaluate(() => window.looptrace.summary());
  await page.click("#tab-summary table.longest tbody tr:first-child button");
  const st = await page.evaluate(() => window.looptrace.state());
  assert.equal(st.selection.cat, "tick");
  assert.equal(st.selection.args.tick, s.longest_ticks[0].tick);
  assert.ok(Math.abs(st.selection.dur_us - s.longest_ticks[0].dur_us) < 1e-6);
});

t.test("a recording cut short: figures from what was read, the warning listed", async ({ page }) => {
  // Cut in the middle of a line two thirds in: the final facts (duration_us,
  // drops) are lost, so recording length comes from the spans.
  const cut = trace.text.indexOf("\n", Math.floor(trace.text.length * 0.66)) + 20;
  const text = trace.text.slice(0, cut);
  const read = JSON.parse(text.slice(0, text.lastIndexOf(",\n")) + "]");
  const st = await openFile(page, "cut.json", text);
  assert.equal(st.loaded, true);
  const s = await page.evaluate(() => window.looptrace.summary());
  assert.deepEqual(s.warnings, [`file ends without ']' (recording cut short?); read ${read.length} events`]);
  assertClose(s, referenceSummary(read));
  assert.equal(s.drops, 0, "no final count and no dropped instants: none seen");
  await page.click('#tabs button[data-tab="summary"]');
  assert.equal(await page.textContent("#tab-summary ul.notes li.warning"), s.warnings[0]);
  // The page says it too, above the timeline.
  assert.match(await page.textContent("#banners .banner.warning"), /recording cut short/);
});

t.test("losses: the final count, or in a file cut before it the dropped instants", async ({ page }) => {
  const lossy = generateTrace({ dropped: [[20_000_000, 7], [30_000_000, 5]] });
  let st = await openFile(page, "lossy.json", lossy.text);
  // The instants show in their own lane, after the process's threads.
  const markers = st.lanes.filter((l) => l.kind === "markers");
  assert.deepEqual(markers.map((l) => [l.name, l.spans]), [["process events", 2]]);
  assert.equal(st.lanes[st.lanes.length - 1].kind, "markers");
  assert.equal((await page.evaluate(() => window.looptrace.summary())).drops, 12);
  // Cut after the first loss: the final facts are gone, the instant counts.
  const cut = lossy.text.slice(0, lossy.text.indexOf('"records":7}') + 20);
  st = await openFile(page, "lossy-cut.json", cut);
  assert.equal(st.warnings.length, 1);
  assert.equal((await page.evaluate(() => window.looptrace.summary())).drops, 7);
});

t.test("a trace from another producer: what cannot be computed is null, and missing says why", async ({ page }) => {
  const text = JSON.stringify({ traceEvents: [
    { name: "thread_name", ph: "M", pid: 1, tid: 1, args: { name: "main" } },
    { name: "task", cat: "app", ph: "X", ts: 10, dur: 5, pid: 1, tid: 1 },
    { name: "task", cat: "app", ph: "X", ts: 20, dur: 7, pid: 1, tid: 1 },
  ] });
  await openFile(page, "other.json", text);
  const s = await page.evaluate(() => window.looptrace.summary());
  assert.deepEqual(s, {
    recording_us: 17, loop_utilization: null, ticks: null, phases: [], callbacks: [],
    threadpool: null, longest_ticks: [], drops: null, warnings: [],
    missing: [
      'loop_utilization: no spans with cat "tick"',
      'ticks: no spans with cat "tick"',
      'phases: no spans with cat "phase"',
      'callbacks: no spans with cat "callback"',
      'threadpool: no spans with cat "work"',
      'longest_ticks: no spans with cat "tick"',
      'drops: not a looptrace recording (no "looptrace" metadata)',
    ],
  });
  await page.click('#tabs button[data-tab="summary"]');
  assert.equal(await page.$eval('#tab-summary [data-figure="loop_utilization"] .value', (e) => e.textContent), "–");
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
