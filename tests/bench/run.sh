#!/usr/bin/env bash
# run.sh — the benchmarks: what tracing costs, side by side with the
# alternatives. `make bench` runs it, `make bench-quick` with --quick.
#
#   tests/bench/run.sh [--build DIR] [--quick] [--only SECTION[,SECTION...]]
#   --only   runs these sections only (the figures of the others are not
#            printed): detached libuv tracers collector top export rss
#            long viewer node stop; e.g. `--only detached,libuv,tracers`
#            reruns the runtime's and tracers' figures on a quiet machine
#   BENCH_SMOKE=1 tests/bench/run.sh ...     tiny sizes, one round (the
#                                            smoke test: figures are noise)
#
# It says what it measures as it goes, and ends with one `name: value`
# line per figure, after a line `figures:`. README.md's Performance
# section says what each figure is and what bounds it.
#
# How it measures:
# - Every comparison is side by side: its sides run one after the other
#   in each round, their order rotating from round to round, and a figure
#   is the median over the rounds of that round's figure.
# - A run's cost is the CPU time of the workload process (every thread of
#   it), over the loop's run only, as the workload reports it (cpu_ns). CPU
#   time, not wall time: it counts what tracing costs the program even
#   when its loop waits, and other load on the machine stretches it less.
# - Per-event figures divide by events counted exactly: the records in the
#   trace (its final `records` fact), the hits bpftrace counted, the hits
#   the LTTng build counted.
# - The headline of a figure measured on several workloads is the worst
#   workload; each workload's own figure is printed too.
#
# Needs root (BPF, LTTng); starts lttng-sessiond if none runs, and stops
# the one it started.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
mode=full
sections="detached libuv tracers collector top export rss long viewer node stop"
only=
usage="usage: run.sh [--build DIR] [--quick] [--only SECTION[,SECTION...]]
  sections: ${sections// /, }"
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --quick) mode=quick; shift ;;
    --only)
      [ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }
      only=" ${2//,/ } "
      for s in $only; do
        case " $sections " in
          *" $s "*) ;;
          *) echo "run.sh: no section '$s'" >&2; echo "$usage" >&2; exit 2 ;;
        esac
      done
      shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
[ "${BENCH_SMOKE:-0}" = 1 ] && mode=smoke

bench=$build/bench
looptrace=${LOOPTRACE:-$build/looptrace} # another tracer binary to measure
lib=$bench/lib/liblooprt.so.0 # the workloads' copy (build.mk says why)
tmp=$bench/tmp
rm -rf "$tmp"
mkdir -p "$tmp"

# want SECTION: whether SECTION runs (--only).
want() {
  [ -z "$only" ] || [[ $only == *" $1 "* ]]
}

# ---------------------------------------------------------------------------
# Sizes. Workload sizes are callbacks run: immediates (one per tick),
# timer fires, pool tasks, echo round trips.

case $mode in
  full)
    rounds=15 tracer_rounds=7
    n_immediates=1000000 n_timers=1000000 n_pool=1000000 n_echo=100000
    n_pool_untraced=1000000
    tracer_workloads="immediates timers pool"
    collector_seconds=10 collector_steps=3
    rss_short=10 rss_long=60
    export_records=20000000 export_rounds=3
    viewer_events=1000000 viewer_rounds=3 viewer_big_events=5000000
    callgrind_n=100000 ;;
  quick)
    rounds=3 tracer_rounds=1
    n_immediates=200000 n_timers=200000 n_pool=100000 n_echo=10000
    n_pool_untraced=100000
    tracer_workloads="immediates"
    collector_seconds=0.5 collector_steps=0
    rss_short=1 rss_long=3
    export_records=2000000 export_rounds=1
    viewer_events=1000000 viewer_rounds=1 viewer_big_events=0
    callgrind_n=20000 ;;
  smoke)
    rounds=1 tracer_rounds=1
    n_immediates=2000 n_timers=2000 n_pool=500 n_echo=500
    n_pool_untraced=500
    tracer_workloads="immediates"
    collector_seconds=0.2 collector_steps=0
    rss_short=0.5 rss_long=1
    export_records=20000 export_rounds=1
    viewer_events=10000 viewer_rounds=1 viewer_big_events=0
    callgrind_n=1000 ;;
esac
echo_connections=32
# The program measured (workload, echo server) runs on the last CPU
# ("${pin[@]}", lib.sh), with a threadpool of one thread, as many as the
# CPUs it has: its CPU time then varies little from round to round
# (unpinned, where the pool's four threads landed made it vary threefold
# here). The tools run on the other CPUs ("${tools[@]}").
export UV_THREADPOOL_SIZE=1
# The BPF ring buffer for per-event runs: big enough that nothing is
# dropped, so that every event paid for is counted (the default, 16M, is
# what collector_max_events_per_s measures).
ring=256M

size_of() { # workload -> its size
  eval "echo \$n_$1"
}

# The untraced comparisons (detached, vs libuv) may run more pool tasks
# than the traced ones: a run of 100,000 differs from the next by up to
# 20% with where the worker's wake-ups fall, one of a million by about
# 5%, and the difference sought is 1%. (The traced runs now use a million
# too: 100,000 tasks took 15-20 ms, too short for a tracer's cost to
# stand out of that.)
untraced_size_of() {
  if [ "$1" = pool ]; then
    echo "$n_pool_untraced"
  else
    size_of "$1"
  fi
}

# ... and three times the rounds, on every workload: even a million
# tasks' rounds spread from 0.91 to 1.11 around the median (make bench,
# 2026-11-26), the immediates' and timers' from 0.95 to 1.05
# (2026-11-30), and the median's own spread falls with the square root of
# the rounds (with 15 rounds it was about as wide as the 1% sought).
untraced_rounds=$((rounds * 3))

# ---------------------------------------------------------------------------
# Helpers.

# The value of the line "NAME: value" in FILE.
field() {
  sed -n "s/^$1: //p" "$2" | head -n 1
}

