#!/usr/bin/env bash
# timeout: 120
# The flight recorder on stock Node.js, through its libuv: attached by -p
# to slow-tick.js (ticks of ~1 ms, one of 80 ms), `record --flight 1
# --trigger tick>70ms` writes nothing until the slow tick, then dumps the
# second before it and the 0.3 s after it, the trigger marked and the
# slow tick inside; SIGUSR1 to looptrace dumps again; it stops when node
# exits. `looptrace stat` reads the dump.
set -uo pipefail
. "$LOOPTRACE_SRC/tests/lib/test.sh"
command -v node >/dev/null || skip "node is not installed"
require_bpf
# Over 50 ms would do on a quiet machine; 70 keeps a loaded one's preempted
# ticks out.
trigger='tick>70ms'

JS=$LOOPTRACE_SRC/tests/node
dumps=$tmp/dumps
mkdir "$dumps"

node "$JS/slow-tick.js" > "$tmp/node.out" &
node_pid=$!
track $node_pid
wait_line "$tmp/node.out" "^ready" || die "slow-tick.js did not start"
"$lt" record -p $node_pid --flight 1 --after 0.3 --trigger "$trigger" \
  --max-dumps 3 -o "$dumps/slow.json" 2> "$tmp/rec.err" &
rec=$!
track $rec
wait_line "$tmp/rec.err" "tracing pid" ||
  die "looptrace did not attach: $(cat "$tmp/rec.err")"
kill -USR2 $node_pid

# Until the slow tick, nothing is written.
while ! grep -q "^slow_end_ns" "$tmp/node.out"; do
  [ -z "$(ls -A "$dumps")" ] || die "a dump before the slow tick: $(ls "$dumps")"
  kill -0 $node_pid 2> /dev/null || die "slow-tick.js ended: $(cat "$tmp/node.out")"
  sleep 0.05
done
echo "ok: no file written before the slow tick"
wait_until 10 test -s "$dumps/slow-1.json" ||
  die "no dump after the slow tick: $(cat "$tmp/rec.err")"
wait_line "$tmp/rec.err" "fired: wrote" ||
  die "looptrace did not say it wrote the dump: $(cat "$tmp/rec.err")"
TRIGGER=$trigger SLOW_END_NS=$(awk '/^slow_end_ns/ { print $2 }' "$tmp/node.out") \
  node "$JS/check-trace.js" "$dumps/slow-1.json" source order flight ||
  die "the dump of the slow tick: see above ($(cat "$tmp/rec.err"))"

# SIGUSR1 to looptrace: a dump now (after its --after 0.3 s).
kill -USR1 $rec
wait_until 10 test -s "$dumps/slow-2.json" ||
  die "no dump after SIGUSR1: $(cat "$tmp/rec.err")"
wait $node_pid || die "slow-tick.js failed while traced"
grep -qx done "$tmp/node.out" || die "slow-tick.js did not finish"
wait $rec || die "looptrace record --flight failed: $(cat "$tmp/rec.err")"
grep -q "stopped (target-exited): 2 dumps written" "$tmp/rec.err" ||
  die "looptrace did not stop with node: $(cat "$tmp/rec.err")"
node "$JS/check-trace.js" "$dumps/slow-2.json" source usr1 ||
  die "the SIGUSR1 dump: see above"
[ "$(ls "$dumps")" = "$(printf 'slow-1.json\nslow-2.json')" ] ||
  die "files written: $(ls "$dumps")"

"$lt" stat "$dumps/slow-1.json" > "$tmp/stat" || die "looptrace stat failed"
grep -Eq "max (8[0-9]|9[0-9]|[1-9][0-9]{2})\.[0-9]+ ms" "$tmp/stat" ||
  die "stat does not show the slow tick: $(cat "$tmp/stat")"
echo "ok: looptrace stat shows the slow tick"
finish
