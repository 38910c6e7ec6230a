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

failed=0
while IFS= read -r expect && IFS= read -r line; do
  out=$tmp/out
  # The one-liner exactly as documented, with $LIB from the environment.
  eval "$line" > "$out" 2>&1 &
  bt=$!
  wait_uprobe_on "$LIB" || { echo "bpftrace did not attach: $(cat "$out")"; exit 1; }
  UV_THREADPOOL_SIZE=4 "$example" > /dev/null
  sleep 0.3
  kill -INT -- -$bt
  wait $bt
  bt=
  if grep -Pzq -- "$expect" "$out"; then
    echo "ok: $expect"
  else
    echo "FAILED: $line"
    echo "  expected /$expect/, got:"
    sed 's/^/    /' "$out" | head -20
    failed=1
  fi
done < "$tmp/cases"
exit $failed
