// harness.mjs — what every browser test needs: where the build is, Debian's
// chromium driven by playwright-core (never a downloaded browser), a tiny
// static server for build/viewer/ on 127.0.0.1, guards that fail a test
// when the page throws, opens a dialog or asks for anything outside its
// origin, and a small sequential test runner.
//
// Exit codes follow tests/runner.c: 0 pass, 77 skip ("skip: reason"),
// anything else fails.

import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const SRC = path.resolve(process.env.LOOPTRACE_SRC || path.join(here, "../../.."));
export const BUILD = path.resolve(process.env.LOOPTRACE_BUILD || path.join(SRC, "build"));
export const VIEWER = path.join(BUILD, "viewer");
export const CHROMIUM = process.env.LOOPTRACE_CHROMIUM || "/usr/bin/chromium";

export function skip(reason) {
  console.log(`skip: ${reason}`);
  process.exit(77);
}

// ---- the browser -------------------------------------------------------

const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--force-device-scale-factor=1",
               "--font-render-hinting=none"];

// Starts chromium with a fresh, empty profile; returns {context, close}.
export async function launch(opts = {}) {
  if (!fs.existsSync(CHROMIUM)) skip(`${CHROMIUM} is missing (make deps installs chromium)`);
  if (!fs.existsSync(path.join(VIEWER, "index.html"))) {
    console.error(`${VIEWER}/index.html is missing: run make first`);
    process.exit(1);
  }
  let chromium;
  try {
    ({ chromium } = await import("playwright-core"));
  } catch (e) {
    skip("playwright-core is not installed (make deps runs npm ci in tests/browser)");
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "looptrace-chromium-"));
  // Removed however the test ends (a failed setup exits without teardown).
  process.on("exit", () => fs.rmSync(profile, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: FLAGS,
    viewport: opts.viewport || { width: 1400, height: 900 }, deviceScaleFactor: 1,
    acceptDownloads: false,
  });
  return {
    context,
    profile, // the browser's --user-data-dir: finds its processes in /proc
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// ---- the server --------------------------------------------------------

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8", ".json": "application/json",
                ".png": "image/png", ".svg": "image/svg+xml" };

// Serves `root` on 127.0.0.1 at a random port, plus `files` (url path ->
// string, Buffer, or {body or file (a path, streamed), headers}) on top.
// Returns {origin, requests (paths asked for), setFile, removeFile, close}.
export function serve(root = VIEWER, files = {}) {
  const requests = [];
  // Bodies are kept as bytes: encoding a 100 MB string per request would
  // dominate what the benchmark measures.
  const entry = (v) => (v && (v.body !== undefined || v.file !== undefined)
    ? { body: v.body === undefined ? undefined : Buffer.from(v.body), file: v.file, headers: v.headers || {} }
    : { body: Buffer.from(v), headers: {} });
  const extra = new Map(Object.entries(files).map(([k, v]) => [k, entry(v)]));
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://localhost");
    requests.push(url.pathname + url.search);
    const send = (status, type, body) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (extra.has(url.pathname)) {
      const e = extra.get(url.pathname);
      const headers = { "content-type": "application/json", "cache-control": "no-store", ...e.headers };
      if (e.file === undefined) {
        res.writeHead(200, { ...headers, "content-length": e.body.length });
        return res.end(e.body);
      }
      res.writeHead(200, { ...headers, "content-length": fs.statSync(e.file).size });
      // In 4 MB reads: node's default 64 KB ones cost this server about
      // 2 s of CPU for a 610 MB trace, taken from the tab it serves (the
      // benchmark's machine has 2 cores).
      return fs.createReadStream(e.file, { highWaterMark: 4 << 20 }).pipe(res);
    }
    let rel = decodeURIComponent(url.pathname);
    if (rel.endsWith("/")) rel += "index.html";
    const file = path.join(root, path.normalize(rel));
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile())
      return send(404, "text/plain", "not found");
    send(200, TYPES[path.extname(file)] || "application/octet-stream", fs.readFileSync(file));
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const origin = `http://127.0.0.1:${server.address().port}`;
      resolve({
        origin, requests,
        setFile: (p, body) => extra.set(p, entry(body)),
        removeFile: (p) => extra.delete(p),
        close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
      });
    });
  });
}

// ---- pages -------------------------------------------------------------

// Opens the viewer at `origin + pathAndQuery` and waits for its first load
// to end. The page is guarded: guards.errors (uncaught exceptions),
// guards.dialogs (alert/confirm/prompt) and guards.outside (requests to any
// other origin, which are blocked) must stay empty; check with assertClean.
export async function openViewer(context, origin, pathAndQuery = "/") {
  const page = await context.newPage();
  const guards = await guard(page, origin);
  await page.goto(origin + pathAndQuery);
  await waitLoads(page, 1);
  return Object.assign(page, { guards });
}

export async function guard(page, origin) {
  const guards = { errors: [], dialogs: [], outside: [], console: [] };
  page.on("pageerror", (e) => guards.errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") guards.console.push(m.text()); });
  page.on("dialog", (d) => { guards.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if ((origin && url.startsWith(origin + "/")) || url.startsWith("file://") ||
        url.startsWith("data:") || url.startsWith("blob:"))
      return route.continue();
    guards.outside.push(url);
    return route.abort();
  });
  return guards;
}

export function assertClean(page) {
  const g = page.guards;
  if (g.errors.length) throw new Error(`page threw: ${g.errors.join("; ")}`);
  if (g.dialogs.length) throw new Error(`page opened dialogs: ${g.dialogs.join("; ")}`);
  if (g.outside.length) throw new Error(`page asked for other origins: ${g.outside.join(", ")}`);
}

// Waits until the viewer has finished `n` loads (successful or not).
export async function waitLoads(page, n, timeout = 60_000) {
  await page.waitForFunction((k) => window.looptrace && window.looptrace.loads >= k, n, { timeout });
  return page.evaluate(() => window.looptrace.state());
}

export async function screenshot(page, name) {
  const dir = path.join(BUILD, "screenshots");
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

// Loads `text` as if the user picked it in the file dialog.
export async function openFile(page, name, text) {
  const before = await page.evaluate(() => window.looptrace.loads);
  await page.setInputFiles("#open", { name, mimeType: "application/json", buffer: Buffer.from(text) });
  return waitLoads(page, before + 1);
}

// ---- running -------------------------------------------------------------

// A list of named async tests run in order; one failure fails the file but
// the rest still run, so the output shows everything that is wrong.
export function suite(name) {
  const tests = [];
  return {
    test(title, fn) { tests.push([title, fn]); },
    async run(setup, teardown) {
      let failed = 0;
      let env;
      try {
        env = setup ? await setup() : undefined;
        for (const [title, fn] of tests) {
          const t0 = Date.now();
          try {
            await fn(env);
            console.log(`ok      ${title} (${Date.now() - t0} ms)`);
          } catch (e) {
            failed++;
            console.log(`FAILED  ${title}\n        ${String(e && e.stack || e).split("\n").join("\n        ")}`);
          }
        }
      } finally {
        if (teardown) await teardown(env).catch((e) => console.log(`teardown: ${e}`));
      }
      console.log(`${name}: ${tests.length - failed} of ${tests.length} passed`);
      process.exit(failed ? 1 : 0);
    },
  };
}
