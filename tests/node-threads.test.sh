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
. "$LOOPTRACE_SRC/tests/lib/bpf.sh"
command -v node >/dev/null || { echo "skip: node is not installed"; exit 77; }
require_bpf

LT=$LOOPTRACE_BUILD/looptrace
JS=$LOOPTRACE_SRC/tests/node
tmp=$(mktemp -d)
node_pid=
rec=
trap '[ -n "$rec" ] && kill -KILL $rec 2>/dev/null
      [ -n "$node_pid" ] && kill -KILL $node_pid 2>/dev/null
      rm -rf "$tmp"' EXIT

fail() { echo "FAILED: $*"; exit 1; }

# wait_line FILE PATTERN [SECONDS]
wait_line() {
  local i
  for i in $(seq $((${3:-20} * 20))); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

check() { # TRACE CHECK...
  node "$JS/check-trace.js" "$@" || fail "trace $1: see above"
}

# 1. -p: attach to a running node, then let it work.
node "$JS/threads.js" --wait > "$tmp/node.out" &
node_pid=$!
wait_line "$tmp/node.out" "^ready" || fail "threads.js did not start"
"$LT" record -p $node_pid -o "$tmp/p.json" 2> "$tmp/rec.err" &
rec=$!
wait_line "$tmp/rec.err" "tracing pid" ||
  fail "looptrace did not attach: $(cat "$tmp/rec.err")"
grep -q "expected cost" "$tmp/rec.err" || fail "no cost line at attach"
kill -USR2 $node_pid
wait $node_pid || fail "threads.js failed while traced"
node_pid=
wait $rec || fail "looptrace record -p failed: $(cat "$tmp/rec.err")"
rec=
grep -qx done "$tmp/node.out" || fail "threads.js did not finish: $(cat "$tmp/node.out")"
check "$tmp/p.json" source order tasks threads

# 2. -- node: started by looptrace, traced from its first instruction.
"$LT" record -q -o "$tmp/c.json" -- node "$JS/threads.js" > "$tmp/c.out" ||
  fail "looptrace record -- node failed"
grep -qx done "$tmp/c.out" || fail "threads.js did not finish under record --"
check "$tmp/c.json" source order tasks threads
grep -q '"incomplete"\|"cut"' "$tmp/c.json" &&
  fail "a trace started with the program has cut spans"
echo "ok: record -- node: no cut spans"

# 3. setImmediate vs setTimeout(0) from a fs callback.
"$LT" record -q -o "$tmp/o.json" -- node "$JS/order.js" > "$tmp/o.out" ||
  fail "looptrace record -- node order.js failed"
check "$tmp/o.json" source order immediate

# 4. stat reads the trace.
"$LT" stat "$tmp/p.json" > "$tmp/stat" || fail "looptrace stat failed"
grep -q "pbkdf2" "$tmp/stat" && grep -q "worker 4" "$tmp/stat" &&
  grep -q "libuv 1.46" "$tmp/stat" ||
  fail "stat misses pbkdf2, worker 4 or the libuv version: $(cat "$tmp/stat")"
echo "ok: looptrace stat reads the node trace"
