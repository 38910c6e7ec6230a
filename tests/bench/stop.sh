#!/usr/bin/env bash
# stop.sh — how long `looptrace record` takes to stop under a flood: the
# time from SIGINT to its exit (the trace complete), while
# tests/progs/flood fires looprt:flush as fast as it can.
#
#   tests/bench/stop.sh [--build DIR] [--rounds N]
#
# Prints one line per round, then `record_stop_ms_median`,
# `record_stop_ms_max` and the load average when it ended (figures:
# README.md, Performance). Needs root (BPF).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$top/build
rounds=20
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "usage: stop.sh [--build DIR] [--rounds N]" >&2; exit 2 ;;
  esac
done
exec python3 - "${LOOPTRACE:-$build/looptrace}" "$build/tests/progs/flood" \
  "$rounds" << 'PY'
import json, os, shutil, signal, subprocess, sys, tempfile, time
looptrace, flood_path, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
tmp = tempfile.mkdtemp()
flood = subprocess.Popen([flood_path, "ticks"], stdout=subprocess.PIPE)
flood.stdout.readline()  # "flood: ready"
ms = []
try:
    for r in range(rounds):
        out = os.path.join(tmp, "t.json")
        p = subprocess.Popen([looptrace, "record", "-q", "-p", str(flood.pid),
                              "-o", out], stderr=subprocess.PIPE)
        time.sleep(1.5)
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        p.wait()
        ms.append((time.monotonic() - t0) * 1e3)
        err = p.stderr.read().decode().strip()
        if p.returncode != 0:
            sys.exit("stop.sh: looptrace record: exit %d: %s" % (p.returncode, err))
        json.load(open(out))  # complete and valid
        print("round %d: %.1f ms, load %s; %s" % (
            r + 1, ms[-1], open("/proc/loadavg").read().split()[0],
            err.split("; ", 1)[-1]), flush=True)
finally:
    flood.kill()
    shutil.rmtree(tmp)
ms.sort()
print("record_stop_ms_median: %.1f" % ms[len(ms) // 2])
print("record_stop_ms_max: %.1f" % ms[-1])
print("record_stop_load: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
PY
