// viewer-errors.test.mjs — bad and odd files get a clear message, never a
// blank screen: a recording cut short shows what was read under a warning
// banner; garbage gets an error banner and the open-a-file prompt. Trace
// strings are text: a label like <img src=x onerror=alert(1)> shows
// literally and fires nothing. The line-by-line reader used for big files
// accepts and rejects exactly what the whole-text parser does.
// timeout: 120

import assert from "node:assert/strict";
import { launch, serve, openViewer, openFile, assertClean, screenshot, suite } from "./lib/harness.mjs";
import { generateTrace } from "./lib/gen-trace.mjs";

const trace = generateTrace();
const t = suite("viewer-errors");
const state = (page) => page.evaluate(() => window.looptrace.state());
const banner = (page, kind) => page.textContent(`#banners .banner.${kind}`);
const lines = trace.text.split("\n");

async function expectError(page, name, text, pattern) {
  const st = await openFile(page, name, text);
  assert.equal(st.loaded, false, `${name} does not load`);
  assert.match(st.error, pattern);
  assert.equal(await banner(page, "error"), `Cannot show this file: ${st.error}`);
  assert.equal(await page.isVisible("#welcome"), true, `${name}: the open prompt is shown`);
  assert.equal(await page.isVisible("#timeline"), false);
}

t.test("cut in the middle of a line: the events read are shown, with a warning", async ({ page }) => {
  const keep = 90; // lines: "[" then events
  const text = lines.slice(0, keep).join("\n") + "\n" + lines[keep].slice(0, 25);
  const st = await openFile(page, "cut-mid-line.json", text);
  const read = keep - 1;
  assert.equal(st.loaded, true);
  assert.equal(st.events, read);
  assert.deepEqual(st.warnings, [`file ends without ']' (recording cut short?); read ${read} events`]);
  assert.equal(await banner(page, "warning"), `×Warning: ${st.warnings[0]}`);
  assert.ok(st.spans > 0);
  assert.equal(await page.isVisible("#timeline"), true);
  await screenshot(page, "viewer-truncated");
});

t.test("cut right after a line's comma, and cut with no newline at all", async ({ page }) => {
  let st = await openFile(page, "cut-after-comma.json", lines.slice(0, 60).join("\n") + "\n");
  assert.deepEqual(st.warnings, ["file ends without ']' (recording cut short?); read 59 events"]);
  st = await openFile(page, "cut-before-comma.json", lines.slice(0, 60).join("\n").replace(/,$/, ""));
  assert.deepEqual(st.warnings, ["file ends without ']' (recording cut short?); read 59 events"]);
  // The object form cut short (the words of `looptrace stat`).
  const obj = JSON.stringify({ traceEvents: trace.events.slice(0, 30) }, null, 1);
  st = await openFile(page, "cut-object.json", obj.slice(0, obj.lastIndexOf("}", obj.length - 10) - 5));
  assert.equal(st.loaded, true);
  assert.match(st.warnings[0], /^file ends inside the trace \(recording cut short\?\); read \d+ events$/);
});

t.test("a trailing comma before ']' is tolerated without a warning", async ({ page }) => {
  const text = lines.slice(0, 40).join("\n") + "\n]\n";
  const st = await openFile(page, "trailing-comma.json", text);
  assert.equal(st.loaded, true);
  assert.equal(st.events, 39);
  assert.deepEqual(st.warnings, []);
});

