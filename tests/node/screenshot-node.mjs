// screenshot-node.mjs — the picture of README's "Tracing Node.js": a
// threads.js trace (recorded with `looptrace record -- node
// tests/node/threads.js`) in the viewer, in headless Chromium (the browser
// tests' harness), zoomed on the pbkdf2 burst with its flows drawn.
//
//   node tests/node/screenshot-node.mjs TRACE.json OUT.png
import fs from "node:fs";
import { launch, serve, openViewer, assertClean } from "../browser/lib/harness.mjs";

const [file, out] = process.argv.slice(2);
if (!file || !out) {
  console.error("usage: screenshot-node.mjs TRACE.json OUT.png");
  process.exit(2);
}
const text = fs.readFileSync(file, "utf8");
const events = JSON.parse(text);
const work = events.filter((e) => e.ph === "X" && e.cat === "work");
const submits = events.filter((e) => e.ph === "X" && e.cat === "submit");
if (work.length === 0) throw new Error(`${file} has no threadpool work`);
const t0 = Math.min(...submits.map((e) => e.ts), ...work.map((e) => e.ts));
const t1 = Math.max(...work.map((e) => e.ts + e.dur));
const pad = (t1 - t0) * 0.04;

const server = await serve(undefined, { "/trace.json": text });
const browser = await launch({ viewport: { width: 1400, height: 760 } });
try {
  const page = await openViewer(browser.context, server.origin, "/");
  await page.evaluate(([a, b]) => window.looptrace.setView(a, b), [t0 - pad, t1 + pad]);
  await page.evaluate(() => window.looptrace.select({ cat: "work" }, false));
  await page.waitForTimeout(500);
  await page.screenshot({ path: out });
  assertClean(page);
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await server.close();
}
