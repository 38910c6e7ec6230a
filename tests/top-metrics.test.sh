#!/usr/bin/env bash
# timeout: 150
# `looptrace top --metrics`: /metrics of a real traced program, validated
# by Prometheus' own promtool, with the series and labels the README
# names and the program's known work counted; scraped by a real
# Prometheus server whose query API then returns the series; hostile
# HTTP answered as `view` answers it.
set -uo pipefail
. "$LOOPTRACE_SRC/tests/lib/test.sh"
require_bpf
for c in curl promtool prometheus; do
  command -v $c > /dev/null || skip_or_fail "$c is not installed"
done

threads=$LOOPTRACE_BUILD/examples/threads

"$threads" --rounds 0 --tasks 3 --iterations 2000 --pause 100 \
  > /dev/null 2>&1 &
track $!
pid=$!
sleep 0.3

# stdout is not a terminal and there is no --once: top serves until
# stopped. Port 0: any free port, said on stderr.
"$lt" top -p "$pid" -i 0.5 --metrics 127.0.0.1:0 > "$tmp/top.out" \
  2> "$tmp/top.err" &
track $!
top=$!
said='^looptrace: metrics on http://127.0.0.1:\([0-9]*\)/metrics$'
wait_line "$tmp/top.err" "$said" 10
port=$(sed -n "s|$said|\\1|p" "$tmp/top.err")
[ -n "$port" ] || die "no metrics port: $(cat "$tmp/top.err")"
url=http://127.0.0.1:$port/metrics
sleep 2

curl -sS -D "$tmp/h" -o "$tmp/m" "$url" || fail "GET /metrics failed"
grep -qi '^content-type: text/plain; version=0.0.4' "$tmp/h" ||
  fail "content type: $(grep -i content-type "$tmp/h")"
promtool check metrics < "$tmp/m" > "$tmp/lint" 2>&1 ||
  fail "promtool check metrics: $(cat "$tmp/lint")"
l="pid=\"$pid\",comm=\"threads\""
for s in "looptrace_tick_duration_seconds_bucket{$l,le=\"+Inf\"}" \
         "looptrace_phase_duration_seconds_count{$l,phase=\"poll\"}" \
         "looptrace_task_queue_wait_seconds_count{$l,kind=\"pbkdf2\"}" \
         "looptrace_task_run_seconds_sum{$l,kind=\"pbkdf2\"}" \
         "looptrace_ticks_total{$l}" "looptrace_callbacks_total{$l}" \
         "looptrace_dropped_records_total{$l} 0" \
         "looptrace_pool_running{$l}" "looptrace_pool_queued{$l}"; do
  grep -qF "$s" "$tmp/m" || fail "no series $s"
done
n1=$(sed -n "s/^looptrace_tasks_total{$l} \([0-9]*\)$/\1/p" "$tmp/m")
[ -n "$n1" ] && [ "$n1" -ge 3 ] || fail "tasks_total '$n1' after 2 s (>= 3)"
sleep 1
curl -sS -o "$tmp/m2" "$url"
n2=$(sed -n "s/^looptrace_tasks_total{$l} \([0-9]*\)$/\1/p" "$tmp/m2")
[ -n "$n2" ] && [ "$n2" -gt "$n1" ] || fail "tasks_total did not grow: $n1 -> $n2"

# Hostile HTTP: only GET/HEAD of /metrics, with our Host.
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "http://127.0.0.1:$port/")" = 404 ] || fail "/ is not 404"
[ "$(code "http://127.0.0.1:$port/metrics/../etc/passwd")" = 404 ] ||
  fail "a path past /metrics is not 404"
[ "$(code -X POST "$url")" = 405 ] || fail "POST is not 405"
[ "$(code -H 'Host: evil.example' "$url")" != 200 ] ||
  fail "a foreign Host was served"
(exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'GARBAGE\r\n\r\n' >&3 &&
  timeout 5 cat <&3 > "$tmp/garbage") 2>/dev/null
grep -q '^HTTP/1.1 400' "$tmp/garbage" || fail "garbage not answered 400"
! ss -ltn | grep -q "0.0.0.0:$port " || fail "listens on every address"

# A real Prometheus scrapes it; its query API returns the series.
cat > "$tmp/prom.yml" <<EOT
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: looptrace
    static_configs: [{targets: ['127.0.0.1:$port']}]
EOT
# Prometheus cannot be told to take any free port and say which: one is
# picked and freed, and Prometheus binds it a moment later, when another
# program may have taken it. It then exits saying so, and another port is
# tried. Sets $pport.
start_prometheus() {
  local try prom
  for try in 1 2 3 4 5; do
    pport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    rm -rf "$tmp/tsdb"
    prometheus --config.file="$tmp/prom.yml" --storage.tsdb.path="$tmp/tsdb" \
      --web.listen-address="127.0.0.1:$pport" > "$tmp/prom.log" 2>&1 &
    prom=$!
    track $prom
    wait_until 30 eval 'curl -sf "http://127.0.0.1:$pport/-/ready" > /dev/null ||
      ! kill -0 $prom 2> /dev/null'
    kill -0 $prom 2> /dev/null && return 0
    grep -q 'address already in use' "$tmp/prom.log" ||
      die "Prometheus exited: $(tail -5 "$tmp/prom.log")"
    echo "prometheus: port $pport was taken meanwhile (try $try)"
  done
  die "Prometheus found no free port in 5 tries"
}
start_prometheus
q="http://127.0.0.1:$pport/api/v1/query?query=looptrace_tasks_total"
for ((i = 0; i < 300; i++)); do
  curl -s "$q" > "$tmp/q" 2>/dev/null
  grep -q "\"pid\":\"$pid\"" "$tmp/q" && break
  sleep 0.1
done
grep -q "\"comm\":\"threads\"" "$tmp/q" && grep -q "\"pid\":\"$pid\"" "$tmp/q" ||
  fail "Prometheus has no looptrace_tasks_total: $(cat "$tmp/q"; tail -5 "$tmp/prom.log")"
echo "prometheus: $(cat "$tmp/q")"
# The histograms too: pbkdf2's run time, p99 over the last 10 s, in
# seconds (the threads example's tasks run for milliseconds).
q="http://127.0.0.1:$pport/api/v1/query"
e='histogram_quantile(0.99, rate(looptrace_task_run_seconds_bucket{kind="pbkdf2"}[10s]))'
for ((i = 0; i < 100; i++)); do
  curl -s -G "$q" --data-urlencode "query=$e" > "$tmp/h" 2>/dev/null
  grep -q '"kind":"pbkdf2"' "$tmp/h" && grep -qv '"NaN"' "$tmp/h" && break
  sleep 0.1
done
p99=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["data"]["result"][0]["value"][1])' "$tmp/h" 2>/dev/null)
awk -v v="$p99" 'BEGIN { exit !(v + 0 > 0 && v + 0 <= 5) }' ||
  fail "no pbkdf2 run time p99 in Prometheus: $(cat "$tmp/h")"
echo "prometheus: $e = $p99 s"

kill -TERM "$top"
wait "$top"
rc=$?
[ "$rc" = 0 ] || fail "top ended $rc on SIGTERM: $(cat "$tmp/top.err")"
kill -0 "$pid" || fail "the traced program did not survive top"
finish
