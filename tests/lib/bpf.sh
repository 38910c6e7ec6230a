# bpf.sh — sourced by script tests that need BPF privilege.
#
# require_bpf: returns if this process can load BPF programs and attach
# uprobes; otherwise skips the test (exit 77 with "skip: reason"), or fails
# it when LOOPTRACE_REQUIRE_BPF=1.

skip_or_fail() {
  if [ "${LOOPTRACE_REQUIRE_BPF:-0}" = 1 ]; then
    echo "BPF required (LOOPTRACE_REQUIRE_BPF=1) but: $1" >&2
    exit 1
  fi
  echo "skip: $1"
  exit 77
}

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
