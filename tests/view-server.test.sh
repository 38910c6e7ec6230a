#!/usr/bin/env bash
# timeout: 120
# `looptrace view`'s server as an attacker and an unlucky user meet it:
# tests/lib/view-server.mjs (a script, not a browser test: it speaks raw
# HTTP). It opens 1100 connections of its own, so it needs the
# descriptors for them; the server runs under a 1024-descriptor limit.
set -uo pipefail
ulimit -n 4096 2>/dev/null
[ "$(ulimit -n)" -ge 2300 ] || {
  echo "FAIL: cannot raise the descriptor limit to 4096 for the clients"
  exit 1
}
command -v prlimit >/dev/null || { echo "FAIL: prlimit is missing"; exit 1; }
exec node "$LOOPTRACE_SRC/tests/lib/view-server.mjs"
