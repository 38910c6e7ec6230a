#!/usr/bin/env bash
# node.sh — what `looptrace record` costs stock Node.js through its libuv
# (uprobes on libuv's functions), side by side with Node's own trace
# events, which need a restart. Called by run.sh (make bench); alone:
#
#   tests/bench/node.sh [--build DIR] [--rounds R] [--ticks N] [--requests N]
#
# Prints what it measures as it goes, then `name: value` lines:
# - node_attach_us_per_tick: CPU per tick added by the tracer attached to
#   a setImmediate loop (one empty immediate per tick: the worst case),
#   median over rounds of (traced - plain) / ticks;
# - node_trace_events_us_per_tick: the same for `node
#   --trace-event-categories node.async_hooks`;
# - node_vs_trace_events_ratio: the first over the second (bound <= 1);
# - node_http_traced_ratio: requests/s of an HTTP server (a fs.stat per
#   request) under a local client, traced / untraced (bound >= 0.90);
# - node_attach_s: from starting `looptrace record -p` to its "tracing"
#   line (symbols of the 98 MB node read, probes in; bound <= 0.5 s).
# CPU is the node process's own (user + system: uprobe hits are paid in
# the kernel on its threads), as the workload measures it.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
rounds=5
ticks=200000
requests=4000
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --ticks) ticks=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    *) echo "usage: node.sh [--build DIR] [--rounds R] [--ticks N]" \
         "[--requests N]" >&2; exit 2 ;;
  esac
done
command -v node > /dev/null || { echo "node.sh: node is not installed" >&2; exit 1; }
looptrace=${LOOPTRACE:-$build/looptrace}
js=$top/tests/bench/node-immediates.js
srv=$top/tests/node/http-server.js
load=$top/tests/node/http-load.js
bench_tmp

field() { sed -n "s/^$1: //p" "$2" | head -n 1; }
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
median() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan";
    else if (NR % 2) print v[(NR + 1) / 2];
    else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
wait_line() { # FILE PATTERN: up to 20 s
  local i
  for i in $(seq 4000); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.005
  done
  return 1
}
now_ns() { date +%s%N; }

# immediates MODE OUT: one run, MODE plain, traced or trace-events.
immediates() {
  local out=$2 np rp
  case $1 in
    plain) timeout 300 "${pin[@]}" node "$js" "$ticks" --now > "$out" ;;
    trace-events)
      (cd "$tmp" && "${pin[@]}" node --trace-event-categories \
         node.async_hooks "$js" "$ticks" --now > "$out")
      rm -f "$tmp"/node_trace.*.log ;;
    traced)
      "${pin[@]}" node "$js" "$ticks" > "$out" &
      np=$!
      pids+=($np)
      wait_line "$out" "^ready" || { echo "node did not start" >&2; return 1; }
      local t0=$(now_ns)
      "${tools[@]}" "$looptrace" record -p $np -o "$tmp/t.json" \
        2> "$tmp/rec.err" &
      rp=$!
      pids+=($rp)
      wait_line "$tmp/rec.err" "tracing pid" ||
        { echo "looptrace did not attach: $(cat "$tmp/rec.err")" >&2; return 1; }
      attach_s+=("$(calc "($(now_ns) - $t0) / 1e9" 3)")
      kill -USR2 $np
      wait $np
      wait $rp || { echo "looptrace failed: $(cat "$tmp/rec.err")" >&2; return 1; }
      grep -q " 0 records dropped" "$tmp/rec.err" ||
        echo "   (drops: $(tail -n 1 "$tmp/rec.err"))" ;;
  esac
}

echo "## node: setImmediate loop, $ticks ticks, $rounds rounds" \
  "(node $(node -v), on CPU $cpu)"
attach_s=()
ours=()
theirs=()
for r in $(seq "$rounds"); do
  immediates plain "$tmp/plain" || exit 1
  immediates traced "$tmp/traced" || exit 1
  immediates trace-events "$tmp/te" || exit 1
  p=$(field cpu_ns "$tmp/plain")
  t=$(field cpu_ns "$tmp/traced")
  e=$(field cpu_ns "$tmp/te")
  ours+=("$(calc "($t - $p) / $ticks / 1000" 3)")
  theirs+=("$(calc "($e - $p) / $ticks / 1000" 3)")
  echo "   round $r: plain $(calc "$p / $ticks / 1000") us/tick," \
    "looptrace +${ours[-1]}, trace events +${theirs[-1]};" \
    "attach ${attach_s[-1]} s"
done
o=$(printf '%s\n' "${ours[@]}" | median)
e=$(printf '%s\n' "${theirs[@]}" | median)

echo "## node: HTTP server (fs.stat per request), $requests requests," \
  "8 at a time, $rounds rounds"
# http_run MODE: requests/s of one round.
http_run() {
  local sp rp
  "${pin[@]}" node "$srv" > "$tmp/srv.out" &
  sp=$!
  pids+=($sp)
  wait_line "$tmp/srv.out" "^listening" || { echo "no server" >&2; return 1; }
  if [ "$1" = traced ]; then
    "${tools[@]}" "$looptrace" record -q -p $sp -o "$tmp/h.json" \
      2> "$tmp/hrec.err" &
    rp=$!
    pids+=($rp)
    sleep 0.05
    local i
    for i in $(seq 400); do
      [ -s "$tmp/h.json" ] && break
      sleep 0.005
    done
    sleep 0.2
  fi
  timeout 300 "${tools[@]}" node "$load" "$(awk '{print $2}' "$tmp/srv.out")" \
    "$requests" 8 > "$tmp/load.out"
  grep -q '^ok' "$tmp/load.out" || { echo "load: $(cat "$tmp/load.out")" >&2; return 1; }
  [ "$1" = traced ] && { kill -INT $rp; wait $rp; }
  kill -KILL $sp
  wait $sp 2>/dev/null
  sed -n 's/^ok [0-9]* requests, \([0-9]*\)\/s/\1/p' "$tmp/load.out"
}
hr=()
for r in $(seq "$rounds"); do
  u=$(http_run plain) || exit 1
  t=$(http_run traced) || exit 1
  hr+=("$(calc "($u == 0 ? 0 : $t / $u)" 3)")
  echo "   round $r: untraced $u/s, traced $t/s: ${hr[-1]}"
done

echo "figures:"
echo "node_attach_us_per_tick: $o"
echo "node_trace_events_us_per_tick: $e"
echo "node_vs_trace_events_ratio: $(calc "($e == 0 ? 0 : $o / $e)" 3)"
echo "node_http_traced_ratio: $(printf '%s\n' "${hr[@]}" | median)"
echo "node_attach_s: $(printf '%s\n' "${attach_s[@]}" | median)"
