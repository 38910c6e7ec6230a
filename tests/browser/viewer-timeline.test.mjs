// viewer-timeline.test.mjs — a looptrace recording (generated to the
// letter of tracer/TRACE-FORMAT.md) shows as a user expects: one lane per
// thread, the loop first then workers by sort index, thread names from the
// metadata, spans nested tick ⊃ phase ⊃ callback and poll ⊃ wait, phase
// colours from the legend, 5 flow chains (10 arrows) drawn, the threadpool
// counter track.

import assert from "node:assert/strict";
import { launch, serve, openViewer, assertClean, screenshot, suite } from "./lib/harness.mjs";
import { generateTrace } from "./lib/gen-trace.mjs";
import { threadNames, spansOf, ns } from "./lib/trace-facts.mjs";

const trace = generateTrace();
const events = trace.events;
const t = suite("viewer-timeline");

// The colour the canvas shows at page point (x, y), as "#rrggbb".
async function pixel(page, x, y) {
  return page.evaluate(([px, py]) => {
    const c = document.getElementById("timeline");
    const r = c.getBoundingClientRect();
    const d = c.getContext("2d").getImageData(Math.round((px - r.left) * devicePixelRatio),
                                              Math.round((py - r.top) * devicePixelRatio), 1, 1).data;
    return "#" + [d[0], d[1], d[2]].map((v) => v.toString(16).padStart(2, "0")).join("");
  }, [x, y]);
}

t.test("one lane per thread, loop first, workers in sort order, names from metadata", async ({ page }) => {
  const st = await page.evaluate(() => window.looptrace.state());
  assert.equal(st.error, null);
  assert.deepEqual(st.warnings, []);
  const threads = st.lanes.filter((l) => l.kind === "thread");
  const names = threadNames(events);
  assert.deepEqual(threads.map((l) => l.name), ["event loop", "worker 1", "worker 2", "worker 3", "worker 4"]);
  for (const l of threads) {
    assert.equal(names.get(l.tid), l.name, `tid ${l.tid}`);
    assert.equal(l.spans, spansOf(events, (e) => e.tid === l.tid).length, `spans on ${l.name}`);
  }
  // The tids are deliberately not in worker order: the order comes from
  // thread_sort_index, not from tids or file order.
  assert.notDeepEqual(threads.slice(1).map((l) => l.tid), threads.slice(1).map((l) => l.tid).sort());
  assert.equal(threads[0].tid, trace.info.loopTid);
  // tick, phase, callback/wait, submit: four rows on the loop lane.
  assert.equal(threads[0].rows, 4);
  assert.equal(threads[0].overflowRows, 0);
});

t.test("spans nest: tick ⊃ phase ⊃ callback ⊃ submit, poll ⊃ wait", async ({ page }) => {
  const check = async (spec, depth, parentName) => {
    const s = await page.evaluate((sp) => window.looptrace.find(sp)[0], spec);
    const info = await page.evaluate((id) => window.looptrace.span(id), s);
    assert.equal(info.depth, depth, `${JSON.stringify(spec)} depth`);
    if (parentName) {
      const parent = await page.evaluate((id) => {
        const L = window.looptrace;
        const all = L.find({ lane: L.span(id).lane });
        const me = L.span(id);
        // The innermost span of the lane that contains this one.
        return all.map((x) => L.span(x)).filter((p) => p.depth === me.depth - 1 &&
          p.ts_us <= me.ts_us && p.ts_us + p.dur_us >= me.ts_us + me.dur_us)[0];
      }, s);
      assert.equal(parent.name, parentName, `${JSON.stringify(spec)} parent`);
    }
  };
  await check({ cat: "tick" }, 0);
  await check({ name: "timers", cat: "phase" }, 1, "tick");
  await check({ name: "setTimeout" }, 2, "timers");
  await check({ name: "submit" }, 3, "setTimeout");
  await check({ name: "wait" }, 2, "poll");
  await check({ name: "pbkdf2", cat: "callback" }, 2, "poll");
  await check({ name: "pbkdf2", cat: "work" }, 0);
});

t.test("5 flow chains, 10 arrows, all drawn; the flows toggle hides them", async ({ page }) => {
  let st = await page.evaluate(() => window.looptrace.state());
  assert.equal(st.flows.chains, 5);
  assert.equal(st.flows.arrows, 10);
  assert.equal(st.flows.drawn, 10);
  await page.click("#show-flows");
  await page.waitForFunction(() => window.looptrace.state().flows.drawn === 0);
  // With the toggle off a selected span still shows its own flows.
  const work = await page.evaluate(() => window.looptrace.select({ name: "pbkdf2", cat: "work" }, false));
  assert.ok(work >= 0);
  await page.waitForFunction(() => window.looptrace.state().flows.drawn === 2);
  await page.click("#show-flows");
  await page.keyboard.press("Escape");
  await page.waitForFunction(() => window.looptrace.state().flows.drawn === 10);
});

