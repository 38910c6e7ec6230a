#!/usr/bin/env bash
# demo.sh BUILD — the main job (`make demo`): record the threadpool example
# (pbkdf2 five times on four pool threads), summarise the trace, and open
# it in the viewer.
set -euo pipefail
build=${1:-build}
trace=$build/demo/threads.json
mkdir -p "$build/demo"

if [ "$(id -u)" -ne 0 ]; then
  echo "looptrace: recording needs root (CAP_SYS_ADMIN since Linux 6.16): sudo make demo" >&2
  exit 1
fi

echo "== record: UV_THREADPOOL_SIZE=4 $build/examples/threads"
UV_THREADPOOL_SIZE=4 "$build/looptrace" record -q -o "$trace" -- "$build/examples/threads"

echo
echo "== summary: $build/looptrace stat $trace"
"$build/looptrace" stat "$trace"

echo
if [ -t 0 ] && [ -t 1 ]; then
  echo "== viewer: $build/looptrace view $trace"
  exec "$build/looptrace" view "$trace"
fi
echo "== viewer: run this, then open the URL it prints:"
echo "   $build/looptrace view $trace"
