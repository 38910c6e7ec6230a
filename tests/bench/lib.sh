# lib.sh — the preamble the benchmark scripts share (run.sh, long.sh,
# node.sh, stop.sh source it first: `. "$(dirname "$0")/lib.sh"`). It
# sets:
#   top, build   the source tree and the default build directory (a
#                script's --build DIR changes $build)
#   cpu, pin, tools
#                where things run: the program measured (workload, echo
#                server, node) on the last CPU ("${pin[@]}" CMD), the tools
#                (tracers, LTTng's daemons, clients) on the others
#                ("${tools[@]}" CMD; as they come on one CPU), so that they
#                never preempt it: what a tracer costs the program is then
#                what it makes the program itself do
# and gives bench_tmp, which sets $tmp, a directory of its own removed at
# exit, and $pids, processes killed at exit.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$top/build

cpu=$(($(nproc) - 1))
pin=(taskset -c $cpu)
tools=()
[ $cpu -gt 0 ] && tools=(taskset -c 0-$((cpu - 1)))

bench_tmp() {
  tmp=$(mktemp -d)
  pids=()
  trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
        rm -rf "$tmp"' EXIT
}