# The median of the numbers on stdin, one per line.
median() {
  sort -g | awk '{ v[NR] = $1 }
    END { if (NR == 0) print "nan";
          else if (NR % 2) print v[(NR + 1) / 2];
          else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# calc EXPR [DECIMALS]: floating-point arithmetic.
calc() {
  awk "BEGIN { printf \"%.${2:-3}f\", $1 }"
}

# The largest of the numbers on stdin.
maximum() {
  sort -g | tail -n 1
}

# Figures, in the order they are measured, printed at the end.
figure_names=()
declare -A figure
put() { # NAME VALUE [NOTE]
  figure_names+=("$1")
  figure[$1]=$2
  printf '  => %s: %s%s\n' "$1" "$2" "${3:+   ($3)}"
}

say() {
  printf '%s\n' "$*"
}

# section TITLE: starts a section of the log, saying how long the last one
# took.
section_start=
section() {
  [ -n "$section_start" ] && say "   ($((SECONDS - section_start)) s)"
  section_start=$SECONDS
  say ""
  say "## $*"
}

ms() { # ns -> ms, for the log
  calc "$1 / 1e6" 1
}

# The rotation of round R over the sides given: round 1 runs them in
# order, round 2 starts at the second, ...
rotate() {
  local r=$1
  shift
  local sides=("$@")
  local n=${#sides[@]}
  local i
  for ((i = 0; i < n; i++)); do
    printf '%s ' "${sides[$(((i + r - 1) % n))]}"
  done
}

cleanup_pids=()
sessiond_pid=
cleanup() {
  local p
  for p in "${cleanup_pids[@]}"; do
    kill -KILL "$p" 2>/dev/null
  done
  if [ -n "$sessiond_pid" ]; then
    kill -TERM "$sessiond_pid" 2>/dev/null
    wait "$sessiond_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "run.sh: $*" >&2
  exit 1
}

# interrupt PID: stops a tracer the way Ctrl-C does and waits for it (at
# most 20 s; bpftrace once ignored a SIGINT here, so it is sent again).
interrupt() {
  local i
  for i in $(seq 200); do
    [ $((i % 50)) = 1 ] && kill -INT "$1" 2>/dev/null
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$1" 2>/dev/null; then
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    return 1
  fi
  wait "$1"
}

[ "$(id -u)" = 0 ] || fail "needs root (BPF and LTTng); run as root"
for p in workloads noprobes/workloads gated/workloads gated/echo \
         lttng/workloads uv_workloads \
         echo_client maxrss; do
  [ -x "$bench/$p" ] || fail "$bench/$p is missing: make bench builds it"
done
# bpftrace asks for more locked memory than the default allows.
ulimit -l unlimited 2>/dev/null || true

say "looptrace benchmarks ($mode): $(uname -r), $(nproc) CPUs, $(date -u +%F)"
say "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the" \
  "machine stretches every figure)"
say "workloads on CPU $cpu, tools on CPU 0-$((cpu > 0 ? cpu - 1 : 0))," \
  "UV_THREADPOOL_SIZE=$UV_THREADPOOL_SIZE"
say "sizes: immediates $n_immediates, timers $n_timers, pool $n_pool" \
  "($n_pool_untraced untraced)," \
  "echo $n_echo round trips over $echo_connections connections;" \
  "$rounds rounds ($tracer_rounds with tracers)"
[ -n "$only" ] && say "sections: $only(--only)"

# ---------------------------------------------------------------------------
# Running one side of a comparison. Each writes the workload's output
# (wall_ns, cpu_ns, n, ...) to OUT and adds what it counted.

# plain PROGRAM WORKLOAD N OUT: no tracer.
plain() {
  "${pin[@]}" "$1" "$2" "$3" > "$4" || fail "$1 $2 $3 failed"
}

# ours WORKLOAD N OUT: under `looptrace record`, started by it; adds
# records and drops from the trace's final facts, and `paid`: the records
# the program handed to the tracer, those read plus those it wrote into
# the BPF ring that the reader had not read when it stopped (it drains
# 30 ms after the program exits; a million immediates make 11M records
# in 0.3 s, about half of them still in the ring then). Dividing by the
# records read alone doubled the per-record cost on 2026-11-29.
ours() {
  local trace=$tmp/trace.json
  local left
  rm -f "$trace"
  "${tools[@]}" "$looptrace" record -q --ring-size "$ring" -o "$trace" -- \
    "${pin[@]}" "$bench/workloads" "$1" "$2" > "$3" 2> "$tmp/looptrace.err" ||
    fail "looptrace record failed: $(cat "$tmp/looptrace.err")"
  trace_facts "$trace" >> "$3"
  left=$(sed -n 's/.*left in the ring at stop: \([0-9]*\).*/\1/p' \
    "$tmp/looptrace.err" | tail -n 1)
  echo "paid: $(($(field records "$3") + ${left:-0}))" >> "$3"
  rm -f "$trace"
}

# The facts of a trace's last metadata event, as lines "records: N",
# "drops: N".
trace_facts() {
  tail -n 3 "$1" | grep '"records"' | tail -n 1 |
    sed -n 's/.*"records":\([0-9]*\).*"drops":\([0-9]*\).*/records: \1\
drops: \2/p'
}

per_event_probes="loop__start loop__stop tick__begin tick__end phase__begin
  phase__end poll__wait callback__begin callback__end work__submit
  work__start work__end work__done"

# bpftrace WORKLOAD N OUT: a bpftrace script counting every per-event
# probe of liblooprt, attached before the program starts; adds hits.
bpftrace_side() {
  local probes=
  local p
  local bt
  for p in $per_event_probes; do
    probes="$probes${probes:+,}usdt:$lib:looprt:$p"
  done
  rm -f "$tmp/bpftrace.out"
  "${tools[@]}" bpftrace \
    -e "BEGIN { printf(\"ready\\n\"); } $probes { @hits = count(); }" \
    > "$tmp/bpftrace.out" 2>&1 &
  bt=$!
  cleanup_pids+=("$bt")
  # BEGIN runs once every probe is attached.
  for _ in $(seq 600); do
    grep -q '^ready' "$tmp/bpftrace.out" && break
    kill -0 "$bt" 2>/dev/null || break
    sleep 0.05
  done
  grep -q '^ready' "$tmp/bpftrace.out" ||
    fail "bpftrace did not attach: $(cat "$tmp/bpftrace.out")"
  plain "$bench/workloads" "$1" "$2" "$3"
  interrupt "$bt" || fail "bpftrace did not stop: $(cat "$tmp/bpftrace.out")"
  echo "hits: $(sed -n 's/^@hits: //p' "$tmp/bpftrace.out")" >> "$3"
}

# LTTng: the session daemon, and a session per run recording every
# per-event tracepoint of the LTTng build into files.
lttng_events() {
  local p
  local list=
  for p in $per_event_probes; do
    list="$list${list:+,}looprt:$p"
  done
  echo "$list"
}

start_sessiond() {
  lttng list > /dev/null 2>&1 && return
  "${tools[@]}" lttng-sessiond --no-kernel > "$tmp/sessiond.log" 2>&1 &
  sessiond_pid=$!
  for _ in $(seq 100); do
    lttng list > /dev/null 2>&1 && return
    sleep 0.1
  done
  fail "lttng-sessiond did not start: $(cat "$tmp/sessiond.log")"
}

# lttng_side on|off WORKLOAD N OUT: the LTTng build, with a session
# recording (on) or none (off); adds LTTng's discarded events.
lttng_side() {
  local session=looptrace-bench-$$
  if [ "$1" = off ]; then
    plain "$bench/lttng/workloads" "$2" "$3" "$4"
    return
  fi
  rm -rf "$tmp/lttng"
  {
    lttng create "$session" --output="$tmp/lttng" &&
      lttng enable-channel -u --subbuf-size=16M --num-subbuf=16 ch &&
      lttng enable-event -u -c ch "$(lttng_events)" &&
      lttng start
  } > "$tmp/lttng.log" 2>&1 || fail "lttng: $(cat "$tmp/lttng.log")"
  plain "$bench/lttng/workloads" "$2" "$3" "$4"
  lttng stop > /dev/null 2>&1
  lttng list "$session" | sed -n 's/.*Discarded events: //p' |
    awk '{ s += $1 } END { print "discarded: " s + 0 }' >> "$4"
  lttng destroy "$session" > /dev/null 2>&1
  rm -rf "$tmp/lttng"
}

tracer_ok=1
if ! "$looptrace" record --help > /dev/null 2>&1 ||
    "$looptrace" record -- true 2>&1 | grep -q 'not implemented'; then
  tracer_ok=0
  say "(build/looptrace cannot record yet: its figures are n/a)"
fi

# The CPU time (ns) of every thread of process PID so far.
process_cpu_ns() {
  cat /proc/"$1"/task/*/schedstat 2>/dev/null |
    awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# echo_run SERVER_CMD... : starts the server, waits for its port, runs the
# client, and writes cpu_ns (the server's CPU during the load) and
# round_trips to $tmp/echo.out. With $echo_trace set, `looptrace record
# -p` is attached during the load and records/drops are added.
echo_run() {
  local server
  local port=
  local tracer=
  local cpu0
  local cpu1
  # Gone first: the background shell truncates it only when it runs.
  rm -f "$tmp/server.out"
  "${pin[@]}" "$@" > "$tmp/server.out" 2>&1 &
  server=$!
  cleanup_pids+=("$server")
  for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' \
      "$tmp/server.out" 2>/dev/null)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || fail "echo server did not start: $(cat "$tmp/server.out")"
  if [ -n "${echo_trace:-}" ]; then
    rm -f "$tmp/trace.json" "$tmp/looptrace.err"
    "${tools[@]}" "$looptrace" record --ring-size "$ring" -p "$server" \
      -o "$tmp/trace.json" 2> "$tmp/looptrace.err" &
    tracer=$!
    cleanup_pids+=("$tracer")
    for _ in $(seq 200); do
      grep -q 'tracing pid' "$tmp/looptrace.err" && break
      kill -0 "$tracer" 2>/dev/null || break
      sleep 0.05
    done
    grep -q 'tracing pid' "$tmp/looptrace.err" ||
      fail "looptrace did not attach: $(cat "$tmp/looptrace.err")"
  fi
  cpu0=$(process_cpu_ns "$server")
  "${tools[@]}" "$bench/echo_client" "$port" $echo_connections "$n_echo" \
    > "$tmp/client.out" || fail "echo client failed"
  cpu1=$(process_cpu_ns "$server")
  {
    echo "cpu_ns: $((cpu1 - cpu0))"
    echo "round_trips: $(field round_trips "$tmp/client.out")"
  } > "$tmp/echo.out"
  if [ -n "$tracer" ]; then
    interrupt "$tracer" ||
      fail "looptrace did not stop: $(cat "$tmp/looptrace.err")"
    trace_facts "$tmp/trace.json" >> "$tmp/echo.out"
    rm -f "$tmp/trace.json"
  fi
  interrupt "$server" || fail "the echo server did not stop"
}

# ---------------------------------------------------------------------------
if want detached; then
section "detached: built with probes, no tracer / built without probes"
say "   build/bench/workloads vs build/bench/noprobes/workloads, cpu_ns"

detached_all=()
for w in immediates timers pool; do
  n=$(untraced_size_of $w)
  ratios=()
  for r in $(seq "$untraced_rounds"); do
    for side in $(rotate $r probes noprobes); do
      case $side in
        probes) plain "$bench/workloads" $w $n "$tmp/probes" ;;
        noprobes) plain "$bench/noprobes/workloads" $w $n "$tmp/noprobes" ;;
      esac
    done
    a=$(field cpu_ns "$tmp/probes")
    b=$(field cpu_ns "$tmp/noprobes")
    ratios+=("$(calc "$a / $b" 4)")
    say "   $w $n, round $r: $(ms $a) ms / $(ms $b) ms = ${ratios[-1]}"
  done
  v=$(printf '%s\n' "${ratios[@]}" | median)
  put detached_ratio_$w "$(calc "$v" 4)"
  detached_all+=("$v")
done

# The same, counted in instructions (callgrind: deterministic, one thread
# at a time), for each workload: CPU time swings with the machine's other
# load and, for the pool, with where the worker's wake-ups fall; the
# instructions much less.
if command -v valgrind > /dev/null; then
  for w in immediates timers pool; do
    n=$callgrind_n
    [ $w = pool ] && n=$((callgrind_n / 5))
    for side in probes noprobes; do
      prog=$bench/workloads
      [ $side = noprobes ] && prog=$bench/noprobes/workloads
      UV_THREADPOOL_SIZE=1 valgrind --tool=callgrind \
        --callgrind-out-file="$tmp/cg.$side" "$prog" $w $n > /dev/null \
        2> "$tmp/cg.$side.err" ||
        fail "callgrind failed: $(tail -n 5 "$tmp/cg.$side.err")"
      eval "ir_$side=$(sed -n 's/^summary: //p' "$tmp/cg.$side")"
    done
    say "   callgrind, $w $n (whole program):" \
      "$ir_probes / $ir_noprobes instructions"
    put detached_instr_ratio_$w "$(calc "$ir_probes / $ir_noprobes" 4)"
  done
fi
put detached_ratio "$(calc "$(printf '%s\n' "${detached_all[@]}" |
  maximum)" 4)" "worst workload"

fi # detached

# ---------------------------------------------------------------------------
if want libuv; then
section "runtime vs libuv: a looprt program / the same work on raw libuv"
say "   build/bench/workloads vs build/bench/uv_workloads, cpu_ns;" \
  "echo: server CPU per round trip"

libuv_all=()
for w in immediates timers pool echo; do
  n=$(untraced_size_of $w)
  ratios=()
  for r in $(seq "$untraced_rounds"); do
    for side in $(rotate $r looprt libuv); do
      if [ $w = echo ]; then
        case $side in
          looprt) echo_run "$build/examples/echo" ;;
          libuv) echo_run "$bench/uv_workloads" echo ;;
        esac
        cp "$tmp/echo.out" "$tmp/$side"
      else
        case $side in
          looprt) plain "$bench/workloads" $w $n "$tmp/looprt" ;;
          libuv) plain "$bench/uv_workloads" $w $n "$tmp/libuv" ;;
        esac
      fi
    done
    a=$(field cpu_ns "$tmp/looprt")
    b=$(field cpu_ns "$tmp/libuv")
    ratios+=("$(calc "$a / $b" 4)")
    say "   $w $n, round $r: $(ms $a) ms / $(ms $b) ms = ${ratios[-1]}"
  done
  v=$(printf '%s\n' "${ratios[@]}" | median)
  put runtime_vs_libuv_ratio_$w "$(calc "$v" 4)"
  libuv_all+=("$v")
done
put runtime_vs_libuv_ratio "$(calc "$(printf '%s\n' "${libuv_all[@]}" |
  maximum)" 4)" "worst workload"

fi # libuv

# ---------------------------------------------------------------------------
if want tracers; then
section "tracers: per-event cost of looptrace, bpftrace, LTTng-UST"
say "   looptrace: (cpu_ns traced - untraced) / records the program handed"
say "              over (read into the trace, or left in the ring at stop)"
say "              (looptrace record --ring-size $ring -o FILE -- CMD)"
say "   bpftrace:  (cpu_ns traced - untraced) / probe hits; a script"
say "              counting every per-event probe of $lib"
say "   LTTng-UST: (cpu_ns recording - not recording) / tracepoint hits;"
say "              the LTTng build of the runtime, a session recording"
say "              every per-event tracepoint to files"

if [ $tracer_ok = 1 ]; then
  start_sessiond
fi
# A figure that cannot be true is not printed: a round whose tracer
# cost came out at or below zero gives no ratio, and a per-record cost
# below the spread of the untraced rounds (per record) is printed as
# "below the noise" and left out of the headline. Every side runs with
# BENCH_WARMUP_MS (workloads.c): the tracing session starts, and the
# tracer's attach ends, before the measured interval.
export BENCH_WARMUP_MS=50

# ratio_figure NAME RATIOS...: puts a per-workload ratio, the median of
# the rounds' (sets ratio_median, empty if none), or says why there is
# none; uses $clears_noise, $tracer_rounds.
ratio_figure() {
  local name=$1
  shift
  ratio_median=
  if [ $# -eq 0 ]; then
    put "$name" "n/a (no round with both costs above zero)"
    return
  fi
  ratio_median=$(printf '%s\n' "$@" | median)
  if [ "$clears_noise" = 1 ]; then
    put "$name" "$(calc "$ratio_median" 4)" "$# of $tracer_rounds rounds"
  else
    put "$name" "below the noise" "our cost is; median $(calc \
      "$ratio_median" 4) of $# of $tracer_rounds rounds"
  fi
}

attached_all=()
bt_ratio_all=()
lttng_ratio_all=()
for w in $tracer_workloads; do
  [ $tracer_ok = 1 ] || break
  n=$(size_of $w)
  ours_pe=()
  bt_ratio=()
  lttng_ratio=()
  untraced=()
  recs=()
  for r in $(seq $tracer_rounds); do
    for side in $(rotate $r none ours bpftrace lttng_off lttng_on); do
      case $side in
        none) plain "$bench/workloads" $w $n "$tmp/none" ;;
        ours) ours $w $n "$tmp/ours" ;;
        bpftrace) bpftrace_side $w $n "$tmp/bpftrace" ;;
        lttng_off) lttng_side off $w $n "$tmp/lttng_off" ;;
        lttng_on) lttng_side on $w $n "$tmp/lttng_on" ;;
      esac
    done
    none=$(field cpu_ns "$tmp/none")
    records=$(field paid "$tmp/ours")
    drops=$(field drops "$tmp/ours")
    hits=$(field hits "$tmp/bpftrace")
    lhits=$(field probe_hits "$tmp/lttng_on")
    [ "${drops:-1}" = 0 ] ||
      say "   (looptrace dropped $drops records: $(sed -n \
        's/.*records dropped (\(.*\))/\1/p' "$tmp/looptrace.err"))"
    d=$(field discarded "$tmp/lttng_on")
    [ "${d:-1}" = 0 ] || say "   (LTTng discarded $d events)"
    o=$(calc "($(field cpu_ns "$tmp/ours") - $none) / $records" 2)
    b=$(calc "($(field cpu_ns "$tmp/bpftrace") - $none) / $hits" 2)
    l=$(calc "($(field cpu_ns "$tmp/lttng_on") - \
               $(field cpu_ns "$tmp/lttng_off")) / $lhits" 2)
    ours_pe+=("$o")
    untraced+=("$none")
    recs+=("$records")
    rb=n/a
    rl=n/a
    if awk "BEGIN { exit !($o > 0 && $b > 0) }"; then
      rb=$(calc "$o / $b" 4)
      bt_ratio+=("$rb")
    fi
    if awk "BEGIN { exit !($o > 0 && $l > 0) }"; then
      rl=$(calc "$o / $l" 4)
      lttng_ratio+=("$rl")
    fi
    say "   $w $n, round $r: untraced $(ms $none) ms;" \
      "looptrace $o ns x $records records;" \
      "bpftrace $b ns x $hits hits; LTTng $l ns x $lhits hits" \
      "(LTTng build untraced $(ms "$(field cpu_ns "$tmp/lttng_off")") ms);" \
      "ratios $rb, $rl"
  done
  v=$(printf '%s\n' "${ours_pe[@]}" | median)
  lo=$(printf '%s\n' "${ours_pe[@]}" | sort -g | head -n 1)
  hi=$(printf '%s\n' "${ours_pe[@]}" | maximum)
  noise=$(calc "($(printf '%s\n' "${untraced[@]}" | maximum) - \
    $(printf '%s\n' "${untraced[@]}" | sort -g | head -n 1)) / \
    $(printf '%s\n' "${recs[@]}" | median)" 1)
  say "   $w: looptrace's rounds $lo to $hi ns per record; the untraced" \
    "rounds spread over $noise ns per record"
  clears_noise=0
  if awk "BEGIN { exit !($v > 0 && $v >= $noise) }"; then
    clears_noise=1
    put attached_ns_per_event_$w "$(calc "$v" 1)" \
      "rounds $lo-$hi; noise $noise"
    attached_all+=("$v")
  else
    put attached_ns_per_event_$w "below the noise" \
      "median $(calc "$v" 1) ns; untraced rounds spread over $noise ns"
  fi
  # A ratio needs both costs above zero in a round; one whose numerator,
  # our cost, is below the noise is below the noise too (2026-11-30, pool:
  # rounds from -3.4 to 40.1 ns a record gave 0.003 to 0.78 of LTTng's).
  ratio_figure vs_bpftrace_ratio_$w "${bt_ratio[@]}"
  [ $clears_noise = 0 ] || [ -z "$ratio_median" ] ||
    bt_ratio_all+=("$ratio_median")
  ratio_figure vs_lttng_ratio_$w "${lttng_ratio[@]}"
  [ $clears_noise = 0 ] || [ -z "$ratio_median" ] ||
    lttng_ratio_all+=("$ratio_median")
done
unset BENCH_WARMUP_MS

# What the runtime itself does per record, counted: callgrind (one thread
# at a time, deterministic) on each workload with its event sites on and
# no tracer (build/bench/gated: its flush probe fires into nothing)
# against the same program with them off (BENCH_GATE=off), per record
# written (what the gated program says it wrote at exit: gate_on.c).
# CPU time swings with the machine's other load;
# this does not. What the tracer then adds (a uprobe and a copy per batch
# of up to 2048 records) is in attached_ns_per_event, not here.
gated_records() { # FILE: the records a gated program said it wrote
  sed -n 's/^gate_on: records: //p' "$1" | tail -n 1
}
if command -v valgrind > /dev/null && [ -x "$bench/gated/workloads" ]; then
  for w in $tracer_workloads; do
    n=$callgrind_n
    [ $w = pool ] && n=$((callgrind_n / 5))
    for side in gated plain; do
      gate=on
      [ $side = plain ] && gate=off
      BENCH_GATE=$gate valgrind --tool=callgrind \
        --callgrind-out-file="$tmp/cg.$side" "$bench/gated/workloads" $w $n \
        > /dev/null 2> "$tmp/cg.$side.err" ||
        fail "callgrind failed: $(tail -n 5 "$tmp/cg.$side.err")"
      eval "ir_$side=$(sed -n 's/^summary: //p' "$tmp/cg.$side")"
    done
    recs=$(gated_records "$tmp/cg.gated.err")
    say "   callgrind, $w $n: $ir_gated instructions with event sites on," \
      "$ir_plain off; $recs records"
    put attached_instr_per_event_$w "$(calc "($ir_gated - $ir_plain) / \
      $recs" 1)" "runtime alone, no tracer"
  done
fi

# echo under load, with `looptrace record -p` attached. The server's CPU
# time varies from run to run by more than the tracer costs it (make
# bench, 2026-11-29: one round read -351.5 ns per record): the untraced
# rounds' own spread, per record, is the noise, and a figure below it is
# printed as such, and left out of the headline.
if [ $tracer_ok = 1 ]; then
  pe=()
  untraced=()
  recs=()
  echo_rounds=$((tracer_rounds < 3 ? 3 : tracer_rounds))
  for r in $(seq $echo_rounds); do
    for side in $(rotate $r none ours); do
      case $side in
        none) echo_trace= echo_run "$build/examples/echo" ;;
        ours) echo_trace=1 echo_run "$build/examples/echo" ;;
      esac
      cp "$tmp/echo.out" "$tmp/$side"
    done
    records=$(field records "$tmp/ours")
    drops=$(field drops "$tmp/ours")
    [ "${drops:-1}" = 0 ] || say "   (looptrace dropped $drops records)"
    a=$(field cpu_ns "$tmp/ours")
    b=$(field cpu_ns "$tmp/none")
    pe+=("$(calc "($a - $b) / $records" 2)")
    untraced+=("$b")
    recs+=("$records")
    say "   echo $n_echo, round $r: server $(ms $b) ms untraced," \
      "$(ms $a) ms traced, $records records: ${pe[-1]} ns per record"
  done
  v=$(printf '%s\n' "${pe[@]}" | median)
  lo=$(printf '%s\n' "${untraced[@]}" | sort -g | head -n 1)
  hi=$(printf '%s\n' "${untraced[@]}" | maximum)
  noise=$(calc "($hi - $lo) / $(printf '%s\n' "${recs[@]}" | median)" 1)
  say "   noise: the untraced rounds spread over $noise ns per record"
  if awk "BEGIN { exit !($v >= $noise && $v > 0) }"; then
    put attached_ns_per_event_echo "$(calc "$v" 1)" "noise $noise"
    attached_all+=("$v")
  else
    put attached_ns_per_event_echo "below the noise" \
      "median $(calc "$v" 1) ns; untraced rounds spread over $noise ns"
  fi

  # The same load on the echo server under callgrind, its event sites on
  # (no tracer) and off: instructions per record, which the server's
  # swings in CPU time do not move (its ticks may batch reads
  # differently from one run to the other: a few per cent of its work).
  if command -v valgrind > /dev/null; then
    for side in gated plain; do
      gate=on
      [ $side = plain ] && gate=off
      BENCH_GATE=$gate echo_run valgrind --tool=callgrind \
        --callgrind-out-file="$tmp/cg.echo.$side" "$bench/gated/echo"
      eval "ir_$side=$(sed -n 's/^summary: //p' "$tmp/cg.echo.$side")"
      cp "$tmp/server.out" "$tmp/cg.echo.$side.err"
    done
    recs=$(gated_records "$tmp/cg.echo.gated.err")
    say "   callgrind, echo $n_echo round trips (server):" \
      "$ir_gated instructions with event sites on, $ir_plain off;" \
      "$recs records"
    put attached_instr_per_event_echo "$(calc "($ir_gated - $ir_plain) / \
      $recs" 1)" "runtime alone, no tracer"
  fi

  # headline NAME DECIMALS VALUES...: the worst workload's, of those
  # that gave a figure.
  headline() {
    local name=$1 dec=$2
    shift 2
    if [ $# -gt 0 ]; then
      put "$name" "$(calc "$(printf '%s\n' "$@" | maximum)" "$dec")" \
        "worst workload"
    else
      put "$name" "n/a (no workload gave a figure above the noise)"
    fi
  }
  headline attached_ns_per_event 1 "${attached_all[@]}"
  headline vs_bpftrace_ratio 4 "${bt_ratio_all[@]}"
  headline vs_lttng_ratio 4 "${lttng_ratio_all[@]}"
else
  put attached_ns_per_event "n/a (looptrace record not available)"
  put vs_bpftrace_ratio "n/a (looptrace record not available)"
  put vs_lttng_ratio "n/a (looptrace record not available)"
fi

fi # tracers

# ---------------------------------------------------------------------------
if want collector; then
section "collector: highest rate sustained with no drop"
say "   looptrace record -o /dev/null --" \
  "workloads spans RATE $collector_seconds"
say "   (default ring buffer; RATE records/s of user spans, paced each ms)"

# collector_trial RATE: 0 if every record of RATE/s for the duration
# arrived; sets trial_rate to the rate the generator achieved.
collector_trial() {
  local err=$tmp/collector.err
  "${tools[@]}" "$looptrace" record -o /dev/null -- \
    "${pin[@]}" "$bench/workloads" \
    spans "$1" "$collector_seconds" > "$tmp/collector.out" 2> "$err" ||
    fail "looptrace record failed: $(cat "$err")"
  local made
  local drops
  made=$(field span_records "$tmp/collector.out")
  drops=$(sed -n 's/.* \([0-9]*\) records dropped.*/\1/p' "$err" | tail -n 1)
  trial_rate=$(calc "$made / $collector_seconds" 0)
  say "   $1/s asked: $trial_rate/s made, ${drops:-?} records dropped"
  [ "${drops:-1}" = 0 ] &&
    [ "$made" -ge "$(calc "$1 * $collector_seconds * 0.98" 0)" ]
}

if [ $tracer_ok = 1 ]; then
  good=0
  bad=0
  rate=1000000
  [ $mode = smoke ] && rate=100000
  # Double until a rate fails, then halve the gap collector_steps times.
  while :; do
    if collector_trial $rate; then
      good=$rate
      good_made=$trial_rate
      rate=$((rate * 2))
      [ $rate -gt 64000000 ] && break
    else
      bad=$rate
      break
    fi
  done
  if [ $bad -gt 0 ] && [ $good -gt 0 ]; then
    for _ in $(seq $collector_steps); do
      rate=$(((good + bad) / 2))
      if collector_trial $rate; then
        good=$rate
        good_made=$trial_rate
      else
        bad=$rate
      fi
    done
  fi
  if [ $good -gt 0 ]; then
    put collector_max_events_per_s "$good_made" \
      "next rate tried, failed: $bad/s"
  else
    put collector_max_events_per_s 0 "even $bad/s failed"
  fi
else
  put collector_max_events_per_s "n/a (looptrace record not available)"
fi

fi # collector

# ---------------------------------------------------------------------------
# (live helper's lines: the cost of `looptrace top`, issue 15.)
if want top; then
section "top: the tracer's own CPU at a measured record rate"
say "   looptrace top --once -i SECONDS+5 -- workloads spans RATE SECONDS;"
say "   the tracer's utime+stime (/proc/PID/stat) from the program's start"
say "   to its end, over that wall time, per 1M records/s made"
case $mode in
  full) top_seconds=10 top_rate=1000000 ;;
  quick) top_seconds=3 top_rate=1000000 ;;
  *) top_seconds=0.5 top_rate=100000 ;;
