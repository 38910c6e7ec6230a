#!/usr/bin/env bash
# timeout: 240
# Runs every bpftrace one-liner of runtime/PROBES.md against a real program
# and checks that it prints what the document says (its "expect" line).
set -uo pipefail
. "$LOOPTRACE_SRC/tests/lib/bpf.sh"
require_bpf
command -v bpftrace >/dev/null || skip_or_fail "bpftrace is not installed"

doc=$LOOPTRACE_SRC/runtime/PROBES.md
tmp=$(mktemp -d)
# A copy of the library of our own, so that the counts are ours alone.
private_looprt "$tmp/lib"
export LIB=$tmp/lib/liblooprt.so.0
example=$tmp/lib/examples/threads
bt=
trap '[ -n "$bt" ] && kill -KILL -- -$bt 2>/dev/null; rm -rf "$tmp"' EXIT

# Job control: each one-liner gets its own process group and, unlike a
# plain background job, can be stopped with SIGINT (which makes bpftrace
# print its maps).
set -m

# Pairs of (expect regex, one-liner), in document order.
awk '/^<!-- expect: /{sub(/^<!-- expect: /,""); sub(/ -->$/,""); e=$0}
     /^bpftrace -e /{ if (e != "") { print e; print $0; e="" } }' "$doc" \
  > "$tmp/cases"
ncases=$(($(wc -l < "$tmp/cases") / 2))
[ "$ncases" -ge 14 ] || { echo "found only $ncases one-liners in $doc"; exit 1; }

# Runs one-liner $1 around one run of the example; its output in $out.
# Returns 0, 1 if the example failed, 2 if bpftrace did not stop on SIGINT
# (bpftrace 0.17 has been seen to hang so, twice in many runs).
run_case() {
  local i
  # The one-liner exactly as documented, with $LIB from the environment.
  eval "$1" > "$out" 2>&1 &
  bt=$!
  wait_uprobe_on "$LIB" || { echo "bpftrace did not attach: $(cat "$out")"; return 1; }
  if ! UV_THREADPOOL_SIZE=4 timeout 60 "$example" > /dev/null; then
    echo "the example failed or hung"
    return 1
  fi
  sleep 0.3
  kill -INT -- -$bt
  for i in $(seq 200); do
    kill -0 $bt 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 $bt 2>/dev/null; then
    kill -KILL -- -$bt
    wait $bt
    bt=
    return 2
  fi
  wait $bt
  bt=
  return 0
}

failed=0
out=$tmp/out
while IFS= read -r expect && IFS= read -r line; do
  run_case "$line"
  status=$?
  if [ $status -eq 2 ]; then
    echo "note: bpftrace did not stop on SIGINT; running this one-liner again"
    run_case "$line"
    status=$?
  fi
  if [ $status -eq 0 ] && grep -Pzq -- "$expect" "$out"; then
    echo "ok: $expect"
  else
    echo "FAILED: $line"
    echo "  expected /$expect/, got:"
    sed 's/^/    /' "$out" | head -20
    failed=1
  fi
done < "$tmp/cases"
exit $failed
