#!/usr/bin/env bash
# timeout: 120
# Bad input to `looptrace record` and `looptrace list`: one clear line
# "looptrace: ..." on stderr, a non-zero exit, nothing attached, no file
# left behind, and the program looked at keeps running.
set -uo pipefail
. "$LOOPTRACE_SRC/tests/lib/test.sh"
require_bpf

example=$LOOPTRACE_BUILD/examples/threads

# expect_error STATUS PATTERN CMD...: CMD exits with STATUS and prints one
# line on stderr (and nothing on stdout) that starts with "looptrace" and
# matches PATTERN (an extended regex).
expect_error() {
  local want=$1 pattern=$2
  shift 2
  "$@" > "$tmp/stdout" 2> "$tmp/stderr"
  local status=$?
  local lines
  lines=$(wc -l < "$tmp/stderr")
  if [ "$status" != "$want" ]; then
    fail "$* exited with $status, not $want: $(cat "$tmp/stderr")"
  elif [ "$want" != 2 ] && [ "$lines" != 1 ]; then
    fail "$* printed $lines lines, not one:"; cat "$tmp/stderr"
  elif ! head -1 "$tmp/stderr" | grep -Eq "^looptrace( [a-z]+)?: $pattern"; then
    fail "$* said: $(head -1 "$tmp/stderr") (expected: $pattern)"
  elif [ -s "$tmp/stdout" ]; then
    fail "$* wrote to stdout: $(cat "$tmp/stdout")"
  else
    echo "ok: $* -> $(head -1 "$tmp/stderr")"
  fi
}

# A pid that is free: a process that has come and gone.
true &
gone=$!
wait $gone

# A process without looprt, and a looprt program (to check that failed
# attempts leave it alone).
sleep 60 &
plain=$!
track "$plain"
UV_THREADPOOL_SIZE=4 "$example" --rounds 0 --pause 50 --iterations 2000 \
  > "$tmp/example.out" &
traced=$!
track "$traced"
wait_line "$tmp/example.out" 'pbkdf2 #5' 5

# No such process.
expect_error 1 "no process with pid $gone" "$lt" record -p "$gone"
expect_error 1 "no process with pid $gone" "$lt" list -p "$gone"

# A process without looprt.
expect_error 1 "pid $plain \(sleep\) has no looprt probes" \
  "$lt" record -p "$plain" -o "$tmp/plain.json"
[ -e "$tmp/plain.json" ] && fail "record left $tmp/plain.json behind"
expect_error 1 "pid $plain \(sleep\) has no looprt probes" \
  "$lt" list -p "$plain"

# A missing binary, a file that is not ELF, an ELF without looprt.
expect_error 1 "/nonexistent/prog: No such file or directory" \
  "$lt" list /nonexistent/prog
expect_error 127 "cannot run /nonexistent/prog: No such file or directory" \
  "$lt" record -o "$tmp/missing.json" -- /nonexistent/prog
[ -e "$tmp/missing.json" ] && fail "record left $tmp/missing.json behind"
expect_error 1 "/etc/passwd is not an ELF file" "$lt" list /etc/passwd
expect_error 1 "/bin/true has no looprt probes and does not link liblooprt" \
  "$lt" list /bin/true

# A program that is not a looprt program and ends at once.
expect_error 125 "true exited with status 0 before its looprt runtime started" \
  "$lt" record -o "$tmp/true.json" -- true
[ -e "$tmp/true.json" ] && fail "record left $tmp/true.json behind"

# A program that is not a looprt program and keeps running: reported
# after a few seconds; it runs on, and looptrace waits for it.
start=$(date +%s)
expect_error 125 "sleep did not start a looprt runtime within 5 s" \
  "$lt" record -o "$tmp/sleep.json" -- sleep 6
[ $(($(date +%s) - start)) -ge 6 ] || fail "looptrace did not wait for sleep"
[ -e "$tmp/sleep.json" ] && fail "record left $tmp/sleep.json behind"

# An output that cannot be written: found before attaching.
expect_error 1 "cannot write $tmp/no/such/dir.json: No such file or directory" \
  "$lt" record -p "$traced" -o "$tmp/no/such/dir.json"
expect_error 1 "cannot write $tmp: Is a directory" \
  "$lt" record -p "$traced" -o "$tmp"
expect_error 1 "cannot write /proc/version: " \
  "$lt" record -p "$traced" -o /proc/version
expect_error 125 "cannot write $tmp/no/dir.json: No such file or directory" \
  "$lt" record -o "$tmp/no/dir.json" -- "$example"

# An existing file is left alone when recording cannot start.
echo keep > "$tmp/keep.json"
expect_error 1 "pid $plain \(sleep\) has no looprt probes" \
  "$lt" record -p "$plain" -o "$tmp/keep.json"
[ "$(cat "$tmp/keep.json")" = keep ] || fail "record emptied keep.json"

# Missing privilege, as an unprivileged user: the capability is named.
if command -v setpriv >/dev/null; then
  nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  # What the kernel needs (tests/privilege.test.sh tells them apart).
  no_privilege="recording needs (CAP_SYS_ADMIN|CAP_BPF and CAP_PERFMON) \(or root\)"
  # Into a directory of its own that nobody may write (not a fixed name
  # in /tmp, which another run may hold).
  chmod 755 "$tmp"
  mkdir "$tmp/nobody" && chown nobody:nogroup "$tmp/nobody"
  out=$tmp/nobody/trace.json
  expect_error 1 "$no_privilege" \
    "${nobody[@]}" "$lt" record -p "$traced" -o "$out"
  [ -e "$out" ] && fail "record as nobody left a file"
  expect_error 125 "$no_privilege" \
    "${nobody[@]}" "$lt" record -o "$out" -- "$example"
  expect_error 1 "no process with pid $gone" \
    "${nobody[@]}" "$lt" record -p "$gone"
else
  fail "setpriv (util-linux) is missing: cannot test as an unprivileged user"
fi

# Usage errors: exit 2, a hint to --help.
expect_error 2 "say what to trace" "$lt" record
expect_error 2 "-p wants a process id, not 'abc'" "$lt" record -p abc
expect_error 2 "-p PID and CMD are exclusive" "$lt" record -p 1 -- true
expect_error 2 "-d wants a number of seconds above 0, not '0'" \
  "$lt" record -p "$traced" -d 0
expect_error 2 "--ring-size wants a power of two" \
  "$lt" record -p "$traced" --ring-size 5000
expect_error 2 "one BINARY at a time" "$lt" list a b

# The looprt program went on through all of this, untraced.
kill -0 "$traced" || fail "the example died"
before=$(wc -l < "$tmp/example.out")
sleep 0.5
[ "$(wc -l < "$tmp/example.out")" -gt "$before" ] ||
  fail "the example stopped making progress"

# --help documents the command, with examples.
"$lt" record --help > "$tmp/help" || fail "record --help failed"
grep -q 'Examples:' "$tmp/help" || fail "record --help has no examples"
grep -q -- '--ring-size' "$tmp/help" || fail "record --help lacks --ring-size"
"$lt" list --help > "$tmp/help" || fail "list --help failed"
grep -q 'Examples:' "$tmp/help" || fail "list --help has no examples"

finish
