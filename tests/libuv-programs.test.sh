#!/usr/bin/env bash
# timeout: 120
# The libuv source beyond the main loop of node: a C program linked
# statically with Debian's libuv_a.a (libuv 1.44: timers first in a tick),
# attached by -p and started by `record --`; node's worker_threads, each
# Worker's loop a loop of its own; `looptrace list` naming them traceable;
# and a refusal in one line for a stripped libuv.
set -uo pipefail
. "$LOOPTRACE_SRC/tests/lib/test.sh"
require_bpf

JS=$LOOPTRACE_SRC/tests/node
PROG=$LOOPTRACE_BUILD/tests/uvprogs/uv-threads

# check_144 TRACE MIN: at least MIN complete ticks, all in libuv 1.44
# order (timers first), the five uv_queue_work tasks labelled with their
# work function and the fs.stat, each with its four moments in order.
check_144() {
  node - "$1" "$2" <<'JS' || die "trace $1: see above"
const ev = JSON.parse(require('fs').readFileSync(process.argv[2]));
const fail = (m) => { console.log(`FAILED: ${m}`); process.exit(1); };
const meta = Object.assign({}, ...ev.filter((e) => e.ph === 'M' &&
  e.name === 'looptrace').map((e) => e.args));
if (meta.source !== 'libuv') fail(`source ${meta.source}`);
if (!/^1\.44/.test(meta.libuv_version)) fail(`version ${meta.libuv_version}`);
// A version guessed from the symbols (no uv_version() linked in) is
// written as a guess, never as an exact one.
const guessed = (meta.fallbacks || []).some((f) => /version guessed/.test(f));
if (guessed !== / \(guessed\)$/.test(meta.libuv_version))
  fail(`libuv_version ${meta.libuv_version} with fallbacks ${JSON.stringify(meta.fallbacks)}`);
const X = ev.filter((e) => e.ph === 'X');
const end = (e) => e.ts + e.dur;
const inside = (a, b) => a.ts >= b.ts - 0.002 && end(a) <= end(b) + 0.002;
const order = ['timers', 'pending', 'idle', 'prepare', 'poll', 'pending',
  'check', 'close'];
let complete = 0;
let timersFirst = 0;
for (const t of X.filter((e) => e.cat === 'tick' && !e.args.cut &&
                        !e.args.incomplete)) {
  const names = X.filter((p) => p.cat === 'phase' && p.tid === t.tid &&
    inside(p, t)).sort((a, b) => a.ts - b.ts).map((p) => p.name);
  let i = 0;
  for (const n of names) {
    while (i < order.length && order[i] !== n) i++;
    if (i++ === order.length) fail(`tick ${t.args.tick}: ${names.join(' ')}`);
  }
  complete++;
  if (names[0] === 'timers') timersFirst++;
}
// Empty phases under 1 µs are left out of traces, timers often among them.
if (complete < Number(process.argv[3]) || timersFirst < 1)
  fail(`${complete} complete ticks, ${timersFirst} starting with timers`);
const work = X.filter((e) => e.cat === 'work');
const busy = work.filter((e) => e.name === 'work: busy_work');
if (busy.length !== 5) fail(`${busy.length} busy_work tasks`);
if (!work.some((e) => e.name === 'fs.stat')) fail('no fs.stat task');
for (const w of work) {
  const s = X.find((e) => e.cat === 'submit' && e.args.task === w.args.task);
  const c = X.find((e) => e.cat === 'callback' && e.args.task === w.args.task);
  if (!s || !c) fail(`task ${w.args.task} (${w.name}) lacks submit or completion`);
  if (!(s.ts <= w.ts && end(w) <= c.ts + 0.002)) fail(`task ${w.args.task} out of order`);
}
console.log(`ok: libuv ${meta.libuv_version}: ${complete} ticks in 1.44 order ` +
  `(${timersFirst} open with timers), ` +
  `${work.length} tasks in order`);
JS
}

