#!/usr/bin/env bash
# timeout: 150
# A node HTTP server under a bounded local load (127.0.0.1 only) answers
# every request correctly while looptrace traces it, after looptrace is
# SIGKILLed in the middle of the load, and after that: the probes leave
# with the tracer (the probed instruction is the file's again) and node
# never notices. The trace of the traced part shows the requests' fs.stat
# tasks with their four moments in order.
set -uo pipefail
. "$LOOPTRACE_SRC/tests/lib/test.sh"
command -v node >/dev/null || skip "node is not installed"
require_bpf

JS=$LOOPTRACE_SRC/tests/node

# The byte at uv__io_poll's entry, in node's memory and in its file.
poll_entry_bytes() {
  local addr off
  addr=$(readelf -sW /usr/bin/node | awk '$8 == "uv__io_poll" { print $2; exit }')
  [ -n "$addr" ] || return 1
  # Non-PIE: file offset = address - (p_vaddr - p_offset) of its segment.
  local type o v p f rest a=$((16#$addr))
  while read -r type o v p f rest; do
    [ "$type" = LOAD ] || continue
    if [ $a -ge $((v)) ] && [ $a -lt $((v + f)) ]; then
      off=$((a - v + o))
      break
    fi
  done < <(readelf -lW /usr/bin/node)
  [ -n "$off" ] || return 1
  echo "mem $(dd if=/proc/$srv/mem bs=1 skip=$((16#$addr)) count=1 2>/dev/null | od -An -tx1 | tr -d ' ')" \
       "file $(dd if=/usr/bin/node bs=1 skip=$off count=1 2>/dev/null | od -An -tx1 | tr -d ' ')"
}

node "$JS/http-server.js" > "$tmp/srv.out" &
srv=$!
track $srv
wait_line "$tmp/srv.out" "^listening" || die "the server did not start"
port=$(awk '{ print $2 }' "$tmp/srv.out")

requests() { # N: a bounded load; every answer checked
  node "$JS/http-load.js" "$port" "$1" 8 > "$tmp/load.out" ||
    die "while $2: $(cat "$tmp/load.out")"
  echo "ok: $2: $(cat "$tmp/load.out")"
}

requests 300 "untraced"

# 1. Traced: every request answered; the trace holds its tasks.
"$lt" record -p $srv -o "$tmp/h.json" 2> "$tmp/rec.err" &
rec=$!
track $rec
wait_line "$tmp/rec.err" "tracing pid" || die "no attach: $(cat "$tmp/rec.err")"
requests 1500 "traced"
bytes=$(poll_entry_bytes) || die "cannot read uv__io_poll's entry"
set -- $bytes
[ "$2" = cc ] || die "uv__io_poll's first byte is $2 while traced, not a breakpoint"
echo "ok: while traced, uv__io_poll's entry holds the uprobe's breakpoint"
kill -INT $rec
wait $rec || die "looptrace failed: $(cat "$tmp/rec.err")"
node "$JS/check-trace.js" "$tmp/h.json" source order tasks ||
  die "the trace of the server: see above"
stats=$(grep -o '"name":"fs.stat","cat":"work"' "$tmp/h.json" | wc -l)
[ "$stats" -ge 1500 ] || die "$stats fs.stat tasks in the trace for 1500 requests"
echo "ok: $stats fs.stat tasks traced"

# 2. The tracer SIGKILLed in the middle of the load.
"$lt" record -q -p $srv -o "$tmp/k.json" 2> "$tmp/rec2.err" &
rec=$!
track $rec
sleep 0.5
node "$JS/http-load.js" "$port" 3000 8 > "$tmp/load2.out" &
load=$!
track $load
sleep 1
kill -KILL $rec
wait $rec 2>/dev/null
wait $load || die "requests failed across the tracer's SIGKILL: $(cat "$tmp/load2.out")"
echo "ok: across SIGKILL of the tracer: $(cat "$tmp/load2.out")"

# 3. After: the probes are gone, node serves on.
sleep 0.5
bytes=$(poll_entry_bytes) || die "cannot read uv__io_poll's entry"
set -- $bytes
[ "$2" = "$4" ] && [ "$2" != cc ] ||
  die "uv__io_poll's first byte in memory ($2) is not the file's ($4)"
echo "ok: uv__io_poll's entry is the file's byte again ($2)"
requests 300 "after the tracer was killed"
kill -0 $srv || die "the server died"
