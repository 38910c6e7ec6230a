#!/usr/bin/env bash
# timeout: 90
# `looptrace record` says what privilege the running kernel needs: with
# exactly CAP_BPF and CAP_PERFMON, on a kernel whose uprobes need
# CAP_SYS_ADMIN (Linux 6.16 and later), it fails before doing anything
# with one line naming CAP_SYS_ADMIN; with CAP_SYS_ADMIN added it records.
# The capabilities are set with capsh, as user nobody.
set -uo pipefail
. "$LOOPTRACE_SRC/tests/lib/test.sh"
require_bpf
command -v capsh >/dev/null || die "capsh (libcap2-bin) is missing"

chmod 755 "$tmp"
# Copies nobody can run, whatever the permissions of the build tree.
private_looprt "$tmp/lib"
cp "$LOOPTRACE_BUILD/looptrace" "$tmp/looptrace"
chmod -R a+rX "$tmp"
mkdir -m 777 "$tmp/out"
lt=$tmp/looptrace
ex=$tmp/lib/examples/threads

# as_nobody CAPS SCRIPT: runs SCRIPT with sh as nobody, holding exactly
# the capabilities CAPS ("cap_bpf,cap_perfmon"; "" for none).
as_nobody() {
  local keep="cap_setuid,cap_setgid,cap_setpcap+ep"
  if [ -n "$1" ]; then
    capsh --caps="$keep $1+eip" --keep=1 --user=nobody --addamb="$1" \
      -- -c "$2"
  else
    capsh --caps="$keep" --keep=1 --user=nobody -- -c "$2"
  fi
}

release=$(uname -r)
major=${release%%.*}
minor=${release#*.}
minor=${minor%%[!0-9]*}
new_rule=0
[ "$major" -gt 6 ] || { [ "$major" = 6 ] && [ "$minor" -ge 16 ]; } && new_rule=1

# record_as CAPS ARGS: records a threads example started by nobody for
# one second; leaves the exit status in $tmp/status, stderr in $tmp/err.
record_as() {
  as_nobody "$1" "grep CapEff /proc/self/status > $tmp/out/caps
    $ex --rounds 0 --pause 50 --iterations 2000 > /dev/null &
    sleep 0.3
    $lt record -q -p \$! -d 1 -o $tmp/out/t.json 2> $tmp/out/err
    echo \$? > $tmp/out/status
    kill %1"
}

# 1. Exactly CAP_BPF and CAP_PERFMON.
rm -f "$tmp/out/t.json"
record_as cap_bpf,cap_perfmon
grep -q '000000c000000000' "$tmp/out/caps" ||
  fail "capsh did not give exactly cap_bpf,cap_perfmon: $(cat "$tmp/out/caps")"
status=$(cat "$tmp/out/status")
err=$(cat "$tmp/out/err")
if [ "$status" = 0 ]; then
  # The kernel let CAP_PERFMON attach: then it is an older one.
  [ "$new_rule" = 0 ] || fail "recorded with CAP_BPF+CAP_PERFMON on $release"
  [ -s "$tmp/out/t.json" ] || fail "record exited 0 without a trace"
  [ $failed = 0 ] && echo "ok: CAP_BPF+CAP_PERFMON is enough on $release"
else
  [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] ||
    fail "not one line: $err"
  printf '%s\n' "$err" | grep -q '^looptrace: recording needs CAP_SYS_ADMIN' ||
    fail "the message does not name CAP_SYS_ADMIN: $err"
  [ -e "$tmp/out/t.json" ] && fail "a failed record left $tmp/out/t.json"
  [ $failed = 0 ] && echo "ok: CAP_BPF+CAP_PERFMON on $release: exit $status: $err"
fi

# 2. The same for a command to start: it is not started at all.
if [ "$status" != 0 ]; then
  as_nobody cap_bpf,cap_perfmon \
    "$lt record -o $tmp/out/c.json -- touch $tmp/out/started 2> $tmp/out/err
     echo \$? > $tmp/out/status"
  # 125: looptrace's own failure, not the command's status.
  [ "$(cat "$tmp/out/status")" = 125 ] ||
    fail "record -- CMD exited $(cat "$tmp/out/status")"
  grep -q '^looptrace: recording needs CAP_SYS_ADMIN' "$tmp/out/err" ||
    fail "record -- CMD said: $(cat "$tmp/out/err")"
  [ -e "$tmp/out/started" ] && fail "the command was started"
  [ -e "$tmp/out/c.json" ] && fail "record -- CMD left its output"
  [ $failed = 0 ] && echo "ok: record -- CMD: $(cat "$tmp/out/err"), command not started"
fi

# 3. With CAP_SYS_ADMIN added, as the message says, it records.
rm -f "$tmp/out/t.json"
record_as cap_bpf,cap_perfmon,cap_sys_admin
[ "$(cat "$tmp/out/status")" = 0 ] ||
  fail "record with CAP_SYS_ADMIN failed: $(cat "$tmp/out/err")"
grep -q '"name":"tick"' "$tmp/out/t.json" 2>/dev/null ||
  fail "record with CAP_SYS_ADMIN wrote no ticks"
[ $failed = 0 ] && echo "ok: CAP_BPF+CAP_PERFMON+CAP_SYS_ADMIN records"

# 4. No capability at all: the kernel cannot be asked; the message goes
#    by its version.
as_nobody "" "$lt record -o $tmp/out/n.json -- true 2> $tmp/out/err
  echo \$? > $tmp/out/status"
[ "$(cat "$tmp/out/status")" = 125 ] || fail "no caps: exit $(cat "$tmp/out/status")"
if [ "$new_rule" = 1 ]; then
  want='^looptrace: recording needs CAP_SYS_ADMIN \(or root\): Linux 6\.16'
else
  want='^looptrace: recording needs CAP_BPF and CAP_PERFMON \(or root\)'
fi
grep -Eq "$want" "$tmp/out/err" || fail "no caps: $(cat "$tmp/out/err")"
[ $failed = 0 ] && echo "ok: no capabilities: $(cat "$tmp/out/err")"

finish
