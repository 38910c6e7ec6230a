# bpf.sh — what script tests that need BPF privilege share; sourced by
# test.sh (which defines skip).

# skip_or_fail REASON: skips the test for a missing privilege or tool it
# needs for BPF, or fails it when LOOPTRACE_REQUIRE_BPF=1 (as CI runs).
skip_or_fail() {
  if [ "${LOOPTRACE_REQUIRE_BPF:-0}" = 1 ]; then
    echo "BPF required (LOOPTRACE_REQUIRE_BPF=1) but: $1" >&2
    exit 1
  fi
  skip "$1"
}

# require_bpf: returns if this process can load BPF programs and attach
# uprobes; otherwise skip_or_fail.
require_bpf() {
  [ "$(id -u)" = 0 ] || skip_or_fail "needs root (CAP_SYS_ADMIN; CAP_BPF and CAP_PERFMON before Linux 6.16)"
  [ -r /sys/kernel/btf/vmlinux ] || skip_or_fail "no BTF at /sys/kernel/btf/vmlinux"
  if [ ! -e /sys/kernel/tracing/uprobe_events ]; then
    mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null ||
      skip_or_fail "tracefs is not mounted and cannot be"
  fi
  # bpftrace asks for more locked memory than the default allows.
  ulimit -l unlimited 2>/dev/null || true
}

# private_looprt DIR: copies liblooprt and the examples into DIR (as
# DIR/liblooprt.so.0 and DIR/examples/*, which find that copy through their
# $ORIGIN/.. runpath). A probe attached by the copy's path sees only the
# programs started from DIR, not other looprt programs running meanwhile.
private_looprt() {
  mkdir -p "$1/examples"
  cp "$LOOPTRACE_BUILD/liblooprt.so.0" "$1/"
  cp "$LOOPTRACE_BUILD"/examples/* "$1/examples/" 2>/dev/null
  rm -rf "$1/examples/static"
}

# wait_uprobe_on PATH [SECONDS]: waits until the kernel has a uprobe planted
# in the file PATH (tools print "Attaching..." before their probes are
# really in place). Returns 1 on timeout.
wait_uprobe_on() {
  local i
  for i in $(seq $((${2:-10} * 20))); do
    bpftool perf list 2>/dev/null | grep -qF "filename $1 " && return 0
    sleep 0.05
  done
  return 1
}

# wait_uprobe_gone PATH [SECONDS]: waits until the kernel has no uprobe
# left in the file PATH (a killed tool's go after a grace period; until
# then wait_uprobe_on would take them for a new tool's). Returns 1 on
# timeout.
wait_uprobe_gone() {
  local i
  for i in $(seq $((${2:-10} * 20))); do
    bpftool perf list 2>/dev/null | grep -qF "filename $1 " || return 0
    sleep 0.05
  done
  return 1
}

# stop_bpftrace PID: stops bpftrace, started as a process group leader
# (set -m), with SIGINT, which makes it print its maps, and reaps it.
# Returns 2 if it did not stop within 20 s (bpftrace 0.17 has been seen to
# hang so, more often under load); it is then killed, which detaches it
# all the same.
stop_bpftrace() {
  local i
  kill -INT -- -"$1"
  for i in $(seq 200); do
    kill -0 "$1" 2> /dev/null || break
    sleep 0.1
  done
  if kill -0 "$1" 2> /dev/null; then
    kill -KILL -- -"$1"
    wait "$1"
    return 2
  fi
  wait "$1"
  return 0
}