esac
# top_cpu_ticks PID: utime + stime of PID, in clock ticks.
top_cpu_ticks() {
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null
}
if [ $tracer_ok = 1 ]; then
  "${tools[@]}" "$looptrace" top --once -i "$(calc "$top_seconds + 5" 1)" \
    -- "${pin[@]}" "$bench/workloads" spans "$top_rate" "$top_seconds" \
    > "$tmp/top.out" 2> "$tmp/top.err" &
  top_pid=$!
  # From the program's start (it is held until the tracer attached, so
  # the BPF load is not counted: it started once it used CPU; a run too
  # short to show that counts from the program's fork) to the last
  # sample before the tracer ends.
  c0= t0= c1= t1= ca= ta=
  while kill -0 $top_pid 2>/dev/null; do
    child=$(pgrep -P $top_pid | head -n 1)
    if [ -z "$ca" ] && [ -n "$child" ]; then
      ca=$(top_cpu_ticks $top_pid) ta=$(date +%s.%N)
    fi
    if [ -z "$c0" ] && [ -n "$child" ] &&
        [ "$(top_cpu_ticks "$child")" -ge 1 ] 2>/dev/null; then
      c0=$(top_cpu_ticks $top_pid) t0=$(date +%s.%N)
    fi
    if [ -n "$ca" ]; then
      c=$(top_cpu_ticks $top_pid)
      [ -n "$c" ] && c1=$c t1=$(date +%s.%N)
    fi
    sleep 0.05
  done
  wait $top_pid
  if [ -z "$c0" ] || ! awk "BEGIN { exit !($t1 > $t0 + 0.1) }"; then
    c0=$ca t0=$ta
  fi
  made=$(field span_records "$tmp/top.out")
  hz=$(getconf CLK_TCK)
  if [ -n "$c0" ] && [ -n "$c1" ] && [ -n "$made" ] &&
      awk "BEGIN { exit !($t1 > $t0 && $made > 0) }"; then
    wall=$(calc "$t1 - $t0" 3)
    cpu=$(calc "($c1 - $c0) / $hz" 3)
    rate=$(calc "$made / $top_seconds" 0)
    share=$(calc "$cpu / $wall" 4)
    say "   $rate records/s made; tracer CPU $cpu s over $wall s:" \
      "$(calc "$share * 100" 1)% of a core"
    put top_cpu_share_per_1m_records_per_s \
      "$(calc "$share / ($rate / 1e6)" 4)" \
      "$(calc "$share * 100" 1)% of a core at $rate records/s"
  else
    put top_cpu_share_per_1m_records_per_s \
      "n/a (no measure: $(tail -n 2 "$tmp/top.err"))"
  fi
