#!/usr/bin/env bash
# timeout: 120
# What `looptrace record` does to the files and processes around it:
# - it never removes, truncates or writes through what it did not create:
#   an -o naming an existing file, a symlink or a device is left intact
#   on every error path (here: a target speaking another trace format),
#   and a planted symlink at the default name is not followed;
# - `record -- CMD` says how CMD ended and exits with CMD's status (128+N
#   for signal N), and the trace's target_exit says it too;
# - a zombie pid is named so, not "not a looprt program?".
set -uo pipefail
. "$LOOPTRACE_SRC/tests/lib/test.sh"
require_bpf

flood=$LOOPTRACE_BUILD/tests/progs/flood
tasks=$LOOPTRACE_BUILD/tests/progs/tasks

# A target that speaks trace format 99.
"$flood" version 99 > "$tmp/flood.out" &
newer=$!
track "$newer"
wait_line "$tmp/flood.out" ready 5

# -o at an existing file, a symlink (and its target), a device, a name
# in a directory: refused format, nothing touched, nothing left behind.
echo keep > "$tmp/keep.json"
echo target > "$tmp/target"
ln -s "$tmp/target" "$tmp/link.json"
mkdir "$tmp/dir"
for out in "$tmp/keep.json" "$tmp/link.json" /dev/null "$tmp/dir/new.json"; do
  "$lt" record -q -p "$newer" -d 2 -o "$out" 2> "$tmp/err"
  status=$?
  [ "$status" = 1 ] || fail "-o $out: exit $status, not 1"
  grep -q "writes looprt trace format 99" "$tmp/err" ||
    fail "-o $out: $(cat "$tmp/err")"
done
[ "$(cat "$tmp/keep.json")" = keep ] || fail "keep.json was changed"
[ -L "$tmp/link.json" ] || fail "the symlink was removed"
[ "$(readlink "$tmp/link.json")" = "$tmp/target" ] || fail "symlink changed"
[ "$(cat "$tmp/target")" = target ] || fail "the symlink's target changed"
[ -c /dev/null ] || fail "/dev/null is no longer a character device"
[ -z "$(ls -A "$tmp/dir")" ] || fail "left behind: $(ls -A "$tmp/dir")"
[ "$(ls "$tmp" | wc -l)" = 6 ] || fail "left behind: $(ls "$tmp")"

# The default name: a planted symlink there is not followed (nor
# removed); the trace goes to a new name beside it.
comm=flood
(
  cd "$tmp/dir" || exit 1
  ln -s "$tmp/target" "looptrace-$comm-$newer.json"
  "$lt" record -q -p "$newer" -d 1 2> "$tmp/err"
) || true
[ "$(cat "$tmp/target")" = target ] || fail "default name followed a symlink"
[ -L "$tmp/dir/looptrace-$comm-$newer.json" ] ||
  fail "default name: the planted symlink was removed"
[ "$(ls -A "$tmp/dir" | wc -l)" = 1 ] ||
  fail "default name: left behind: $(ls -A "$tmp/dir")"

# A successful recording over an existing file and over a symlink: the
# file is replaced, the symlink itself replaced (its target untouched).
UV_THREADPOOL_SIZE=4 "$LOOPTRACE_BUILD/examples/threads" --rounds 0 \
  --pause 20 --iterations 2000 > "$tmp/threads.out" &
good=$!
track "$good"
wait_line "$tmp/threads.out" 'pbkdf2 #5' 5
for out in "$tmp/keep.json" "$tmp/link.json"; do
  "$lt" record -q -p "$good" -d 0.3 -o "$out" 2> "$tmp/err" ||
    fail "-o $out: $(cat "$tmp/err")"
  python3 -m json.tool "$out" > /dev/null || fail "$out is not valid JSON"
done
[ -L "$tmp/link.json" ] && fail "recording through the symlink"
[ "$(cat "$tmp/target")" = target ] || fail "the symlink's target changed"
ls "$tmp" | grep -q tmp- && fail "a temporary file was left: $(ls "$tmp")"
"$lt" record -q -p "$good" -d 0.3 -o /dev/null 2> "$tmp/err" ||
  fail "-o /dev/null: $(cat "$tmp/err")"
[ -c /dev/null ] || fail "/dev/null is no longer a character device"

# record -- CMD: CMD's end is reported, and is looptrace's exit status.
check_end() { # WANT_STATUS WANT_TEXT ARGS...
  local want=$1 text=$2
  shift 2
  "$lt" record -o "$tmp/end.json" -- "$tasks" "$@" > /dev/null 2> "$tmp/err"
  local status=$?
  [ "$status" = "$want" ] || fail "tasks $*: exit $status, not $want"
  grep -q "^looptrace: $tasks $text\$" "$tmp/err" ||
    fail "tasks $*: $(cat "$tmp/err")"
  [ "$(trace_facts "$tmp/end.json" target_exit)" = "${text#was }" ] ||
    fail "tasks $*: target_exit"
}
check_end 0 "exited with status 0"
check_end 3 "exited with status 3" --exit 3
check_end 134 "was killed by SIGABRT" --abort

# looptrace's own failures with CMD stay apart from CMD's statuses.
"$lt" record -q -o "$tmp/x.json" -- /nonexistent/prog 2> /dev/null
[ $? = 127 ] || fail "a missing CMD: not 127"
"$lt" record -q -o "$tmp/x.json" -- true 2> /dev/null
[ $? = 125 ] || fail "a CMD without looprt: not 125"

# A zombie: exited, not reaped by its parent.
python3 -c '
import os, sys, time
pid = os.fork()
if pid == 0:
    os._exit(0)
print(pid, flush=True)
time.sleep(30)' > "$tmp/zombie" &
track "$!"
wait_until 5 test -s "$tmp/zombie"
zombie=$(cat "$tmp/zombie")
wait_line "/proc/$zombie/status" '^State:.*Z' 5
"$lt" record -p "$zombie" -o "$tmp/z.json" 2> "$tmp/err"
[ $? = 1 ] || fail "zombie: not exit 1"
grep -q "^looptrace: pid $zombie has exited (zombie" "$tmp/err" ||
  fail "zombie: $(cat "$tmp/err")"
[ -e "$tmp/z.json" ] && fail "zombie: left z.json behind"

finish