t.test("each flow goes submit → worker → completion of the same task", async ({ page }) => {
  for (let task = 1; task <= 5; task++) {
    const chain = await page.evaluate((id) => {
      const L = window.looptrace;
      const submit = L.find({ name: "submit" }).map((s) => L.span(s)).find((s) => s.args.task === id);
      const work = L.span(submit.flows[0].span);
      const done = L.span(work.flows.find((f) => f.dir === "out").span);
      return { submit, work, done };
    }, task);
    assert.equal(chain.work.args.task, task);
    assert.equal(chain.work.lane.startsWith("worker"), true);
    assert.equal(chain.done.args.task, task);
    assert.equal(chain.done.cat, "callback");
    assert.equal(chain.done.lane, "event loop");
  }
});

t.test("phase colours come from the legend's table", async ({ page }) => {
  const legend = await page.$$eval("#legend .legend-item", (els) => els.map((e) => [
    e.textContent, getComputedStyle(e.querySelector(".swatch")).backgroundColor]));
  assert.deepEqual(legend.map((l) => l[0]),
                   ["timers", "pending", "idle", "prepare", "poll", "check", "close", "wait"]);
  const hex = (rgb) => "#" + rgb.match(/\d+/g).slice(0, 3).map((v) => (+v).toString(16).padStart(2, "0")).join("");
  const colour = Object.fromEntries(legend.map(([n, c]) => [n, hex(c)]));
  assert.equal(new Set(Object.values(colour)).size, 8, "eight distinct colours");
  // The longest poll and the longest wait, sampled near their top edge
  // (labels are written in the middle).
  for (const [name, cat] of [["poll", "phase"], ["wait", "wait"]]) {
    const id = await page.evaluate(([n, c]) => {
      const L = window.looptrace;
      return L.find({ name: n, cat: c }).sort((a, b) => L.span(b).dur_us - L.span(a).dur_us)[0];
    }, [name, cat]);
    const r = await page.evaluate((s) => window.looptrace.spanRect(s), id);
    assert.ok(r.w > 20, `${name} is wide enough to sample (${r.w}px)`);
    assert.equal(await pixel(page, r.x + r.w * 0.7, r.y + 2), colour[name], `${name} colour`);
  }
});

t.test("the threadpool counter track has queued and running", async ({ page }) => {
  const st = await page.evaluate(() => window.looptrace.state());
  const counters = st.lanes.filter((l) => l.kind === "counter");
  assert.deepEqual(counters.map((c) => c.name), ["threadpool"]);
  assert.deepEqual(counters[0].series, ["queued", "running"]);
  assert.equal(counters[0].samples, events.filter((e) => e.ph === "C").length);
  // It comes after the thread lanes.
  assert.equal(st.lanes[st.lanes.length - 1].kind, "counter");
});

t.test("hovering the counter track shows the values at that moment", async ({ page }) => {
  const st = await page.evaluate(() => window.looptrace.state());
  const box = await page.evaluate(() => {
    const L = window.looptrace;
    const r = document.getElementById("timeline").getBoundingClientRect();
    const w = L.spanRect(L.find({ lane: "worker 4" })[0]);
    return { left: r.left + 180, right: r.right, y: w.y + w.h + 30 };
  });
  // Half-way through the recording, all four workers run the first tasks
  // and the fifth waits in the queue.
  const x = box.left + (box.right - box.left) * 0.3;
  const t = st.view.t0_us + ((x - box.left) * (st.view.t1_us - st.view.t0_us)) / (box.right - box.left);
  const samples = events.filter((e) => e.ph === "C" && ns(e.ts) <= ns(t));
  const last = samples[samples.length - 1].args;
  await page.mouse.move(x, box.y);
  assert.equal(await page.textContent("#tooltip"), `threadpool: queued ${last.queued}, running ${last.running}`);
  assert.equal(last.running, 4);
  assert.equal(last.queued, 1);
  await page.mouse.move(5, 5);
});

t.test("the whole recording is in view at first, and the page stayed clean", async ({ page }) => {
  const st = await page.evaluate(() => window.looptrace.state());
  const end = Math.max(...spansOf(events).map((e) => ns(e.ts) + ns(e.dur))) / 1000;
  assert.equal(st.view.start_us, 0);
  assert.ok(Math.abs(st.view.end_us - end) < 1e-3, `${st.view.end_us} vs ${end}`);
  assert.ok(st.view.t0_us <= 0 && st.view.t1_us >= end - 1e-3);
  await screenshot(page, "viewer-timeline");
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
