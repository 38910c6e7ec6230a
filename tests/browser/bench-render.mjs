// bench-render.mjs — how fast the viewer shows a big trace, and how much
// memory its tab then holds. Not a test (no speed target lives in a timed
// test): run it by hand or from `make bench`.
//
//   node tests/browser/bench-render.mjs [--events N] [--frames K] [--trace FILE]
//                                       [--repeat R] [--server view|node] [--gzip]
//
// Generates a looptrace-format trace of about N events (1,000,000 by
// default), written to a temporary file, or takes FILE; serves it with
// build/viewer/ the way a user does, through `looptrace view FILE` (or,
// with --server node, through the tests' own node server, which holds a
// generated trace of up to 1.5M events in memory); loads it in headless
// Chromium (1920×1080) and prints:
//
//   viewer_first_render_ms_1m: N   navigation start → first timeline frame
//                                  drawn (fetch + parse + model + draw)
//   viewer_frame_ms_p95_1m: N      95th percentile of zoom/pan frames, each
//                                  timed from the start of drawing until the
//                                  canvas is rasterized (a pixel read forces it)
//   viewer_frame_interval_ms_p95_1m: N  95th percentile of the intervals
//                                  between animation frames while a script
//                                  zooms and pans one step a frame for 3 s
//                                  (16.7 at 60 Hz when no frame is missed)
//   viewer_first_render_cpu_ms_1m: N  the tab's CPU time (user + system)
//                                  until then: the cost, whatever the load
//   viewer_tab_memory_mb_1m: N     the tab's renderer process, resident (RSS)
//   viewer_js_heap_mb_1m: N        of which the JS heap in use (CDP)
//
// --profile: a CPU profile (CDP Profiler) of the tab's thread during the
// zoom/pan frames, printed as each function's share of the sampled busy
// time (self time; idle excluded): shares hold whatever the load, wall
// times do not. --hashes: a hash of the canvas's pixels at a few fixed
// views, to check that a change to the drawing draws the same.
//
// --gzip: the trace gzipped first (as `record -o FILE.json.gz` writes it),
// served with Content-Encoding: gzip as `looptrace view` serves a .gz, so
// the browser inflates it as it streams in; the figures' names end in _gz.
//
// The suffix names the size (1m, 5m, 10k, ...). When the viewer refuses a
// trace too big for the tab, it prints the viewer's message,
// viewer_first_render_ms_<size>: refused and
// viewer_refused_ms_<size>: N (navigation start → the message shown), and
// exits with status 2. --repeat R writes the generated events R times
// over in one file (times repeat: only to see a trace too big refused).

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";
import { BUILD, launch, serve, waitLoads } from "./lib/harness.mjs";
import { generateLargeTrace } from "./lib/gen-trace.mjs";
import { startView } from "./lib/view.mjs";

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

const traceFile = arg("trace", null);
const frames = Number(arg("frames", 120));
const repeat = Number(arg("repeat", 1));
const serverKind = arg("server", "view");
if (serverKind !== "view" && serverKind !== "node") {
  console.error(`bench-render: --server is view or node, not '${serverKind}'`);
  process.exit(2);
}
let target = Number(arg("events", 1_000_000));
const gzip = process.argv.includes("--gzip");

// A directory for generated files, made when first asked for and removed
// at exit.
let tmp = null;
function tmpDir() {
  if (tmp === null) {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "looptrace-bench-render-"));
    process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
  }
  return tmp;
}

const pct = (v, p) => {
  const s = v.slice().sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)];
};

