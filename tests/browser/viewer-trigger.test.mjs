// viewer-trigger.test.mjs — a flight recorder's dump marks what fired it
// with an instant {"name":"trigger","cat":"looptrace","ph":"i","s":"g",
// "args":{"trigger":"tick>50ms","value_us":...}} (tracer/TRACE-FORMAT.md).
// The viewer shows it prominently: a red line across every lane flagged
// with the reason, a toolbar button and a list in the summary, both of
// which select it; a trace without one shows none of these.

import assert from "node:assert/strict";
import { launch, serve, openViewer, openFile, assertClean, screenshot, suite } from "./lib/harness.mjs";
import { generateTrace } from "./lib/gen-trace.mjs";

const AT = 30_000_123; // ns: inside the run of ticks, between spans of the workers
const trace = generateTrace({ triggers: [[AT, "tick>50ms", 81234.5]] });
const t = suite("viewer-trigger");
const L = (page, fn, arg) => page.evaluate(fn, arg);
const RED = [0xd0, 0x34, 0x2c];

t.test("the trigger is listed in the state with what fired and its value", async ({ page }) => {
  const st = await openFile(page, "flight.json", trace.text);
  assert.equal(st.loaded, true, st.error);
  assert.equal(st.triggers.length, 1);
  assert.equal(st.triggers[0].trigger, "tick>50ms");
  assert.equal(st.triggers[0].value_us, 81234.5);
  assert.ok(Math.abs(st.triggers[0].ts_us - AT / 1000) < 1e-6);
});

t.test("a red line crosses every lane at the trigger, flagged with the reason", async ({ page }) => {
  await L(page, ([a, b]) => window.looptrace.setView(a, b), [AT / 1000 - 2000, AT / 1000 + 2000]);
  const st = await L(page, () => window.looptrace.state());
  const box = await page.$eval("#timeline", (c) => c.getBoundingClientRect().toJSON());
  const x = Math.round(180 + ((AT / 1000 - st.view.t0_us) / (st.view.t1_us - st.view.t0_us)) * (st.view.width - 180));
  // Sampled down the canvas: every lane's rows, loop and workers alike.
  const reds = await L(page, ([x, h]) => {
    const ctx = document.getElementById("timeline").getContext("2d");
    const out = [];
    for (let y = 60; y < h - 10; y += 20) {
      const d = ctx.getImageData(x, y, 1, 1).data;
      const e = ctx.getImageData(x + 1, y, 1, 1).data;
      out.push([d[0], d[1], d[2]].join() === [0xd0, 0x34, 0x2c].join() ||
               [e[0], e[1], e[2]].join() === [0xd0, 0x34, 0x2c].join());
    }
    return out;
  }, [x, Math.min(box.height, 300)]);
  assert.ok(reds.length >= 10 && reds.every(Boolean), `red all the way down: ${reds}`);
  // Away from it, no red line.
  const off = await L(page, ([x]) => [...document.getElementById("timeline").getContext("2d")
    .getImageData(x, 200, 1, 1).data].slice(0, 3), [x - 40]);
  assert.notDeepEqual(off, RED);
  await screenshot(page, "viewer-trigger");
});

t.test("the toolbar button says why and selects the trigger", async ({ page }) => {
  assert.equal(await page.isVisible("#trigger-chip"), true);
  assert.match(await page.textContent("#trigger-chip"), /^⚑ trigger: tick>50ms \(value 81\.234 ms\) at 30(\.\d+)? ms$/);
  await page.keyboard.press("0");
  await page.click("#trigger-chip");
  const st = await L(page, () => window.looptrace.state());
  assert.equal(st.selection.name, "trigger");
  assert.equal(st.selection.args.trigger, "tick>50ms");
  assert.ok(st.view.t0_us <= AT / 1000 && AT / 1000 <= st.view.t1_us, "brought into view");
  assert.match(await page.textContent("#tab-details pre.args"), /"trigger": "tick>50ms"/);
});

t.test("the summary lists the trigger first; clicking it selects it", async ({ page }) => {
  await L(page, () => window.looptrace.select(-1));
  await page.click('#tabs button[data-tab="summary"]');
  const first = await page.$eval("#tab-summary h4", (h) => h.textContent);
  assert.equal(first, "Triggers (why this trace was written)");
  const items = await page.$$eval("#tab-summary ul.triggers li", (li) => li.map((x) => x.textContent));
  assert.equal(items.length, 1);
  assert.match(items[0], /^tick>50ms \(value 81\.234 ms\) at 30(\.\d+)? ms$/);
  await page.click("#tab-summary ul.triggers button");
  const st = await L(page, () => window.looptrace.state());
  assert.equal(st.selection.name, "trigger");
});

t.test("a trace without a trigger shows no button, no list", async ({ page }) => {
  const st = await openFile(page, "plain.json", generateTrace().text);
  assert.deepEqual(st.triggers, []);
  assert.equal(await page.isVisible("#trigger-chip"), false);
  await page.click('#tabs button[data-tab="summary"]');
  assert.equal(await page.$("#tab-summary ul.triggers"), null);
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
