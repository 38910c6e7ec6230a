#!/usr/bin/env bash
# timeout: 300
# Attaching a tracer to every looprt probe, and detaching it, leaves a
# program's behaviour and output unchanged, and the runtime's tracing
# machinery (its flusher thread) is gone again after the detach.
set -uo pipefail
. "$LOOPTRACE_SRC/tests/lib/test.sh"
require_bpf
command -v bpftrace >/dev/null || skip_or_fail "bpftrace is not installed"

# A copy of the library of our own: the tracer sees our programs only.
private_looprt "$tmp/lib"
LIB=$tmp/lib/liblooprt.so.0
ex=$tmp/lib/examples
bt=
on_exit '[ -n "$bt" ] && kill -KILL -- -$bt'
set -m # so that SIGINT reaches bpftrace (see probes.test.sh)

attach() { # counts every probe hit of every looprt process
  local n i
  bpftrace -e "usdt:$LIB:looprt:* { @[probe] = count(); }" > "$tmp/bt" 2>&1 &
  bt=$!
  wait_uprobe_on "$LIB" 60 || die "bpftrace did not attach: $(cat "$tmp/bt")"
  # bpftrace plants its probes one by one (over seconds on a loaded
  # machine): wait until all it announced are in place.
  n=$(sed -n 's/^Attaching \([0-9]*\) probes.*/\1/p' "$tmp/bt")
  for i in $(seq 1200); do
    [ -n "$n" ] && [ "$(bpftool perf list 2>/dev/null |
      grep -c "^pid $bt .* filename $LIB ")" -ge "$n" ] && return 0
    n=${n:-$(sed -n 's/^Attaching \([0-9]*\) probes.*/\1/p' "$tmp/bt")}
    sleep 0.05
  done
  die "bpftrace did not plant its probes within 60 s: $(cat "$tmp/bt")"
}

# Returns 2 if bpftrace did not stop on SIGINT (see stop_bpftrace).
detach() {
  local r
  stop_bpftrace "$bt"
  r=$?
  bt=
  [ $r = 2 ] && echo "note: bpftrace did not stop on SIGINT"
  return $r
}

flusher_running() { # is the runtime's flusher thread alive in $1?
  grep -qx looprt-flush /proc/$1/task/*/comm 2>/dev/null
}

# 1. The phases example prints the same lines, in the same order, traced.
"$ex/phases" > "$tmp/plain" || die "phases failed untraced"
for try in 1 2; do
  attach
  "$ex/phases" > "$tmp/traced" || die "phases failed traced"
  detach && break
done
diff -u "$tmp/plain" "$tmp/traced" || die "phases output changed when traced"
grep -q 'looprt:flush' "$tmp/bt" || die "the tracer saw no batches: $(cat "$tmp/bt")"
grep -q 'looprt:phase__begin' "$tmp/bt" || die "the tracer saw no phases"
echo "ok: phases output identical with a tracer attached"

# 2. A running program survives attach/detach cycles and keeps working:
#    every round of threads prints its five results, and it finishes a
#    round's worth after the last detach. (No count of rounds in a given
#    time: under ASan at load 12 a pbkdf2 task took 3.2-3.9 s, and the
#    cycles saw 3 rounds, not 5.)
UV_THREADPOOL_SIZE=4 "$ex/threads" --rounds 0 --pause 50 > "$tmp/rounds" &
target=$!
track $target
sleep 0.5
flusher_running $target && die "flusher running before any tracer attached"
for cycle in 1 2 3; do
  attach
  # The session starts at the program's next event, which may be seconds
  # away while its pool threads are inside pbkdf2 (under ASan): wait for it.
  for i in $(seq 200); do
    flusher_running $target && break
    sleep 0.05
  done
  flusher_running $target || die "no flusher thread while traced (cycle $cycle)"
  detach
  # The flusher notices within its 20 ms period (give a loaded machine 5 s).
  for i in $(seq 100); do
    flusher_running $target || break
    sleep 0.05
  done
  flusher_running $target && die "flusher still running after detach (cycle $cycle)"
  kill -0 $target || die "threads died during cycle $cycle"
done
lines() { [ "$(wc -l < "$tmp/rounds")" -ge "$1" ]; }
wait_until 120 lines $(($(wc -l < "$tmp/rounds") + 5)) ||
  die "threads finished no round in 120 s after the last detach"
kill -INT $target
wait $target
status=$?
[ $status -eq 130 ] || [ $status -eq 0 ] || die "threads ended with status $status"
# Every complete round has exactly the five results #1..#5.
awk '{ n++; seen[$2]++ } END {
       rounds = int(n / 5)
       if (rounds < 1) { print "no round"; exit 1 }
       for (i = 1; i <= 5; i++) if (seen["#" i ":"] < rounds) {
         print "result #" i " missing in some round"; exit 1 } }' \
  "$tmp/rounds" || die "threads' output went wrong: $(head -20 "$tmp/rounds")"
echo "ok: $(($(wc -l < "$tmp/rounds") / 5)) rounds of threads through three attach/detach cycles"
