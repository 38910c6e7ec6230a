// viewer-bench-smoke.test.mjs — bench-render.mjs works: run it on a small
// trace (10k events), plain and gzipped, both served by `looptrace view`,
// and check it prints its figures. No timing is
// asserted here; the speed targets are measured by running the script on
// 1M events by hand (see its header).
// timeout: 200

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { launch } from "./lib/harness.mjs";

// Skips (exit 77) the same way the other browser tests do when chromium or
// playwright-core is missing.
const probe = await launch();
await probe.close();

const here = path.dirname(fileURLToPath(import.meta.url));
// Runs bench-render.mjs on 10k events with `args`; resolves with its output.
const benchRender = (...args) => new Promise((resolve, reject) => {
  execFile(process.execPath, [path.join(here, "bench-render.mjs"), "--events", "10000", "--frames", "12", ...args],
           { env: process.env, timeout: 90_000 }, (err, stdout, stderr) => {
    if (err) reject(new Error(`bench-render failed: ${err.message}\n${stdout}\n${stderr}`));
    else resolve(stdout);
  });
});
const out = await benchRender();
process.stdout.write(out);
assert.match(out, /^served by looptrace view$/m, "served as a user serves it");
const first = out.match(/^viewer_first_render_ms_10k: (\d+)$/m);
const frame = out.match(/^viewer_frame_ms_p95_10k: (\d+(\.\d+)?)$/m);
const rss = out.match(/^viewer_tab_memory_mb_10k: (\d+)$/m);
const heap = out.match(/^viewer_js_heap_mb_10k: (\d+)$/m);
assert.ok(first, "prints viewer_first_render_ms_10k");
assert.ok(frame, "prints viewer_frame_ms_p95_10k");
assert.ok(rss && heap, "prints the tab's memory and its JS heap");
assert.ok(+first[1] > 0 && +frame[1] > 0);
// A tab holding a 10k-event trace: more than its heap, less than a GB.
assert.ok(+rss[1] > +heap[1] && +rss[1] < 1000, `tab ${rss[1]} MB, heap ${heap[1]} MB`);
const loaded = out.match(/^loaded (\d+) events: (\d+) spans in (\d+) lanes, (\d+) flow arrows/m);
assert.ok(loaded && +loaded[2] > 5000 && +loaded[3] === 6 && +loaded[4] > 100, "the 10k trace loaded whole");

// The same trace gzipped: served with Content-Encoding: gzip, inflated by
// the browser as it streams in, the same events loaded.
const gz = await benchRender("--gzip");
process.stdout.write(gz);
assert.match(gz, /^viewer_first_render_ms_10k_gz: \d+$/m, "prints viewer_first_render_ms_10k_gz");
assert.match(gz, /^gzip: [\d.]+ MB, [\d.]+ times smaller/m);
const loadedGz = gz.match(/^loaded (\d+) events: (\d+) spans in (\d+) lanes, (\d+) flow arrows \(([^)]*)\)/m);
assert.ok(loadedGz, "the gzipped trace loaded");
assert.deepEqual(loadedGz.slice(1, 5), loaded.slice(1, 5), "the same events, spans, lanes and arrows as the plain trace");
assert.match(loadedGz[5], /stream/, "read as it streamed in");
console.log("viewer-bench-smoke: ok");
