#!/usr/bin/env bash
# timeout: 180
# looptrace's traces load in a third-party consumer of the Chrome Trace
# Event format, Chrome DevTools' trace engine (tests/format/), without an
# error or a warning: a synthetic trace from the exporter's benchmark, then
# real recordings of the examples.
set -uo pipefail
. "$LOOPTRACE_SRC/tests/lib/test.sh"

format=$LOOPTRACE_SRC/tests/format

command -v node >/dev/null || die "node is not installed (make deps)"
[ -d "$format/node_modules/@paulirish/trace_engine" ] ||
  die "tests/format has no node_modules: run make deps"

# The exporter on its own: labels with quotes and UTF-8, 100k records.
"$LOOPTRACE_BUILD/bench/export_bench" 100000 -o "$tmp/bench.json" > /dev/null ||
  exit 1
node "$format/check-trace.mjs" "$tmp/bench.json" || exit 1

# Real recordings.
require_bpf
export UV_THREADPOOL_SIZE=4
for run in 1 2 3 4 5; do
  for example in threads phases multitask; do
    "$lt" record -q -o "$tmp/$example-$run.json" -- \
      "$LOOPTRACE_BUILD/examples/$example" > /dev/null || exit 1
  done
done
node "$format/check-trace.mjs" "$tmp"/threads-*.json "$tmp"/phases-*.json \
  "$tmp"/multitask-*.json || exit 1