// The trace: in a file (removed at exit unless it was given), or for the
// node server up to 1.5M events in memory.
let body;
const t0 = Date.now();
if (traceFile) {
  body = { file: traceFile };
  target = Number(arg("events", 0)) || 0;
  console.log(`trace: ${traceFile}, ${(fs.statSync(traceFile).size / 1e6).toFixed(1)} MB`);
} else if (target > 1_500_000 || repeat > 1 || serverKind === "view" || gzip) {
  let file = path.join(tmpDir(), "trace.json");
  const r = generateToFile(target, file);
  if (repeat > 1) {
    file = repeated(file, repeat);
    r.count *= repeat;
    target *= repeat;
  }
  body = { file };
  console.log(`trace: ${r.count} events, ${(fs.statSync(file).size / 1e6).toFixed(1)} MB ` +
              `(generated in ${Date.now() - t0} ms)`);
} else {
  const trace = generateLargeTrace(target);
  console.log(`trace: ${trace.events.length} events, ${(trace.text.length / 1e6).toFixed(1)} MB ` +
              `(generated in ${Date.now() - t0} ms)`);
  body = trace.text;
}
if (gzip && !body.file.endsWith(".gz")) {
  // As `record -o FILE.json.gz` writes it: zlib level 1 (JW_GZIP_LEVEL,
  // tracer/json_writer.h).
  const t1 = Date.now();
  const gz = path.join(tmpDir(), path.basename(body.file) + ".gz");
  await pipeline(fs.createReadStream(body.file, { highWaterMark: 4 << 20 }), zlib.createGzip({ level: 1 }),
                 fs.createWriteStream(gz));
  console.log(`gzip: ${(fs.statSync(gz).size / 1e6).toFixed(1)} MB, ` +
              `${(fs.statSync(body.file).size / fs.statSync(gz).size).toFixed(1)} times smaller ` +
              `(in ${Date.now() - t1} ms)`);
  if (!traceFile) fs.rmSync(body.file);
  body = { file: gz };
}
if (body.file?.endsWith(".gz")) body.headers = { "content-encoding": "gzip" }; // the node server's

// Generates a trace of about `n` events into `file`, in a child process:
// the generator holds all its events (about 3 GB at 5M), and collecting
// that garbage here, while the tab loads, took CPU from the tab measured.
// Generated here, the 5M first render took 6.8-7.5 s (once 14.1 s) at
// load ~1.5; from a file made beforehand, 4.8-5.7 s. Returns {count}.
function generateToFile(n, file) {
  const gen = new URL("./lib/gen-trace.mjs", import.meta.url).href;
  const code = `import { generateLargeTrace } from ${JSON.stringify(gen)};\n` +
    `console.log(generateLargeTrace(${n}, ${JSON.stringify(file)}).count);`;
  const out = execFileSync(process.execPath, ["--max-old-space-size=8192", "--input-type=module",
                                              "-e", code], { encoding: "utf8" });
  return { count: Number(out.trim()) };
}

// A file holding the events of trace `file` (one a line, the tracer's
// layout) `times` times over.
function repeated(file, times) {
  const out = file.replace(/\.json$/, `-x${times}.json`);
  const text = fs.readFileSync(file); // a Buffer: bigger than a string can be
  const body = text.subarray(text.indexOf(10) + 1, text.lastIndexOf(Buffer.from("\n]")));
  const fd = fs.openSync(out, "w");
  fs.writeSync(fd, "[\n");
  for (let i = 0; i < times; i++) {
    fs.writeSync(fd, body);
    fs.writeSync(fd, i < times - 1 ? ",\n" : "\n]\n");
  }
  fs.closeSync(fd);
  fs.rmSync(file);
  return out;
}

const label = (!target ? "file" : target >= 1e6 && target % 1e6 === 0 ? `${target / 1e6}m`
  : target >= 1e3 && target % 1e3 === 0 ? `${target / 1e3}k` : String(target)) +
  (body.file?.endsWith(".gz") ? "_gz" : "");

// The tab: the largest renderer process of this browser (found by its
// profile directory): {rss (MB), cpu (ms of user + system time so far)}.
function tabProcess(profile) {
  const procs = new Map(); // pid -> {ppid, cmd}
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      procs.set(Number(d), { ppid, cmd: fs.readFileSync(`/proc/${d}/cmdline`, "utf8") });
    } catch (e) { /* gone */ }
  }
  const root = [...procs].find(([, p]) => p.cmd.includes(profile) && !p.cmd.includes("--type="));
  if (!root) return null;
  const ours = (pid) => {
    for (let p = pid, i = 0; p > 1 && i < 10; p = procs.get(p)?.ppid ?? 0, i++)
      if (p === root[0]) return true;
    return false;
  };
  let best = null;
  for (const [pid, p] of procs) {
    if (!p.cmd.includes("--type=renderer") || !ours(pid)) continue;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // f[11], f[12]: utime, stime
      const rss = m ? Number(m[1]) / 1024 : 0;
      if (!best || rss > best.rss) best = { rss, cpu: (Number(f[11]) + Number(f[12])) * 10 };
    } catch (e) { /* gone */ }
  }
  return best;
}