t.test("garbage, empty and non-trace files: an error banner, never a blank page", async ({ page }) => {
  await expectError(page, "hello.txt", "hello world, this is not a trace\n", /^not a trace file: expected a JSON array or object, found "hello world/);
  await expectError(page, "empty.json", "  \n", /^the file is empty$/);
  await expectError(page, "middle.json", '[{"name":"a","ph":"X","ts":1,"dur":1,"pid":1,"tid":1}, oops, {"name":"b"}]', /^not valid JSON: /);
  await expectError(page, "object.json", '{"foo": 1}', /^not a trace: this JSON object has no "traceEvents" array$/);
  await expectError(page, "none.json", "[]", /^the trace holds no events$/);
  await expectError(page, "binary.bin", "\u0000\u0001\u0002PNG\r\n", /^not a trace file/);
  await expectError(page, "brackets.json", '[{"a": [1, 2}]', /^not valid JSON: /);
  // A good file after a bad one loads and clears the error.
  const st = await openFile(page, "good.json", trace.text);
  assert.equal(st.loaded, true);
  assert.equal(st.error, null);
  assert.equal(await page.$("#banners .banner.error"), null);
  assertClean(page);
});

t.test("labels are text: <img src=x onerror=alert(1)> renders literally, nothing fires", async ({ page }) => {
  const evil = "<img src=x onerror=alert(1)>";
  const named = generateTrace({ labels: [evil] });
  // A thread name and a process name with markup too.
  const events = named.events.map((e) => e.name === "thread_name" && e.args.name === "worker 2"
    ? { ...e, args: { name: "<b>worker</b><script>alert(2)</script>" } } : e);
  events.push({ name: "process_name", ph: "M", pid: 4242, tid: 4242, args: { name: "<svg onload=alert(3)>" } });
  const st = await openFile(page, "xss.json", JSON.stringify(events));
  assert.equal(st.loaded, true);
  assert.ok(st.lanes.some((l) => l.name === "<b>worker</b><script>alert(2)</script>"));
  const id = await page.evaluate((label) => window.looptrace.select({ name: label, cat: "work" }), evil);
  assert.ok(id >= 0);
  assert.equal(await page.textContent("#tab-details h3"), evil);
  assert.match(await page.textContent("#tab-details pre.args"), /<img src=x onerror=alert\(1\)>/);
  assert.match(await page.textContent("#tab-details button.flow-in"), /^← from submit/);
  await page.click("#tab-details button.flow-out");
  assert.equal(await page.textContent("#tab-details h3"), evil);
  // Search for it, aggregate it, summarize it, hover it: still text.
  await page.fill("#search", "<img");
  assert.equal((await state(page)).search.hits, 10);
  await page.evaluate(() => window.looptrace.selectRange(0, 1e9));
  assert.ok((await page.$$eval("#tab-range td.name", (tds) => tds.map((td) => td.textContent))).includes(evil));
  await page.click('#tabs button[data-tab="summary"]');
  assert.ok((await page.$$eval("#tab-summary table.callbacks td", (tds) => tds.map((td) => td.textContent))).includes(evil));
  await page.evaluate((s) => window.looptrace.reveal(s), id);
  const r = await page.evaluate((s) => window.looptrace.spanRect(s), id);
  await page.mouse.move(r.x + Math.max(r.w, 2) / 2, r.y + r.h / 2);
  assert.ok((await page.textContent("#tooltip")).startsWith(`${evil} — `));
  // No element was made from the strings, and no script ran.
  assert.equal(await page.$$eval("body img, body svg, body b, #app script", (els) => els.length), 0);
  await page.waitForTimeout(200);
  assert.deepEqual(page.guards.dialogs, []);
  assertClean(page);
});

t.test("the line-by-line reader agrees with the whole-text parser", async ({ page }) => {
  const pretty = JSON.stringify(trace.events.slice(0, 20), null, 2);
  const cases = {
    whole: trace.text,
    "cut mid-line": trace.text.slice(0, trace.text.indexOf("\n", 3000) + 30),
    "cut after comma": lines.slice(0, 50).join("\n") + "\n",
    "cut before comma": lines.slice(0, 50).join("\n").replace(/,$/, ""),
    "cut inside a string": trace.text.slice(0, trace.text.indexOf('"pbkdf2"') + 4),
    "trailing comma": lines.slice(0, 30).join("\n") + "\n]",
    "no final newline": trace.text.trimEnd(),
    "bracket on the first line": "[" + lines.slice(1).join("\n"),
    "object form": JSON.stringify({ traceEvents: trace.events.slice(0, 10) }),
    "pretty printed": pretty,
    "pretty printed, cut": pretty.slice(0, pretty.length / 2),
    "garbage after": trace.text + "\nmore\n",
    "garbage line": lines.slice(0, 10).join("\n") + "\nnot json,\n" + lines.slice(10).join("\n"),
    "empty": "",
    "not json": "hello",
    "empty array": "[\n]\n",
    "half an event only": "[\n{\"name\":\"a",
  };
  const results = await page.evaluate((cs) => {
    const out = {};
    const digest = (r, n, event) => ({
      n, warnings: r.warnings, error: r.error === null ? null : r.error.split(":")[0],
      first: n ? JSON.stringify(event(0)) : null, last: n ? JSON.stringify(event(n - 1)) : null,
      lineByLine: !!r.lineByLine });
    for (const [name, text] of Object.entries(cs)) {
      const p0 = Parse.parseTrace(text);
      const whole = digest(p0, p0.events.length, (k) => p0.events[k]);
      const streamed = [];
      // The bytes in pieces of these sizes (1 and 7 split UTF-8 sequences).
      const bytes = new TextEncoder().encode(text);
      for (const size of [1, 7, 64, 4096, 1e6]) {
        const p = Scan.createStreamScanner();
        for (let i = 0; i < bytes.length; i += size) p.push(bytes.slice(i, i + size));
        const r = p.finish();
        const n = r.table ? r.table.n : 0;
        streamed.push(digest(r, n, (k) => Table.event(r.table, k)));
      }
      out[name] = { whole, streamed };
    }
    return out;
  }, cases);
  const fast = ["whole", "cut mid-line", "cut after comma", "cut before comma", "cut inside a string",
                "no final newline", "bracket on the first line"];
  for (const [name, { whole, streamed }] of Object.entries(results)) {
    for (const s of streamed) {
      // The tracer's layout is read line by line into columns; anything
      // else falls back to the whole-text parser. Either way the result is
      // the same.
      assert.equal(s.lineByLine, fast.includes(name), `${name}: parsed line by line`);
      assert.deepEqual({ ...s, lineByLine: false }, whole, name);
    }
  }
  assert.equal(results.whole.whole.n, trace.events.length);
  assert.equal(results["cut mid-line"].whole.warnings.length, 1);
  assert.deepEqual(results["garbage after"].whole.warnings,
                   [`ignored data after the end of the trace (byte ${Buffer.byteLength(trace.text) + 1})`]);
  assert.equal(results["garbage line"].whole.error, "not valid JSON");
  assert.equal(results["half an event only"].whole.error, "not valid JSON");
});

t.test("a file read as a stream (the path of files over 16 MB), in a worker or not, loads the same", async ({ page }) => {
  // Multi-byte labels, so UTF-8 sequences are split across stream chunks.
  const text = generateTrace({ labels: ["µs-größe", "日本語のラベル", "emoji 🚀"], intervals: 40 }).text;
  const cut = text.slice(0, Math.floor(text.length * 0.8));
  const results = [];
  for (const [limit, worker] of [[256e6, true], [0, true], [0, false]]) {
    await page.evaluate(([l, w]) => {
      window.looptrace.setWholeTextLimit(l);
      window.looptrace.setWorker(w);
    }, [limit, worker]);
    for (const [name, body] of [["whole.json", text], ["cut.json", cut]]) {
      const st = await openFile(page, name, body);
      assert.equal(st.timings.read, limit ? "whole text"
        : worker ? "worker, stream, line by line" : "stream, line by line");
      results.push({ limit, name, lanes: st.lanes.map((l) => [l.name, l.spans]), warnings: st.warnings,
                     summary: await page.evaluate(() => window.looptrace.summary()) });
    }
  }
  await page.evaluate(() => {
    window.looptrace.setWholeTextLimit(256e6);
    window.looptrace.setWorker(true);
  });
  for (const k of [2, 4]) {
    assert.deepEqual(results[k], { ...results[0], limit: 0 });
    assert.deepEqual(results[k + 1], { ...results[1], limit: 0 });
  }
  assert.equal(results[1].warnings.length, 1);
  assert.ok(results[0].summary.callbacks.some((c) => c.name === "日本語のラベル"));
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
