#!/usr/bin/env bash
# timeout: 300
# `make bench-quick` in smoke mode (BENCH_SMOKE=1: tiny sizes, one round)
# runs every benchmark and ends with every figure as `name: number`. It
# checks that the benchmarks keep working, never how fast anything is:
# speed belongs to `make bench`, not to timed tests.
set -uo pipefail
. "$LOOPTRACE_SRC/tests/lib/test.sh"
# make check runs the suite on an ASan build; benchmarks (and callgrind)
# make no sense under ASan.
sanitized && skip "the benchmarks do not run under sanitizers"
require_bpf
command -v bpftrace >/dev/null || skip_or_fail "bpftrace is not installed"
# LTTng is for the benchmarks only (make bench-deps; .ci/run installs it):
# without it this is an ordinary skip, not a missing privilege.
for pkg in lttng-tools liblttng-ust-dev; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
      grep -q 'install ok installed'; then
    skip "$pkg is not installed (make bench-deps)"
  fi
done

# A make of our own, not part of the one that may have started the runner.
unset MAKEFLAGS MAKELEVEL MFLAGS
BENCH_SMOKE=1 make --no-print-directory -C "$LOOPTRACE_SRC" \
  BUILD="$LOOPTRACE_BUILD" bench-quick > "$tmp/out" 2>&1
status=$?
if [ $status -ne 0 ]; then
  tail -n 30 "$tmp/out"
  die "make bench-quick exited with $status"
fi

# The figures: everything after the line "figures:".
sed -n '/^figures:$/,$p' "$tmp/out" | tail -n +2 > "$tmp/figures"

# A ratio to bpftrace or LTTng is "n/a (...)" when no round had both
# costs above zero: at smoke sizes (2000 immediates, 0.3 ms) on a loaded
# machine, LTTng's on - off came out at or below zero (load 16). It is
# accepted where that tracer did count hits: the benchmark worked.
na_ok() { # NAME
  local tool
  case $1 in
    vs_bpftrace_ratio*) tool=bpftrace ;;
    vs_lttng_ratio*) tool=LTTng ;;
    *) return 1 ;;
  esac
  grep -Eq "; $tool -?[0-9.]+ ns x [1-9][0-9]* hits" "$tmp/out"
}

# The viewer's figure is named for the trace's size (_1m, _10k, ...).
for name in detached_ratio attached_ns_per_event vs_bpftrace_ratio \
    vs_lttng_ratio runtime_vs_libuv_ratio collector_max_events_per_s \
    export_events_per_s tracer_peak_rss_mb top_cpu_share_per_1m_records_per_s \
    'viewer_first_render_ms_[0-9a-z]+'; do
  if ! grep -Eq "^$name: -?[0-9]+(\.[0-9]+)?$" "$tmp/figures" &&
      ! { grep -Eq "^$name: n/a \(" "$tmp/figures" && na_ok "$name"; }; then
    fail "no number for $name: $(grep -E "^$name:" "$tmp/figures")"
  fi
done
# And no figure at all is without a number, but for one that says it is
# below the noise (echo's per-record cost, whose server varies by more)
# and a ratio as above.
while IFS= read -r line; do
  [[ $line =~ ^[a-z0-9_.]+:\ (-?[0-9]+(\.[0-9]+)?|below the noise)$ ]] &&
    continue
  [[ $line =~ ^([a-z0-9_.]+):\ n/a\ \( ]] && na_ok "${BASH_REMATCH[1]}" &&
    continue
  fail "not 'name: number': $line"
done < "$tmp/figures"
if [ $failed -ne 0 ]; then
  echo "--- output:"
  tail -n 60 "$tmp/out"
  exit 1
fi
echo "ok: $(wc -l < "$tmp/figures") figures, each a number"
