// looptrace-view.test.mjs — `looptrace view FILE` serves the viewer and that
// one trace on 127.0.0.1 and nothing else: the page loads the trace from it
// in a real browser; every other path, in any encoding, is 404; requests
// naming another host are refused; bad command lines fail with one line.
// timeout: 120

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import zlib from "node:zlib";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { launch, openViewer, assertClean, screenshot, suite, BUILD } from "./lib/harness.mjs";
import { generateTrace } from "./lib/gen-trace.mjs";
import { startView as startViewOf } from "./lib/view.mjs";

const LOOPTRACE = path.join(BUILD, "looptrace");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "looptrace-view-"));
process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
const tracePath = path.join(dir, "threads.json");
const trace = generateTrace();
fs.writeFileSync(tracePath, trace.text);
// A file the server must never hand out, next to the trace.
fs.writeFileSync(path.join(dir, "secret.txt"), "secret\n");

// Starts `looptrace view FILE`; resolves with {proc, port} (lib/view.mjs).
const startView = (file, extra = []) => startViewOf(LOOPTRACE, file, { extra });

// Sends `request` (exact bytes) and resolves with {status, headers, body}.
function raw(port, request) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    const chunks = [];
    sock.on("connect", () => sock.write(request));
    sock.on("data", (d) => chunks.push(d));
    sock.on("error", reject);
    sock.on("end", () => {
      const text = Buffer.concat(chunks);
      const split = text.indexOf("\r\n\r\n");
      const head = text.subarray(0, split).toString();
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]);
      resolve({ status, head, body: text.subarray(split + 4) });
    });
  });
}

const get = (port, target, host = `127.0.0.1:${port}`) =>
  raw(port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);

const t = suite("looptrace-view");

t.test("serves the page and the trace, byte for byte", async ({ view }) => {
  const index = await get(view.port, "/");
  assert.equal(index.status, 200);
  assert.match(index.head, /Content-Type: text\/html/);
  assert.equal(index.body.toString(), fs.readFileSync(path.join(BUILD, "viewer/index.html"), "utf8"));
  const tr = await get(view.port, "/trace.json");
  assert.equal(tr.status, 200);
  assert.match(tr.head, /Content-Type: application\/json/);
  assert.ok(tr.body.equals(fs.readFileSync(tracePath)), "the trace arrives unchanged");
  const js = await get(view.port, "/js/main.js");
  assert.equal(js.status, 200);
  const head = await raw(view.port, `HEAD /trace.json HTTP/1.1\r\nHost: 127.0.0.1:${view.port}\r\n\r\n`);
  assert.equal(head.status, 200);
  assert.match(head.head, new RegExp(`Content-Length: ${fs.statSync(tracePath).size}`));
  assert.equal(head.body.length, 0);
});

t.test("every other path is 404, however it is spelled", async ({ view }) => {
  const attempts = [
    "/../../../../etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E/%2E%2E/etc/passwd", "/%252e%252e/%252e%252e/etc/passwd", "/..%5c..%5cetc%5cpasswd",
    "/js/../../secret.txt", "/js/..%2f..%2fsecret.txt", "/secret.txt", "/trace.json/../secret.txt",
    "/./trace.json", "//trace.json", "/trace.json%00.html", "/%c0%ae%c0%ae/etc/passwd",
    "/index.html/..", "/js/", "/js", "/etc/passwd", "/proc/self/environ", "/TRACE.JSON",
    "http://127.0.0.1/etc/passwd", "*",
  ];
  for (const target of attempts) {
    const r = await get(view.port, target);
    assert.ok(r.status === 404 || r.status === 400, `${target} gave ${r.status}`);
    assert.ok(!r.body.includes("secret") && !r.body.includes("root:"), `${target} leaked a file`);
  }
});

t.test("a request naming another host is refused (DNS rebinding)", async ({ view }) => {
  for (const host of ["evil.example", "evil.example:" + view.port, "127.0.0.1:1", ""]) {
    const r = await get(view.port, "/trace.json", host);
    assert.equal(r.status, 400, `Host '${host}'`);
  }
  assert.equal((await get(view.port, "/trace.json", `localhost:${view.port}`)).status, 200);
});

t.test("only GET and HEAD", async ({ view }) => {
  const r = await raw(view.port, `POST /trace.json HTTP/1.1\r\nHost: 127.0.0.1:${view.port}\r\n` +
                                 "Content-Length: 2\r\n\r\n{}");
  assert.equal(r.status, 405);
  assert.match(r.head, /Allow: GET, HEAD/);
  const bad = await raw(view.port, "NOT HTTP AT ALL\r\n\r\n");
  assert.equal(bad.status, 400);
});

t.test("the viewer opened at the printed URL shows the trace", async ({ view, browser }) => {
  const origin = `http://127.0.0.1:${view.port}`;
  const page = await openViewer(browser.context, origin, "/");
  const st = await page.evaluate(() => window.looptrace.state());
  assert.equal(st.loaded, true);
  assert.equal(st.error, null);
  assert.deepEqual(st.lanes.filter((l) => l.kind === "thread").map((l) => l.name),
                   ["event loop", "worker 1", "worker 2", "worker 3", "worker 4"]);
  assert.equal(st.flows.chains, 5);
  assertClean(page);
  await screenshot(page, "looptrace-view");
  await page.close();
});

t.test("a .json.gz trace is sent gzip-encoded and the viewer streams it in", async ({ browser }) => {
  const gzPath = path.join(dir, "threads.json.gz");
  fs.writeFileSync(gzPath, zlib.gzipSync(trace.text));
  const view = await startView(gzPath);
  try {
    const r = await get(view.port, "/trace.json");
    assert.equal(r.status, 200);
    assert.match(r.head, /Content-Encoding: gzip/i);
    assert.ok(r.body.equals(fs.readFileSync(gzPath)), "sent as it is on disk");
    const page = await openViewer(browser.context, `http://127.0.0.1:${view.port}`, "/");
    const st = await page.evaluate(() => window.looptrace.state());
    assert.equal(st.loaded, true, st.error);
    assert.equal(st.events, trace.events.length);
    assert.equal(st.timings.read, "worker, stream, line by line",
                 "inflated by fetch, parsed as it came, in a worker");
    assert.equal(st.flows.chains, 5);
    assertClean(page);
    await page.close();
  } finally {
    view.proc.kill("SIGKILL");
  }
});

t.test("bad command lines: one line, non-zero exit", async () => {
  const cases = [
    [["view"], 2, /which trace file/],
    [["view", path.join(dir, "missing.json")], 1, /missing\.json: No such file/],
    [["view", dir], 1, /not a regular file/],
    [["view", tracePath, "--port", "99999"], 2, /--port wants a port number/],
  ];
  for (const [args, status, message] of cases) {
    const r = spawnSync(LOOPTRACE, args, { encoding: "utf8" });
    assert.equal(r.status, status, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split("\n").length <= 2, true, r.stderr);
  }
});

t.test("stops on SIGINT", async ({ view }) => {
  const exited = new Promise((resolve) => view.proc.on("exit", (code, sig) => resolve({ code, sig })));
  view.proc.kill("SIGINT");
  const { code } = await exited;
  assert.equal(code, 0);
});

await t.run(
  async () => ({ view: await startView(tracePath), browser: await launch() }),
  async ({ view, browser }) => { view.proc.kill("SIGKILL"); await browser.close(); },
);
