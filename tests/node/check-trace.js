// check-trace.js — checks a looptrace trace of a Node.js program recorded
// with the libuv source, as a user would read it. Used by the node tests:
//
//   node check-trace.js TRACE CHECK...
//
// Checks: source (libuv source, version of this node), order (every
// complete tick's phases in libuv 1.45+ order), tasks (every task's
// submit <= start <= end <= completion), threads (threads.js: five pbkdf2
// on the four workers, the fifth waiting for the first to end; readFile's
// open, fstat, read, close queued behind pbkdf2), immediate (order.js:
// setImmediate from an fs callback runs in that tick's check, setTimeout 0
// in a later timers phase), flight (a flight dump of slow-tick.js around
// its slow tick), usr1 (a flight dump marking SIGUSR1). Prints "ok: ..."
// per check, or the first failure and exits 1.
'use strict';
const fs = require('fs');
const zlib = require('zlib');

const [file, ...checks] = process.argv.slice(2);
let raw = fs.readFileSync(file);
if (file.endsWith('.gz')) raw = zlib.gunzipSync(raw);
const events = JSON.parse(raw.toString());

function fail(msg) {
  console.log(`FAILED: ${msg}`);
  process.exit(1);
}

const meta = Object.assign({}, ...events
  .filter((e) => e.ph === 'M' && e.name === 'looptrace').map((e) => e.args));
const spans = events.filter((e) => e.ph === 'X');
const pid = events.find((e) => e.name === 'process_name').pid;
const cut = (e) => e.args && (e.args.cut || e.args.incomplete);
const end = (e) => e.ts + e.dur;
const EPS = 0.002; // µs: timestamps are printed to the ns

// Spans of the main loop thread by kind.
const mainTid = pid;
const ticks = spans.filter((e) => e.cat === 'tick' && e.tid === mainTid);
const phases = spans.filter((e) => e.cat === 'phase' && e.tid === mainTid);
const work = spans.filter((e) => e.cat === 'work');
const submits = spans.filter((e) => e.cat === 'submit');
const callbacks = spans.filter((e) => e.cat === 'callback');
const within = (inner, outer) =>
  inner.ts >= outer.ts - EPS && end(inner) <= end(outer) + EPS;
const phaseOf = (e) =>
  phases.find((p) => p.tid === e.tid && within(e, p));

