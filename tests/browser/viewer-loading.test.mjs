// viewer-loading.test.mjs — the ways a trace reaches the page, and that the
// page asks nothing of the network beyond its own files and the trace:
// opened from disk (file://, browser offline) with the file picker or by
// dropping a file; served with /trace.json (what `looptrace view` does);
// served with ?trace=URL; a cross-origin ?trace refused without a request.
// timeout: 120 (six pages; at a load average of 15 they took 34 s)

import assert from "node:assert/strict";
import path from "node:path";
import { launch, serve, openViewer, guard, waitLoads, assertClean, suite, VIEWER } from "./lib/harness.mjs";
import { generateTrace } from "./lib/gen-trace.mjs";

const trace = generateTrace();
const t = suite("viewer-loading");
const threadLanes = (st) => st.lanes.filter((l) => l.kind === "thread").map((l) => l.name);
const LANES = ["event loop", "worker 1", "worker 2", "worker 3", "worker 4"];

t.test("opened from disk, offline: the prompt, then the file picker loads a trace", async ({ browser }) => {
  await browser.context.setOffline(true);
  const page = await browser.context.newPage();
  page.guards = await guard(page, null);
  await page.goto("file://" + path.join(VIEWER, "index.html"));
  let st = await waitLoads(page, 1);
  assert.equal(st.loaded, false);
  assert.equal(st.error, null, "no error when there is simply no trace yet");
  assert.equal(await page.isVisible("#welcome"), true);
  assert.equal(await page.isVisible("#welcome-open"), true);
  await page.setInputFiles("#open", { name: "threads.json", mimeType: "application/json",
                                      buffer: Buffer.from(trace.text) });
  st = await waitLoads(page, 2);
  assert.equal(st.loaded, true);
  assert.equal(st.source, "threads.json");
  assert.deepEqual(threadLanes(st), LANES);
  assert.equal(await page.textContent("#source"), "threads.json");
  assertClean(page);
  await page.close();
  await browser.context.setOffline(false);
});

t.test("dropping a file on the page opens it", async ({ browser, server }) => {
  const page = await openViewer(browser.context, server.origin, "/");
  const small = generateTrace({ tasks: 2, intervals: 2 });
  await page.evaluate((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], "dropped.json", { type: "application/json" }));
    for (const type of ["dragenter", "dragover"])
      document.body.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, small.text);
  assert.equal(await page.isVisible("#drop-overlay"), true, "the drop target shows while dragging");
  await page.evaluate((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], "dropped.json", { type: "application/json" }));
    document.body.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, small.text);
  const st = await waitLoads(page, 2);
  assert.equal(st.source, "dropped.json");
  assert.equal(st.flows.chains, 2);
  assert.equal(await page.isVisible("#drop-overlay"), false);
  assertClean(page);
  await page.close();
});

t.test("served: the page fetches /trace.json by itself and nothing else", async ({ browser, server }) => {
  server.setFile("/trace.json", trace.text);
  server.requests.length = 0;
  const page = await openViewer(browser.context, server.origin, "/");
  const st = await page.evaluate(() => window.looptrace.state());
  assert.equal(st.loaded, true);
  assert.equal(st.source, `${server.origin}/trace.json`);
  assert.deepEqual(threadLanes(st), LANES);
  // Only the page's own files and the trace were asked for.
  const asked = server.requests.filter((r) => r !== "/favicon.ico");
  for (const r of asked) assert.match(r, /^\/(index\.html)?$|^\/(js|css)\/[a-z-]+\.(js|css)$|^\/trace\.json$/, r);
  assert.equal(asked.filter((r) => r === "/trace.json").length, 1);
  assertClean(page);
  await page.close();
});

t.test("served with ?trace=URL: that trace is loaded instead", async ({ browser, server }) => {
  const other = generateTrace({ tasks: 3, intervals: 1 });
  server.setFile("/traces/other.json", other.text);
  server.requests.length = 0;
  const page = await openViewer(browser.context, server.origin, "/?trace=/traces/other.json");
  const st = await page.evaluate(() => window.looptrace.state());
  assert.equal(st.source, `${server.origin}/traces/other.json`);
  assert.equal(st.flows.chains, 3);
  assert.ok(!server.requests.includes("/trace.json"));
  assertClean(page);
  await page.close();
});

t.test("a trace on another origin is refused, and not even requested", async ({ browser, server }) => {
  const page = await openViewer(browser.context, server.origin, "/?trace=http://example.com/t.json");
  const st = await page.evaluate(() => window.looptrace.state());
  assert.equal(st.loaded, false);
  assert.match(st.error, /only loads traces from its own server/);
  assert.match(await page.textContent("#banners .banner.error"), /open the file instead/);
  assert.deepEqual(page.guards.outside, []);
  assertClean(page);
  await page.close();
});

t.test("a missing ?trace is an error; no /trace.json is just the prompt", async ({ browser, server }) => {
  let page = await openViewer(browser.context, server.origin, "/?trace=/nope.json");
  let st = await page.evaluate(() => window.looptrace.state());
  assert.match(st.error, /^could not fetch .*\/nope\.json: 404/);
  await page.close();
  server.removeFile("/trace.json");
  page = await openViewer(browser.context, server.origin, "/");
  st = await page.evaluate(() => window.looptrace.state());
  assert.equal(st.loaded, false);
  assert.equal(st.error, null);
  assert.equal(await page.isVisible("#welcome"), true);
  assert.equal(await page.$("#banners .banner"), null);
  await page.close();
});

await t.run(async () => {
  const server = await serve();
  const browser = await launch();
  return { server, browser };
}, async ({ server, browser }) => {
  await browser.close();
  await server.close();
});
