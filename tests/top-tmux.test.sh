#!/usr/bin/env bash
# timeout: 120
# `looptrace top`'s live view in a real terminal (tmux): it shows the
# figures and refreshes, `p` pauses, `q` quits, and the terminal is given
# back (alternate screen left, shell prompt back) — also after SIGTERM
# and when the program exits.
set -uo pipefail
. "$LOOPTRACE_SRC/tests/lib/test.sh"
require_bpf
command -v tmux > /dev/null || skip_or_fail "tmux is not installed"

threads=$LOOPTRACE_BUILD/examples/threads
sock=looptrace-top-$$
t() { tmux -L "$sock" "$@"; }
on_exit 't kill-server'
# pane_shows REGEX: the pane, captured into $tmp/pane, shows REGEX.
pane_shows() {
  t capture-pane -p -t top > "$tmp/pane" 2>/dev/null
  grep -qE "$1" "$tmp/pane"
}
# wait_pane REGEX [SECONDS]: until the pane shows REGEX.
wait_pane() {
  wait_until "${2:-20}" pane_shows "$1"
}

"$threads" --rounds 0 --tasks 3 --iterations 2000 --pause 100 \
  > /dev/null 2>&1 &
track $!
pid=$!

t -f /dev/null new-session -d -s top -x 120 -y 60 \
  "env PS1='prompt\$ ' TERM=xterm-256color bash --norc --noprofile -i"
wait_pane 'prompt\$' || fail "no shell in tmux"

# 1. q quits; the terminal is restored.
t send-keys -t top "$lt top -p $pid -i 0.5; echo top-exit=\$?" Enter
wait_pane 'tasks/s by label: pbkdf2' ||
  fail "no figures on the screen: $(cat "$tmp/pane")"
grep -q 'q quit  p pause' "$tmp/pane" || fail "no help line"
grep -qE '^loop +utilization [0-9.]+%' "$tmp/pane" || fail "no utilization"
grep -qE 'last [0-9]+ intervals .*: [_.=+*#?-]+' "$tmp/pane" ||
  fail "no sparkline"
[ "$(t display -p -t top '#{alternate_on}')" = 1 ] ||
  fail "top is not on the alternate screen"
grep -q 's sort: total  +/- interval: 0.50 s' "$tmp/pane" ||
  fail "no sort and interval keys in the help line: $(head -1 "$tmp/pane")"
# s ranks the callbacks by self time from the next interval on.
t send-keys -t top s
wait_pane 's sort: self' 5 || fail "s did not change the sort"
wait_pane '^callbacks with the most self time' 10 ||
  fail "the callbacks are not ranked by self time after s"
# + lengthens the interval.
t send-keys -t top +
wait_pane 'interval: 1.00 s' 5 || fail "+ did not lengthen the interval"
# A smaller window: top goes on, drawn again at the new size with the
# help line on top.
t resize-window -t top -x 70 -y 24
wait_pane '^ looptrace top  q quit' 5 || fail "no help line after resize"
sleep 1.5
t capture-pane -p -t top > "$tmp/pane"
[ "$(wc -l < "$tmp/pane")" -le 24 ] && head -1 "$tmp/pane" | grep -q '^ looptrace top' &&
  sed -n 2p "$tmp/pane" | grep -q '^utilization, last' ||
  fail "the screen is not redrawn at 70x24: $(cat "$tmp/pane")"
t resize-window -t top -x 120 -y 60
t send-keys -t top p
wait_pane PAUSED 5 || fail "p did not pause"
t send-keys -t top q
wait_pane 'top-exit=0' 10 || fail "q did not quit: $(cat "$tmp/pane")"
[ "$(t display -p -t top '#{alternate_on}')" = 0 ] ||
  fail "the terminal was not restored after q"
! grep -q 'q quit  p pause' "$tmp/pane" || fail "top's screen left behind"
t send-keys -t top "stty -a | grep -o ' echo ' ; echo stty-done" Enter
# The typed line holds "stty-done" too: wait for the printed one.
wait_pane '^stty-done *$' 5 && grep -qE '^ echo *$' "$tmp/pane" ||
  fail "echo is still off after top"
t send-keys -t top clear Enter

# 2. SIGTERM ends it and restores the terminal.
t send-keys -t top "$lt top -p $pid -i 0.5; echo top-exit=\$?" Enter
wait_pane 'tasks/s by label' || fail "second top shows nothing"
top_pid=$(pgrep -f "^$lt top -p $pid" | head -1)
[ -n "$top_pid" ] && kill -TERM "$top_pid"
wait_pane 'top-exit=0' 10 || fail "SIGTERM did not end top: $(cat "$tmp/pane")"
[ "$(t display -p -t top '#{alternate_on}')" = 0 ] ||
  fail "the terminal was not restored after SIGTERM"
t send-keys -t top clear Enter

# 3. The program exits: top ends and restores the terminal.
t send-keys -t top "$lt top -i 0.5 -- $threads --rounds 20 --tasks 2 --iterations 2000 --pause 100; echo top-exit=\$?" Enter
wait_pane 'top-exit=0' 30 || fail "top did not end with its program: $(cat "$tmp/pane")"
[ "$(t display -p -t top '#{alternate_on}')" = 0 ] ||
  fail "the terminal was not restored after the program exited"

kill -0 "$pid" || fail "the traced program did not survive top"
finish
