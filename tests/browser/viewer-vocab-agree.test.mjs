// viewer-vocab-agree.test.mjs — the viewer means what the C side means by
// the trace vocabulary. Its js/vocab.js is generated at build time from
// runtime/include/looprt_vocab.h (viewer/vocab_gen.c), so names cannot
// differ; what can is the JavaScript that reads them. So: for libuv
// version strings of every shape, the viewer orders phases as `looptrace
// stat` (lrt_uv_version_parse, lrt_phase_order) does; theme.js colours
// every phase and kind; no other viewer file spells the vocabulary.
// viewer-vocab-recording checks the same against real recordings.
// Plain Node: no browser needed.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadVocab } from "./lib/vocab.mjs";
import { BUILD, SRC, suite } from "./lib/harness.mjs";

const LOOPTRACE = process.env.LOOPTRACE_BIN || path.join(BUILD, "looptrace");
const { Vocab, Theme } = loadVocab();

// One tick holding all seven phases, written in an order that is neither
// 1.44's nor 1.45's, with `facts` as the looptrace metadata's args.
function sevenPhases(facts) {
  const names = ["poll", "close", "timers", "check", "idle", "pending", "prepare"];
  const ev = [{ name: "looptrace", ph: "M", pid: 1, tid: 1, args: facts },
              { name: "tick", cat: "tick", ph: "X", ts: 0, dur: 70, pid: 1, tid: 1, args: { tick: 1 } }];
  names.forEach((name, i) =>
    ev.push({ name, cat: "phase", ph: "X", ts: i * 10, dur: 10, pid: 1, tid: 1, args: { tick: 1 } }));
  return JSON.stringify(ev);
}

// The phase names in the order `looptrace stat --json` lists them.
function statOrder(text) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "looptrace-vocab-"));
  try {
    const file = path.join(dir, "t.json");
    fs.writeFileSync(file, text);
    const r = spawnSync(LOOPTRACE, ["stat", "--json", file], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout).phases.map((p) => p.name);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const t = suite("viewer-vocab-agree");

t.test("vocab.js is built from looprt_vocab.h, not written by hand", () => {
  assert.ok(!fs.existsSync(path.join(SRC, "viewer/static/js/vocab.js")),
            "a hand-written viewer/static/js/vocab.js would shadow nothing and drift");
  const gen = spawnSync(path.join(BUILD, "tools/vocab_gen"), { encoding: "utf8" });
  assert.equal(gen.status, 0, gen.stderr);
  assert.equal(fs.readFileSync(path.join(BUILD, "viewer/js/vocab.js"), "utf8"), gen.stdout,
               "build/viewer/js/vocab.js is stale: run make");
});

t.test("stat and the viewer order the phases alike for every libuv version string", () => {
  const versions = [undefined, "1.44.2", "1.44.300", "1.45.0", "1.45", "1.46.0-dev",
                    "1.44 (guessed)", "1.45 (guessed)",
                    "2.0.0", "0.11.0", "1.x", "", "v1.45.0", "256.0.0"];
  const seen = new Set();
  for (const v of versions) {
    const facts = v === undefined ? {} : { libuv_version: v };
    const stat = statOrder(sevenPhases(facts));
    assert.deepEqual([...Vocab.phaseOrder(v)], stat, `libuv_version ${JSON.stringify(v)}`);
    seen.add(stat.join(" "));
  }
  // Both orders came up: the cases above are not all one answer.
  assert.equal(seen.size, 2);
});

t.test("theme.js colours every phase, wait and callback kind", () => {
  for (const p of Vocab.PHASES_1_44.concat([Vocab.CAT.WAIT]))
    assert.match(Theme.PHASE_COLOURS[p], /^#[0-9a-f]{6}$/, p);
  for (const k of Vocab.CALLBACK_KINDS) assert.match(Theme.KIND_COLOURS[k], /^#[0-9a-f]{6}$/, k);
});

t.test("no other viewer file spells a phase list, the kinds or the categories", () => {
  const dir = path.join(SRC, "viewer/static/js");
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".js"))) {
    const text = fs.readFileSync(path.join(dir, f), "utf8");
    assert.doesNotMatch(text, /"timers",\s*"pending"|"pending",\s*"idle"/, `${f} spells the phase order`);
    assert.doesNotMatch(text, /"work",\s*"fs",\s*"dns"/, `${f} spells the completion kinds`);
    assert.doesNotMatch(text, /"tick",\s*"phase",\s*"wait"/, `${f} spells the categories`);
    assert.doesNotMatch(text, /case "(tick|phase|wait|callback|submit|work)":/, `${f} spells a category`);
  }
});

await t.run();