else
  put top_cpu_share_per_1m_records_per_s "n/a (looptrace not available)"
fi

fi # top

# ---------------------------------------------------------------------------
if want export; then
section "export: trace JSON written per second"
say "   build/bench/export_bench $export_records"
v=()
for r in $(seq $export_rounds); do
  if "$bench/export_bench" "$export_records" > "$tmp/export.out" 2>&1; then
    v+=("$(field export_events_per_s "$tmp/export.out")")
    say "   round $r: ${v[-1]} events/s"
  fi
done
if [ ${#v[@]} -gt 0 ]; then
  put export_events_per_s "$(printf '%s\n' "${v[@]}" | median)"
else
  put export_events_per_s \
    "n/a (export_bench: $(head -n 1 "$tmp/export.out"))"
fi

fi # export

# ---------------------------------------------------------------------------
if want rss; then
section "tracer memory: peak RSS recording a busy loop, short vs long"
say "   maxrss looptrace record -p PID -d SECONDS -o /dev/null," \
  "PID: workloads mixed"

# rss_trial SECONDS: the tracer's peak RSS in MB, recording that long.
rss_trial() {
  local target
  "${pin[@]}" "$bench/workloads" mixed "$(calc "$1 + 2" 1)" > /dev/null &
  target=$!
  cleanup_pids+=("$target")
  sleep 0.2
  "${tools[@]}" "$bench/maxrss" "$tmp/rss" "$looptrace" record -q -p "$target" \
    -d "$1" -o /dev/null 2> "$tmp/rss.err" ||
    fail "looptrace record failed: $(cat "$tmp/rss.err")"
  kill -INT "$target" 2>/dev/null
  wait "$target" 2>/dev/null
  calc "$(field maxrss_kb "$tmp/rss") / 1024" 1
}

if [ $tracer_ok = 1 ]; then
  short=$(rss_trial $rss_short)
  long=$(rss_trial $rss_long)
  say "   ${rss_short} s: $short MB; ${rss_long} s: $long MB"
  put "tracer_peak_rss_mb_${rss_short}s" "$short"
  put "tracer_peak_rss_mb_${rss_long}s" "$long"
  put tracer_peak_rss_mb "$(printf '%s\n' "$short" "$long" | maximum)" \
    "the larger"
else
  put tracer_peak_rss_mb "n/a (looptrace record not available)"
fi

fi # rss

# ---------------------------------------------------------------------------
if want long; then
section "long recording and the flight recorder (tests/bench/long.sh)"
# A busy program (workloads spans, 250,000 records/s) recorded for
# long_args' --seconds: the tracer's RSS over time and its CPU; then
# --flight on it: bytes written before a trigger, memory against the cap.
case $mode in
  full) long_args=(--seconds 600 --interval 60 --flight-seconds 30
                   --flight-size 64M --after 1) ;;
  quick) long_args=(--seconds 6 --interval 2 --flight-seconds 3
                    --flight-size 16M --after 0.2) ;;
  smoke) long_args=(--seconds 1 --interval 0.5 --flight-seconds 1
                    --flight-size 4M --after 0.1) ;;
