// viewer-vocab-agree.test.mjs — viewer/static/js/vocab.js, the viewer's
// one definition of the trace vocabulary, says what the C side says:
// phase names and their order for libuv 1.44 and 1.45+ (lrt_phase_name,
// lrt_phase_order in runtime/include/looprt_trace.h), callback kinds in
// enum order (lrt_callback_kind_name), the completion kinds (the
// exporter's is_completion), the span categories (tracer/trace_names.h) and the
// format version the exporter writes. And theme.js gives every phase and
// kind of vocab.js a colour. Plain Node: no browser needed.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { SRC, suite } from "./lib/harness.mjs";

const read = (rel) => fs.readFileSync(path.join(SRC, rel), "utf8");
const header = read("runtime/include/looprt_trace.h");
const names = read("tracer/trace_names.h");
// The tracer's sources, where the exporter's completion test and format
// version live (whichever file they move to).
const exporter = fs.readdirSync(path.join(SRC, "tracer")).filter((f) => /\.[ch]$/.test(f))
  .map((f) => read(`tracer/${f}`)).join("\n");

// Loads the classic scripts into one context, as index.html does.
const ctx = vm.createContext({});
for (const f of ["vocab.js", "theme.js"])
  vm.runInContext(read(`viewer/static/js/${f}`) + `\nthis.${f === "vocab.js" ? "Vocab = Vocab" : "Theme = Theme"};`, ctx);
const { Vocab, Theme } = ctx;

// enum NAME { A = 1, B = 2, ... } -> Map(A -> 1, ...)
function enumValues(name) {
  const body = new RegExp(`enum ${name} \\{([^}]*)\\}`).exec(header);
  assert.ok(body, `enum ${name} in looprt_trace.h`);
  const out = new Map();
  for (const m of body[1].matchAll(/(\w+)\s*=\s*(\d+)/g)) out.set(m[1], +m[2]);
  return out;
}

// The names of a `[ENUM_CONST] = "name"` table in function fn, by value.
function nameTable(fn, values) {
  const at = header.indexOf(fn);
  const body = header.slice(at, header.indexOf("}", header.indexOf("{", header.indexOf("names", at)) + 1));
  const out = [];
  for (const m of body.matchAll(/\[(\w+)\]\s*=\s*"([^"]+)"/g)) out[values.get(m[1])] = m[2];
  return out.filter((x) => x !== undefined);
}

const t = suite("viewer-vocab-agree");

t.test("phase names and their order per libuv version agree with looprt_trace.h", () => {
  const phases = enumValues("lrt_phase");
  const byValue = nameTable("lrt_phase_name(", phases);
  assert.equal(byValue.length, 7);
  const order = (arr) => {
    const m = new RegExp(`${arr}\\[\\]\\s*=\\s*\\{([^}]*)\\}`).exec(header);
    assert.ok(m, `${arr} in lrt_phase_order`);
    return m[1].split(",").map((x) => x.trim()).filter(Boolean)
      .map((c) => byValue[phases.get(c) - 1]);
  };
  assert.deepEqual([...Vocab.PHASES_1_44], order("v144"));
  assert.deepEqual([...Vocab.PHASES_1_45], order("v145"));
  assert.deepEqual([...Vocab.phaseOrder("1.44.2")], order("v144"));
  assert.deepEqual([...Vocab.phaseOrder("1.45.0")], order("v145"));
  assert.deepEqual([...Vocab.phaseOrder("2.0.0")], order("v145"));
  assert.deepEqual([...Vocab.phaseOrder(undefined)], order("v144"));
});

t.test("callback kinds and the completion kinds agree with looprt_trace.h and export.c", () => {
  const kinds = enumValues("lrt_callback_kind");
  const byValue = nameTable("lrt_callback_kind_name(", kinds);
  assert.deepEqual([...Vocab.CALLBACK_KINDS], byValue);
  const m = /is_completion\(unsigned kind\) \{([^}]*)\}/.exec(exporter);
  assert.ok(m, "is_completion in tracer/");
  const completion = [...m[1].matchAll(/LRT_CB_\w+/g)].map((x) => byValue[kinds.get(x[0]) - 1]);
  assert.deepEqual([...Vocab.COMPLETION_KINDS].sort(), completion.sort());
});

t.test("span categories agree with trace_names.h; the format version with the exporter", () => {
  const cats = [...names.matchAll(/#define TRACE_CAT_(\w+) "([^"]+)"/g)].map((m) => [m[1], m[2]]);
  assert.ok(cats.length >= 6);
  assert.deepEqual(Object.entries(Vocab.CAT).sort(), cats.sort());
  const v = /\\"trace_format\\":(\d+)/.exec(exporter);
  assert.ok(v, "the exporter writes trace_format");
  assert.equal(Vocab.FORMAT_VERSION, +v[1]);
});

t.test("theme.js colours every phase, wait and callback kind of vocab.js", () => {
  for (const p of Vocab.PHASES_1_44.concat([Vocab.CAT.WAIT]))
    assert.match(Theme.PHASE_COLOURS[p], /^#[0-9a-f]{6}$/, p);
  for (const k of Vocab.CALLBACK_KINDS) assert.match(Theme.KIND_COLOURS[k], /^#[0-9a-f]{6}$/, k);
});

t.test("no other viewer file spells a phase list, the kinds or the categories", () => {
  const dir = path.join(SRC, "viewer/static/js");
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".js") && f !== "vocab.js")) {
    const text = fs.readFileSync(path.join(dir, f), "utf8");
    assert.doesNotMatch(text, /"timers",\s*"pending"|"pending",\s*"idle"/, `${f} spells the phase order`);
    assert.doesNotMatch(text, /"work",\s*"fs",\s*"dns"/, `${f} spells the completion kinds`);
    assert.doesNotMatch(text, /"tick",\s*"phase",\s*"wait"/, `${f} spells the categories`);
    assert.doesNotMatch(text, /case "(tick|phase|wait|callback|submit|work)":/, `${f} spells a category`);
  }
});

await t.run();
