#!/usr/bin/env bash
# timeout: 120
# looptrace records stock Node.js through its libuv (no flag, no preload,
# no restart): threads.js attached by -p before its work starts, and
# started by `record -- node`; the traces show ticks in libuv 1.46 order,
# four worker lanes, five pbkdf2 with the fifth waiting for a free worker,
# readFile's fs steps queued behind them, and every task's four moments
# in order; order.js places setImmediate and setTimeout(0) set from a fs
# callback. `looptrace stat` reads the traces.
set -uo pipefail
. "$LOOPTRACE_SRC/tests/lib/test.sh"
command -v node >/dev/null || skip "node is not installed"
require_bpf

JS=$LOOPTRACE_SRC/tests/node

check() { # TRACE CHECK...
  node "$JS/check-trace.js" "$@" || die "trace $1: see above"
}

# 1. -p: attach to a running node, then let it work.
node "$JS/threads.js" --wait > "$tmp/node.out" &
node_pid=$!
track $node_pid
wait_line "$tmp/node.out" "^ready" || die "threads.js did not start"
"$lt" record -p $node_pid -o "$tmp/p.json" 2> "$tmp/rec.err" &
rec=$!
track $rec
wait_line "$tmp/rec.err" "tracing pid" ||
  die "looptrace did not attach: $(cat "$tmp/rec.err")"
grep -q "expected cost" "$tmp/rec.err" || die "no cost line at attach"
kill -USR2 $node_pid
wait $node_pid || die "threads.js failed while traced"
wait $rec || die "looptrace record -p failed: $(cat "$tmp/rec.err")"
grep -qx done "$tmp/node.out" || die "threads.js did not finish: $(cat "$tmp/node.out")"
check "$tmp/p.json" source order tasks threads

# 2. -- node: started by looptrace, traced from its first instruction.
"$lt" record -q -o "$tmp/c.json" -- node "$JS/threads.js" > "$tmp/c.out" ||
  die "looptrace record -- node failed"
grep -qx done "$tmp/c.out" || die "threads.js did not finish under record --"
check "$tmp/c.json" source order tasks threads
grep -q '"incomplete"\|"cut"' "$tmp/c.json" &&
  die "a trace started with the program has cut spans"
echo "ok: record -- node: no cut spans"

# 3. setImmediate vs setTimeout(0) from a fs callback.
"$lt" record -q -o "$tmp/o.json" -- node "$JS/order.js" > "$tmp/o.out" ||
  die "looptrace record -- node order.js failed"
check "$tmp/o.json" source order immediate

# 4. stat reads the trace.
"$lt" stat "$tmp/p.json" > "$tmp/stat" || die "looptrace stat failed"
grep -q "pbkdf2" "$tmp/stat" && grep -q "worker 4" "$tmp/stat" &&
  grep -q "libuv 1.46" "$tmp/stat" ||
  die "stat misses pbkdf2, worker 4 or the libuv version: $(cat "$tmp/stat")"
echo "ok: looptrace stat reads the node trace"
