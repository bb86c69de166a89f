#!/bin/sh
# LLDB as a user meets it: for each command, a fresh LLDB (SB API, the
# plugin imported) runs build/gdb/fixture list N to fixture_ready, and the
# command is the first one after that stop.  Prints the stop (the OS
# plugin decodes the table there) and the command, wall and CPU seconds of
# this process (LLDB and the plugin run in it; lldb-server does not).
# The same program and commands as bench/compare-gdb.sh's GDB figures.
#
#   sh bench/fresh-lldb.sh             (N=100000)
#   N=1000000 FIXTURE_STACK=2048 CMDS='coroutine list' sh bench/fresh-lldb.sh
#   FORMAT=bench ...   `BENCH lldb:<command> <wall s> <lines>` lines instead
#                      (bench/run-analyses.sh)
set -eu
cd "$(dirname "$0")/.."
N=${N:-100000}
CMDS=${CMDS:-'coroutine list|coroutine list -group user|coroutine list -u|coroutine leaks'}
FX=build/gdb/fixture
[ -x "$FX" ] || { echo "fresh-lldb: $FX missing (make all builds it)"; exit 1; }
command -v lldb-19 >/dev/null || { echo "fresh-lldb: lldb-19 missing"; exit 1; }
export LLDB_DEBUGSERVER_PATH=/usr/lib/llvm-19/bin/lldb-server
FORMAT=${FORMAT:-text}
[ "$FORMAT" = bench ] || echo "fresh-lldb: N=$N, load $(cut -d' ' -f1 /proc/loadavg)"
echo "$CMDS" | tr '|' '\n' | while read -r c; do
    PYTHONPATH=$(lldb-19 -P):bench /usr/bin/python3 - "$FX" "$N" "$c" "$FORMAT" <<'PY'
import sys, time
from lldb_session import debugger, launch

prog, n, command, fmt = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
dbg, cmd = debugger("fresh-lldb")
cmd("coroutine config runtime-functions 'fx_*,corodbg_*'")
w0, c0 = time.perf_counter(), time.process_time()
p = launch(dbg, prog, ["list", n], "fixture_ready")
w1, c1 = time.perf_counter(), time.process_time()
out = cmd(command)
w2, c2 = time.perf_counter(), time.process_time()
if fmt == "bench":
    print("BENCH lldb:%s %.3f %d" % (command.replace(" ", "_"), w2 - w1,
                                     out.count("\n")))
else:
    print("  %-34s run+stop %6.3f / %-6.3f  command %6.3f / %-6.3f s "
          "wall/cpu  %d lines" % (command, w1 - w0, c1 - c0, w2 - w1,
                                  c2 - c1, out.count("\n")))
p.Kill()
PY
done
