# test.sh — sourced first by every script test (tests/*.test.sh):
#
#   set -uo pipefail
#   . "$LOOPTRACE_SRC/tests/lib/test.sh"
#
# The runner (tests/runner.c) sets LOOPTRACE_BUILD and LOOPTRACE_SRC. This
# gives a test:
#   $lt                 the looptrace binary of the build
#   $tmp                a directory of its own (mktemp -d), removed at exit;
#                       nothing here writes into it
#   track PID...        processes killed (SIGKILL) and reaped at exit
#   on_exit 'CMD'       a command run at exit before those are killed
#   fail MSG            reports a failure and goes on; finish then exits 1
#   die MSG             reports a failure and exits 1 now
#   finish              exits: 0 with "ok" if nothing failed, else 1
#   skip REASON         ends the test as skipped (exit 77)
#   wait_line FILE REGEX [SECONDS]   waits for a line of FILE (default 20 s)
#   wait_until SECONDS CMD...        waits until CMD succeeds
#   sanitized           whether the build is an ASan one (make check)
#   trace_facts FILE KEY[=DEFAULT]...  `looptrace` facts of a trace
# and, from bpf.sh, require_bpf and skip_or_fail (a skip that
# LOOPTRACE_REQUIRE_BPF=1 turns into a failure), private_looprt,
# wait_uprobe_on and stop_bpftrace.

lt=$LOOPTRACE_BUILD/looptrace
tmp=$(mktemp -d) || exit 1
failed=0
test__pids=()
test__exit_cmds=()

track() {
  test__pids+=("$@")
}

on_exit() {
  test__exit_cmds+=("$1")
}

test__cleanup() {
  local c p
  for c in "${test__exit_cmds[@]}"; do
    eval "$c" 2> /dev/null
  done
  for p in "${test__pids[@]}"; do
    kill -KILL "$p" 2> /dev/null
  done
  for p in "${test__pids[@]}"; do
    wait "$p" 2> /dev/null
  done
  rm -rf "$tmp"
}
trap test__cleanup EXIT

fail() {
  echo "FAIL: $*"
  failed=1
}

die() {
  echo "FAIL: $*"
  exit 1
}

finish() {
  [ "$failed" = 0 ] && echo "ok"
  exit "$failed"
}

skip() {
  echo "skip: $1"
  exit 77
}

wait_until() {
  local i
  for i in $(seq $(($1 * 20))); do
    "${@:2}" && return 0
    sleep 0.05
  done
  return 1
}

wait_line() {
  wait_until "${3:-20}" grep -qs -- "$2" "$1"
}

sanitized() {
  ldd "$lt" | grep -q libasan
}

# trace_facts FILE KEY[=DEFAULT]...: prints, a line each, the `looptrace`
# facts KEY of the trace FILE (its looptrace metadata events merged, the
# last one winning): a string as it is, anything else as JSON; DEFAULT for
# one it does not have; KEY "dropped:REASON" sums the dropped instants of
# that reason. Fails, saying why, if FILE is not a whole trace (a JSON
# array, one event a line), if its dropped instants do not add up to its
# drops, or if it lacks a KEY that has no DEFAULT. build/tests/trace-facts
# (tests/tools/trace-facts.c) reads it a line at a time: traces of floods
# are hundreds of MB.
trace_facts() {
  "$LOOPTRACE_BUILD/tests/trace-facts" "$@"
}

. "$LOOPTRACE_SRC/tests/lib/bpf.sh"
