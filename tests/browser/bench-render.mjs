// bench-render.mjs — how fast the viewer shows a big trace. Not a test (no
// speed target lives in a timed test): run it by hand or from `make bench`.
//
//   node tests/browser/bench-render.mjs [--events N] [--frames K]
//
// Generates a looptrace-format trace of about N events (1,000,000 by
// default), serves it as /trace.json next to build/viewer/, loads it in
// headless Chromium (1920×1080) and prints:
//
//   viewer_first_render_ms_1m: N   navigation start → first timeline frame
//                                  drawn (fetch + parse + model + draw)
//   viewer_frame_ms_p95: N         95th percentile of zoom/pan frames, each
//                                  timed from the start of drawing until the
//                                  canvas is rasterized (a pixel read forces it)
//
// The suffix of the first figure names the size (1m, 10k, ...).

import { launch, serve, waitLoads } from "./lib/harness.mjs";
import { generateLargeTrace } from "./lib/gen-trace.mjs";

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const target = arg("events", 1_000_000);
const frames = arg("frames", 120);
const label = target >= 1e6 && target % 1e6 === 0 ? `${target / 1e6}m`
  : target >= 1e3 && target % 1e3 === 0 ? `${target / 1e3}k` : String(target);

const pct = (v, p) => {
  const s = v.slice().sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)];
};

const t0 = Date.now();
const trace = generateLargeTrace(target);
console.log(`trace: ${trace.events.length} events, ${(trace.text.length / 1e6).toFixed(1)} MB ` +
            `(generated in ${Date.now() - t0} ms)`);
trace.events = null; // only the text is served

const server = await serve(undefined, { "/trace.json": trace.text });
const browser = await launch({ viewport: { width: 1920, height: 1080 } });
try {
  const page = await browser.context.newPage();
  const wall0 = Date.now();
  await page.goto(server.origin + "/");
  const st = await waitLoads(page, 1, 180_000);
  const wall = Date.now() - wall0;
  if (!st.loaded) throw new Error(`the trace did not load: ${st.error}`);
  const tm = st.timings;
  console.log(`loaded ${st.spans} spans in ${st.lanes.length} lanes, ${st.flows.arrows} flow arrows`);
  console.log(`  fetch ${tm.fetch_ms.toFixed(0)} ms, parse ${tm.parse_ms.toFixed(0)} ms, ` +
              `model ${tm.model_ms.toFixed(0)} ms, first draw ${tm.first_frame_ms.toFixed(1)} ms; ` +
              `wall clock from goto ${wall} ms`);

  // Zoom and pan through the real input paths (keys, wheel, drag): a sweep
  // from the whole trace down to about a thousandth of it and back, panning
  // at each depth. Every frame is timed with its raster.
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
  if (process.argv.includes("--verbose")) console.log(times.map((t) => t.toFixed(1)).join(" "));
  console.log(`frames: ${times.length}, p50 ${pct(times, 50).toFixed(2)} ms, ` +
              `max ${Math.max(...times).toFixed(2)} ms`);
  console.log(`viewer_first_render_ms_${label}: ${Math.round(tm.first_frame_at_ms)}`);
  console.log(`viewer_frame_ms_p95: ${pct(times, 95).toFixed(2)}`);
} finally {
  await browser.close();
  await server.close();
}
