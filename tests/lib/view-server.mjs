// view-server.mjs — run by tests/view-server.test.sh: `looptrace view`
// serves what it checked at start (a symlink swapped in later is not
// followed), keeps serving normal clients while 1100 half-sent requests
// hold connections under a 1024-descriptor limit, drops a client that
// stalls, sends its security headers on every response (errors too),
// serves a .json.gz trace with Content-Encoding: gzip, and its usage
// errors point at `looptrace view --help`.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";

import { startView as startViewOf } from "../browser/lib/view.mjs";

const BUILD = process.env.LOOPTRACE_BUILD;
const LOOPTRACE = path.join(BUILD, "looptrace");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "looptrace-view-server-"));
const procs = [];
process.on("exit", () => {
  for (const p of procs) p.kill("SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
});

// A trace of some size (several chunks of the server's).
const events = [{ name: "process_name", ph: "M", pid: 1, tid: 1, args: { name: "t" } }];
for (let i = 0; i < 20000; i++)
  events.push({ name: "tick", ph: "X", pid: 1, tid: 1, ts: i * 10, dur: 5, args: { tick: i } });
const traceText = JSON.stringify(events);

// Starts `looptrace view FILE` under a 1024-descriptor limit; resolves
// with {proc, port} (tests/browser/lib/view.mjs).
async function startView(file) {
  const view = await startViewOf(LOOPTRACE, file, { launcher: ["prlimit", "--nofile=1024:1024", "--"] });
  procs.push(view.proc);
  return view;
}

function stopView(view) {
  return new Promise((resolve) => {
    view.proc.on("exit", (code) => resolve(code));
    view.proc.kill("SIGINT");
  });
}

// Sends `request` (exact bytes); resolves with {status, head, body} when
// the server closes, or {status: 0, error} if the connection fails.
function raw(port, request, timeoutMs = 10_000) {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    const chunks = [];
    const timer = setTimeout(() => { sock.destroy(); resolve({ status: 0, error: "timeout" }); },
                             timeoutMs);
    sock.on("connect", () => sock.write(request));
    sock.on("data", (d) => chunks.push(d));
    sock.on("error", (e) => { clearTimeout(timer); resolve({ status: 0, error: e.code }); });
    sock.on("end", () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks);
      const split = text.indexOf("\r\n\r\n");
      const head = split < 0 ? text.toString() : text.subarray(0, split).toString();
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0);
      resolve({ status, head, body: split < 0 ? Buffer.alloc(0) : text.subarray(split + 4) });
    });
  });
}

