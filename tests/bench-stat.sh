#!/usr/bin/env bash
# bench-stat.sh — how fast `looptrace stat` reads a large trace, and how
# much memory it takes. Not a timed test: it prints figures.
#
#   tests/bench-stat.sh [--smoke] [--cold] [MEGABYTES]
#
# Generates a realistic looptrace trace of MEGABYTES MiB (default 1024)
# with tests/bench-stat-gen.c, runs `looptrace stat` on it under
# /usr/bin/time -v and prints
#
#   stat_mb_per_s: N       (file bytes / 10^6 / wall-clock seconds)
#   stat_peak_rss_mb: N    (maximum resident set size, MiB)
#
# and stat_cpu_mb_per_s (bytes / 10^6 / user+system CPU seconds), which
# says the same when other work shares the CPUs (wall clock then grows).
#
# The file was just written, so it is read from the page cache: the figure
# is the parser's, not the disk's. --cold drops the page cache first (root).
# --smoke: a 4 MiB trace, to check the script itself works.
# Environment: LOOPTRACE_BUILD (default ./build), TMPDIR.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${LOOPTRACE_BUILD:-$src/build}
size=1024
cold=0
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) size=4 ;;
    --cold) cold=1 ;;
    [0-9]*) size=$1 ;;
    *) echo "usage: $0 [--smoke] [--cold] [MEGABYTES]" >&2; exit 2 ;;
  esac
  shift
done

looptrace=$build/looptrace
if [ ! -x "$looptrace" ]; then
  echo "bench-stat: $looptrace not built (run make)" >&2
  exit 1
fi
if [ ! -x /usr/bin/time ]; then
  echo "bench-stat: /usr/bin/time is missing (apt-get install time)" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-stat.XXXXXX")
trap 'rm -rf "$work"' EXIT

cc -O2 -std=gnu11 -Wall -Wextra -o "$work/gen" "$src/tests/bench-stat-gen.c"
"$work/gen" "$size" > "$work/trace.json"
bytes=$(stat -c %s "$work/trace.json")

if [ "$cold" = 1 ]; then
  sync
  echo 3 > /proc/sys/vm/drop_caches
fi

start=$(date +%s%N)
/usr/bin/time -v -o "$work/time.txt" "$looptrace" stat "$work/trace.json" \
  > "$work/stat.txt"
end=$(date +%s%N)

rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
user_s=$(sed -n 's/.*User time (seconds): //p' "$work/time.txt")
sys_s=$(sed -n 's/.*System time (seconds): //p' "$work/time.txt")
events=$(sed -n 's/.* \([0-9]*\) events.*/\1/p' "$work/stat.txt" | head -1)
ns=$((end - start))

echo "trace_bytes: $bytes"
echo "trace_events: $events"
echo "stat_seconds: $(awk -v ns="$ns" 'BEGIN { printf "%.2f", ns / 1e9 }')"
echo "stat_mb_per_s: $(awk -v b="$bytes" -v ns="$ns" \
  'BEGIN { printf "%.0f", b / 1e6 / (ns / 1e9) }')"
echo "stat_cpu_seconds: $(awk -v u="$user_s" -v s="$sys_s" \
  'BEGIN { printf "%.2f", u + s }')"
echo "stat_cpu_mb_per_s: $(awk -v b="$bytes" -v u="$user_s" -v s="$sys_s" \
  'BEGIN { printf "%.0f", b / 1e6 / (u + s) }')"
echo "stat_peak_rss_mb: $(awk -v kb="$rss_kb" 'BEGIN { printf "%.1f", kb / 1024 }')"
