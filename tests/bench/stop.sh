#!/usr/bin/env bash
# stop.sh — how long `looptrace record` takes to stop under a flood: the
# time from SIGINT to its exit (the trace complete), while
# tests/progs/flood fires looprt:flush as fast as it can.
#
#   tests/bench/stop.sh [--build DIR] [--rounds N]
#
# Each trace is checked to be whole, valid JSON, streaming (a flood's
# trace is GBs). Prints one line per round, then `record_stop_ms_median`,
# `record_stop_ms_max` and the load average when it ended (figures:
# README.md, Performance). Needs root (BPF).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
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

def check_trace(path, chunk=4 << 20, longest=64 << 20):
    """Parses the JSON array at `path` a few MB of elements at a time (cut
    after a ',' that ends a line, where the trace's elements end), in
    bounded memory; raises ValueError unless it is one valid JSON array.
    Returns the number of elements."""
    n, rest, eof, more = 0, b"", False, False
    with open(path, "rb") as f:
        while not eof and len(rest) < chunk:
            data = f.read(chunk)
            eof, rest = not data, rest + data
        rest = rest.lstrip()
        if not rest.startswith(b"["):
            raise ValueError("not a JSON array")
        rest = rest[1:]
        while True:
            while not eof and len(rest) < chunk:
                data = f.read(chunk)
                eof, rest = not data, rest + data
            if eof:  # the last elements, the ']' and nothing after
                last = len(json.loads(b"[" + rest))
                if more and last == 0:
                    raise ValueError("a ',' before the ']'")
                return n + last
            cut = rest.rfind(b",\n")
            try:
                if cut < 0:
                    raise ValueError("no element ends")
                n += len(json.loads(b"[" + rest[:cut] + b"]"))
                rest, more = rest[cut + 1:], True
            except ValueError:
                # An element cut in two, or not JSON: read on, up to a limit.
                if len(rest) > longest:
                    raise
                data = f.read(chunk)
                eof, rest = not data, rest + data

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
        load = open("/proc/loadavg").read().split()[0]
        try:
            events = check_trace(out)  # complete and valid
        except ValueError as e:
            sys.exit("stop.sh: round %d: %s is not valid JSON: %s" % (
                r + 1, out, e))
        print("round %d: %.1f ms, load %s; %d events, %.0f MB; %s" % (
            r + 1, ms[-1], load, events, os.path.getsize(out) / 1e6,
            err.split("; ", 1)[-1]), flush=True)
finally:
    flood.kill()
    shutil.rmtree(tmp)
ms.sort()
print("record_stop_ms_median: %.1f" % ms[len(ms) // 2])
print("record_stop_ms_max: %.1f" % ms[-1])
print("record_stop_load: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
PY