const get = (port, target, host = `127.0.0.1:${port}`, extra = "") =>
  raw(port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n`);

const header = (r, name) =>
  new RegExp(`^${name}: (.*)$`, "im").exec(r.head)?.[1];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test("serves the file it opened at start, not what the path names later", async () => {
  const file = path.join(dir, "swap.json");
  fs.writeFileSync(file, traceText);
  const view = await startView(file);
  const before = await get(view.port, "/trace.json");
  assert.equal(before.status, 200);
  assert.ok(before.body.equals(Buffer.from(traceText)), "the trace arrives whole");
  // The attacker swaps the trace for a symlink to /etc/passwd...
  fs.unlinkSync(file);
  fs.symlinkSync("/etc/passwd", file);
  const after = await get(view.port, "/trace.json");
  assert.equal(after.status, 200);
  assert.ok(!after.body.includes("root:"), "/etc/passwd was served");
  assert.ok(after.body.equals(Buffer.from(traceText)), "the trace checked at start is served");
  // ... or renames another file over it.
  fs.unlinkSync(file);
  fs.writeFileSync(path.join(dir, "other"), "secret\n");
  fs.renameSync(path.join(dir, "other"), file);
  const renamed = await get(view.port, "/trace.json");
  assert.ok(!renamed.body.includes("secret"), "the renamed file was served");
  assert.equal(await stopView(view), 0);
  console.log("ok: after a symlink swap /trace.json is still the trace checked at start");
});

test("security headers on every response, errors included", async () => {
  const file = path.join(dir, "headers.json");
  fs.writeFileSync(file, traceText);
  const view = await startView(file);
  const p = view.port;
  const cases = {
    "200 page": await get(p, "/"),
    "200 trace": await get(p, "/trace.json"),
    "404": await get(p, "/etc/passwd"),
    "400 host": await get(p, "/trace.json", "evil.example"),
    "405": await raw(p, `POST / HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nContent-Length: 0\r\n\r\n`),
    "400 garbage": await raw(p, "NOT HTTP AT ALL\r\n\r\n"),
    "HEAD": await raw(p, `HEAD /trace.json HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\n\r\n`),
  };
  const want = { "200 page": 200, "200 trace": 200, "404": 404, "400 host": 400, "405": 405,
                 "400 garbage": 400, "HEAD": 200 };
  for (const [what, r] of Object.entries(cases)) {
    assert.equal(r.status, want[what], `${what}: ${r.head}`);
    assert.equal(header(r, "X-Content-Type-Options"), "nosniff", `${what}: no nosniff`);
    const csp = header(r, "Content-Security-Policy");
    assert.ok(csp, `${what}: no Content-Security-Policy header`);
    assert.match(csp, /default-src 'self'/, `${what}: CSP ${csp}`);
    assert.match(csp, /frame-ancestors 'none'/, `${what}: CSP ${csp}`);
    assert.equal(header(r, "Cache-Control"), "no-store", `${what}: Cache-Control`);
  }
  assert.equal(cases.HEAD.body.length, 0);
  assert.equal(Number(header(cases.HEAD, "Content-Length")), Buffer.byteLength(traceText));
  assert.equal(await stopView(view), 0);
  console.log(`ok: ${Object.keys(cases).length} kinds of response carry nosniff, a CSP header and no-store`);
});

test("a .json.gz trace is served as /trace.json with Content-Encoding: gzip", async () => {
  const file = path.join(dir, "t.json.gz");
  const gz = zlib.gzipSync(traceText);
  fs.writeFileSync(file, gz);
  const view = await startView(file);
  const r = await get(view.port, "/trace.json", undefined, "Accept-Encoding: gzip\r\n");
  assert.equal(r.status, 200);
  assert.equal(header(r, "Content-Encoding"), "gzip");
  assert.match(header(r, "Content-Type"), /^application\/json/);
  assert.equal(Number(header(r, "Content-Length")), gz.length);
  assert.ok(r.body.equals(gz), "the file's bytes, as they are");
  assert.equal(zlib.gunzipSync(r.body).toString(), traceText);
  // The page itself is not gzip.
  const page = await get(view.port, "/");
  assert.equal(header(page, "Content-Encoding"), undefined);
  assert.equal(await stopView(view), 0);
  // A .gz that is not gzip: one line, exit 1, before serving.
  fs.writeFileSync(path.join(dir, "bad.json.gz"), traceText);
  const bad = spawnSync(LOOPTRACE, ["view", path.join(dir, "bad.json.gz"), "--no-open"],
                        { encoding: "utf8", timeout: 10_000 });
  assert.equal(bad.status, 1, bad.stderr);
  assert.match(bad.stderr, /^looptrace: .*bad\.json\.gz: named \.gz but not gzip-compressed\n$/);
  console.log(`ok: t.json.gz served as /trace.json, ${gz.length} bytes, Content-Encoding: gzip`);
});

test("1100 half-sent requests under a 1024-descriptor limit do not lock clients out", async () => {
  const file = path.join(dir, "slow.json");
  fs.writeFileSync(file, traceText);
  const view = await startView(file);
  const half = `GET /trace.json HTTP/1.1\r\nHost: 127.0.0.1:${view.port}\r\nX-Slow:`;
  const N = 1100;
  const socks = [];
  let closedByServer = 0;
  const t0 = Date.now();
  await Promise.all(Array.from({ length: N }, () => new Promise((resolve) => {
    const s = net.connect(view.port, "127.0.0.1");
    s.on("connect", () => { s.write(half); resolve(); });
    s.on("error", () => resolve());
    s.on("close", () => { closedByServer++; resolve(); });
    s.on("data", () => {});
    socks.push(s);
  })));
  const opened = Date.now() - t0;
  // Let the server catch up with its backlog.
  let held = N - closedByServer;
  for (let i = 0; i < 30 && held > 128; i++) {
    await sleep(100);
    held = N - closedByServer;
  }
  console.log(`1100 half-sent connections opened in ${opened} ms; the server holds ${held}`);
  // Normal clients, while the rest stay half-sent.
  const waits = [];
  let served = 0;
  for (let i = 0; i < 20; i++) {
    const start = Date.now();
    const r = await get(view.port, i % 2 ? "/trace.json" : "/", undefined, "", 3000);
    waits.push(Date.now() - start);
    if (r.status === 200) served++;
  }
  waits.sort((a, b) => a - b);
  console.log(`${served} of 20 normal clients served meanwhile: median ${waits[10]} ms, ` +
              `max ${waits[19]} ms`);
  assert.equal(served, 20, "normal clients were turned away");
  assert.ok(waits[19] < 2000, `a normal client waited ${waits[19]} ms`);
  assert.ok(held <= 128, `the server held ${held} idle connections`);
  for (const s of socks) s.destroy();
  assert.equal(await stopView(view), 0);
  console.log("ok: normal clients are served during 1100 half-sent requests");
});

test("a client that sends half a request and stalls is dropped after a few seconds", async () => {
  const file = path.join(dir, "idle.json");
  fs.writeFileSync(file, traceText);
  const view = await startView(file);
  const start = Date.now();
  const closedAfter = await new Promise((resolve) => {
    const s = net.connect(view.port, "127.0.0.1");
    // A byte a second: trickling does not buy time.
    let timer;
    s.on("connect", () => {
      s.write("GET / HTTP/1.1\r\n");
      timer = setInterval(() => s.write("X"), 1000);
    });
    s.on("error", () => {});
    s.on("close", () => { clearInterval(timer); resolve(Date.now() - start); });
    setTimeout(() => { clearInterval(timer); s.destroy(); resolve(-1); }, 15_000);
  });
  console.log(`a stalled client (a byte a second) was dropped after ${closedAfter} ms`);
  assert.ok(closedAfter > 0, "the stalled client was never dropped");
  assert.ok(closedAfter >= 3000 && closedAfter <= 8000, `dropped after ${closedAfter} ms`);
  assert.equal(await stopView(view), 0);
  console.log("ok: a stalled client is dropped");
});

test("usage errors point at `looptrace view --help`", async () => {
  for (const args of [["view"], ["view", "--bogus"], ["view", "a", "b"]]) {
    const r = spawnSync(LOOPTRACE, args, { encoding: "utf8" });
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^looptrace view: /, r.stderr);
    assert.match(r.stderr, /Try `looptrace view --help'/, r.stderr);
  }
  console.log("ok: usage errors say `looptrace view --help'");
});

let failed = 0;
for (const t of tests) {
  try {
    await t.fn();
  } catch (e) {
    failed++;
    console.log(`FAIL: ${t.name}: ${e.message}`);
  }
}
process.exit(failed ? 1 : 0);
