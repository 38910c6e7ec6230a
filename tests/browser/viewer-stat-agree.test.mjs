// viewer-stat-agree.test.mjs — the viewer's summary and `looptrace stat
// --json` are one object (tracer/TRACE-FORMAT.md: "a test checks they
// agree"): for the same files, window.looptrace.summary() must equal what
// stat prints, key for key and number for number. Files: a generated
// recording whole, cut short and with data after its end, bigger ones,
// Node's format, B/E pairs, and stat's own hand-computed fixtures when they
// are in the tree. Skips while `looptrace stat` is not built.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { launch, serve, openViewer, openFile, assertClean, suite, skip, BUILD, SRC } from "./lib/harness.mjs";
import { generateTrace } from "./lib/gen-trace.mjs";
import { comparableWithStat } from "./lib/reference.mjs";

const LOOPTRACE = process.env.LOOPTRACE_BIN || path.join(BUILD, "looptrace");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "looptrace-agree-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

function stat(name, text) {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  const r = spawnSync(LOOPTRACE, ["stat", "--json", file], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`looptrace stat --json ${name}: exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// Is `looptrace stat --json` there at all?
{
  const probe = path.join(tmp, "probe.json");
  fs.writeFileSync(probe, '[{"name":"a","ph":"X","ts":0,"dur":1,"pid":1,"tid":1}]\n');
  const r = fs.existsSync(LOOPTRACE) ? spawnSync(LOOPTRACE, ["stat", "--json", probe], { encoding: "utf8" }) : null;
  if (!r || r.status !== 0 || !r.stdout.trim().startsWith("{")) {
    fs.rmSync(tmp, { recursive: true, force: true });
    skip(`${LOOPTRACE} stat --json is not available on this branch yet`);
  }
}

const trace = generateTrace();
const lines = trace.text.split("\n");
const cases = [
  ["threads.json", trace.text],
  ["threads-cut.json", lines.slice(0, 100).join("\n") + "\n" + lines[100].slice(0, 30)],
  ["threads-cut-after-comma.json", lines.slice(0, 70).join("\n") + "\n"],
  ["threads-trailing.json", trace.text + "\nnot part of the trace\n"],
  ["threads-1.45.json", trace.text.replace('"libuv_version":"1.44.2"', '"libuv_version":"1.46.0"')],
  ["threads-cut-spans.json", generateTrace({ cutStart: true, cutEnd: true }).text],
  ["threads-legacy-incomplete.json", generateTrace({ cutEnd: true, legacyCut: true }).text],
  ["threads-xss.json", generateTrace({ labels: ["<img src=x onerror=alert(1)>", "p\"q"] }).text],
  ["busy.json", generateTrace({ tasks: 9, workers: 3, intervals: 60, intervalNs: 700_000, fsEvery: 3 }).text],
  ["node-trace.json", fs.readFileSync(new URL("./fixtures/node-trace.json", import.meta.url), "utf8")],
  ["be-pairs.json", JSON.stringify({ traceEvents: [
    { name: "tick", cat: "tick", ph: "B", ts: 0, pid: 1, tid: 1, args: { tick: 1 } },
    { name: "poll", cat: "phase", ph: "B", ts: 1, pid: 1, tid: 1 },
    { name: "wait", cat: "wait", ph: "B", ts: 2, pid: 1, tid: 1 },
    { name: "wait", cat: "wait", ph: "E", ts: 7, pid: 1, tid: 1 },
    { name: "cb", cat: "callback", ph: "B", ts: 8, pid: 1, tid: 1, args: { kind: "read" } },
    { name: "cb", cat: "callback", ph: "E", ts: 9.5, pid: 1, tid: 1 },
    { name: "poll", cat: "phase", ph: "E", ts: 10, pid: 1, tid: 1 },
    { name: "tick", cat: "tick", ph: "E", ts: 11, pid: 1, tid: 1 },
    { name: "stray", ph: "E", ts: 12, pid: 1, tid: 2 },
    { name: "open", ph: "B", ts: 12, pid: 1, tid: 1 },
  ] })],
];
// stat's hand-computed fixtures, once its branch is merged.
const fixtures = path.join(SRC, "tests/fixtures/stat");
if (fs.existsSync(fixtures)) {
  for (const f of fs.readdirSync(fixtures).filter((f) => f.endsWith(".json")).sort())
    cases.push([`stat-fixture-${f}`, fs.readFileSync(path.join(fixtures, f), "utf8")]);
}

// Equal in shape and value. Times are printed by both from integer ns, so
// they must be equal exactly; shares and rates are doubles, which stat's
// cJSON prints with 15 significant digits: those may differ in the last
// bits (relative 1e-12).
function same(got, want, where) {
  if (typeof want === "number" && typeof got === "number") {
    if (got !== want && Math.abs(got - want) > 1e-12 * Math.max(Math.abs(got), Math.abs(want)))
      throw new Error(`${where}: viewer ${got}, stat ${want}`);
    return;
  }
  if (want === null || typeof want !== "object" || got === null || typeof got !== "object") {
    if (got !== want) throw new Error(`${where}: viewer ${JSON.stringify(got)}, stat ${JSON.stringify(want)}`);
    return;
  }
  if (Array.isArray(want) !== Array.isArray(got))
    throw new Error(`${where}: viewer ${JSON.stringify(got)}, stat ${JSON.stringify(want)}`);
  const keys = Object.keys(want);
  assert.deepEqual(Object.keys(got), keys, `${where}: keys`);
  for (const k of keys) same(got[k], want[k], Array.isArray(want) ? `${where}[${k}]` : `${where}.${k}`);
}

const t = suite("viewer-stat-agree");
for (const [name, text] of cases) {
  t.test(`${name}: summary() equals looptrace stat --json`, async ({ page }) => {
    const want = stat(name, text);
    const st = await openFile(page, name, text);
    assert.equal(st.loaded, true, `${name} loads: ${st.error}`);
    const [got, stats] = comparableWithStat(await page.evaluate(() => window.looptrace.summary()), want);
    same(got, stats, "summary");
  });
}
t.test("the page stayed clean", async ({ page }) => assertClean(page));

await t.run(async () => {
  const server = await serve();
  const browser = await launch();
  const page = await openViewer(browser.context, server.origin, "/");
  return { server, browser, page };
}, async ({ server, browser }) => {
  await browser.close();
  await server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});