esac
long_figures="long_records_per_s long_tracer_rss_mb_first
  long_tracer_rss_mb_last long_tracer_cpu_pct long_tracer_cpu_s_per_hour
  long_json_gb_per_hour flight_bytes_before_trigger flight_cap_mb
  flight_rss_anon_mb_before_trigger flight_rss_anon_mb_with_dump
  flight_window_s"
if [ $tracer_ok = 1 ]; then
  say "   tests/bench/long.sh ${long_args[*]}"
  LOOPTRACE=$looptrace "$top/tests/bench/long.sh" --build "$build" \
    "${long_args[@]}" > "$tmp/long.out" 2>&1 ||
    fail "long.sh failed: $(tail -n 5 "$tmp/long.out")"
  grep -v '^[a-z0-9_]*: ' "$tmp/long.out"
  for name in $long_figures; do
    put "$name" "$(field "$name" "$tmp/long.out")"
  done
fi

fi # long

# ---------------------------------------------------------------------------
if want viewer; then
section "viewer: first render of a big trace in headless Chromium"
# The page and the trace are served by `looptrace view`, as a user serves
# them. Each size: first render (median of the rounds), then the last
# round's CPU time to first render, pan/zoom frame p95 (draw + raster),
# animation frame interval p95, tab memory (renderer RSS) and JS heap.
viewer_script=$top/tests/browser/bench-render.mjs
viewer_bench() { # EVENTS ROUNDS [ARG...]
  local events=$1 rounds=$2 r line name= v=()
  shift 2
  say "   node tests/browser/bench-render.mjs --events $events --frames 40 $*"
  [ -f "$viewer_script" ] || return 1
  for r in $(seq "$rounds"); do
    # The generator holds a 5M-event trace's events (about 3 GB) in Node.
    if LOOPTRACE_BUILD=$build node --max-old-space-size=8192 "$viewer_script" \
        --events "$events" --frames 40 "$@" > "$tmp/viewer.out" 2>&1; then
      line=$(grep '^viewer_first_render_ms_' "$tmp/viewer.out" | head -n 1)
      name=${line%%:*}
      v+=("$(echo "${line#*: }" | awk '{ print $1 }')")
      say "   round $r: ${v[-1]} ms ($(grep '^load average' "$tmp/viewer.out"))"
      # How it was read (one or two workers) and where the time went.
      say "    $(grep -o '([a-z0-9 ,]*line by line)' "$tmp/viewer.out" | head -n 1)" \
        "$(grep '^  fetch' "$tmp/viewer.out" | head -n 1)"
    else
      say "   round $r failed: $(tail -n 3 "$tmp/viewer.out")"
    fi
  done
  [ ${#v[@]} -gt 0 ] || return 1
  put "$name" "$(printf '%s\n' "${v[@]}" | median)"
  for k in viewer_first_render_cpu_ms_ viewer_frame_ms_p95_ viewer_frame_interval_ms_p95_ \
      viewer_tab_memory_mb_ viewer_js_heap_mb_; do
    line=$(grep "^$k" "$tmp/viewer.out" | head -n 1)
    [[ ${line#*: } =~ ^[0-9]+(\.[0-9]+)?$ ]] && put "${line%%:*}" "${line#*: }"
  done
  return 0
}
viewer_bench "$viewer_events" "$viewer_rounds" ||
  put viewer_first_render_ms_1m \
    "n/a (no tests/browser/bench-render.mjs, or it failed)"
if [ "$viewer_big_events" -gt 0 ]; then
  viewer_bench "$viewer_big_events" 1 ||
    put viewer_first_render_ms_5m "n/a (bench-render.mjs failed on $viewer_big_events events)"
  # The same trace gzipped, as `record -o FILE.json.gz` writes it: the
  # browser inflates it as it streams in.
  viewer_bench "$viewer_big_events" 1 --gzip ||
    put viewer_first_render_ms_5m_gz "n/a (bench-render.mjs failed on $viewer_big_events events, gzip)"
  # Four times that (2.4 GB): more than a tab can hold. The viewer should
  # say so, soon, rather than hang: how long it takes to, and the tab then.
  say "   node tests/browser/bench-render.mjs --events $viewer_big_events --repeat 4"
  LOOPTRACE_BUILD=$build node --max-old-space-size=8192 "$viewer_script" \
    --events "$viewer_big_events" --repeat 4 > "$tmp/viewer.out" 2>&1
  line=$(grep '^viewer_refused_ms_' "$tmp/viewer.out" | head -n 1)
  if [ -n "$line" ]; then
    say "   $(grep '^the viewer refused' "$tmp/viewer.out" | cut -c1-150)…"
    put "${line%%:*}" "${line#*: }"
    line=$(grep '^viewer_tab_memory_mb_' "$tmp/viewer.out" | head -n 1)
    put "${line%%:*}" "${line#*: }"
  else
    put viewer_refused_ms_20m "n/a (not refused: $(tail -n 2 "$tmp/viewer.out" | tr '\n' ' '))"
  fi
fi

fi # viewer

# ---------------------------------------------------------------------------
if want node; then
section "node: looptrace on stock Node.js through its libuv (node.sh)"
# What the libuv source costs node, side by side with Node's own trace
# events (tests/bench/node.sh says how). Left out where node is absent.
case $mode in
  full) node_args=(--rounds 5 --ticks 200000 --requests 4000) ;;
  quick) node_args=(--rounds 1 --ticks 50000 --requests 1000) ;;
  smoke) node_args=(--rounds 1 --ticks 2000 --requests 100) ;;
esac
if command -v node > /dev/null && [ $tracer_ok = 1 ]; then
  LOOPTRACE=$looptrace "$top/tests/bench/node.sh" --build "$build" \
    "${node_args[@]}" > "$tmp/node.out" 2>&1
  sed -n '/^figures:$/q; s/^/   /p' "$tmp/node.out"
  for name in node_attach_us_per_tick node_trace_events_us_per_tick \
      node_vs_trace_events_ratio node_http_traced_ratio node_attach_s; do
    v=$(field $name "$tmp/node.out")
    [ -n "$v" ] || fail "tests/bench/node.sh gave no $name: $(tail -n 5 "$tmp/node.out")"
    put $name "$v"
  done
fi

fi # node

# ---------------------------------------------------------------------------
if want stop; then
section "record: SIGINT to exit under a flood (tests/bench/stop.sh)"
case $mode in
  full) stop_rounds=20 ;;
  quick) stop_rounds=5 ;;
  smoke) stop_rounds=1 ;;
esac
if [ $tracer_ok = 1 ]; then
  say "   tests/bench/stop.sh --rounds $stop_rounds"
  LOOPTRACE=$looptrace "$top/tests/bench/stop.sh" --build "$build" \
    --rounds $stop_rounds > "$tmp/stop.out" 2>&1 ||
    fail "stop.sh failed: $(tail -n 5 "$tmp/stop.out")"
  grep -v '^[a-z_]*: ' "$tmp/stop.out" | sed 's/^/   /'
  say "   load average at the end: $(field record_stop_load "$tmp/stop.out")"
  put record_stop_ms_median "$(field record_stop_ms_median "$tmp/stop.out")"
  put record_stop_ms_max "$(field record_stop_ms_max "$tmp/stop.out")"
fi

fi # stop

# ---------------------------------------------------------------------------
section "done"
say "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
say "figures:"
for name in "${figure_names[@]}"; do
  printf '%s: %s\n' "$name" "${figure[$name]}"
done