# 1. record -- a static libuv program.
"$lt" record -q -o "$tmp/c.json" -- "$PROG" > "$tmp/c.out" ||
  die "record -- uv-threads failed"
grep -qx done "$tmp/c.out" || die "uv-threads did not finish: $(cat "$tmp/c.out")"
check_144 "$tmp/c.json" 3

# 2. -p on it, attached before its work starts; `list` shows it.
"$PROG" --wait > "$tmp/p.out" &
target=$!
track $target
wait_line "$tmp/p.out" "^ready" || die "uv-threads --wait did not start"
"$lt" list > "$tmp/list" || die "looptrace list failed"
grep -E "^ *$target .*libuv" "$tmp/list" > /dev/null ||
  die "list does not show pid $target as a libuv program: $(cat "$tmp/list")"
echo "ok: list shows the static libuv program"
"$lt" record -p $target -o "$tmp/p.json" 2> "$tmp/rec.err" &
rec=$!
track $rec
wait_line "$tmp/rec.err" "tracing pid" || die "no attach: $(cat "$tmp/rec.err")"
kill -USR2 $target
wait $target || die "uv-threads failed while traced"
wait $rec || die "record -p failed: $(cat "$tmp/rec.err")"
# Attached with -p, the first tick is cut at its start (the tracer came
# in while it waited) and the last at its end (no uretprobe sees the
# return of the uv_run entered before the attach): the work's completions
# can fall into a single complete tick between them.
check_144 "$tmp/p.json" 1

# 3. worker_threads: each Worker's loop is a loop of its own, with its
#    ticks and its fs tasks.
"$lt" record -q -o "$tmp/w.json" -- node "$JS/workers.js" > "$tmp/w.out" ||
  die "record -- node workers.js failed"
grep -qx done "$tmp/w.out" || die "workers.js did not finish"
node - "$tmp/w.json" <<'JS' || die "worker_threads trace: see above"
const ev = JSON.parse(require('fs').readFileSync(process.argv[2]));
const X = ev.filter((e) => e.ph === 'X');
const loops = new Set(X.filter((e) => e.cat === 'submit').map((e) => e.tid));
for (const tid of loops) {
  const ticks = X.filter((e) => e.cat === 'tick' && e.tid === tid).length;
  const stats = X.filter((e) => e.cat === 'callback' && e.tid === tid &&
    e.name === 'fs.stat').length;
  if (ticks < 5 || stats !== 20) {
    console.log(`FAILED: loop ${tid}: ${ticks} ticks, ${stats} fs.stat callbacks`);
    process.exit(1);
  }
}
if (loops.size !== 3) {
  console.log(`FAILED: ${loops.size} loops submit work, not 3 (main + 2 Workers)`);
  process.exit(1);
}
const main = ev.find((e) => e.name === 'thread_name' &&
  e.tid === ev.find((x) => x.name === 'process_name').pid);
if (!main || main.args.name !== 'event loop') {
  console.log(`FAILED: the main thread is named ${main && main.args.name}`);
  process.exit(1);
}
console.log('ok: worker_threads: main and 2 Workers, each its own loop with ' +
  '20 fs.stat completions');
JS

# 4. Debian's libuv.so.1 is stripped: refused in one line naming it.
"$PROG-shared" --wait > "$tmp/s.out" &
target=$!
track $target
wait_line "$tmp/s.out" "^ready" || die "uv-threads-shared did not start"
"$lt" record -p $target -o "$tmp/s.json" 2> "$tmp/s.err" &&
  die "a program on a stripped libuv was traced"
kill -KILL $target; wait $target 2>/dev/null
[ "$(wc -l < "$tmp/s.err")" = 1 ] || die "more than one line: $(cat "$tmp/s.err")"
grep -q "libuv in /.*libuv.so.* is stripped (no .symtab)" "$tmp/s.err" ||
  die "unclear refusal: $(cat "$tmp/s.err")"
[ -e "$tmp/s.json" ] && die "a refused recording left $tmp/s.json"
echo "ok: refused: $(cat "$tmp/s.err")"
