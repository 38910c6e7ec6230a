// viewer-worker.test.mjs — a big trace is read off the page's thread: a
// worker (js/load-worker.js) fetches or reads it, inflates gzip, scans it
// into columns and hands them over; where no worker can start (a page
// opened from disk) the page reads it itself. Both ways show the same
// thing: every span's details (args, cut, flows), the lanes, the flows,
// the summary, a search, and the warnings of a file cut short. Past 32 MB
// (8 MB here) a second worker reads every other batch of lines.
// timeout: 600 (at a load average of 18 it took 281 s)

import assert from "node:assert/strict";
import path from "node:path";
import zlib from "node:zlib";
import { launch, serve, openViewer, waitLoads, assertClean, guard, suite, VIEWER } from "./lib/harness.mjs";
import { generateTrace, generateLargeTrace } from "./lib/gen-trace.mjs";

// Everything the viewer reads: cut spans, triggers, drops, flows, counters,
// labels that need JSON's escapes (read by JSON.parse, not the byte reader).
const trace = generateTrace({
  cutStart: true, cutEnd: true, fsEvery: 2, intervals: 60, dropped: [[30_000_000, 12]],
  triggers: [[90_000_000, "tick>50ms", 81234.5]],
  labels: ['say "hi"\\n', "tab\there", "µs-größe", "<img src=x onerror=alert(1)>", "emoji 🚀"],
});
// Over 16 MB: fetched, it streams.
const large = generateLargeTrace(150_000);
// Over 8 MB: two batches of 4 MB, so a helper reads one.
const mid = generateLargeTrace(90_000);
const cut = trace.text.slice(0, Math.floor(trace.text.length * 0.7));
const t = suite("viewer-worker");
const L = (page, fn, arg) => page.evaluate(fn, arg);

// What the page shows of the trace loaded last, but how it was read (and
// when, and how many loads the page has seen).
async function shown(page) {
  return L(page, () => {
    const lt = window.looptrace;
    const st = lt.state();
    const spans = [];
    const step = Math.max(1, Math.floor(st.spans / 2000)); // all, or 2000 of a big one
    for (let s = 0; s < st.spans; s += step) spans.push(lt.span(s));
    const search = lt.search("fs.read");
    const out = { ...st, spans, summary: lt.summary(), search: search.hits };
    delete out.timings;
    delete out.loads;
    delete out.source;
    lt.search("");
    return out;
  });
}

// Opens `name` with `body` through the file dialog, in a worker or not.
async function open(page, name, body, worker) {
  await L(page, (w) => {
    window.looptrace.setWholeTextLimit(0); // every file streams
    window.looptrace.setWorker(w);
  }, worker);
  const before = await L(page, () => window.looptrace.loads);
  await page.setInputFiles("#open", { name, mimeType: "application/json", buffer: Buffer.from(body) });
  return waitLoads(page, before + 1);
}

t.test("read in a worker or on the page's thread, a trace shows the same", async ({ page }) => {
  for (const [name, body] of [["t.json", trace.text], ["cut.json", cut],
                              ["t.json.gz", zlib.gzipSync(trace.text)]]) {
    const seen = [];
    for (const worker of [true, false]) {
      const st = await open(page, name, body, worker);
      assert.equal(st.loaded, true, st.error);
      assert.equal(st.timings.read, (worker ? "worker, " : "") +
                   (name.endsWith(".gz") ? "gzip, " : "") + "stream, line by line", name);
      seen.push(await shown(page));
    }
    assert.deepEqual(seen[0], seen[1], name);
    assert.ok(seen[0].spans.length > 300, name);
    if (name !== "cut.json") assert.ok(seen[0].spans.some((s) => s.cut !== null), name);
    assert.ok(seen[0].flows.arrows > 0 && seen[0].search > 0, name);
  }
  assertClean(page);
});

