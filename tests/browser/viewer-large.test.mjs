// viewer-large.test.mjs — a trace bigger than the tab can hold is refused
// with a message that says why and what to record instead (a shorter -d,
// or --flight), and the page stays usable, rather than the tab running out
// of memory. The guard watches the JS heap while the trace streams in; here
// its threshold is lowered (setHeapShare) so that a 5 MB trace trips it.
// A trace under the threshold loads as before.

import assert from "node:assert/strict";
import { launch, serve, openViewer, openFile, waitLoads, assertClean, suite } from "./lib/harness.mjs";
import { generateLargeTrace } from "./lib/gen-trace.mjs";

const trace = generateLargeTrace(40_000);
const t = suite("viewer-large");
const L = (page, fn, arg) => page.evaluate(fn, arg);

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
  const server = await serve();
  const browser = await launch();
  const page = await openViewer(browser.context, server.origin, "/");
  return { server, browser, page };
}, async ({ server, browser }) => {
  await browser.close();
  await server.close();
});
