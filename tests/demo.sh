#!/usr/bin/env bash
# demo.sh BUILD — the main job: record the threadpool example and show how
# to open the trace. XXX: grows with the tracer and viewer.
set -euo pipefail
build=${1:-build}
echo "looptrace: built into $build/"
