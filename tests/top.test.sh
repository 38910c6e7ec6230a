#!/usr/bin/env bash
# timeout: 120
# `looptrace top --once` on real looprt programs with known work: the
# snapshot counts the tasks the program ran, by label, and its figures
# (stat's, over the interval) are within their ranges.
set -uo pipefail
. "$LOOPTRACE_SRC/tests/lib/test.sh"
require_bpf

threads=$LOOPTRACE_BUILD/examples/threads

# 1. A started program that runs one round of 5 pbkdf2 tasks and exits:
# the snapshot (ended by its exit, before the 30 s interval) counts 5.
UV_THREADPOOL_SIZE=4 timeout 60 "$lt" top --once -i 30 -- \
  "$threads" --tasks 5 --iterations 20000 > "$tmp/one.txt" 2> "$tmp/one.err"
rc=$?
[ "$rc" = 0 ] || fail "top -- threads exited $rc: $(cat "$tmp/one.err")"
grep -q '^tasks/s by label: pbkdf2 [0-9.]*/s (5)$' "$tmp/one.txt" ||
  fail "5 pbkdf2 tasks not counted: $(grep 'tasks/s' "$tmp/one.txt")"
grep -q '^threadpool  5 tasks, peak concurrency 4' "$tmp/one.txt" ||
  fail "threadpool line: $(grep '^threadpool ' "$tmp/one.txt")"
grep -q '^drops       0$' "$tmp/one.txt" || fail "drops not shown as 0"

# 2. A running program, rounds of 3 tasks 200 ms apart, watched for 2 s
# with -p: at least one round, at most what 2.3 s of rounds allow.
"$threads" --rounds 0 --tasks 3 --iterations 2000 --pause 200 \
  > /dev/null 2>&1 &
track $!
pid=$!
sleep 0.5
timeout 60 "$lt" top -p "$pid" --once -i 2 > "$tmp/two.txt" 2> "$tmp/two.err"
rc=$?
[ "$rc" = 0 ] || fail "top -p exited $rc: $(cat "$tmp/two.err")"
n=$(sed -n 's/^tasks\/s by label: pbkdf2 [0-9.]*\/s (\([0-9]*\))$/\1/p' \
  "$tmp/two.txt")
[ -n "$n" ] && [ "$n" -ge 3 ] && [ "$n" -le 36 ] ||
  fail "pbkdf2 tasks in 2 s: '$n' (want 3..36)"
grep -q "^pid $pid (threads), last [0-9.]* s" "$tmp/two.txt" ||
  fail "no title naming pid $pid"
u=$(sed -n 's/^loop        utilization \([0-9.]*\)%.*/\1/p' "$tmp/two.txt")
[ -n "$u" ] && awk -v u="$u" 'BEGIN { exit !(u >= 0 && u <= 100) }' ||
  fail "utilization '$u' not in [0, 100]%"
grep -q '^ticks       [0-9]*.*/s; p50 ' "$tmp/two.txt" || fail "no tick line"
grep -q '^poll ' "$tmp/two.txt" || fail "no poll phase line"
grep -q '^threadpool now: running [0-9]*, queued [0-9]*$' "$tmp/two.txt" ||
  fail "no threadpool gauges"
kill -0 "$pid" || fail "the traced program did not survive top"

# 3. Usage errors: one line, status 2.
"$lt" top > /dev/null 2> "$tmp/usage.err"
[ $? = 2 ] || fail "top without a target: not status 2"
"$lt" top -p 1 -i 0 > /dev/null 2>&1
[ $? = 2 ] || fail "top -i 0: not status 2"

finish
