#!/usr/bin/env bash
# long.sh — a long recording, and the flight recorder, on a busy program.
# tests/bench/run.sh runs it as one section (`make bench`: 10 minutes);
# it runs alone too:
#
#   tests/bench/long.sh [--build DIR] [--seconds S] [--interval S]
#                       [--rate RECORDS_PER_S] [--flight-seconds S]
#                       [--flight-size BYTES] [--after S]
#
# 1. Long: `looptrace record -p PID -d S -o /dev/stdout | wc -c`, PID
#    being `workloads spans RATE` (user spans paced every millisecond, and
#    the ticks around them): the tracer's RSS every --interval seconds,
#    its CPU time (user + system, as a share of one core), the records per
#    second it took and the JSON it wrote; and those per hour.
# 2. Flight: `looptrace record -p PID --flight 10 --flight-size BYTES` on
#    the same program for --flight-seconds: the bytes the tracer wrote
#    before a trigger (every write(2) it made: /proc/PID/io wchar), its
#    peak RSS (RssAnon: its heap, where the ring lives; VmRSS: with the
#    BPF ring buffer's pages and its binaries) against the cap; then
#    SIGUSR1, and the dump it wrote.
#
# It says what it measures as it goes and ends with `name: value` lines.
# The program runs on the last CPU, the tracer on the others (as run.sh
# does), so that the tracer's CPU share is its own work. Needs root.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
seconds=600
interval=30
rate=250000
flight_seconds=30
flight_size=64M
after=1
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --interval) interval=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --flight-seconds) flight_seconds=$2; shift 2 ;;
    --flight-size) flight_size=$2; shift 2 ;;
    --after) after=$2; shift 2 ;;
    *)
      echo "usage: long.sh [--build DIR] [--seconds S] [--interval S]" \
        "[--rate N] [--flight-seconds S] [--flight-size BYTES]" \
        "[--after S]" >&2
      exit 2 ;;
  esac
done

looptrace=${LOOPTRACE:-$build/looptrace}
workloads=$build/bench/workloads
bench_tmp

fail() {
  echo "long.sh: $*" >&2
  exit 1
}

[ -x "$workloads" ] || fail "$workloads is missing: make builds it"
hz=$(getconf CLK_TCK)

calc() {
  awk "BEGIN { printf \"%.${2:-1}f\", $1 }"
}

