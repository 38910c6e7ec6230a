// check-trace.mjs FILE... — loads looptrace traces with Chrome DevTools'
// trace engine (@paulirish/trace_engine, the code of the DevTools
// Performance panel, published from chromium's devtools-frontend) and
// checks that it takes them whole: no exception, no warning, every thread
// named as we named it, and every span of ours placed in its per-thread
// call tree (the engine silently drops a span that overlaps its parent)
// under the parent TRACE-FORMAT.md says.
//
// The engine reads flows in the v1 form (ph s/t/f) only, so our v2 flows
// (bind_id, flow_in, flow_out) are ignored by it, not rejected; the C tests
// check them. Exit status 0 when every file passes, 1 otherwise (one line
// per problem on stderr).
import fs from 'node:fs';
import {polyfillDOMRect} from '@paulirish/trace_engine/analyze-trace.mjs';
import * as Trace from '@paulirish/trace_engine/models/trace/trace.js';

polyfillDOMRect();

// Which parent categories each span category may have ('' is none).
const PARENTS = {
  tick: [''],
  phase: ['tick'],
  wait: ['phase:poll'],
  callback: ['', 'phase', 'callback'],
  submit: ['', 'phase', 'callback'],
  work: [''],
};

async function check(file) {
  const problems = [];
  const warnings = [];
  const saved = {warn: console.warn, error: console.error};
  console.warn = (...a) => warnings.push(a.join(' '));
  console.error = (...a) => warnings.push(a.join(' '));

  const events = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!Array.isArray(events) || events[0]?.name !== 'process_name') {
    problems.push('not a looptrace trace: array form, process_name first');
    return problems;
  }
  const pid = events[0].pid;
  const facts = Object.assign(
      {}, ...events.filter(e => e.ph === 'M' && e.name === 'looptrace')
                  .map(e => e.args));
  const threadNames = new Map(
      events.filter(e => e.ph === 'M' && e.name === 'thread_name')
          .map(e => [e.tid, e.args.name]));
  const spans = events.filter(e => e.ph === 'X');

  let parsed;
  try {
    const model = Trace.TraceModel.Model.createWithAllHandlers();
    await model.parse(events);
    parsed = model.parsedTrace().data;
  } catch (err) {
    problems.push(`the trace engine threw: ${err.stack || err}`);
    return problems;
  } finally {
    console.warn = saved.warn;
    console.error = saved.error;
  }
  for (const w of warnings) problems.push(`the trace engine warned: ${w}`);
  if (parsed.Warnings.perEvent.size > 0) {
    problems.push(`the trace engine flagged ${
        [...parsed.Warnings.perWarning.keys()].join(', ')}`);
  }

  // The time range it sees is inside the recording.
  const bounds = parsed.Meta.traceBounds;
  if (bounds.min < 0 || bounds.max > facts.duration_us + 0.001) {
    problems.push(`trace bounds [${bounds.min}, ${bounds.max}] outside [0, ${
        facts.duration_us}]`);
  }

  // Every thread with spans, under the name we gave it.
  const process = parsed.Renderer.processes.get(pid);
  if (!process) {
    problems.push(`the trace engine has no process ${pid}`);
    return problems;
  }
  const tids = new Set(spans.map(e => e.tid));
  for (const tid of tids) {
    const thread = process.threads.get(tid);
    if (!thread) {
      problems.push(`the trace engine has no thread ${tid}`);
    } else if (thread.name !== threadNames.get(tid)) {
      problems.push(`thread ${tid} is '${thread.name}', we named it '${
          threadNames.get(tid)}'`);
    }
  }

  // Every span in its thread's tree, under an allowed parent.
  const nodes = parsed.Renderer.entryToNode;
  let placed = 0;
  for (const e of spans) {
    const node = nodes.get(e);
    if (!node) {
      if (problems.length < 20) {
        problems.push(`${e.cat} '${e.name}' at ${e.ts} (tid ${
            e.tid}) is not in the trace engine's tree`);
      }
      continue;
    }
    placed++;
    const p = node.parent?.entry;
    const parent = p ? (p.cat === 'phase' && e.cat === 'wait' ?
                            `phase:${p.name}` :
                            p.cat) :
                       '';
    if (!(PARENTS[e.cat] || []).includes(parent)) {
      if (problems.length < 20) {
        problems.push(`${e.cat} '${e.name}' at ${e.ts} sits in '${
            parent}' in the trace engine's tree`);
      }
    }
  }
  console.log(`${file}: ${events.length} events, ${spans.length} spans on ${
      tids.size} threads, ${placed} placed in the trace engine's trees, ${
      warnings.length} warnings`);
  return problems;
}

let failed = false;
for (const file of process.argv.slice(2)) {
  for (const problem of await check(file)) {
    console.error(`${file}: ${problem}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