t.test("fetched by the worker: ?trace=, a missing trace.json, a trace over the budget", async ({ browser, server }) => {
  const page = await openViewer(browser.context, server.origin, "/?trace=/big.json");
  let st = await L(page, () => window.looptrace.state());
  assert.equal(st.loaded, true, st.error);
  assert.equal(st.timings.read, "worker, stream, line by line");
  assert.equal(st.events, large.events.length);
  assert.ok(server.requests.includes("/js/load-worker.js"));
  assert.equal(server.requests.filter((r) => r === "/big.json").length, 1, "fetched once");
  assert.equal(st.spans, large.events.filter((e) => e.ph === "X" || e.ph === "i").length);
  await page.close();

  // No trace.json: the welcome page, quietly; a ?trace= that is missing: an error.
  const quiet = await openViewer(browser.context, server.origin, "/");
  st = await L(quiet, () => window.looptrace.state());
  assert.equal(st.loaded, false);
  assert.equal(st.error, null);
  assert.equal(await L(quiet, () => document.getElementById("welcome").hidden), false);
  await quiet.close();
  const missing = await openViewer(browser.context, server.origin, "/?trace=/nope.json");
  st = await L(missing, () => window.looptrace.state());
  assert.match(st.error, /^could not fetch .*nope\.json: 404/);
  await missing.close();

  // Over the budget (lowered): refused, whoever reads it.
  const big = await openViewer(browser.context, server.origin, "/");
  for (const worker of [true, false]) {
    await L(big, () => window.looptrace.setTableBudget(2e6));
    st = await open(big, "big.json", mid.text, worker);
    assert.equal(st.loaded, false);
    assert.match(st.error, /^this trace is too big for a browser tab to hold \(\d+ MB in \([\d,]+ events\), its events would take more than the 2 MB/);
  }
  assertClean(big);
  await big.close();
});

t.test("past 8 MB two workers read it, every other batch each, and it shows the same", async ({ page }) => {
  const two = await L(page, () => navigator.hardwareConcurrency > 1);
  const seen = [];
  for (const [name, body] of [["big.json", mid.text], ["big.json.gz", zlib.gzipSync(mid.text)]]) {
    for (const [worker, from] of [[true, 0], [false, -1]]) {
      await L(page, (f) => window.looptrace.setHelperFrom(f), from);
      const st = await open(page, name, body, worker);
      assert.equal(st.loaded, true, st.error);
      assert.equal(st.events, mid.events.length);
      assert.equal(st.timings.read, (worker ? (two ? "2 workers, " : "worker, ") : "") +
                   (name.endsWith(".gz") ? "gzip, " : "") + "stream, line by line", name);
      seen.push(await shown(page));
    }
  }
  await L(page, () => window.looptrace.setHelperFrom(32e6));
  for (const k of [1, 2, 3]) assert.deepEqual(seen[k], seen[0], `load ${k}`);
  assert.ok(seen[0].spans.length >= 2000);
  // Cut short: the events before the cut, the same warning.
  const cutBig = mid.text.slice(0, Math.floor(mid.text.length * 0.9));
  const cutSeen = [];
  for (const [worker, from] of [[true, 0], [false, -1]]) {
    await L(page, (f) => window.looptrace.setHelperFrom(f), from);
    const st = await open(page, "cut-big.json", cutBig, worker);
    assert.equal(st.loaded, true, st.error);
    assert.equal(st.warnings.length, 1, JSON.stringify(st.warnings));
    cutSeen.push(await shown(page));
  }
  await L(page, () => window.looptrace.setHelperFrom(32e6));
  assert.deepEqual(cutSeen[0], cutSeen[1]);
  assertClean(page);
});

t.test("opened from disk, where no worker starts, the page reads it itself", async ({ browser }) => {
  const page = await browser.context.newPage();
  page.guards = await guard(page, null);
  await page.goto("file://" + path.join(VIEWER, "index.html"));
  await waitLoads(page, 1);
  const st = await open(page, "t.json", trace.text, true);
  assert.equal(st.loaded, true, st.error);
  assert.equal(st.events, trace.events.length);
  assert.equal(st.timings.read, "stream, line by line", "no worker from file://");
  assertClean(page);
  await page.close();
});

await t.run(async () => {
  const browser = await launch();
  const server = await serve(undefined, { "/big.json": large.text });
  const page = await openViewer(browser.context, server.origin, "/");
  return { browser, server, page };
}, async ({ browser, server }) => {
  await browser.close();
  await server.close();
});