const run = {
  source() {
    if (meta.source !== 'libuv') fail(`source is ${meta.source}`);
    if (meta.libuv_version !== process.versions.uv)
      fail(`libuv_version ${meta.libuv_version}, node has ` +
           process.versions.uv);
    return `source libuv ${meta.libuv_version}`;
  },

  order() {
    const order = ['pending', 'idle', 'prepare', 'poll', 'pending', 'check',
      'close', 'timers'];
    let complete = 0;
    for (const t of ticks) {
      if (cut(t)) continue;
      const names = phases.filter((p) => within(p, t))
        .sort((a, b) => a.ts - b.ts).map((p) => p.name);
      let i = 0;
      for (const n of names) {
        while (i < order.length && order[i] !== n) i++;
        if (i === order.length)
          fail(`tick ${t.args.tick}: phases ${names.join(' ')} are not in ` +
               `libuv 1.46 order`);
        i++;
      }
      complete++;
    }
    if (complete < 3) fail(`only ${complete} complete ticks`);
    // Phases under 1 µs are left out of a trace: some tick shows each.
    for (const name of ['poll', 'check', 'timers'])
      if (!phases.some((p) => p.name === name)) fail(`no ${name} phase`);
    return `${complete} complete ticks in 1.46 order (timers last)`;
  },

  tasks() {
    let n = 0;
    for (const s of submits) {
      const id = s.args.task;
      const w = work.find((e) => e.args.task === id);
      const cb = callbacks.find((e) => e.args.task === id);
      if (!w || !cb) continue; // still running when the recording ended
      if (!(s.ts <= w.ts + EPS && w.ts <= end(w) && end(w) <= cb.ts + EPS))
        fail(`task ${id} (${s.args.label}): submit ${s.ts} start ${w.ts} ` +
             `end ${end(w)} completion ${cb.ts} out of order`);
      if (Math.abs(w.args.queue_wait_us - (w.ts - s.ts)) > 1)
        fail(`task ${id}: queue_wait_us ${w.args.queue_wait_us} is not ` +
             `start - submit`);
      n++;
    }
    if (n === 0) fail('no complete task');
    return `${n} tasks: submit <= start <= end <= completion`;
  },

  threads() {
    const pb = work.filter((e) => e.name === 'pbkdf2');
    if (pb.length !== 5) fail(`${pb.length} pbkdf2 tasks, not 5`);
    const tids = new Set(pb.map((e) => e.tid));
    if (tids.size > 4) fail(`pbkdf2 ran on ${tids.size} threads`);
    const workers = events.filter((e) => e.name === 'thread_name' &&
      /^worker/.test(e.args.name));
    if (workers.length !== 4) fail(`${workers.length} worker lanes, not 4`);
    pb.sort((a, b) => a.ts - b.ts);
    const firstEnd = Math.min(...pb.map(end));
    if (pb[4].ts < firstEnd - EPS)
      fail(`the fifth pbkdf2 started at ${pb[4].ts} before the first ` +
           `ended at ${firstEnd}`);
    if (!(pb[4].args.queue_wait_us > 0)) fail('fifth pbkdf2 has no queue wait');
    for (const e of pb) {
      if (!submits.some((s) => s.args.task === e.args.task))
        fail(`pbkdf2 task ${e.args.task} has no submit (flow)`);
      if (!e.flow_in) fail(`pbkdf2 task ${e.args.task} has no flow in`);
    }
    const fsTasks = work.filter((e) => /^fs\./.test(e.name))
      .sort((a, b) => a.ts - b.ts).map((e) => e.name);
    const want = ['fs.open', 'fs.fstat', 'fs.read', 'fs.close'];
    if (fsTasks.join() !== want.join())
      fail(`readFile's tasks are ${fsTasks.join(' ')}`);
    const open = work.find((e) => e.name === 'fs.open');
    if (open.ts < firstEnd - EPS)
      fail('fs.open started before any pbkdf2 ended: not queued behind them');
    return `5 pbkdf2 on ${tids.size} of 4 workers, the fifth queued ` +
      `${(pb[4].args.queue_wait_us / 1000).toFixed(1)} ms; readFile's ` +
      `${want.join(', ')} queued behind pbkdf2`;
  },

  immediate() {
    // order.js marks its callbacks with synchronous fs calls: access in
    // the immediate, stat in the timer, both set from a fs.readdir
    // callback (a task completion).
    const cb = callbacks.find((e) => e.name === 'fs.scandir');
    const after = (name) => callbacks.find((e) => e.name === name &&
      cb && e.ts > cb.ts);
    const imm = after('fs.access (sync)');
    const tim = after('fs.lstat (sync)');
    if (!cb || !imm || !tim) fail('order.js markers missing from the trace');
    const pc = phaseOf(cb);
    const pi = phaseOf(imm);
    const pt = phaseOf(tim);
    if (!pc || pc.name !== 'poll') fail('the fs callback is not in poll');
    if (!pi || pi.name !== 'check' || pi.args.tick !== pc.args.tick)
      fail(`the immediate ran in ${pi && pi.name} of tick ` +
           `${pi && pi.args.tick}, not in check of tick ${pc.args.tick}`);
    if (!pt || pt.name !== 'timers' || pt.ts < end(pi))
      fail(`the timer ran in ${pt && pt.name}, not in a timers phase after ` +
           'the check');
    return `fs callback in poll of tick ${pc.args.tick}, setImmediate in ` +
      `its check, setTimeout 0 in timers of tick ${pt.args.tick}`;
  },

  flight() {
    // A flight recorder's dump of slow-tick.js made by `--trigger
    // $TRIGGER` (tick>Nms): the trigger marked, the slow tick ending where
    // it is, and nothing from before the window (--flight seconds before
    // it). $SLOW_END_NS is when the slow callback returned (slow-tick.js).
    const slowEnd = Number(process.env.SLOW_END_NS);
    const trigger = process.env.TRIGGER;
    if (meta.end_reason !== 'flight-window') fail(`end_reason ${meta.end_reason}`);
    if (meta.flight_trigger !== trigger) fail(`made by ${meta.flight_trigger}`);
    const trig = events.find((e) => e.name === 'trigger' && e.ph === 'i' &&
      e.args.trigger === trigger &&
      Math.abs(e.ts - meta.flight_trigger_us) < EPS);
    if (!trig) fail('no trigger instant at flight_trigger_us');
    const trigNs = meta.clock_offset_ns + trig.ts * 1e3;
    if (!(trigNs >= slowEnd && trigNs < slowEnd + 1e9))
      fail(`the trigger is ${(trigNs - slowEnd) / 1e6} ms from the slow ` +
           'callback\'s end');
    const over = Number(/^tick>(\d+)ms$/.exec(trigger)[1]) * 1e3; // µs
    if (!(trig.args.value_us > over)) fail(`value_us ${trig.args.value_us}`);
    const tick = ticks.find((t) => Math.abs(end(t) - trig.ts) < 1);
    if (!tick || cut(tick)) fail('no whole tick ends at the trigger');
    if (tick.dur < trig.args.value_us) fail(`the slow tick lasted ${tick.dur} µs`);
    const start = meta.flight_window_start_us;
    if (start < meta.flight_trigger_us - meta.flight_seconds * 1e6 - EPS)
      fail(`the window starts ${meta.flight_trigger_us - start} µs before the trigger`);
    for (const e of spans) {
      if (e.ts < start - EPS) fail(`${e.name} at ${e.ts} is before the window`);
      if (cut(e) && e.args.cut !== 'end' && Math.abs(e.ts - start) > EPS)
        fail(`${e.name} at ${e.ts} is cut but not at the window's start`);
    }
    const whole = ticks.filter((t) => !cut(t)).length;
    if (whole < 100) fail(`only ${whole} whole ticks before and after it`);
    return `trigger ${trigger} ${(trig.args.value_us / 1e3).toFixed(1)} ms, the ` +
      `${(tick.dur / 1e3).toFixed(1)} ms tick ending there, ${whole} ticks, ` +
      `${((meta.flight_trigger_us - start) / 1e6).toFixed(2)} s before it`;
  },

  usr1() {
    // A dump made by SIGUSR1 sent to looptrace, or that was waiting for
    // its --after seconds when it came: its trigger instant is there.
    if (!meta.flight_trigger) fail('not a flight dump');
    if (!events.some((e) => e.name === 'trigger' && e.args.trigger === 'SIGUSR1'))
      fail('no SIGUSR1 trigger instant');
    if (ticks.length < 10) fail(`only ${ticks.length} ticks`);
    return `SIGUSR1 marked in a dump made by ${meta.flight_trigger}, ` +
      `${ticks.length} ticks`;
  },
};

for (const c of checks) {
  if (!run[c]) fail(`unknown check ${c}`);
  console.log(`ok: ${run[c]()}`);
}