// Each function's self time in CDP profile `prof` (sampled), as a share of
// the busy time (all but idle), the top 15; and the busy time per frame.
function printProfile(prof, nframes) {
  const byNode = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map(); // "name url:line" -> us
  let busy = 0;
  for (let k = 0; k < prof.samples.length; k++) {
    const f = byNode.get(prof.samples[k]).callFrame;
    if (f.functionName === "(idle)") continue;
    const dt = prof.timeDeltas[k + 1] ?? 0;
    const key = `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) || 0) + dt);
    busy += dt;
  }
  console.log(`profile: ${prof.samples.length} samples, busy ${(busy / 1e3).toFixed(0)} ms ` +
              `(${(busy / 1e3 / Math.max(1, nframes)).toFixed(2)} ms a frame); self time:`);
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15))
    console.log(`  ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${key}`);
  // Total time (self and callees) of the drawing's functions.
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const total = new Map();
  for (let k = 0; k < prof.samples.length; k++) {
    const dt = prof.timeDeltas[k + 1] ?? 0;
    const seen = new Set();
    for (let id = prof.samples[k]; id !== undefined; id = parent.get(id)) {
      const f = byNode.get(id).callFrame;
      if (!/render|counters|main/.test(f.url)) continue;
      const key = `${f.functionName} ${f.url.split("/").pop()}`;
      if (!seen.has(key)) total.set(key, (total.get(key) || 0) + dt);
      seen.add(key);
    }
  }
  console.log("total time (self and callees):");
  for (const [key, us] of [...total].sort((a, b) => b[1] - a[1]).slice(0, 12))
    console.log(`  ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${key}`);
}

// A hash of the canvas's pixels at a few views (fractions of the whole).
async function printHashes(page) {
  const views = [[0, 1], [0.3, 0.4], [0.5, 0.51], [0.25, 0.2501], [0.7, 0.700005]];
  const out = await page.evaluate(async (views) => {
    const lt = window.looptrace;
    const v0 = lt.state().view;
    const whole = v0.end_us - v0.start_us;
    const canvas = document.getElementById("timeline");
    const res = [];
    for (const [a, b] of views) {
      lt.setView(v0.start_us + a * whole, v0.start_us + b * whole);
      await new Promise((r) => requestAnimationFrame(() => r()));
      const d = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      let h = 0x811c9dc5;
      for (let i = 0; i < d.length; i++) h = Math.imul(h ^ d[i], 16777619);
      res.push(`${a}-${b}: ${(h >>> 0).toString(16)}`);
    }
    lt.setView(v0.start_us, v0.end_us);
    await new Promise((r) => requestAnimationFrame(() => r()));
    return res;
  }, views);
  console.log(`canvas hashes: ${out.join(", ")}`);
}

// What serves the page and the trace: {origin, close}.
async function startServer() {
  if (serverKind === "node") return serve(undefined, { "/trace.json": body });
  const view = await startView(path.join(BUILD, "looptrace"), body.file);
  const exited = new Promise((resolve) => view.proc.on("exit", resolve));
  return { origin: view.origin, close: () => { view.proc.kill("SIGINT"); return exited; } };
}

const server = await startServer();
console.log(`served by ${serverKind === "view" ? "looptrace view" : "node (tests/browser/lib/harness.mjs)"}`);
const browser = await launch({ viewport: { width: 1920, height: 1080 } });
try {
  const page = await browser.context.newPage();
  const wall0 = Date.now();
  await page.goto(server.origin + "/");
  const st = await Promise.race([
    waitLoads(page, 1, 600_000),
    new Promise((_, reject) => page.on("crash", () => reject(new Error("the tab crashed")))),
  ]);
  const wall = Date.now() - wall0;
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send("Performance.enable");
  const metric = async (name) => (await cdp.send("Performance.getMetrics")).metrics
    .find((m) => m.name === name)?.value;
  const tab = tabProcess(browser.profile); // right after the first render
  const memory = async () => ({ rss: tab ? tab.rss : null, heap: (await metric("JSHeapUsedSize")) / 1e6 });
  if (!st.loaded) {
    const mem = await memory();
    console.log(`the viewer refused the trace after ${wall} ms: ${st.error}`);
    console.log(`viewer_first_render_ms_${label}: refused`);
    console.log(`viewer_refused_ms_${label}: ${wall}`);
    console.log(`viewer_tab_memory_mb_${label}: ${mem.rss === null ? "n/a" : mem.rss.toFixed(0)}`);
    process.exitCode = 2; // no figures to take
  } else {
    const tm = st.timings;
    console.log(`loaded ${st.events} events: ${st.spans} spans in ${st.lanes.length} lanes, ` +
                `${st.flows.arrows} flow arrows (${tm.read})`);
    console.log(`  fetch ${tm.fetch_ms.toFixed(0)} ms, parse ${tm.parse_ms.toFixed(0)} ms, ` +
                `model ${tm.model_ms.toFixed(0)} ms, first draw ${tm.first_frame_ms.toFixed(1)} ms; ` +
                `wall clock from goto ${wall} ms`);
    const mem = await memory();

    // Zoom and pan through the real input paths (keys, wheel, drag): a sweep
    // from the whole trace down to about a thousandth of it and back, panning
    // at each depth. Every frame is timed with its raster.
    if (process.argv.includes("--hashes")) await printHashes(page);
    const profiling = process.argv.includes("--profile");
    if (profiling) {
      await cdp.send("Profiler.enable");
      await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
      await cdp.send("Profiler.start");
    }
    await page.evaluate(() => window.looptrace.setMeasure(true));
    const before = (await page.evaluate(() => window.looptrace.frameTimes)).length;
    await page.mouse.move(960, 300);
    const settle = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
    const depth = 16; // 16 zoom steps of 0.8, then of 0.5 with Shift
    for (let i = 0; i < frames; i++) {
      const phase = Math.floor(i / 4) % (2 * depth); // zooming in, then out
      const inward = phase < depth;
      switch (i % 4) {
        case 0: // zoom: keys and the wheel in turn
          if (phase % 2) await page.keyboard.press(inward ? "Shift+W" : "Shift+S");
          else await page.mouse.wheel(0, inward ? -240 : 240);
          break;
        case 1:
          await page.keyboard.press(i % 8 === 1 ? "d" : "a");
          break;
        case 2: // drag to pan
          await page.mouse.down();
          await page.mouse.move(760 + (i % 3) * 100, 320, { steps: 2 });
          await page.mouse.up();
          await page.mouse.move(960, 300);
          break;
        default:
          await page.keyboard.press(i % 8 === 3 ? "Shift+D" : "Shift+A");
      }
      await settle();
    }
    const times = (await page.evaluate(() => window.looptrace.frameTimes)).slice(before);
    if (profiling) printProfile((await cdp.send("Profiler.stop")).profile, times.length);
    // Then an animation as the page sees it: for 3 s, each animation frame
    // zooms and pans a step (through setView, which draws at once) and the
    // interval between frames is kept. A frame that takes too long shows as
    // a 33 ms interval (a missed vsync), whatever its cause (draw, raster,
    // garbage collection).
    const intervals = await page.evaluate(() => new Promise((resolve) => {
      const lt = window.looptrace;
      const v0 = lt.state().view;
      const whole = v0.end_us - v0.start_us;
      const out = [];
      let last = null;
      const t0 = performance.now();
      const step = (now) => {
        if (last !== null) out.push(now - last);
        last = now;
        const i = out.length;
        const width = whole * Math.pow(0.5, (i % 40) / 4); // zoom in 10x, jump out
        const at = v0.start_us + ((i * 0.013) % 1) * (whole - width);
        lt.setView(at, at + width);
        if (now - t0 < 3000) requestAnimationFrame(step);
        else resolve(out);
      };
      requestAnimationFrame(step);
    }));
    if (process.argv.includes("--verbose")) console.log(times.map((t) => t.toFixed(1)).join(" "));
    console.log(`frames: ${times.length}, p50 ${pct(times, 50).toFixed(2)} ms, ` +
                `max ${Math.max(...times).toFixed(2)} ms`);
    console.log(`load average: ${fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);
    console.log(`viewer_first_render_ms_${label}: ${Math.round(tm.first_frame_at_ms)}`);
    // The tab's CPU time up to its first frame: what the first render costs
    // whatever else the machine is doing (on a loaded machine the wall
    // clock above is much longer).
    if (tab) console.log(`viewer_first_render_cpu_ms_${label}: ${Math.round(tab.cpu)}`);
    console.log(`viewer_frame_ms_p95_${label}: ${pct(times, 95).toFixed(2)}`);
    console.log(`animation: ${intervals.length} frames in 3 s, interval p50 ` +
                `${pct(intervals, 50).toFixed(1)} ms, max ${Math.max(...intervals).toFixed(1)} ms`);
    console.log(`viewer_frame_interval_ms_p95_${label}: ${pct(intervals, 95).toFixed(1)}`);
    console.log(`viewer_tab_memory_mb_${label}: ${mem.rss === null ? "n/a" : mem.rss.toFixed(0)}`);
    console.log(`viewer_js_heap_mb_${label}: ${mem.heap.toFixed(0)}`);
  }
} finally {
  await browser.close();
  await server.close();
}
