// viewer-bench-smoke.test.mjs — bench-render.mjs works: run it on a small
// trace (10k events) and check it prints its figures. No timing is
// asserted here; the speed targets are measured by running the script on
// 1M events by hand (see its header).
// timeout: 120

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
const out = await new Promise((resolve, reject) => {
  execFile(process.execPath, [path.join(here, "bench-render.mjs"), "--events", "10000", "--frames", "12"],
           { env: process.env, timeout: 110_000 }, (err, stdout, stderr) => {
    if (err) reject(new Error(`bench-render failed: ${err.message}\n${stdout}\n${stderr}`));
    else resolve(stdout);
  });
});
process.stdout.write(out);
const first = out.match(/^viewer_first_render_ms_10k: (\d+)$/m);
const frame = out.match(/^viewer_frame_ms_p95: (\d+(\.\d+)?)$/m);
assert.ok(first, "prints viewer_first_render_ms_10k");
assert.ok(frame, "prints viewer_frame_ms_p95");
assert.ok(+first[1] > 0 && +frame[1] > 0);
const loaded = out.match(/^loaded (\d+) spans in (\d+) lanes, (\d+) flow arrows$/m);
assert.ok(loaded && +loaded[1] > 5000 && +loaded[2] === 6 && +loaded[3] > 100, "the 10k trace loaded whole");
console.log("viewer-bench-smoke: ok");
