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
  [ "$(id -u)" = 0 ] || skip_or_fail "needs root (CAP_BPF and CAP_PERFMON)"
  [ -r /sys/kernel/btf/vmlinux ] || skip_or_fail "no BTF at /sys/kernel/btf/vmlinux"
  if [ ! -e /sys/kernel/tracing/uprobe_events ]; then
    mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null ||
      skip_or_fail "tracefs is not mounted and cannot be"
  fi
  # bpftrace asks for more locked memory than the default allows.
  ulimit -l unlimited 2>/dev/null || true
}
