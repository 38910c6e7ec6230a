// viewer-gzip.test.mjs — `.json.gz` traces (tracer/TRACE-FORMAT.md: a name
// ending .json.gz is gzip-compressed JSON) open as their JSON does, inflated
// as they stream (DecompressionStream), never whole in one string: picked
// in the file dialog, dropped on the page, served as /trace.json with
// Content-Encoding: gzip (what `looptrace view` does), or served raw. A gzip
// file cut short (the tracer was killed) shows what was read and says so; a
// file that is not gzip at all after its magic is one clear error.

import assert from "node:assert/strict";
import zlib from "node:zlib";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { launch, serve, openViewer, openFile, waitLoads, assertClean, suite, BUILD } from "./lib/harness.mjs";
import { generateTrace } from "./lib/gen-trace.mjs";

const trace = generateTrace({ intervals: 300, intervalNs: 400_000, fsEvery: 2 });
const gz = zlib.gzipSync(trace.text);
const t = suite("viewer-gzip");
const L = (page, fn, arg) => page.evaluate(fn, arg);

// What the viewer shows of a trace, to compare a .json with its .json.gz.
const shown = (page) => L(page, () => {
  const st = window.looptrace.state();
  return { lanes: st.lanes, spans: st.spans, events: st.events, flows: st.flows.arrows,
           warnings: st.warnings, summary: window.looptrace.summary() };
});

t.test("a .json.gz picked in the file dialog shows what its .json shows", async ({ page, server }) => {
  let st = await openFile(page, "t.json", trace.text);
  assert.equal(st.loaded, true);
  const plain = await shown(page);
  st = await page.evaluate(() => window.looptrace.loads).then(async (before) => {
    await page.setInputFiles("#open", { name: "t.json.gz", mimeType: "application/gzip", buffer: gz });
    return waitLoads(page, before + 1);
  });
  assert.equal(st.loaded, true, st.error);
  assert.match(st.timings.read, /^worker, gzip, stream, line by line$/);
  assert.deepEqual(await shown(page), plain);
  assert.ok(gz.length * 5 < trace.text.length, `compressed ${gz.length} of ${trace.text.length} bytes`);
});

t.test("a .json.gz dropped on the page opens the same way", async ({ page }) => {
  const before = await L(page, () => window.looptrace.loads);
  await L(page, (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], "dropped.json.gz", { type: "application/gzip" }));
    window.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, gz.toString("base64"));
  const st = await waitLoads(page, before + 1);
  assert.equal(st.loaded, true, st.error);
  assert.equal(st.source, "dropped.json.gz");
  assert.equal(st.events, trace.events.length);
});

t.test("served as /trace.json with Content-Encoding: gzip, it streams in", async ({ browser, server }) => {
  server.setFile("/trace.json", { body: gz, headers: { "content-encoding": "gzip" } });
  const page = await openViewer(browser.context, server.origin, "/");
  const st = await L(page, () => window.looptrace.state());
  assert.equal(st.loaded, true, st.error);
  assert.equal(st.events, trace.events.length);
  assert.match(st.timings.read, /^worker, stream, line by line$/,
               "fetch inflated it; the stream parser read it, in a worker");
  assertClean(page);
  await page.close();
});

t.test("served raw (?trace=x.json.gz, no Content-Encoding), it is found by its magic", async ({ browser, server }) => {
  server.setFile("/raw.json.gz", { body: gz, headers: { "content-type": "application/gzip" } });
  const page = await openViewer(browser.context, server.origin, "/?trace=/raw.json.gz");
  const st = await L(page, () => window.looptrace.state());
  assert.equal(st.loaded, true, st.error);
  assert.equal(st.events, trace.events.length);
  assert.match(st.timings.read, /^worker, gzip, /);
  await page.close();
});

t.test("a gzip file cut short shows what was read and says so", async ({ page }) => {
  // A gzip stream flushed as it was written, then cut (the tracer killed).
  const z = zlib.createGzip();
  const parts = [];
  z.on("data", (d) => parts.push(d));
  const half = trace.text.slice(0, Math.floor(trace.text.length / 2));
  await new Promise((r) => z.write(half, () => z.flush(r)));
  const cut = Buffer.concat(parts);
  const before = await L(page, () => window.looptrace.loads);
  await page.setInputFiles("#open", { name: "cut.json.gz", mimeType: "application/gzip", buffer: cut });
  const st = await waitLoads(page, before + 1);
  assert.equal(st.loaded, true, st.error);
  const whole = JSON.parse(half.slice(0, half.lastIndexOf(",\n")) + "]");
  assert.equal(st.events, whole.length, "every complete event before the cut");
  assert.match(st.warnings[0], /^the gzip data ends early \(recording cut short\?\): read /);
  assert.ok(st.warnings.some((w) => /file ends without '\]'/.test(w)));
});

t.test("gzip's magic followed by garbage: one clear error", async ({ page }) => {
  const bad = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from("this is not deflate data at all")]);
  const before = await L(page, () => window.looptrace.loads);
  await page.setInputFiles("#open", { name: "bad.json.gz", mimeType: "application/gzip", buffer: bad });
  const st = await waitLoads(page, before + 1);
  assert.equal(st.loaded, false);
  assert.match(st.error, /^not a readable gzip file: /);
  assert.match(await page.textContent("#banners .banner.error"), /not a readable gzip file/);
  assertClean(page);
});

// A real recording written gzip by the tracer (record -o FILE.json.gz).
const LOOPTRACE = process.env.LOOPTRACE_BIN || path.join(BUILD, "looptrace");
const THREADS = path.join(BUILD, "examples/threads");
t.test("a recording written by record -o FILE.json.gz opens as its JSON", async ({ page }) => {
  if (process.getuid() !== 0 || !fs.existsSync(THREADS)) {
    if (process.env.LOOPTRACE_REQUIRE_BPF === "1") throw new Error("BPF required: root and build/examples/threads");
    console.log("        (not root or no build/examples/threads: real recording left out)");
    return;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "looptrace-gzip-"));
  try {
    const file = path.join(tmp, "threads.json.gz");
    const rec = spawnSync(LOOPTRACE, ["record", "-q", "-o", file, "--", THREADS],
                          { encoding: "utf8", timeout: 60_000 });
    assert.equal(rec.status, 0, `record: ${rec.stderr}`);
    const bytes = fs.readFileSync(file);
    assert.deepEqual([...bytes.subarray(0, 2)], [0x1f, 0x8b], "the tracer wrote gzip");
    const events = JSON.parse(zlib.gunzipSync(bytes).toString("utf8"));
    const before = await L(page, () => window.looptrace.loads);
    await page.setInputFiles("#open", { name: "threads.json.gz", mimeType: "application/gzip", buffer: bytes });
    const st = await waitLoads(page, before + 1);
    assert.equal(st.loaded, true, st.error);
    assert.equal(st.events, events.length);
    assert.deepEqual(st.warnings, []);
    assert.equal(st.flows.chains, 5);
    assert.equal(st.spans, events.filter((e) => e.ph === "X").length);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
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
