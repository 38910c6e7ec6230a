#!/usr/bin/env bash
# timeout: 240
# Runs every bpftrace one-liner of runtime/PROBES.md against a real program
# and checks that it prints what the document says (its "expect" line).
set -uo pipefail
. "$LOOPTRACE_SRC/tests/lib/test.sh"
require_bpf
command -v bpftrace >/dev/null || skip_or_fail "bpftrace is not installed"

doc=$LOOPTRACE_SRC/runtime/PROBES.md
# A copy of the library of our own, so that the counts are ours alone.
private_looprt "$tmp/lib"
export LIB=$tmp/lib/liblooprt.so.0
example=$tmp/lib/examples/threads
bt=
on_exit '[ -n "$bt" ] && kill -KILL -- -$bt'

# Job control: each one-liner gets its own process group and, unlike a
# plain background job, can be stopped with SIGINT (which makes bpftrace
# print its maps).
set -m

# Pairs of (expect regex, one-liner), in document order.
awk '/^<!-- expect: /{sub(/^<!-- expect: /,""); sub(/ -->$/,""); e=$0}
     /^bpftrace -e /{ if (e != "") { print e; print $0; e="" } }' "$doc" \
  > "$tmp/cases"
ncases=$(($(wc -l < "$tmp/cases") / 2))
[ "$ncases" -ge 14 ] || die "found only $ncases one-liners in $doc"

# Runs one-liner $1 around one run of the example; its output in $out.
# Returns 0, 1 if the example failed, 2 if bpftrace did not stop on SIGINT
# (see stop_bpftrace).
run_case() {
  local r
  # The one-liner exactly as documented, with $LIB from the environment.
  eval "$1" > "$out" 2>&1 &
  bt=$!
  wait_uprobe_on "$LIB" || { echo "bpftrace did not attach: $(cat "$out")"; return 1; }
  if ! UV_THREADPOOL_SIZE=4 timeout 60 "$example" > /dev/null; then
    echo "the example failed or hung"
    return 1
  fi
  sleep 0.3
  stop_bpftrace "$bt"
  r=$?
  bt=
  return $r
}

out=$tmp/out
while IFS= read -r expect && IFS= read -r line; do
  run_case "$line"
  status=$?
  if [ $status -eq 2 ]; then
    echo "note: bpftrace did not stop on SIGINT; running this one-liner again"
    # Once the killed one's probe is gone: else the new one's wait for its
    # probe would see the old one and start the example too early.
    wait_uprobe_gone "$LIB" ||
      echo "note: the killed bpftrace's probe is still in $LIB after 10 s"
    run_case "$line"
    status=$?
  fi
  if [ $status -eq 0 ] && grep -Pzq -- "$expect" "$out"; then
    echo "ok: $expect"
  else
    fail "$line"
    echo "  expected /$expect/, got:"
    sed 's/^/    /' "$out" | head -20
  fi
done < "$tmp/cases"
finish
