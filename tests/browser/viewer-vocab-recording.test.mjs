// viewer-vocab-recording.test.mjs — REAL recordings read with the viewer's
// vocabulary (build/viewer/js/vocab.js): the `phases` example through the
// runtime's probe, and a plain libuv program through the libuv source.
// Each tick's phases come in the order the viewer gives for the trace's
// libuv_version; every callback kind is one the viewer knows and colours,
// and the spans that end a threadpool flow are exactly of its completion
// kinds; every cat, arg, instant, counter and metadata key the tracer
// wrote is one the viewer reads, and the format version is the viewer's.
// Skips without BPF privilege (fails then under LOOPTRACE_REQUIRE_BPF=1).
// timeout: 120

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadVocab } from "./lib/vocab.mjs";
import { BUILD, suite, skip } from "./lib/harness.mjs";

const LOOPTRACE = process.env.LOOPTRACE_BIN || path.join(BUILD, "looptrace");
const PROGRAMS = {
  looprt: path.join(BUILD, "examples/phases"),
  libuv: path.join(BUILD, "tests/uvprogs/uv-threads"),
};
const { Vocab, Theme } = loadVocab();

function skipOrFail(reason) {
  if (process.env.LOOPTRACE_REQUIRE_BPF === "1") {
    console.error(`BPF required (LOOPTRACE_REQUIRE_BPF=1) but: ${reason}`);
    process.exit(1);
  }
  skip(reason);
}

if (process.getuid() !== 0) skipOrFail("needs root (CAP_BPF and CAP_PERFMON) to record");
if (!fs.existsSync("/sys/kernel/btf/vmlinux")) skipOrFail("no BTF at /sys/kernel/btf/vmlinux");

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "looptrace-vocab-"));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));

// Records `program` to the end; returns its events.
function record(source, program) {
  const file = path.join(tmp, `${source}.json`);
  const r = spawnSync(LOOPTRACE, ["record", "-q", "-o", file, "--", program],
                      { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) {
    const why = (r.stderr || "").trim().split("\n").pop();
    if (/privilege|permission|CAP_|EPERM/i.test(why)) skipOrFail(`record: ${why}`);
    throw new Error(`looptrace record -- ${program} failed (exit ${r.status}): ${r.stderr}`);
  }
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

const traces = {};
for (const [source, program] of Object.entries(PROGRAMS)) traces[source] = record(source, program);

// The args of the looptrace metadata events, merged.
function facts(events) {
  const out = {};
  for (const e of events)
    if (e.ph === "M" && e.name === Vocab.META_LOOPTRACE) Object.assign(out, e.args);
  return out;
}

const t = suite("viewer-vocab-recording");

for (const [source, events] of Object.entries(traces)) {
  t.test(`${source}: each tick's phases come in the viewer's order for its libuv version`, () => {
    const f = facts(events);
    assert.equal(f[Vocab.META.SOURCE], source);
    // Exact, or guessed from the symbols (TRACE-FORMAT.md).
    assert.match(f[Vocab.META.LIBUV_VERSION], /^\d+\.\d+(\.\d+| \(guessed\))$/);
    const order = Vocab.phaseOrder(f[Vocab.META.LIBUV_VERSION]);
    const ticks = new Map();
    const seen = new Set();
    for (const e of events) {
      if (e.ph !== "X" || e.cat !== Vocab.CAT.PHASE) continue;
      seen.add(e.name);
      // The second pending run of a tick follows poll: not in the order.
      if (e.args[Vocab.ARG.AFTER_POLL]) continue;
      const tick = e.args[Vocab.ARG.TICK];
      if (!ticks.has(tick)) ticks.set(tick, []);
      ticks.get(tick).push(e);
    }
    assert.ok(ticks.size >= 3, `${ticks.size} ticks with phases`);
    let pairs = 0;
    for (const [tick, phases] of ticks) {
      phases.sort((a, b) => a.ts - b.ts);
      const ranks = phases.map((p) => order.indexOf(p.name));
      assert.ok(!ranks.includes(-1), `tick ${tick}: ${phases.map((p) => p.name)}`);
      for (let i = 1; i < ranks.length; i++, pairs++)
        assert.ok(ranks[i - 1] < ranks[i],
                  `tick ${tick} ran ${phases.map((p) => p.name).join(", ")}, not in ${order.join(", ")}`);
    }
    assert.ok(pairs >= 3, `only ${pairs} pairs of phases in one tick to compare`);
    if (source === "looprt") // the phases example runs every one of them
      assert.deepEqual([...seen].sort(), [...order].sort());
  });

  t.test(`${source}: callback kinds are the viewer's, coloured, and the completions end the flows`, () => {
    let flows = 0;
    for (const e of events) {
      if (e.ph !== "X" || e.cat !== Vocab.CAT.CALLBACK) continue;
      const kind = e.args[Vocab.ARG.KIND];
      assert.ok(Vocab.CALLBACK_KINDS.includes(kind), `kind ${kind}`);
      assert.match(Theme.KIND_COLOURS[kind], /^#[0-9a-f]{6}$/, kind);
      if (e.flow_in) {
        flows++;
        assert.ok(Vocab.COMPLETION_KINDS.includes(kind), `a ${kind} callback ends a flow`);
        assert.equal(typeof e.args[Vocab.ARG.TASK], "number");
      }
    }
    assert.ok(flows >= 1, "no completion in the recording");
  });

  t.test(`${source}: every name the tracer wrote is one the viewer reads`, () => {
    const args = new Set(Object.values(Vocab.ARG));
    const metas = new Set(Object.values(Vocab.META));
    const chrome = [Vocab.META_PROCESS_NAME, Vocab.META_PROCESS_SORT_INDEX,
                    Vocab.META_THREAD_NAME, Vocab.META_THREAD_SORT_INDEX];
    const cats = new Set();
    for (const e of events) {
      if (e.ph === "X") {
        cats.add(e.cat);
        assert.equal(Vocab.categoryOf(e.cat), e.cat, `cat ${e.cat}`);
        for (const k of Object.keys(e.args || {})) assert.ok(args.has(k), `arg ${k} of ${e.cat}`);
      } else if (e.ph === "i") {
        assert.equal(e.cat, Vocab.CAT_LOOPTRACE);
        assert.ok(Object.values(Vocab.INSTANT).includes(e.name), `instant ${e.name}`);
        for (const k of Object.keys(e.args || {})) assert.ok(args.has(k), `arg ${k} of ${e.name}`);
      } else if (e.ph === "C") {
        assert.equal(e.name, Vocab.COUNTER.THREADPOOL);
        assert.deepEqual(Object.keys(e.args).sort(), [Vocab.COUNTER.QUEUED, Vocab.COUNTER.RUNNING].sort());
      } else if (e.ph === "M" && e.name === Vocab.META_LOOPTRACE) {
        for (const k of Object.keys(e.args)) assert.ok(metas.has(k), `metadata key ${k}`);
      } else if (e.ph === "M") {
        assert.ok(chrome.includes(e.name), `metadata ${e.name}`);
      }
    }
    for (const c of [Vocab.CAT.TICK, Vocab.CAT.PHASE, Vocab.CAT.CALLBACK, Vocab.CAT.WORK])
      assert.ok(cats.has(c), `no ${c} span`);
    assert.equal(facts(events)[Vocab.META.TRACE_FORMAT], Vocab.FORMAT_VERSION);
  });
}

await t.run();