status_kb() { # PID FIELD
  awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

cpu_ticks() { # PID -> utime + stime, in clock ticks
  # The fields after the command name, which may hold spaces.
  sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'
}

now() {
  date +%s.%N
}

# Waits until PID runs the workload with its runtime loaded (taskset has
# exec'd it, the loader has mapped liblooprt).
wait_target() {
  local i
  for i in $(seq 200); do
    grep -q liblooprt "/proc/$1/maps" 2>/dev/null && return 0
    kill -0 "$1" 2>/dev/null || break
    sleep 0.05
  done
  fail "the workload did not start"
}

# ---------------------------------------------------------------------------
echo "   long: looptrace record -p PID -d $seconds -o /dev/stdout | wc -c;" \
  "PID: workloads spans $rate"

"${pin[@]}" "$workloads" spans "$rate" "$(calc "$seconds + 5" 0)" \
  > "$tmp/target.out" &
target=$!
pids+=("$target")
wait_target "$target"
"${tools[@]}" "$looptrace" record -p "$target" -d "$seconds" \
  -o /dev/stdout 2> "$tmp/long.err" > >(wc -c > "$tmp/long.bytes") &
tracer=$!
pids+=("$tracer")
t0=$(now)
rss_first=
rss_last=0
rss_max=0
ticks=0
next=$interval
samples=
while kill -0 "$tracer" 2>/dev/null; do
  sleep 0.2
  rss=$(status_kb "$tracer" VmRSS)
  c=$(cpu_ticks "$tracer")
  [ -n "$rss" ] || break
  [ -n "$c" ] && ticks=$c && t1=$(now)
  [ "$rss" -gt "$rss_max" ] && rss_max=$rss
  elapsed=$(calc "$(now) - $t0" 1)
  if awk "BEGIN { exit !($elapsed >= $next) }"; then
    [ -z "$rss_first" ] && rss_first=$rss
    rss_last=$rss
    samples="$samples $(calc "$elapsed" 0)s:$(calc "$rss / 1024")MB"
    echo "   at $(calc "$elapsed" 0) s: tracer RSS $(calc "$rss / 1024") MB," \
      "CPU $(calc "$c / $hz" 1) s"
    next=$(calc "$next + $interval" 3)
  fi
done
wait "$tracer" || fail "looptrace record failed: $(cat "$tmp/long.err")"
kill -TERM "$target" 2>/dev/null
wait "$target" 2>/dev/null
sleep 0.2 # wc's last word
wall=$(calc "$t1 - $t0" 3)
records=$(sed -n 's/.* from \([0-9]*\) records in \([0-9.]*\) s.*/\1/p' \
  "$tmp/long.err")
drops=$(sed -n 's/.*; \([0-9]*\) records dropped.*/\1/p' "$tmp/long.err")
bytes=$(cat "$tmp/long.bytes")
[ -n "$records" ] || records=0
[ -n "$rss_first" ] || rss_first=$rss_max
[ "$rss_last" -gt 0 ] || rss_last=$rss_max
cpu_pct=$(calc "100 * $ticks / $hz / $wall" 2)
echo "   $records records in $seconds s ($(calc "$records / $seconds" 0)/s)," \
  "${drops:-0} dropped; $(calc "$bytes / 1048576") MB of JSON;" \
  "tracer CPU $(calc "$ticks / $hz" 1) s of $wall s ($cpu_pct% of a core)"
echo "   RSS samples:$samples"

# ---------------------------------------------------------------------------
echo "   flight: looptrace record -p PID --flight 10 --flight-size" \
  "$flight_size --after $after for $flight_seconds s, then SIGUSR1"

"${pin[@]}" "$workloads" spans "$rate" "$(calc "$flight_seconds + 10" 0)" \
  > "$tmp/target.out" &
target=$!
pids+=("$target")
wait_target "$target"
"${tools[@]}" "$looptrace" record -q -p "$target" --flight 10 \
  --flight-size "$flight_size" --after "$after" --max-dumps 1 \
  -o "$tmp/flight.json" 2> "$tmp/flight.err" &
tracer=$!
pids+=("$tracer")
t0=$(now)
anon_max=0
vm_max=0
while kill -0 "$tracer" 2>/dev/null &&
    awk "BEGIN { exit !($(now) - $t0 < $flight_seconds) }"; do
  sleep 0.2
  a=$(status_kb "$tracer" RssAnon)
  v=$(status_kb "$tracer" VmRSS)
  [ -n "$a" ] || break
  [ "$a" -gt "$anon_max" ] && anon_max=$a
  [ "$v" -gt "$vm_max" ] && vm_max=$v
done
kill -0 "$tracer" 2>/dev/null ||
  fail "looptrace --flight ended early: $(cat "$tmp/flight.err")"
written=$(awk '$1 == "wchar:" { print $2 }' "/proc/$tracer/io")
files=$(find "$tmp" -name 'flight*.json*' | wc -l)
anon_before=$anon_max
t0=$(now)
kill -USR1 "$tracer"
while kill -0 "$tracer" 2>/dev/null; do
  a=$(status_kb "$tracer" RssAnon)
  v=$(status_kb "$tracer" VmRSS)
  [ -n "$a" ] && [ "$a" -gt "$anon_max" ] && anon_max=$a
  [ -n "$v" ] && [ "$v" -gt "$vm_max" ] && vm_max=$v
  sleep 0.02
done
wait "$tracer" || fail "looptrace --flight failed: $(cat "$tmp/flight.err")"
dump_s=$(calc "$(now) - $t0" 2)
kill -TERM "$target" 2>/dev/null
wait "$target" 2>/dev/null
[ -f "$tmp/flight-1.json" ] || fail "no dump: $(cat "$tmp/flight.err")"
dump_bytes=$(stat -c %s "$tmp/flight-1.json")
window=$(grep -o '"flight_trigger_us":[0-9.]*' "$tmp/flight-1.json" |
  head -n 1 | cut -d: -f2)
cut=$(grep -o '"flight_window_cut":"[a-z-]*"' "$tmp/flight-1.json" |
  cut -d'"' -f4)
cap_mb=$(numfmt --from=iec "$flight_size" | awk '{ printf "%.1f", $1 / 1048576 }')
echo "   before the trigger: $written bytes written, $files files;" \
  "peak RssAnon $(calc "$anon_before / 1024") MB (cap $cap_mb MB)"
echo "   SIGUSR1: a dump of $(calc "$dump_bytes / 1048576") MB holding" \
  "$(calc "${window:-0} / 1e6") s before the trigger${cut:+ (window cut: $cut)}," \
  "written $dump_s s after the signal ($after s of it is --after);" \
  "peak RssAnon" \
  "with the dump $(calc "$anon_max / 1024") MB, VmRSS $(calc "$vm_max / 1024") MB"

# ---------------------------------------------------------------------------
echo "long_seconds: $seconds"
echo "long_records_per_s: $(calc "$records / $seconds" 0)"
echo "long_tracer_rss_mb_first: $(calc "$rss_first / 1024")"
echo "long_tracer_rss_mb_last: $(calc "$rss_last / 1024")"
echo "long_tracer_rss_mb_max: $(calc "$rss_max / 1024")"
echo "long_tracer_cpu_pct: $cpu_pct"
echo "long_tracer_cpu_s_per_hour: $(calc "36 * $cpu_pct" 0)"
echo "long_json_gb_per_hour: $(calc "$bytes / $seconds * 3600 / 1e9" 2)"
echo "flight_bytes_before_trigger: $written"
echo "flight_files_before_trigger: $files"
echo "flight_cap_mb: $cap_mb"
echo "flight_rss_anon_mb_before_trigger: $(calc "$anon_before / 1024")"
echo "flight_rss_anon_mb_with_dump: $(calc "$anon_max / 1024")"
echo "flight_window_s: $(calc "${window:-0} / 1e6" 2)"
echo "flight_dump_mb: $(calc "$dump_bytes / 1048576")"
